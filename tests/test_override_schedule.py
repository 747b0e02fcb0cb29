"""A controller override of cost to complete flows into the WIP schedule exactly, and the audit
trail shows who, when and why (the sample company, job 00297, the stale-forecast code)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from wip_lib.close.period import compute_period
from wip_lib.sources.overrides_file import write_override
from wip_lib.sources.readers import load_company

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
JOB, CODE, CTYPE = "00297", "22-100", "S"


@pytest.fixture(scope="module")
def before_after(tmp_path_factory):
    folder = tmp_path_factory.mktemp("co") / "company"
    shutil.copytree(SAMPLE, folder)
    before = compute_period(load_company(folder), "2026-10")
    # The PM's forecast has not moved for four months; the controller raises the line's
    # estimate to complete (ECAC - cost to date, the ETC used) by $250,000.00.
    pm = before.forecast.set_index(["job_id", "cost_code", "cost_type"]).loc[
        (JOB, CODE, CTYPE), "etc_used"]
    write_override(folder, "2026-10", {"job_id": JOB, "cost_code": CODE, "cost_type": CTYPE,
                                       "etc_amount": f"{(pm + 25_000_000) / 100:.2f}",
                                       "who": "A. Controller", "when": "2026-11-04T09:30:00",
                                       "why": "PM forecast stale since June; sub says 250k more"})
    after = compute_period(load_company(folder), "2026-10")
    return before, after, pm


def _job(result):
    s = result.wip.in_progress
    return s[s["job_id"] == JOB].iloc[0]


def test_override_changes_the_schedule_as_worked_by_hand(before_after):
    before, after, _ = before_after
    b, a = _job(before), _job(after)
    tp, ctd, bill = int(b["contract_revised"]), int(b["cost_to_date"]), int(b["billed_to_date"])
    eac = int(b["est_total_cost"]) + 25_000_000
    assert a["est_cost_to_complete"] == b["est_cost_to_complete"] + 25_000_000
    assert a["est_total_cost"] == eac
    er = (2 * tp * ctd + eac) // (2 * eac)          # round half up of TP x CTD / EAC
    assert a["earned_revenue"] == er
    assert a["gross_profit_to_date"] == er - ctd
    assert a["overbillings"] - a["underbillings"] == bill - er
    assert a["revenue_period"] - b["revenue_period"] == er - b["earned_revenue"]
    assert a["etc_source"] == "Controller override (overrides/2026-10.csv)"
    assert b["etc_source"].startswith("Procore")
    # Other jobs do not move.
    others_b = before.wip.in_progress.set_index("job_id").drop(index=JOB)["earned_revenue"]
    others_a = after.wip.in_progress.set_index("job_id").drop(index=JOB)["earned_revenue"]
    assert (others_a == others_b).all()


def test_override_is_beside_the_pm_number_and_in_the_audit_trail(before_after):
    _, after, pm = before_after
    row = after.forecast.set_index(["job_id", "cost_code", "cost_type"]).loc[(JOB, CODE, CTYPE)]
    assert row["etc_pm"] == pm and row["etc_used"] == pm + 25_000_000
    audit = after.override_audit
    assert len(audit) == 1
    rec = audit.iloc[0]
    assert rec["who"] == "A. Controller" and "stale since June" in rec["why"]
    assert int(rec["difference"]) == 25_000_000


def test_the_history_ends_at_the_schedule_with_the_override(before_after):
    """The dashboards' trends end where the schedule stands: the history's row for the period
    is the schedule's, override included, for every job and every figure the two share."""
    _, after, _ = before_after
    hist = after.history[after.history["period"] == "2026-10"].set_index("job_id")
    sched = after.schedule.set_index("job_id")
    shared = [c for c in hist.columns if c in sched.columns and c not in ("period", "source")]
    assert {"cost_to_date", "est_cost_to_complete", "earned_revenue", "underbillings"} <= set(shared)
    assert sorted(hist.index) == sorted(sched.index)
    pd.testing.assert_frame_equal(hist.loc[sched.index, shared], sched[shared], check_dtype=False)
    assert hist.loc[JOB, "est_cost_to_complete"] == _job(after)["est_cost_to_complete"]
