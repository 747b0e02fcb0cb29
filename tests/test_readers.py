"""The readers on small company folders: two jobs cut out of data/sample (one active, one completed
in 2026), then one file edited per test the way a real download differs from the sample: XLSX
instead of CSV, en-GB/en-AU headers and DD/MM/YYYY dates, money in every accountant's notation, a
trailing totals row, a UTF-8 BOM or a Windows-1252 file, cost codes in CSI, MasterFormat and
Procore styles, an explicit crosswalk, and an ERP read through the Sage 300 CRE profile or a
company's own YAML profile.

Expected figures are worked from the export text itself (``Decimal`` sums of the cells), never
from the reader under test. ``test_validate_cli.py`` imports the folder helpers from here.
"""
from __future__ import annotations

import csv
import re
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from wip_lib.core import codes
from wip_lib.core.settings import Settings
from wip_lib.sources.formats import CROSSWALK, PROCORE_EXPORTS
from wip_lib.sources.readers import read_company
from wip_lib.sources.readers.erp import load_profile, read_erp_table
from wip_lib.sources.readers.procore import read_budgets, read_export

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
JOBS = ("00529", "00883")  # an active job and one completed in 2026-06
JOB_COLUMNS = ("Project Number", "Job")
JCT = "erp/JCT_CURRENT__TRANSACTION.csv"


# -- company folders ------------------------------------------------------------------------------

def mini_company(dst: Path, jobs: tuple[str, ...] = JOBS) -> Path:
    """data/sample cut down to ``jobs``: every export keeps only their rows (text untouched),
    budget snapshots and invoice files only their folders; no control_totals.csv (the figures
    changed)."""
    dst = Path(dst)
    for src in sorted(SAMPLE.rglob("*")):
        rel = src.relative_to(SAMPLE)
        if src.is_dir() or rel.name == "control_totals.csv":
            continue
        if rel.parts[:2] in (("procore", "budget"), ("procore", "owner_invoices"),
                             ("procore", "subcontractor_invoices")) and len(rel.parts) > 3 \
                and rel.parts[2] not in jobs:
            continue  # other jobs' folders (budget snapshots, per-invoice G703 files)
        out = dst / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix != ".csv" or rel.parts[:2] == ("procore", "budget"):
            shutil.copyfile(src, out)
            continue
        header, rows = load(src)
        col = next((header.index(c) for c in JOB_COLUMNS if c in header), None)
        if col is not None:
            rows = [r for r in rows if r[col].strip() in jobs]
        save(out, header, rows)
    return dst


def load(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[list[str]]]:
    with Path(path).open(newline="", encoding=encoding) as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def save(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> None:
    with Path(path).open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])


def set_cell(path: Path, row: int, column: str, value: str) -> str:
    """Set one cell (``row`` as a spreadsheet numbers it: header = 1); return the old value."""
    header, rows = load(path)
    i = header.index(column)
    old = rows[row - 2][i]
    rows[row - 2][i] = value
    save(path, header, rows)
    return old


def rename_headers(path: Path, mapping: dict[str, str]) -> None:
    header, rows = load(path)
    assert set(mapping) <= set(header), set(mapping) - set(header)
    save(path, [mapping.get(h, h) for h in header], rows)


def column(path: Path, name: str) -> list[str]:
    header, rows = load(path)
    return [r[header.index(name)] for r in rows]


def dollars(text: str) -> Decimal:
    """A money cell as the sample writes it ($1,234.56, ($1,234.56), 1234.56) in exact dollars."""
    t = text.strip()
    neg = t.startswith("(") or t.startswith("-")
    value = Decimal(t.strip("()-").replace("$", "").replace(",", "") or "0")
    return -value if neg else value


def cents(d: Decimal) -> int:
    return int(d * 100)


def set_locale(root: Path, locale: str) -> None:
    p = root / "company.yaml"
    data = yaml.safe_load(p.read_text())
    data["procore_locale"] = locale
    p.write_text(yaml.safe_dump(data, sort_keys=False))


def read_ok(root: Path):
    """read_company, asserting no errors and rows in = accepted + reported (+ totals, blank,
    not-cost) for every file."""
    result = read_company(root)
    errors = [str(p) for p in result.problems if p.severity == "error"]
    assert not errors, "\n".join(errors)
    untied = [r for r in result.reports if not r.ties()]
    assert not untied, untied
    return result


def without_provenance(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in df.columns if c.startswith("_")]).reset_index(drop=True)


def settings(root: Path) -> Settings:
    return Settings.load(root / "company.yaml")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return mini_company(tmp_path_factory.mktemp("readers") / "base")


@pytest.fixture(scope="module")
def baseline(base):
    """The untouched two-job folder, read once: what every variant must read back as."""
    return read_ok(base)


@pytest.fixture
def company(base, tmp_path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "co"))


# -- the untouched folder ---------------------------------------------------------------------

def test_two_job_folder_reads_with_every_row_accounted_for(base, baseline):
    c = baseline.company
    assert sorted(c["jobs"]["job_id"]) == ["00529", "00883"]
    pc = c["prime_contracts"].set_index("job_id")
    assert pc.loc["00529", "original_amount"] == 39_334_000  # "$393,340.00"
    assert pc.loc["00883", "approved_change_orders"] == 4_015_500  # "$40,155.00"
    assert pc.loc["00529", "retainage_percent"] == pytest.approx(0.10)
    # Every budget snapshot ends with a totals row: set aside and counted, never read as a line,
    # the last file of the batch included.
    budget_reports = [r for r in baseline.reports if r.table == "budget"]
    assert len(budget_reports) == 15
    assert all(r.rows_totals == 1 and r.rows_accepted == r.rows_in - 1 for r in budget_reports), \
        [r for r in budget_reports if r.rows_totals != 1]
    assert not (c["budget"]["cost_code"].str.casefold() == "total").any()
    assert sum(r.rows_in for r in budget_reports) == len(c["budget"]) + 15
    # Nothing reported, no warnings: the sample is clean.
    assert baseline.problems == []


def test_the_erp_read_beside_procore_or_after_it_reads_alike(company, monkeypatch):
    """A large ERP export is read on a second thread beside Procore's, and after it the Procore
    exports nothing else waits for (``procore.BESIDE``); a small one after Procore's
    (``ERP_THREAD_BYTES``): the same tables, problems (a bad amount in each system and in two
    of the exports read on the second thread, in the same order) and per-file reports either
    way."""
    import wip_lib.sources.readers as readers
    from wip_lib.sources.readers.procore import BESIDE

    assert {"commitment_lines", "direct_costs"} <= set(BESIDE)
    # the projects export is read first (the others take its time zones), on this thread
    assert next(iter(PROCORE_EXPORTS)) == "jobs" and not {"jobs", "commitments"} & set(BESIDE)
    set_cell(company / "procore" / "commitments.csv", 2, "Original Contract Amount", "12abc")
    set_cell(company / "procore" / "commitment_lines.csv", 3, "Amount", "1.2.3")
    set_cell(company / "procore" / "direct_costs.csv", 2, "Date", "not a date")
    set_cell(company / JCT, 2, "Amount", "$x")
    runs = []
    for threshold in (0, 2**62):  # every ERP export on the second thread; none
        monkeypatch.setattr(readers, "ERP_THREAD_BYTES", threshold)
        runs.append(read_company(company))
    threaded, alone = runs
    assert [str(p) for p in threaded.problems] == [str(p) for p in alone.problems]
    assert {p.file.split("/")[0] for p in alone.problems if p.severity == "error"} == {
        "procore", "erp"}
    assert {"procore/commitment_lines.csv", "procore/direct_costs.csv"} <= {
        p.file for p in alone.problems}
    assert threaded.reports == alone.reports
    for name, table in alone.company.tables.items():
        pd.testing.assert_frame_equal(threaded.company[name], table, obj=name)


def test_exports_handed_to_a_busy_thread_are_read_here_alike(company):
    """The second thread still on the ERP's side when Procore's is done: the exports handed to
    it (``procore.BESIDE``) are taken back and read on this thread, none twice, and the tables,
    problems and reports are those of a read without a second thread."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from wip_lib.sources.readers.procore import BESIDE, read_procore

    set_cell(company / "procore" / "commitment_lines.csv", 3, "Amount", "1.2.3")
    company_settings = Settings.load(company / "company.yaml")
    alone = read_procore(company, company_settings)
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        busy = pool.submit(release.wait, 60)  # the ERP's side, not done yet
        try:
            taken_back = read_procore(company, company_settings, pool)
            assert not busy.done()  # nothing of BESIDE ran there
        finally:
            release.set()
    assert [str(p) for p in taken_back[1]] == [str(p) for p in alone[1]]
    assert any(p.file == "procore/commitment_lines.csv" for p in alone[1])
    assert taken_back[2] == alone[2]
    assert list(taken_back[0]) == list(alone[0]) and set(BESIDE) <= set(alone[0])
    for name, table in alone[0].items():
        pd.testing.assert_frame_equal(taken_back[0][name], table, obj=name)


def test_budget_snapshot_figures_and_job_from_path(baseline, base):
    b = baseline.company["budget"]
    snap = b[(b["job_id"] == "00529") & (b["period"] == "2026-10")]
    header, rows = load(base / "procore/budget/00529/2026-10.csv")
    lines, total = rows[:-1], rows[-1]
    assert total[0] == "Total" and len(snap) == len(lines) == 13
    for name, canon in (("Job to Date Costs", "job_to_date_costs"),
                        ("Forecast To Complete", "forecast_to_complete"),
                        ("Revised Budget", "revised_budget")):
        i = header.index(name)
        assert snap[canon].sum() == cents(dollars(total[i])) == \
            cents(sum(dollars(r[i]) for r in lines))
    # "01-310.L" budget code: cost code 01-310, cost type L
    pm = snap[snap["cost_code"] == "01-310"].iloc[0]
    assert pm["cost_type"] == "L" and pm["cost_code_raw"] == "01-310"


# -- XLSX -----------------------------------------------------------------------------------------

MONEY_CELL = re.compile(r"^\(?\$[\d,]+\.\d\d\)?$")
US_DATE = re.compile(r"^(\d\d)/(\d\d)/(\d{4})$")
PERCENT = re.compile(r"^(\d+\.\d\d)%$")


def csv_to_xlsx(path: Path) -> Path:
    """Save a CSV export as Excel would hold it: money and rates as numbers, dates as dates."""
    import openpyxl

    header, rows = load(path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        cells = []
        for v in r:
            if MONEY_CELL.match(v):
                cells.append(float(dollars(v)))
            elif (m := US_DATE.match(v)):
                cells.append(datetime(int(m[3]), int(m[1]), int(m[2])))
            elif (m := PERCENT.match(v)):
                cells.append(float(Decimal(m[1]) / 100))
            else:
                cells.append(v)
        ws.append(cells)
    out = path.with_suffix(".xlsx")
    wb.save(out)
    path.unlink()
    return out


def test_xlsx_exports_read_like_their_csv(company, baseline):
    files = ["procore/prime_contracts.csv", "procore/commitments.csv",
             "procore/subcontractor_invoices.csv", "procore/budget/00529/2026-10.csv", JCT]
    for f in files:
        csv_to_xlsx(company / f)
    result = read_ok(company)
    got = {r.file for r in result.reports}
    assert {f.replace(".csv", ".xlsx") for f in files} <= got
    for table in ("prime_contracts", "commitments", "subcontractor_invoices", "budget",
                  "erp_job_cost"):
        want = without_provenance(baseline.company[table])
        have = without_provenance(result.company[table])
        if table == "erp_job_cost":  # row ids fall back to file:row only when missing
            assert have["row_id"].str.startswith("JCT").all()
        pd.testing.assert_frame_equal(have, want, check_dtype=False)
    xlsx_budget = next(r for r in result.reports if r.file.endswith("2026-10.xlsx")
                       and "00529" in r.file)
    assert (xlsx_budget.rows_in, xlsx_budget.rows_accepted, xlsx_budget.rows_totals) == (14, 13, 1)


def test_damaged_xlsx_is_a_problem_not_a_traceback(company):
    (company / "procore/commitments.csv").unlink()
    (company / "procore/commitments.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    df, problems, rep = read_export(company, PROCORE_EXPORTS["commitments"], settings(company))
    assert df.empty and rep.file == "procore/commitments.xlsx"
    assert len(problems) == 1 and problems[0].message.startswith("not a readable XLSX workbook")
    assert problems[0].fix == "open it in Excel and save it again as .xlsx"


# -- localised headers and dates ------------------------------------------------------------------

LOCALISED = {
    "procore/prime_contracts.csv": {
        "#": "Head Contract #", "Original Contract Amount": "Original Head Contract Amount",
        "Approved Change Orders": "Approved Variations",
        "Pending Change Orders": "Pending Variations", "Retainage %": "Retention %",
        "Retainage Rule": "Retention Rule"},
    "procore/prime_change_orders.csv": {"Contract #": "Head Contract #",
                                        "Change Order #": "Variation #"},
    "procore/commitments.csv": {
        "Approved Change Orders": "Approved Variations",
        "Pending Change Orders": "Pending Variations", "Draft Change Orders": "Draft Variations",
        "Invoiced": "Progress Claimed", "Payments Issued": "Payments Made",
        "Retainage %": "Retention %"},
    "procore/commitment_change_orders.csv": {"Change Order #": "Variation #"},
    "procore/subcontractor_invoices.csv": {
        "Application #": "Claim #", "Billing Date": "Claim Date",
        "Work Completed This Period": "Progress Claimed This Period",
        "Total Completed and Stored to Date": "Progress Claimed to Date",
        "Retainage This Period": "Retention This Period", "Total Retainage": "Total Retention",
        "Current Payment Due": "Amount Payable"},
    "procore/owner_invoices.csv": {
        "Contract #": "Head Contract #", "Application #": "Claim #",
        "Total Completed and Stored to Date": "Progress Claimed",
        "Total Retainage": "Retention to Date"},
    "procore/budget/00529/2026-10.csv": {"Approved COs": "Approved Variations",
                                         "Pending Budget Changes": "Pending Variations"},
}


def to_day_first(root: Path) -> int:
    """Every MM/DD/YYYY date in the Procore exports rewritten DD/MM/YYYY; returns how many."""
    n = 0
    for p in (root / "procore").glob("*.csv"):
        text, k = re.subn(r"\b(\d\d)/(\d\d)/(\d{4})\b", r"\2/\1/\3", p.read_text())
        p.write_text(text)
        n += k
    return n


@pytest.mark.parametrize("locale", ["en-GB", "en-AU"])
def test_localised_headers_and_day_first_dates(company, baseline, locale):
    set_locale(company, locale)
    assert to_day_first(company) > 500
    for f, mapping in LOCALISED.items():
        rename_headers(company / f, mapping)
    # 00529 started 9 March 2026: en-US "03/09/2026", now "09/03/2026".
    assert column(company / "procore/projects.csv", "Start Date")[0] == "09/03/2026"
    result = read_ok(company)
    assert result.problems == []  # every localised header understood: no warning either
    for table in ("jobs", "prime_contracts", "prime_change_orders", "commitments",
                  "commitment_change_orders", "subcontractor_invoices", "owner_invoices",
                  "budget", "direct_costs"):
        pd.testing.assert_frame_equal(without_provenance(result.company[table]),
                                      without_provenance(baseline.company[table]))
    assert result.company["jobs"].set_index("job_id").loc["00529", "start_date"] == \
        pd.Timestamp("2026-03-09")


def test_day_first_dates_under_en_us_are_reported(company):
    to_day_first(company)
    df, problems, rep = read_export(company, PROCORE_EXPORTS["jobs"], settings(company))
    # 00529 "09/03/2026" is a valid US date (September 3); 00883 started 4 December 2025,
    # "04/12/2025" reads as April 12; their completion dates "25/04/2027", "26/06/2026" cannot.
    assert [str(p) for p in problems] == [
        "procore/projects.csv, row 2, column 'Completion Date': not a date (value: '25/04/2027')."
        " Fix: write the date as MM/DD/YYYY or YYYY-MM-DD",
        "procore/projects.csv, row 3, column 'Completion Date': not a date (value: '26/06/2026')."
        " Fix: write the date as MM/DD/YYYY or YYYY-MM-DD"]
    assert (rep.rows_in, rep.rows_accepted, rep.rows_reported) == (2, 0, 2) and rep.ties()


# -- money ------------------------------------------------------------------------------------

def test_money_in_every_notation(company):
    p = company / "procore/prime_change_orders.csv"
    cells = ["$1,234.56", "(1,234.56)", "1,234.56-", "-$1,234.56", "USD 2,000", "1234.5600",
             "($0.07)"]
    header, rows = load(p)
    i = header.index("Amount")
    for r, v in zip(rows, cells):
        r[i] = v
    save(p, header, rows)
    df, problems, rep = read_export(company, PROCORE_EXPORTS["prime_change_orders"],
                                    settings(company))
    assert problems == [] and rep.ties() and rep.rows_accepted == 7
    assert df["amount"].tolist() == [123456, -123456, -123456, -123456, 200000, 123456, -7]


def test_blank_money_is_zero_where_optional_and_reported_where_required(company):
    p = company / "procore/prime_contracts.csv"
    set_cell(p, 2, "Pending Change Orders", "")
    set_cell(p, 2, "Approved Change Orders", "   ")
    df, problems, rep = read_export(company, PROCORE_EXPORTS["prime_contracts"],
                                    settings(company))
    assert problems == []
    assert df.loc[0, ["approved_change_orders", "pending_change_orders"]].tolist() == [0, 0]
    assert df.loc[0, "original_amount"] == 39_334_000
    set_cell(p, 3, "Original Contract Amount", "")
    df, problems, rep = read_export(company, PROCORE_EXPORTS["prime_contracts"],
                                    settings(company))
    assert [str(x) for x in problems] == [
        "procore/prime_contracts.csv, row 3, column 'Original Contract Amount': the amount is "
        "blank (value: ''). Fix: enter the amount (0 if none)"]
    assert df["job_id"].tolist() == ["00529"]
    assert (rep.rows_in, rep.rows_accepted, rep.rows_reported) == (2, 1, 1) and rep.ties()


# -- totals rows ------------------------------------------------------------------------------

def append_totals(path: Path, money: list[str], adjust: dict[str, Decimal] | None = None) -> int:
    """Append a Procore-style totals row with the true sums (plus ``adjust``); returns its row."""
    header, rows = load(path)
    total = [""] * len(header)
    total[0] = "Total"
    for m in money:
        i = header.index(m)
        s = sum(dollars(r[i]) for r in rows) + (adjust or {}).get(m, Decimal(0))
        total[i] = f"${s:,.2f}" if s >= 0 else f"(${-s:,.2f})"
    save(path, header, [*rows, total])
    return len(rows) + 2


COMMITMENT_MONEY = ["Original Contract Amount", "Approved Change Orders",
                    "Revised Contract Amount", "Invoiced", "Payments Issued",
                    "Remaining Balance Outstanding"]


def test_matching_totals_row_is_set_aside_and_counted(company):
    p = company / "procore/commitments.csv"
    row = append_totals(p, COMMITMENT_MONEY)
    assert row == 19
    df, problems, rep = read_export(company, PROCORE_EXPORTS["commitments"], settings(company))
    assert problems == []
    assert (rep.rows_in, rep.rows_accepted, rep.rows_totals) == (18, 17, 1) and rep.ties()
    assert len(df) == 17 and "Total" not in set(df["job_id"])
    assert df["original_amount"].sum() == cents(
        sum(dollars(v) for v in column(p, "Original Contract Amount")[:-1]))


def test_totals_row_that_does_not_match_is_a_clear_problem(company):
    p = company / "procore/commitments.csv"
    row = append_totals(p, COMMITMENT_MONEY, {"Invoiced": Decimal("0.01")})
    want = sum(dollars(v) for v in column(p, "Invoiced")[:-1])
    said = column(p, "Invoiced")[-1]
    assert dollars(said) == want + Decimal("0.01")
    df, problems, rep = read_export(company, PROCORE_EXPORTS["commitments"], settings(company))
    assert [str(x) for x in problems] == [
        f"procore/commitments.csv, row {row}, column 'Invoiced': the totals row says {said} but "
        f"the lines above it sum to {want:,.2f} (value: '{said}'). Fix: export the file again; a "
        "line is missing or was edited after the export"]
    assert problems[0].severity == "error"
    assert rep.rows_totals == 1 and rep.ties()


def test_budget_snapshot_totals_row_checked_per_file(company):
    p = company / "procore/budget/00883/2026-06.csv"  # the last file read in the batch
    header, rows = load(p)
    i = header.index("Job to Date Costs")
    said = rows[-1][i]
    rows[-1][i] = "$719,143.87"  # digits transposed: the lines sum to $719,143.78
    assert said == "$719,143.78"
    save(p, header, rows)
    frame, problems, reports = read_budgets(company, settings(company))
    assert [str(x) for x in problems] == [
        "procore/budget/00883/2026-06.csv, row 18, column 'Job to Date Costs': the totals row "
        "says $719,143.87 but the lines above it sum to 719,143.78 (value: '$719,143.87'). "
        "Fix: export the file again; a line is missing or was edited after the export"]
    assert all(r.rows_totals == 1 and r.ties() for r in reports)


@pytest.mark.parametrize("rel, header, other", [
    ("procore/commitments.csv", "#", "Ignored Extra"),   # an export read by its Procore headers
    (JCT, "Job", "Ignored Extra"),                       # an ERP export read by its profile
])
def test_a_header_naming_two_columns_is_reported_with_their_letters(company, rel, header, other):
    """A header the reader takes that names two columns (a spreadsheet allows it) is an error
    naming both columns by their letters, row 1 and the header, never a traceback; the same
    repeat of a header the reader does not take reads as before."""
    head, rows = load(company / rel)
    at = head.index(header)
    save(company / rel, [*head, other, other], [[*r, "x", "y"] for r in rows])
    assert not [p for p in read_company(company).problems if p.severity == "error"]

    save(company / rel, [*head, header], [[*r, r[at]] for r in rows])
    errors = [p for p in read_company(company).problems if p.severity == "error"]
    from openpyxl.utils import get_column_letter

    assert [(p.file, p.row, p.column) for p in errors] == [(rel, 1, header)], errors
    letters = f"{get_column_letter(at + 1)}, {get_column_letter(len(head) + 1)}"
    assert f"the header '{header}' names 2 columns ({letters})" in errors[0].message
    assert "rename or delete all but one" in errors[0].fix


def test_a_reports_header_naming_two_columns_is_reported_at_its_row(tmp_path):
    """In a report export (QuickBooks' Profit and Loss Detail: title rows above the header) a
    header the profile takes that names two columns is reported at the header's own row."""
    from openpyxl.utils import get_column_letter

    from wip_lib.sample.generate import SampleSpec, generate, write_sample

    spec = SampleSpec(n_jobs=2, n_completed=0, codes_per_job=(2, 3), history_start="2026-08")
    root = tmp_path / "qbo"
    write_sample(root, spec, "quickbooks_online", generated=generate(spec))
    path = root / "erp" / "ProfitAndLossDetail.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        lines = list(csv.reader(fh))
    at = next(i for i, r in enumerate(lines) if "Amount" in r)  # the header, below the titles
    col = lines[at].index("Amount")
    width = len(lines[at])
    lines = [r + [r[col]] if i >= at and len(r) == width else r for i, r in enumerate(lines)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(lines)
    errors = [p for p in read_company(root).problems if p.severity == "error"]
    assert [(p.file, p.row, p.column) for p in errors] == [
        ("erp/ProfitAndLossDetail.csv", at + 1, "Amount")], errors
    assert (f"names 2 columns ({get_column_letter(col + 1)}, {get_column_letter(width + 1)})"
            in errors[0].message)


def test_a_g703_header_naming_two_columns_is_reported_at_its_row(company):
    """A subcontractor's G703 with "This Period" twice (a column pasted in by hand) is reported
    at the schedule's header row with both columns' letters, not read as whichever came last
    (the lines would then not add up, and the message would blame the figures)."""
    from openpyxl.utils import get_column_letter

    path = sorted((company / "procore" / "subcontractor_invoices").rglob("*.csv"))[0]
    rel = path.relative_to(company).as_posix()
    with path.open(newline="", encoding="utf-8") as fh:
        lines = list(csv.reader(fh))
    at = next(i for i, r in enumerate(lines) if "Scheduled Value" in r)
    col = lines[at].index("This Period")
    width = len(lines[at])
    lines = [r + ["$1.00" if i > at else r[col]] if i >= at and len(r) == width else r
             for i, r in enumerate(lines)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(lines)
    errors = [p for p in read_company(company).problems if p.severity == "error"]
    assert [(p.file, p.row, p.column) for p in errors] == [(rel, at + 1, "This Period")], errors
    assert (f"names 2 columns ({get_column_letter(col + 1)}, {get_column_letter(width + 1)})"
            in errors[0].message)


def test_erp_totals_row(company):
    p = company / "erp/ART_CURRENT__TRANSACTION.csv"
    header, rows = load(p)
    sums = {h: sum(Decimal(r[header.index(h)]) for r in rows)
            for h in ("Amount", "Retainage", "Amount_Paid")}
    total = ["Total", "", "", "", f"{sums['Amount']}", f"{sums['Retainage']}",
             f"{sums['Amount_Paid'] + 1}", ""]
    save(p, header, [*rows, total])
    spec = load_profile("sage300")["tables"]["erp_ar_billings"]
    df, problems, rep = read_erp_table(company, "erp_ar_billings", spec, settings(company),
                                       ["%m/%d/%Y"])
    assert (rep.rows_in, rep.rows_accepted, rep.rows_totals) == (16, 15, 1) and rep.ties()
    assert df["amount_billed"].sum() == cents(sums["Amount"])
    assert [str(x) for x in problems] == [
        f"erp/ART_CURRENT__TRANSACTION.csv, row 17, column 'Amount_Paid': the totals row says "
        f"{sums['Amount_Paid'] + 1} but the lines above it sum to {sums['Amount_Paid']:,.2f} "
        f"(value: '{sums['Amount_Paid'] + 1}'). Fix: export the file again; a line is missing or "
        "was edited after the export"]


# -- encodings --------------------------------------------------------------------------------

def test_utf8_bom_is_read_without_a_word(company):
    p = company / "procore/projects.csv"
    header, rows = load(p)
    save(p, header, rows, encoding="utf-8-sig")
    assert p.read_bytes().startswith(b"\xef\xbb\xbfProject Number,")
    df, problems, rep = read_export(company, PROCORE_EXPORTS["jobs"], settings(company))
    assert problems == [] and rep.encoding == "utf-8-sig"
    assert df["job_id"].tolist() == ["00529", "00883"]


def test_windows_1252_is_read_with_a_warning(company):
    p = company / "procore/projects.csv"
    header, rows = load(p)
    rows[0][header.index("Name")] = "Café Montréal – Phase 2"
    rows[1][header.index("Owner")] = "Société Générale Façades"
    save(p, header, rows, encoding="cp1252")
    assert b"Caf\xe9 Montr\xe9al \x96 Phase 2" in p.read_bytes()
    df, problems, rep = read_export(company, PROCORE_EXPORTS["jobs"], settings(company))
    assert rep.encoding == "cp1252" and rep.ties() and rep.rows_accepted == 2
    assert [(x.severity, x.message) for x in problems] == [
        ("warning", "read as Windows-1252 (not UTF-8)")]
    assert df["job_name"].tolist()[0] == "Café Montréal – Phase 2"
    assert df["customer"].tolist()[1] == "Société Générale Façades"


# -- cost codes and the crosswalk ---------------------------------------------------------------

@pytest.mark.parametrize("raw,normal", [
    ("03300", "03-300"), ("03 30 00", "03-300"), ("03-300", "03-300"), ("  03-300", "03-300"),
    ("03-300   ", "03-300"), (" 03 30 00 ", "03-300"), ("03.300", "03-300"),
    ("03 30 00.13", "03-300.13"), ("01310", "01-310"), ("99-999", "99-999"),
    ("1-00-0000", "1-00-0000"), ("gc-01 ", "GC-01"), ("", ""),
])
def test_cost_code_normal_form(raw, normal):
    assert codes.normalise(pd.Series([raw], dtype="string")).iloc[0] == normal


def test_commitment_line_codes_in_any_format_match_the_budget(company):
    p = company / "procore/commitment_lines.csv"
    header, rows = load(p)
    i = header.index("Cost Code")
    written = {"SC-001": "02200", "SC-002": "02 30 00", "SC-003": "  03-300", "SC-004": "04-200   ",
               "SC-005": "07.500"}
    for r in rows:
        if r[0] == "00883" and r[1] in written:
            r[i] = written[r[1]]
    save(p, header, rows)
    result = read_ok(company)
    lines = result.company["commitment_lines"].set_index(["job_id", "commitment_number"])
    for num, raw in written.items():
        line = lines.loc[("00883", num)]
        assert line["cost_code_raw"] == raw
    assert lines.loc[("00883", "SC-001"), "cost_code"] == "02-200"
    assert lines.loc[("00883", "SC-002"), "cost_code"] == "02-300"
    assert lines.loc[("00883", "SC-003"), "cost_code"] == "03-300"
    assert lines.loc[("00883", "SC-004"), "cost_code"] == "04-200"
    assert lines.loc[("00883", "SC-005"), "cost_code"] == "07-500"


def test_erp_codes_normalised_with_raw_kept(baseline, base):
    jc = baseline.company["erp_job_cost"]
    raw = column(base / JCT, "Cost_Code")
    assert set(jc["cost_code_raw"]) <= set(raw)
    pm = jc[jc["cost_code_raw"] == "01310"]
    assert len(pm) and (pm["cost_code"] == "01-310").all()
    assert (jc["cost_code"] == jc["cost_code_raw"].str.slice(0, 2) + "-"
            + jc["cost_code_raw"].str.slice(2)).all()


def test_crosswalk_maps_erp_codes_to_procore_codes(company, baseline):
    p = company / "crosswalk.csv"
    # Alias headers, codes in three formats, one job-specific row that beats the company-wide one.
    save(p, ["Procore Cost Code", "ERP Cost Code", "Job"], [
        ["02200", "02 21 00", ""],
        ["31-999", "31210", ""],
        ["31-200 ", "31-210", "00529"],
    ])
    cw, problems, rep = read_export(company, CROSSWALK, settings(company),
                                    source="cost code crosswalk")
    assert problems == [] and rep.rows_accepted == 3
    assert cw[["procore_cost_code", "erp_cost_code", "job_id"]].values.tolist() == [
        ["02-200", "02-210", ""], ["31-999", "31-210", ""], ["31-200", "31-210", "00529"]]
    jc = baseline.company["erp_job_cost"]
    mapped = codes.erp_to_procore(cw, jc)
    assert set(mapped[(jc["job_id"] == "00883") & (jc["cost_code"] == "02-210")]) == {"02-200"}
    assert set(mapped[(jc["job_id"] == "00529") & (jc["cost_code"] == "31-210")]) == {"31-200"}
    untouched = ~jc["cost_code"].isin(["02-210", "31-210"])
    assert (mapped[untouched] == jc.loc[untouched, "cost_code"]).all()
    # Every ERP code of the completed job, once crosswalked, is a line of its Procore budget.
    budget = baseline.company["budget"]
    codes_00883 = set(budget.loc[budget["job_id"] == "00883", "cost_code"])
    assert set(mapped[jc["job_id"] == "00883"]) <= codes_00883


def test_crosswalk_with_a_missing_column_is_reported(company):
    save(company / "crosswalk.csv", ["procore_cost_code", "erp_code"], [["02-200", "02-210"]])
    cw, problems, rep = read_export(company, CROSSWALK, settings(company),
                                    source="cost code crosswalk")
    assert cw.empty and rep.rows_reported == 1 and rep.ties()
    assert str(problems[0]) == (
        "crosswalk.csv, row 1, column 'erp_cost_code': required column 'erp_cost_code' is "
        "missing; 'erp_code' looks like a misspelling of it (value: 'erp_code'). Fix: rename the "
        "header 'erp_code' to 'erp_cost_code'")


# -- ERP: the Sage 300 CRE profile and a company's own profile -----------------------------------

def jct_expected(path: Path) -> tuple[dict[str, int], dict[str, int], int]:
    """From the export text: rows and cents per source (the Transaction_Type's first word) and
    the number of not-cost rows (estimates)."""
    header, rows = load(path)
    t, a = header.index("Transaction_Type"), header.index("Amount")
    n, amount, not_cost = {}, {}, 0
    for r in rows:
        if not r[t].endswith(" cost"):
            not_cost += 1
            continue
        src = r[t].split()[0]
        n[src] = n.get(src, 0) + 1
        amount[src] = amount.get(src, 0) + cents(Decimal(r[a]))
    return n, amount, not_cost


def test_sage300_job_cost(baseline, base):
    jc = baseline.company["erp_job_cost"]
    n, amount, not_cost = jct_expected(base / JCT)
    assert set(n) == {"AP", "PR", "JC", "EQ"}
    assert jc.groupby("source").size().to_dict() == n
    assert jc.groupby("source")["amount"].sum().to_dict() == amount
    rep = next(r for r in baseline.reports if r.file == JCT)
    assert rep.rows_excluded == not_cost == 29 and rep.rows_reported == 0 and rep.ties()
    assert (jc["period"] == jc["accounting_date"].dt.strftime("%Y-%m")).all()
    assert jc["row_id"].is_unique and jc["row_id"].str.fullmatch(r"JCT\d{7}").all()
    pr = jc[jc["source"] == "PR"]
    assert pr["hours"].sum() > 0 and (pr["vendor_name"] == "").all()
    jobs = baseline.company["erp_jobs"].set_index("job_id")
    assert jobs.loc["00529", "job_id_raw"] == "00529   "  # space padded as Sage writes it
    assert jobs.loc["00529", "revised_contract"] == 40_328_700


def test_sage300_trailing_minus_and_unknown_transaction_type(company):
    p = company / JCT
    assert set_cell(p, 2, "Amount", "1,151.67-") == "151.67"
    assert set_cell(p, 3, "Transaction_Type", "XX cost") == "PR cost"
    spec = load_profile("sage300")["tables"]["erp_job_cost"]
    df, problems, rep = read_erp_table(company, "erp_job_cost", spec, settings(company),
                                       ["%m/%d/%Y"])
    assert [str(x) for x in problems] == [
        f"{JCT}, row 3, column 'Transaction_Type': transaction type not recognised "
        "(value: 'XX cost'). Fix: add it to `sources` (cost) or `not_cost` under "
        "tables.erp_job_cost in the ERP profile"]
    assert df.loc[df["row_id"] == "JCT0002877", "amount"].tolist() == [-115167]
    assert "JCT0002878" not in set(df["row_id"])
    assert rep.rows_reported == 1 and rep.ties()


ACME_JOB_COST = {  # Sage header -> the header ACME's ERP writes
    "Job": "Job Number", "Extra": "Sub Job", "Cost_Code": "Phase", "Category": "Cost Class",
    "Transaction_Type": "Tran Type", "Transaction_Date": "Tran Date",
    "Accounting_Date": "Posted", "Amount": "Cost Amount", "Units": "Hours",
    "Vendor_Name": "Vendor Name", "Invoice": "Reference", "Description": "Memo",
    "Commitment": "PO/SC", "Transaction_ID": "Tran ID",
}
ACME_TYPES = {"AP cost": "APINV", "PR cost": "PAYROLL", "JC cost": "JE", "EQ cost": "EQUIP",
              "Original estimate": "BUDGET"}


def test_generic_yaml_profile_reads_another_erp_without_code(company, baseline):
    # The company's own profile: a copy of sage300.yaml with other file and header names, other
    # transaction type labels and day-first dotted dates.
    profile = load_profile("sage300")
    profile["name"], profile["title"] = "acme", "ACME ERP"
    profile["date_formats"] = ["%d.%m.%Y"]
    jc = profile["tables"]["erp_job_cost"]
    jc["file"] = "erp/acme_job_cost"
    old_cols = jc["columns"]
    jc["columns"] = {canon: [ACME_JOB_COST[h] for h in heads if h in ACME_JOB_COST]
                     for canon, heads in old_cols.items()}
    jc["columns"] = {k: v for k, v in jc["columns"].items() if v}
    jc["sources"] = {"APINV": "AP", "PAYROLL": "PR", "JE": "JC", "EQUIP": "EQ"}
    jc["not_cost"] = ["BUDGET"]
    (company / "acme.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    settings_yaml = yaml.safe_load((company / "company.yaml").read_text())
    settings_yaml["erp"] = {"profile": "acme.yaml"}
    (company / "company.yaml").write_text(yaml.safe_dump(settings_yaml, sort_keys=False))
    header, rows = load(company / JCT)
    t = header.index("Transaction_Type")
    dates = [header.index("Transaction_Date"), header.index("Accounting_Date")]
    for r in rows:
        r[t] = ACME_TYPES[r[t]]
        for i in dates:
            m = US_DATE.match(r[i])
            r[i] = f"{m[2]}.{m[1]}.{m[3]}"
    (company / JCT).unlink()
    save(company / "erp/acme_job_cost.csv", [ACME_JOB_COST[h] for h in header], rows)

    result = read_ok(company)
    assert result.problems == []
    rep = next(r for r in result.reports if r.table == "erp_job_cost")
    assert rep.file == "erp/acme_job_cost.csv" and rep.rows_excluded == 29
    pd.testing.assert_frame_equal(without_provenance(result.company["erp_job_cost"]),
                                  without_provenance(baseline.company["erp_job_cost"]))


def test_profile_that_maps_no_required_column_is_reported(company):
    profile = load_profile("sage300")
    del profile["tables"]["erp_job_cost"]["columns"]["amount"]
    spec = profile["tables"]["erp_job_cost"]
    df, problems, rep = read_erp_table(company, "erp_job_cost", spec, settings(company), [])
    assert df.empty and rep.ties()
    assert str(problems[0]) == (
        f"{JCT}, column 'amount': the ERP profile maps no column to 'amount'. Fix: add "
        "`amount: [Header]` under tables.erp_job_cost.columns in the profile")


@pytest.mark.parametrize("cells, trimmed, same", [
    (["00123", "03-300", "Acme"], ["00123", "03-300", "Acme"], True),   # nothing to cut
    ([" 00123", "03-300 ", "Acme"], ["00123", "03-300", "Acme"], False),
    (["\u00a0Café\t", "", "x"], ["Café", "", "x"], False),  # Unicode spaces, a blank cell
])
def test_a_column_is_trimmed_and_kept_whole_when_nothing_is_cut(cells, trimmed, same):
    """A column with nothing to trim is the column itself (not a second copy of millions of
    cells held while the table converts); any cut gives the trimmed text."""
    from wip_lib.sources.readers.tabular import _trimmed

    text = pd.Series(cells, dtype="string")
    got = _trimmed(text)
    assert got.tolist() == trimmed and (got is text) == same


@pytest.mark.parametrize("mask, kept", [
    ([True, False, True, False], ["00123", "03-300"]),
    ([False, False, False, False], []),
])
def test_taking_rows_can_let_the_table_go_column_by_column(mask, kept, monkeypatch):
    """``take_rows(consume=True)`` gives the rows ``take_rows`` gives (text, numbers, index) and,
    from ``CONSUME_ROWS`` rows, leaves the frame it took them from empty, so an export's text is
    not held twice; a smaller frame is left whole (its deletes would cost more than its copy)."""
    import numpy as np

    from wip_lib.sources.readers import tabular
    from wip_lib.sources.readers.tabular import take_rows

    def small():
        return pd.DataFrame({"code": pd.array(["00123", " x", "03-300", ""], dtype="string")})

    left = small()
    assert take_rows(left, np.array(mask), consume=True)["code"].tolist() == kept
    assert left["code"].tolist() == small()["code"].tolist()  # 4 rows: below CONSUME_ROWS
    monkeypatch.setattr(tabular, "CONSUME_ROWS", 4)

    def frame():
        return pd.DataFrame({"code": pd.array(["00123", " x", "03-300", ""], dtype="string"),
                             "_row": np.arange(2, 6, dtype="int64")}, index=[10, 11, 12, 13])

    src = frame()
    got = take_rows(src, np.array(mask), consume=True)
    plain = take_rows(frame(), np.array(mask))
    assert got.to_dict("list") == plain.to_dict("list") and got.index.equals(plain.index)
    assert list(got.dtypes) == list(plain.dtypes)
    assert got["code"].tolist() == kept and got.index.tolist() == [10, 12][:len(kept)]
    assert list(src.columns) == []
    whole = frame()
    assert take_rows(whole, np.ones(4, dtype=bool), consume=True) is whole  # nothing to drop


def test_erp_lines_name_their_file_once_not_on_every_row():
    """Every ERP job-cost line names the export it came from (``_file``, relative to the
    company folder) as a categorical: the file's name is held once, not on each of millions of
    rows; a line's file and row still lead back to the line in the export."""
    r = read_company(SAMPLE)
    cost = r.company["erp_job_cost"]
    assert isinstance(cost["_file"].dtype, pd.CategoricalDtype)
    files = set(cost["_file"].astype(str))
    assert files == {"erp/JCT_CURRENT__TRANSACTION.csv"}
    with open(SAMPLE / "erp/JCT_CURRENT__TRANSACTION.csv", newline="",
              encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    for _, line in cost.iloc[[0, len(cost) // 2, -1]].iterrows():
        source = dict(zip(head, rows[int(line["_row"]) - 1]))
        assert source["Transaction_ID"] == line["row_id"] and source["Job"] == line["job_id"]


@pytest.mark.parametrize("cells, values, bad", [
    (["1", "-2", "", "007", None], [1, -2, None, 7, None], [False] * 5),   # Arrow's parser
    ([" 5 ", "1"], [5, 1], [False, False]),                                # spaces: the pattern
    (["5-", "--5", "-", "+5", "1.0", "1"], [None] * 5 + [1], [True] * 5 + [False]),
    (["123456789012345678", "-123456789012345678"],
     [123456789012345678, -123456789012345678], [False, False]),
    (["99999999999999999999", "1234567890123456789"], [None, None], [True, True]),  # not wrapped
])
def test_whole_numbers_by_either_parser(cells, values, bad):
    """``parse_ints``: the same figures whichever way a column is read (Arrow's integer parser
    for a column of digits and minus signs, the pattern otherwise); past 18 digits a value is
    reported, never wrapped round int64."""
    from wip_lib.sources.readers.tabular import parse_ints

    got, flagged = parse_ints(pd.Series(cells, dtype="string"))
    assert [None if pd.isna(v) else int(v) for v in got] == values
    assert flagged.tolist() == bad


@given(st.lists(st.text(alphabet="yesnotruf10x YESNO\u017f\u0130\t", max_size=6) | st.none(),
                max_size=20))
@example(["Yes", " no ", "TRUE", "x", "", None, "yeſ", "maybe", "Executed", "İ"])
def test_flags_are_the_casefolded_words(cells):
    """Yes/no cells: the trimmed, case-folded word is one of the yes or no words (a missing
    cell is blank, which is no); anything else is reported. Python's case folding, also where a
    cell is not ASCII ("yeſ" folds to "yes")."""
    from wip_lib.sources.readers.tabular import FALSE, TRUE, parse_flags

    got, bad = parse_flags(pd.Series(cells, dtype="string"))
    words = ["" if c is None else c.strip().casefold() for c in cells]
    assert bad.tolist() == [w not in TRUE and w not in FALSE for w in words]
    assert [None if pd.isna(v) else bool(v) for v in got] == [
        True if w in TRUE else False if w in FALSE else None for w in words]


@pytest.mark.parametrize("cells, rates, bad", [
    (["10%", "0.10", "10", "", "%", "100%", "1", "0"],                      # Arrow's parser
     [0.1, 0.1, 0.1, 0.0, 0.0, 1.0, 1.0, 0.0], [False] * 8),
    ([" 5 %", "5%%", "1e-1"], [0.05, 0.05, 0.1], [False] * 3),              # pandas' reading
    (["150%", "-5", "-5%", "101", "ten", "5%5", "-"],
     [1.5, -5.0, -0.05, 1.01, None, None, None], [True] * 7),
])
def test_rates_are_fractions_from_0_to_1(cells, rates, bad):
    """Percentages: "10%", "0.10" and "10" are all a tenth (a number above 1 without "%" is a
    percentage), a blank cell is 0; outside 0%-100% or not a number is reported."""
    import numpy as np
    import pyarrow as pa

    from wip_lib.sources.readers.tabular import rates_of_text

    got, flagged = rates_of_text(pa.array(cells, type=pa.string()))
    assert [None if np.isnan(v) else round(float(v), 12) for v in got] == rates
    assert flagged.tolist() == bad


@given(st.lists(st.text(alphabet="0123456789.-% ,e", max_size=8), max_size=20))
def test_rates_and_numbers_are_what_pandas_reads(cells):
    """Arrow's float parser, where it takes a column, reads the same doubles as pandas'
    parser: the rates and plain numbers equal the rule worked cell by cell with
    ``pd.to_numeric``."""
    import numpy as np
    import pyarrow as pa

    from wip_lib.sources.readers.tabular import floats_of_text, rates_of_text

    arr = pa.array(cells, type=pa.string())
    text = pd.Series([c.strip() for c in cells], dtype="string")
    pct = text.str.endswith("%").to_numpy(dtype=bool)
    num = pd.to_numeric(text.str.rstrip("%").str.strip().replace("", "0"), errors="coerce"
                        ).to_numpy(dtype="float64", na_value=np.nan)
    want = np.where(pct | (num > 1), num / 100, num)
    got, bad = rates_of_text(arr)
    assert np.array_equal(got, want, equal_nan=True), cells
    assert bad.tolist() == (np.isnan(want) | (want < 0) | (want > 1)).tolist()
    plain = pd.Series(cells, dtype="string").str.replace(",", "").replace("", "0")
    want = pd.to_numeric(plain, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    assert np.array_equal(floats_of_text(arr), want, equal_nan=True), cells


_DATE_SHAPES = ("%m/%d/%Y", "%d/%m/%Y", "%Y-%m-%d", "%m/%d/%y", "%Y%m%d", "%-m/%-d/%Y",
                "%Y-%m-%d %H:%M:%S", "%d %b %Y")
_DATE_TEXT = (st.datetimes(datetime(1850, 1, 1), datetime(2300, 12, 31)).flatmap(
    lambda d: st.sampled_from([d.strftime(f) for f in _DATE_SHAPES]))
    | st.text(alphabet="0123456789/- :", max_size=12))


@given(st.lists(_DATE_TEXT, max_size=24), st.sampled_from(["en-US", "en-GB", "en-CA"]))
@example(["02/30/2026", "10/05/26", "9/5/2026", "2026-10-05 14:30:00", "0026-10-05", "12/31/1899",
          " 10/05/2026 ", "13/01/2026", "", "10/05/2026"], "en-US")
def test_dates_are_what_pandas_parser_reads_by_the_first_format_that_fits(cells, locale):
    """Cells written exactly as a format writes them are read by Arrow's parser, the rest by
    pandas': the dates are the same as pandas' parser alone gives, trying the locale's formats,
    then ISO, in order (a day past the month's end, a year outside 1900-2199, a date that is
    not zero-padded, a timestamp)."""
    import numpy as np

    from wip_lib.sources.readers.tabular import ALWAYS_DATE, DATE_FORMATS, parse_dates

    got, bad = parse_dates(pd.Series(cells, dtype="string"), locale)
    text = pd.Series([c.strip() for c in cells], dtype="string")
    want = np.full(len(cells), np.datetime64("NaT"), dtype="datetime64[us]")
    for fmt in dict.fromkeys([*DATE_FORMATS[locale], *ALWAYS_DATE]):
        todo = np.isnat(want) & (text != "").to_numpy(dtype=bool)
        if todo.any():
            want[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce").to_numpy(
                dtype="datetime64[us]")
    assert got.to_numpy().tolist() == want.tolist()
    assert bad.tolist() == (np.isnat(want) & (text != "").to_numpy(dtype=bool)).tolist()


@given(st.lists(st.datetimes(datetime(1800, 1, 1), datetime(2300, 12, 31)) | st.none(),
                max_size=30))
def test_a_dates_month_is_its_year_and_month_as_strftime_writes_them(dates):
    """``month_text``: each date's ``YYYY-MM`` (as ``strftime("%Y-%m")`` writes it), missing
    where the date is, whatever the time of day."""
    from wip_lib.sources.readers.tabular import month_text

    got = month_text(pd.Series(dates, dtype="datetime64[us]"))
    assert got.dtype == "string"
    assert [None if pd.isna(v) else v for v in got] == [
        None if d is None else d.strftime("%Y-%m") for d in dates]


@given(st.lists(st.text(alphabet="a0- \t\u00a0\u3000é", max_size=5), max_size=20))
def test_trim_and_blanks_are_arrows_trim(cells):
    """A column's trim and blank cells: what Arrow's Unicode trim gives, whether or not a cell's
    first and last bytes rule a trim out; the column itself when nothing is cut."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from wip_lib.sources.readers.tabular import _trimmed_blank

    text = pd.Series(cells, dtype="string")
    got, blank = _trimmed_blank(text)
    want = pc.utf8_trim_whitespace(pa.array(cells, type=pa.string())).to_pylist()
    assert got.tolist() == want
    assert blank.tolist() == [w == "" for w in want]
    assert (got is text) == (want == cells)


def test_a_whole_number_too_long_for_int64_is_reported_where_it_is():
    """A 20-digit line number (past int64) is reported with its file, row, header and value,
    and how long a whole number may be; its row is set aside, the other kept."""
    import numpy as np

    from wip_lib.core import schema
    from wip_lib.sources.readers.tabular import Collector, convert

    raw = pd.DataFrame({"_row": np.array([2, 3], dtype="int64"),
                        "Item No.": pd.array(["7", "99999999999999999999"], dtype="string")})
    out = Collector("procore/prime_contract_lines.csv")
    frame, bad = convert(raw, schema.get("prime_contract_lines"), {"line_number": "Item No."},
                         out)
    assert bad.tolist() == [False, True] and int(frame["line_number"].iloc[0]) == 7
    (p,) = [p for p in out.problems if p.column == "Item No."]
    assert (p.file, p.row, p.value, p.message) == ("procore/prime_contract_lines.csv", 3,
                                                    "99999999999999999999", "not a whole number")
    assert p.fix == "write a whole number of at most 18 digits"


def test_a_small_tables_money_and_dates_parsed_together_read_as_parsed_one_by_one(monkeypatch):
    """The money columns of a small export are parsed as one array, and its date columns (the
    parser's fixed cost once a table): each column's values, its bad cells and the problems
    listed (file, row, header, value) are those of the columns parsed one by one, column for
    column: a blank required amount, bad amounts, negatives with a minus and in parentheses,
    blank and bad dates, an ISO date, the last row."""
    import numpy as np

    from wip_lib.core import schema
    from wip_lib.sources.readers import tabular
    from wip_lib.sources.readers.tabular import Collector, convert

    raw = pd.DataFrame({
        "_row": np.arange(2, 7, dtype="int64"),
        "#": pd.array(["SC-1", "SC-2", "PO-3", "PO-4", "SC-5"], dtype="string"),
        "Original Contract Amount": pd.array(["$1,000.00", "", "12", "(3.50)", "7.25"],
                                             dtype="string"),
        "Invoiced": pd.array(["0", "$2.5", "abc", "-$1,234.56", "$0.01"], dtype="string"),
        "Payments Issued": pd.array(["", "", "1.2.3", "4", "(0.99)"], dtype="string"),
        "Approved Date": pd.array(["01/31/2026", "", "2026-02-28", "13/01/2026", "02/01/2026"],
                                  dtype="string"),
        "ERP Status Date": pd.array(["", "03/15/2026", "", "", "not yet"], dtype="string"),
    })
    colmap = {"commitment_number": "#", "original_amount": "Original Contract Amount",
              "invoiced": "Invoiced", "payments_issued": "Payments Issued",
              "approved_date": "Approved Date", "erp_status_date": "ERP Status Date"}

    def read():
        out = Collector("procore/commitments.csv")
        frame, bad = convert(raw, schema.get("commitments"), colmap, out)
        return frame, bad, out.problems

    together = read()
    monkeypatch.setattr(tabular, "TOGETHER_CELLS", 0)  # every column alone
    alone = read()
    pd.testing.assert_frame_equal(together[0], alone[0], check_exact=True)
    assert together[1].tolist() == alone[1].tolist() == [False, True, True, True, True]
    assert together[2] == alone[2]
    assert together[0]["original_amount"].tolist() == [100000, 0, 1200, -350, 725]
    assert together[0]["invoiced"].tolist() == [0, 250, 0, -123456, 1]
    assert together[0]["payments_issued"].tolist() == [0, 0, 0, 400, -99]
    assert {(p.row, p.column, p.value, p.message) for p in together[2]} == {
        (3, "Original Contract Amount", "", "the amount is blank"),
        (4, "Invoiced", "abc", "not an amount of money"),
        (4, "Payments Issued", "1.2.3", "not an amount of money"),
        (5, "Approved Date", "13/01/2026", "not a date"),
        (6, "ERP Status Date", "not yet", "not a date")}
    assert [str(d)[:10] for d in together[0]["approved_date"]] == [
        "2026-01-31", "NaT", "2026-02-28", "NaT", "2026-02-01"]


@pytest.mark.parametrize("kind, value", [
    ("money", None), ("money", 0), ("money", 5), ("text", None), ("text", ""), ("text", "open"),
    ("code", None), ("period", None), ("flag", None), ("flag", True), ("flag", False),
    ("date", None), ("rate", None), ("rate", 0.0), ("int", None), ("float", None),
])
@pytest.mark.parametrize("n", [0, 3])
def test_a_column_an_export_lacks_is_its_default_in_the_schema_dtype(kind, value, n):
    """A column no file has is filled with its default (missing where none; 0 cents for money)
    in the schema's dtype: the arrays built directly for the common kinds equal a Series of
    that dtype, cell for cell."""
    import numpy as np

    from wip_lib.core.schema import Column
    from wip_lib.sources.readers.tabular import _filled

    c = Column("x", kind, "", default=value)
    expected = (pd.Series(np.zeros(n, dtype="int64")) if kind == "money" and value is None
                else pd.Series(pd.NA if value is None and c.dtype not in ("datetime64[us]",
                                                                          "float64")
                               else value, index=pd.RangeIndex(n), dtype=c.dtype))
    pd.testing.assert_series_equal(pd.Series(_filled(c, value, n)), expected, check_exact=True)
