"""Sheet *Fade and gain*: each job's estimated gross profit against the prior period and the bid.

Per job in progress: revised contract, estimated gross profit and margin (references to the
schedule of contracts in progress), the prior period's estimated gross profit (input) and margin,
fade (-) or gain (+) in dollars (``EGP - prior EGP``) and in points, the bid gross profit
(``original contract - original estimated cost``) and margin, fade or gain against the bid, the
period's gross profit (a reference) and the margin-fade flag. Rows whose margin fell more than the
company's fade threshold (``fade_threshold_points``) are highlighted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import Basis
from wip_lib.reports.excel.cells import LOSS_FILL, Check, Col
from wip_lib.reports.excel.layout import (BLOCK_ROW, FIRST_ROW, HEAD_ROW, Layout, finish_sheet,
                                          start_sheet)

#: Schedule columns this sheet shows by reference (``{ip_KEY}`` in its formulas).
FROM_SCHEDULE = ("contract_revised", "est_gross_profit", "est_gp_pct", "est_gp_pct_prior",
                 "contract_original", "est_cost_original", "gross_profit_period")


def frame(result) -> pd.DataFrame:
    """The jobs in progress, with the margin-fade flag messages of each job joined."""
    ip = result.wip.in_progress.reset_index(drop=True)
    for c in ("est_gross_profit_prior", "fade", "est_gross_profit_bid", "fade_vs_bid"):
        if c not in ip:
            ip[c] = pd.array([pd.NA] * len(ip), dtype="Int64")
    for c in ("fade_points", "est_gp_pct_bid", "fade_vs_bid_points", "est_gp_pct_prior"):
        if c not in ip:
            ip[c] = np.nan
    flags = result.flags
    fade_msgs = {}
    if flags is not None and len(flags) and "flag" in flags:
        mf = flags[flags["flag"].astype("string") == "margin_fade"]
        for job, g in mf.groupby(mf["job_id"].astype("string"), sort=True):
            fade_msgs[str(job)] = " ".join(g["message"].astype("string").fillna(""))
    ip["fade_flag"] = pd.array([fade_msgs.get(str(j), "") for j in ip["job_id"]],
                               dtype="string")
    return ip


def columns(ip: pd.DataFrame) -> list[Col]:
    def g(expr: str, *names: str) -> str:
        """Guard ``expr`` with ISNUMBER on ``names`` when any of those figures is missing."""
        need = [n for n in names if n in ip and ip[n].isna().any()]
        if not need:
            return "=" + expr
        conds = ",".join(f"ISNUMBER({{{n}}})" for n in need)
        cond = f"AND({conds})" if len(need) > 1 else conds
        return f'=IF({cond},{expr},"")'

    def src(key: str, guard: bool) -> str:
        return f'=IF(ISNUMBER({{ip_{key}}}),{{ip_{key}}},"")' if guard else f"={{ip_{key}}}"

    B1, B2, B3 = "Estimate at period end", "Against the prior period", "Against the bid"
    return [
        Col("job_id", "Job", "text", width=9),
        Col("job_name", "Job name", "text", width=30),
        Col("contract_revised", "Revised contract", "money", src("contract_revised", False),
            total=True, block=B1),
        Col("est_gross_profit", "Estimated gross profit", "money",
            src("est_gross_profit", bool(ip["est_gross_profit"].isna().any())), total=True,
            block=B1),
        Col("est_gp_pct", "Est. GP %", "pct2", src("est_gp_pct", True), block=B1,
            total_formula='=IF({contract_revised}<>0,{est_gross_profit}/{contract_revised},"")'),
        Col("est_gross_profit_prior", "Prior est. gross profit", "money", total=True, block=B2),
        Col("est_gp_pct_prior", "Prior est. GP %", "pct2", src("est_gp_pct_prior", True),
            block=B2),
        Col("fade", "Fade (-) / gain (+)", "money",
            g("{est_gross_profit}-{est_gross_profit_prior}", "est_gross_profit",
              "est_gross_profit_prior"), total=True, block=B2),
        Col("fade_points", "Fade / gain (points)", "pct2",
            g("{est_gp_pct}-{est_gp_pct_prior}", "est_gp_pct", "est_gp_pct_prior"), block=B2),
        Col("contract_original", "Original contract", "money", src("contract_original", False),
            total=True, block=B3),
        Col("est_cost_original", "Original estimated cost", "money",
            src("est_cost_original", bool(ip["est_cost_original"].isna().any())), total=True,
            block=B3),
        Col("est_gross_profit_bid", "Bid gross profit", "money",
            g("{contract_original}-{est_cost_original}", "est_cost_original"), total=True,
            block=B3),
        Col("est_gp_pct_bid", "Bid GP %", "pct2",
            g("IF({contract_original}<>0,{est_gross_profit_bid}/{contract_original},\"\")",
              "est_gross_profit_bid"), block=B3),
        Col("fade_vs_bid", "Fade / gain vs bid", "money",
            g("{est_gross_profit}-{est_gross_profit_bid}", "est_gross_profit",
              "est_gross_profit_bid"), total=True, block=B3),
        Col("fade_vs_bid_points", "Fade / gain vs bid (points)", "pct2",
            g("{est_gp_pct}-{est_gp_pct_bid}", "est_gp_pct", "est_gp_pct_bid"), block=B3),
        Col("gross_profit_period", "Gross profit this period", "money",
            src("gross_profit_period", False), total=True, block="Period"),
        Col("fade_flag", "Margin fade flag", "text", width=80, block="Review"),
    ]


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the fade-and-gain sheet; schedule figures are references to *Contracts in progress*."""
    checks = xl.check_list()
    start_sheet(ws, basis, "Gross profit fade and gain")
    ip = frame(result)
    cols = columns(ip)
    recs = xl.records(ip)
    schedule = layout.contracts_in_progress

    def refs(i, rec):
        job = str(rec["job_id"])
        return {f"ip_{k}": schedule.cell(k, job) for k in FROM_SCHEDULE}

    xl.write_header(ws, cols, block_row=BLOCK_ROW, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=checks, refs=refs)
    total_row = max(last, FIRST_ROW - 1) + 1
    tp = int(ip["contract_revised"].sum())
    egp = ip["est_gross_profit"].astype("Int64").sum()
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=checks,
                    expected={"est_gp_pct": (int(egp) / tp) if tp else None})
    L = xl.column_letters(cols)
    t = basis.fade_threshold
    if last >= FIRST_ROW:
        r = FIRST_ROW
        xl.highlight_rows(ws, FIRST_ROW, last, len(cols),
                          f"OR(AND(ISNUMBER(${L['fade_points']}{r}),${L['fade_points']}{r}<-{t}),"
                          f"AND(ISNUMBER(${L['fade_vs_bid_points']}{r}),"
                          f"${L['fade_vs_bid_points']}{r}<-{t}))", LOSS_FILL)
    xl.shade_inputs(ws, cols, FIRST_ROW, last)
    xl.note(ws, 4, f"Highlighted: margin down more than {t:.1%} points against the prior period "
            "or the bid. Contract, estimate and bid figures are references to the schedule of "
            "contracts in progress; the prior estimated gross profit is an input.")
    finish_sheet(ws, basis, freeze=f"C{FIRST_ROW}", cols=cols)
    return checks
