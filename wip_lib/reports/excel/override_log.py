"""Sheet *Override log*: every controller override of the cost to complete for the period, the
superseded ones too, beside the PM's forecast it replaced.

One row per override, in the order entered (the period's overrides file is an append-only log):
when (to the second), who, job, cost code and cost type (blank: all codes / all types of the job),
the PM's forecast to complete of the override's scope and the override (inputs), the difference
``= override - PM forecast`` (a formula; positive: the controller expects more cost than the PM),
whether it is *applied* or *superseded* by a later row for the same job, code and type, why, and
where it was entered (file and row). The figures are the period's audit trail
(``result.override_audit``, :func:`wip_lib.accounting.overrides.audit_trail`); the report only
lays them out. Who, why and the file name are text from a person: always written as text.
"""
from __future__ import annotations

from openpyxl.styles import Alignment, Font
from openpyxl.formatting.rule import FormulaRule
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import Basis
from wip_lib.reports.excel.cells import Check, Col
from wip_lib.reports.excel.layout import FIRST_ROW, HEAD_ROW, Layout, finish_sheet, start_sheet

ALL_CODES, ALL_TYPES = "(all codes)", "(all types)"
SUPERSEDED = "superseded"

COLUMNS = (
    Col("when", "When", "datetime", width=19),
    Col("who", "Who", "text", width=18),
    Col("job_id", "Job", "text", width=9),
    Col("job_name", "Job name", "text", width=26),
    Col("cost_code", "Cost code", "text", width=11),
    Col("cost_type", "Type", "text", width=10),
    Col("pm_forecast", "PM forecast to complete", "money"),
    Col("override", "Override (cost to complete)", "money"),
    Col("difference", "Difference (override - PM)", "money", "={override}-{pm_forecast}"),
    Col("status", "Status", "text", width=11),
    Col("why", "Why", "text", width=48),
    Col("entered", "Entered in", "text", width=24),
)


def rows(result) -> list[dict]:
    """The audit trail's rows as the sheet writes them (scope words for blank code and type)."""
    audit = result.override_audit
    if audit is None or len(audit) == 0 or "who" not in audit:
        return []
    names = {}
    for frame in (result.wip.schedule, result.wip.completed):
        if "job_name" in frame:
            names.update(dict(zip(frame["job_id"].astype("string"), frame["job_name"])))
    out = []
    for rec in xl.records(audit.reset_index(drop=True)):
        job = "" if xl.is_missing(rec.get("job_id")) else str(rec["job_id"])
        code = "" if xl.is_missing(rec.get("cost_code")) else str(rec["cost_code"])
        ctype = "" if xl.is_missing(rec.get("cost_type")) else str(rec["cost_type"])
        where = "" if xl.is_missing(rec.get("file")) else str(rec["file"])
        if not xl.is_missing(rec.get("row")):
            where = f"{where} row {int(rec['row'])}".strip()
        out.append({**rec, "job_id": job, "job_name": names.get(job, ""),
                    "cost_code": code or ALL_CODES, "cost_type": ctype or ALL_TYPES,
                    "entered": where})
    return out


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the override log (or a line saying there is none)."""
    checks = xl.check_list()
    start_sheet(ws, basis, "Controller overrides of the cost to complete")
    cols = list(COLUMNS)
    recs = rows(result)
    xl.write_header(ws, cols, block_row=None, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=checks)
    L = xl.column_letters(cols)
    for r in range(FIRST_ROW, last + 1):
        ws[f"{L['why']}{r}"].alignment = Alignment(wrap_text=True, vertical="top")
    if last >= FIRST_ROW:
        ws.conditional_formatting.add(
            f"A{FIRST_ROW}:{L[cols[-1].key]}{last}",
            FormulaRule(formula=[f'${L["status"]}{FIRST_ROW}="{SUPERSEDED}"'],
                        font=Font(color="808080", italic=True)))
    xl.shade_inputs(ws, cols, FIRST_ROW, last)
    xl.note(ws, 4, "Every override entered for the period, in order; a later row for the same job, "
            "code and type supersedes an earlier one (shown grey). The schedule uses the applied "
            "ones; the PM's forecast stays on the cost-to-complete sheet.")
    if last < FIRST_ROW:
        xl.note(ws, FIRST_ROW + 1, "No controller overrides this period: every cost to complete "
                "is the PM's forecast (Procore).")
    finish_sheet(ws, basis, freeze=f"A{FIRST_ROW}", title_from=HEAD_ROW, cols=cols,
                 title_cols=0)
    return checks

