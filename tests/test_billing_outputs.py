"""What ``wip billing`` and ``wip payapps`` write: the G703 workbook's formulas recalculated in
LibreOffice equal the Python figures to the cent; the G702/G703 PDF carries the draft's lines;
the lien waiver log is read with a problem per bad cell (file, row, column, value, fix); bad
input stops the command with exit 2 and no traceback."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import billing_company as bc
import openpyxl
import pytest
from conftest import require_tool
from test_workbook import _compare, _soffice

from wip_lib.accounting import progress_billing as pb
from wip_lib.cli.main import main
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.g703 import build_g703_workbook
from wip_lib.sources.lien_waivers import read_lien_waivers

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
PERIOD = "2026-10"
CODES = bc.pd.DataFrame({"job_id": ["J1"] * 3, "cost_code": ["01-310", "03-300", "26-100"],
                         "p": [0.80, 0.90, 0.75]})
JOBS = bc.pd.DataFrame({"job_id": ["J1"], "p": [0.85]})


@pytest.fixture(scope="module")
def sample_billing(sample_company):
    from wip_lib.close.billing import compute_billing

    return compute_billing(sample_company, PERIOD)


@pytest.fixture(scope="module")
def recalculated(sample_billing, tmp_path_factory):
    """The hand company's drafts (both progress measures) with an injected description, and
    every draft of the sample, recalculated in one LibreOffice run."""
    soffice = _soffice() or require_tool("soffice", "LibreOffice recalculates the workbook")
    tmp = tmp_path_factory.mktemp("g703")
    drafts = []
    for progress in ("procore", "wip"):
        (d,), _ = pb.draft(bc.company(), PERIOD, progress, CODES, JOBS)
        d.lines.loc[0, "description"] = "=HYPERLINK(\"http://x\",\"x\")"
        drafts.append((f"hand_{progress}", d))
    drafts += [(f"{d.job_id}_{d.contract}", d) for d in sample_billing.drafts]
    built = {}
    for name, d in drafts:
        b = build_g703_workbook(d, "Cedar Point <Builders> & Co", "=Owner", "Job @name")
        built[name] = (b.checks, xl.save(b.workbook, tmp / "in" / f"{name}.xlsx"), d)
    out = tmp / "calc"
    cmd = [soffice, f"-env:UserInstallation={(tmp / 'lo').as_uri()}", "--headless",
           "--norestore", "--convert-to", "xlsx", "--outdir", str(out),
           *[str(p) for _, p, _ in built.values()]]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "HOME": str(tmp)})
    assert proc.returncode == 0, proc.stderr
    print(f"LibreOffice recalculated {len(built)} G703 workbooks in "
          f"{time.monotonic() - t0:.1f} s")
    return {name: (checks, src, out / src.name, d) for name, (checks, src, d) in built.items()}


def test_every_g703_formula_equals_the_python_figure_to_the_cent(recalculated):
    total = 0
    for name, (checks, src, calc, d) in recalculated.items():
        n, bad = _compare(checks, src, calc)
        assert not bad, f"{name}: {len(bad)} of {n} formula cells differ, first: {bad[:5]}"
        # G per line, %, H per line, the totals row (8 formulas) and G702 lines 3-9 (8)
        assert n == 3 * len(d.lines) + 8 + 8, name
        total += n
    assert len(recalculated) >= 22 and total > 500


def test_g702_lines_recalculate_to_the_hand_figures(recalculated):
    """The hand company's draft (progress procore): G702 line 8 = 15,200.00, line 9 =
    27,300.00 after LibreOffice recalculated them from the G703's cells."""
    _, _, calc, d = recalculated["hand_procore"]
    ws = openpyxl.load_workbook(calc, data_only=True)["G702"]
    values = {str(ws.cell(r, 1).value): ws.cell(r, 2).value for r in range(8, 20)}
    assert values["8. Current payment due (line 6 - 7)"] == 15_200
    assert values["9. Balance to finish, including retainage (line 3 - 6)"] == 27_300
    assert values["5. Total retainage (column I)"] == 8_300


def test_text_from_procore_stays_text(recalculated):
    _, src, _, _ = recalculated["hand_procore"]
    wb = openpyxl.load_workbook(src)
    cell = wb["G703"]["B8"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert wb["G702"]["A1"].value == "Cedar Point <Builders> & Co"


def test_pdf_of_one_job(tmp_path, capsys, sample_billing):
    require_tool("chromium", "headless Chromium prints the G702/G703")
    pdftotext = require_tool("pdftotext", "reads the printed PDF back")
    d = next(x for x in sample_billing.drafts if x.job_id == "00297")
    rc = main(["billing", str(SAMPLE), "--period", PERIOD, "--out", str(tmp_path),
               "--jobs", "00297"])
    out = capsys.readouterr().out
    assert rc in (0, 1) and "1 PDF(s)" in out, out
    pdf = tmp_path / "billing" / "00297_1_G702_G703.pdf"
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Application and certificate for payment (AIA G702)" in text
    assert "Continuation sheet (AIA G703)" in text
    due = f"{d.g702['line_8'] // 100:,}.{d.g702['line_8'] % 100:02d}"
    assert due in text and sample_billing.job_names["00297"] in text
    assert (tmp_path / "billing" / "00297_1_G703.xlsx").is_file()
    assert len(list((tmp_path / "billing").glob("*.pdf"))) == 1


def test_unknown_job_for_drafts_is_refused(tmp_path, capsys):
    rc = main(["billing", str(SAMPLE), "--period", PERIOD, "--out", str(tmp_path), "--jobs",
               "99999", "--no-pdf"])
    err = capsys.readouterr().err
    assert rc == 2 and "job 99999 has no draft G702/G703 for 2026-10" in err
    assert "Traceback" not in err


# -- the lien waiver log ----------------------------------------------------------------------

LOG = """job_id,commitment,vendor,through_date,type,amount
00104,SC-001,Apex,2026-09-30,Unconditional Progress,"18,000.00"
00104,SC-001,Apex,09/30/2026,conditional,$500.00
,SC-001,Apex,2026-09-30,conditional,1.00
00104,SC-001,Apex,2026-13-01,conditional,1.00
00104,SC-001,Apex,2026-09-30,partial,1.00
00104,SC-001,Apex,2026-09-30,conditional,ten
00104,SC-001,Apex,2026-09-30,conditional,-5.00
"""


def test_lien_waiver_log_rows_and_problems(tmp_path):
    (tmp_path / "lien_waivers.csv").write_text(LOG, encoding="utf-8")
    w, problems = read_lien_waivers(tmp_path)
    assert w["waiver_type"].tolist() == ["unconditional", "conditional"]
    assert w["amount"].tolist() == [1_800_000, 50_000]
    assert w["through_date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-09-30"] * 2
    got = [(p.file, p.row, p.column, p.value) for p in problems]
    assert got == [("lien_waivers.csv", 4, "job_id", ""),
                   ("lien_waivers.csv", 5, "through_date", "2026-13-01"),
                   ("lien_waivers.csv", 6, "type", "partial"),
                   ("lien_waivers.csv", 7, "amount", "ten"),
                   ("lien_waivers.csv", 8, "amount", "-5.00")]
    assert all(p.fix for p in problems)


def test_lien_waiver_log_missing_column_and_missing_file(tmp_path):
    assert read_lien_waivers(tmp_path) == (None, [])
    (tmp_path / "lien_waivers.csv").write_text("job_id,commitment,through_date,amount\n",
                                               encoding="utf-8")
    w, problems = read_lien_waivers(tmp_path)
    assert w.empty and [(p.column, p.message) for p in problems] == [
        ("type", "missing column 'type'")]


def test_payapps_stops_on_a_bad_waiver_row(tmp_path, capsys):
    co = Path(shutil.copytree(SAMPLE, tmp_path / "co"))
    log = co / "lien_waivers.csv"
    lines = log.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("conditional", "maybe")
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc = main(["payapps", str(co), "--period", PERIOD, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "lien_waivers.csv, row 4, column 'type': waiver type is neither conditional nor " \
           "unconditional" in err and "Fix: write conditional or unconditional" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
