"""The WIP schedule of a company at a period end: which figure comes from which system, then
recognition, the period catch-up, completed contracts and the journal entry.

Inputs per job, as of the end of ``period`` (``E``):

- contract ``TP``: Procore prime contract(s) (not Draft / Out For Signature) plus prime change
  orders approved on or before ``E``; change orders created on or before ``E`` and not approved by
  then are *pending* (in ``TP`` only under the ``include_pending_co_revenue`` policy). The rule:
  :mod:`wip_lib.accounting.contract`.
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
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from wip_lib.accounting import forecast
from wip_lib.accounting.contract import contract_by_period
from wip_lib.accounting.journal import assert_balanced, summarise_by_account, wip_journal_entry
from wip_lib.accounting.catch_up import completed_contracts, period_amounts, ytd_amounts
from wip_lib.accounting.recognition import Policy, recognize
from wip_lib.core.periods import previous_period
from wip_lib.sources.budget_snapshot import snapshot_periods

PRIOR_CLOSED = "closed period (store)"
PRIOR_ASOF = "recomputed as of the period from current data (prior period not closed)"
PRIOR_NONE = "none (first period of the job)"

SOURCES = {
    "contract_source": "Procore: prime contract + change orders approved by period end",
    "cost_source": "ERP: job-cost transactions through the period",
    "billed_source": "ERP: AR billings through the period",
}


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


#: Columns of the recognition inputs, one row per job (and period).
INPUT_COLUMNS = ["job_id", "job_name", "status", "completion_date", "contract_original",
                 "change_orders_approved", "change_orders_pending", "cost_to_date",
                 "billed_to_date", "retainage_receivable", "est_cost_to_complete", "etc_source",
                 "est_cost_original", "uninstalled_materials", "period", "period_end",
                 *SOURCES]


def job_inputs(company, period: str, overrides: pd.DataFrame | None = None,
               forecast_df: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per job in the schedule at ``period``: the recognition inputs and their sources;
    :func:`inputs_all_periods` from ``period`` to ``period``.

    The ETC is the ``etc_used`` of ``forecast_df`` when given (the month-end passes the forecast it
    computed), else of the forecast with ``overrides`` when given, else as
    :func:`inputs_all_periods` takes it (the company's overrides of the period, if any)."""
    if forecast_df is None and overrides is not None:
        forecast_df = forecast.cost_to_complete(company, period, overrides)
    return inputs_all_periods(company, period, period,
                              forecasts=None if forecast_df is None else {period: forecast_df})


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


@dataclass(frozen=True)
class Priors:
    """The figures a period's amounts are measured against, and where each came from: the prior
    period (period amounts, fade, journal) and the last period of the previous fiscal year
    (year-to-date amounts). :func:`wip_lib.close.period.prior_figures` decides the source."""

    prior_period: str
    prior: pd.DataFrame
    prior_source: str
    fye_period: str
    fye: pd.DataFrame
    fye_source: str


def prior_periods(company, period: str) -> tuple[str, str]:
    """``(prior period, last period of the previous fiscal year)`` of ``period``."""
    fy_start = company.settings.fiscal_year_start(period)
    return previous_period(period), previous_period(fy_start)


def recomputed_priors(company, period: str) -> Priors:
    """Priors recomputed as of their periods from today's data (no period closed)."""
    prior_period, fye_period = prior_periods(company, period)
    prior = recognise(company, prior_period)
    fye = prior if fye_period == prior_period else recognise(company, fye_period)
    return Priors(prior_period, prior, PRIOR_ASOF, fye_period, fye, PRIOR_ASOF)


def wip_schedule(company, period: str, *, priors: Priors | None = None,
                 forecast_df: pd.DataFrame | None = None) -> PeriodSchedule:
    """The month's WIP schedule with period and year-to-date amounts (cumulative catch-up against
    ``priors``; recomputed from today's data when not given), completed contracts and the WIP
    journal entry."""
    settings = company.settings
    if forecast_df is None:
        forecast_df = forecast.cost_to_complete(company, period)
    current = recognise(company, period, forecast_df=forecast_df)
    if priors is None:
        priors = recomputed_priors(company, period)
    prior, prior_source, prior_period = priors.prior, priors.prior_source, priors.prior_period
    fye, fye_source, fye_prior = priors.fye, priors.fye_source, priors.fye_period

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
                                net_loss_provision=net)
    assert_balanced(journal)
    notes = [f"Prior period {prior_period}: {prior_source}.",
             f"Fiscal year start figures ({fye_prior}): {fye_source}."]
    return PeriodSchedule(period, sched, in_progress, completed, journal,
                          summarise_by_account(journal), forecast_df, prior_source, notes)


def inputs_all_periods(company, first: str, last: str, *,
                       forecasts: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The recognition inputs of every job for every period from ``first`` to ``last`` in one
    vectorised pass (one row per job and period, columns :data:`INPUT_COLUMNS`; rules in the
    module docstring). The one implementation: :func:`job_inputs` is this for one period.

    Cumulative ERP cost and AR billings through each period; the contract at each period end
    (:mod:`wip_lib.accounting.contract`); ``est_cost_original`` and the ETC from the job's budget
    snapshot as of each period (:mod:`wip_lib.sources.budget_snapshot`): the PM's forecast to
    complete, summed. Where a forecast is given for a period in ``forecasts`` (or, for a period
    with controller overrides in ``overrides/PERIOD.csv``, computed with them) the ETC is the sum
    of its ``etc_used`` over the job's rows, for jobs with a snapshot or an override; a job with
    neither has no estimate (``<NA>``).
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

    contract = contract_by_period(company, list(grid_p)).drop(columns="contract_revised")
    g = g.merge(contract, on=["job_id", "period"], how="left")
    for c in ("contract_original", "change_orders_approved", "change_orders_pending"):
        g[c] = g[c].fillna(0).astype("int64")
    g["cost_to_date"] = cumulative(company["erp_job_cost"], "amount")
    ar = company["erp_ar_billings"]
    g["billed_to_date"] = cumulative(ar, "amount_billed")
    g["retainage_receivable"] = cumulative(ar, "retainage")

    # ETC and the bid from the job's budget snapshot as of each period.
    snap = _group_sum(company["budget"], ["job_id", "period"],
                      ["forecast_to_complete", "original_budget"])
    snap = snap.assign(period=_s(snap["period"])).groupby(["job_id", "period"], sort=True,
                                                          as_index=False).sum()
    used = snapshot_periods(snap, grid_p).rename(columns={"budget_snapshot": "_snap"})
    g = g.merge(used, on=["job_id", "period"], how="left").merge(
        snap.rename(columns={"period": "_snap"}), on=["job_id", "_snap"], how="left")
    g["_snapshot"] = g.pop("_snap").astype("string")
    g["est_cost_to_complete"] = g.pop("forecast_to_complete").astype("Int64")
    g["est_cost_original"] = g.pop("original_budget").astype("Int64")
    g["etc_source"] = ("Procore: forecast to complete, budget snapshot "
                       + g["_snapshot"].fillna("(none)"))
    g["uninstalled_materials"] = np.zeros(len(g), dtype="int64")
    for k, v in SOURCES.items():
        g[k] = v
    forecasts = dict(forecasts or {})
    if company.overrides is not None and len(company.overrides):
        for p in set(company.overrides["period"].astype(str)) & set(grid_p) - set(forecasts):
            forecasts[p] = forecast.cost_to_complete(company, p)
    for p, fc in forecasts.items():
        etc = forecast.job_etc(fc).set_index("job_id")
        m = (g["period"] == p).to_numpy(bool)
        job = g.loc[m, "job_id"]
        overridden = (job.map(etc["etc_source"]) == forecast.SOURCE_OVERRIDE).fillna(False)
        estimated = g.loc[m, "_snapshot"].notna() | overridden
        g.loc[m, "est_cost_to_complete"] = job.map(etc["est_cost_to_complete"]).astype(
            "Int64").where(estimated.to_numpy(bool)).to_numpy()
        g.loc[m, "etc_source"] = np.where(overridden.to_numpy(bool),
                                          f"Controller override (overrides/{p}.csv)",
                                          g.loc[m, "etc_source"])
    for c in ("job_id", "job_name", "status", "period", *SOURCES, "etc_source"):
        g[c] = g[c].astype("string")
    return g[INPUT_COLUMNS].sort_values(["period", "job_id"], kind="stable").reset_index(
        drop=True)


def recognise_all_periods(company, first: str, last: str) -> pd.DataFrame:
    """:func:`recognise` for every job and period from ``first`` to ``last`` in one call."""
    policy = Policy.from_settings(company.settings.policies)
    return recognize(inputs_all_periods(company, first, last), policy)
