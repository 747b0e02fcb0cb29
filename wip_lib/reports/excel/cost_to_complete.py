"""Sheet *Cost to complete*: per job, cost code and cost type, the four estimates to complete side
by side, the one used on the schedule, and the overrun flags.

Columns: revised and pending budget; committed, invoiced against commitments, committed remaining
``= MAX(committed - invoiced, 0)`` and uncommitted budget ``= MAX(budget - committed, 0)``; pending
cost changes; cost to date, cost of the last :data:`~wip_lib.accounting.forecast.TREND_PERIODS`
periods and months to completion; the estimates (remaining budget ``MAX(budget - cost, 0)``,
committed remaining + uncommitted, the PM's forecast, the trend ``ROUND(MAX(recent cost, 0) x
months / TREND_PERIODS, 2)``); the estimate used and where it came from; estimated cost at
completion ``= cost + used`` and projected under (+) / over (-) budget. Each job ends in a total
row (``SUBTOTAL``, so the grand total skips it) carrying the job-level flags and two ties to the
schedule of contracts in progress: cost to date and cost to complete less the schedule's.
"""
from __future__ import annotations

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.accounting.forecast import TREND_PERIODS
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import Basis
from wip_lib.reports.excel.cells import BLOCK_FILL, UNDER_FILL, Check, Col
from wip_lib.reports.excel.layout import (BLOCK_ROW, FIRST_ROW, HEAD_ROW, Layout, finish_sheet,
                                          start_sheet)
from wip_lib.reports.excel.sheet_names import COST_TO_COMPLETE


B, K, E, M, U = ("Budget (Procore)", "Commitments (Procore)", "Cost (ERP)",
                 "Estimates to complete", "Used in the WIP schedule")
TIES = "Ties to the schedule (job totals)"
COLUMNS = (
    Col("job_id", "Job", "text", width=9),
    Col("cost_code", "Cost code", "text", width=10),
    Col("cost_type", "Type", "text", width=6),
    Col("description", "Description", "text", width=28),
    Col("revised_budget", "Revised budget", "money", total=True, block=B),
    Col("pending_budget_changes", "Pending budget changes", "money", total=True, block=B),
    Col("committed", "Committed", "money", total=True, block=K),
    Col("invoiced_against_commitments", "Invoiced against commitments", "money", total=True,
        block=K),
    Col("committed_remaining", "Committed remaining", "money",
        "=MAX({committed}-{invoiced_against_commitments},0)", total=True, block=K),
    Col("uncommitted_budget", "Uncommitted budget", "money",
        "=MAX({revised_budget}-{committed},0)", total=True, block=K),
    Col("pending_cost_changes", "Pending cost changes", "money", total=True, block=K),
    Col("cost_to_date", "Cost to date", "money", total=True, block=E),
    Col("cost_last_3_periods", "Cost, last 3 periods", "money", total=True, block=E),
    Col("months_remaining", "Months to completion", "int", block=E),
    Col("etc_remaining_budget", "Remaining budget", "money",
        "=MAX({revised_budget}-{cost_to_date},0)", total=True, block=M),
    Col("etc_committed", "Committed remaining + uncommitted", "money",
        "={committed_remaining}+{uncommitted_budget}", total=True, block=M),
    Col("pm_forecast", "PM forecast to complete", "money", total=True, block=M),
    Col("etc_trend", "Trend (recent cost rate)", "money",
        f"=IF(ISNUMBER({{months_remaining}}),ROUND(MAX({{cost_last_3_periods}},0)"
        f"*{{months_remaining}}/{TREND_PERIODS},2),{{etc_remaining_budget}})", total=True,
        block=M),
    Col("etc_used", "Cost to complete used", "money", total=True, block=U),
    Col("etc_source", "From", "text", width=18, block=U),
    Col("eac_used", "Estimated cost at completion", "money", "={cost_to_date}+{etc_used}",
        total=True, block=U),
    Col("variance_used", "Projected under (+) / over (-) budget", "money",
        "={revised_budget}-{eac_used}", total=True, block=U),
    Col("flags", "Flags", "text", width=24, block="Overrun flags"),
    Col("flag_impact", "Dollar impact", "money", block="Overrun flags"),
    Col("flag_messages", "What the flags say", "text", width=80, block="Overrun flags"),
    Col("tie_ctd", "Cost to date less WIP schedule", "money", "{t_ctd}", block=TIES),
    Col("tie_etc", "Cost to complete less WIP schedule", "money", "{t_etc}", block=TIES),
)


def _text(v) -> str:
    return "" if xl.is_missing(v) else str(v)


def _flags_by_code(flags: pd.DataFrame | None) -> dict[tuple, list]:
    """``(job, cost code, cost type) -> flag rows``; job-level flags have blank code and type."""
    keyed: dict[tuple, list] = {}
    if flags is None or not len(flags):
        return keyed
    f = flags.assign(cost_code=flags["cost_code"].astype("string").fillna(""),
                     cost_type=flags["cost_type"].astype("string").fillna(""),
                     job_id=flags["job_id"].astype("string"))
    for row in f.itertuples(index=False):
        keyed.setdefault((row.job_id, row.cost_code, row.cost_type), []).append(row)
    return keyed


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the cost-to-complete sheet: the forecast's rows grouped by job, job totals, ties."""
    checks = xl.check_list()
    start_sheet(ws, basis, "Cost to complete by job and cost code")
    fc = result.forecast.reset_index(drop=True)
    keyed = _flags_by_code(result.flags)

    def flag_fields(key) -> dict:
        rows = keyed.get(key, [])
        if not rows:
            return {"flags": "", "flag_impact": None, "flag_messages": ""}
        return {"flags": ", ".join(str(r.flag) for r in rows),
                "flag_impact": sum(int(r.dollar_impact) for r in rows),
                "flag_messages": " ".join(str(r.message) for r in rows)}

    cols = list(COLUMNS)
    L = xl.column_letters(cols)
    xl.write_header(ws, cols, block_row=BLOCK_ROW, head_row=HEAD_ROW)
    ip = result.wip.in_progress
    schedule = layout.contracts_in_progress
    ip_jobs = ip["job_id"].astype("string").tolist()
    ip_ctd = dict(zip(ip_jobs, ip["cost_to_date"].tolist()))
    ip_etc = dict(zip(ip_jobs, (ip["est_cost_to_complete_given"]
                                if "est_cost_to_complete_given" in ip
                                else ip["est_cost_to_complete"]).tolist()))
    names = {}
    for frame in (result.wip.schedule, result.wip.completed):
        if "job_name" in frame:
            names.update(dict(zip(frame["job_id"].astype("string"), frame["job_name"])))
    row = FIRST_ROW
    job_rows: list[int] = []
    fc_jobs = fc["job_id"].astype("string")
    # Each job's rows, in the forecast's order, made into records one job at a time: all at
    # once, the records of 400,000 cost codes (2,000 jobs) were held beside the cells.
    groups = fc.groupby(fc_jobs, sort=False).indices
    summed = [c.key for c in cols if c.total] + ["cost_to_date", "etc_used"]
    job_sums = (fc.groupby(fc_jobs, sort=False)[list(dict.fromkeys(summed))]
                .sum().to_dict("index"))
    later = xl.saving_only()

    def job_rows_of(job: str, first: int) -> int:
        recs = []
        for rec in xl.records(fc.take(groups[job])):
            rec.update(flag_fields((str(job), _text(rec["cost_code"]), _text(rec["cost_type"]))))
            rec["_skip"] = {"tie_ctd", "tie_etc"}
            recs.append(rec)
        last = xl.write_records(ws, recs, cols, first_row=first, checks=checks)
        if later:  # shaded with the rows, as shade_inputs below does the others
            xl.shade_inputs(ws, cols, first, last)
        return last

    for job in sorted(groups):
        sums = job_sums[job]
        if later:  # made as the file is written: one job's cells held, not 8.7 million
            last = row + len(groups[job]) - 1
            xl.later_rows(ws, row, last, lambda job=job, first=row: job_rows_of(job, first),
                          cols)
        else:
            last = job_rows_of(job, row)
        sub = last + 1
        job_rows.append(sub)
        # the job's total row
        head = {"job_id": job, "cost_code": "Job total", "cost_type": "",
                "description": names.get(job, ""), **flag_fields((str(job), "", ""))}
        for k, c in enumerate(cols, start=1):
            cell = ws.cell(sub, k)
            if c.total:
                cell.value = f"=SUBTOTAL(9,{L[c.key]}{row}:{L[c.key]}{last})"
                checks.append(Check(COST_TO_COMPLETE, cell.coordinate, "money",
                                    int(sums[c.key]), f"job {job} {c.header}"))
            elif c.kind == "text" and c.key in head:
                xl.set_text(cell, head[c.key])
            elif c.key == "flag_impact" and head["flag_impact"] is not None:
                cell.value = head["flag_impact"] / 100
            cell.font = xl.BOLD
            cell.fill = BLOCK_FILL
            xl.apply_format(cell, c.kind)
        if schedule.holds(job):
            etc_ip = ip_etc[job]
            for key, ref, want in (
                    ("tie_ctd", schedule.cell("cost_to_date", job),
                     int(sums["cost_to_date"]) - int(ip_ctd[job])),
                    ("tie_etc", schedule.cell("est_cost_to_complete_given", job),
                     None if xl.is_missing(etc_ip)
                     else int(sums["etc_used"]) - int(etc_ip))):
                if want is None:
                    continue
                cell = ws.cell(sub, list(L).index(key) + 1)
                src_col = "cost_to_date" if key == "tie_ctd" else "etc_used"
                cell.value = f"={L[src_col]}{sub}-{ref}"
                checks.append(Check(COST_TO_COMPLETE, cell.coordinate, "money", want,
                                    f"job {job} {key}"))
        row = sub + 1
    last_row = row - 1
    total_row = row
    xl.set_text(ws.cell(total_row, 1), "Total")
    for k, c in enumerate(cols, start=1):
        cell = ws.cell(total_row, k)
        if c.total and last_row >= FIRST_ROW:
            cell.value = f"=SUBTOTAL(9,{L[c.key]}{FIRST_ROW}:{L[c.key]}{last_row})"
            checks.append(Check(COST_TO_COMPLETE, cell.coordinate, "money",
                                int(fc[c.key].sum()), f"total {c.header}"))
        cell.font = xl.BOLD
        cell.border = xl.TOTAL_BORDER
        xl.apply_format(cell, c.kind)
    if last_row >= FIRST_ROW:
        r = FIRST_ROW
        xl.highlight_rows(ws, FIRST_ROW, last_row, len(cols),
                          f'AND(${L["cost_code"]}{r}<>"Job total",LEN(${L["flags"]}{r})>0)',
                          UNDER_FILL)
    if later:  # the jobs' rows are shaded as they are made; the fill joins the workbook now
        xl.input_fill(ws)
    else:
        xl.shade_inputs(ws, cols, FIRST_ROW, last_row, skip_rows=job_rows)
    xl.note(ws, 4, "Each job's rows end in a job total (SUBTOTAL); the grand total skips them. "
            "Flagged cost codes are highlighted; job-level flags sit on the job total row.")
    finish_sheet(ws, basis, freeze=f"E{FIRST_ROW}", cols=cols)
    return checks
