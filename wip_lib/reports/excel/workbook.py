"""The surety-ready WIP workbook of a period: ``reports/PERIOD/wip_schedule.xlsx``.

:func:`write_wip_workbook` turns a :class:`wip_lib.close.period.PeriodResult` into one workbook a
controller can hand to a CPA, bank or surety as is. Inputs (contract amounts, cost to date, cost
to complete, billings, the closed prior-period figures, GL balances) are written as values; every
derived figure is a live Excel formula over those cells, so an auditor can click any number and see
how it is built. The formulas implement the same rules as the Python code (ASC 606 cost-to-cost,
ASC 605-35 loss provisions, cumulative catch-up per ASC 250), and each formula cell is registered
with the Python figure it must equal (:class:`wip_lib.reports.excel.cells.Check`); the tests
recalculate the workbook in LibreOffice and compare every one of them to the cent.

One module per sheet (see docs/excel-workbook.md), each with ``write(ws, result, basis, layout)``
writing its sheet from the computed period alone:

- :mod:`.in_progress` *Contracts in progress*, :mod:`.completed` *Completed contracts*,
  :mod:`.fade_and_gain`, :mod:`.over_under`, :mod:`.journal_entry`, :mod:`.cost_to_complete`,
  :mod:`.override_log`, :mod:`.reconciliation_findings`, :mod:`.tie_out`, :mod:`.retention`,
  :mod:`.notes_and_policies` (with the sign-off block).

Each sheet prints as it comes (:mod:`.printing`): landscape, letter or tabloid, split into pages
between blocks with the job columns and header rows repeated, never below 60 % scale.

The report does no accounting: the figures are the period's, and the policies its formulas follow
are read from the company's settings (:mod:`.basis`), never inferred. A formula that refers to
another sheet takes the address from a :class:`~wip_lib.reports.excel.layout.Layout` computed from
the period's data before any sheet is written (:func:`plan_layout`), so the sheets can be written
in any order, or one alone, and give the same cells.

Untrusted text (job, vendor and cost-code names, descriptions, messages) is always a string cell
with Excel's quote prefix when it starts with ``= + - @``: it never becomes a formula. The header
shows the company, period and a "prepared" date that is the period's end (not today), and the file
is written with fixed timestamps, so the same inputs give the same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Sequence

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel import (completed, cost_to_complete, fade_and_gain, in_progress,
                                   journal_entry, notes_and_policies, over_under, override_log,
                                   reconciliation_findings, retention, tie_out)
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import Basis, basis_of
from wip_lib.reports.excel.cells import Check
from wip_lib.reports.excel.layout import Layout
from wip_lib.reports.excel.sheet_names import (COMPLETED_CONTRACTS, CONTRACTS_IN_PROGRESS,
                                               COST_TO_COMPLETE, FADE_AND_GAIN, JOURNAL_ENTRY,
                                               NOTES_AND_POLICIES, OVER_UNDER_BILLINGS,
                                               OVERRIDE_LOG, RECONCILIATION_FINDINGS, RETENTION,
                                               SHEET_ORDER, TIE_OUT)

FILENAME = "wip_schedule.xlsx"

SheetWriter = Callable[[Worksheet, object, Basis, Layout], list[Check]]

#: Sheet name -> the function that writes it.
WRITERS: dict[str, SheetWriter] = {
    CONTRACTS_IN_PROGRESS: in_progress.write,
    COMPLETED_CONTRACTS: completed.write,
    FADE_AND_GAIN: fade_and_gain.write,
    OVER_UNDER_BILLINGS: over_under.write,
    JOURNAL_ENTRY: journal_entry.write,
    COST_TO_COMPLETE: cost_to_complete.write,
    OVERRIDE_LOG: override_log.write,
    RECONCILIATION_FINDINGS: reconciliation_findings.write,
    TIE_OUT: tie_out.write,
    RETENTION: retention.write,
    NOTES_AND_POLICIES: notes_and_policies.write,
}


@dataclass
class BuiltWorkbook:
    """The workbook in memory and every formula cell's expected Python figure."""
    workbook: Workbook
    checks: list[Check]


def plan_layout(result, basis: Basis) -> Layout:
    """Where every cross-referenced table sits, computed from the period's data alone."""
    return Layout(
        contracts_in_progress=in_progress.table(result, basis),
        completed_contracts=completed.table(result, basis),
        over_under_billings=over_under.table(result, basis),
        journal_entry=journal_entry.table(result, basis),
        reconciliation_findings=reconciliation_findings.table(result, basis),
        policy_cells=MappingProxyType(notes_and_policies.policy_cells(result)),
    )


def build_wip_workbook(result, *, settings=None,
                       sheets: Sequence[str] = SHEET_ORDER) -> BuiltWorkbook:
    """The workbook of ``result`` (a :class:`wip_lib.close.period.PeriodResult`) in memory, with the
    expected Python figure of every formula cell.

    ``settings`` (the company's :class:`~wip_lib.core.settings.Settings`, default
    ``result.settings``) gives the recognition policies, the GL accounts and the fade threshold;
    without either a ValueError is raised. ``sheets``: which sheets to write, in this tab order
    (default all, :data:`~wip_lib.reports.excel.sheet_names.SHEET_ORDER`); each is written the
    same whichever others are written with it."""
    unknown = [name for name in sheets if name not in WRITERS]
    if unknown:
        raise ValueError(f"no such sheet: {unknown[0]!r}; the sheets are {', '.join(SHEET_ORDER)}")
    basis = basis_of(result, settings)
    layout = plan_layout(result, basis)
    wb = xl.new_workbook()
    checks: list[Check] = []
    for name in sheets:
        checks += WRITERS[name](wb.create_sheet(name), result, basis, layout)
    wb.active = 0
    return BuiltWorkbook(wb, checks)


def write_wip_workbook(result, path, *, settings=None) -> Path:
    """Write the period's WIP workbook to ``path`` (a folder gets ``wip_schedule.xlsx``).

    Same inputs, same bytes: no run-dependent value in any cell, property or zip entry."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path / FILENAME
    with xl.unchecked():  # saved, not verified: the checks are for the tests that recalculate
        built = build_wip_workbook(result, settings=settings)
    return xl.save(built.workbook, path)
