"""The workbook's sheets are independent of one another and of the order they are written in.

Each sheet module writes its sheet from the computed period and a frozen layout (where the other
sheets' cells are, worked out from the data before any sheet is written). So:

- writing the ten sheets in reverse order gives, sheet by sheet, the same cells (values,
  formulas, types, formats, fills, fonts), the same merged ranges, conditional formats, print
  set-up, and the same expected figures, as writing them in the workbook's order;
- writing one sheet alone gives that sheet exactly as in the whole workbook;
- the layout says where each sheet really writes: the job named in a layout row is the job in
  column A of that row on the written sheet, and the totals row is the one labelled "Total".

And the report does no accounting: the package imports nothing from ``wip_lib.accounting`` but
named constants, and the policies come from the settings.
"""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import openpyxl
import pytest
from test_workbook import synthetic_result

from wip_lib.accounting.recognition import Policy
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import basis_of
from wip_lib.reports.excel.sheet_names import (
    COMPLETED_CONTRACTS,
    CONTRACTS_IN_PROGRESS,
    JOURNAL_ENTRY,
    NOTES_AND_POLICIES,
    OVER_UNDER_BILLINGS,
    RECONCILIATION_FINDINGS,
    SHEET_ORDER,
)
from wip_lib.reports.excel.workbook import WRITERS, build_wip_workbook, plan_layout

EXCEL = Path(__file__).resolve().parents[1] / "wip_lib" / "reports" / "excel"


@pytest.fixture(scope="module")
def sample(sample_period, sample_company):
    return sample_period, sample_company.settings


@pytest.fixture(scope="module")
def cases(sample):
    """The sample company, and the synthetic company under every policy (net columns, threshold,
    rounding, a job no longer in progress that the entry clears)."""
    return {
        "sample": sample,
        "edge_policies": synthetic_result(Policy(include_pending_co_revenue=True,
                                                 start_threshold=0.10, round_pct_first=True,
                                                 net_loss_provision=True)),
    }


def fingerprint(ws) -> dict:
    """Everything a reader of the sheet sees: every cell with its value or formula, type and
    style, merged ranges, conditional formats, frozen panes, print set-up, widths, headers."""
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None and not c.has_style:
                continue
            cells[c.coordinate] = (c.value, c.data_type, c.number_format, c.quotePrefix,
                                   repr(c.font), repr(c.fill), repr(c.border), repr(c.alignment))
    conditional = sorted((str(rng.sqref), tuple(rule.formula), repr(rule.dxf))
                         for rng in ws.conditional_formatting for rule in rng.rules)
    return {
        "cells": cells,
        "merged": sorted(map(str, ws.merged_cells.ranges)),
        "conditional": conditional,
        "freeze": ws.freeze_panes,
        "print": (ws.print_title_rows, ws.print_area, ws.page_setup.orientation,
                  ws.page_setup.paperSize, ws.page_setup.fitToWidth, ws.page_setup.fitToHeight,
                  ws.print_title_cols, ws.page_setup.scale,
                  [(b.id, b.max, b.man) for b in ws.col_breaks.brk]),
        "widths": {k: v.width for k, v in ws.column_dimensions.items()},
        "heights": {k: v.height for k, v in ws.row_dimensions.items() if v.height},
        "header": (ws.oddHeader.left.text, ws.oddHeader.center.text, ws.oddHeader.right.text,
                   ws.oddFooter.right.text),
    }


def _checks(built, sheet: str | None = None) -> list[tuple]:
    return sorted((c.sheet, c.cell, c.kind, c.expected, c.label) for c in built.checks
                  if sheet is None or c.sheet == sheet)


@pytest.mark.parametrize("case", ["sample", "edge_policies"])
def test_reverse_order_gives_the_same_cells(cases, case, tmp_path):
    result, settings = cases[case]
    forward = build_wip_workbook(result, settings=settings)
    backward = build_wip_workbook(result, settings=settings, sheets=SHEET_ORDER[::-1])
    assert forward.workbook.sheetnames == list(SHEET_ORDER)
    assert backward.workbook.sheetnames == list(SHEET_ORDER[::-1])
    # through a saved file too: what a reader opens
    a = openpyxl.load_workbook(xl.save(forward.workbook, tmp_path / "forward.xlsx"))
    b = openpyxl.load_workbook(xl.save(backward.workbook, tmp_path / "backward.xlsx"))
    n_cells = 0
    for name in SHEET_ORDER:
        fa, fb = fingerprint(a[name]), fingerprint(b[name])
        assert fa == fb, name
        n_cells += len(fa["cells"])
    assert _checks(forward) == _checks(backward)
    assert len(forward.checks) > 300 and n_cells > len(forward.checks)


@pytest.mark.parametrize("case", ["sample", "edge_policies"])
def test_each_sheet_alone_is_the_same_sheet(cases, case, tmp_path):
    result, settings = cases[case]
    whole = build_wip_workbook(result, settings=settings)
    full = openpyxl.load_workbook(xl.save(whole.workbook, tmp_path / "whole.xlsx"))
    for name in SHEET_ORDER:
        alone = build_wip_workbook(result, settings=settings, sheets=[name])
        assert alone.workbook.sheetnames == [name]
        one = openpyxl.load_workbook(xl.save(alone.workbook, tmp_path / "alone.xlsx"))
        assert fingerprint(one[name]) == fingerprint(full[name]), name
        assert _checks(alone) == _checks(whole, name), name


@pytest.mark.parametrize("case", ["sample", "edge_policies"])
def test_layout_says_where_each_sheet_writes(cases, case):
    """The cells a formula names on another sheet hold what the layout says they hold."""
    result, settings = cases[case]
    basis = basis_of(result, settings)
    layout = plan_layout(result, basis)
    wb = build_wip_workbook(result, settings=settings).workbook
    tables = {CONTRACTS_IN_PROGRESS: layout.contracts_in_progress,
              COMPLETED_CONTRACTS: layout.completed_contracts,
              OVER_UNDER_BILLINGS: layout.over_under_billings,
              JOURNAL_ENTRY: layout.journal_entry,
              RECONCILIATION_FINDINGS: layout.reconciliation_findings}
    headers = {CONTRACTS_IN_PROGRESS: {"cost_to_date": "Cost to date",
                                       "earned_revenue": "Earned revenue",
                                       basis.under_key: "Underbillings net of loss provision"
                                       if basis.net_loss_provision
                                       else "Underbillings (contract asset)"},
               COMPLETED_CONTRACTS: {"total_cost": "Total cost"},
               OVER_UNDER_BILLINGS: {"adj_underbillings": "Underbillings",
                                     "gl_accrued_loss": "Accrued loss (credit balance)"},
               JOURNAL_ENTRY: {"debit": "Debit", "credit": "Credit"},
               RECONCILIATION_FINDINGS: {"difference": "Difference (Procore - ERP)",
                                         "severity": "Severity"}}
    for name, table in tables.items():
        ws = wb[name]
        assert table.sheet == name
        for key, head in headers[name].items():
            assert ws[f"{table.letters[key]}{6}"].value == head, (name, key)
        for job, row in table.rows.items():
            assert ws.cell(row, 1).value == job, (name, job)
        if name != RECONCILIATION_FINDINGS:  # the findings have no totals row
            assert ws.cell(table.total_row, 1).value == "Total", name
        assert table.last_row - table.first_row + 1 == {
            CONTRACTS_IN_PROGRESS: len(result.wip.in_progress),
            COMPLETED_CONTRACTS: len(result.wip.completed),
            OVER_UNDER_BILLINGS: len(table.rows),
            JOURNAL_ENTRY: len(result.wip.journal),
            RECONCILIATION_FINDINGS: len(result.findings)}[name]
    assert set(layout.over_under_billings.rows) >= set(layout.contracts_in_progress.rows)
    # the policy cells hold the settings' policies
    notes = wb[NOTES_AND_POLICIES]
    for key, want in (("pending_policy", basis.include_pending_co_revenue),
                      ("start_threshold", basis.start_threshold),
                      ("net_policy", basis.net_loss_provision)):
        cell = layout.policy_cells[key].split("!")[1].replace("$", "")
        assert notes[cell].value == want, key


def test_the_layout_is_frozen(sample):
    result, settings = sample
    layout = plan_layout(result, basis_of(result, settings))
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.contracts_in_progress = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.contracts_in_progress.total_row = 1
    with pytest.raises(TypeError):
        layout.contracts_in_progress.rows["00101"] = 7


def test_every_sheet_has_a_writer_and_the_names_are_spelled_out():
    assert set(WRITERS) == set(SHEET_ORDER) and len(SHEET_ORDER) == 11
    assert all(" " in n or "-" in n for n in SHEET_ORDER)  # words, not abbreviations


def test_unknown_sheet_is_refused(sample):
    result, settings = sample
    with pytest.raises(ValueError, match="no such sheet"):
        build_wip_workbook(result, settings=settings, sheets=["WIP"])


def test_the_policy_is_read_from_the_settings_of_the_period():
    """Same figures, no settings: refused, never guessed; with the settings: their policies."""
    result, settings = synthetic_result(Policy(net_loss_provision=True))
    with pytest.raises(ValueError, match="settings"):
        basis_of(result)
    assert basis_of(result, settings).net_loss_provision is True
    result.settings = settings  # what compute_period fills
    assert basis_of(result).net_loss_provision is True
    assert basis_of(result).start_threshold == 0.0 and basis_of(result).fade_threshold == 0.03


def test_reports_do_no_accounting():
    """The Excel package takes only named constants (upper case) from ``wip_lib.accounting``: it
    calls no accounting function and builds no accounting object."""
    for path in sorted(EXCEL.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("wip_lib.accounting") for a in node.names), \
                    path.name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "wip_lib.accounting"):
                names = [a.name for a in node.names]
                assert all(n.isupper() for n in names), (path.name, names)
