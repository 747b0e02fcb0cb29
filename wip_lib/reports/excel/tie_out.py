"""Sheet *Tie-out*: per job, Procore's job-to-date cost against the ERP's, and how much of the
variance the findings explain.

Per job: Procore job-to-date cost and ERP cost through the period (inputs), the variance
``= Procore - ERP``, the part explained by the findings (``SUMPRODUCT`` of the job's differences
on the findings sheet whose check explains job cost), the unexplained rest (highlighted when not
zero), the counts of error, warning and info findings (formulas over the findings sheet), and the
WIP schedule's cost to date less the ERP's (a reference to the schedule, or to the completed
contracts' total cost; zero, since the schedule's cost is the ERP's).
"""
from __future__ import annotations

import re

from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import Basis
from wip_lib.reports.excel.cells import LOSS_FILL, Check, Col
from wip_lib.reports.excel.layout import FIRST_ROW, HEAD_ROW, Layout, finish_sheet, start_sheet
from wip_lib.reports.excel.reconciliation_findings import EXPLAINS

COLUMNS = (
    Col("job_id", "Job", "text", width=9),
    Col("job_name", "Job name", "text", width=30),
    Col("procore_total", "Procore job-to-date cost", "money", total=True),
    Col("erp_total", "ERP cost through the period", "money", total=True),
    Col("variance", "Variance (Procore - ERP)", "money", "={procore_total}-{erp_total}",
        total=True),
    Col("explained", "Explained by findings", "money", "{f_explained}", total=True),
    Col("unexplained", "Unexplained", "money", "={variance}-{explained}", total=True),
    Col("errors", "Errors", "count", "{f_errors}", total=True, width=8),
    Col("warnings", "Warnings", "count", "{f_warnings}", total=True, width=9),
    Col("info", "Info", "count", "{f_info}", total=True, width=7),
    Col("findings", "Findings", "count", "={errors}+{warnings}+{info}", total=True, width=9),
    Col("wip_less_erp", "WIP schedule cost to date less ERP", "money", "{f_wip}",
        total=True),
)


def _same_row(template: str, row: int, letters: dict[str, str]) -> str:
    """Resolve same-row ``{key}`` names inside a per-row reference (the reference itself is then
    substituted into the column's ``{f_...}`` template)."""
    return re.sub(r"\{([a-z_0-9]+)\}", lambda m: f"{letters[m.group(1)]}{row}", template)


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the tie-out; counts and explained amounts are formulas over the findings sheet."""
    checks = xl.check_list()
    start_sheet(ws, basis, "Tie-out: Procore job-to-date cost against the ERP")
    schedule, completed = layout.contracts_in_progress, layout.completed_contracts
    findings = layout.reconciliation_findings
    sched = result.wip.schedule
    names = dict(zip(sched["job_id"].astype("string"), sched["job_name"])) \
        if "job_name" in sched else {}
    ctd = dict(zip(sched["job_id"].astype("string"), sched["cost_to_date"].astype("int64")))
    recs = []
    for rec in xl.records(result.tieout.reset_index(drop=True)):
        job = str(rec["job_id"])
        rec["job_name"] = names.get(job, "")
        if job in ctd and (schedule.holds(job) or completed.holds(job)):
            rec["wip_less_erp"] = int(ctd[job]) - int(rec["erp_total"])
        else:
            rec["_skip"] = {"wip_less_erp"}
        if findings.empty:
            rec["_values"] = {"explained", "errors", "warnings", "info"}
        recs.append(rec)
    cols = list(COLUMNS)
    letters = xl.column_letters(cols)

    def refs(i, rec):
        r = FIRST_ROW + i
        job = str(rec["job_id"])
        out = {}
        if not findings.empty:
            jobs = findings.column("job_id")
            out["f_explained"] = (f'=SUMPRODUCT(({jobs}=A{r})*({findings.column("explains")}='
                                  f'"{EXPLAINS}")*{findings.column("difference")})')
            for key, sev in (("f_errors", "error"), ("f_warnings", "warning"),
                             ("f_info", "info")):
                out[key] = f'=SUMPRODUCT(({jobs}=A{r})*({findings.column("severity")}="{sev}"))'
        if schedule.holds(job):
            out["f_wip"] = f"={schedule.cell('cost_to_date', job)}-{{erp_total}}"
        elif completed.holds(job):
            out["f_wip"] = f"={completed.cell('total_cost', job)}-{{erp_total}}"
        return {k: _same_row(v, r, letters) for k, v in out.items()}

    xl.write_header(ws, cols, block_row=None, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=checks, refs=refs)
    total_row = max(last, FIRST_ROW - 1) + 1
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=checks)
    if last >= FIRST_ROW:
        L, r = letters, FIRST_ROW
        xl.highlight_rows(ws, FIRST_ROW, last, len(cols), f"${L['unexplained']}{r}<>0", LOSS_FILL)
    xl.shade_inputs(ws, cols, FIRST_ROW, last)
    xl.note(ws, 4, "Explained, errors, warnings and info are formulas over the findings sheet; an "
            "unexplained variance is highlighted.")
    finish_sheet(ws, basis, freeze=f"C{FIRST_ROW}", title_from=HEAD_ROW, cols=cols)
    return checks
