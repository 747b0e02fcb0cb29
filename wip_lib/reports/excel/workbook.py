"""The surety-ready WIP workbook of a period: ``reports/PERIOD/wip_schedule.xlsx``.

:func:`write_wip_workbook` turns a :class:`wip_lib.close.period.PeriodResult` into one workbook a
controller can hand to a CPA, bank or surety as is. Inputs (contract amounts, cost to date, cost
to complete, billings, the closed prior-period figures, GL balances) are written as values; every
derived figure is a live Excel formula over those cells, so an auditor can click any number and see
how it is built. The formulas implement the same rules as the Python code (ASC 606 cost-to-cost,
ASC 605-35 loss provisions, cumulative catch-up per ASC 250), and each formula cell is registered
with the Python figure it must equal (:class:`wip_lib.reports.excel.cells.Check`); the tests recalculate the
workbook in LibreOffice and compare every one of them to the cent.

Sheets (see docs/excel-workbook.md):

- **Contracts in progress**: the CPA four-block schedule (total contract | inception to date | at
  period end | for the period), then retainage, year to date, the flags and the prior figures.
- **Completed contracts**: jobs completed this fiscal year (prior years / this year / this period).
- **Fade and gain**: estimated gross profit against the prior period and the bid.
- **Over-under billings**: under/overbillings per job, the GL balances before the entry and the
  change to post; the balance-sheet identity.
- **Journal entry**: the WIP entry per job (debits and credits are formulas over the change), and
  its summary per account.
- **Cost to complete**: per job and cost code, four estimates side by side, the one used, flags;
  job subtotals tie to the schedule.
- **Reconciliation findings** and **Tie-out**: Procore against the ERP, with counts and the
  explained difference as formulas over the findings.
- **Notes and policies**: period, policies applied, sources, and the ties to the income statement
  and balance sheet.

Untrusted text (job, vendor and cost-code names, descriptions, messages) is always a string cell
with Excel's quote prefix when it starts with ``= + - @``: it never becomes a formula. The header
shows the company, period and a "prepared" date that is the period's end (not today), and the file
is written with fixed timestamps, so the same inputs give the same bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.cells import BLOCK_FILL, LOSS_FILL, UNDER_FILL, Check, Col
from wip_lib.accounting.recognition import PCT_ROUND_PLACES, Policy, recognize

IP = "Contracts in progress"
CC = "Completed contracts"
FG = "Fade and gain"
OU = "Over-under billings"
JE = "Journal entry"
CTC = "Cost to complete"
RF = "Reconciliation findings"
TO = "Tie-out"
NT = "Notes and policies"
SHEETS = (IP, CC, FG, OU, JE, CTC, RF, TO, NT)

BLOCK_ROW, HEAD_ROW, FIRST_ROW = 5, 6, 7
#: Underbillings above this share of the revised contract are highlighted.
LARGE_UNDERBILLING = 0.05
TREND_PERIODS = 3  # wip_lib.accounting.forecast.TREND_PERIODS
FILENAME = "wip_schedule.xlsx"
TABLOID = 3  # OOXML paper size 11 x 17 in, what WIP schedules are printed on


def _q(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _x(sheet: str, letter: str, row: int) -> str:
    return f"{_q(sheet)}!{letter}{row}"


def _missing(v) -> bool:
    return xl._is_missing(v)


def _str(v) -> str:
    return "" if _missing(v) else str(v)


def _records(df: pd.DataFrame) -> list[dict]:
    return [dict(r) for r in df.to_dict("records")]


@dataclass
class _Ctx:
    result: Any
    company: str
    period: str
    period_end: date
    policy: Policy
    net: bool
    fade_threshold: float
    accounts: dict[str, str] | None  # role -> account number
    wb: Workbook
    checks: list[Check] = field(default_factory=list)
    settings_refs: dict[str, str] = field(default_factory=dict)
    ip_rows: dict[str, int] = field(default_factory=dict)
    ip_letters: dict[str, str] = field(default_factory=dict)
    ip_total_row: int | None = None
    cc_rows: dict[str, int] = field(default_factory=dict)
    cc_letters: dict[str, str] = field(default_factory=dict)
    cc_total_row: int | None = None
    ou_rows: dict[str, int] = field(default_factory=dict)
    ou_letters: dict[str, str] = field(default_factory=dict)
    ou_total_row: int | None = None
    je_total_row: int | None = None
    je_letters: dict[str, str] = field(default_factory=dict)
    rf_range: tuple[int, int] | None = None
    rf_letters: dict[str, str] = field(default_factory=dict)
    notes_row: int = 0

    def ws(self, name: str) -> Worksheet:
        return self.wb[name]

    def ip(self, key: str, job: str) -> str:
        return _x(IP, self.ip_letters[key], self.ip_rows[job])

    def ip_total(self, key: str) -> str:
        return _x(IP, self.ip_letters[key], self.ip_total_row)


@dataclass
class BuiltWorkbook:
    """The workbook in memory and every formula cell's expected Python figure."""
    workbook: Workbook
    checks: list[Check]


# --- policy ------------------------------------------------------------------------------------

def _settings_of(result, settings):
    return settings if settings is not None else getattr(result, "settings", None)


def _policy(result, settings) -> Policy:
    """The recognition policy the figures were computed with: from the settings when given; else
    inferred (pending CO revenue included when the schedule includes any) and verified below."""
    if settings is not None:
        return Policy.from_settings(getattr(settings, "policies", {}) or {})
    ip = result.wip.in_progress
    incl = bool(len(ip) and "change_orders_pending_included" in ip
                and (ip["change_orders_pending_included"].astype("int64") != 0).any())
    return Policy(include_pending_co_revenue=incl)


def _verify_policy(ip: pd.DataFrame, policy: Policy) -> None:
    """The formulas follow ``policy``; refuse to write a workbook whose formulas would not give the
    schedule's figures (a policy the result was computed with but we were not told)."""
    if not len(ip):
        return
    inputs = ip.copy()
    if "est_cost_to_complete_given" in inputs:
        inputs["est_cost_to_complete"] = inputs["est_cost_to_complete_given"]
    keep = [c for c in ("job_id", "contract_original", "change_orders_approved",
                        "change_orders_pending", "cost_to_date", "est_cost_to_complete",
                        "billed_to_date", "uninstalled_materials") if c in inputs]
    again = recognize(inputs[keep].reset_index(drop=True), policy)
    same = (again["earned_revenue"].to_numpy() == ip["earned_revenue"].to_numpy()).all() and \
        (again["loss_provision"].to_numpy() == ip["loss_provision"].to_numpy()).all()
    if not same:
        raise ValueError("the schedule's figures were computed under recognition policies other "
                         "than those given; pass settings= (the company's settings) to "
                         "write_wip_workbook")


# --- sheet scaffolding -------------------------------------------------------------------------

def _title(ctx: _Ctx, ws: Worksheet, title: str) -> None:
    xl.title_rows(ws, ctx.company, title, ctx.period_end)


def _finish(ctx: _Ctx, ws: Worksheet, *, freeze: str | None, title_from: int = BLOCK_ROW,
            title_to: int = HEAD_ROW) -> None:
    xl.print_setup(ws, company=ctx.company, period=ctx.period, prepared=ctx.period_end,
                   title_rows_to=title_to, title_rows_from=title_from, freeze=freeze,
                   sheet_title=ws.title)


def _note(ws: Worksheet, row: int, text: str, *, italic: bool = True) -> None:
    cell = ws.cell(row, 1)
    xl.set_text(cell, text)
    cell.font = Font(italic=italic, color="555555")


def _highlight(ws, first, last, ncols, condition, fill) -> None:
    xl.highlight_rows(ws, first, last, ncols, condition, fill)


# --- contracts in progress ---------------------------------------------------------------------

T_CONTRACT, T_ITD, T_END, T_PERIOD, T_YTD = ("Total contract", "Inception to date",
                                             "At period end", "For the period", "Year to date")


def _ip_columns(ctx: _Ctx, ip: pd.DataFrame) -> list[Col]:
    etc_given = ip["est_cost_to_complete_given"] if "est_cost_to_complete_given" in ip \
        else ip["est_cost_to_complete"]
    noest = bool(etc_given.isna().any())
    negative = bool((etc_given.fillna(0) < 0).any())
    has_m = bool((ip.get("uninstalled_materials", pd.Series(0, index=ip.index)) != 0).any())
    thr = ctx.policy.start_threshold > 0
    rpf = ctx.policy.round_pct_first

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
        Col("underbillings", "Underbillings (contract asset)", "money",
            "=MAX({earned_revenue}-{billed_to_date},0)", total=True, block=T_END),
        Col("overbillings", "Overbillings (contract liability)", "money",
            "=MAX({billed_to_date}-{earned_revenue},0)", total=True, block=T_END),
    ]
    if ctx.net:
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
        Col("earned_revenue_prior", "Earned revenue, prior period end", "money", total=True,
            block="Prior figures (closed; inputs)"),
        Col("cost_to_date_prior", "Cost to date, prior period end", "money", total=True,
            block="Prior figures (closed; inputs)"),
        Col("loss_provision_prior", "Loss provision, prior period end", "money", total=True,
            block="Prior figures (closed; inputs)"),
        Col("earned_revenue_prior_ytd", "Earned revenue, prior fiscal year end", "money",
            total=True, block="Prior figures (closed; inputs)"),
        Col("cost_to_date_prior_ytd", "Cost to date, prior fiscal year end", "money",
            total=True, block="Prior figures (closed; inputs)"),
        Col("loss_provision_prior_ytd", "Loss provision, prior fiscal year end", "money",
            total=True, block="Prior figures (closed; inputs)"),
        Col("etc_source", "Cost to complete from", "text", width=44, block="Sources and notes"),
        Col("flag_reason", "Flag explained", "text", width=80, block="Sources and notes"),
    ]
    return cols


def _contracts(ctx: _Ctx) -> None:
    ws = ctx.ws(IP)
    ip = ctx.result.wip.in_progress.reset_index(drop=True)
    if "est_cost_to_complete_given" not in ip:
        ip = ip.assign(est_cost_to_complete_given=ip["est_cost_to_complete"])
    _title(ctx, ws, "Schedule of contracts in progress")
    cols = _ip_columns(ctx, ip)
    letters = xl.column_letters(cols)
    recs = _records(ip)
    xl.write_header(ws, cols, block_row=BLOCK_ROW, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=ctx.checks,
                            settings_refs=ctx.settings_refs)
    ctx.ip_letters = letters
    ctx.ip_rows = {str(r["job_id"]): FIRST_ROW + i for i, r in enumerate(recs)}
    total_row = max(last, FIRST_ROW - 1) + 1
    tp, egp = ip["contract_revised"].sum(), ip["est_gross_profit"].astype("Int64").sum()
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last,
                    checks=ctx.checks,
                    expected={"est_gp_pct": (int(egp) / int(tp)) if tp else None})
    ctx.ip_total_row = total_row
    n = len(cols)
    xl.set_text(ws.cell(4, 1), "Highlighted: loss contracts (red); underbillings above "
                f"{LARGE_UNDERBILLING:.0%} of the revised contract (yellow). Grey blocks "
                "are inputs; other figures are formulas.")
    ws.cell(4, 1).font = Font(italic=True, color="555555")
    if last >= FIRST_ROW:
        r = FIRST_ROW
        L = letters
        _highlight(ws, FIRST_ROW, last, n,
                   f"OR(${L['loss_provision']}{r}>0,AND(ISNUMBER(${L['est_gross_profit']}{r}),"
                   f"${L['est_gross_profit']}{r}<0))", LOSS_FILL)
        _highlight(ws, FIRST_ROW, last, n,
                   f"${L['underbillings']}{r}>{LARGE_UNDERBILLING}*${L['contract_revised']}{r}",
                   UNDER_FILL)
    _input_shading(ws, cols, FIRST_ROW, last)
    _finish(ctx, ws, freeze=f"C{FIRST_ROW}")
    # Printed: the four blocks, retainage, year to date and the flag; the prior-figure inputs and
    # the long notes to their right stay on screen (widen the print area to include them).
    ws.print_area = f"A1:{letters['flag']}{total_row}"
    ws.page_setup.paperSize = TABLOID


INPUT_FILL = PatternFill("solid", fgColor="F2F2F2")
BOLD = Font(bold=True)


def _input_shading(ws: Worksheet, cols: Sequence[Col], first: int, last: int) -> None:
    """Input (value) money/percent cells get a light grey fill so inputs and formulas differ."""
    for k, c in enumerate(cols, start=1):
        if c.formula is None and c.kind != "text":
            for r in range(first, last + 1):
                ws.cell(r, k).fill = INPUT_FILL


# --- completed contracts -----------------------------------------------------------------------

def _completed(ctx: _Ctx) -> None:
    ws = ctx.ws(CC)
    _title(ctx, ws, "Schedule of contracts completed this fiscal year")
    comp = ctx.result.wip.completed.reset_index(drop=True)
    sched = ctx.result.wip.schedule
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
    guard_last = bool(comp["est_gross_profit_last"].isna().any())
    fade_f = ('=IF(ISNUMBER({est_gross_profit_last}),{total_gross_profit}'
              '-{est_gross_profit_last},"")' if guard_last
              else "={total_gross_profit}-{est_gross_profit_last}")
    B1, B2, B3, B4 = "Contract", "Prior fiscal years", "This fiscal year", "This period"
    cols = [
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
    if "job_name" not in comp:
        comp["job_name"] = ""
    recs = _records(comp)
    xl.write_header(ws, cols, block_row=BLOCK_ROW, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=ctx.checks)
    total_row = max(last, FIRST_ROW - 1) + 1
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=ctx.checks)
    ctx.cc_letters = xl.column_letters(cols)
    ctx.cc_rows = {str(r["job_id"]): FIRST_ROW + i for i, r in enumerate(recs)}
    ctx.cc_total_row = total_row
    _input_shading(ws, cols, FIRST_ROW, last)
    if not recs:
        _note(ws, total_row + 2, "No contract was completed in this fiscal year.")
    _finish(ctx, ws, freeze=f"C{FIRST_ROW}")


# --- fade and gain -----------------------------------------------------------------------------

def _fade(ctx: _Ctx) -> None:
    ws = ctx.ws(FG)
    _title(ctx, ws, "Gross profit fade and gain")
    ip = ctx.result.wip.in_progress.reset_index(drop=True)
    for c in ("est_gross_profit_prior", "fade", "est_gross_profit_bid", "fade_vs_bid"):
        if c not in ip:
            ip[c] = pd.array([pd.NA] * len(ip), dtype="Int64")
    for c in ("fade_points", "est_gp_pct_bid", "fade_vs_bid_points", "est_gp_pct_prior"):
        if c not in ip:
            ip[c] = np.nan
    flags = ctx.result.flags
    fade_msgs = {}
    if flags is not None and len(flags) and "flag" in flags:
        mf = flags[flags["flag"].astype("string") == "margin_fade"]
        for job, g in mf.groupby(mf["job_id"].astype("string"), sort=True):
            fade_msgs[str(job)] = " ".join(g["message"].astype("string").fillna(""))
    ip["fade_flag"] = pd.array([fade_msgs.get(str(j), "") for j in ip["job_id"]],
                               dtype="string")

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
    cols = [
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
    recs = _records(ip)

    def refs(i, rec):
        job = str(rec["job_id"])
        return {f"ip_{k}": ctx.ip(k, job) for k in
                ("contract_revised", "est_gross_profit", "est_gp_pct", "est_gp_pct_prior",
                 "contract_original", "est_cost_original", "gross_profit_period")}

    xl.write_header(ws, cols, block_row=BLOCK_ROW, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=ctx.checks, refs=refs)
    total_row = max(last, FIRST_ROW - 1) + 1
    tp = int(ip["contract_revised"].sum())
    egp = ip["est_gross_profit"].astype("Int64").sum()
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=ctx.checks,
                    expected={"est_gp_pct": (int(egp) / tp) if tp else None})
    L = xl.column_letters(cols)
    t = ctx.fade_threshold
    if last >= FIRST_ROW:
        r = FIRST_ROW
        _highlight(ws, FIRST_ROW, last, len(cols),
                   f"OR(AND(ISNUMBER(${L['fade_points']}{r}),${L['fade_points']}{r}<-{t}),"
                   f"AND(ISNUMBER(${L['fade_vs_bid_points']}{r}),"
                   f"${L['fade_vs_bid_points']}{r}<-{t}))", LOSS_FILL)
    _input_shading(ws, cols, FIRST_ROW, last)
    _note(ws, 4, f"Highlighted: margin down more than {t:.1%} points against the prior period "
          "or the bid. Contract, estimate and bid figures are references to the schedule of "
          "contracts in progress; the prior estimated gross profit is an input.")
    _finish(ctx, ws, freeze=f"C{FIRST_ROW}")


# --- over/under billings and the journal entry -------------------------------------------------

ROLE_WORDS = {"underbillings": "underbillings", "overbillings": "overbillings",
              "loss provision": "accrued_loss"}
ROLES = ("underbillings", "overbillings", "accrued_loss")
#: Natural balance of each WIP account: +1 debit (asset), -1 credit (liability).
ROLE_SIGN = {"underbillings": 1, "overbillings": -1, "accrued_loss": -1}


def _journal_pairs(journal: pd.DataFrame, accounts: dict[str, str] | None) -> list[tuple]:
    """The entry as (role, job, role line index, offset line index) pairs, in entry order.

    :func:`wip_lib.accounting.journal.wip_journal_entry` writes every change as two lines, the WIP account
    first and its offset second, with one memo naming the change."""
    pairs = []
    rows = _records(journal)
    by_number = {v: k for k, v in (accounts or {}).items() if k in ROLES}
    i = 0
    while i < len(rows):
        a, b = rows[i], rows[i + 1] if i + 1 < len(rows) else None
        if b is None or str(a["job_id"]) != str(b["job_id"]) or str(a["memo"]) != str(b["memo"]):
            raise ValueError(f"journal line {i + 1} is not part of a two-line change")
        role = by_number.get(str(a["account"]))
        if role is None:
            words = re.sub(r"\s+(increase|decrease)$", "", str(a["memo"]).split(": ", 1)[-1])
            role = ROLE_WORDS.get(words)
        if role is None:
            raise ValueError(f"journal line {i + 1}: cannot tell which WIP account it adjusts")
        pairs.append((role, str(a["job_id"]), i, i + 1))
        i += 2
    return pairs


def _over_under(ctx: _Ctx) -> list[tuple]:
    ws = ctx.ws(OU)
    _title(ctx, ws, "Over/under billings and the WIP entry")
    ip = ctx.result.wip.in_progress.reset_index(drop=True)
    journal = ctx.result.wip.journal.reset_index(drop=True)
    pairs = _journal_pairs(journal, ctx.accounts)
    change: dict[tuple[str, str], int] = {}  # (job, role) -> change, debit positive
    lines = _records(journal)
    for role, job, li, _ in pairs:
        line = lines[li]
        change[(job, role)] = change.get((job, role), 0) + int(line["debit"]) - int(line["credit"])

    under_key = "underbillings_net" if ctx.net else "underbillings"
    over_key = "overbillings_net" if ctx.net else "overbillings"
    recs = []
    for rec in _records(ip):
        job = str(rec["job_id"])
        targets = {"underbillings": int(rec[under_key]), "overbillings": int(rec[over_key]),
                   "accrued_loss": 0 if ctx.net else int(rec["loss_provision"])}
        recs.append(_ou_record(rec, job, targets, change))
    # Jobs with a WIP balance in the GL but no longer in progress: their balance goes to zero.
    names = {}
    for frame in (ctx.result.wip.schedule, ctx.result.wip.completed):
        if "job_name" in frame:
            names.update(dict(zip(frame["job_id"].astype("string"), frame["job_name"])))
    extra = sorted({job for job, _ in change} - set(ctx.ip_rows))
    for job in extra:
        rec = {"job_id": job, "job_name": names.get(job, ""), "contract_revised": None,
               "earned_revenue": None, "billed_to_date": None, "over_under": None,
               "loss_provision": 0}
        r = _ou_record(rec, job, {r: 0 for r in ROLES}, change)
        r["t_underbillings"] = r["t_overbillings"] = r["t_accrued_loss"] = 0
        r["_values"] = {"contract_revised", "earned_revenue", "billed_to_date", "t_underbillings",
                        "t_overbillings", "t_accrued_loss", "loss_provision"}
        r["_skip"] = {"over_under"}
        r["note"] = "no longer in progress: WIP balances cleared"
        recs.append(r)

    P, G, C = "Per the WIP schedule", "Per the GL before this entry", \
        "WIP entry: increase / (decrease)"
    loss_head = "Loss provision (netted above)" if ctx.net else "Loss provision"
    cols = [
        Col("job_id", "Job", "text", width=9),
        Col("job_name", "Job name", "text", width=30),
        Col("contract_revised", "Revised contract", "money", "={ip_contract_revised}",
            total=True, block=P),
        Col("earned_revenue", "Earned revenue", "money", "={ip_earned_revenue}", total=True,
            block=P),
        Col("billed_to_date", "Billed to date", "money", "={ip_billed_to_date}", total=True,
            block=P),
        Col("over_under", "Over (+) / under (-) billed", "money",
            "={billed_to_date}-{earned_revenue}", total=True, block=P),
        Col("t_underbillings", "Underbillings" + (" (net)" if ctx.net else ""), "money",
            f"={{ip_{under_key}}}", total=True, block=P),
        Col("t_overbillings", "Overbillings" + (" (net)" if ctx.net else ""), "money",
            f"={{ip_{over_key}}}", total=True, block=P),
        Col("loss_provision", loss_head, "money", "={ip_loss_provision}", total=True, block=P),
        Col("t_accrued_loss", "Accrued loss target", "money",
            "=0" if ctx.net else "={loss_provision}", total=True, block=P),
        Col("gl_underbillings", "Underbillings (debit balance)", "money", total=True, block=G),
        Col("gl_overbillings", "Overbillings (credit balance)", "money", total=True, block=G),
        Col("gl_accrued_loss", "Accrued loss (credit balance)", "money", total=True, block=G),
        Col("adj_underbillings", "Underbillings", "money",
            "={t_underbillings}-{gl_underbillings}", total=True, block=C),
        Col("adj_overbillings", "Overbillings", "money", "={t_overbillings}-{gl_overbillings}",
            total=True, block=C),
        Col("adj_accrued_loss", "Accrued loss", "money", "={t_accrued_loss}-{gl_accrued_loss}",
            total=True, block=C),
        Col("note", "Note", "text", width=40),
    ]

    def refs(i, rec):
        job = str(rec["job_id"])
        if job not in ctx.ip_rows:
            return {}
        return {f"ip_{k}": ctx.ip(k, job) for k in
                ("contract_revised", "earned_revenue", "billed_to_date", under_key, over_key,
                 "loss_provision")}

    xl.write_header(ws, cols, block_row=BLOCK_ROW, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=ctx.checks, refs=refs)
    total_row = max(last, FIRST_ROW - 1) + 1
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=ctx.checks)
    L = xl.column_letters(cols)
    ctx.ou_letters, ctx.ou_total_row = L, total_row
    ctx.ou_rows = {str(r["job_id"]): FIRST_ROW + i for i, r in enumerate(recs)}
    _input_shading(ws, cols, FIRST_ROW, last)

    # The identity CTD + estimated earnings to date - billings = underbillings - overbillings.
    r0 = total_row + 2
    xl.set_text(ws.cell(r0, 1), "Balance-sheet identity (contracts in progress)")
    ws.cell(r0, 1).font = Font(bold=True)
    ctd, er, b = (int(ip[c].sum()) for c in ("cost_to_date", "earned_revenue", "billed_to_date"))
    under, over = int(ip["underbillings"].sum()), int(ip["overbillings"].sum())
    lines = [
        ("Cost to date", f"={ctx.ip_total('cost_to_date')}", ctd),
        ("Estimated earnings to date (earned revenue less cost)",
         f"={ctx.ip_total('earned_revenue')}-{ctx.ip_total('cost_to_date')}", er - ctd),
        ("Less billings to date", f"=-{ctx.ip_total('billed_to_date')}", -b),
        ("Cost and estimated earnings less billings", f"=SUM(D{r0 + 1}:D{r0 + 3})",
         ctd + (er - ctd) - b),
        ("Underbillings less overbillings (gross)",
         f"={ctx.ip_total('underbillings')}-{ctx.ip_total('overbillings')}", under - over),
        ("Difference (must be zero)", f"=D{r0 + 4}-D{r0 + 5}",
         ctd + (er - ctd) - b - (under - over)),
    ]
    for k, (label, formula, want) in enumerate(lines, start=1):
        xl.set_text(ws.cell(r0 + k, 1), label)
        cell = ws.cell(r0 + k, 4)
        cell.value = formula
        cell.number_format = xl.ACCOUNTING
        ctx.checks.append(Check(OU, cell.coordinate, "money", want, label))
    if last >= FIRST_ROW:
        r = FIRST_ROW
        _highlight(ws, FIRST_ROW, last, len(cols),
                   f"${L['t_underbillings']}{r}>{LARGE_UNDERBILLING}*${L['contract_revised']}{r}",
                   UNDER_FILL)
    _note(ws, 4, "GL balances are the per-job WIP account balances before this entry (credit "
          "balances shown positive); the entry moves each to the WIP schedule's figure.")
    _finish(ctx, ws, freeze=f"C{FIRST_ROW}")
    return pairs


def _ou_record(rec: dict, job: str, targets: dict[str, int], change: dict) -> dict:
    out = dict(rec)
    for role in ROLES:
        ch = change.get((job, role), 0)            # debit-positive change posted by the entry
        natural = ROLE_SIGN[role] * (ROLE_SIGN[role] * targets[role] - ch)
        out[f"gl_{role}"] = natural
        out[f"adj_{role}"] = targets[role] - natural  # = sign * change
        out[f"t_{role}"] = targets[role]
    out["over_under"] = rec.get("over_under")
    out.setdefault("note", "")
    return out


def _journal(ctx: _Ctx, pairs: list[tuple]) -> None:
    ws = ctx.ws(JE)
    _title(ctx, ws, f"WIP journal entry, {ctx.period}")
    journal = ctx.result.wip.journal.reset_index(drop=True)
    adj_letter = {role: ctx.ou_letters[f"adj_{role}"] for role in ROLES} if ctx.ou_letters else {}
    formulas: dict[int, tuple[str, str]] = {}
    for role, job, li, oi in pairs:
        adj = _x(OU, adj_letter[role], ctx.ou_rows[job])
        up, down = f"MAX({adj},0)", f"MAX(-{adj},0)"
        # An increase of an asset (underbillings) is a debit; of a liability a credit.
        inc_debit = ROLE_SIGN[role] > 0
        role_dc = (up, down) if inc_debit else (down, up)
        formulas[li] = ("=" + role_dc[0], "=" + role_dc[1])
        formulas[oi] = ("=" + role_dc[1], "=" + role_dc[0])
    cols = [
        Col("job_id", "Job", "text", width=9),
        Col("account", "Account", "text", width=10),
        Col("account_name", "Account name", "text", width=48),
        Col("debit", "Debit", "money", "={f_debit}", total=True),
        Col("credit", "Credit", "money", "={f_credit}", total=True),
        Col("memo", "Memo", "text", width=52),
    ]
    recs = _records(journal)
    xl.write_header(ws, cols, block_row=None, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=ctx.checks,
                            refs=lambda i, rec: {"f_debit": formulas[i][0][1:],
                                                 "f_credit": formulas[i][1][1:]})
    total_row = max(last, FIRST_ROW - 1) + 1
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=ctx.checks)
    L = xl.column_letters(cols)
    ctx.je_letters, ctx.je_total_row = L, total_row
    diff = ws.cell(total_row + 1, 4)
    xl.set_text(ws.cell(total_row + 1, 3), "Debits less credits (must be zero)")
    diff.value = f"={L['debit']}{total_row}-{L['credit']}{total_row}"
    diff.number_format = xl.ACCOUNTING
    ctx.checks.append(Check(JE, diff.coordinate, "money",
                            int(journal["debit"].sum()) - int(journal["credit"].sum()),
                            "debits less credits"))
    # Summary per account, to the right of the lines.
    summ = ctx.result.wip.journal_summary.reset_index(drop=True)
    first_col = len(cols) + 2
    scols = [
        Col("account", "Account", "text", width=10),
        Col("account_name", "Account name", "text", width=48),
        Col("debit", "Debit", "money", "{s_debit}", total=True),
        Col("credit", "Credit", "money", "{s_credit}", total=True),
        Col("net", "Net debit (credit)", "money", "={debit}-{credit}", total=True),
    ]
    xl.set_text(ws.cell(BLOCK_ROW, first_col), "Summary by account (what posts to the GL)")
    ws.cell(BLOCK_ROW, first_col).font = Font(bold=True, color="1F3A5F")
    xl.write_header(ws, scols, block_row=None, head_row=HEAD_ROW, first_col=first_col)
    rng = lambda k: f"${L[k]}${FIRST_ROW}:${L[k]}${max(last, FIRST_ROW)}"  # noqa: E731
    srecs = _records(summ)
    acct_letter = get_column_letter(first_col)

    def srefs(i, rec):
        r = FIRST_ROW + i
        if last < FIRST_ROW:
            return {"s_debit": "=0", "s_credit": "=0"}
        return {k: f"=SUMPRODUCT(({rng('account')}={acct_letter}{r})*{rng(c)})"
                for k, c in (("s_debit", "debit"), ("s_credit", "credit"))}

    slast = xl.write_records(ws, srecs, scols, first_row=FIRST_ROW, checks=ctx.checks,
                             refs=srefs, first_col=first_col)
    xl.write_totals(ws, scols, srecs, row=slast + 1, first=FIRST_ROW, last=slast,
                    checks=ctx.checks, first_col=first_col)
    if not recs:
        _note(ws, total_row + 3, "No entry this period: the GL already holds the WIP balances.")
    _finish(ctx, ws, freeze=f"B{FIRST_ROW}", title_from=HEAD_ROW)


# --- cost to complete --------------------------------------------------------------------------

def _cost_to_complete(ctx: _Ctx) -> None:
    ws = ctx.ws(CTC)
    _title(ctx, ws, "Cost to complete by job and cost code")
    fc = ctx.result.forecast.reset_index(drop=True)
    flags = ctx.result.flags if ctx.result.flags is not None else pd.DataFrame()
    keyed: dict[tuple, list] = {}
    if len(flags):
        f = flags.assign(cost_code=flags["cost_code"].astype("string").fillna(""),
                         cost_type=flags["cost_type"].astype("string").fillna(""),
                         job_id=flags["job_id"].astype("string"))
        for row in f.itertuples(index=False):
            keyed.setdefault((row.job_id, row.cost_code, row.cost_type), []).append(row)

    def flag_fields(key) -> dict:
        rows = keyed.get(key, [])
        if not rows:
            return {"flags": "", "flag_impact": None, "flag_messages": ""}
        return {"flags": ", ".join(str(r.flag) for r in rows),
                "flag_impact": sum(int(r.dollar_impact) for r in rows),
                "flag_messages": " ".join(str(r.message) for r in rows)}

    B, K, E, M, U = ("Budget (Procore)", "Commitments (Procore)", "Cost (ERP)",
                     "Estimates to complete", "Used in the WIP schedule")
    cols = [
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
        Col("tie_ctd", "Cost to date less WIP schedule", "money", "{t_ctd}",
            block="Ties to the schedule (job totals)"),
        Col("tie_etc", "Cost to complete less WIP schedule", "money", "{t_etc}",
            block="Ties to the schedule (job totals)"),
    ]
    L = xl.column_letters(cols)
    xl.write_header(ws, cols, block_row=BLOCK_ROW, head_row=HEAD_ROW)
    ip = ctx.result.wip.in_progress
    ip_jobs = ip["job_id"].astype("string").tolist()
    ip_ctd = dict(zip(ip_jobs, ip["cost_to_date"].tolist()))
    ip_etc = dict(zip(ip_jobs, (ip["est_cost_to_complete_given"]
                                if "est_cost_to_complete_given" in ip
                                else ip["est_cost_to_complete"]).tolist()))
    names = {}
    for frame in (ctx.result.wip.schedule, ctx.result.wip.completed):
        if "job_name" in frame:
            names.update(dict(zip(frame["job_id"].astype("string"), frame["job_name"])))
    sums = [c for c in cols if c.total]
    row = FIRST_ROW
    job_rows: list[int] = []
    all_recs = _records(fc)
    groups: dict[str, list[int]] = {}
    for i, rec in enumerate(all_recs):
        groups.setdefault(str(rec["job_id"]), []).append(i)
    for job in sorted(groups):
        grp = fc.iloc[groups[job]]
        recs = []
        for rec in (all_recs[i] for i in groups[job]):
            rec.update(flag_fields((str(job), _str(rec["cost_code"]),
                                    _str(rec["cost_type"]))))
            rec["_skip"] = {"tie_ctd", "tie_etc"}
            recs.append(rec)
        last = xl.write_records(ws, recs, cols, first_row=row, checks=ctx.checks)
        sub = last + 1
        job_rows.append(sub)
        # job subtotal row
        head = {"job_id": job, "cost_code": "Job total", "cost_type": "",
                "description": names.get(job, ""), **flag_fields((str(job), "", ""))}
        for k, c in enumerate(cols, start=1):
            cell = ws.cell(sub, k)
            if c.total:
                cell.value = f"=SUBTOTAL(9,{L[c.key]}{row}:{L[c.key]}{last})"
                ctx.checks.append(Check(CTC, cell.coordinate, "money",
                                        int(grp[c.key].sum()), f"job {job} {c.header}"))
            elif c.kind == "text" and c.key in head:
                xl.set_text(cell, head[c.key])
            elif c.key == "flag_impact" and head["flag_impact"] is not None:
                cell.value = head["flag_impact"] / 100
            cell.font = BOLD
            cell.fill = BLOCK_FILL
            xl._format(cell, c.kind)
        if job in ctx.ip_rows:
            ctd_ref = ctx.ip("cost_to_date", job)
            etc_ref = ctx.ip("est_cost_to_complete_given", job) \
                if "est_cost_to_complete_given" in ctx.ip_letters else \
                ctx.ip("est_cost_to_complete", job)
            etc_ip = ip_etc[job]
            for key, ref, want in (
                    ("tie_ctd", ctd_ref, int(grp["cost_to_date"].sum()) - int(ip_ctd[job])),
                    ("tie_etc", etc_ref, None if _missing(etc_ip)
                     else int(grp["etc_used"].sum()) - int(etc_ip))):
                if want is None:
                    continue
                cell = ws.cell(sub, list(L).index(key) + 1)
                src_col = "cost_to_date" if key == "tie_ctd" else "etc_used"
                cell.value = f"={L[src_col]}{sub}-{ref}"
                ctx.checks.append(Check(CTC, cell.coordinate, "money", want,
                                        f"job {job} {key}"))
        row = sub + 1
    last_row = row - 1
    total_row = row
    xl.set_text(ws.cell(total_row, 1), "Total")
    for k, c in enumerate(cols, start=1):
        cell = ws.cell(total_row, k)
        if c.total and last_row >= FIRST_ROW:
            cell.value = f"=SUBTOTAL(9,{L[c.key]}{FIRST_ROW}:{L[c.key]}{last_row})"
            ctx.checks.append(Check(CTC, cell.coordinate, "money", int(fc[c.key].sum()),
                                    f"total {c.header}"))
        cell.font = Font(bold=True)
        cell.border = Border(top=xl.THIN, bottom=Side(style="double", color="1F3A5F"))
        xl._format(cell, c.kind)
    if last_row >= FIRST_ROW:
        r = FIRST_ROW
        _highlight(ws, FIRST_ROW, last_row, len(cols),
                   f'AND(${L["cost_code"]}{r}<>"Job total",LEN(${L["flags"]}{r})>0)', UNDER_FILL)
    for k, c in enumerate(cols, start=1):
        if c.formula is None and c.kind != "text":
            for r in range(FIRST_ROW, last_row + 1):
                if r not in job_rows:
                    ws.cell(r, k).fill = INPUT_FILL
    _note(ws, 4, "Each job's rows end in a job total (SUBTOTAL); the grand total skips them. "
          "Flagged cost codes are highlighted; job-level flags sit on the job total row.")
    _finish(ctx, ws, freeze=f"E{FIRST_ROW}")
    ws.page_setup.paperSize = TABLOID


# --- reconciliation ----------------------------------------------------------------------------

def _findings(ctx: _Ctx) -> None:
    ws = ctx.ws(RF)
    _title(ctx, ws, "Reconciliation findings: Procore against the ERP")
    fnd = ctx.result.findings.reset_index(drop=True)
    try:
        from wip_lib.reconcile.core import job_cost_checks
        cost_checks = set(job_cost_checks())
    except Exception:  # pragma: no cover - the registry always imports
        cost_checks = set()
    recs = []
    for rec in _records(fnd):
        rec["explains"] = "yes" if str(rec.get("check")) in cost_checks else ""
        if _missing(rec.get("procore_amount")) or _missing(rec.get("erp_amount")):
            rec["_values"] = {"difference"}
        recs.append(rec)
    cols = [
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
    ]
    xl.write_header(ws, cols, block_row=None, head_row=HEAD_ROW)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=ctx.checks)
    L = xl.column_letters(cols)
    ctx.rf_letters = L
    ctx.rf_range = (FIRST_ROW, last) if last >= FIRST_ROW else None
    if last >= FIRST_ROW:
        r = FIRST_ROW
        _highlight(ws, FIRST_ROW, last, len(cols), f'${L["severity"]}{r}="error"', LOSS_FILL)
        _highlight(ws, FIRST_ROW, last, len(cols), f'${L["severity"]}{r}="warning"', UNDER_FILL)
    _input_shading(ws, cols, FIRST_ROW, last)
    _note(ws, 4, "Errors highlighted red, warnings yellow. The tie-out sheet counts these rows "
          "and sums the job-cost differences per job.")
    if last < FIRST_ROW:
        _note(ws, FIRST_ROW + 1, "No findings: Procore and the ERP agree.")
    _finish(ctx, ws, freeze=f"C{FIRST_ROW}", title_from=HEAD_ROW)


def _tieout(ctx: _Ctx) -> None:
    ws = ctx.ws(TO)
    _title(ctx, ws, "Tie-out: Procore job-to-date cost against the ERP")
    to = ctx.result.tieout.reset_index(drop=True)
    sched = ctx.result.wip.schedule
    names = dict(zip(sched["job_id"].astype("string"), sched["job_name"])) \
        if "job_name" in sched else {}
    ctd = dict(zip(sched["job_id"].astype("string"), sched["cost_to_date"].astype("int64")))
    recs = []
    for rec in _records(to):
        job = str(rec["job_id"])
        rec["job_name"] = names.get(job, "")
        if job in ctd and (job in ctx.ip_rows or job in ctx.cc_rows):
            rec["wip_less_erp"] = int(ctd[job]) - int(rec["erp_total"])
        else:
            rec["_skip"] = {"wip_less_erp"}
        if ctx.rf_range is None:
            rec["_values"] = {"explained", "errors", "warnings", "info"}
        recs.append(rec)
    cols = [
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
    ]
    rl = ctx.rf_letters

    def rng(key):
        a, b = ctx.rf_range
        return f"{_q(RF)}!${rl[key]}${a}:${rl[key]}${b}"

    def refs(i, rec):
        r = FIRST_ROW + i
        job = str(rec["job_id"])
        out = {}
        if ctx.rf_range is not None:
            jobs = rng("job_id")
            out["f_explained"] = (f'=SUMPRODUCT(({jobs}=A{r})*({rng("explains")}="yes")'
                                  f'*{rng("difference")})')
            for key, sev in (("f_errors", "error"), ("f_warnings", "warning"),
                             ("f_info", "info")):
                out[key] = f'=SUMPRODUCT(({jobs}=A{r})*({rng("severity")}="{sev}"))'
        if job in ctx.ip_rows:
            out["f_wip"] = f"={ctx.ip('cost_to_date', job)}-{{erp_total}}"
        elif job in ctx.cc_rows:
            total_cost = _x(CC, ctx.cc_letters["total_cost"], ctx.cc_rows[job])
            out["f_wip"] = f"={total_cost}-{{erp_total}}"
        return out

    xl.write_header(ws, cols, block_row=None, head_row=HEAD_ROW)
    letters = xl.column_letters(cols)
    last = xl.write_records(ws, recs, cols, first_row=FIRST_ROW, checks=ctx.checks,
                            refs=lambda i, rec: {k: _resolve_inner(v, FIRST_ROW + i, letters)
                                                 for k, v in refs(i, rec).items()})
    total_row = max(last, FIRST_ROW - 1) + 1
    xl.write_totals(ws, cols, recs, row=total_row, first=FIRST_ROW, last=last, checks=ctx.checks)
    if last >= FIRST_ROW:
        L, r = letters, FIRST_ROW
        _highlight(ws, FIRST_ROW, last, len(cols), f"${L['unexplained']}{r}<>0", LOSS_FILL)
    _input_shading(ws, cols, FIRST_ROW, last)
    _note(ws, 4, "Explained, errors, warnings and info are formulas over the findings sheet; an "
          "unexplained variance is highlighted.")
    _finish(ctx, ws, freeze=f"C{FIRST_ROW}", title_from=HEAD_ROW)


def _resolve_inner(template: str, row: int, letters: dict[str, str]) -> str:
    """Resolve same-row ``{key}`` names inside a per-row reference (the reference itself is then
    substituted into the column's ``{f_...}`` template)."""
    return re.sub(r"\{([a-z_0-9]+)\}", lambda m: f"{letters[m.group(1)]}{row}", template)


# --- notes, policies and ties ------------------------------------------------------------------

POLICY_ROWS = (
    ("pending_policy", "Pending change-order revenue included in the contract", "bool"),
    ("start_threshold", "Start-of-job threshold (revenue = cost below this % complete)", "pct2"),
    ("round_pct_first", "Percent complete rounded to 4 decimals before earned revenue", "bool"),
    ("net_policy", "Loss provision netted into over/under billings (surety view)", "bool"),
    ("fade_threshold", "Margin fade highlighted beyond (points)", "pct2"),
    ("large_under", "Underbillings highlighted above (share of revised contract)", "pct2"),
)


def _notes_policies(ctx: _Ctx) -> None:
    """The policy block first: the schedule's formulas refer to these cells."""
    ws = ctx.ws(NT)
    _title(ctx, ws, "Notes, policies and ties")
    ws.column_dimensions["A"].width = 64
    for c in "BCD":
        ws.column_dimensions[c].width = 20
    rows = [("Period", ctx.period, "text"),
            ("Period end (the \"prepared\" date in every page header)", ctx.period_end, "date")]
    for k, note in enumerate(ctx.result.wip.notes or []):
        rows.append((f"Figures basis {k + 1}", note, "text"))
    for i, (label, value, kind) in enumerate(rows):
        xl.set_text(ws.cell(5 + i, 1), label)
        xl.write_value(ws.cell(5 + i, 2), kind, value)
    first = 5 + len(rows) + 2
    ctx.notes_row = first + len(POLICY_ROWS) + 1
    head = ws.cell(first - 1, 1)
    xl.set_text(head, "Recognition policies (as applied to the figures)")
    head.font = Font(bold=True)
    values = {"pending_policy": ctx.policy.include_pending_co_revenue,
              "start_threshold": float(ctx.policy.start_threshold),
              "round_pct_first": ctx.policy.round_pct_first,
              "net_policy": ctx.net, "fade_threshold": ctx.fade_threshold,
              "large_under": LARGE_UNDERBILLING}
    for i, (key, label, kind) in enumerate(POLICY_ROWS):
        r = first + i
        xl.set_text(ws.cell(r, 1), label)
        xl.write_value(ws.cell(r, 2), kind, values[key])
        ws.cell(r, 2).fill = INPUT_FILL
        ctx.settings_refs[key] = f"{_q(NT)}!$B${r}"


def _notes_ties(ctx: _Ctx) -> None:
    ws = ctx.ws(NT)
    r = ctx.notes_row
    xl.set_text(ws.cell(r, 1), "Sources of the inputs")
    ws.cell(r, 1).font = Font(bold=True)
    ip = ctx.result.wip.in_progress
    sources = []
    for col, label in (("contract_source", "Contract"), ("cost_source", "Cost to date"),
                       ("billed_source", "Billed to date")):
        if col in ip and len(ip):
            sources.append((label, str(ip[col].iloc[0])))
    sources += [("Cost to complete", "Procore forecast to complete per cost code (budget "
                 "snapshot of the period), or a controller override; per job on the schedule"),
                ("Prior figures", "The closed prior period and prior fiscal year end (see "
                 "figures basis above)"),
                ("GL balances", "ERP general ledger, WIP accounts per job, latest on or before "
                 "the period")]
    for i, (label, text) in enumerate(sources, start=1):
        xl.set_text(ws.cell(r + i, 1), label)
        xl.set_text(ws.cell(r + i, 2), text)
    r = r + len(sources) + 2

    xl.set_text(ws.cell(r, 1), "Ties to the income statement (revenue and cost of revenue)")
    ws.cell(r, 1).font = Font(bold=True)
    for k, h in enumerate(("Contracts in progress", "Completed contracts", "Total"), start=2):
        cell = ws.cell(r, k)
        xl.set_text(cell, h)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = xl.HEADER_FILL
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    sched = ctx.result.wip.schedule
    done = sched[sched["status"].astype("string") == "complete"] if "status" in sched \
        else sched.iloc[0:0]
    ip_t = ctx.result.wip.in_progress
    comp = ctx.result.wip.completed
    lines = [
        ("Revenue for the period", "revenue_period", "revenue_period", ip_t["revenue_period"],
         done["revenue_period"] if len(done) else pd.Series(dtype="int64")),
        ("Cost of revenue for the period", "cost_period", "cost_period", ip_t["cost_period"],
         done["cost_period"] if len(done) else pd.Series(dtype="int64")),
        ("Gross profit for the period", "gross_profit_period", "gross_profit_period",
         ip_t["gross_profit_period"],
         done["gross_profit_period"] if len(done) else pd.Series(dtype="int64")),
        ("Revenue, fiscal year to date", "revenue_ytd", "revenue_this_year",
         ip_t["revenue_ytd"], comp["revenue_this_year"] if len(comp) else pd.Series(dtype="int64")),
        ("Cost of revenue, fiscal year to date", "cost_ytd", "cost_this_year", ip_t["cost_ytd"],
         comp["cost_this_year"] if len(comp) else pd.Series(dtype="int64")),
        ("Gross profit, fiscal year to date", "gross_profit_ytd", "gp_this_year",
         ip_t["gross_profit_ytd"],
         comp["gp_this_year"] if len(comp) else pd.Series(dtype="int64")),
    ]
    totals = ctx.result.wip.totals() if hasattr(ctx.result.wip, "totals") else {}
    for i, (label, ipk, cck, ipv, ccv) in enumerate(lines, start=1):
        rr = r + i
        xl.set_text(ws.cell(rr, 1), label)
        a, b, t = ws.cell(rr, 2), ws.cell(rr, 3), ws.cell(rr, 4)
        a.value = f"={ctx.ip_total(ipk)}"
        ctx.checks.append(Check(NT, a.coordinate, "money", int(ipv.sum()), label))
        if ctx.cc_total_row and cck in ctx.cc_letters and len(comp):
            b.value = f"={_x(CC, ctx.cc_letters[cck], ctx.cc_total_row)}"
            ctx.checks.append(Check(NT, b.coordinate, "money", int(ccv.sum()), label))
        else:
            b.value = 0
        t.value = f"=B{rr}+C{rr}"
        want = totals.get(ipk, int(ipv.sum()) + int(ccv.sum()))
        ctx.checks.append(Check(NT, t.coordinate, "money", int(want), label + " total"))
        for c in (a, b, t):
            c.number_format = xl.ACCOUNTING
    r = r + len(lines) + 2

    xl.set_text(ws.cell(r, 1), "Ties to the balance sheet (after the WIP entry)")
    ws.cell(r, 1).font = Font(bold=True)
    under_key = "underbillings_net" if ctx.net else "underbillings"
    over_key = "overbillings_net" if ctx.net else "overbillings"
    bs = [("Costs and estimated earnings in excess of billings (contract asset)",
           f"={ctx.ip_total(under_key)}", int(ip_t[under_key].sum())),
          ("Billings in excess of costs and estimated earnings (contract liability)",
           f"={ctx.ip_total(over_key)}", int(ip_t[over_key].sum())),
          ("Accrued loss on contracts", "=0" if ctx.net else f"={ctx.ip_total('loss_provision')}",
           0 if ctx.net else int(ip_t["loss_provision"].sum())),
          ("Retainage receivable (contracts in progress)",
           f"={ctx.ip_total('retainage_receivable')}", int(ip_t["retainage_receivable"].sum())),
          ("Backlog (revenue still to earn on contracts in progress)",
           f"={ctx.ip_total('backlog')}", int(ip_t["backlog"].sum()))]
    if ctx.ou_total_row:
        for role, label in (("underbillings", "GL underbillings after the entry"),
                            ("overbillings", "GL overbillings after the entry"),
                            ("accrued_loss", "GL accrued loss after the entry")):
            gl = _x(OU, ctx.ou_letters[f"gl_{role}"], ctx.ou_total_row)
            adj = _x(OU, ctx.ou_letters[f"adj_{role}"], ctx.ou_total_row)
            target = {"underbillings": int(ip_t[under_key].sum()),
                      "overbillings": int(ip_t[over_key].sum()),
                      "accrued_loss": 0 if ctx.net else int(ip_t["loss_provision"].sum())}[role]
            bs.append((label, f"={gl}+{adj}", target))
    if ctx.je_total_row:
        L = ctx.je_letters
        d = _x(JE, L["debit"], ctx.je_total_row)
        c = _x(JE, L["credit"], ctx.je_total_row)
        j = ctx.result.wip.journal
        bs.append(("WIP entry: debits less credits (must be zero)", f"={d}-{c}",
                   int(j["debit"].sum()) - int(j["credit"].sum())))
    for i, (label, formula, want) in enumerate(bs, start=1):
        rr = r + i
        xl.set_text(ws.cell(rr, 1), label)
        cell = ws.cell(rr, 4)
        cell.value = formula
        cell.number_format = xl.ACCOUNTING
        ctx.checks.append(Check(NT, cell.coordinate, "money", want, label))
    r = r + len(bs) + 2

    xl.set_text(ws.cell(r, 1), "How to read this workbook")
    ws.cell(r, 1).font = Font(bold=True)
    guide = [
        "Grey cells are inputs (values from Procore, the ERP, the GL or the closed prior period); "
        "every other figure is a formula over them: click it to see how it is built.",
        "Earned revenue = ROUND(revised contract x % complete, 2); % complete = cost to date / "
        "estimated total cost (ASC 606 input method, cost-to-cost).",
        "Loss provision (ASC 605-35): when estimated total cost exceeds the contract, (earned "
        "revenue - cost to date) - (contract - estimated total cost), so the whole loss is "
        "recognised now.",
        "Period and year-to-date amounts are the figures now less the closed prior figures "
        "(cumulative catch-up).",
        "Job names, vendors, descriptions and messages from Procore or the ERP are text, never "
        "formulas.",
        "See docs/excel-workbook.md for each sheet and how to trace a figure.",
    ]
    for i, text in enumerate(guide, start=1):
        xl.set_text(ws.cell(r + i, 1), text)
    _finish(ctx, ws, freeze=None, title_from=1, title_to=3)


# --- entry points ------------------------------------------------------------------------------

def build_wip_workbook(result, *, settings=None) -> BuiltWorkbook:
    """The workbook of ``result`` (a :class:`wip_lib.close.period.PeriodResult`) in memory, with the
    expected Python figure of every formula cell.

    ``settings`` (the company's :class:`~wip_lib.core.settings.Settings`) gives the recognition
    policies, the GL accounts and the fade threshold; without it they are read from
    ``result.settings`` when present, else inferred and checked against the figures."""
    settings = _settings_of(result, settings)
    policy = _policy(result, settings)
    _verify_policy(result.wip.in_progress, policy)
    policies = dict(getattr(settings, "policies", {}) or {})
    accounts = None
    if settings is not None and getattr(settings, "gl_accounts", None):
        accounts = {role: str(v["number"]) for role, v in settings.gl_accounts.items()}
    wb = xl.new_workbook()
    for name in SHEETS:
        wb.create_sheet(name)
    ctx = _Ctx(result=result, company=str(result.company_name), period=str(result.period),
               period_end=pd.Period(result.period, freq="M").end_time.date(), policy=policy,
               net=bool(policy.net_loss_provision),
               fade_threshold=float(policies.get("fade_threshold_points", 0.03)),
               accounts=accounts, wb=wb)
    _notes_policies(ctx)
    _contracts(ctx)
    _completed(ctx)
    _fade(ctx)
    pairs = _over_under(ctx)
    _journal(ctx, pairs)
    _cost_to_complete(ctx)
    _findings(ctx)
    _tieout(ctx)
    _notes_ties(ctx)
    wb.active = 0
    return BuiltWorkbook(wb, ctx.checks)


def write_wip_workbook(result, path, *, settings=None) -> Path:
    """Write the period's WIP workbook to ``path`` (a folder gets ``wip_schedule.xlsx``).

    Same inputs, same bytes: no run-dependent value in any cell, property or zip entry."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path / FILENAME
    built = build_wip_workbook(result, settings=settings)
    return xl.save(built.workbook, path)
