"""The WIP schedule of a job-status file (``wip schedule``): one row per job per period end.

Schedule rules: each row is recognised by :func:`wip_lib.accounting.recognition.recognize` (ASC 606
cost-to-cost, ASC 605-35 losses), the same function the company path uses, so the same job inputs
give the same figures (tests/test_policies.py checks it over generated jobs);
``change_orders_pending_included`` is pending change-order revenue the company has decided to
include, so it is part of ``TP``; ``contract_type``, ``fee_pct`` and ``contract_estimated`` carry
the contract policies (docs/policies.md). Period amounts are the
cumulative catch-up against the same job's previous period end in the file
(:func:`wip_lib.accounting.catch_up.catch_up`); the first period end of a job has prior zeros. A ``complete``
row is the final figures: ``ER = TP``, ``over/under = B - TP``, provision 0.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.accounting.catch_up import CARRIED, catch_up
from wip_lib.accounting.recognition import Policy, recognize

SCHEDULE_COLUMNS = (
    "job_id", "job_name", "period_end", "status", "contract_type", "fee_pct",
    "contract_original", "contract_estimated", "change_orders_approved",
    "change_orders_pending_included",
    "contract_revised", "est_cost_original", "est_total_cost", "est_gross_profit", "est_gp_pct",
    "est_gp_pct_prior", "cost_to_date", "est_cost_to_complete", "uninstalled_materials",
    "pct_complete", "earned_revenue", "gross_profit_to_date", "loss_provision",
    "cost_of_revenue_to_date", "billed_to_date", "retainage_receivable",
    "underbillings", "overbillings", "UNDER_OTHER", "OVER_OTHER", "backlog",
    "remaining_gross_profit", "revenue_period", "cost_period", "gross_profit_period",
    "gp_new_work", "gp_revision", "fade", "fade_points", "fade_vs_bid", "fade_vs_bid_points",
    "flag", "flag_reason")

def build_schedule(status: pd.DataFrame, *, threshold: float = 0.0,
                   net_loss_provision: bool = False) -> pd.DataFrame:
    """The WIP schedule, one row per job-status row in input order.

    Recognition by :func:`recognize` (``change_orders_pending_included`` counts in ``TP``; a
    ``complete`` row gives ``ER = TP`` and provision 0), then the period catch-up against the same
    job's previous period end: ``revenue_period = ER(t) - ER(t-1)``, ``cost_period = ΔCTD +
    Δprovision``, ``gross_profit_period = revenue_period - cost_period``, ``fade = EGP(t) -
    EGP(t-1)``. With ``net_loss_provision`` the underbillings/overbillings columns are the surety
    view ``(B - ER) + provision`` (the gross ones follow as ``*_gross``); otherwise the gross ones
    lead and the net ones follow as ``*_net``.
    """
    policy = Policy(start_threshold=threshold, net_loss_provision=net_loss_provision)
    rec = recognize(status, policy)

    # Prior figures: the same job's previous period end in the file (prior zeros for the first).
    ordered = rec.sort_values(["job_id", "period_end"], kind="stable")
    grouped = ordered.groupby("job_id", sort=False)
    exact = {c: ("float64" if c == "est_gp_pct" else "Int64") for c in CARRIED}
    prior = ordered[list(CARRIED)].astype(exact).groupby(ordered["job_id"], sort=False).shift(1)
    has_prior = grouped["period_end"].shift(1).notna().to_numpy(dtype=bool)
    sched = catch_up(ordered, prior, has_prior, "period").loc[rec.index]

    if net_loss_provision:
        sched["underbillings_gross"] = sched["underbillings"]
        sched["overbillings_gross"] = sched["overbillings"]
        sched["underbillings"] = sched["underbillings_net"]
        sched["overbillings"] = sched["overbillings_net"]
        other = ("underbillings_gross", "overbillings_gross")
    else:
        other = ("underbillings_net", "overbillings_net")
    cols = [{"UNDER_OTHER": other[0], "OVER_OTHER": other[1]}.get(c, c) for c in SCHEDULE_COLUMNS]
    sched["period_end"] = sched["period_end"].dt.strftime("%Y-%m-%d").astype("string")
    return sched[[c for c in cols if c in sched.columns]].reset_index(drop=True)
