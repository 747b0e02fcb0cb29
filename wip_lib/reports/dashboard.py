"""What the dashboards show, as pure functions of a :class:`~wip_lib.close.bundle.Bundle`: tables
(money in int64 cents) and plotly figures (dollars on the axes). Notebooks only call these.

Every chart is built from the same figures as the WIP schedule, so a number on a chart is a number
in the schedule; nothing here computes revenue.

Missing estimates are shown, not tripped over: a job without a budget snapshot has no estimated
total cost, so its margin, fade and net billing position are missing (NA); charts show such a
value as a gap or a grey bar and tables leave the cell empty, and :func:`input_warnings` says
which snapshot is missing. A job number arrives in a notebook as whatever papermill parsed
(``-p job_id 00205`` gives the integer 205): :func:`job_number` turns it back into the job.
"""
from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from wip_lib.core.identifiers import job_number as _job_number
from wip_lib.reports.html import dollars, percent
from wip_lib.sources.snapshots import missing_snapshots

NAVY, RED, GREEN, GREY, ORANGE = "#1f3a5f", "#b00020", "#2e7d32", "#8a96a3", "#e07b00"

MOVEMENT_ROWS = [
    ("Contract (revised)", "contract_revised"), ("Estimated total cost", "est_total_cost"),
    ("Estimated gross profit", "est_gross_profit"), ("Cost to date", "cost_to_date"),
    ("Cost to complete", "est_cost_to_complete"), ("Earned revenue", "earned_revenue"),
    ("Gross profit to date", "gross_profit_to_date"), ("Loss provision", "loss_provision"),
    ("Billed to date", "billed_to_date"), ("Underbillings", "underbillings"),
    ("Overbillings", "overbillings"), ("Backlog", "backlog"),
]

SCHEDULE_VIEW = ["job_id", "job_name", "contract_revised", "est_total_cost", "est_gross_profit",
                 "est_gp_pct", "cost_to_date", "est_cost_to_complete", "pct_complete",
                 "earned_revenue", "gross_profit_to_date", "loss_provision", "billed_to_date",
                 "underbillings", "overbillings", "backlog", "revenue_period",
                 "gross_profit_period", "fade"]
SCHEDULE_MONEY = [c for c in SCHEDULE_VIEW if c not in ("job_id", "job_name", "est_gp_pct",
                                                         "pct_complete")]
SCHEDULE_PCT = ["est_gp_pct", "pct_complete"]


def _d(cents: pd.Series) -> pd.Series:
    """Cents to dollars for chart axes only (tables keep exact cents)."""
    return cents.astype("float64") / 100.0


def _colors(values: pd.Series, positive: str, negative: str, *, zero_positive: bool = True
            ) -> list[str]:
    """One bar colour per value: ``positive`` (from zero, or above it when not
    ``zero_positive``), ``negative`` below, grey where the value is missing (no estimate)."""
    out = []
    for v in values:
        if v is None or pd.isna(v):
            out.append(GREY)
        elif v > 0 or (zero_positive and v == 0):
            out.append(positive)
        else:
            out.append(negative)
    return out


def _layout(fig: go.Figure, title: str, *, money_axis: bool = True) -> go.Figure:
    fig.update_layout(title=title, template="plotly_white", height=360,
                      margin=dict(l=60, r=20, t=50, b=40), legend=dict(orientation="h", y=-0.2))
    if money_axis:
        fig.update_yaxes(tickprefix="$", tickformat=",.0f")
    return fig


# -- project ------------------------------------------------------------------------------------

def job_number(bundle, job_id) -> str:
    """The job of the period's schedule that ``job_id`` names: text as it is, a whole number
    (papermill's reading of ``-p job_id 00205``) by its digits, leading zeros set aside
    (:func:`wip_lib.core.identifiers.job_number`)."""
    return _job_number(job_id, bundle.job_ids)


def job_row(bundle, job_id: str) -> pd.Series:
    s = bundle["schedule"]
    rows = s[s["job_id"] == job_id]
    if rows.empty:
        rows = s[s["job_id"] == job_number(bundle, job_id)]  # InputError when no job matches
    return rows.iloc[0]


def input_warnings(bundle, job_id: str | None = None) -> list[str]:
    """The warnings on the period's input that the dashboards show: budget snapshots missing for
    the period (:func:`wip_lib.sources.snapshots.missing_snapshots`, the rule the month-end
    prints), for one job or for every job of the schedule."""
    s = bundle["schedule"]
    if job_id is not None:
        s = s[s["job_id"] == job_id]
    return [str(p) for p in missing_snapshots(s, bundle["budget_history"], bundle.period)]


def warnings_html(items: list[str]) -> str:
    """Warnings as an escaped, highlighted list (empty text when there are none)."""
    if not items:
        return ""
    lis = "".join(f"<li>{html.escape(w)}</li>" for w in items)
    return ('<div class="flag" style="background:#fff3cd;border:1px solid #e0a800;'
            f'padding:6px 12px"><b>Warning{"s" if len(items) > 1 else ""} on the input</b>'
            f"<ul>{lis}</ul></div>")


def key_figures(bundle, job_id: str) -> str:
    """Plain text of the job's key figures (the cells nbval checks)."""
    r = job_row(bundle, job_id)
    lines = [f"Job {r['job_id']} {r['job_name']} at {bundle.period} ({r['status']})",
             f"contract {dollars(r['contract_revised'])}",
             f"estimated total cost {dollars(r['est_total_cost'])}",
             f"percent complete {percent(r['pct_complete'], 2)}",
             f"earned revenue {dollars(r['earned_revenue'])}",
             f"gross profit to date {dollars(r['gross_profit_to_date'])}",
             f"billed to date {dollars(r['billed_to_date'])}",
             f"underbillings {dollars(r['underbillings'])}",
             f"overbillings {dollars(r['overbillings'])}",
             f"loss provision {dollars(r['loss_provision'])}"]
    return "\n".join(lines)


def headline_items(bundle, job_id: str) -> list[tuple[str, str]]:
    r = job_row(bundle, job_id)
    return [("Contract", dollars(r["contract_revised"], whole=True)),
            ("Est. total cost", dollars(r["est_total_cost"], whole=True)),
            ("Est. margin", percent(r["est_gp_pct"])),
            ("% complete", percent(r["pct_complete"])),
            ("Earned revenue", dollars(r["earned_revenue"], whole=True)),
            ("Over (under) billed", dollars(r["overbillings"] - r["underbillings"], whole=True)),
            ("Flags", "none" if pd.isna(r["flag"]) or not r["flag"] else str(r["flag"]))]


def movement(bundle, job_id: str) -> pd.DataFrame:
    """The job's WIP line now, last period and the change (prior from the history bundle)."""
    r = job_row(bundle, job_id)
    h = bundle["history"]
    h = h[h["job_id"] == job_id]
    prior_period = str(pd.Period(bundle.period, freq="M") - 1)
    prior = h[h["period"] == prior_period]
    p = prior.iloc[0] if len(prior) else None
    rows = []
    for label, col in MOVEMENT_ROWS:
        now = int(r[col]) if pd.notna(r[col]) else 0
        before = int(p[col]) if p is not None and pd.notna(p[col]) else 0
        rows.append({"figure": label, "prior": before, "current": now, "change": now - before})
    return pd.DataFrame(rows)


def sources(bundle, job_id: str) -> pd.DataFrame:
    r = job_row(bundle, job_id)
    return pd.DataFrame({"figure": ["Contract", "Cost to date", "Cost to complete",
                                    "Billed to date", "Prior period"],
                         "source": [r["contract_source"], r["cost_source"], r["etc_source"],
                                    r["billed_source"], r["prior_source"]]})


def cost_curve(bundle, job_id: str) -> go.Figure:
    """Cost to date, revised budget, EAC and the PM's forecast over time."""
    h = bundle["history"]
    h = h[h["job_id"] == job_id]
    b = bundle["budget_history"]
    b = b[b["job_id"] == job_id].groupby("period", as_index=False)[
        ["revised_budget", "forecast_to_complete", "job_to_date_costs"]].sum()
    fig = go.Figure()
    fig.add_scatter(x=h["period"], y=_d(h["cost_to_date"]), name="Cost to date (ERP)",
                    line=dict(color=NAVY, width=3))
    fig.add_scatter(x=h["period"], y=_d(h["est_total_cost"]), name="Estimated total cost",
                    line=dict(color=RED, dash="dash"))
    fig.add_scatter(x=b["period"], y=_d(b["revised_budget"]), name="Revised budget (Procore)",
                    line=dict(color=GREEN))
    fig.add_scatter(x=b["period"], y=_d(b["job_to_date_costs"] + b["forecast_to_complete"]),
                    name="PM forecast at completion", line=dict(color=ORANGE, dash="dot"))
    return _layout(fig, "Cost curve")


def progress_vs_billing(bundle, job_id: str) -> go.Figure:
    h = bundle["history"]
    h = h[h["job_id"] == job_id]
    fig = go.Figure()
    fig.add_scatter(x=h["period"], y=h["pct_complete"], name="Percent complete",
                    line=dict(color=NAVY, width=3))
    fig.add_scatter(x=h["period"], y=h["pct_billed"], name="Percent billed",
                    line=dict(color=ORANGE))
    fig = _layout(fig, "Percent complete vs percent billed", money_axis=False)
    fig.update_yaxes(tickformat=".0%")
    return fig


def margin_trend(bundle, job_id: str) -> go.Figure:
    h = bundle["history"]
    h = h[h["job_id"] == job_id]
    fig = go.Figure()
    fig.add_bar(x=h["period"], y=_d(h["est_gross_profit"]), name="Estimated gross profit",
                marker_color=_colors(h["est_gross_profit"], GREEN, RED),
                yaxis="y")
    fig.add_scatter(x=h["period"], y=h["est_gp_pct"], name="Estimated margin", yaxis="y2",
                    line=dict(color=NAVY, width=3))
    fig = _layout(fig, "Gross profit and margin (fade / gain)")
    fig.update_layout(yaxis2=dict(overlaying="y", side="right", tickformat=".1%",
                                  showgrid=False))
    return fig


def over_under_trend(bundle, job_id: str) -> go.Figure:
    h = bundle["history"]
    h = h[h["job_id"] == job_id]
    net = h["overbillings"] - h["underbillings"]
    fig = go.Figure()
    fig.add_bar(x=h["period"], y=_d(net), name="Over (+) / under (-) billed",
                marker_color=_colors(net, ORANGE, NAVY, zero_positive=False))
    return _layout(fig, "Over / under billing")


def cost_codes(bundle, job_id: str) -> pd.DataFrame:
    f = bundle["forecast"]
    f = f[f["job_id"] == job_id]
    cols = ["cost_code", "cost_type", "description", "revised_budget", "committed",
            "cost_to_date", "pm_forecast", "etc_used", "eac_used", "variance_used", "etc_source"]
    return f[cols].reset_index(drop=True)


COST_CODE_MONEY = ["revised_budget", "committed", "cost_to_date", "pm_forecast", "etc_used",
                   "eac_used", "variance_used"]


def cost_code_chart(bundle, job_id: str) -> go.Figure:
    f = cost_codes(bundle, job_id)
    label = f["cost_code"] + " " + f["cost_type"]
    fig = go.Figure()
    for col, name, color in (("revised_budget", "Budget", GREEN), ("committed", "Committed", GREY),
                             ("cost_to_date", "Actual (ERP)", NAVY),
                             ("eac_used", "Forecast at completion", RED)):
        fig.add_bar(x=label, y=_d(f[col]), name=name, marker_color=color)
    fig.update_layout(barmode="group")
    return _layout(fig, "Budget, committed, actual and forecast by cost code")


def job_flags(bundle, job_id: str) -> pd.DataFrame:
    f = bundle["flags"]
    return f[f["job_id"] == job_id].reset_index(drop=True)


def job_findings(bundle, job_id: str) -> pd.DataFrame:
    f = bundle["findings"]
    cols = [c for c in ("check", "cost_code", "reference", "procore_amount", "erp_amount",
                        "difference", "severity", "action") if c in f.columns]
    return f.loc[f["job_id"] == job_id, cols].reset_index(drop=True)


# -- portfolio ----------------------------------------------------------------------------------

def portfolio_key_figures(bundle) -> str:
    ip = bundle["in_progress"]
    s = bundle["schedule"]
    lines = [f"{bundle.company_name}: WIP at {bundle.period}",
             f"jobs in progress {len(ip)}, completed this year {len(bundle['completed'])}",
             f"contract value in progress {dollars(int(ip['contract_revised'].sum()))}",
             f"revenue for the period {dollars(int(s['revenue_period'].sum()))}",
             f"gross profit for the period {dollars(int(s['gross_profit_period'].sum()))}",
             f"underbillings {dollars(int(ip['underbillings'].sum()))}",
             f"overbillings {dollars(int(ip['overbillings'].sum()))}",
             f"loss provision {dollars(int(ip['loss_provision'].sum()))}",
             f"backlog {dollars(int(ip['backlog'].sum()))}",
             f"overrun flags {len(bundle['flags'])}, reconciliation findings "
             f"{len(bundle['findings'])}"]
    return "\n".join(lines)


def schedule_table(bundle) -> pd.DataFrame:
    ip = bundle["in_progress"]
    return ip[[c for c in SCHEDULE_VIEW if c in ip.columns]].reset_index(drop=True)


def over_under_chart(bundle) -> go.Figure:
    ip = bundle["in_progress"].sort_values("job_id")
    fig = go.Figure()
    fig.add_bar(x=ip["job_id"], y=_d(ip["underbillings"]), name="Underbillings",
                marker_color=NAVY)
    fig.add_bar(x=ip["job_id"], y=-_d(ip["overbillings"]), name="Overbillings (shown negative)",
                marker_color=ORANGE)
    fig.update_layout(barmode="relative")
    return _layout(fig, "Underbillings and overbillings by job")


def fade_chart(bundle) -> go.Figure:
    ip = bundle["in_progress"].sort_values("fade_vs_bid")
    fig = go.Figure()
    fig.add_bar(x=ip["job_id"], y=_d(ip["fade_vs_bid"]), name="Gross profit vs bid",
                marker_color=_colors(ip["fade_vs_bid"], GREEN, RED))
    return _layout(fig, "Fade (-) and gain (+) against the original bid")


def backlog_chart(bundle) -> go.Figure:
    ip = bundle["in_progress"].sort_values("backlog", ascending=False)
    fig = go.Figure()
    fig.add_bar(x=ip["job_id"], y=_d(ip["backlog"]), name="Backlog", marker_color=NAVY)
    return _layout(fig, "Backlog (contract revenue still to earn)")


def findings_text(bundle) -> str:
    """Plain text: findings per check and severity with their dollar difference, and the total
    left unexplained by the tie-out (the cells nbval checks)."""
    g = findings_by_check(bundle)
    lines = [f"{r.check:28} {r.severity:8} {r.findings:3d} {dollars(r.difference):>16}"
             for r in g.itertuples()]
    unexplained = int(bundle["tieout"]["unexplained"].sum()) if len(bundle["tieout"]) else 0
    lines.append(f"unexplained total: ${dollars(unexplained)}")
    return "\n".join(lines)


def findings_by_check(bundle) -> pd.DataFrame:
    f = bundle["findings"]
    if f.empty:
        return pd.DataFrame(columns=["check", "severity", "findings", "difference"])
    g = f.groupby(["check", "severity"], as_index=False).agg(
        findings=("check", "size"), difference=("difference", "sum"))
    g["difference"] = g["difference"].astype("int64")
    return g
