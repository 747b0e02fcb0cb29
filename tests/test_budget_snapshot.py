"""Snapshot as of a period (wip_lib.sources.budget_snapshot), worked by hand.

Budget snapshots taken (one line each; PM forecast to complete in dollars = the month number, so
the figure read names the snapshot it came from):
  job A: 2026-06, 2026-08, 2026-10      job B: 2026-09      job C: 2026-12

The snapshot standing for each period (latest on or before it; none before the first):
  period   A        B        C
  2026-05  -        -        -
  2026-06  2026-06  -        -
  2026-07  2026-06  -        -
  2026-08  2026-08  -        -
  2026-09  2026-08  2026-09  -
  2026-10  2026-10  2026-09  -
  2026-11  2026-10  2026-09  -
"""
from __future__ import annotations

import pandas as pd
import pytest
from test_forecast import table

from wip_lib.core.settings import Company, Settings
from wip_lib.sources.budget_snapshot import snapshot_periods, snapshot_rows

SNAPSHOTS = {"A": ["2026-06", "2026-08", "2026-10"], "B": ["2026-09"], "C": ["2026-12"]}
EXPECTED = {  # period: {job: snapshot}
    "2026-05": {},
    "2026-06": {"A": "2026-06"},
    "2026-07": {"A": "2026-06"},
    "2026-08": {"A": "2026-08"},
    "2026-09": {"A": "2026-08", "B": "2026-09"},
    "2026-10": {"A": "2026-10", "B": "2026-09"},
    "2026-11": {"A": "2026-10", "B": "2026-09"},
}


def budget() -> pd.DataFrame:
    rows = [{"job_id": j, "period": p, "cost_code": "01-100", "cost_code_raw": "01-100",
             "cost_type": "L", "original_budget": 1_000_00, "revised_budget": 1_000_00,
             "forecast_to_complete": int(p[-2:]) * 100} for j, ps in SNAPSHOTS.items() for p in ps]
    return table("budget", rows)


@pytest.mark.parametrize("period", list(EXPECTED))
def test_snapshot_as_of_each_period(period):
    got = snapshot_periods(budget(), [period])
    assert dict(zip(got["job_id"], got["budget_snapshot"])) == EXPECTED[period]
    b = budget()
    rows = b[snapshot_rows(b, period)]
    assert dict(zip(rows["job_id"], rows["period"])) == EXPECTED[period]


def test_all_periods_at_once():
    got = snapshot_periods(budget(), list(EXPECTED))
    want = [(j, p, s) for p, by_job in EXPECTED.items() for j, s in by_job.items()]
    assert sorted(zip(got["job_id"], got["period"], got["budget_snapshot"])) == sorted(want)


def company() -> Company:
    jobs = table("jobs", [{"job_id": j, "job_name": j, "status": "active",
                           "start_date": "2026-01-01", "completion_date": "2027-12-31"}
                          for j in SNAPSHOTS])
    return Company.from_tables(Settings(name="T", current_period="2026-10"),
                               {"jobs": jobs, "budget": budget()})


@pytest.mark.parametrize("period", ["2026-07", "2026-09", "2026-11"])
def test_every_reader_of_the_budget_uses_the_rule(period):
    """The forecast, the schedule (one period and all periods) and the reconciliation read the
    snapshot of the table above: the PM forecast is the snapshot's month number in dollars."""
    from wip_lib.accounting.forecast import cost_to_complete
    from wip_lib.accounting.schedule import inputs_all_periods, job_inputs
    from wip_lib.reconcile.core import make_context
    from wip_lib.reconcile.job_cost import budget_at_period

    c = company()
    want = EXPECTED[period]
    want_etc = {j: int(s[-2:]) * 100 for j, s in want.items()}
    fc = cost_to_complete(c, period)
    assert dict(zip(fc["job_id"], fc["budget_snapshot"])) == want
    assert dict(zip(fc["job_id"], fc["pm_forecast"])) == want_etc
    for inputs in (job_inputs(c, period),
                   inputs_all_periods(c, "2026-05", "2026-11").query("period == @period")):
        etc = inputs.dropna(subset=["est_cost_to_complete"])
        assert dict(zip(etc["job_id"], etc["est_cost_to_complete"])) == want_etc
    recon = budget_at_period(make_context(c, period))
    assert dict(zip(recon["job_id"], recon["period"])) == want
