"""Snapshot as of a period: which of a job's Procore budget snapshots stands for period ``P``.

Rule: a job's budget as of ``P`` is its **latest snapshot taken on or before ``P``** (the snapshot
of ``P`` itself when there is one). A snapshot after ``P`` is never used; a job with no snapshot
by ``P`` has no budget as of ``P``. Periods are compared as ``YYYY-MM`` text.

Every figure read from the budget as of a period uses this rule: the forecast's budget, PM
forecast and bid (:mod:`wip_lib.accounting.forecast`), the WIP schedule's ETC and original budget
(:mod:`wip_lib.accounting.schedule`, one period or all at once) and Procore's job-to-date cost in
the reconciliation (:mod:`wip_lib.reconcile.job_cost`).

- :func:`snapshot_periods`: for every job and each of several periods, the snapshot period used
  (vectorised over jobs x periods);
- :func:`snapshot_rows`: which rows of a budget table make each job's budget as of one period.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from wip_lib.core.periods import check_period


def snapshot_periods(budget: pd.DataFrame, periods: Sequence[str]) -> pd.DataFrame:
    """``job_id, period, budget_snapshot``: for each job of ``budget`` (columns ``job_id``,
    ``period``, as given) and each of ``periods``, the period of the job's latest snapshot on or
    before it. A job with no snapshot by a period has no row for it. Rows by job, then period."""
    grid = np.array(sorted({check_period(p) for p in periods}), dtype=object)
    snaps = (pd.DataFrame({"job_id": budget["job_id"].astype("string").array,
                           "snap": budget["period"].astype("string").array})
             .dropna().drop_duplicates().sort_values(["job_id", "snap"], kind="stable"))
    # First grid period each snapshot stands for; of several snapshots that first stand for the
    # same period (all before it), the latest.
    first = np.searchsorted(grid, snaps["snap"].to_numpy(dtype=object), side="left")
    snaps = snaps.assign(_first=first)[first < len(grid)]
    snaps = snaps.drop_duplicates(["job_id", "_first"], keep="last")
    # It stands until the job's next snapshot takes over (or to the last period).
    start = snaps["_first"].to_numpy()
    same_job_next = snaps["job_id"].shift(-1).eq(snaps["job_id"]).fillna(False).to_numpy(bool)
    stop = np.where(same_job_next, np.roll(start, -1), len(grid))
    n = stop - start
    at = np.repeat(start - np.cumsum(n) + n, n) + np.arange(n.sum())
    return pd.DataFrame({
        "job_id": pd.array(np.repeat(snaps["job_id"].to_numpy(dtype=object), n), dtype="string"),
        "period": pd.array(grid[at], dtype="string"),
        "budget_snapshot": pd.array(np.repeat(snaps["snap"].to_numpy(dtype=object), n),
                                    dtype="string"),
    })


def snapshot_rows(budget: pd.DataFrame, period: str) -> np.ndarray:
    """Boolean mask of the rows of ``budget`` that make each job's budget as of ``period``
    (the rows of its :func:`snapshot_periods` snapshot)."""
    if len(budget) == 0:
        return np.zeros(0, dtype=bool)
    used = snapshot_periods(budget, [period]).set_index("job_id")["budget_snapshot"]
    snap = budget["job_id"].astype("string").map(used)
    return (budget["period"].astype("string") == snap).fillna(False).to_numpy(bool)
