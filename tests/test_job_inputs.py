"""The job inputs of one period are those of all periods (one implementation), worked by hand.

Company (dollars), jobs started 2026-01-01, period 2026-10:
  job  contract  budget snapshot 2026-10 (01-100 L)   ERP cost 2026-10
  A    100,000   revised 80,000, PM ETC 30,000         40,000 on 01-100 L
  B     50,000   none                                  10,000 on 02-200 L (no budget line)

A: EAC 40,000 + 30,000 = 70,000; earned = 100,000 x 40/70 = 57,142.857... -> 57,142.86.
B has cost but no budget snapshot, so no estimate: earned = cost = 10,000 (zero margin), flagged
``no_estimate`` (never 100% complete for want of an estimate).
With a controller override of 15,000 on B 02-200 L in 2026-10: EAC 25,000, 40% complete, earned
20,000, and the ETC source names the override file; 2026-11 has no override: no estimate again.
"""
from __future__ import annotations

import pandas as pd
import pytest
from test_forecast import table

from wip_lib.accounting.schedule import inputs_all_periods, job_inputs, recognise
from wip_lib.core.settings import Company, Settings

D = 100
OVERRIDE = "Controller override (overrides/2026-10.csv)"


def company(overrides: pd.DataFrame | None = None) -> Company:
    cost = [("A", "01-100", 40_000), ("B", "02-200", 10_000)]
    return Company.from_tables(Settings(name="T", current_period="2026-10"), {
        "jobs": table("jobs", [{"job_id": j, "job_name": j, "status": "active",
                                "start_date": "2026-01-01", "completion_date": "2027-06-30"}
                               for j in "AB"]),
        "prime_contracts": table("prime_contracts", [
            {"job_id": j, "contract_number": "1", "status": "Approved", "original_amount": a * D}
            for j, a in (("A", 100_000), ("B", 50_000))]),
        "budget": table("budget", [
            {"job_id": "A", "period": "2026-10", "cost_code": "01-100", "cost_code_raw": "01-100",
             "cost_type": "L", "original_budget": 80_000 * D, "revised_budget": 80_000 * D,
             "forecast_to_complete": 30_000 * D}]),
        "erp_job_cost": table("erp_job_cost", [
            {"job_id": j, "cost_code": c, "cost_code_raw": c, "cost_type": "L", "source": "AP",
             "transaction_date": "2026-10-15", "accounting_date": "2026-10-15",
             "period": "2026-10", "amount": a * D, "row_id": f"r{j}"} for j, c, a in cost]),
    }, overrides=overrides)


def override() -> pd.DataFrame:
    return pd.DataFrame({"job_id": ["B"], "cost_code": ["02-200"], "cost_type": ["L"],
                         "etc_amount": [15_000 * D], "who": ["carla"],
                         "when": pd.to_datetime(["2026-11-03"]).astype("datetime64[us]"),
                         "why": ["sub quote"], "period": ["2026-10"]})


@pytest.mark.parametrize("overrides, b_etc, b_earned, b_source", [
    (None, None, 10_000 * D, "Procore: forecast to complete, budget snapshot (none)"),
    (override(), 15_000 * D, 20_000 * D, OVERRIDE),
])
def test_one_period_as_worked_by_hand(overrides, b_etc, b_earned, b_source):
    r = recognise(company(overrides), "2026-10").set_index("job_id")
    assert r.loc["A", "est_cost_to_complete"] == 30_000 * D
    assert r.loc["A", "earned_revenue"] == 5_714_286
    b = r.loc["B"]
    assert (pd.isna(b["est_cost_to_complete"]) if b_etc is None
            else b["est_cost_to_complete"] == b_etc)
    assert b["earned_revenue"] == b_earned
    assert ("no_estimate" in b["flag"]) == (b_etc is None)
    assert b["etc_source"] == b_source


@pytest.mark.parametrize("overrides", [None, override()])
def test_one_period_is_the_all_periods_row(overrides):
    c = company(overrides)
    many = inputs_all_periods(c, "2026-09", "2026-11")
    for p in ("2026-09", "2026-10", "2026-11"):
        one = job_inputs(c, p)
        pd.testing.assert_frame_equal(
            one, many[many["period"] == p].reset_index(drop=True))
    nov = many[(many["period"] == "2026-11") & (many["job_id"] == "B")].iloc[0]
    assert pd.isna(nov["est_cost_to_complete"])  # the override was for October only


def test_a_given_forecast_is_the_etc():
    """The month-end passes the forecast it computed (overrides applied): its ETC used is the ETC."""
    from wip_lib.accounting.forecast import cost_to_complete

    c = company()
    fc = cost_to_complete(c, "2026-10", override().drop(columns="period"))
    got = job_inputs(c, "2026-10", forecast_df=fc).set_index("job_id")
    assert got.loc["B", "est_cost_to_complete"] == 15_000 * D
    assert got.loc["B", "etc_source"] == OVERRIDE
    same = job_inputs(c, "2026-10", overrides=override().drop(columns="period"))
    pd.testing.assert_frame_equal(got.reset_index(), same)
