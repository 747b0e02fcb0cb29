"""The draft AIA G702/G703 of one job and prime contract as an Excel workbook with live formulas.

Sheet *G703* (the continuation sheet): item no. and description as text; scheduled value (C),
work from the previous application (D), this period (E), materials presently stored (F) and
retainage (I) as input values; ``G = D + E + F``, ``% = G / C`` (blank for a zero line) and
``H = C - G`` as formulas, with a totals row of ``SUM`` formulas. Sheet *G702* (the application):
lines 1, 2 and 7 and the rate as input values; ``3 = 1 + 2``, ``4`` = the G703's total G, ``5``
= its total I, ``5b = ROUND(rate * total F, 2)``, ``5a = 5 - 5b``, ``6 = 4 - 5``, ``8 = 6 - 7``,
``9 = 3 - 6`` as formulas over those cells (the rules of
:mod:`wip_lib.accounting.progress_billing`). Every formula cell is registered with the Python
figure it must equal (:class:`~wip_lib.reports.excel.cells.Check`); a test recalculates the
workbook in LibreOffice and compares each to the cent.

Descriptions and item numbers come from Procore: always string cells, never formulas. The file is
written with fixed timestamps (same draft, same bytes). Both sheets print landscape, one page wide,
with the header rows repeated.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.accounting.progress_billing import G702_TEXT
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.cells import Check, Col
from wip_lib.reports.excel.workbook import BuiltWorkbook

G703_SHEET, G702_SHEET = "G703", "G702"
PROGRESS_TEXT = {"procore": "the Procore pay application's figures",
                 "wip": "WIP cost progress per cost code"}
HEAD_ROW, FIRST_ROW = 7, 8

COLUMNS = (
    Col("item_number", "A\nItem No.", "text", width=10),
    Col("description", "B\nDescription of work", "text", width=38),
    Col("scheduled_value", "C\nScheduled value", "money", total=True),
    Col("from_previous_application", "D\nWork completed from previous application (D + E)",
        "money", total=True),
    Col("this_period", "E\nWork completed this period", "money", total=True),
    Col("materials_stored", "F\nMaterials presently stored (not in D or E)", "money",
        total=True),
    Col("total_completed_to_date", "G\nTotal completed and stored to date (D + E + F)", "money",
        "={from_previous_application}+{this_period}+{materials_stored}", total=True),
    Col("pct", "%\n(G / C)", "pct2",
        '=IF({scheduled_value}=0,"",{total_completed_to_date}/{scheduled_value})',
        total_formula='=IF({scheduled_value}=0,"",{total_completed_to_date}/{scheduled_value})',
        width=9),
    Col("balance_to_finish", "H\nBalance to finish (C - G)", "money",
        "={scheduled_value}-{total_completed_to_date}", total=True),
    Col("retainage", "I\nRetainage", "money", total=True),
)


def _header(ws: Worksheet, d, company: str, title: str, owner: str,
            job_name: str) -> None:
    xl.set_text(ws.cell(1, 1), company)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    xl.set_text(ws.cell(2, 1), title)
    ws.cell(2, 1).font = Font(bold=True, size=12)
    facts = [
        f"Job {d.job_id} {job_name} - prime contract {d.contract}" + (f" - owner {owner}"
                                                                     if owner else ""),
        f"Application {d.application_number}" + (f" (Procore invoice {d.invoice_number})"
                                                 if d.invoice_number else " (new)")
        + f" - period to {d.period_end:%Y-%m-%d}",
        f"Progress: {PROGRESS_TEXT.get(d.progress, d.progress)}; lines: {d.sov_source}",
    ]
    for i, text in enumerate(facts):
        xl.set_text(ws.cell(3 + i, 1), text)


def _print(ws: Worksheet, title_rows: str) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 1  # letter
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.oddFooter.right.text = "Page &P of &N"


def write_g703(ws: Worksheet, d, company: str, owner: str = "",
               job_name: str = "") -> tuple[list[Check], int]:
    """The continuation sheet; returns its checks and the totals row."""
    checks = xl.check_list()
    _header(ws, d, company, "Continuation sheet (AIA G703)", owner, job_name)
    cols = list(COLUMNS)
    xl.write_header(ws, cols, block_row=None, head_row=HEAD_ROW)
    ws.row_dimensions[HEAD_ROW].height = 60
    recs = xl.records(d.lines)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=checks)
    total = max(last, FIRST_ROW - 1) + 1
    g = d.lines
    ratio = (int(g["total_completed_to_date"].sum()) / int(g["scheduled_value"].sum())
             if int(g["scheduled_value"].sum()) else None)
    xl.write_totals(ws, cols, recs, row=total, first=FIRST_ROW, last=last, checks=checks,
                    label="Grand total", expected={"pct": ratio}, label_key="description")
    xl.shade_inputs(ws, cols, FIRST_ROW, last)
    ws.freeze_panes = f"C{FIRST_ROW}"
    _print(ws, f"{HEAD_ROW}:{HEAD_ROW}")
    return checks, total


def write_g702(ws: Worksheet, d, company: str, g703_total: int, owner: str = "",
               job_name: str = "") -> list[Check]:
    """The application's lines 1-9 as formulas over the G703's totals (module docstring)."""
    checks = xl.check_list()
    _header(ws, d, company, "Application and certificate for payment (AIA G702)", owner,
            job_name)
    letters = xl.column_letters(COLUMNS)
    tot = {k: f"'{G703_SHEET}'!{letters[k]}{g703_total}" for k in letters}
    row = {k: HEAD_ROW + 1 + i for i, k in enumerate(["rate", "line_1", "line_2", "line_3",
                                                       "line_4", "line_5a", "line_5b", "line_5",
                                                       "line_6", "line_7", "line_8",
                                                       "line_9"])}
    xl.set_text(ws.cell(HEAD_ROW, 1), "Line")
    xl.set_text(ws.cell(HEAD_ROW, 2), "Amount")
    for c in (1, 2):
        ws.cell(HEAD_ROW, c).font = Font(bold=True)
    ws.column_dimensions["A"].width = 58
    ws.column_dimensions["B"].width = 20
    b = {k: f"B{r}" for k, r in row.items()}
    formulas = {
        "line_3": f"={b['line_1']}+{b['line_2']}",
        "line_4": f"={tot['total_completed_to_date']}",
        "line_5": f"={tot['retainage']}",
        "line_5b": f"=ROUND({b['rate']}*{tot['materials_stored']},2)",
        "line_5a": f"={b['line_5']}-{b['line_5b']}",
        "line_6": f"={b['line_4']}-{b['line_5']}",
        "line_8": f"={b['line_6']}-{b['line_7']}",
        "line_9": f"={b['line_3']}-{b['line_6']}",
    }
    xl.set_text(ws.cell(row["rate"], 1), "Retainage rate of this application")
    xl.write_value(ws.cell(row["rate"], 2), "pct2", d.rate_ppm / 1_000_000)
    ws.cell(row["rate"], 2).fill = xl.INPUT_FILL
    for key, r in row.items():
        if key == "rate":
            continue
        xl.set_text(ws.cell(r, 1), G702_TEXT[key])
        cell = ws.cell(r, 2)
        if key in formulas:
            cell.value = formulas[key]
            xl.apply_format(cell, "money")
            checks.append(Check(ws.title, cell.coordinate, "money", int(d.g702[key]),
                                G702_TEXT[key]))
        else:
            xl.write_value(cell, "money", d.g702[key])
            cell.fill = xl.INPUT_FILL
        if key in ("line_3", "line_6", "line_8"):
            ws.cell(r, 1).font = ws.cell(r, 2).font = Font(bold=True)
    _print(ws, f"{HEAD_ROW}:{HEAD_ROW}")
    return checks


def build_g703_workbook(d, company: str, owner: str = "",
                        job_name: str = "") -> BuiltWorkbook:
    """The draft's workbook in memory (sheets G702 and G703) with every formula's Python figure."""
    wb = xl.new_workbook()
    g702 = wb.create_sheet(G702_SHEET)
    g703 = wb.create_sheet(G703_SHEET)
    checks, total = write_g703(g703, d, company, owner, job_name)
    checks += write_g702(g702, d, company, total, owner, job_name)
    wb.active = 0
    return BuiltWorkbook(wb, checks)


def write_g703_workbook(d, path: Path, company: str, owner: str = "",
                        job_name: str = "") -> Path:
    return xl.save(build_g703_workbook(d, company, owner, job_name).workbook, Path(path))
