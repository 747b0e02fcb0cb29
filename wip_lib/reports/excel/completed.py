"""Sheet *Completed contracts*: the jobs completed in this fiscal year.

Per job: final contract and total cost (inputs) and total gross profit; revenue and cost recognised
in prior fiscal years (inputs); this fiscal year's figures (final less prior years, formulas);
this period's figures (final less what was recognised to the prior period end, taken from the
closed prior figures on the schedule: cost recognised = cost to date + loss provision); billed to
date; the estimated gross profit at the last report and the fade or gain at close.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import Basis
from wip_lib.reports.excel.cells import Check, Col
from wip_lib.reports.excel.layout import (BLOCK_ROW, FIRST_ROW, HEAD_ROW, Layout, Table,
                                          finish_sheet, start_sheet)
from wip_lib.reports.excel.sheet_names import COMPLETED_CONTRACTS


def frame(result) -> pd.DataFrame:
    """The completed-contracts schedule with this period's prior figures of each job beside it."""
    comp = result.wip.completed.reset_index(drop=True)
    sched = result.wip.schedule
    prior = sched.set_index(sched["job_id"].astype("string"))
    jobs = comp["job_id"].astype("string")

    def col_of(name, default=0):
        if name in prior:
            return jobs.map(prior[name]).to_numpy()
        return np.full(len(comp), default)

    comp = comp.assign(
        earned_revenue_prior=col_of("earned_revenue_prior"),
        cost_of_revenue_prior=(pd.Series(col_of("cost_to_date_prior")).astype("Int64")
                               + pd.Series(col_of("loss_provision_prior")).astype("Int64")
                               ).to_numpy(),
        revenue_period=col_of("revenue_period"),
        cost_period=col_of("cost_period"),
        gross_profit_period=col_of("gross_profit_period"),
    )
    if "est_gross_profit_last" not in comp:
        comp["est_gross_profit_last"] = pd.array([pd.NA] * len(comp), dtype="Int64")
        comp["fade_at_close"] = pd.array([pd.NA] * len(comp), dtype="Int64")
    if "job_name" not in comp:
        comp["job_name"] = ""
    return comp


def columns(comp: pd.DataFrame) -> list[Col]:
    guard_last = bool(comp["est_gross_profit_last"].isna().any())
    fade_f = ('=IF(ISNUMBER({est_gross_profit_last}),{total_gross_profit}'
              '-{est_gross_profit_last},"")' if guard_last
              else "={total_gross_profit}-{est_gross_profit_last}")
    B1, B2, B3, B4 = "Contract", "Prior fiscal years", "This fiscal year", "This period"
    return [
        Col("job_id", "Job", "text", width=9),
        Col("job_name", "Job name", "text", width=30),
        Col("completion_date", "Completed", "date", width=11),
        Col("final_contract", "Final contract", "money", total=True, block=B1),
        Col("total_cost", "Total cost", "money", total=True, block=B1),
        Col("total_gross_profit", "Total gross profit", "money",
            "={final_contract}-{total_cost}", total=True, block=B1),
        Col("revenue_prior_years", "Revenue", "money", total=True, block=B2),
        Col("cost_prior_years", "Cost", "money", total=True, block=B2),
        Col("gp_prior_years", "Gross profit", "money", "={revenue_prior_years}-{cost_prior_years}",
            total=True, block=B2),
        Col("revenue_this_year", "Revenue", "money", "={final_contract}-{revenue_prior_years}",
            total=True, block=B3),
        Col("cost_this_year", "Cost", "money", "={total_cost}-{cost_prior_years}", total=True,
            block=B3),
        Col("gp_this_year", "Gross profit", "money", "={total_gross_profit}-{gp_prior_years}",
            total=True, block=B3),
        Col("earned_revenue_prior", "Revenue recognised to prior period end", "money",
            total=True, block=B4),
        Col("cost_of_revenue_prior", "Cost recognised to prior period end", "money", total=True,
            block=B4),
        Col("revenue_period", "Revenue", "money", "={final_contract}-{earned_revenue_prior}",
            total=True, block=B4),
        Col("cost_period", "Cost", "money", "={total_cost}-{cost_of_revenue_prior}", total=True,
            block=B4),
        Col("gross_profit_period", "Gross profit", "money", "={revenue_period}-{cost_period}",
            total=True, block=B4),
        Col("billed_to_date", "Billed to date", "money", total=True, block="Close-out"),
        Col("est_gross_profit_last", "Est. gross profit at last report", "money", total=True,
            block="Close-out"),
        Col("fade_at_close", "Fade/gain at close", "money", fade_f, total=True,
            block="Close-out"),
    ]


def table(result, basis: Basis) -> Table:
    comp = frame(result)
    return Table.of(COMPLETED_CONTRACTS, columns(comp), [str(j) for j in comp["job_id"]])


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the schedule of contracts completed this fiscal year."""
    checks = xl.check_list()
    start_sheet(ws, basis, "Schedule of contracts completed this fiscal year")
    comp = frame(result)
    cols = columns(comp)
    recs = xl.records(comp)
    xl.write_header(ws, cols, block_row=BLOCK_ROW, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=checks)
    total_row = max(last, FIRST_ROW - 1) + 1
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=checks)
    xl.shade_inputs(ws, cols, FIRST_ROW, last)
    if not recs:
        xl.note(ws, total_row + 2, "No contract was completed in this fiscal year.")
    finish_sheet(ws, basis, freeze=f"C{FIRST_ROW}", cols=cols)
    return checks
