"""Per job and period, the WIP figures over time: what the dashboards' trends are drawn from.

A period closed in the store is shown as closed; any other period is recomputed as of its end
from today's data (``source`` says which), so a trend never mixes the two silently.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.accounting.schedule import recognise_all_periods
from wip_lib.core.period_range import first_job_month
from wip_lib.core.periods import periods_between

CLOSED = "closed"
AS_OF = "as of (recomputed)"

COLUMNS = ["period", "job_id", "status", "contract_revised", "cost_to_date",
           "est_cost_to_complete", "est_total_cost", "est_gross_profit", "est_gp_pct",
           "pct_complete", "earned_revenue", "gross_profit_to_date", "loss_provision",
           "billed_to_date", "underbillings", "overbillings", "backlog", "source"]


def history_start(company, through: str) -> str:
    """The first period of a job's history: the month of the earliest job start
    (:func:`~wip_lib.core.period_range.first_job_month`; ``through`` when no job has a start
    date)."""
    return first_job_month(company) or through


def job_history(company, through: str, *, first: str | None = None, store=None,
                jobs: list[str] | None = None, as_of: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """Figures for every period from ``first`` (default: :func:`history_start`) to ``through``.

    ``as_of``: the periods' recognition from today's data when the caller already has it
    (:func:`~wip_lib.accounting.schedule.recognise_all_periods` over a span covering ``first``
    to ``through``: each period's rows are the same whatever the span), so the month's priors
    and its history come from one pass.

    ``pct_billed = billed_to_date / contract_revised`` is added for the billing-vs-progress view.
    """
    if first is None:
        first = history_start(company, through)
    if as_of is None:
        as_of = recognise_all_periods(company, first, through)
    frames, recomputed = [], []
    for p in periods_between(first, through):
        closed = store.load(p, "schedule") if store is not None and store.is_closed(p) else None
        if closed is not None and len(closed):
            frames.append(closed.assign(period=p, source=CLOSED))
        else:
            recomputed.append(p)
    # The recomputed periods' rows in one selection (a period at a time cost a selection of the
    # whole span per month of history); the sort below puts every row in its place.
    frames.insert(0, as_of[as_of["period"].isin(recomputed).to_numpy(dtype=bool)]
                  .assign(source=AS_OF))
    if jobs is not None:
        frames = [f[f["job_id"].isin(jobs).to_numpy(dtype=bool)] for f in frames]
    out = pd.concat([f[[c for c in COLUMNS if c in f.columns]] for f in frames],
                    ignore_index=True)
    out["period"] = out["period"].astype("string")
    out["source"] = out["source"].astype("string")
    tp = out["contract_revised"].astype("float64")
    out["pct_billed"] = (out["billed_to_date"].astype("float64") / tp.where(tp != 0)).astype(
        "float64")
    return out.sort_values(["job_id", "period"], kind="stable").reset_index(drop=True)
