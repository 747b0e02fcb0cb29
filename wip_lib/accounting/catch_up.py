"""Period, year-to-date and completed-contract amounts by cumulative catch-up (ASC 250-10-45-17:
a change in estimate is recognised in the period of the change, never restated).

All inputs are frames produced by :func:`wip_lib.accounting.recognition.recognize` (one row per job). Prior
figures are the closed prior period's own figures, not a recomputation with today's data; a job
absent from the prior frame has prior zeros (it started this period).

Formulas, per job:

- ``revenue_period = ER(t) - ER(t-1)``
- ``cost_period = CTD(t) - CTD(t-1) + (provision(t) - provision(t-1))``
- ``gross_profit_period = revenue_period - cost_period = GP(t) - GP(t-1)``
- ``fade = EGP(t) - EGP(t-1)`` (dollars, negative is a fade, positive a gain),
  ``fade_points = EGP%(t) - EGP%(t-1)``; ``fade_vs_bid = EGP(t) - (contract_original -
  est_cost_original)`` and ``fade_vs_bid_points = EGP%(t) - EGP%bid``.
- Split of period GP: ``gp_new_work = round_half_up(EGP(t) * (p(t) - p(t-1)))`` (exact on the
  fractions ``pct_num / pct_den``) and ``gp_revision = gross_profit_period - gp_new_work`` so the
  two always sum exactly. For a profitable job without uninstalled materials or a threshold,
  ``GP_period = EGP(t)(p(t) - p(t-1)) + (EGP(t) - EGP(t-1)) p(t-1)``: ``gp_revision`` is the
  catch-up from the revised estimate (to within a cent of rounding). The split is a
  percent-complete idea: on a job at a loss now (``EGP(t) < 0``) gross profit to date is the
  whole anticipated loss ``TP - EAC`` whatever the progress, so all of the period's gross profit
  is the revision (``gp_new_work = 0``; an unchanged estimate gives 0 and 0); on a cost-plus job
  (``recognition_basis`` ``cost_plus``) it is all the fee on the period's work
  (``gp_revision = 0``).
- Completed contracts keep their over/under billing (``B - final revenue``, a contract asset or
  liability until billed or refunded, ASC 606-10-45-3) and their retainage until settled.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from wip_lib.accounting.recognition import recognize
from wip_lib.core.money import round_half_up_div

#: Figures carried from a prior frame; missing jobs read as 0 (money) or 0/1 (p).
CARRIED = ("earned_revenue", "cost_to_date", "loss_provision", "gross_profit_to_date",
           "cost_of_revenue_to_date", "est_gross_profit", "est_gp_pct", "pct_num", "pct_den",
           "contract_revised", "billed_to_date")


def _aligned_prior(current: pd.DataFrame, prior: pd.DataFrame | None) -> tuple[pd.DataFrame,
                                                                                np.ndarray]:
    """Prior figures aligned row-for-row with ``current`` (by job_id) and a has-prior mask."""
    if prior is None:
        prior = pd.DataFrame({c: pd.Series(dtype="Int64") for c in CARRIED}
                             | {"job_id": pd.Series(dtype="string")})
    for name, frame in (("current", current), ("prior", prior)):
        dup = frame["job_id"].duplicated()
        if dup.any():
            raise ValueError(f"{name} figures hold job {frame['job_id'][dup].iloc[0]!r} twice; "
                             "pass one row per job")
    cols = [c for c in CARRIED if c in prior.columns]
    keyed = prior.set_index(prior["job_id"].astype("string"))[cols]
    aligned = keyed.reindex(pd.Index(current["job_id"].astype("string")))
    has = pd.Index(current["job_id"].astype("string")).isin(keyed.index)
    aligned.index = current.index
    for c in CARRIED:
        if c not in aligned.columns:
            aligned[c] = pd.NA
    return aligned, np.asarray(has, dtype=bool)


def catch_up(current: pd.DataFrame, prior: pd.DataFrame, has_prior: np.ndarray,
             suffix: str = "period") -> pd.DataFrame:
    """Cumulative catch-up of ``current`` against ``prior`` aligned on the same index.

    ``revenue_<suffix> = ER(t) - ER(t-1)``; ``cost_<suffix> = ΔCTD + Δprovision``;
    ``gross_profit_<suffix> = revenue - cost``; fade ``EGP(t) - EGP(t-1)`` (``<NA>`` where there is
    no prior estimate); ``gp_new_work = round_half_up(EGP(t) (p(t) - p(t-1)))`` and
    ``gp_revision = GP_period - gp_new_work``. Rows where ``has_prior`` is False use prior zeros.
    Returns ``current`` with the new columns (and the prior figures as ``*_prior``).
    """
    out = current.copy()
    has = np.asarray(has_prior, dtype=bool)

    def prior_money(col: str) -> np.ndarray:
        s = prior[col].astype("Int64") if col in prior.columns else \
            pd.Series(pd.NA, index=prior.index, dtype="Int64")
        return s.fillna(0).to_numpy(dtype="int64") * has

    er1, ctd1, prov1 = (prior_money(c) for c in ("earned_revenue", "cost_to_date",
                                                  "loss_provision"))
    er, ctd, prov = (current[c].to_numpy(dtype="int64") for c in ("earned_revenue", "cost_to_date",
                                                                  "loss_provision"))
    revenue = er - er1
    cost = (ctd - ctd1) + (prov - prov1)
    gp = revenue - cost
    tag = "" if suffix == "period" else f"_{suffix}"
    out[f"earned_revenue_prior{tag}"] = pd.Series(er1, index=out.index, dtype="int64")
    out[f"cost_to_date_prior{tag}"] = pd.Series(ctd1, index=out.index, dtype="int64")
    out[f"loss_provision_prior{tag}"] = pd.Series(prov1, index=out.index, dtype="int64")
    out[f"revenue_{suffix}"] = pd.Series(revenue, index=out.index, dtype="int64")
    out[f"cost_{suffix}"] = pd.Series(cost, index=out.index, dtype="int64")
    out[f"gross_profit_{suffix}"] = pd.Series(gp, index=out.index, dtype="int64")

    egp = current["est_gross_profit"].astype("Int64")
    egp1 = prior["est_gross_profit"].astype("Int64").where(has) if "est_gross_profit" in prior \
        else pd.Series(pd.NA, index=out.index, dtype="Int64")
    egp1.index = out.index
    out[f"est_gross_profit_prior{tag}"] = egp1
    out[f"fade{tag}"] = (egp - egp1).astype("Int64")
    pct1 = prior["est_gp_pct"].astype("float64").where(has) if "est_gp_pct" in prior \
        else pd.Series(np.nan, index=out.index)
    pct1.index = out.index
    out[f"est_gp_pct_prior{tag}"] = pct1
    out[f"fade_points{tag}"] = current["est_gp_pct"].astype("float64") - pct1

    # GP split: new work at the new margin, the rest is the catch-up from the revision.
    n = current["pct_num"].to_numpy(dtype="int64").astype(object)
    d = current["pct_den"].to_numpy(dtype="int64").astype(object)
    n1 = prior["pct_num"].astype("Int64").fillna(0).to_numpy(dtype="int64").astype(object)
    d1 = prior["pct_den"].astype("Int64").fillna(1).to_numpy(dtype="int64").astype(object)
    n1 = np.where(has, n1, 0).astype(object)
    d1 = np.where(has, d1, 1).astype(object)
    d1 = np.where(d1 == 0, 1, d1).astype(object)
    egp_now = egp.fillna(0).to_numpy(dtype="int64").astype(object)
    new_work = round_half_up_div(egp_now * (n * d1 - n1 * d), d * d1).astype("int64")
    loss_now = (egp.fillna(0) < 0).to_numpy(bool)
    new_work = np.where(loss_now, 0, new_work)
    if "recognition_basis" in current.columns:
        cost_plus = (current["recognition_basis"].astype("string") == "cost_plus").fillna(
            False).to_numpy(bool)
        new_work = np.where(cost_plus, gp, new_work)
    out[f"gp_new_work{tag}"] = pd.Series(new_work, index=out.index, dtype="int64")
    out[f"gp_revision{tag}"] = pd.Series(gp - new_work, index=out.index, dtype="int64")

    if "est_gross_profit_bid" in current.columns and not tag:
        bid = current["est_gross_profit_bid"].astype("Int64")
        out["fade_vs_bid"] = (egp - bid).astype("Int64")
        out["fade_vs_bid_points"] = (current["est_gp_pct"].astype("float64")
                                     - current["est_gp_pct_bid"].astype("float64"))
    return out


def period_amounts(current: pd.DataFrame, prior: pd.DataFrame | None) -> pd.DataFrame:
    """Amounts for the period by cumulative catch-up (ASC 250: a revised estimate lands entirely
    in the period of the revision).

    ``revenue_period = ER(t) - ER(t-1)``; ``cost_period = CTD(t) - CTD(t-1) + provision(t) -
    provision(t-1)``; ``gross_profit_period = revenue_period - cost_period``; ``fade = EGP(t) -
    EGP(t-1)``; ``fade_points = EGP%(t) - EGP%(t-1)``; ``fade_vs_bid = EGP(t) - EGP(bid)``;
    ``gp_new_work = round_half_up(EGP(t) (p(t) - p(t-1)))``, ``gp_revision = GP_period -
    gp_new_work``. ``current`` and ``prior`` are recognised frames, one row per job; a job missing
    from ``prior`` (or ``prior=None``) has prior zeros. Returns ``current`` plus those columns.
    """
    aligned, has = _aligned_prior(current, prior)
    return catch_up(current, aligned, has, "period")


def ytd_amounts(current: pd.DataFrame, fiscal_year_start_figures: pd.DataFrame | None
                ) -> pd.DataFrame:
    """Year-to-date amounts: the catch-up of :func:`period_amounts` against the figures closed at
    the prior fiscal year end (``revenue_ytd = ER(t) - ER(FYE)``, ``cost_ytd = ΔCTD +
    Δprovision``, ``gross_profit_ytd = revenue_ytd - cost_ytd``, ``fade_ytd = EGP(t) - EGP(FYE)``).
    Jobs started this year have prior zeros."""
    aligned, has = _aligned_prior(current, fiscal_year_start_figures)
    return catch_up(current, aligned, has, "ytd")


def completed_contracts(final: pd.DataFrame, prior_year_end: pd.DataFrame | None,
                        last_reported: pd.DataFrame | None = None) -> pd.DataFrame:
    """The completed-contracts schedule for the fiscal year (one row per job finished this year).

    On completion ``ER = final TP``, total cost = final ``CTD``, and any loss provision goes to
    zero; the over/under billing ``B - TP`` stays (``underbillings``, ``overbillings``) until
    billed, as do ``retainage_receivable`` and ``retainage_payable`` when given. Amounts: ``total_gross_profit = final_contract - total_cost``;
    ``revenue_prior_years = ER(FYE)``, ``revenue_this_year = final_contract - ER(FYE)``;
    ``cost_prior_years = CTD(FYE) + provision(FYE)``, ``cost_this_year = total_cost -
    cost_prior_years``; ``gp_prior_years = revenue_prior_years - cost_prior_years``,
    ``gp_this_year = total_gross_profit - gp_prior_years``. With ``last_reported`` (the last
    in-progress figures), closed-job fade ``fade_at_close = total_gross_profit - EGP(last)``.

    ``final`` is either a recognised frame or raw job figures (recognised here as complete).
    """
    if "earned_revenue" not in final.columns or "status" not in final.columns or \
            (final["status"].astype("string").str.lower() != "complete").any():
        final = recognize(final.assign(status="complete"))
    aligned, has = _aligned_prior(final, prior_year_end)

    def prior_money(col: str) -> np.ndarray:
        return aligned[col].astype("Int64").fillna(0).to_numpy(dtype="int64") * has

    tp = final["contract_revised"].to_numpy(dtype="int64")
    cost = final["cost_to_date"].to_numpy(dtype="int64")
    rev_prior = prior_money("earned_revenue")
    cost_prior = prior_money("cost_to_date") + prior_money("loss_provision")
    out = pd.DataFrame({
        "job_id": final["job_id"].astype("string"),
        "final_contract": tp,
        "total_cost": cost,
        "total_gross_profit": tp - cost,
        "revenue_prior_years": rev_prior,
        "revenue_this_year": tp - rev_prior,
        "cost_prior_years": cost_prior,
        "cost_this_year": cost - cost_prior,
        "gp_prior_years": rev_prior - cost_prior,
        "gp_this_year": (tp - cost) - (rev_prior - cost_prior),
        "billed_to_date": final["billed_to_date"].to_numpy(dtype="int64"),
    }, index=final.index)
    # Kept until settled: the over/under billing (B - final revenue) and the retainage.
    out["underbillings"] = np.maximum(tp - out["billed_to_date"].to_numpy(dtype="int64"), 0)
    out["overbillings"] = np.maximum(out["billed_to_date"].to_numpy(dtype="int64") - tp, 0)
    for c in ("retainage_receivable", "retainage_payable"):
        if c in final.columns:
            out[c] = final[c].astype("Int64").to_numpy()
    for c in ("job_name",):
        if c in final.columns:
            out.insert(1, c, final[c])
    if last_reported is not None:
        last, has_last = _aligned_prior(final, last_reported)
        egp_last = last["est_gross_profit"].astype("Int64").where(has_last)
        out["est_gross_profit_last"] = egp_last
        out["fade_at_close"] = (pd.Series(tp - cost, index=out.index, dtype="Int64")
                                - egp_last).astype("Int64")
    return out
