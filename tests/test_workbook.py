"""The Excel WIP workbook: every formula recalculated by LibreOffice equals the Python figure to
the cent; text from Procore or the ERP never becomes a formula; the same inputs give the same file.

One headless LibreOffice run recalculates four workbooks: the sample company, the sample with
formula-injection payloads in its text, and two synthetic companies that exercise every variant of
the recognition formulas (no estimate, negative cost to complete, uninstalled materials, losses,
zero contract, and all policies on: pending CO revenue, start threshold, rounded percent complete,
net loss provision)."""
from __future__ import annotations

import copy
import os
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
from conftest import require_tool

from wip_lib.accounting.catch_up import completed_contracts, period_amounts, ytd_amounts
from wip_lib.accounting.flags import OUT_COLUMNS as FLAG_COLUMNS
from wip_lib.accounting.forecast import COLUMNS as FORECAST_COLUMNS
from wip_lib.accounting.journal import summarise_by_account, wip_journal_entry
from wip_lib.accounting.recognition import Policy, recognize
from wip_lib.accounting.schedule import PeriodSchedule
from wip_lib.close.period import PeriodResult
from wip_lib.core.settings import Settings
from wip_lib.reconcile.core import empty_findings
from wip_lib.reconcile.tieout import TIE_OUT_COLUMNS
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.sheet_names import CONTRACTS_IN_PROGRESS, SHEET_ORDER
from wip_lib.reports.excel.workbook import build_wip_workbook, write_wip_workbook

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
PERIOD = "2026-10"
PAYLOADS = ['=HYPERLINK("http://x","click")', "+1+1", "-2", "@SUM(A1)", "=1+1",
            "=cmd|' /C calc'!A0"]


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(sample_period, sample_company):
    return sample_period, sample_company.settings


def _injected(result: PeriodResult) -> PeriodResult:
    """The sample with payloads in every kind of untrusted text: job, vendor, description."""
    r = copy.copy(result)
    wip = copy.copy(result.wip)
    pay = lambda n: [PAYLOADS[i % len(PAYLOADS)] for i in range(n)]  # noqa: E731
    for name in ("in_progress", "schedule", "completed"):
        frame = getattr(wip, name).copy()
        frame["job_name"] = pd.array(pay(len(frame)), dtype="string")
        setattr(wip, name, frame)
    ip = wip.in_progress
    ip["flag_reason"] = pd.array(pay(len(ip)), dtype="string")
    r.wip = wip
    fc = result.forecast.copy()
    fc["description"] = pd.array(pay(len(fc)), dtype="string")
    r.forecast = fc
    fnd = result.findings.copy()
    for c in ("reference", "detail", "action"):  # vendor names and invoice numbers live here
        fnd[c] = pd.array(pay(len(fnd)), dtype="string")
    r.findings = fnd
    fl = result.flags.copy()
    fl["message"] = pd.array(pay(len(fl)), dtype="string")
    r.flags = fl
    return r


def _money(v) -> int | None:
    return None if v is None else int(round(v * 100))


def _jobs(rows: list[tuple]) -> pd.DataFrame:
    cols = ["job_id", "job_name", "contract_original", "change_orders_approved",
            "change_orders_pending", "cost_to_date", "est_cost_to_complete", "billed_to_date",
            "retainage_receivable", "uninstalled_materials", "est_cost_original", "status"]
    df = pd.DataFrame(rows, columns=cols)
    for c in cols[2:-1]:
        df[c] = df[c].astype("Int64")
    for c in ("job_id", "job_name", "status"):
        df[c] = df[c].astype("string")
    return df


def synthetic_result(policy: Policy) -> tuple[PeriodResult, Settings]:
    """A small company whose jobs hit every branch of the recognition formulas."""
    na = pd.NA
    now = _jobs([
        # id, name, orig, approved, pending, CTD, ETC, billed, retainage, M, bid cost, status
        ("J01", "Normal job", 95_000_000, 5_000_000, 2_000_000, 45_000_000, 35_000_000,
         60_000_000, 6_000_000, 0, 78_000_000, "open"),
        ("J02", "Loss job", 50_000_000, 0, 0, 30_000_000, 25_000_000, 28_000_000, 0, 0,
         46_000_000, "open"),
        ("J03", "No estimate yet", 40_000_000, 0, 0, 10_000_000, na, 9_000_000, 0, 0, na,
         "open"),
        ("J04", "No estimate, cost above contract", 40_000_000, 0, 0, 45_000_000, na,
         41_000_000, 0, 0, 38_000_000, "open"),
        ("J05", "Negative cost to complete", 30_000_000, 0, 0, 20_000_000, -500_000,
         25_000_000, 0, 0, 25_000_000, "open"),
        ("J06", "Not started", 10_000_000, 0, 0, 0, 0, 0, 0, 0, 9_000_000, "open"),
        ("J07", "Materials on site", 60_000_000, 0, 0, 20_000_000, 30_000_000, 15_000_000, 0,
         5_000_000, 48_000_000, "open"),
        ("J08", "Just started", 55_000_000, 0, 0, 500_000, 49_500_000, 0, 0, 0, 45_000_000,
         "open"),
        ("J09", "Odd cents", 33_333_333, 0, 0, 11_111_111, 22_222_223, 10_000_001, 0, 0,
         30_000_000, "open"),
        ("J10", "Zero contract", 0, 0, 0, 100_000, 0, 0, 0, 0, na, "open"),
        ("J11", "Loss, nearly done", 100_000_000, 0, 0, 99_994_100, 6_000, 99_000_000, 0, 0,
         95_000_000, "open"),
        ("J12", PAYLOADS[0], 20_000_000, 0, 0, 5_000_000, 10_000_000, 6_000_000, 0, 0,
         14_000_000, "open"),
        ("J20", "Finished this month", 25_000_000, 1_000_000, 0, 23_000_000, 0, 26_000_000, 0,
         0, 22_000_000, "complete"),
    ])
    prior = _jobs([
        ("J01", "Normal job", 95_000_000, 5_000_000, 0, 30_000_000, 48_000_000, 40_000_000, 0,
         0, na, "open"),
        ("J02", "Loss job", 50_000_000, 0, 0, 20_000_000, 32_000_000, 18_000_000, 0, 0, na,
         "open"),
        ("J05", "Negative cost to complete", 30_000_000, 0, 0, 15_000_000, 5_000_000,
         18_000_000, 0, 0, na, "open"),
        ("J09", "Odd cents", 33_333_333, 0, 0, 9_000_000, 20_000_000, 8_000_000, 0, 0, na,
         "open"),
        ("J11", "Loss, nearly done", 100_000_000, 0, 0, 90_000_000, 9_000_000, 88_000_000, 0,
         0, na, "open"),
        ("J20", "Finished this month", 25_000_000, 1_000_000, 0, 20_000_000, 3_000_000,
         21_000_000, 0, 0, na, "open"),
    ])
    fye = prior[prior["job_id"].isin(["J01", "J20"])].assign(cost_to_date=lambda d: d[
        "cost_to_date"] // 2)
    cur = recognize(now, policy)
    pri = recognize(prior, policy)
    fy = recognize(fye, policy)
    sched = period_amounts(cur, pri)
    ytd = ytd_amounts(cur, fy)
    for c in ytd.columns:
        if c.endswith("_ytd"):
            sched[c] = ytd[c]
    done = (sched["status"] == "complete").to_numpy()
    in_progress = sched[~done].reset_index(drop=True)
    finals = sched[done].reset_index(drop=True)
    completed = completed_contracts(finals, fy, last_reported=pri[pri["job_id"].isin(
        finals["job_id"])])
    completed.insert(1, "completion_date", pd.Timestamp("2026-10-15"))
    settings = Settings(name="Edge & Case Builders", current_period=PERIOD,
                        policies={"include_pending_co_revenue": policy.include_pending_co_revenue,
                                  "start_threshold": policy.start_threshold,
                                  "round_pct_first": policy.round_pct_first,
                                  "net_loss_provision": policy.net_loss_provision,
                                  "fade_threshold_points": 0.03})
    accounts = dict(settings.gl_accounts)
    gl = pd.DataFrame({
        "period": ["2026-09"] * 4,
        "account": ["1250", "2150", "2160", "2150"],
        "job_id": ["J01", "J02", "J02", "J20"],
        "balance": [1_000_000, -500_000, -2_000_000, -1_500_000],
    })
    journal = wip_journal_entry(in_progress, gl, accounts, PERIOD,
                                net_loss_provision=policy.net_loss_provision)
    wip = PeriodSchedule(PERIOD, sched, in_progress, completed, journal,
                         summarise_by_account(journal), pd.DataFrame(columns=FORECAST_COLUMNS),
                         "test", ["Prior period 2026-09: test figures."])
    empty_flags = pd.DataFrame({c: pd.Series(dtype="string") for c in FLAG_COLUMNS})
    result = PeriodResult(settings.name, PERIOD, wip, wip.forecast, empty_flags, pd.DataFrame(),
                          pd.DataFrame(), empty_findings(),
                          pd.DataFrame(columns=TIE_OUT_COLUMNS), pd.DataFrame(), pd.DataFrame())
    return result, settings


@pytest.fixture(scope="module")
def recalculated(sample, tmp_path_factory):
    """Build the four workbooks, recalculate them in one LibreOffice run, return
    {name: (checks, path written, path recalculated)}."""
    soffice = _soffice() or require_tool("soffice", "LibreOffice recalculates the workbook")
    result, settings = sample
    tmp = tmp_path_factory.mktemp("wb")
    cases = {
        "sample": (result, settings),
        "injected": (_injected(result), settings),
        "edge_default": synthetic_result(Policy()),
        "edge_policies": synthetic_result(Policy(include_pending_co_revenue=True,
                                                 start_threshold=0.10, round_pct_first=True,
                                                 net_loss_provision=True)),
    }
    built = {}
    for name, (res, sett) in cases.items():
        b = build_wip_workbook(res, settings=sett)
        built[name] = (b.checks, xl.save(b.workbook, tmp / "in" / f"{name}.xlsx"))
    profile = tmp / "lo_profile"
    out = tmp / "calc"
    cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", "xlsx", "--outdir", str(out), *[str(p) for _, p in built.values()]]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "HOME": str(tmp)})
    assert proc.returncode == 0, proc.stderr
    for name, (_, src) in built.items():
        assert (out / src.name).is_file(), f"LibreOffice did not convert {name}: {proc.stderr}"
    print(f"LibreOffice recalculated {len(built)} workbooks in {time.monotonic() - t0:.1f} s")
    return {name: (checks, src, out / src.name) for name, (checks, src) in built.items()}


def _compare(checks, src: Path, calc: Path) -> tuple[int, list]:
    """Every formula cell of ``src`` has a check, and its recalculated value meets it."""
    by_cell = {(c.sheet, c.cell): c for c in checks}
    formulas = openpyxl.load_workbook(src)
    values = openpyxl.load_workbook(calc, data_only=True)
    n, bad = 0, []
    for ws in formulas:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                n += 1
                check = by_cell.get((ws.title, cell.coordinate))
                if check is None:
                    bad.append((ws.title, cell.coordinate, cell.value, "no expected figure"))
                    continue
                got = values[ws.title][cell.coordinate].value
                if check.expected is None:
                    ok = got in (None, "")
                elif not isinstance(got, (int, float)) or isinstance(got, bool):
                    ok = False
                elif check.kind == "money":
                    ok = _money(got) == check.expected
                elif check.kind == "int":
                    ok = got == check.expected
                else:
                    ok = abs(got - check.expected) < 1e-9
                if not ok:
                    bad.append((ws.title, cell.coordinate, check.label, cell.value, got,
                                check.expected))
    assert n == len(by_cell) == len(checks), "a check names a cell that holds no formula"
    return n, bad


# --- (1) every formula equals the Python figure ------------------------------------------------

@pytest.mark.parametrize("case", ["sample", "edge_default", "edge_policies"])
def test_every_formula_equals_python_figure(recalculated, case):
    checks, src, calc = recalculated[case]
    n, bad = _compare(checks, src, calc)
    assert not bad, f"{len(bad)} of {n} formula cells differ, first: {bad[:5]}"
    assert n > (4000 if case == "sample" else 300)
    print(f"{case}: {n} formula cells equal the Python figures")


def test_sample_key_figures_are_formulas_over_inputs(recalculated, sample):
    """Spot check of the layout and that the four blocks hold formulas, not pasted values."""
    result, _ = sample
    _, src, calc = recalculated["sample"]
    wb = openpyxl.load_workbook(src)
    assert wb.sheetnames == list(SHEET_ORDER)
    ws = wb[CONTRACTS_IN_PROGRESS]
    heads = {ws.cell(6, c).value: c for c in range(1, ws.max_column + 1)}
    blocks = [ws.cell(5, c).value for c in range(1, ws.max_column + 1) if ws.cell(5, c).value]
    assert blocks[:4] == ["Total contract", "Inception to date", "At period end",
                          "For the period"]
    ip = result.wip.in_progress
    er = ws.cell(7, heads["Earned revenue"]).value
    assert er.startswith("=IF(") and "ROUND(" in er
    assert isinstance(ws.cell(7, heads["Cost to date"]).value, float)
    assert ws.cell(7, heads["Cost to date"]).value * 100 == ip["cost_to_date"].iloc[0]
    total_row = 7 + len(ip)
    assert ws.cell(total_row, 1).value == "Total"
    assert ws.cell(total_row, heads["Earned revenue"]).value.startswith("=SUM(")
    # print set-up and frozen panes
    assert ws.freeze_panes == "C7"
    assert ws.page_setup.orientation == "landscape"
    # an explicit scale, never below 60 %, the four blocks split between pages (issue #22: the
    # schedule no longer shrinks to one page wide); every sheet: tests/test_workbook_print.py
    assert not ws.sheet_properties.pageSetUpPr.fitToPage and 60 <= ws.page_setup.scale <= 100
    assert ws.print_title_cols == "$A:$B" and len(ws.col_breaks.brk) >= 2
    assert ws.print_title_rows == "$5:$6"
    assert "Harbor Ridge Builders" in ws.oddHeader.left.text
    assert ws.oddHeader.right.text == "Prepared 2026-10-31"
    assert ws.conditional_formatting  # loss jobs and large underbillings
    vals = openpyxl.load_workbook(calc, data_only=True)[CONTRACTS_IN_PROGRESS]
    assert _money(vals.cell(total_row, heads["Earned revenue"]).value) == \
        int(ip["earned_revenue"].sum())


# --- (2) formula injection ---------------------------------------------------------------------

def test_injection_payloads_stay_text(recalculated):
    checks, src, calc = recalculated["injected"]
    found = 0
    for path in (src, calc):
        wb = openpyxl.load_workbook(path)
        for ws in wb:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value in PAYLOADS:
                        assert cell.data_type == "s", (path.name, ws.title, cell.coordinate)
                        if path == src and cell.value[0] in "=+-@":
                            assert cell.quotePrefix, (ws.title, cell.coordinate)
                        found += 1
    # job names on five sheets, descriptions, findings' references/vendors, flag messages
    assert found > 2 * 400
    # the payload cells were not evaluated: the recalculated file shows the payload text
    vals = openpyxl.load_workbook(calc, data_only=True)
    assert vals[CONTRACTS_IN_PROGRESS]["B7"].value == PAYLOADS[0]


def test_injection_in_synthetic_job_name_stays_text(recalculated):
    _, src, calc = recalculated["edge_default"]
    for path in (src, calc):
        ws = openpyxl.load_workbook(path)[CONTRACTS_IN_PROGRESS]
        names = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(7, ws.max_row + 1)}
        cell = names["J12"]
        assert cell.value == PAYLOADS[0] and cell.data_type == "s"


def test_set_text_types_every_payload_as_string():
    wb = xl.new_workbook()
    ws = wb.create_sheet("t")
    for i, p in enumerate(PAYLOADS, start=1):
        xl.set_text(ws.cell(i, 1), p)
        assert ws.cell(i, 1).data_type == "s" and ws.cell(i, 1).quotePrefix


# --- (3) same inputs, same workbook ------------------------------------------------------------

def _cells(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): (c.value, c.data_type, c.number_format)
            for ws in wb for row in ws.iter_rows() for c in row if c.value is not None}


def test_writing_twice_gives_identical_workbooks(sample, tmp_path):
    """Same inputs, same cells and same bytes; the "prepared" date is the period end, not today."""
    result, settings = sample
    a = write_wip_workbook(result, tmp_path / "a", settings=settings)
    b = write_wip_workbook(result, tmp_path / "b" / "wip_schedule.xlsx", settings=settings)
    assert a.name == b.name == "wip_schedule.xlsx"
    assert _cells(a) == _cells(b)
    assert a.read_bytes() == b.read_bytes()  # fixed timestamps: byte for byte
    wb = openpyxl.load_workbook(a)
    for ws in wb:
        assert ws.oddHeader.right.text == "Prepared 2026-10-31"
        assert "Harbor Ridge Builders" in ws.oddHeader.left.text
    assert wb.properties.created.year == 2000 and wb.properties.modified.year == 2000


def test_unknown_policy_is_refused():
    """Without settings (none passed, none on the result) the workbook refuses to write: it
    never infers a policy from the figures."""
    result, _ = synthetic_result(Policy(start_threshold=0.10))
    with pytest.raises(ValueError, match="settings"):
        build_wip_workbook(result)


def test_cli_writes_the_workbook(tmp_path, capsys, monkeypatch, sample):
    from wip_lib.cli.main import main
    from wip_lib.close import period as monthend
    from wip_lib.sources import readers

    result, settings = sample
    monkeypatch.setattr(readers, "load_company", lambda root: SimpleNamespace(settings=settings))
    monkeypatch.setattr(monthend, "compute_period", lambda company, period, store=None: result)
    code = main(["excel", str(SAMPLE), "--period", PERIOD, "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert (tmp_path / "wip_schedule.xlsx").is_file()
    assert "25 contracts in progress" in out
