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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from wip_lib.accounting import forecast
from wip_lib.accounting.catch_up import completed_contracts, period_amounts, ytd_amounts
from wip_lib.accounting.contract import completed_at, contract_terms
from wip_lib.accounting.journal import (
    assert_balanced,
    gl_tie,
    gl_tie_notes,
    summarise_by_account,
    wip_journal_entry,
)
from wip_lib.accounting.recognition import Policy, recognize
from wip_lib.accounting.retainage import retainage_parts
from wip_lib.core.grouping import aggregate
from wip_lib.core.periods import previous_period
from wip_lib.core.settings import policies_of
from wip_lib.sources.budget_snapshot import snapshot_periods
from wip_lib.sources.procore_forecast import with_ecac

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
INPUT_COLUMNS = ["job_id", "job_name", "status", "completion_date", "contract_type", "fee_pct",
                 "contract_signed", "contract_original", "contract_estimated",
                 "change_orders_approved", "change_orders_pending", "change_orders_unpriced",
                 "change_orders_claims", "change_orders_pending_included",
                 "change_orders_pending_cost", "cost_to_date", "billed_to_date",
                 "retainage_receivable", "retainage_payable", "est_cost_to_complete",
                 "etc_source", "estimate_period", "est_cost_original", "uninstalled_materials",
                 "period", "period_end", *SOURCES]


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
    gl_tie: pd.DataFrame | None = None  # WIP accounts kept by account only: GL vs prior schedule

    def totals(self) -> dict[str, int]:
        """Income-statement figures of every job; balance-sheet figures: under/overbillings of
        every job that carries them (completed jobs until billed), provision and backlog of the
        jobs in progress. Each total is the sum of the per-job cents."""
        s = self.schedule
        ip = self.in_progress
        return {
            "revenue_period": int(s["revenue_period"].sum()),
            "cost_period": int(s["cost_period"].sum()),
            "gross_profit_period": int(s["gross_profit_period"].sum()),
            "revenue_ytd": int(s["revenue_ytd"].sum()),
            "gross_profit_ytd": int(s["gross_profit_ytd"].sum()),
            "underbillings": int(s["underbillings"].sum()),
            "overbillings": int(s["overbillings"].sum()),
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
    #: Each job completed this fiscal year at the last period it was in progress (closed-job
    #: fade); None: taken from ``prior``.
    last_open: pd.DataFrame | None = None


def last_open_periods(company, period: str) -> pd.Series:
    """Each job completed by ``period`` within its fiscal year (index: job number) and the last
    period it was in progress (value, ``YYYY-MM``): the month before the month of its completion
    date."""
    jobs = company["jobs"]
    end = pd.Period(period, freq="M").end_time.normalize()
    fy = pd.Period(company.settings.fiscal_year_start(period), freq="M").start_time
    done = pd.to_datetime(jobs["completion_date"])
    hit = (completed_at(jobs["status"], done, pd.Series(end, index=jobs.index))
           & (done >= fy)).to_numpy(bool)
    last = (done[hit].dt.to_period("M") - 1).astype(str).to_numpy()
    return pd.Series(last, index=pd.Index(_s(jobs["job_id"])[hit].to_numpy(), dtype="string"),
                     dtype="string")


def last_open_figures(company, period: str, figures_of: Callable[[str], pd.DataFrame]
                      ) -> pd.DataFrame:
    """The figures of each job completed by ``period`` within its fiscal year, at the last
    period it was in progress (:func:`last_open_periods`), as ``figures_of(that period)`` gives
    them: the closed-job fade compares the final gross profit with the estimate last reported
    while the job was open. One call per distinct period."""
    last = last_open_periods(company, period)
    frames = [pd.DataFrame({"job_id": pd.Series(dtype="string")})]
    for p, who in pd.Series(last.index, dtype="string").groupby(last.to_numpy()):
        f = figures_of(str(p))
        frames.append(f[f["job_id"].astype("string").isin(set(who)).to_numpy(bool)])
    return pd.concat(frames, ignore_index=True)


def prior_periods(company, period: str) -> tuple[str, str]:
    """``(prior period, last period of the previous fiscal year)`` of ``period``."""
    fy_start = company.settings.fiscal_year_start(period)
    return previous_period(period), previous_period(fy_start)


def prior_periods_needed(company, period: str) -> list[str]:
    """Every period whose figures ``period``'s priors use: the prior period, the previous
    fiscal year's last, and the last period in progress of each job completed this fiscal
    year (:func:`last_open_periods`)."""
    return sorted({*prior_periods(company, period), *last_open_periods(company, period)})


def recomputed_priors(company, period: str) -> Priors:
    """Priors recomputed as of their periods from today's data (no period closed), every
    period in one pass (:func:`recognise_periods`)."""
    prior_period, fye_period = prior_periods(company, period)
    figures = recognise_periods(company, prior_periods_needed(company, period))
    last = last_open_figures(company, period, figures.__getitem__)
    return Priors(prior_period, figures[prior_period], PRIOR_ASOF, fye_period,
                  figures[fye_period], PRIOR_ASOF, last)


def wip_schedule(company, period: str, *, priors: Priors | None = None,
                 forecast_df: pd.DataFrame | None = None,
                 current: pd.DataFrame | None = None) -> PeriodSchedule:
    """The month's WIP schedule with period and year-to-date amounts (cumulative catch-up against
    ``priors``; recomputed from today's data when not given), completed contracts and the WIP
    journal entry.

    ``current``: the period's recognition, ``recognise(company, period,
    forecast_df=forecast_df)``, when the caller has it already (from a pass over several
    periods: :func:`recognise_periods`)."""
    settings = company.settings
    if forecast_df is None:
        forecast_df = forecast.cost_to_complete(company, period)
    if current is None:
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
    last = priors.last_open if priors.last_open is not None else prior
    last = last[last["job_id"].isin(finals["job_id"])]
    completed = completed_contracts(finals, fye, last_reported=last)
    completed.insert(1, "completion_date", finals["completion_date"].to_numpy())

    net = bool(settings.policies.get("net_loss_provision", False))
    # Every job of the schedule: a completed job keeps its contract asset or liability until
    # billed (ASC 606-10-45-3), so the entry carries it rather than clearing it.
    journal = wip_journal_entry(sched, company["gl_balances"], settings.gl_accounts, period,
                                net_loss_provision=net, prior=prior)
    assert_balanced(journal)
    tie = gl_tie(company["gl_balances"], prior, settings.gl_accounts, period,
                 net_loss_provision=net)
    notes = [f"Prior period {prior_period}: {prior_source}.",
             f"Fiscal year start figures ({fye_prior}): {fye_source}.",
             *gl_tie_notes(tie)]
    return PeriodSchedule(period, sched, in_progress, completed, journal,
                          summarise_by_account(journal), forecast_df, prior_source, notes, tie)


def inputs_all_periods(company, first: str, last: str, *,
                       forecasts: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The recognition inputs of every job for every period from ``first`` to ``last`` in one
    vectorised pass (one row per job and period, columns :data:`INPUT_COLUMNS`; rules in the
    module docstring). The one implementation: :func:`job_inputs` is this for one period.

    Cumulative ERP cost and AR billings through each period (a retainage release invoice is not
    new billing: :func:`_ar_rows`); the contract and its terms at each period end
    (:func:`wip_lib.accounting.contract.contract_terms`); ``est_cost_original`` and the ETC from the
    job's budget snapshot as of each period (:mod:`wip_lib.sources.budget_snapshot`): the PM's
    forecast to complete, summed, plus the estimated cost of pending change-order work the policy
    adds (``change_orders_pending_cost``). Where a forecast is given for a period in ``forecasts``
    (or, for a period with controller overrides in ``overrides/PERIOD.csv``, computed with them)
    the ETC is the sum of its ``etc_used`` over the job's rows, for jobs with a snapshot or an
    override; a job with neither has no estimate (``<NA>``). ``estimate_period`` is the snapshot
    the estimate comes from (the period itself for an override). Retainage: :func:`_ar_rows`,
    :func:`_ap_rows`; uninstalled materials: :func:`uninstalled_materials`.
    """
    policies = policies_of(company.settings)
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
    complete = completed_at(g["status"], g["completion_date"], g["period_end"])
    started = (start.isna() | (start <= g["period_end"])).to_numpy(bool)
    before_fy = (complete & (done_at < fy_start)).to_numpy(bool)
    g = g.assign(status=np.where(complete, "complete", "open"),
                 _before_fy=before_fy)[started]
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

    contract = contract_terms(company, list(grid_p)).drop(columns="contract_revised")
    g = g.merge(contract, on=["job_id", "period"], how="left")
    for c in ("contract_original", "change_orders_approved", "change_orders_pending",
              "change_orders_unpriced", "change_orders_claims", "change_orders_pending_included",
              "change_orders_pending_cost"):
        g[c] = g[c].fillna(0).astype("int64")
    g["contract_signed"] = g["contract_signed"].astype("boolean").fillna(False).astype(bool)
    g["contract_type"] = g["contract_type"].astype("string").fillna("letter_of_intent")
    g["cost_to_date"] = cumulative(company["erp_job_cost"], "amount")
    ar = _ar_rows(company["erp_ar_billings"], policies["retainage_release"])
    g["billed_to_date"] = cumulative(ar, "billed")
    g["retainage_receivable"] = cumulative(ar, "retainage_open")
    g["retainage_payable"] = _retainage_payable(company["erp_ap_invoices"], g, ids, place)

    # ETC and the bid from the job's budget snapshot as of each period.
    budget = with_ecac(company["budget"], company.settings.budget_forecast)
    snap = _group_sum(budget, ["job_id", "period"],
                      ["estimated_cost_at_completion", "original_budget"])
    snap = snap.assign(period=_s(snap["period"])).groupby(["job_id", "period"], sort=True,
                                                          as_index=False).sum()
    used = snapshot_periods(snap, grid_p).rename(columns={"budget_snapshot": "_snap"})
    g = g.merge(used, on=["job_id", "period"], how="left").merge(
        snap.rename(columns={"period": "_snap"}), on=["job_id", "_snap"], how="left")
    g["_snapshot"] = g.pop("_snap").astype("string")
    # ETC = sum of the snapshot's ECAC - ERP cost to date on the snapshot's lines
    # (sources.procore_forecast; cost on a line the snapshot lacks is estimated at its cost).
    off_budget = _unbudgeted_cost(company, budget, g)
    g["est_cost_to_complete"] = (g.pop("estimated_cost_at_completion").astype("Int64")
                                 - (g["cost_to_date"] - off_budget)).astype("Int64")
    g["est_cost_original"] = g.pop("original_budget").astype("Int64")
    g["etc_source"] = ("Procore: estimated cost at completion less ERP cost to date, budget "
                       "snapshot "
                       + g["_snapshot"].fillna("(none)"))
    g["estimate_period"] = g["_snapshot"].astype("string")
    g["uninstalled_materials"] = uninstalled_materials(company, g, policies)
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
        g.loc[m, "estimate_period"] = np.where(overridden.to_numpy(bool), p,
                                               g.loc[m, "estimate_period"].astype(object))
    g["est_cost_to_complete"] = (g["est_cost_to_complete"].astype("Int64")
                                 + g["change_orders_pending_cost"])
    for c in ("job_id", "job_name", "status", "period", *SOURCES, "etc_source",
              "estimate_period", "fee_pct"):
        g[c] = g[c].astype("string")
    g = g[_kept(g, company)]
    return g[INPUT_COLUMNS].sort_values(["period", "job_id"], kind="stable").reset_index(
        drop=True)


def _unbudgeted_cost(company, budget: pd.DataFrame, g: pd.DataFrame) -> np.ndarray:
    """Per row of ``g`` (job, period, ``_snapshot``): ERP cost to date on Procore lines (code x
    type, through the crosswalk) that the job's budget snapshot of that period does not have.
    Only lines missing from some snapshot of their job can count, so the exact per-period work
    runs on those few lines."""
    out = np.zeros(len(g), dtype=np.int64)
    if g.empty:
        return out
    last = str(g["period"].max())
    cost = forecast.erp_cost_history(company, last)
    if cost.empty:
        return out
    keys = ["job_id", "cost_code", "cost_type"]
    b = budget[["job_id", "period", "cost_code", "cost_type"]].astype("string").drop_duplicates()
    snaps = b.groupby("job_id")["period"].nunique()
    in_snaps = aggregate(b, keys, as_index=False, n=("period", "size"))
    lines = cost[keys].drop_duplicates().merge(in_snaps, on=keys, how="left")
    lines["all"] = lines["job_id"].map(snaps)
    lines = lines[lines["n"].fillna(0) < lines["all"].fillna(0)]  # missing from some snapshot
    if lines.empty:
        return out
    c = cost.merge(lines[keys], on=keys)
    rows = g[["job_id", "period", "_snapshot"]].reset_index(drop=True).reset_index()
    m = rows.merge(c, on="job_id", suffixes=("", "_cost"))
    m = m[(m["period_cost"] <= m["period"]).to_numpy(dtype=bool)]
    m = m.merge(b.rename(columns={"period": "_snapshot"}).assign(_on=True),
                on=["job_id", "_snapshot", "cost_code", "cost_type"], how="left")
    m = m[m["_on"].isna().to_numpy(dtype=bool)]
    sums = m.groupby("index")["amount"].sum()
    out[sums.index.to_numpy()] = sums.to_numpy(dtype=np.int64)
    return out


def _kept(g: pd.DataFrame, company) -> np.ndarray:
    """Job universe: a job completed before its period's fiscal year began leaves the schedule
    once its billings equal its final revenue; until then it stays, so its contract asset or
    liability is carried (ASC 606-10-45-3) and the WIP entry never zeroes it unbilled. (Its
    retainage is a receivable, not a WIP balance: the completed-contracts schedule carries it for
    the jobs completed in the fiscal year, the AR aging after that.)"""
    before = g["_before_fy"].to_numpy(bool)
    keep = ~before
    if before.any():
        old = g[before]
        final = recognize(old.assign(status="complete").drop(columns="_before_fy")
                          .reindex(columns=[c for c in INPUT_COLUMNS if c in old.columns]),
                          Policy.from_settings(company.settings.policies))
        unsettled = (final["over_under"] != 0).to_numpy(bool)
        keep[np.flatnonzero(before)[unsettled]] = True
    return keep


def _ar_rows(ar: pd.DataFrame, release: str) -> pd.DataFrame:
    """Per AR row (ERP, gross of retainage): ``billed`` (what it adds to billed to date) and
    ``retainage_open`` (what it adds to retainage receivable): the retention rule,
    :func:`wip_lib.accounting.retainage.retainage_parts` (receivable = withheld - released and
    collected; a release is not new billing under ``retainage_release: in_amount``)."""
    parts = retainage_parts(ar["amount_billed"], ar["retainage"], ar["amount_paid"], release)
    return pd.DataFrame({"job_id": ar["job_id"], "period": ar["period"],
                         "billed": parts["billed"], "retainage_open": parts["outstanding"]})


def _retainage_payable(ap: pd.DataFrame, g: pd.DataFrame, ids: pd.Index, place) -> np.ndarray:
    """Retainage payable to subcontractors at each period end, per row of ``g``: retainage held
    on AP invoices with period ``<=`` the period, less retainage released (a negative
    ``retainage_held``) and retainage paid by the period end on the invoice that held it (the
    retention rule, :func:`wip_lib.accounting.retainage.retainage_parts`, counted when
    ``paid_date`` is on or before the period end, or blank)."""
    if ap.empty:
        return np.zeros(len(g), dtype=np.int64)
    parts = retainage_parts(ap["amount"], ap["retainage_held"], ap["amount_paid"])
    withheld = parts["withheld"].to_numpy(dtype=np.int64)
    released = parts["released"].to_numpy(dtype=np.int64)
    # Paid on the invoice that held it, counted once the payment date is reached.
    paid_ret = withheld - released - parts["outstanding"].to_numpy(dtype=np.int64)
    periods = g["period"].drop_duplicates().sort_values().to_numpy(dtype=object)
    ends = np.array([pd.Period(p, freq="M").end_time.normalize() for p in periods],
                    dtype="datetime64[ns]")[None, :]
    paid_at = pd.to_datetime(ap["paid_date"]).to_numpy(dtype="datetime64[ns]")[:, None]
    booked = (_s(ap["period"]).to_numpy(dtype=object)[:, None] <= periods[None, :])
    by_end = booked * (withheld - released)[:, None] - booked * np.where(
        np.isnat(paid_at) | (paid_at <= ends), paid_ret[:, None], 0)
    j = ids.get_indexer(_s(ap["job_id"]))
    ok = j >= 0
    m = np.zeros((len(ids), len(periods)), dtype=np.int64)
    np.add.at(m, j[ok], by_end[ok])
    return m[ids.get_indexer(g["job_id"]), pd.Index(periods).get_indexer(g["period"])]


def uninstalled_materials(company, g: pd.DataFrame, policies: Mapping) -> np.ndarray:
    """Uninstalled materials ``M`` per row of ``g`` (ASC 606-10-55-21, Example 19) under the
    ``uninstalled_materials`` policy: ``none`` 0; ``file`` the job's row of
    ``uninstalled_materials.csv`` for that period (a balance at the period end; no row is 0);
    ``pay_applications`` the materials presently stored on the job's latest owner pay
    application (per prime contract) with period end on or before the period end. ``M`` is
    at most the cost to date (materials billed as stored before their cost is booked count only
    up to the cost)."""
    source = policies["uninstalled_materials"]
    out = np.zeros(len(g), dtype=np.int64)
    if source == "file":
        um = company["uninstalled_materials"]
        um = pd.DataFrame({"job_id": _s(um["job_id"]), "period": _s(um["period"]),
                           "_m": um["amount"].astype("int64")})
        um = um.groupby(["job_id", "period"], as_index=False)["_m"].sum()
        key = g[["job_id", "period"]].astype(object).merge(um.astype({"job_id": object,
                                                                      "period": object}),
                                                           on=["job_id", "period"], how="left")
        out = key["_m"].fillna(0).astype("int64").to_numpy()
    elif source == "pay_applications":
        oi = company["owner_invoices"]
        oi = pd.DataFrame({"job_id": _s(oi["job_id"]), "contract": _s(oi["contract_number"]),
                           "end": pd.to_datetime(oi["period_end"]),
                           "app": oi["application_number"].astype("Int64").fillna(0),
                           "_m": oi["materials_stored"].astype("int64")})
        oi = oi.dropna(subset=["end"]).sort_values(["job_id", "contract", "end", "app"])
        if len(oi):
            periods = g["period"].drop_duplicates().sort_values().to_numpy(dtype=object)
            rows = []
            for p in periods:  # one pass per period of the grid (a few dozen)
                end = pd.Period(p, freq="M").end_time.normalize()
                last = oi[oi["end"] <= end].groupby(["job_id", "contract"]).tail(1)
                rows.append(last.groupby("job_id", as_index=False)["_m"].sum().assign(period=p))
            by = pd.concat(rows, ignore_index=True).astype({"job_id": object, "period": object})
            key = g[["job_id", "period"]].astype(object).merge(by, on=["job_id", "period"],
                                                               how="left")
            out = key["_m"].fillna(0).astype("int64").to_numpy()
    return np.minimum(out, g["cost_to_date"].to_numpy(dtype=np.int64))


def recognise_all_periods(company, first: str, last: str, *,
                          forecasts: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """:func:`recognise` for every job and period from ``first`` to ``last`` in one call
    (``forecasts``: as :func:`inputs_all_periods` takes them)."""
    policy = Policy.from_settings(company.settings.policies)
    return recognize(inputs_all_periods(company, first, last, forecasts=forecasts), policy)


def recognise_periods(company, periods: Sequence[str], *,
                      every: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """:func:`recognise` of each of ``periods`` (period -> its frame, equal to
    ``recognise(company, period)``), from one :func:`recognise_all_periods` pass over their
    span: a pass over the transactions costs about what one period's costs.

    ``every``: a pass the caller already made over a span holding every one of ``periods``
    (a period's rows do not depend on the span), taken instead of a new one."""
    if not periods:
        return {}
    if every is None:
        every = recognise_all_periods(company, min(periods), max(periods))
    at = every["period"].astype("string").to_numpy()
    return {p: every[at == p].reset_index(drop=True) for p in periods}
