"""Sheet *Contracts in progress*: the CPA four-block schedule, one row per job in progress.

Blocks: total contract | inception to date (with percent billed ``= billed to date / revised
contract``) | at period end | for the period, then retainage, year to date, the flag, the job
(project manager, start and completion dates, when the period carries them), the closed prior
figures (inputs) and the notes. Printed through the job block, split into pages between blocks. Inputs are values; every
derived figure is a formula that implements the rule of :mod:`wip_lib.accounting.recognition`
(percent complete ``p = (CTD - M) / (EAC - M)``, earned revenue ``ROUND((TP - M) * p, 2) + M``,
loss provision ``(ER - CTD) - (TP - EAC)`` when ``EAC > TP``, over/under ``B - ER`` per job) and
the catch-up of :mod:`wip_lib.accounting.catch_up` (period amounts = now less the closed prior
figures). A formula grows a guard only when the data needs it (a missing estimate, a negative cost
to complete, uninstalled materials) or the policy asks for it (start threshold, percent rounded
first); the pending-CO and threshold policies are cells on the notes sheet.

A job whose revenue does not follow the fixed-price formula (time-and-materials, cost-plus or a
GMP contract within its cap: cost plus the fee; a letter of intent: revenue = cost until priced,
or its estimated contract value) carries the contract, estimate, percent complete, earned revenue
and provision of :mod:`wip_lib.accounting.recognition` as values on its row (:func:`value_rows`),
the flag saying which rule applies; every figure derived from them stays a formula. So does the
pending change-order revenue of a job whose policy is set change order by change order.
"""
from __future__ import annotations

import pandas as pd
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.accounting.recognition import PCT_ROUND_PLACES
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.basis import LARGE_UNDERBILLING, Basis
from wip_lib.reports.excel.cells import LOSS_FILL, UNDER_FILL, Check, Col
from wip_lib.reports.excel.layout import (BLOCK_ROW, FIRST_ROW, HEAD_ROW, Layout, Table,
                                          finish_sheet, start_sheet)
from wip_lib.reports.excel.sheet_names import CONTRACTS_IN_PROGRESS

T_CONTRACT, T_ITD, T_END, T_PERIOD, T_YTD = ("Total contract", "Inception to date",
                                             "At period end", "For the period", "Year to date")
T_PRIOR = "Prior figures (closed; inputs)"


T_JOB = "Job"
#: Facts of the job shown beside its figures when the period carries them (``result.jobs``, from
#: Procore's projects): column -> (header, kind, width).
JOB_FACTS = {"project_manager": ("Project manager", "text", 18),
             "start_date": ("Start", "date", 11),
             "completion_date": ("Completion (scheduled until done)", "date", 13)}


def job_facts(result) -> pd.DataFrame:
    """``result.jobs`` (one row per job: project manager, start and completion dates, as Procore
    holds them) when the computed period carries it, else an empty frame."""
    jobs = getattr(result, "jobs", None)
    if not isinstance(jobs, pd.DataFrame) or "job_id" not in jobs:
        return pd.DataFrame({"job_id": pd.Series(dtype="string")})
    return jobs.assign(job_id=jobs["job_id"].astype("string")).drop_duplicates("job_id")
#: Formula columns written as values on a row whose rule is not the fixed-price formula.
RULE_VALUES = frozenset({"contract_revised", "est_total_cost", "est_gross_profit", "est_gp_pct",
                         "pct_complete", "earned_revenue", "loss_provision"})


def value_rows(ip: pd.DataFrame, basis: Basis) -> list[frozenset]:
    """Per job row, the formula columns written as the recognition's values (module docstring):
    :data:`RULE_VALUES` on a cost-plus or letter-of-intent job; the included pending change
    orders where they differ from ``IF(pending policy, pending change orders, 0)``."""
    rule = pd.Series(False, index=ip.index)
    if "recognition_basis" in ip:
        rule |= (ip["recognition_basis"].astype("string") == "cost_plus").fillna(False)
    if "flag" in ip:
        rule |= ip["flag"].astype("string").fillna("").str.contains("letter_of_intent")
    pending = ip["change_orders_pending"].astype("Int64").fillna(0) if \
        "change_orders_pending" in ip else pd.Series(0, index=ip.index, dtype="Int64")
    formula = pending if basis.include_pending_co_revenue else pending * 0
    differs = (ip["change_orders_pending_included"].astype("Int64").fillna(0) != formula) if \
        "change_orders_pending_included" in ip else pd.Series(False, index=ip.index)
    out = []
    for r, d in zip(rule.to_numpy(bool), differs.fillna(False).to_numpy(bool)):
        out.append((RULE_VALUES if r else frozenset())
                   | (frozenset({"change_orders_pending_included"}) if d else frozenset()))
    return out


def frame(result) -> pd.DataFrame:
    """The jobs in progress in schedule order, with the cost to complete as given (the input),
    percent billed (``billed to date / revised contract``; blank for a zero contract: the figure
    the formula must give) and the job facts the period carries (the schedule's completion date
    first)."""
    ip = result.wip.in_progress.reset_index(drop=True)
    if "est_cost_to_complete_given" not in ip:
        ip = ip.assign(est_cost_to_complete_given=ip["est_cost_to_complete"])
    tp = ip["contract_revised"].astype("float64")
    ip = ip.assign(pct_billed=(ip["billed_to_date"].astype("float64") / tp.where(tp != 0))
                   .astype("float64"))
    facts = job_facts(result).set_index("job_id")
    ids = ip["job_id"].astype("string")
    for key in JOB_FACTS:
        if key not in ip and key in facts:
            ip[key] = ids.map(facts[key]).to_numpy()
    return ip


def _has(ip: pd.DataFrame, key: str) -> bool:
    """A job-fact column is shown when some job has it."""
    if key not in ip:
        return False
    col = ip[key]
    if JOB_FACTS[key][1] == "text":
        col = col.astype("string").str.strip().replace("", pd.NA)
    return bool(col.notna().any())


def columns(ip: pd.DataFrame, basis: Basis) -> list[Col]:
    """The columns, with the formula variant the data and the policies need."""
    etc_given = ip["est_cost_to_complete_given"]
    noest = bool(etc_given.isna().any())
    negative = bool((etc_given.fillna(0) < 0).any())
    has_m = bool((ip.get("uninstalled_materials", pd.Series(0, index=ip.index)) != 0).any())
    thr = basis.start_threshold > 0
    rpf = basis.round_pct_first

    tp, eac, ctd, m = "{contract_revised}", "{est_total_cost}", "{cost_to_date}", \
        "{uninstalled_materials}"
    if noest:
        eac_f = f'=IF(ISNUMBER({{etc}}),{ctd}+MAX({{etc}},0),IF({ctd}>{tp},{ctd},""))'
    elif negative:
        eac_f = f"={ctd}+MAX({{etc}},0)"
    else:
        eac_f = f"={ctd}+{{etc}}"
    eac_f = eac_f.replace("{etc}", "{est_cost_to_complete_given}")

    def has_eac(expr: str, otherwise: str) -> str:
        return f"IF(ISNUMBER({eac}),{expr},{otherwise})" if noest else expr

    egp_f = "=" + has_eac(f"{tp}-{eac}", '""')
    if noest:
        egp_pct_f = f'=IF(AND(ISNUMBER({{est_gross_profit}}),{tp}<>0),{{est_gross_profit}}/{tp},"")'
    else:
        egp_pct_f = f'=IF({tp}<>0,{{est_gross_profit}}/{tp},"")'
    if has_m:
        den_pos, core = f"{eac}-{m}>0", f"({ctd}-{m})/({eac}-{m})"
        er_core = f"ROUND(({tp}-{m})*{{pct_complete}},2)+{m}"
    else:
        den_pos, core = f"{eac}>0", f"{ctd}/{eac}"
        er_core = f"ROUND({tp}*{{pct_complete}},2)"
    if rpf:
        core = f"ROUND({core},{PCT_ROUND_PLACES})"
        er_core = f"IF({eac}>{tp},MAX({er_core},{ctd}+{tp}-{eac}),{er_core})"
    if thr:
        er_core = (f"IF(AND({eac}<={tp},{ctd}>0,{{pct_complete}}<{{start_threshold}}),{ctd},"
                   f"{er_core})")
    pct_f = "=" + has_eac(f"IF({den_pos},{core},0)", '""')
    er_f = "=" + has_eac(f"IF({den_pos},{er_core},{ctd})", ctd)
    prov_f = "=" + has_eac(f"IF({eac}>{tp},({{earned_revenue}}-{ctd})-({tp}-{eac}),0)", "0")

    cols = [
        Col("job_id", "Job", "text", width=9),
        Col("job_name", "Job name", "text", width=30),
        Col("contract_original", "Original contract", "money", total=True, block=T_CONTRACT),
        Col("change_orders_approved", "Approved change orders", "money", total=True,
            block=T_CONTRACT),
        Col("change_orders_pending", "Pending change orders (not approved)", "money", total=True,
            block=T_CONTRACT),
        Col("change_orders_pending_included", "Pending COs included (policy)", "money",
            "=IF({pending_policy},{change_orders_pending},0)", total=True, block=T_CONTRACT),
        Col("contract_revised", "Revised contract", "money",
            "={contract_original}+{change_orders_approved}+{change_orders_pending_included}",
            total=True, block=T_CONTRACT),
        Col("est_cost_original", "Original estimated cost", "money", total=True,
            block=T_CONTRACT),
        Col("est_total_cost", "Estimated total cost", "money", eac_f, total=True,
            block=T_CONTRACT),
        Col("est_gross_profit", "Estimated gross profit", "money", egp_f, total=True,
            block=T_CONTRACT),
        Col("est_gp_pct", "Est. GP %", "pct", egp_pct_f, block=T_CONTRACT,
            total_formula='=IF({contract_revised}<>0,{est_gross_profit}/{contract_revised},"")'),
        Col("est_gp_pct_prior", "Prior est. GP %", "pct", block=T_CONTRACT),
        Col("cost_to_date", "Cost to date", "money", total=True, block=T_ITD),
        Col("est_cost_to_complete_given", "Est. cost to complete", "money", total=True,
            block=T_ITD),
    ]
    if has_m:
        cols.append(Col("uninstalled_materials", "Uninstalled materials", "money", total=True,
                        block=T_ITD))
    cols += [
        Col("pct_complete", "% complete", "pct2", pct_f, block=T_ITD),
        Col("earned_revenue", "Earned revenue", "money", er_f, total=True, block=T_ITD),
        Col("gross_profit_to_date", "Gross profit to date", "money",
            "={earned_revenue}-{cost_to_date}-{loss_provision}", total=True, block=T_ITD),
        Col("loss_provision", "Loss provision", "money", prov_f, total=True, block=T_ITD),
        Col("billed_to_date", "Billed to date", "money", total=True, block=T_ITD),
        Col("pct_billed", "% billed", "pct",
            '=IF({contract_revised}<>0,{billed_to_date}/{contract_revised},"")', block=T_ITD,
            width=9,
            total_formula='=IF({contract_revised}<>0,{billed_to_date}/{contract_revised},"")'),
        Col("underbillings", "Underbillings (contract asset)", "money",
            "=MAX({earned_revenue}-{billed_to_date},0)", total=True, block=T_END),
        Col("overbillings", "Overbillings (contract liability)", "money",
            "=MAX({billed_to_date}-{earned_revenue},0)", total=True, block=T_END),
    ]
    if basis.net_loss_provision:
        cols += [
            Col("underbillings_net", "Underbillings net of loss provision", "money",
                "=MAX({earned_revenue}-{billed_to_date}-{loss_provision},0)", total=True,
                block=T_END),
            Col("overbillings_net", "Overbillings net of loss provision", "money",
                "=MAX({billed_to_date}+{loss_provision}-{earned_revenue},0)", total=True,
                block=T_END),
        ]
    cols += [
        Col("backlog", "Backlog (revenue to earn)", "money", "={contract_revised}-{earned_revenue}",
            total=True, block=T_END),
        Col("revenue_period", "Revenue", "money", "={earned_revenue}-{earned_revenue_prior}",
            total=True, block=T_PERIOD),
        Col("cost_period", "Cost", "money",
            "=({cost_to_date}-{cost_to_date_prior})+({loss_provision}-{loss_provision_prior})",
            total=True, block=T_PERIOD),
        Col("gross_profit_period", "Gross profit", "money", "={revenue_period}-{cost_period}",
            total=True, block=T_PERIOD),
        Col("retainage_receivable", "Retainage receivable", "money", total=True,
            block="Retainage"),
        Col("revenue_ytd", "Revenue", "money", "={earned_revenue}-{earned_revenue_prior_ytd}",
            total=True, block=T_YTD),
        Col("cost_ytd", "Cost", "money",
            "=({cost_to_date}-{cost_to_date_prior_ytd})+({loss_provision}"
            "-{loss_provision_prior_ytd})", total=True, block=T_YTD),
        Col("gross_profit_ytd", "Gross profit", "money", "={revenue_ytd}-{cost_ytd}",
            total=True, block=T_YTD),
        Col("flag", "Flag", "text", width=16, block="Review"),
    ]
    cols += [Col(key, head, kind, width=width, block=T_JOB)
             for key, (head, kind, width) in JOB_FACTS.items() if _has(ip, key)]
    cols += [
        Col("earned_revenue_prior", "Earned revenue, prior period end", "money", total=True,
            block=T_PRIOR),
        Col("cost_to_date_prior", "Cost to date, prior period end", "money", total=True,
            block=T_PRIOR),
        Col("loss_provision_prior", "Loss provision, prior period end", "money", total=True,
            block=T_PRIOR),
        Col("earned_revenue_prior_ytd", "Earned revenue, prior fiscal year end", "money",
            total=True, block=T_PRIOR),
        Col("cost_to_date_prior_ytd", "Cost to date, prior fiscal year end", "money",
            total=True, block=T_PRIOR),
        Col("loss_provision_prior_ytd", "Loss provision, prior fiscal year end", "money",
            total=True, block=T_PRIOR),
        Col("etc_source", "Cost to complete from", "text", width=44, block="Sources and notes"),
        Col("flag_reason", "Flag explained", "text", width=80, block="Sources and notes"),
    ]
    return cols


def table(result, basis: Basis) -> Table:
    """Where the schedule's columns, job rows and totals row are (one row per job, in order)."""
    ip = frame(result)
    return Table.of(CONTRACTS_IN_PROGRESS, columns(ip, basis),
                    [str(j) for j in ip["job_id"]])


def write(ws: Worksheet, result, basis: Basis, layout: Layout) -> list[Check]:
    """Write the schedule of contracts in progress; returns its formula cells' expected figures."""
    checks = xl.check_list()
    ip = frame(result)
    start_sheet(ws, basis, "Schedule of contracts in progress")
    cols = columns(ip, basis)
    letters = xl.column_letters(cols)
    recs = xl.records(ip)
    for rec, values in zip(recs, value_rows(ip, basis)):
        if values:
            rec["_values"] = values
    xl.write_header(ws, cols, block_row=BLOCK_ROW, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=checks,
                            settings_refs=dict(layout.policy_cells))
    total_row = max(last, FIRST_ROW - 1) + 1
    tp, egp = ip["contract_revised"].sum(), ip["est_gross_profit"].astype("Int64").sum()
    billed = ip["billed_to_date"].sum()
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=checks,
                    expected={"est_gp_pct": (int(egp) / int(tp)) if tp else None,
                              "pct_billed": (int(billed) / int(tp)) if tp else None})
    n = len(cols)
    xl.set_text(ws.cell(4, 1), "Highlighted: loss contracts (red); underbillings above "
                f"{LARGE_UNDERBILLING:.0%} of the revised contract (yellow). Grey blocks "
                "are inputs; other figures are formulas.")
    ws.cell(4, 1).font = Font(italic=True, color="555555")
    if last >= FIRST_ROW:
        r, L = FIRST_ROW, letters
        xl.highlight_rows(ws, FIRST_ROW, last, n,
                          f"OR(${L['loss_provision']}{r}>0,AND(ISNUMBER(${L['est_gross_profit']}"
                          f"{r}),${L['est_gross_profit']}{r}<0))", LOSS_FILL)
        xl.highlight_rows(ws, FIRST_ROW, last, n,
                          f"${L['underbillings']}{r}>{LARGE_UNDERBILLING}*"
                          f"${L['contract_revised']}{r}", UNDER_FILL)
    xl.shade_inputs(ws, cols, FIRST_ROW, last)
    # Printed: the four blocks, retainage, year to date, the flag and the job facts, split into
    # pages between blocks with the job columns repeated; the prior-figure inputs and the long
    # notes to their right stay on screen (widen the print area to include them).
    printed = [c.key for c in cols].index("flag") + 1
    printed += sum(1 for c in cols if c.block == T_JOB)
    finish_sheet(ws, basis, freeze=f"C{FIRST_ROW}", cols=cols, last_col=printed)
    return checks
