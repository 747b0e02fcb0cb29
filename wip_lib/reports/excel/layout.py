"""Where each sheet's cells are, described before any sheet is written.

A formula on one sheet that refers to another sheet's cells (the fade sheet reads the schedule's
estimated gross profit, the journal entry reads the over-under changes, the notes tie to totals)
takes the address from a :class:`Layout`: a frozen description computed from the period's data
alone by each sheet module's ``table`` function (the same columns and rows its ``write`` function
writes). No sheet reads anything another sheet has written, so the sheets can be written in any
order, or one alone, and give the same cells.

Every table sheet has the company, title and "as of" date in rows 1-3, a legend in row 4, block
headers in row :data:`BLOCK_ROW`, column headers in row :data:`HEAD_ROW` and data from row
:data:`FIRST_ROW`. How each sheet prints is planned by :mod:`.printing` when the sheet is
finished (:func:`finish_sheet`).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Sequence

from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import Basis
from wip_lib.reports.excel.cells import Col
from wip_lib.reports.excel.printing import (PagePlan, apply_plan, block_groups, column_widths,
                                            plan_pages)

BLOCK_ROW, HEAD_ROW, FIRST_ROW = 5, 6, 7


def quoted(sheet: str) -> str:
    """A sheet name as a formula writes it: ``'Fade and gain'`` (quotes doubled inside)."""
    return "'" + sheet.replace("'", "''") + "'"


def address(sheet: str, letter: str, row: int) -> str:
    """``'Sheet name'!C7``."""
    return f"{quoted(sheet)}!{letter}{row}"


@dataclass(frozen=True)
class Table:
    """Where one sheet's table sits: the column letter of each key, the row of each job, the rows
    of the data and of the totals.

    ``last_row`` is ``first_row - 1`` for an empty table; ``total_row`` follows the data."""

    sheet: str
    letters: Mapping[str, str]
    rows: Mapping[str, int]
    first_row: int
    last_row: int
    total_row: int

    @classmethod
    def of(cls, sheet: str, cols: Sequence[Col], jobs: Sequence[str] = (), *,
           n_rows: int | None = None, first_row: int = FIRST_ROW) -> "Table":
        """A table of ``cols`` with one row per job of ``jobs`` (or ``n_rows`` rows) from
        ``first_row`` and its totals row below."""
        n = len(jobs) if n_rows is None else n_rows
        last = first_row + n - 1
        return cls(sheet, MappingProxyType(xl.column_letters(cols)),
                   MappingProxyType({str(j): first_row + i for i, j in enumerate(jobs)}),
                   first_row, last, max(last, first_row - 1) + 1)

    @property
    def empty(self) -> bool:
        return self.last_row < self.first_row

    def holds(self, job: str) -> bool:
        return str(job) in self.rows

    def cell(self, key: str, job: str) -> str:
        """The cell of column ``key`` on the row of ``job``, for a formula on another sheet."""
        return address(self.sheet, self.letters[key], self.rows[str(job)])

    def total(self, key: str) -> str:
        """The totals-row cell of column ``key``."""
        return address(self.sheet, self.letters[key], self.total_row)

    def column(self, key: str) -> str:
        """The data cells of column ``key`` as an absolute range (``'Sheet'!$C$7:$C$40``)."""
        col = self.letters[key]
        return f"{quoted(self.sheet)}!${col}${self.first_row}:${col}${self.last_row}"


@dataclass(frozen=True)
class Layout:
    """The cells one sheet's formulas may name on another sheet.

    ``policy_cells``: policy name -> absolute cell on the notes sheet holding its value (the
    schedule's formulas read the pending-CO and threshold policies there)."""

    contracts_in_progress: Table
    completed_contracts: Table
    over_under_billings: Table
    journal_entry: Table
    reconciliation_findings: Table
    policy_cells: Mapping[str, str]


def start_sheet(ws: Worksheet, basis: Basis, title: str) -> None:
    """Rows 1-3: company, title, "As of" the period end."""
    xl.title_rows(ws, basis.company, title, basis.period_end)


def finish_sheet(ws: Worksheet, basis: Basis, *, freeze: str | None, title_from: int = BLOCK_ROW,
                 title_to: int = HEAD_ROW, cols: Sequence[Col] | None = None,
                 groups: Sequence[tuple[int, int]] | None = None, title_cols: int | None = None,
                 last_col: int | None = None) -> PagePlan:
    """Frozen panes, page header and footer, and the printed pages (:mod:`.printing`).

    Printed: columns ``1 .. last_col`` (default: every column written) and every row written;
    rows ``title_from:title_to`` and the first ``title_cols`` columns (default: the frozen ones)
    on every page; the pages split between the blocks of ``cols`` (or the column spans
    ``groups``) and printed at the plan's scale."""
    xl.print_setup(ws, company=basis.company, period=basis.period, prepared=basis.period_end,
                   freeze=freeze, sheet_title=ws.title)
    last_col = last_col or ws.max_column
    if title_cols is None:
        title_cols = coordinate_to_tuple(freeze)[1] - 1 if freeze else 0
    if groups is None:
        blocks = [c.block for c in cols] if cols is not None else []
        blocks = (blocks + [""] * last_col)[:last_col]
        groups = block_groups(blocks, title_cols)
    plan = plan_pages(column_widths(ws, last_col), groups, title_cols)
    apply_plan(ws, plan, last_row=ws.max_row, title_rows=(title_from, title_to))
    return plan
