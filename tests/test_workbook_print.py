"""The workbook prints as it comes: every sheet's page set-up, and a LibreOffice PDF of it that
holds the schedule's totals in readable type; the override log, percent billed, the job facts and
the sign-off block.

The company is the sample with three controller overrides of October 2026, entered to the second:

| # | when                | who           | job   | code   | type  | override                      | why               |
|---|---------------------|---------------|-------|--------|-------|-------------------------------|-------------------|
| 1 | 2026-11-03 08:15:42 | A. Controller | 00297 | 22-100 | S     | PM forecast + 10,000.00       | first look        |
| 2 | 2026-11-04 09:30:17 | A. Controller | 00297 | 22-100 | S     | PM forecast + 25,000.00       | stale since June  |
| 3 | 2026-11-04 16:05:09 | +B. Reviewer  | 00205 | (all)  | (all) | job's PM forecast + 50,000.00 | a formula payload |

Row 2 supersedes row 1 (same job, code and type), so the log reads superseded, applied, applied,
and the differences (override - PM forecast) are 10,000.00, 25,000.00 and 50,000.00. Job 00104's
facts, as Procore's projects export holds them: PM Marcus Oyelaran, start 2026-01-01, scheduled
completion 2027-06-29.

The page arithmetic the set-up must satisfy (module docstring of
``wip_lib.reports.excel.printing``): a column ``w`` units wide prints ``7 w`` points at 100 %; a
landscape page holds 734.4 pt (letter) or 1,166.4 pt (tabloid) between 0.4 in side margins; each
page is the repeated title columns plus its own columns, times the scale.
"""
from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter

from conftest import require_tool
from test_workbook import PAYLOADS, PERIOD, SAMPLE, _compare, synthetic_result
from wip_lib.accounting.recognition import Policy
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.printing import LETTER, TABLOID, plan_pages
from wip_lib.reports.excel.sheet_names import (CONTRACTS_IN_PROGRESS, COST_TO_COMPLETE,
                                               NOTES_AND_POLICIES, OVERRIDE_LOG,
                                               RECONCILIATION_FINDINGS, SHEET_ORDER)
from wip_lib.reports.excel.workbook import build_wip_workbook

JOB, CODE, CTYPE, WHOLE_JOB = "00297", "22-100", "S", "00205"
PAPER_INCHES = {LETTER: 11.0, TABLOID: 17.0}  # landscape width
POINTS_PER_UNIT = 7.0
#: Repeated job columns of each sheet (the others repeat none).
TITLE_COLS = {"Contracts in progress": "$A:$B", "Completed contracts": "$A:$B",
              "Fade and gain": "$A:$B", "Over-under billings": "$A:$B", "Tie-out": "$A:$B",
              COST_TO_COMPLETE: "$A:$D", RECONCILIATION_FINDINGS: "$A:$C"}
TITLE_ROWS = {NOTES_AND_POLICIES: "$1:$3", "Journal entry": "$6:$6", OVERRIDE_LOG: "$6:$6",
              RECONCILIATION_FINDINGS: "$6:$6", "Tie-out": "$6:$6"}


@pytest.fixture(scope="module")
def overridden(tmp_path_factory):
    """The sample with the three overrides of the module docstring: (result, settings, pm)."""
    from wip_lib.close.period import compute_period
    from wip_lib.sources.overrides_file import write_override
    from wip_lib.sources.readers import load_company

    folder = tmp_path_factory.mktemp("print") / "company"
    shutil.copytree(SAMPLE, folder)
    before = compute_period(load_company(folder), PERIOD)
    fc = before.forecast
    pm = int(fc.set_index(["job_id", "cost_code", "cost_type"]).loc[(JOB, CODE, CTYPE),
                                                                    "pm_forecast"])
    pm_job = int(fc.loc[fc["job_id"] == WHOLE_JOB, "pm_forecast"].clip(lower=0).sum())
    for when, who, job, code, ctype, amount, why in (
            ("2026-11-03T08:15:42", "A. Controller", JOB, CODE, CTYPE, pm + 1_000_000,
             "first look"),
            ("2026-11-04T09:30:17", "A. Controller", JOB, CODE, CTYPE, pm + 2_500_000,
             "PM forecast stale since June; sub says 25k more"),
            ("2026-11-04T16:05:09", "+B. Reviewer", WHOLE_JOB, "", "", pm_job + 5_000_000,
             PAYLOADS[0])):
        write_override(folder, PERIOD, {"job_id": job, "cost_code": code, "cost_type": ctype,
                                        "etc_amount": f"{amount / 100:.2f}", "who": who,
                                        "when": when, "why": why})
    company = load_company(folder)
    result = compute_period(company, PERIOD)
    # The job facts the reports show (Procore's projects): what the period carries as
    # ``result.jobs`` (wip_lib.close.period.job_facts), given here as the jobs table holds them.
    result.jobs = company["jobs"][["job_id", "customer", "project_manager", "start_date",
                                   "completion_date"]].reset_index(drop=True)
    return result, company.settings


@pytest.fixture(scope="module")
def cases(overridden):
    return {"overrides": overridden,
            "edge_policies": synthetic_result(Policy(include_pending_co_revenue=True,
                                                     start_threshold=0.10, round_pct_first=True,
                                                     net_loss_provision=True))}


@pytest.fixture(scope="module")
def printed(overridden, tmp_path_factory):
    """The override case's workbook, a one-line calibration workbook (11 pt at 100 %), and
    LibreOffice's PDF of both and its recalculated copy of the workbook (two headless runs)."""
    soffice = require_tool("soffice", "prints and recalculates the workbook")
    result, settings = overridden
    tmp = tmp_path_factory.mktemp("pdf")
    built = build_wip_workbook(result, settings=settings)
    src = xl.save(built.workbook, tmp / "in" / "wip_schedule.xlsx")
    wb = xl.new_workbook()
    ws = wb.create_sheet("eleven")
    ws["A1"] = "Eleven point text at one hundred percent"
    ws.page_setup.scale = 100
    cal = xl.save(wb, tmp / "in" / "calibration.xlsx")
    out = tmp / "out"
    env = {**os.environ, "HOME": str(tmp)}
    for fmt in ("pdf", "xlsx"):
        cmd = [soffice, f"-env:UserInstallation={(tmp / 'lo_profile').as_uri()}", "--headless",
               "--norestore", "--convert-to", fmt, "--outdir", str(out / fmt), str(src),
               str(cal)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr
    return {"checks": built.checks, "xlsx": src, "recalculated": out / "xlsx" / src.name,
            "pdf": out / "pdf" / "wip_schedule.pdf", "calibration": out / "pdf" / "calibration.pdf"}


def _pages(pdf: Path) -> list[list[tuple[float, str]]]:
    """Each page's words as (height in points, text), from ``pdftotext -bbox``."""
    exe = require_tool("pdftotext", "reads the printed workbook back")
    html = subprocess.run([exe, "-bbox", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    word = re.compile(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">'
                      r"([^<]*)</word>")
    return [[(float(b) - float(a), t) for a, b, t in word.findall(page)]
            for page in html.split("<page ")[1:]]


def _dollars(cents: int) -> str:
    """A money cell as the workbook's accounting format prints it."""
    text = f"{abs(int(cents)) / 100:,.2f}"
    return f"({text})" if cents < 0 else text


# --- the page arithmetic ------------------------------------------------------------------------

def test_plan_pages_worked_examples():
    """Widths in units; 7 pt a unit. Letter holds 734.4 pt, tabloid 1,166.4 pt; a page holds at
    70 % when its width is at most 1,049.1 pt (letter) or 1,666.3 pt = 238.0 units (tabloid)."""
    # 100 units = 700 pt: one letter page; 734.4 / 700 = 104.9 % -> 100 %.
    plan = plan_pages([10, 30, 60], [(3, 3)], 2)
    assert (plan.paper, plan.scale, plan.pages) == (LETTER, 100, ((1, 3),))
    # 200 units = 1,400 pt: too wide for letter at 70 %, one tabloid page at 116,640 / 1,400
    # = 83.3 -> 83 %.
    plan = plan_pages([10, 30, 160], [(3, 3)], 2)
    assert (plan.paper, plan.scale, plan.pages) == (TABLOID, 83, ((1, 3),))
    # Title 40 units and blocks of 150 (cols 3-4), 150 (5-6), 40 (7): 380 units, two pages at
    # least; [150 | 150 + 40] has widest page 40 + 190 = 230 units = 1,610 pt (the other cut,
    # [150 + 150 | 40], does not fit): 116,640 / 1,610 = 72.4 -> 72 %, break after column 4.
    plan = plan_pages([10, 30, 75, 75, 75, 75, 40], [(3, 4), (5, 6), (7, 7)], 2)
    assert (plan.paper, plan.scale, plan.pages, plan.breaks) == (
        TABLOID, 72, ((1, 4), (5, 7)), (4,))
    # One block of ten 25-unit columns (290 units with the title) is wider than a page: cut
    # between its columns, five and five: 40 + 125 = 165 units = 1,155 pt -> 100 %.
    plan = plan_pages([10, 30] + [25] * 10, [(3, 12)], 2)
    assert (plan.paper, plan.scale, plan.pages) == (TABLOID, 100, ((1, 7), (8, 12)))


# --- every sheet's set-up -----------------------------------------------------------------------

def _range(ref: str) -> tuple[int, int, int, int]:
    """``'Sheet'!$A$1:$AF$32`` -> (first col, first row, last col, last row)."""
    a, b = ref.split("!")[-1].replace("$", "").split(":")
    ca, ra = re.match(r"([A-Z]+)(\d+)", a).groups()
    cb, rb = re.match(r"([A-Z]+)(\d+)", b).groups()
    return column_index_from_string(ca), int(ra), column_index_from_string(cb), int(rb)


@pytest.mark.parametrize("case", ["overrides", "edge_policies"])
def test_every_sheet_prints_landscape_at_60_percent_or_more_with_titles(cases, case, tmp_path):
    result, settings = cases[case]
    built = build_wip_workbook(result, settings=settings)
    wb = openpyxl.load_workbook(xl.save(built.workbook, tmp_path / "wb.xlsx"))
    assert wb.sheetnames == list(SHEET_ORDER)
    scales = {}
    for ws in wb:
        ps, name = ws.page_setup, ws.title
        assert ps.orientation == "landscape", name
        assert int(ps.paperSize) in (LETTER, TABLOID), name
        assert not ws.sheet_properties.pageSetUpPr.fitToPage, name  # the scale is what prints
        scale = int(ps.scale)
        assert 60 <= scale <= 100, (name, scale)
        scales[name] = scale
        # no text smaller than 6 pt on paper
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    assert (cell.font.sz or 11) * scale / 100 >= 6, (name, cell.coordinate)
        # titles: the header rows, and the job columns, on every page
        assert ws.print_title_rows == TITLE_ROWS.get(name, "$5:$6"), name
        assert ws.print_title_cols == TITLE_COLS.get(name), name
        # the print area: from A1, every written row
        c0, r0, c1, r1 = _range(ws.print_area)
        assert (c0, r0, r1) == (1, 1, ws.max_row), name
        if name == CONTRACTS_IN_PROGRESS:
            heads = [ws.cell(6, c).value for c in range(1, ws.max_column + 1)]
            assert heads[c1 - 1] == ("Completion (scheduled until done)" if case == "overrides"
                                     else "Flag")  # the prior-figure inputs stay on screen
        else:
            assert c1 == ws.max_column, name
        # each page (title columns + its columns) fits the paper at the scale
        title = 0 if ws.print_title_cols is None else column_index_from_string(
            ws.print_title_cols.split(":")[1].replace("$", ""))
        breaks = sorted(b.id for b in ws.col_breaks.brk)
        assert all(b.man for b in ws.col_breaks.brk)
        width = {c: ws.column_dimensions[get_column_letter(c)].width or 9.140625
                 for c in range(1, c1 + 1)}
        printable = (PAPER_INCHES[int(ps.paperSize)] - ws.page_margins.left
                     - ws.page_margins.right) * 72
        starts = [1] + [b + 1 for b in breaks]
        ends = breaks + [c1]
        for a, b in zip(starts, ends):
            cols = set(range(1, title + 1)) | set(range(a, b + 1))
            points = sum(width[c] for c in cols) * POINTS_PER_UNIT * scale / 100
            assert points <= printable, (name, a, b, points, printable)
        # breaks fall between blocks: no merged block header straddles one
        for rng in ws.merged_cells.ranges:
            if rng.min_row == 5:
                assert not any(rng.min_col <= b < rng.max_col for b in breaks), (name, str(rng))
        assert ws.oddFooter.right.text == "Page &P of &N"
        assert name in ws.oddHeader.center.text and PERIOD in ws.oddHeader.center.text
    # The schedule of contracts in progress: split, with each page starting a block, at 70 % or
    # more (before: one tabloid page wide, about 33 %).
    ws = wb[CONTRACTS_IN_PROGRESS]
    breaks = sorted(b.id for b in ws.col_breaks.brk)
    assert len(breaks) >= 2 and scales[CONTRACTS_IN_PROGRESS] >= 70
    assert ws.cell(5, 3).value == "Total contract"
    for b in breaks:
        assert ws.cell(5, b + 1).value, b  # a block header opens the next page
    blocks_page = {}
    for c in range(3, _range(ws.print_area)[2] + 1):
        page = sum(1 for b in breaks if b < c)
        if ws.cell(5, c).value:
            blocks_page[ws.cell(5, c).value] = page
    four = [blocks_page[b] for b in ("Total contract", "Inception to date", "At period end",
                                     "For the period")]
    assert four == sorted(four) and four[0] < four[1]  # in order; not all on one page


# --- the PDF ------------------------------------------------------------------------------------

def test_libreoffice_pdf_holds_the_totals_in_readable_type(printed, overridden):
    """Printed by LibreOffice: the schedule's totals as the workbook formats them, the sign-off
    block and the override log are in the text; no word is set below 6 pt; the schedule prints
    on as many pages as its plan says (the breaks hold, nothing spills)."""
    result, _ = overridden
    pages = _pages(printed["pdf"])
    text = "\n".join(" ".join(t for _, t in page) for page in pages)
    ip = result.wip.in_progress
    for key in ("revenue_period", "underbillings", "overbillings", "earned_revenue", "backlog",
                "gross_profit_period"):
        assert _dollars(int(ip[key].sum())) in text, key
    for words in ("Prepared by", "Reviewed by", "Approved by", "name and signature",
                  "A. Controller", "+B. Reviewer", "2026-11-04 09:30:17", "superseded",
                  "10,000.00", "25,000.00", "50,000.00"):
        assert words in text, words
    # type size: word heights against 11 pt text printed at 100 % by the same program
    cal = [h for page in _pages(printed["calibration"]) for h, _ in page]
    per_point = statistics.median(cal) / 11
    smallest = min(h for page in pages for h, _ in page) / per_point
    assert smallest >= 6 - 0.05, smallest
    body = statistics.median(h for page in pages for h, _ in page) / per_point
    assert body >= 7.5, body
    # the schedule: as many pages as planned, the first holding the total-contract block, the
    # others the job columns again
    wb = openpyxl.load_workbook(printed["xlsx"])
    ws = wb[CONTRACTS_IN_PROGRESS]
    header = f"{CONTRACTS_IN_PROGRESS} - {PERIOD}"
    sched = [" ".join(t for _, t in page) for page in pages
             if header in " ".join(t for _, t in page)]
    assert len(sched) == len(ws.col_breaks.brk) + 1
    assert "Revised contract" in sched[0] and "Earned revenue" not in sched[0]
    first_name = str(ip["job_name"].iloc[0]).split()[0]
    for page in sched:
        assert "Job name" in page and first_name in page
    print(f"PDF: {len(pages)} pages; smallest type {smallest:.1f} pt, body {body:.1f} pt; "
          f"schedule on {len(sched)} pages at {ws.page_setup.scale} %")


def test_every_formula_of_the_override_case_equals_python_figure(printed):
    """Recalculated by LibreOffice: every formula, the override differences and percent billed
    among them, equals the Python figure to the cent."""
    n, bad = _compare(printed["checks"], printed["xlsx"], printed["recalculated"])
    assert not bad, f"{len(bad)} of {n} formula cells differ, first: {bad[:5]}"
    assert n > 4000


# --- the new content ----------------------------------------------------------------------------

def test_override_log_reads_who_when_why_to_the_second(overridden, tmp_path):
    result, settings = overridden
    wb = openpyxl.load_workbook(xl.save(build_wip_workbook(result, settings=settings).workbook,
                                        tmp_path / "wb.xlsx"))
    ws = wb[OVERRIDE_LOG]
    heads = {ws.cell(6, c).value: get_column_letter(c) for c in range(1, ws.max_column + 1)}
    rows = [{h: ws[f"{col}{r}"] for h, col in heads.items()} for r in range(7, 10)]
    assert ws.cell(10, 1).value is None  # three overrides, three rows
    when = [r["When"].value for r in rows]
    assert when == [datetime(2026, 11, 3, 8, 15, 42), datetime(2026, 11, 4, 9, 30, 17),
                    datetime(2026, 11, 4, 16, 5, 9)]
    assert rows[0]["When"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert [r["Status"].value for r in rows] == ["superseded", "applied", "applied"]
    assert [r["Job"].value for r in rows] == [JOB, JOB, WHOLE_JOB]
    assert [r["Cost code"].value for r in rows] == [CODE, CODE, "(all codes)"]
    assert [r["Type"].value for r in rows] == [CTYPE, CTYPE, "(all types)"]
    pm = rows[0]["PM forecast to complete"].value
    assert rows[1]["PM forecast to complete"].value == pm
    assert round((rows[0]["Override (cost to complete)"].value - pm) * 100) == 1_000_000
    assert round((rows[1]["Override (cost to complete)"].value - pm) * 100) == 2_500_000
    for r in rows:  # the difference is a formula over the two inputs
        ov, pmc = r["Override (cost to complete)"].column_letter, \
            r["PM forecast to complete"].column_letter
        assert r["Difference (override - PM)"].value == f"={ov}{r['When'].row}-{pmc}" \
                                                        f"{r['When'].row}"
    # who and why are a person's text: never a formula
    assert rows[2]["Who"].value == "+B. Reviewer" and rows[2]["Who"].data_type == "s"
    assert rows[2]["Why"].value == PAYLOADS[0] and rows[2]["Why"].data_type == "s"
    assert rows[2]["Why"].quotePrefix
    assert rows[0]["Entered in"].value == "overrides/2026-10.csv row 2"
    assert "stale since June" in rows[1]["Why"].value


def test_no_overrides_says_so(tmp_path):
    result, settings = synthetic_result(Policy())
    ws = build_wip_workbook(result, settings=settings, sheets=[OVERRIDE_LOG]).workbook[
        OVERRIDE_LOG]
    assert ws.cell(7, 1).value is None
    assert ws.cell(8, 1).value.startswith("No controller overrides this period")


def test_schedule_shows_percent_billed_and_the_job_facts(overridden, tmp_path):
    """Percent billed = billed to date / revised contract, a live formula; job 00104's project
    manager, start and scheduled completion as Procore holds them."""
    result, settings = overridden
    wb = openpyxl.load_workbook(xl.save(build_wip_workbook(result, settings=settings).workbook,
                                        tmp_path / "wb.xlsx"))
    ws = wb[CONTRACTS_IN_PROGRESS]
    col = {ws.cell(6, c).value: get_column_letter(c) for c in range(1, ws.max_column + 1)}
    row = next(r for r in range(7, ws.max_row + 1) if ws.cell(r, 1).value == "00104")
    pct = ws[f"{col['% billed']}{row}"].value
    assert pct == (f'=IF({col["Revised contract"]}{row}<>0,{col["Billed to date"]}{row}/'
                   f'{col["Revised contract"]}{row},"")')
    assert ws[f"{col['% billed']}5"].value is None  # inside the inception-to-date block
    assert ws[f"{col['Project manager']}{row}"].value == "Marcus Oyelaran"
    start = ws[f"{col['Start']}{row}"].value
    done = ws[f"{col['Completion (scheduled until done)']}{row}"].value
    assert (start.date() if isinstance(start, datetime) else start) == date(2026, 1, 1)
    assert (done.date() if isinstance(done, datetime) else done) == date(2027, 6, 29)
    total_row = 7 + len(result.wip.in_progress)
    assert ws.cell(total_row, 1).value == "Total"
    assert ws[f"{col['% billed']}{total_row}"].value.startswith("=IF(")


def test_notes_carry_the_sign_off_block(overridden, tmp_path):
    result, settings = overridden
    ws = build_wip_workbook(result, settings=settings, sheets=[NOTES_AND_POLICIES]).workbook[
        NOTES_AND_POLICIES]
    labels = {str(ws.cell(r, 1).value): r for r in range(1, ws.max_row + 1)
              if ws.cell(r, 1).value}
    assert "Sign-off" in labels
    signed = [label for label in labels if label.endswith("name and signature")]
    assert [s.split(" (")[0] for s in signed] == ["Prepared by", "Reviewed by", "Approved by"]
    for label in signed:
        r = labels[label]
        assert ws.cell(r, 2).border.bottom.style == "thin"  # a line to sign on
        assert ws.cell(r + 1, 1).value == "Date" and ws.cell(r + 1, 2).border.bottom.style
        assert labels["Sign-off"] < r < labels["How to read this workbook"]
    _, _, c1, r1 = _range(ws.print_area)
    assert r1 >= max(labels.values()) and c1 >= 3  # printed
