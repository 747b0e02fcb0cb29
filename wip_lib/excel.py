"""The surety-ready Excel WIP workbook, with live formulas an auditor can trace.

Inputs (contract amounts, cost to date, cost to complete, billings, prior-period closed figures)
are written as values; every derived figure (revised contract, EAC, EGP, percent complete, earned
revenue, gross profit, loss provision, over/under, backlog, period amounts, totals) is an Excel
formula over those cells, so a CPA can click any number and see where it comes from. The formulas
implement the same rules as :mod:`wip_lib.recognition`; a test recalculates the workbook in
LibreOffice and checks every formula against the Python figure to the cent.

Untrusted text (job, vendor and cost-code names, descriptions from Procore or the ERP) is always
written as a string cell: ``=cmd|' /C calc'!A0`` stays text, never a formula.

Columns are described by :class:`Col` with a formula template naming other columns in braces
(``"={cost_to_date}+{est_cost_to_complete}"``) that is resolved to cell references per row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Sequence

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.formatting.rule import FormulaRule
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

ACCOUNTING = '_(* #,##0.00_);_(* (#,##0.00);_(* "-"??_);_(@_)'
PERCENT = "0.0%"
PERCENT_FINE = "0.000000%"
HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
BLOCK_FILL = PatternFill("solid", fgColor="DCE6F2")
LOSS_FILL = PatternFill("solid", fgColor="F8D7DA")
UNDER_FILL = PatternFill("solid", fgColor="FFF3CD")
THIN = Side(style="thin", color="9AA5B1")
_REF = re.compile(r"\{([a-z_0-9]+)\}")


@dataclass(frozen=True, slots=True)
class Col:
    key: str
    header: str
    kind: str  # "text", "money", "pct", "pct_fine", "int"
    formula: str | None = None  # template; None: an input value from the DataFrame
    total: bool = False  # summed in the totals row
    block: str = ""


def _set_text(cell, value) -> None:
    """A string cell that no spreadsheet will evaluate, whatever it starts with."""
    cell.value = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    cell.data_type = "s"


def write_table(ws: Worksheet, df: pd.DataFrame, cols: Sequence[Col], *, first_row: int,
                money_in_cents: bool = True, totals: bool = True,
                settings_refs: dict[str, str] | None = None) -> tuple[int, int]:
    """Write block headers, column headers, one row per record and a totals row.

    Returns (first data row, last data row). ``settings_refs`` maps ``{name}`` placeholders that are
    not columns (policy cells such as the start-of-job threshold) to absolute references.
    """
    letters = {c.key: get_column_letter(i + 1) for i, c in enumerate(cols)}
    settings_refs = settings_refs or {}
    block_row, head_row = first_row, first_row + 1
    start = head_row + 1
    # block headers (the CPA four-block layout), merged over their columns
    i = 0
    while i < len(cols):
        j = i
        while j + 1 < len(cols) and cols[j + 1].block == cols[i].block:
            j += 1
        if cols[i].block:
            ws.merge_cells(start_row=block_row, start_column=i + 1, end_row=block_row,
                           end_column=j + 1)
            cell = ws.cell(block_row, i + 1)
            _set_text(cell, cols[i].block)
            cell.font = Font(bold=True, color="1F3A5F")
            cell.fill = BLOCK_FILL
            cell.alignment = Alignment(horizontal="center")
        i = j + 1
    for k, c in enumerate(cols, start=1):
        cell = ws.cell(head_row, k)
        _set_text(cell, c.header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    n = len(df)
    for r, rec in enumerate(df.itertuples(index=False), start=start):
        values = rec._asdict()
        for k, c in enumerate(cols, start=1):
            cell = ws.cell(r, k)
            if c.formula:
                def ref(m, r=r):
                    name = m.group(1)
                    if name in letters:
                        return f"{letters[name]}{r}"
                    return settings_refs[name]
                cell.value = _REF.sub(ref, c.formula)
            else:
                v = values.get(c.key)
                if c.kind == "text":
                    _set_text(cell, v)
                elif v is None or pd.isna(v):
                    cell.value = None
                elif c.kind == "money":
                    cell.value = (int(v) / 100) if money_in_cents else float(v)
                elif c.kind == "int":
                    cell.value = int(v)
                else:
                    cell.value = float(v)
            _format(cell, c.kind)
    last = start + n - 1
    if totals and n:
        tr = last + 1
        _set_text(ws.cell(tr, 1), "Total")
        for k, c in enumerate(cols, start=1):
            cell = ws.cell(tr, k)
            if c.total:
                cell.value = f"=SUM({letters[c.key]}{start}:{letters[c.key]}{last})"
            cell.font = Font(bold=True)
            cell.border = Border(top=THIN, bottom=Side(style="double", color="1F3A5F"))
            _format(cell, c.kind)
    for k, c in enumerate(cols, start=1):
        width = 12 if c.kind != "text" else (10 if k == 1 else 28)
        ws.column_dimensions[get_column_letter(k)].width = max(width, min(18, len(c.header) + 2))
    ws.row_dimensions[head_row].height = 45
    return start, last


def _format(cell, kind: str) -> None:
    if kind == "money":
        cell.number_format = ACCOUNTING
    elif kind == "pct":
        cell.number_format = PERCENT
    elif kind == "pct_fine":
        cell.number_format = PERCENT_FINE


def title_rows(ws: Worksheet, company: str, title: str, period_end: date) -> None:
    _set_text(ws.cell(1, 1), company)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    _set_text(ws.cell(2, 1), title)
    ws.cell(2, 1).font = Font(bold=True, size=12)
    _set_text(ws.cell(3, 1), f"As of {period_end:%B} {period_end.day}, {period_end.year}")


def print_setup(ws: Worksheet, *, company: str, period: str, prepared: date, title_rows_to: int,
                freeze: str) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"1:{title_rows_to}"
    ws.freeze_panes = freeze
    ws.oddHeader.left.text = company.replace("&", "&&")
    ws.oddHeader.center.text = f"WIP schedule {period}"
    ws.oddHeader.right.text = f"Prepared {prepared.isoformat()}"
    ws.oddFooter.right.text = "Page &P of &N"


def highlight_rows(ws: Worksheet, first: int, last: int, ncols: int, condition: str,
                   fill: PatternFill) -> None:
    """Conditional format: ``condition`` is a formula on the first row (e.g. ``$R7>0``)."""
    if last < first:
        return
    rng = f"A{first}:{get_column_letter(ncols)}{last}"
    ws.conditional_formatting.add(rng, FormulaRule(formula=[condition], fill=fill))


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def save(wb: Workbook, path: Path) -> Path:
    """Save with fixed document properties so the same inputs give the same content."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from datetime import datetime
    fixed = datetime(2000, 1, 1)
    wb.properties.creator = "WIP Workbook"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.save(path)
    return path
