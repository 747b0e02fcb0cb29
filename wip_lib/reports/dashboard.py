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

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from wip_lib.core.grouping import aggregate
from wip_lib.accounting.flags import FLAGS
from wip_lib.close.bundle import job_rows
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


#: The trace types the reports draw. A figure carries its whole template in its JSON, and
#: ``plotly_white`` holds defaults for 24 trace types: three quarters of a dashboard's figure
#: JSON, encoded by the kernel, sent, decoded and written into the notebook and the page again
#: for every chart. A template's defaults for a trace type apply only to traces of that type,
#: so keeping these types' alone draws every chart the same.
TRACE_TYPES = ("bar", "scatter")


def _report_template() -> go.layout.Template:
    """``plotly_white`` (its layout whole) with the defaults of :data:`TRACE_TYPES` only."""
    white = pio.templates["plotly_white"]
    return go.layout.Template(layout=white.layout,
                              data={t: white.data[t] for t in TRACE_TYPES})


#: The report's plotly template, made the process's default once: a new figure takes its
#: default template as it is, where naming one per figure validates and deep-copies it (a third
#: of a dashboard's time). The dashboards run in kernels of their own.
pio.templates["wip_reports"] = _report_template()
pio.templates.default = "wip_reports"


def _figure(title: str, *, money_axis: bool = True, **layout) -> go.Figure:
    """A new figure with the reports' layout (``layout`` added to it or overriding it): the title,
    360 px high, the legend below, the left axis in whole dollars unless ``money_axis`` is false.
    Given whole to the constructor: plotly validates a layout once there, where updating a
    figure's layout walks each property's path again (a tenth of a dashboard's time)."""
    base = dict(title=title, height=360, margin=dict(l=60, r=20, t=50, b=40),
                legend=dict(orientation="h", y=-0.2))
    if money_axis:
        base["yaxis"] = dict(tickprefix="$", tickformat=",.0f")
    return go.Figure(layout={**base, **layout})


# -- project ------------------------------------------------------------------------------------

def job_number(bundle, job_id) -> str:
    """The job of the period's schedule that ``job_id`` names: text as it is, a whole number
    (papermill's reading of ``-p job_id 00205``) by its digits, leading zeros set aside
    (:func:`wip_lib.core.identifiers.job_number`)."""
    return _job_number(job_id, bundle.job_ids)


def job_row(bundle, job_id: str) -> pd.Series:
    """The job's row of the period's schedule (its first, by position: selecting the row alone
    skips copying every column of the matching rows first)."""
    s = bundle["schedule"]
    at = np.flatnonzero((s["job_id"] == job_id).to_numpy(dtype=bool, na_value=False))
    if not len(at):  # InputError when no job matches
        at = np.flatnonzero((s["job_id"] == job_number(bundle, job_id)).to_numpy(
            dtype=bool, na_value=False))
    return s.iloc[int(at[0])]


def input_warnings(bundle, job_id: str | None = None) -> list[str]:
    """The warnings on the period's input that the dashboards show: budget snapshots missing for
    the period (:func:`wip_lib.sources.snapshots.missing_snapshots`, the rule the month-end
    prints), for one job or for every job of the schedule."""
    s, snaps = bundle["schedule"], bundle["budget_history"]
    if job_id is not None:  # the job's snapshots only: the company's are millions of rows
        s = s[s["job_id"] == job_id]
        snaps = job_rows(snaps, job_id)
    return [str(p) for p in missing_snapshots(s, snaps, bundle.period)]


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
    """The job's key figures for the page header: the schedule's own figures, formatted."""
    r = job_row(bundle, job_id)
    return [("Contract", dollars(r["contract_revised"], whole=True)),
            ("Est. total cost", dollars(r["est_total_cost"], whole=True)),
            ("Est. margin", percent(r["est_gp_pct"])),
            ("% complete", percent(r["pct_complete"])),
            ("Earned revenue", dollars(r["earned_revenue"], whole=True)),
            ("GP to date", dollars(r["gross_profit_to_date"], whole=True)),
            ("Billed to date", dollars(r["billed_to_date"], whole=True)),
            ("Over (under) billed", dollars(r["over_under"], whole=True)),
            ("Loss provision", dollars(r["loss_provision"], whole=True)),
            ("Backlog", dollars(r["backlog"], whole=True)),
            ("Flags", "none" if pd.isna(r["flag"]) or not r["flag"] else str(r["flag"]))]


def job_facts(bundle, job_id: str) -> pd.DataFrame:
    """One row: status, owner, PM, start and completion dates of the job (those the company's
    data holds)."""
    r = job_row(bundle, job_id)
    facts = {"status": r["status"]}
    jobs = bundle.frames.get("jobs")
    if jobs is not None and len(jobs):
        j = jobs[jobs["job_id"] == job_id]
        if len(j):
            for c in ("customer", "project_manager", "start_date", "completion_date"):
                if c in j.columns:
                    facts[c] = j[c].iloc[0]
    if "completion_date" not in facts and "completion_date" in r.index:
        facts["completion_date"] = r["completion_date"]
    out = pd.DataFrame([facts])
    for c in ("start_date", "completion_date"):
        if c in out.columns:
            out[c] = pd.to_datetime(out[c])
    return out


def override_log(bundle, job_id: str) -> pd.DataFrame:
    """The job's controller overrides of cost to complete (superseded ones too): who, when (as
    written, to the second with its UTC offset), why, the scope, the override beside the PM's
    forecast of the same scope and the difference (from the period's override audit)."""
    a = bundle.frames.get("override_audit")
    cols = ["when", "who", "why", "cost_code", "cost_type", "pm_forecast", "override",
            "difference", "status"]
    if a is None or a.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
    a = job_rows(a, job_id)
    return a[[c for c in cols if c in a.columns]].reset_index(drop=True)


OVERRIDE_MONEY = ["pm_forecast", "override", "difference"]


def movement(bundle, job_id: str) -> pd.DataFrame:
    """The job's WIP line now, last period and the change (prior from the history bundle)."""
    r = job_row(bundle, job_id)
    h = job_rows(bundle["history"], job_id)
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
    h = job_rows(bundle["history"], job_id)
    b = bundle["budget_history"]
    b = job_rows(b, job_id).groupby("period", as_index=False)[
        ["revised_budget", "forecast_to_complete", "job_to_date_costs"]].sum()
    fig = _figure("Cost curve")
    fig.add_scatter(x=h["period"], y=_d(h["cost_to_date"]), name="Cost to date (ERP)",
                    line=dict(color=NAVY, width=3))
    fig.add_scatter(x=h["period"], y=_d(h["est_total_cost"]), name="Estimated total cost",
                    line=dict(color=RED, dash="dash"))
    fig.add_scatter(x=b["period"], y=_d(b["revised_budget"]), name="Revised budget (Procore)",
                    line=dict(color=GREEN))
    fig.add_scatter(x=b["period"], y=_d(b["job_to_date_costs"] + b["forecast_to_complete"]),
                    name="PM forecast at completion", line=dict(color=ORANGE, dash="dot"))
    return fig


def progress_vs_billing(bundle, job_id: str) -> go.Figure:
    h = job_rows(bundle["history"], job_id)
    fig = _figure("Percent complete vs percent billed", money_axis=False,
                  yaxis=dict(tickformat=".0%"))
    fig.add_scatter(x=h["period"], y=h["pct_complete"], name="Percent complete",
                    line=dict(color=NAVY, width=3))
    fig.add_scatter(x=h["period"], y=h["pct_billed"], name="Percent billed",
                    line=dict(color=ORANGE))
    return fig


def margin_trend(bundle, job_id: str) -> go.Figure:
    h = job_rows(bundle["history"], job_id)
    fig = _figure("Gross profit and margin (fade / gain)",
                  yaxis2=dict(overlaying="y", side="right", tickformat=".1%", showgrid=False))
    fig.add_bar(x=h["period"], y=_d(h["est_gross_profit"]), name="Estimated gross profit",
                marker_color=_colors(h["est_gross_profit"], GREEN, RED),
                yaxis="y")
    fig.add_scatter(x=h["period"], y=h["est_gp_pct"], name="Estimated margin", yaxis="y2",
                    line=dict(color=NAVY, width=3))
    return fig


def over_under_trend(bundle, job_id: str) -> go.Figure:
    h = job_rows(bundle["history"], job_id)
    net = h["overbillings"] - h["underbillings"]
    fig = _figure("Over / under billing")
    fig.add_bar(x=h["period"], y=_d(net), name="Over (+) / under (-) billed",
                marker_color=_colors(net, ORANGE, NAVY, zero_positive=False))
    return fig


def cost_codes(bundle, job_id: str) -> pd.DataFrame:
    f = job_rows(bundle["forecast"], job_id)
    cols = ["cost_code", "cost_type", "description", "revised_budget", "committed",
            "cost_to_date", "pm_forecast", "etc_used", "eac_used", "variance_used", "etc_source"]
    return f[cols].reset_index(drop=True)


COST_CODE_MONEY = ["revised_budget", "committed", "cost_to_date", "pm_forecast", "etc_used",
                   "eac_used", "variance_used"]


def cost_code_chart(bundle, job_id: str) -> go.Figure:
    f = cost_codes(bundle, job_id)
    label = f["cost_code"] + " " + f["cost_type"]
    fig = _figure("Budget, committed, actual and forecast by cost code", barmode="group")
    for col, name, color in (("revised_budget", "Budget", GREEN), ("committed", "Committed", GREY),
                             ("cost_to_date", "Actual (ERP)", NAVY),
                             ("eac_used", "Forecast at completion", RED)):
        fig.add_bar(x=label, y=_d(f[col]), name=name, marker_color=color)
    return fig


def job_flags(bundle, job_id: str) -> pd.DataFrame:
    return job_rows(bundle["flags"], job_id).reset_index(drop=True)


def job_findings(bundle, job_id: str) -> pd.DataFrame:
    f = bundle["findings"]
    cols = [c for c in ("check", "cost_code", "reference", "procore_amount", "erp_amount",
                        "difference", "severity", "action") if c in f.columns]
    return job_rows(f, job_id)[cols].reset_index(drop=True)


#: Retention columns the dashboards show (money in cents; :mod:`wip_lib.accounting.retainage`).
RETENTION_VIEW = ["direction", "contract", "party", "rate", "withheld", "released",
                  "collected_or_paid", "outstanding", "procore_retained"]
RETENTION_MONEY = ["withheld", "released", "collected_or_paid", "outstanding", "procore_retained",
                   "receivable", "payable", "net"]


def _retention(bundle) -> pd.DataFrame:
    r = bundle.frames.get("retention")
    return r if r is not None else pd.DataFrame(columns=RETENTION_VIEW + ["job_id"])


def job_retention(bundle, job_id: str) -> pd.DataFrame:
    """The job's retention, both directions: receivable from the owner, payable per
    commitment (withheld, released, collected or paid, outstanding; Procore's figure beside)."""
    r = _retention(bundle)
    return job_rows(r, job_id)[RETENTION_VIEW].reset_index(drop=True)


def portfolio_retention(bundle) -> pd.DataFrame:
    """Retention outstanding per job (sums of the period's retention rows): receivable from the
    owner, payable to subcontractors and suppliers, and net = receivable - payable."""
    r = _retention(bundle)
    out = pd.DataFrame({"job_id": pd.Series(dtype="string")})
    for direction in ("receivable", "payable"):
        part = r[r["direction"] == direction].groupby("job_id", as_index=False)[
            "outstanding"].sum().rename(columns={"outstanding": direction})
        out = out.merge(part, on="job_id", how="outer")
    for c in ("receivable", "payable"):
        out[c] = out[c].fillna(0).astype("int64")
    out["net"] = out["receivable"] - out["payable"]
    names = dict(zip(bundle["schedule"]["job_id"], bundle["schedule"]["job_name"]))
    out.insert(1, "job_name", out["job_id"].map(names).astype("string").fillna(""))
    return out.sort_values("job_id", kind="stable").reset_index(drop=True)


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


def portfolio_headline(bundle) -> list[tuple[str, str]]:
    """The portfolio's key figures for the page header (sums of the schedule's own figures)."""
    ip, s = bundle["in_progress"], bundle["schedule"]

    def total(frame, col):
        return dollars(int(frame[col].sum()), whole=True)

    return [("Jobs in progress", str(len(ip))),
            ("Completed this year", str(len(bundle["completed"]))),
            ("Contract value in progress", total(ip, "contract_revised")),
            ("Revenue, period", total(s, "revenue_period")),
            ("Gross profit, period", total(s, "gross_profit_period")),
            ("Underbillings", total(ip, "underbillings")),
            ("Overbillings", total(ip, "overbillings")),
            ("Loss provision", total(ip, "loss_provision")),
            ("Backlog", total(ip, "backlog")),
            ("Overrun flags", str(len(bundle["flags"]))),
            ("Findings", str(len(bundle["findings"])))]


#: The contracts in progress in two tables that fit a 1,400 px page, each with column groups:
#: (group label, columns). The job column stays in view (sticky) when a table scrolls.
ESTIMATE_VIEW = [("Job", ["job_id", "job_name", "project_manager", "start_date",
                          "completion_date"]),
                 ("Contract and estimate", ["contract_revised", "est_total_cost",
                                            "est_gross_profit", "est_gp_pct"]),
                 ("Earned to date", ["pct_complete", "cost_to_date", "earned_revenue",
                                     "gross_profit_to_date", "loss_provision"])]
BILLING_VIEW = [("Job", ["job_id", "job_name"]),
                ("Billing", ["billed_to_date", "pct_billed", "underbillings", "overbillings"]),
                ("Backlog", ["backlog"]),
                ("This period", ["revenue_period", "cost_period", "gross_profit_period"]),
                ("Fade (-) / gain (+)", ["fade", "fade_vs_bid"])]
PCT_COLUMNS = {"est_gp_pct", "pct_complete", "pct_billed"}
NOT_MONEY = {"job_id", "job_name", "project_manager", "start_date", "completion_date", "status",
             "customer"} | PCT_COLUMNS


def job_flag_kinds(frame: pd.DataFrame, flags: pd.DataFrame | None) -> pd.Series:
    """For each row of ``frame`` (rows by ``job_id``), every flag kind of its job, each once,
    joined by ``, ``: the recognition flag codes of its ``flag`` column (``;``-joined, as the
    schedule carries them) in their order, then the kinds of the job's rows in ``flags`` in the
    order of :data:`wip_lib.accounting.flags.FLAGS`."""
    jobs = frame["job_id"].astype("string")
    own = (frame["flag"] if "flag" in frame.columns
           else pd.Series("", index=frame.index)).astype("string").fillna("")
    codes = pd.DataFrame({"job_id": jobs.to_numpy(), "kind": own.str.split(";").to_numpy()}
                         ).explode("kind")
    codes = codes.assign(_src=0, _o=codes.groupby(level=0).cumcount())
    parts = [codes]
    if flags is not None and len(flags):
        f = pd.DataFrame({"job_id": flags["job_id"].astype("string"),
                          "kind": flags["flag"].astype("string")})
        order = {k: i for i, k in enumerate(FLAGS)}
        parts.append(f.assign(_src=1, _o=f["kind"].map(order).fillna(len(FLAGS))))
    every = pd.concat(parts, ignore_index=True)
    every = every[(every["kind"].fillna("") != "").to_numpy(bool)]
    every = every.sort_values(["job_id", "_src", "_o", "kind"], kind="stable").drop_duplicates(
        ["job_id", "kind"])
    joined = every.groupby("job_id", sort=False)["kind"].agg(", ".join).to_dict()
    return jobs.map(lambda j: joined.get(j, "")).astype("string").fillna("")


def with_job_facts(bundle, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (rows by ``job_id``) with the job's PM, owner and start date from the company's
    projects, its percent billed from the job history of the period, and every flag kind of the
    job (``flag_kinds``, :func:`job_flag_kinds`: the schedule's recognition flags and the period's
    overrun and billing flags), where the bundle holds them (the same figures; nothing is
    recomputed)."""
    out = frame.copy()
    out["flag_kinds"] = job_flag_kinds(out, bundle.frames.get("flags"))
    jobs = bundle.frames.get("jobs")
    if jobs is not None and len(jobs):
        facts = jobs.drop_duplicates("job_id").set_index("job_id")
        for c in ("project_manager", "start_date", "customer"):
            if c in facts.columns:
                out[c] = out["job_id"].map(facts[c]).to_numpy()
    h = bundle.frames.get("history")
    if h is not None and len(h) and "pct_billed" in h.columns:
        now = h[h["period"] == bundle.period].drop_duplicates("job_id").set_index("job_id")
        out["pct_billed"] = out["job_id"].map(now["pct_billed"]).astype("float64").to_numpy()
    return out


def portfolio_table(bundle, view) -> tuple[pd.DataFrame, dict]:
    """The contracts in progress as ``view`` (:data:`ESTIMATE_VIEW`, :data:`BILLING_VIEW`) lays
    them out, and the :func:`~wip_lib.reports.html.html_table` options that show them (money,
    percent, column groups, sticky job column, total row, loss jobs marked). PM and start date
    come from the company's projects, percent billed from the job history of the period (the
    same figures; nothing is recomputed). A column the data lacks is left out."""
    ip = bundle["in_progress"].reset_index(drop=True)
    frame = with_job_facts(bundle, ip)
    groups, cols = [], []
    for glabel, members in view:
        present = [c for c in members if c in frame.columns]
        if present:
            groups.append((glabel, len(present)))
            cols += present
    df = frame[cols]
    for c in ("start_date", "completion_date"):
        if c in df.columns:
            df[c] = pd.to_datetime(df[c])
    money = [c for c in cols if c not in NOT_MONEY]
    opts = {"money": money, "pct": [c for c in cols if c in PCT_COLUMNS], "groups": groups,
            "sticky": True, "total_row": True, "whole_dollars": True,
            "highlight": ip["loss_provision"] > 0,
            "labels": {"completion_date": "Completion", "revenue_period": "Revenue",
                       "cost_period": "Cost", "gross_profit_period": "Gross profit",
                       "fade": "Period", "fade_vs_bid": "vs bid"}}
    return df, opts


def portfolio_trend(bundle) -> pd.DataFrame:
    """Per month, the jobs in progress then: their number, underbillings, overbillings, net
    over (under) billings, estimated gross profit and backlog (sums of the job history, which
    takes a closed month's figures as closed and recomputes the others as of their end), and
    ``source``: ``closed`` when every job of the month is from a close, else ``recomputed``."""
    h = bundle["history"]
    h = h[h["status"].astype("string") != "complete"]
    cols = ["underbillings", "overbillings", "est_gross_profit", "backlog"]
    g = h.groupby("period", sort=True)
    out = g[cols].sum().astype("int64")
    out.insert(0, "jobs", g.size().astype("int64"))
    out.insert(3, "over_under", out["overbillings"] - out["underbillings"])
    closed = g["source"].agg(lambda s: bool((s == "closed").all()))
    out["source"] = closed.map({True: "closed", False: "recomputed"}).astype("string")
    return out.reset_index()


TREND_MONEY = ["underbillings", "overbillings", "over_under", "est_gross_profit", "backlog"]


def portfolio_trend_chart(bundle) -> go.Figure:
    """Net over (under) billings and estimated gross profit (left axis) and backlog (right
    axis) of the jobs in progress, month by month; closed months marked with a filled dot,
    recomputed ones hollow."""
    t = portfolio_trend(bundle)
    symbols = ["circle" if s == "closed" else "circle-open" for s in t["source"]]
    fig = _figure("Portfolio trend: jobs in progress at each month end (filled dot: closed "
                  "month)", height=380, yaxis2=dict(overlaying="y", side="right",
                                                    tickprefix="$", tickformat=",.0f",
                                                    showgrid=False))
    for col, name, color, axis in (("backlog", "Backlog (right axis)", NAVY, "y2"),
                                   ("est_gross_profit", "Estimated gross profit", GREEN, "y"),
                                   ("over_under", "Over (+) / under (-) billed, net", ORANGE,
                                    "y")):
        fig.add_scatter(x=t["period"], y=_d(t[col]), name=name, mode="lines+markers",
                        line=dict(color=color, width=3), marker=dict(symbol=symbols, size=8),
                        yaxis=axis)
    return fig


def schedule_table(bundle) -> pd.DataFrame:
    ip = bundle["in_progress"]
    return ip[[c for c in SCHEDULE_VIEW if c in ip.columns]].reset_index(drop=True)


def over_under_chart(bundle) -> go.Figure:
    ip = bundle["in_progress"].sort_values("job_id")
    fig = _figure("Underbillings and overbillings by job", barmode="relative")
    fig.add_bar(x=ip["job_id"], y=_d(ip["underbillings"]), name="Underbillings",
                marker_color=NAVY)
    fig.add_bar(x=ip["job_id"], y=-_d(ip["overbillings"]), name="Overbillings (shown negative)",
                marker_color=ORANGE)
    return fig


def fade_chart(bundle) -> go.Figure:
    ip = bundle["in_progress"].sort_values("fade_vs_bid")
    fig = _figure("Fade (-) and gain (+) against the original bid")
    fig.add_bar(x=ip["job_id"], y=_d(ip["fade_vs_bid"]), name="Gross profit vs bid",
                marker_color=_colors(ip["fade_vs_bid"], GREEN, RED))
    return fig


def backlog_chart(bundle) -> go.Figure:
    ip = bundle["in_progress"].sort_values("backlog", ascending=False)
    fig = _figure("Backlog (contract revenue still to earn)")
    fig.add_bar(x=ip["job_id"], y=_d(ip["backlog"]), name="Backlog", marker_color=NAVY)
    return fig


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
    g = aggregate(f, ["check", "severity"], as_index=False, findings=("check", "size"),
                  difference=("difference", "sum"))
    g["difference"] = g["difference"].astype("int64")
    return g


#: The completed-contracts schedule shown in two tables that each fit a page's width: what the
#: year recognised, then what is still to settle (columns of
#: :func:`wip_lib.accounting.catch_up.completed_contracts`).
COMPLETED_PARTS = (
    ("Revenue and gross profit", ("final_contract", "total_cost", "total_gross_profit",
                                  "revenue_prior_years", "revenue_this_year", "cost_prior_years",
                                  "cost_this_year", "gp_prior_years", "gp_this_year")),
    ("Billing, retention and fade", ("billed_to_date", "underbillings", "overbillings",
                                     "retainage_receivable", "retainage_payable",
                                     "est_gross_profit_last", "fade_at_close")),
)


def completed_tables(completed: pd.DataFrame) -> list[tuple[str, pd.DataFrame, list[str]]]:
    """``(title, table, money columns)`` per part of :data:`COMPLETED_PARTS`, each led by the
    job's number, completion date and name; a column of the schedule that no part names goes in
    the last part (nothing is left off the page)."""
    keys = [c for c in ("job_id", "completion_date", "job_name") if c in completed.columns]
    named = {c for _, cols in COMPLETED_PARTS for c in cols}
    rest = [c for c in completed.columns if c not in named and c not in keys]
    out = []
    for i, (title, cols) in enumerate(COMPLETED_PARTS):
        money = [c for c in cols if c in completed.columns]
        if i == len(COMPLETED_PARTS) - 1:
            money += rest
        out.append((title, completed[keys + money], money))
    return out
