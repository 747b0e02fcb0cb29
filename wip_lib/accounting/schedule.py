"""The WIP schedule of a company at a period end: which figure comes from which system, then
recognition, the period catch-up, completed contracts and the journal entry.

Inputs per job, as of the end of ``period`` (``E``):

- contract ``TP``: Procore prime contract(s) (not Draft / Out For Signature) plus prime change
  orders approved on or before ``E``; change orders created on or before ``E`` and not approved by
  then are *pending* (in ``TP`` only under the ``include_pending_co_revenue`` policy).
- cost to date ``CTD``: the ERP's job-cost transactions with accounting period ``<= period`` (the
  books, every cost code, unmapped ones included).
- cost to complete ``ETC``: Procore's forecast to complete from the budget snapshot of ``period``
  (its latest snapshot on or before), code by code, unless a controller override exists
  (:mod:`wip_lib.accounting.overrides`); see :func:`wip_lib.accounting.forecast.cost_to_complete`.
- billed to date ``B``: the ERP's AR billings (gross of retainage) with period ``<= period``;
  retainage receivable is the retainage withheld on them.
- bid: ``contract_original - est_cost_original``, the original budget of the latest snapshot.

Job universe: jobs started by ``E`` and not completed before the fiscal year began. A job whose
Procore stage is ``complete`` and whose completion date is on or before ``E`` is *complete*:
``ER = TP``, and it moves to the completed-contracts schedule of the fiscal year.

Prior figures (the period catch-up and the journal) come from the period store when the prior
period is closed there, else they are recomputed as of the prior period from today's data and
marked so (``prior_source``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from wip_lib.accounting import forecast
from wip_lib.accounting.journal import (assert_balanced, gl_tie, gl_tie_notes, summarise_by_account,
                                        wip_journal_entry)
from wip_lib.accounting.catch_up import completed_contracts, period_amounts, ytd_amounts
from wip_lib.accounting.recognition import Policy, recognize

PRIOR_CLOSED = "closed period (store)"
PRIOR_ASOF = "recomputed as of the period from current data (prior period not closed)"
PRIOR_NONE = "none (first period of the job)"

SOURCES = {
    "contract_source": "Procore: prime contract + change orders approved by period end",
    "cost_source": "ERP: job-cost transactions through the period",
    "billed_source": "ERP: AR billings through the period",
}


def _end(period: str) -> pd.Timestamp:
    return pd.Period(period, freq="M").end_time.normalize()


def _s(x: pd.Series) -> pd.Series:
    return x.astype("string").fillna("").str.strip()


@functools.cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process for aggregations (nothing is stored in it)."""
    return duckdb.connect()


def _group_sum(df: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
    """Sum of each of ``values`` per distinct ``keys`` as stored (nulls in a value count as 0;
    a null key is a group of its own; a sum beyond int64 is an error, never a wrap).

    DuckDB's parallel hash aggregate over the frame in place: about three times pandas' groupby
    on millions of job-cost rows. Callers trim the keys of the (small) result and group again,
    so text is cleaned once per distinct key, not once per row."""
    q = lambda c: '"' + c.replace('"', '""') + '"'  # noqa: E731
    con = _duckdb().cursor()  # a cursor costs nothing; a new in-memory database ~40 ms
    try:
        con.register("t", df[[*keys, *values]])
        out = con.execute(
            f"SELECT {', '.join(q(k) + '::VARCHAR AS ' + q(k) for k in keys)}, "
            + ", ".join(f"coalesce(sum({q(v)}), 0)::BIGINT AS {q(v)}" for v in values)
            + " FROM t GROUP BY ALL").df()
    finally:
        con.close()
    return out.astype({**{k: "string" for k in keys}, **{v: "int64" for v in values}})


def _sum_by_job(df: pd.DataFrame, value: str, name: str) -> pd.DataFrame:
    g = df.groupby(df["job_id"].astype("string"), sort=True)[value].sum()
    return g.astype("int64").rename(name).rename_axis("job_id").reset_index()


def contract_inputs(company, period: str) -> pd.DataFrame:
    """``job_id, contract_original, change_orders_approved, change_orders_pending`` at ``E``."""
    end = _end(period)
    pc = company["prime_contracts"]
    pc = pc[~_s(pc["status"]).str.lower().isin(["draft", "out for signature"])]
    orig = _sum_by_job(pc, "original_amount", "contract_original")
    co = company["prime_change_orders"].merge(
        pc[["job_id", "contract_number"]], on=["job_id", "contract_number"], how="inner")
    fam = _s(co["status_family"]).str.lower()
    approved_at = pd.to_datetime(co["approved_date"])
    created = pd.to_datetime(co["created_date"])
    approved = (fam == "approved") & (approved_at.isna() | (approved_at <= end))
    # Approved after E but raised by E: at E it was still pending.
    pending = ((fam == "pending") | ((fam == "approved") & (approved_at > end))) & (
        created.isna() | (created <= end))
    a = _sum_by_job(co[approved.to_numpy(bool)], "amount", "change_orders_approved")
    p = _sum_by_job(co[pending.to_numpy(bool)], "amount", "change_orders_pending")
    out = orig.merge(a, on="job_id", how="left").merge(p, on="job_id", how="left")
    for c in ("change_orders_approved", "change_orders_pending"):
        out[c] = out[c].fillna(0).astype("int64")
    return out


def job_inputs(company, period: str, overrides: pd.DataFrame | None = None,
               forecast_df: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per job in the schedule at ``period``: the recognition inputs and their sources."""
    end = _end(period)
    fy_start = pd.Period(company.settings.fiscal_year_start(period), freq="M").start_time
    jobs = company["jobs"].copy()
    jobs["job_id"] = jobs["job_id"].astype("string")
    start = pd.to_datetime(jobs["start_date"])
    done_at = pd.to_datetime(jobs["completion_date"])
    stage_complete = _s(jobs["status"]).str.lower().isin(["complete", "completed", "closed"])
    complete = stage_complete & done_at.notna() & (done_at <= end)
    started = start.isna() | (start <= end)
    gone = complete & (done_at < fy_start)
    jobs = jobs.assign(status=np.where(complete, "complete", "open"))[(started & ~gone)
                                                                       .to_numpy(bool)]
    out = jobs[["job_id", "job_name", "status"]].reset_index(drop=True)
    out["completion_date"] = done_at[(started & ~gone).to_numpy(bool)].to_numpy()

    out = out.merge(contract_inputs(company, period), on="job_id", how="left")
    jc = company["erp_job_cost"]
    out = out.merge(_sum_by_job(jc[_s(jc["period"]) <= period], "amount", "cost_to_date"),
                    on="job_id", how="left")
    ar = company["erp_ar_billings"]
    ar = ar[_s(ar["period"]) <= period]
    out = out.merge(_sum_by_job(ar, "amount_billed", "billed_to_date"), on="job_id", how="left")
    out = out.merge(_sum_by_job(ar, "retainage", "retainage_receivable"), on="job_id", how="left")

    if forecast_df is None:
        forecast_df = forecast.cost_to_complete(company, period, overrides)
    etc = forecast.job_etc(forecast_df)
    out = out.merge(etc, on="job_id", how="left")
    b = company["budget"]
    b = b[_s(b["period"]) <= period]
    latest = b.groupby("job_id")["period"].transform("max")
    snap = b[b["period"] == latest]
    out = out.merge(_sum_by_job(snap, "original_budget", "est_cost_original"), on="job_id",
                    how="left")
    snap_period = snap.groupby(snap["job_id"].astype("string"))["period"].first()

    for c in ("contract_original", "change_orders_approved", "change_orders_pending",
              "cost_to_date", "billed_to_date", "retainage_receivable"):
        out[c] = out[c].fillna(0).astype("int64")
    out["est_cost_to_complete"] = out["est_cost_to_complete"].astype("Int64")
    out["est_cost_original"] = out["est_cost_original"].astype("Int64")
    out["uninstalled_materials"] = np.zeros(len(out), dtype="int64")
    out["period"] = period
    out["period_end"] = end
    for k, v in SOURCES.items():
        out[k] = v
    snap_text = out["job_id"].map(snap_period).astype("string")
    etc_src = ("Procore: forecast to complete, budget snapshot " + snap_text.fillna("(none)"))
    out["etc_source"] = etc_src.mask(out["etc_source"] == forecast.SOURCE_OVERRIDE,
                                     "Controller override (overrides/" + period + ".csv)")
    for c in ("job_id", "job_name", "status", "period", *SOURCES, "etc_source"):
        out[c] = out[c].astype("string")
    return out.sort_values("job_id", kind="stable").reset_index(drop=True)


def recognise(company, period: str, overrides: pd.DataFrame | None = None,
              forecast_df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Recognition (:func:`wip_lib.accounting.recognition.recognize`) of :func:`job_inputs` under the
    company's policies."""
    policy = Policy.from_settings(company.settings.policies)
    return recognize(job_inputs(company, period, overrides, forecast_df), policy)


@dataclass
class PeriodSchedule:
    period: str
    schedule: pd.DataFrame          # every job of the period: in progress and completed this year
    in_progress: pd.DataFrame
    completed: pd.DataFrame         # completed-contracts schedule of the fiscal year
    journal: pd.DataFrame
    journal_summary: pd.DataFrame
    forecast: pd.DataFrame
    prior_source: str
    notes: list[str] = field(default_factory=list)
    gl_tie: pd.DataFrame | None = None  # WIP accounts kept by account only: GL vs prior schedule

    def totals(self) -> dict[str, int]:
        s = self.schedule
        ip = self.in_progress
        return {
            "revenue_period": int(s["revenue_period"].sum()),
            "cost_period": int(s["cost_period"].sum()),
            "gross_profit_period": int(s["gross_profit_period"].sum()),
            "revenue_ytd": int(s["revenue_ytd"].sum()),
            "gross_profit_ytd": int(s["gross_profit_ytd"].sum()),
            "underbillings": int(ip["underbillings"].sum()),
            "overbillings": int(ip["overbillings"].sum()),
            "loss_provision": int(ip["loss_provision"].sum()),
            "backlog": int(ip["backlog"].sum()),
        }


def _prior(company, period: str, store, overrides_for=None) -> tuple[pd.DataFrame, str]:
    if store is not None and store.is_closed(period):
        frame = store.load(period, "schedule")
        if frame is not None:
            return frame, PRIOR_CLOSED
    return recognise(company, period), PRIOR_ASOF


def wip_schedule(company, period: str, *, store=None, overrides: pd.DataFrame | None = None,
                 forecast_df: pd.DataFrame | None = None) -> PeriodSchedule:
    """The month's WIP schedule with period and year-to-date amounts (cumulative catch-up against
    the prior period's closed figures), completed contracts and the WIP journal entry."""
    settings = company.settings
    if forecast_df is None:
        forecast_df = forecast.cost_to_complete(company, period, overrides)
    current = recognise(company, period, forecast_df=forecast_df)
    prior_period = str(pd.Period(period, freq="M") - 1)
    prior, prior_source = _prior(company, prior_period, store)
    fy_start = settings.fiscal_year_start(period)
    fye_prior = str(pd.Period(fy_start, freq="M") - 1)
    if fye_prior == prior_period:
        fye, fye_source = prior, prior_source
    else:
        fye, fye_source = _prior(company, fye_prior, store)

    sched = period_amounts(current, prior)
    ytd = ytd_amounts(current, fye)
    for c in ytd.columns:
        if c.endswith("_ytd"):
            sched[c] = ytd[c]
    prior_keyed = prior.set_index(prior["job_id"].astype("string"))
    sched["est_gp_pct_prior"] = sched["job_id"].map(prior_keyed["est_gp_pct"]).astype("float64")
    sched["prior_source"] = pd.Series(
        np.where(sched["job_id"].isin(prior_keyed.index), prior_source, PRIOR_NONE),
        index=sched.index, dtype="string")

    done = (sched["status"] == "complete").to_numpy(bool)
    in_progress = sched[~done].reset_index(drop=True)
    finals = sched[done].reset_index(drop=True)
    last = prior[prior["job_id"].isin(finals["job_id"])]
    completed = completed_contracts(finals, fye, last_reported=last)
    completed.insert(1, "completion_date", finals["completion_date"].to_numpy())

    net = bool(settings.policies.get("net_loss_provision", False))
    journal = wip_journal_entry(in_progress, company["gl_balances"], settings.gl_accounts, period,
                                net_loss_provision=net, prior=prior)
    assert_balanced(journal)
    tie = gl_tie(company["gl_balances"], prior, settings.gl_accounts, period,
                 net_loss_provision=net)
    notes = [f"Prior period {prior_period}: {prior_source}.",
             f"Fiscal year start figures ({fye_prior}): {fye_source}.",
             *gl_tie_notes(tie)]
    return PeriodSchedule(period, sched, in_progress, completed, journal,
                          summarise_by_account(journal), forecast_df, prior_source, notes, tie)


def inputs_all_periods(company, first: str, last: str) -> pd.DataFrame:
    """:func:`job_inputs` for every period from ``first`` to ``last`` in one vectorised pass
    (one row per job and period, ``period`` column), for history and scale.

    Same rules as :func:`job_inputs`: cumulative ERP cost and AR billings through each period,
    change orders approved (pending) by each period end, ETC from the job's latest budget snapshot
    on or before each period, or from ``overrides/PERIOD.csv`` where a controller saved one.
    """
    periods = pd.period_range(first, last, freq="M")
    grid_p = pd.Series([str(p) for p in periods], dtype="string")
    ends = pd.Series([p.end_time.normalize() for p in periods])
    jobs = company["jobs"].copy()
    jobs["job_id"] = jobs["job_id"].astype("string")
    g = jobs[["job_id", "job_name", "status", "start_date", "completion_date"]].merge(
        pd.DataFrame({"period": grid_p, "period_end": ends}), how="cross")
    # Once per period, not per row (jobs x periods rows share a few dozen periods).
    fy_of = {p: pd.Period(company.settings.fiscal_year_start(p), freq="M").start_time
             for p in grid_p}
    fy_start = pd.to_datetime(g["period"].map(fy_of))
    start = pd.to_datetime(g["start_date"])
    done_at = pd.to_datetime(g["completion_date"])
    stage_complete = _s(g["status"]).str.lower().isin(["complete", "completed", "closed"])
    complete = stage_complete & done_at.notna() & (done_at <= g["period_end"])
    keep = (start.isna() | (start <= g["period_end"])) & ~(complete & (done_at < fy_start))
    g = g.assign(status=np.where(complete, "complete", "open"))[keep.to_numpy(bool)]
    g = g.rename(columns={"completion_date": "_done"}).reset_index(drop=True)
    g["completion_date"] = pd.to_datetime(g.pop("_done"))
    g = g.drop(columns=["start_date"])

    # Jobs x periods matrices: row = the job's place in ``ids``, column = the period's in the
    # grid; each figure is summed per (job, period) once and cumulated along the periods.
    ids = pd.Index(g["job_id"].unique())
    grid = grid_p.to_numpy(dtype=object)
    P = len(grid)
    gj, gp = ids.get_indexer(g["job_id"]), pd.Index(grid).get_indexer(g["period"])

    def place(by: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, columns and a mask for per-(job, period) sums: periods before the first count
        in the first (cumulative figures start there), periods after the last not at all."""
        j = ids.get_indexer(by["job_id"])
        per = _s(by["period"]).to_numpy(dtype=object)
        c = np.minimum(np.searchsorted(grid, per, side="left"), P)
        c = np.where(per > grid[-1], P, c)
        return j, c, (j >= 0) & (c < P)

    def cumulative(df: pd.DataFrame, value: str) -> np.ndarray:
        """Sum of ``value`` with period ``<=`` each period, per row of ``g``."""
        by = _group_sum(df, ["job_id", "period"], [value])
        j, c, ok = place(by)
        m = np.zeros((len(ids), P), dtype=np.int64)
        np.add.at(m, (j[ok], c[ok]), by[value].to_numpy(dtype=np.int64)[ok])
        return np.cumsum(m, axis=1)[gj, gp]

    # Contract: a CO counts from its approval (or, pending, from its creation) period end on.
    pc = company["prime_contracts"]
    pc = pc[~_s(pc["status"]).str.lower().isin(["draft", "out for signature"])]
    g = g.merge(_sum_by_job(pc, "original_amount", "contract_original"), on="job_id", how="left")
    g["contract_original"] = g["contract_original"].fillna(0).astype("int64")
    co = company["prime_change_orders"].merge(pc[["job_id", "contract_number"]],
                                              on=["job_id", "contract_number"], how="inner")
    fam = _s(co["status_family"]).str.lower()
    appr = pd.to_datetime(co["approved_date"]).dt.to_period("M").astype("string")
    made = pd.to_datetime(co["created_date"]).dt.to_period("M").astype("string")
    is_appr = (fam == "approved").to_numpy(bool)
    is_open = fam.isin(["approved", "pending"]).to_numpy(bool)
    approved = co[is_appr].assign(period=appr[is_appr].fillna(first))
    opened = co[is_open].assign(period=made[is_open].fillna(first))
    g["change_orders_approved"] = cumulative(approved, "amount")
    g["cost_to_date"] = cumulative(company["erp_job_cost"], "amount")
    ar = company["erp_ar_billings"]
    g["billed_to_date"] = cumulative(ar, "amount_billed")
    g["retainage_receivable"] = cumulative(ar, "retainage")
    g["change_orders_pending"] = cumulative(opened, "amount") - g["change_orders_approved"]

    # ETC and the bid from the latest snapshot on or before each period (forward filled along
    # the periods; of several snapshots before the first period, the latest).
    snap = _group_sum(company["budget"], ["job_id", "period"],
                      ["forecast_to_complete", "original_budget"])
    snap = snap.assign(period=_s(snap["period"])).groupby(["job_id", "period"], sort=True,
                                                          as_index=False).sum()
    j, c, ok = place(snap)
    at = np.full((len(ids), P), -1, dtype=np.int64)
    rows = np.flatnonzero(ok)  # snapshots in period order within a job: the latest lands last
    keep_last = ~pd.DataFrame({"j": j[rows], "c": c[rows]}).duplicated(keep="last").to_numpy()
    at[j[rows][keep_last], c[rows][keep_last]] = rows[keep_last]
    col = np.maximum.accumulate(np.where(at >= 0, np.arange(P)[None, :], -1), axis=1)
    src = np.where(col >= 0, at[np.arange(len(ids))[:, None], np.maximum(col, 0)], -1)[gj, gp]
    has = src >= 0
    pick = np.maximum(src, 0)
    for name in ("forecast_to_complete", "original_budget"):
        v = pd.array(snap[name].to_numpy(dtype=np.int64)[pick], dtype="Int64")
        v[~has] = pd.NA
        g[name] = v
    g["budget_snapshot"] = pd.array(np.where(has, snap["period"].to_numpy(dtype=object)[pick],
                                             None), dtype="string")
    g["est_cost_to_complete"] = g.pop("forecast_to_complete").astype("Int64")
    g["est_cost_original"] = g.pop("original_budget").astype("Int64")
    g["etc_source"] = ("Procore: forecast to complete, budget snapshot "
                       + g.pop("budget_snapshot").astype("string").fillna("(none)"))
    g["uninstalled_materials"] = np.zeros(len(g), dtype="int64")
    for k, v in SOURCES.items():
        g[k] = v
    if getattr(company, "root", None) is not None:
        from wip_lib.accounting.overrides import override_path

        for p in grid_p:
            if override_path(company.root, str(p)).is_file():
                etc = forecast.job_etc(forecast.cost_to_complete(company, str(p)))
                m = g["period"] == p
                new = g.loc[m, "job_id"].map(etc.set_index("job_id")["est_cost_to_complete"])
                over = g.loc[m, "job_id"].map(etc.set_index("job_id")["etc_source"])
                g.loc[m, "est_cost_to_complete"] = new.astype("Int64").to_numpy()
                g.loc[m, "etc_source"] = np.where(
                    over.to_numpy() == forecast.SOURCE_OVERRIDE,
                    f"Controller override (overrides/{p}.csv)", g.loc[m, "etc_source"])
    for c in ("job_id", "job_name", "status", "period", *SOURCES, "etc_source"):
        g[c] = g[c].astype("string")
    return g.sort_values(["period", "job_id"], kind="stable").reset_index(drop=True)


def recognise_all_periods(company, first: str, last: str) -> pd.DataFrame:
    """:func:`recognise` for every job and period from ``first`` to ``last`` in one call."""
    policy = Policy.from_settings(company.settings.policies)
    return recognize(inputs_all_periods(company, first, last), policy)
