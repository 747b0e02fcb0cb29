"""Budget snapshots that should be there and are not: a warning naming the job and the file.

A job's budget export (``procore/budget/JOB/YYYY-MM.csv``) is taken at each month end. When the
one for the period is missing, the forecast falls back to the job's latest earlier snapshot
(:mod:`wip_lib.accounting.forecast`); when the job has none at all, it has no budget and no cost
to complete. Either moves the period's revenue, so neither may pass without a word.

Rule, for each job on the period's schedule (``job_id``, ``status``, ``completion_date``):

- a job ``complete`` whose completion date falls in a month before the period needs no snapshot
  for the period (its last snapshot is its final budget);
- any other job needs the period's own snapshot; if it has earlier ones, the warning says the
  figures come from the latest of them; if it has none on or before the period, the warning says
  it has no estimate (cost to complete read as 0).

The month-end prints these warnings, and the dashboards show them (the job's own on its page,
all of them on the portfolio), from the same function over the same frames.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core.errors import Problem
from wip_lib.sources.readers.procore import BUDGET_DIR


def snapshot_file(job_id: str, period: str) -> str:
    """The file a job's budget snapshot for ``period`` is read from."""
    return f"{BUDGET_DIR}/{job_id}/{period}.csv"


def missing_snapshots(jobs: pd.DataFrame, snapshots: pd.DataFrame, period: str) -> list[Problem]:
    """Warnings for the jobs of ``jobs`` (job_id, status, completion_date: the period's schedule)
    whose budget snapshot for ``period`` is missing. ``snapshots`` holds job_id and period of
    every snapshot read (other columns ignored; several rows per snapshot allowed)."""
    if jobs.empty:
        return []
    have = snapshots[["job_id", "period"]].astype("string").drop_duplicates()
    have = have[have["period"] <= period]
    latest = have.groupby("job_id")["period"].max()
    at_period = set(have.loc[have["period"] == period, "job_id"])
    j = jobs[["job_id", "status", "completion_date"]].copy()
    j["job_id"] = j["job_id"].astype("string")
    done = pd.to_datetime(j["completion_date"]).dt.to_period("M").astype("string")
    finished = (j["status"].astype("string").str.casefold().isin(["complete", "completed",
                                                                   "closed"])
                & (done.fillna("9999-99") < period)).to_numpy(bool)
    out: list[Problem] = []
    for job, fin in zip(j["job_id"], finished):
        if fin or job in at_period:
            continue
        file = snapshot_file(job, period)
        fix = (f"export job {job}'s budget as at the {period} month end from Procore and save it "
               f"as {file}")
        before = latest.get(job)
        if before is not None and not pd.isna(before):
            out.append(Problem(file, f"budget snapshot missing: job {job} has snapshots up to "
                               f"{before} but none for {period}, so its budget, the PM's "
                               f"forecast and its cost to complete are {before}'s", fix,
                               severity="warning"))
        else:
            out.append(Problem(file, f"budget snapshot missing: job {job} has no budget snapshot "
                               f"on or before {period}, so it has no budget and no estimate of "
                               "cost to complete (read as 0: its percent complete and revenue "
                               "are not estimates)", fix, severity="warning"))
    return out
