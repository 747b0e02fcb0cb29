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
- **Committed** (``commitment_lines``): the sum of SOV line amounts of commitments whose
  ``status_family`` is ``committed``. Per the data model a line's amount already holds the original
  value plus approved change orders, so approved commitment COs are *not* added again.
  Commitments without SOV lines cannot be placed on a cost code and are left out.
- **Pending cost changes** (``commitment_change_orders``): change orders with ``status_family``
  ``pending`` on commitments that are not ``excluded``, by the CO's cost code.
- **Invoiced against commitments**: each committed commitment's ``invoiced`` (Procore's figure,
  the same source as the commitment itself) spread over its SOV lines pro rata to line amount,
  rounded by cumulative half-up rounding so the lines add back to the commitment to the cent.
  A commitment whose lines total zero has nothing to spread over and contributes no invoiced cost.
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
- ``etc_pm = pm_forecast`` (the snapshot's ``forecast_to_complete``)
- ``etc_trend``: linear extrapolation of the recent cost rate to the job's scheduled completion:
  ``max(cost of the 3 periods ending at period, 0) / 3 * months_remaining``, where
  ``months_remaining = max(months from period to the month of jobs.completion_date, 0)``
  (period 2026-10, completion 2027-01-15 -> 3). Guards: negative recent cost (credits) counts as
  zero; a job at or past its scheduled completion projects no further cost; a job without a
  completion date (or not in ``jobs``) falls back to ``etc_remaining_budget``.
- for each method m: ``eac_m = cost_to_date + etc_m`` and ``variance_m = revised_budget - eac_m``
  (negative variance = overrun).
- ``etc_used = pm_forecast`` with ``etc_source = 'Procore forecast'``, unless a controller override
  applies (:mod:`wip_lib.accounting.overrides`), then ``etc_source = 'controller override'``;
  ``eac_used = cost_to_date + etc_used``, ``variance_used = revised_budget - eac_used``.
- ``time_elapsed``: fraction of the job's schedule gone at the end of ``period``:
  ``(period end - start_date) / (completion_date - start_date)`` clipped to [0, 1]; empty when the
  dates are missing or the schedule has no length.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from wip_lib.accounting.forecast_table import (COLUMNS, KEYS, METHODS, SOURCE_OVERRIDE,  # noqa: F401
                                               SOURCE_PM, cents as _cents, finish)
from wip_lib.accounting.contract import contract_by_period
from wip_lib.accounting.overrides import apply_overrides
from wip_lib.core.codes import erp_to_procore
from wip_lib.core.money import allocate, round_half_up_div
from wip_lib.core.periods import check_period, previous_period
from wip_lib.sources.budget_snapshot import snapshot_rows

TREND_PERIODS = 3

def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip()


def _keys(df: pd.DataFrame, cols=KEYS) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = _text(out[c])
    return out


def erp_cost_history(company, through_period: str | None = None) -> pd.DataFrame:
    """ERP cost by job_id, cost_code (Procore code), cost_type and period: columns
    ``job_id, cost_code, cost_type, period, amount`` (periods up to ``through_period``)."""
    cost = company["erp_job_cost"]
    if through_period is not None:
        cost = cost[_text(cost["period"]) <= check_period(through_period)]
    cost = cost[["job_id", "cost_code", "cost_type", "period", "amount"]]
    cost = cost.assign(job_id=_text(cost["job_id"]),
                       cost_code=erp_to_procore(company["cost_code_crosswalk"], cost))
    cost["cost_type"] = _text(cost["cost_type"])
    cost["period"] = _text(cost["period"])
    cost["amount"] = _cents(cost["amount"])
    out = cost.groupby([*KEYS, "period"], as_index=False, sort=True)["amount"].sum()
    out["amount"] = out["amount"].astype("int64")
    return out[[*KEYS, "period", "amount"]]


def budget_history(company, through_period: str) -> pd.DataFrame:
    """Every budget snapshot up to ``through_period``, summed over sub jobs: one row per job_id,
    period, cost_code, cost_type with the snapshot's money columns."""
    b = _keys(company["budget"], [*KEYS, "period"])
    b = b[b["period"] <= check_period(through_period)]
    money = ["revised_budget", "pending_budget_changes", "forecast_to_complete",
             "committed_costs", "job_to_date_costs"]
    out = b.groupby(["job_id", "period", "cost_code", "cost_type"], as_index=False, sort=True)[
        money].sum()
    for c in money:
        out[c] = _cents(out[c])
    return out


def _budget_snapshot(company, period: str) -> pd.DataFrame:
    b = _keys(company["budget"], [*KEYS, "period"])
    b = b[snapshot_rows(b, period)]
    b = b.assign(description=_text(b["description"]))
    out = b.groupby(KEYS, as_index=False, sort=False).agg(
        budget_snapshot=("period", "first"),
        description=("description", "first"),
        revised_budget=("revised_budget", "sum"),
        pending_budget_changes=("pending_budget_changes", "sum"),
        pm_forecast=("forecast_to_complete", "sum"),
    )
    return out


def _commitments(company) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(committed + invoiced by code, pending cost changes by code)."""
    com = _keys(company["commitments"], ["job_id", "commitment_number"])
    com["status_family"] = _text(com["status_family"]).str.lower()
    lines = _keys(company["commitment_lines"], [*KEYS, "commitment_number"])
    lines = lines.merge(com[["job_id", "commitment_number", "status_family", "invoiced"]],
                        on=["job_id", "commitment_number"], how="inner")
    lines = lines[lines["status_family"] == "committed"].sort_values(
        ["job_id", "commitment_number", "line_number"], kind="stable")
    lines["amount"] = _cents(lines["amount"])
    lines["invoiced_against_commitments"] = allocate(
        _cents(lines["invoiced"]), lines["amount"], [lines["job_id"], lines["commitment_number"]])
    committed = lines.groupby(KEYS, as_index=False, sort=False).agg(
        committed=("amount", "sum"),
        invoiced_against_commitments=("invoiced_against_commitments", "sum"))

    cos = _keys(company["commitment_change_orders"], [*KEYS, "commitment_number"])
    cos = cos.merge(com[["job_id", "commitment_number", "status_family"]].rename(
        columns={"status_family": "_commitment_family"}), on=["job_id", "commitment_number"],
        how="left")
    pending = cos[(_text(cos["status_family"]).str.lower() == "pending")
                  & (cos["_commitment_family"].fillna("") != "excluded")]
    pending = pending.assign(amount=_cents(pending["amount"]))
    pending = pending.groupby(KEYS, as_index=False, sort=False).agg(
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
    committed, pending = _commitments(company)
    history = erp_cost_history(company, period)
    ctd = history.groupby(KEYS, as_index=False, sort=False).agg(cost_to_date=("amount", "sum"))
    first_recent = str(pd.Period(period, freq="M") - (TREND_PERIODS - 1))
    recent = history[history["period"] >= first_recent].groupby(
        KEYS, as_index=False, sort=False).agg(cost_last_3_periods=("amount", "sum"))

    parts = [snap, committed, pending, ctd, recent]
    rows = pd.concat([p[KEYS] for p in parts], ignore_index=True).drop_duplicates()
    df = rows
    for part in parts:
        df = df.merge(part, on=KEYS, how="left")
    df = df.merge(_schedule(company, period), on="job_id", how="left")
    for c in ("revised_budget", "pending_budget_changes", "pm_forecast", "committed",
              "invoiced_against_commitments", "pending_cost_changes", "cost_to_date",
              "cost_last_3_periods"):
        df[c] = _cents(df[c])
    df["description"] = df["description"].astype("string").fillna("")
    df["budget_snapshot"] = df["budget_snapshot"].astype("string").fillna("")
    df["time_elapsed"] = df["time_elapsed"].astype("float64")
    df["months_remaining"] = df["months_remaining"].astype("Int64")

    df["committed_remaining"] = (df["committed"] - df["invoiced_against_commitments"]).clip(lower=0)
    df["uncommitted_budget"] = (df["revised_budget"] - df["committed"]).clip(lower=0)
    df["etc_remaining_budget"] = (df["revised_budget"] - df["cost_to_date"]).clip(lower=0)
    df["etc_committed"] = df["committed_remaining"] + df["uncommitted_budget"]
    df["etc_pm"] = df["pm_forecast"]
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
    df["etc_used"] = df["pm_forecast"]
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
    out = f.groupby("job_id", as_index=False, sort=True).agg(
        est_cost_to_complete=("etc_used", "sum"), _ov=("_ov", "any"))
    out["est_cost_to_complete"] = out["est_cost_to_complete"].astype("int64")
    out["etc_source"] = pd.Series(np.where(out["_ov"].astype(bool), SOURCE_OVERRIDE, SOURCE_PM),
                                  index=out.index, dtype="string")
    return out[["job_id", "est_cost_to_complete", "etc_source"]]


def _gp_pct(contract: pd.Series, cost: pd.Series) -> pd.Series:
    c = contract.astype("float64")
    return ((c - cost.astype("float64")) / c).where(c > 0)


def job_summary(company, period: str, forecast_df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Job-level figures the job flags need, from the company alone (the WIP schedule may supply
    its own): ``job_id, contract_revised, est_total_cost, est_gp_pct, prior_est_gp_pct,
    bid_gp_pct`` and the same in dollars: ``est_gross_profit, prior_est_gross_profit,
    bid_gross_profit``.

    - ``contract_revised``: the contract at the period end (:mod:`wip_lib.accounting.contract`).
    - ``est_total_cost`` = sum of ``eac_used`` (cost to date + ETC used) over the job's codes.
    - ``est_gp_pct = (contract_revised - est_total_cost) / contract_revised`` (empty if no contract).
    - ``prior_est_gp_pct``: the same at the previous period (its snapshot, cost and overrides).
    - ``bid_gp_pct = (original contract - original budget) / original contract``, original budget
      from the budget snapshot used for ``period``.
    """
    check_period(period)
    if forecast_df is None:
        forecast_df = cost_to_complete(company, period)
    prior_period = previous_period(period)
    prior = cost_to_complete(company, prior_period)

    est = forecast_df.groupby("job_id", as_index=False).agg(est_total_cost=("eac_used", "sum"))
    prior_est = prior.groupby("job_id", as_index=False).agg(prior_cost=("eac_used", "sum"))
    b = _keys(company["budget"], [*KEYS, "period"])
    b = b[snapshot_rows(b, period)]
    bid = b.groupby("job_id", as_index=False).agg(original_budget=("original_budget", "sum"))

    contract = contract_by_period(company, [prior_period, period])
    now = contract.loc[contract["period"] == period, ["job_id", "contract_original",
                                                      "contract_revised"]]
    before = contract.loc[contract["period"] == prior_period, ["job_id", "contract_revised"]
                          ].rename(columns={"contract_revised": "prior_contract"})
    out = est.merge(now, on="job_id", how="left").merge(before, on="job_id", how="left")
    out = out.merge(prior_est, on="job_id", how="left").merge(bid, on="job_id", how="left")
    for c in ("contract_original", "contract_revised", "prior_contract", "prior_cost",
              "original_budget", "est_total_cost"):
        out[c] = _cents(out[c])
    out["est_gp_pct"] = _gp_pct(out["contract_revised"], out["est_total_cost"])
    has_prior = prior.loc[prior["budget_snapshot"] != "", "job_id"].unique()
    out["prior_est_gp_pct"] = _gp_pct(out["prior_contract"], out["prior_cost"]).where(
        out["job_id"].isin(has_prior))
    out["bid_gp_pct"] = _gp_pct(out["contract_original"], out["original_budget"])
    out["est_gross_profit"] = out["contract_revised"] - out["est_total_cost"]
    out["prior_est_gross_profit"] = (out["prior_contract"] - out["prior_cost"]).astype(
        "Int64").where(out["job_id"].isin(has_prior))
    out["bid_gross_profit"] = (out["contract_original"] - out["original_budget"]).astype("Int64")
    return out[["job_id", "contract_revised", "est_total_cost", "est_gp_pct", "prior_est_gp_pct",
                "bid_gp_pct", "est_gross_profit", "prior_est_gross_profit", "bid_gross_profit"]
               ].sort_values("job_id").reset_index(drop=True)
