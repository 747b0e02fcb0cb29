"""Cost to complete by job, cost code and cost type, with several estimates side by side.

A controller's ETC review (see the domain notes, "Cost to complete and overrun risk") puts four
estimates of the cost still to come beside each other for every Procore cost code, and then uses
one of them (the PM's forecast, unless the controller has entered an override) in the WIP schedule.

Sources and rules
-----------------
- **Budget** (``budget``): the snapshot of ``period`` for each job; a job with no snapshot taken at
  ``period`` uses its latest snapshot before it (the period used is kept in ``budget_snapshot``;
  the rule: :mod:`wip_lib.sources.budget_snapshot`).
  Sub jobs are summed: one row per job_id, cost_code, cost_type.
- **Committed** (``commitment_lines``), as at the period end: the SOV line amounts of
  commitments whose ``status_family`` is ``committed`` and that were approved by the period end
  (``approved_date`` on or before it, or blank). Per the data model a line's amount already holds
  the original value plus approved change orders, so approved commitment COs are *not* added
  again; those approved after the period end (additions or deducts, by their ``approved_date``)
  are taken out of the line of the same commitment, cost code and cost type. A commitment's lines
  are summed by cost code and cost type ("a line" below). Commitments without SOV lines cannot be
  placed on a cost code and are left out.
- **Pending cost changes** (``commitment_change_orders``), as at the period end: change orders
  created by the period end (``created_date``, or blank) that are ``pending`` today or were
  approved after the period end (so pending at it), on commitments that are not ``excluded``, by
  the CO's cost code.
- **Invoiced against commitments**, per line, as at the period end, by the one rule of
  :func:`wip_lib.sources.commitment_invoicing.invoiced_by_line`: where the ERP's job-cost export
  carries the commitment (the ERP profile's ``job_cost_has_commitment``), the job-cost rows of
  periods through ``period`` that name it, each to its line (by cost code and type, else the
  commitment's only line of the code, else pro rata); every other commitment takes Procore's
  invoiced to date at the period end, spread over its lines by the G703 lines of the requisition
  it comes from, else pro rata to the lines' amounts (cumulative half-up rounding: the lines add
  back to the cent).
- **Cost to date** (``erp_job_cost``): ERP cost with ``period <= period``, translated to Procore
  codes through ``cost_code_crosswalk`` inverted (ERP code -> Procore code), by the crosswalk rule
  of :mod:`wip_lib.core.codes`: a job-specific row beats a blank-job row; when several Procore
  codes map to one ERP code the lowest Procore code (text order) receives the cost; an ERP code
  with no crosswalk entry is used as it is. ERP cost on a code with no budget line still appears,
  as a row with zero budget.

Formulas (all money in int64 cents)
-----------------------------------
- ``committed_remaining = max(committed - invoiced_against_commitments, 0)``
- ``uncommitted_budget = max(revised_budget - committed, 0)``
- ``etc_remaining_budget = max(revised_budget - cost_to_date, 0)``
- ``etc_committed = committed_remaining + uncommitted_budget``
- ``etc_pm = estimated_cost_at_completion - cost_to_date``: the line's ECAC in the snapshot
  (exported, or Projected Costs + Forecast To Complete; :mod:`wip_lib.sources.procore_forecast`)
  less its ERP cost to date; ``pm_forecast`` is Procore's Forecast To Complete, shown beside it
  (it is what the PM expects *beyond* Projected Costs, not after cost to date). ERP cost on a
  line the snapshot does not have: ``etc_pm = 0`` (booked cost is never un-spent; the
  reconciliation reports the unbudgeted cost), so a job's ETC is
  ``sum(ECAC) - cost to date on its budgeted lines``
- ``etc_trend``: linear extrapolation of the recent cost rate to the job's scheduled completion:
  ``max(cost of the 3 periods ending at period, 0) / 3 * months_remaining``, where
  ``months_remaining = max(months from period to the month of jobs.completion_date, 0)``
  (period 2026-10, completion 2027-01-15 -> 3). Guards: negative recent cost (credits) counts as
  zero; a job at or past its scheduled completion projects no further cost; a job without a
  completion date (or not in ``jobs``) falls back to ``etc_remaining_budget``.
- for each method m: ``eac_m = cost_to_date + etc_m`` and ``variance_m = revised_budget - eac_m``
  (negative variance = overrun).
- ``etc_used = etc_pm`` with ``etc_source = 'Procore forecast'``, unless a controller override
  applies (:mod:`wip_lib.accounting.overrides`), then ``etc_source = 'controller override'``;
  ``eac_used = cost_to_date + etc_used``, ``variance_used = revised_budget - eac_used``.
- ``time_elapsed``: fraction of the job's schedule gone at the end of ``period``:
  ``(period end - start_date) / (completion_date - start_date)`` clipped to [0, 1]; empty when the
  dates are missing or the schedule has no length.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from wip_lib.accounting.contract import completed_at, contract_terms
from wip_lib.accounting.forecast_table import (  # noqa: F401
    COLUMNS,
    KEYS,
    METHODS,
    SOURCE_OVERRIDE,
    SOURCE_PM,
    finish,
)
from wip_lib.accounting.forecast_table import cents as _cents
from wip_lib.accounting.overrides import apply_overrides
from wip_lib.accounting.recognition import Policy, recognize
from wip_lib.core import derived
from wip_lib.core.codes import erp_to_procore
from wip_lib.core.grouping import aggregate
from wip_lib.core.money import round_half_up_div
from wip_lib.core.periods import check_period, period_end, previous_period
from wip_lib.sources.budget_snapshot import snapshot_rows
from wip_lib.sources.commitment_invoicing import invoiced_by_line
from wip_lib.sources.procore_forecast import with_ecac

TREND_PERIODS = 3

def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip()


def _keys(df: pd.DataFrame, cols=KEYS) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = _text(out[c])
    return out


def erp_cost_history(company, through_period: str | None = None, *,
                     commitments_only: bool = False) -> pd.DataFrame:
    """ERP cost by job_id, cost_code (Procore code), cost_type and period: columns
    ``job_id, cost_code, cost_type, period, amount`` (periods up to ``through_period``; only the
    rows that name a commitment when ``commitments_only``: none when the ERP's job-cost export
    does not carry the commitment, ``job_cost_has_commitment``). Worked out once per period
    computation (:mod:`wip_lib.core.derived`): several of its rules ask for it."""
    return derived.once(company, ("erp_cost_history", through_period, commitments_only),
                        lambda: _erp_cost_history(company, through_period, commitments_only))


def _erp_cost_history(company, through_period: str | None, commitments_only: bool
                      ) -> pd.DataFrame:
    # Every asking is a cut of one grouping of the export (:func:`_erp_cost_by_month`), made
    # once per period computation: the export's millions of lines are mapped to Procore codes
    # and grouped once, and the whole history through the last month is that grouping itself,
    # not a copy of it.
    cost = derived.once(company, ("erp_cost_by_month",), lambda: _erp_cost_by_month(company))
    keep = np.ones(len(cost), dtype=bool)
    if through_period is not None:
        keep &= (cost["period"] <= check_period(through_period)).to_numpy(bool)
    amount = "amount"
    if commitments_only:
        keep &= cost["commitment_rows"].to_numpy() > 0
        amount = "commitment_amount"
    out = cost[[*KEYS, "period", amount]]
    if not keep.all():
        out = out[keep].reset_index(drop=True)
    return out.rename(columns={amount: "amount"})


def _erp_cost_by_month(company) -> pd.DataFrame:
    """ERP cost by job, Procore cost code, cost type and month, sorted by them: ``amount``
    (every row), ``commitment_amount`` and ``commitment_rows`` (the rows that name a
    commitment: none when the job-cost export does not carry the commitment,
    ``job_cost_has_commitment``)."""
    cost = company["erp_job_cost"]
    named_by = ("commitment_number" if "commitment_number" in cost.columns
                and company.carries("job_cost_has_commitment") else None)
    # The columns first: the rows of every column of the export are not copied to keep five.
    cost = cost[["job_id", "cost_code", "cost_type", "period", "amount",
                 *([named_by] if named_by else [])]]
    named = ((_text(cost[named_by]) != "").to_numpy(bool) if named_by
             else np.zeros(len(cost), dtype=bool))
    cents = _cents(cost["amount"]).to_numpy(dtype=np.int64)
    cost = pd.DataFrame({"job_id": _text(cost["job_id"]),
                         "cost_code": erp_to_procore(company["cost_code_crosswalk"], cost),
                         "cost_type": _text(cost["cost_type"]),
                         "period": _text(cost["period"]),
                         "amount": cents,
                         "commitment_amount": np.where(named, cents, 0),
                         "commitment_rows": named.astype(np.int64)}, index=cost.index)
    out = cost.groupby([*KEYS, "period"], as_index=False, sort=True)[
        ["amount", "commitment_amount", "commitment_rows"]].sum()
    return out.astype({"amount": "int64", "commitment_amount": "int64",
                       "commitment_rows": "int64"})


def approved_change_orders(company, period: str) -> pd.DataFrame:
    """Commitment change orders approved by the end of ``period``: ``job_id, cost_code,
    cost_type, period, amount`` with ``period`` the month of approval (blank when the approval
    has no date), summed by line and month."""
    end = period_end(check_period(period))
    cos = _keys(company["commitment_change_orders"], [*KEYS, "commitment_number"])
    when = pd.to_datetime(cos["approved_date"])
    ok = ((_text(cos["status_family"]).str.lower() == "approved")
          & (when.isna() | (when <= end))).to_numpy(bool)
    cos, when = cos[ok], when[ok]
    out = pd.DataFrame({**{k: cos[k] for k in KEYS},
                        "period": when.dt.to_period("M").astype("string").fillna(""),
                        "amount": _cents(cos["amount"])})
    out = out.groupby([*KEYS, "period"], as_index=False, sort=True)["amount"].sum()
    out["amount"] = out["amount"].astype("int64")
    return out[[*KEYS, "period", "amount"]]


def budget_history(company, through_period: str) -> pd.DataFrame:
    """Every budget snapshot up to ``through_period``, summed over sub jobs: one row per job_id,
    period, cost_code, cost_type with the snapshot's money columns."""
    b = _keys(company["budget"], [*KEYS, "period"])
    b = b[b["period"] <= check_period(through_period)]
    b = with_ecac(b, company.settings.budget_forecast)
    money = ["revised_budget", "pending_budget_changes", "forecast_to_complete",
             "estimated_cost_at_completion", "committed_costs", "job_to_date_costs"]
    out = b.groupby(["job_id", "period", "cost_code", "cost_type"], as_index=False, sort=True)[
        money].sum()
    for c in money:
        out[c] = _cents(out[c])
    return out


def _budget_snapshot(company, period: str) -> pd.DataFrame:
    b = with_ecac(_keys(company["budget"], [*KEYS, "period"]), company.settings.budget_forecast)
    b = b[snapshot_rows(b, period)]
    b = b.assign(description=_text(b["description"]))
    out = aggregate(b, KEYS, as_index=False, sort=False, budget_snapshot=("period", "first"),
                    description=("description", "first"), revised_budget=("revised_budget", "sum"),
                    pending_budget_changes=("pending_budget_changes", "sum"),
                    projected_costs=("projected_costs", "sum"),
                    pm_forecast=("forecast_to_complete", "sum"),
                    estimated_cost_at_completion=("estimated_cost_at_completion", "sum"))
    return out


_LINE = ["job_id", "commitment_number", "cost_code", "cost_type"]


def _commitments(company, period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(committed + invoiced by code, pending cost changes by code) as at the end of ``period``
    (rules in the module docstring, "Committed", "Invoiced against commitments", "Pending cost
    changes")."""
    end = period_end(period)
    com = _keys(company["commitments"], ["job_id", "commitment_number"])
    com["status_family"] = _text(com["status_family"]).str.lower()
    approved = pd.to_datetime(com["approved_date"])
    live = com[((com["status_family"] == "committed")
                & (approved.isna() | (approved <= end))).to_numpy(bool)]

    cos = _keys(company["commitment_change_orders"], [*KEYS, "commitment_number"])
    cos = cos.assign(amount=_cents(cos["amount"]),
                     _family=_text(cos["status_family"]).str.lower())
    co_approved = pd.to_datetime(cos["approved_date"])
    co_created = pd.to_datetime(cos["created_date"])
    approved_later = ((cos["_family"] == "approved") & co_approved.notna()
                      & (co_approved > end)).to_numpy(bool)

    # SOV lines by commitment, code and type, less change orders approved after the period end.
    lines = _keys(company["commitment_lines"], [*KEYS, "commitment_number"])
    lines = lines.assign(amount=_cents(lines["amount"]),
                         _order=pd.to_numeric(lines["line_number"], errors="coerce"))
    lines = lines.merge(live[["job_id", "commitment_number"]], on=["job_id", "commitment_number"])
    lines = aggregate(lines, _LINE, as_index=False, sort=False, amount=("amount", "sum"),
                      _order=("_order", "min"))
    later = (cos[approved_later].groupby(_LINE, as_index=False)["amount"].sum()
             .rename(columns={"amount": "_later"}))
    lines = lines.merge(later, on=_LINE, how="left")
    lines["amount"] = (lines["amount"] - lines["_later"].fillna(0)).astype("int64")
    lines = lines.sort_values(["job_id", "commitment_number", "_order", "cost_code", "cost_type"],
                              kind="stable").reset_index(drop=True)
    lines["invoiced_against_commitments"] = invoiced_by_line(company, period, lines)
    committed = aggregate(lines, KEYS, as_index=False, sort=False, committed=("amount", "sum"),
                          invoiced_against_commitments=("invoiced_against_commitments", "sum"))

    # Pending at the period end: created by then, and pending today or approved after it.
    cos = cos.merge(com[["job_id", "commitment_number", "status_family"]].rename(
        columns={"status_family": "_commitment_family"}), on=["job_id", "commitment_number"],
        how="left")
    pending = cos[(((cos["_family"] == "pending").to_numpy(bool) | approved_later)
                   & (co_created.isna() | (co_created <= end)).to_numpy(bool))
                  & (cos["_commitment_family"].fillna("") != "excluded").to_numpy(bool)]
    pending = aggregate(pending, KEYS, as_index=False, sort=False,
                        pending_cost_changes=("amount", "sum"))
    return committed, pending


def _schedule(company, period: str) -> pd.DataFrame:
    """Per job: time_elapsed (fraction) and months_remaining (Int64) at the end of ``period``."""
    jobs = _keys(company["jobs"], ["job_id"]).drop_duplicates("job_id")
    p = pd.Period(period, freq="M")
    end = p.end_time.normalize()
    start = pd.to_datetime(jobs["start_date"])
    comp = pd.to_datetime(jobs["completion_date"])
    length = (comp - start).dt.days.astype("float64")
    gone = (end - start).dt.days.astype("float64")
    elapsed = (gone / length).where(length > 0).clip(0.0, 1.0)
    months = (comp.dt.year * 12 + comp.dt.month - (p.year * 12 + p.month)).clip(lower=0)
    return pd.DataFrame({"job_id": jobs["job_id"], "time_elapsed": elapsed.astype("float64"),
                         "months_remaining": months.astype("Int64")})


def cost_to_complete(company, period: str, overrides: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per job_id, cost_code, cost_type (Procore codes) with the budget, commitments, cost
    to date and the ETC methods side by side (rules and formulas in the module docstring).

    ``overrides``: controller ETC overrides; ``None`` takes the company's overrides of ``period``
    (read with the company folder, :mod:`wip_lib.sources.overrides_file`); pass an empty frame to
    ignore overrides.
    """
    check_period(period)
    snap = _budget_snapshot(company, period)
    committed, pending = _commitments(company, period)
    history = erp_cost_history(company, period)
    ctd = aggregate(history, KEYS, as_index=False, sort=False, cost_to_date=("amount", "sum"))
    first_recent = str(pd.Period(period, freq="M") - (TREND_PERIODS - 1))
    recent = aggregate(history[history["period"] >= first_recent], KEYS, as_index=False, sort=False,
                       cost_last_3_periods=("amount", "sum"))

    parts = [snap, committed, pending, ctd, recent]
    rows = pd.concat([p[KEYS] for p in parts], ignore_index=True).drop_duplicates()
    df = rows
    for part in parts:
        df = df.merge(part, on=KEYS, how="left")
    df = df.merge(_schedule(company, period), on="job_id", how="left")
    for c in ("revised_budget", "pending_budget_changes", "projected_costs", "pm_forecast",
              "estimated_cost_at_completion", "committed", "invoiced_against_commitments",
              "pending_cost_changes", "cost_to_date", "cost_last_3_periods"):
        df[c] = _cents(df[c])
    df["description"] = df["description"].astype("string").fillna("")
    df["budget_snapshot"] = df["budget_snapshot"].astype("string").fillna("")
    df["time_elapsed"] = df["time_elapsed"].astype("float64")
    df["months_remaining"] = df["months_remaining"].astype("Int64")

    df["committed_remaining"] = (df["committed"] - df["invoiced_against_commitments"]).clip(lower=0)
    df["uncommitted_budget"] = (df["revised_budget"] - df["committed"]).clip(lower=0)
    df["etc_remaining_budget"] = (df["revised_budget"] - df["cost_to_date"]).clip(lower=0)
    df["etc_committed"] = df["committed_remaining"] + df["uncommitted_budget"]
    # The PM's estimate to complete: ECAC less the line's ERP cost to date (module docstring);
    # a line Procore's budget does not have is estimated at its cost (nothing more to come).
    budgeted = (df["budget_snapshot"] != "").to_numpy(dtype=bool)
    df["etc_pm"] = (df["estimated_cost_at_completion"] - df["cost_to_date"]).where(budgeted, 0)
    rate_cost = df["cost_last_3_periods"].clip(lower=0).to_numpy().astype(object)
    months = df["months_remaining"].fillna(0).astype("int64").to_numpy().astype(object)
    trend = pd.Series(
        round_half_up_div(rate_cost * months, np.full(len(df), TREND_PERIODS, dtype=object)),
        index=df.index, dtype=object).astype("int64")
    df["etc_trend"] = trend.where(df["months_remaining"].notna().to_numpy(dtype=bool),
                                  df["etc_remaining_budget"]).astype("int64")
    for m in METHODS:
        df[f"eac_{m}"] = df["cost_to_date"] + df[f"etc_{m}"]
        df[f"variance_{m}"] = df["revised_budget"] - df[f"eac_{m}"]
    df["etc_used"] = df["etc_pm"]
    df["etc_source"] = pd.Series(SOURCE_PM, index=df.index, dtype="string")
    df = finish(df)

    if overrides is None:
        overrides = company.overrides_for(period)
    if len(overrides):
        df = apply_overrides(df, overrides)
    return df


def job_etc(forecast_df: pd.DataFrame) -> pd.DataFrame:
    """Estimated cost to complete by job for the WIP schedule: ``est_cost_to_complete`` = sum of
    ``etc_used`` over the job's rows; ``etc_source`` is 'controller override' when any row of the
    job was overridden, else 'Procore forecast'."""
    f = forecast_df.assign(_ov=(forecast_df["etc_source"] == SOURCE_OVERRIDE).astype(bool))
    out = aggregate(f, "job_id", as_index=False, sort=True,
                    est_cost_to_complete=("etc_used", "sum"), _ov=("_ov", "any"))
    out["est_cost_to_complete"] = out["est_cost_to_complete"].astype("int64")
    out["etc_source"] = pd.Series(np.where(out["_ov"].astype(bool), SOURCE_OVERRIDE, SOURCE_PM),
                                  index=out.index, dtype="string")
    return out[["job_id", "est_cost_to_complete", "etc_source"]]


#: Columns of :func:`job_summary`.
SUMMARY_COLUMNS = ["job_id", "contract_revised", "est_total_cost", "est_gp_pct",
                   "prior_est_gp_pct", "bid_gp_pct", "est_gross_profit", "prior_est_gross_profit",
                   "bid_gross_profit", "status", "contract_type", "cost_to_date",
                   "estimate_period", "period", "flag"]


def _gp_pct(contract: pd.Series, cost: pd.Series) -> pd.Series:
    c = contract.astype("float64")
    return ((c - cost.astype("float64")) / c).where(c > 0)


def _recognised(company, period: str, fc: pd.DataFrame) -> pd.DataFrame:
    """The job figures of :func:`wip_lib.accounting.recognition.recognize` on the forecast's
    cost and ETC and the contract of the period (:func:`contract_terms`): the same contract rule
    and the same recognition as the WIP schedule."""

    est = aggregate(fc, "job_id", as_index=False, cost_to_date=("cost_to_date", "sum"),
                    est_cost_to_complete=("etc_used", "sum"),
                    estimate_period=("budget_snapshot", "max"))
    est["estimate_period"] = est["estimate_period"].astype("string").replace("", pd.NA)
    overridden = fc.loc[fc["etc_source"] == SOURCE_OVERRIDE, "job_id"].unique()
    has = est["estimate_period"].notna() | est["job_id"].isin(overridden)
    est["estimate_period"] = est["estimate_period"].where(~est["job_id"].isin(overridden), period)
    terms = contract_terms(company, [period])
    jobs = terms.merge(est, on="job_id", how="inner")
    info = _keys(company["jobs"], ["job_id"]).drop_duplicates("job_id")
    end = pd.Period(period, freq="M").end_time.normalize()
    info = info.assign(status=np.where(completed_at(info["status"], info["completion_date"],
                                                    pd.Series(end, index=info.index)),
                                       "complete", "open"))[["job_id", "status"]]
    jobs = jobs.merge(info, on="job_id", how="left")
    jobs["status"] = jobs["status"].fillna("open")
    jobs["est_cost_to_complete"] = (jobs["est_cost_to_complete"].astype("Int64")
                                    .where(jobs["job_id"].isin(est.loc[has, "job_id"]))
                                    + jobs["change_orders_pending_cost"])
    jobs = jobs.assign(billed_to_date=0, period=period).drop(columns="contract_revised")
    return recognize(jobs, Policy.from_settings(company.settings.policies))


def job_summary(company, period: str, forecast_df: pd.DataFrame | None = None,
                schedule: pd.DataFrame | None = None) -> pd.DataFrame:
    """Job-level figures the job flags need, one row per job (columns :data:`SUMMARY_COLUMNS`):
    the contract ``contract_revised`` (``TP``), ``est_total_cost`` (``EAC``), ``est_gp_pct``, the
    prior period's ``prior_est_gp_pct`` and the bid's ``bid_gp_pct``, the same in dollars
    (``est_gross_profit``, ``prior_est_gross_profit``, ``bid_gross_profit``), and the job's
    ``status``, ``contract_type``, ``cost_to_date``, ``estimate_period``, ``period`` and the
    recognition ``flag`` codes.

    ``schedule`` (the period's WIP schedule, as :func:`wip_lib.close.period.compute_period`
    passes it): every figure is the schedule's own (its ``TP`` with the pending change orders the
    policy includes, its ``EAC``, its prior and bid estimates), so the flags and the schedule
    never disagree. Without it, the same rules run here: the contract of the period
    (:func:`wip_lib.accounting.contract.contract_terms`) and recognition on the forecast's cost to
    date and ETC used, for the period and the previous one (its snapshot, cost and overrides);
    ``bid_gp_pct = (original contract - original budget) / original contract`` with the original
    budget of the snapshot used for ``period``.
    """
    check_period(period)
    if schedule is not None:
        s = schedule
        out = pd.DataFrame({
            "job_id": s["job_id"].astype("string"),
            "contract_revised": s["contract_revised"].astype("int64"),
            "est_total_cost": s["est_total_cost"].astype("Int64"),
            "est_gp_pct": s["est_gp_pct"].astype("float64"),
            "prior_est_gp_pct": s["est_gp_pct_prior"].astype("float64"),
            "bid_gp_pct": s["est_gp_pct_bid"].astype("float64") if "est_gp_pct_bid" in s
            else np.nan,
            "est_gross_profit": s["est_gross_profit"].astype("Int64"),
            "prior_est_gross_profit": s["est_gross_profit_prior"].astype("Int64"),
            "bid_gross_profit": s["est_gross_profit_bid"].astype("Int64")
            if "est_gross_profit_bid" in s else pd.NA,
            "status": s["status"].astype("string"),
            "contract_type": s["contract_type"].astype("string") if "contract_type" in s
            else "fixed_price",
            "cost_to_date": s["cost_to_date"].astype("int64"),
            "estimate_period": s["estimate_period"].astype("string") if "estimate_period" in s
            else pd.NA,
            "period": period,
            "flag": s["flag"].astype("string"),
        })
        return out[SUMMARY_COLUMNS].sort_values("job_id").reset_index(drop=True)
    if forecast_df is None:
        forecast_df = cost_to_complete(company, period)
    prior_period = previous_period(period)
    now = _recognised(company, period, forecast_df)
    prior = _recognised(company, prior_period, cost_to_complete(company, prior_period))
    b = _keys(company["budget"], [*KEYS, "period"])
    b = b[snapshot_rows(b, period)]
    bid = aggregate(b, "job_id", as_index=False, original_budget=("original_budget", "sum"))
    has_prior = prior.loc[prior["est_total_cost"].notna(), "job_id"]
    prior = prior.set_index("job_id")
    out = now.merge(bid, on="job_id", how="left")
    out["original_budget"] = _cents(out["original_budget"])
    known = out["job_id"].isin(has_prior)
    out["prior_est_gp_pct"] = out["job_id"].map(prior["est_gp_pct"]).astype("float64").where(
        known)
    out["prior_est_gross_profit"] = out["job_id"].map(prior["est_gross_profit"]).astype(
        "Int64").where(known)
    out["bid_gp_pct"] = _gp_pct(out["contract_original"], out["original_budget"])
    out["bid_gross_profit"] = (out["contract_original"] - out["original_budget"]).astype("Int64")
    out["contract_revised"] = out["contract_revised"].astype("int64")
    out["job_id"] = out["job_id"].astype("string")
    return out[SUMMARY_COLUMNS].sort_values("job_id").reset_index(drop=True)
