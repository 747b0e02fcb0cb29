"""Sheet *Reconciliation findings*: every finding of the Procore-ERP reconciliation of the period.

Per finding: check, severity, job, cost code, reference (vendor, invoice, change order), the
Procore and ERP amounts (inputs), the difference ``= Procore - ERP`` (a formula where both amounts
exist), whether the check explains the job-cost variance (the checks
:func:`wip_lib.reconcile.core.job_cost_checks` names), days waiting, the action and the detail.
Errors are highlighted red, warnings yellow. The tie-out sheet counts these rows per job.
"""
from __future__ import annotations

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reconcile.core import job_cost_checks
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import Basis
from wip_lib.reports.excel.cells import LOSS_FILL, UNDER_FILL, Check, Col
from wip_lib.reports.excel.layout import (FIRST_ROW, HEAD_ROW, Layout, Table, finish_sheet,
                                          start_sheet)
from wip_lib.reports.excel.sheet_names import RECONCILIATION_FINDINGS

COLUMNS = (
    Col("check", "Check", "text", width=22),
    Col("severity", "Severity", "text", width=9),
    Col("job_id", "Job", "text", width=9),
    Col("cost_code", "Cost code", "text", width=10),
    Col("reference", "Reference", "text", width=24),
    Col("procore_amount", "Procore", "money"),
    Col("erp_amount", "ERP", "money"),
    Col("difference", "Difference (Procore - ERP)", "money", "={procore_amount}-{erp_amount}"),
    Col("explains", "Explains job-cost variance", "text", width=11),
    Col("days_waiting", "Days waiting", "int", width=9),
    Col("action", "Action", "text", width=60),
    Col("detail", "Detail", "text", width=80),
)
#: The "explains" cell of a finding that explains part of the job-cost variance.
EXPLAINS = "yes"


def table(result, basis: Basis) -> Table:
    """One row per finding, in the findings' order (no totals row is written)."""
    return Table.of(RECONCILIATION_FINDINGS, COLUMNS, n_rows=len(result.findings))


def _rows(findings: pd.DataFrame) -> list[dict]:
    cost_checks = set(job_cost_checks())
    recs = []
    for rec in xl.records(findings.reset_index(drop=True)):
        rec["explains"] = EXPLAINS if str(rec.get("check")) in cost_checks else ""
        if xl.is_missing(rec.get("procore_amount")) or xl.is_missing(rec.get("erp_amount")):
            rec["_values"] = {"difference"}
        recs.append(rec)
    return recs


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the findings."""
    checks = xl.check_list()
    start_sheet(ws, basis, "Reconciliation findings: Procore against the ERP")
    recs = _rows(result.findings)
    cols = list(COLUMNS)
    xl.write_header(ws, cols, block_row=None, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=checks)
    L = xl.column_letters(cols)
    if last >= FIRST_ROW:
        r = FIRST_ROW
        xl.highlight_rows(ws, FIRST_ROW, last, len(cols), f'${L["severity"]}{r}="error"',
                          LOSS_FILL)
        xl.highlight_rows(ws, FIRST_ROW, last, len(cols), f'${L["severity"]}{r}="warning"',
                          UNDER_FILL)
    xl.shade_inputs(ws, cols, FIRST_ROW, last)
    xl.note(ws, 4, "Errors highlighted red, warnings yellow. The tie-out sheet counts these rows "
            "and sums the job-cost differences per job.")
    if last < FIRST_ROW:
        xl.note(ws, FIRST_ROW + 1, "No findings: Procore and the ERP agree.")
    # Printed with check, severity and job on every page (the action and detail are long).
    finish_sheet(ws, basis, freeze=f"C{FIRST_ROW}", title_from=HEAD_ROW, cols=cols,
                 title_cols=3)
    return checks
