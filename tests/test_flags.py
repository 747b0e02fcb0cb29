"""Overrun flags: a positive and a negative case for each, on the company of test_forecast.

Worked figures (dollars) for job 100 at 2026-10 (see test_forecast's docstring):
- eac_over_budget: 03-300 M EAC 12k + 20k = 32k vs 30k -> 2,000; 09-999 O EAC 2.5k vs 0 -> 2,500.
  Not 01-100 (EAC 100k = budget) nor 02-200 (35k < 50k).
- commitment_over_budget: 02-200 S committed 60k vs 50k -> 10,000; not 03-300 (20k < 30k).
- impossible_forecast: 02-200 S PM 5k vs committed remaining 30k -> 25,000; not 03-300 (20k >= 10k).
- stale_forecast: 01-100 L forecast 40k in 08, 09, 10 (unchanged for 2 periods) while 15k + 15k
  was booked in 09-10 -> 30,000; 03-300 M forecast 20k throughout while 12k was booked in 10 ->
  12,000 (flagged when N <= 2). Not 02-200 (8k -> 5k, and no cost in 10 since it last moved), not
  04-400 (unchanged 0 but no cost in the span). With the default N = 3 (four identical snapshots)
  none of these is stale yet.
- cost_ahead_of_curve: job 200 spent 60% with 122/364 = 33.5% of its schedule gone:
  60,000 - 100,000 * 122/364 = 26,483.52. Not job 100 (114.5k / 190k = 60.3% vs 76.7%).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_forecast import SETTINGS, D, make_company

from wip_lib.accounting.flags import FLAGS, OUT_COLUMNS, overrun_flags, risk_ranking
from wip_lib.accounting.forecast import budget_history, cost_to_complete, erp_cost_history
from wip_lib.core.settings import Settings


@pytest.fixture(scope="module")
def company():
    return make_company()


@pytest.fixture(scope="module")
def fc(company):
    return cost_to_complete(company, "2026-10")


JOBS = pd.DataFrame({
    "job_id": ["100", "200", "300"],
    "contract_revised": np.array([200_000, 100_000, 50_000], dtype="int64") * D,
    "est_total_cost": np.array([198_000, 70_000, 55_000], dtype="int64") * D,
    "est_gp_pct": [0.10, 0.30, 0.05],
    "prior_est_gp_pct": [0.14, 0.31, np.nan],
    "bid_gp_pct": [0.12, 0.32, 0.10],
})


@pytest.fixture(scope="module")
def flags(company, fc):
    return overrun_flags(fc, budget_history(company, "2026-10"),
                         erp_cost_history(company, "2026-10"), JOBS, SETTINGS)


def hits(flags, name) -> dict:
    f = flags[flags["flag"] == name]
    return {(j, c, t): int(d) / D for j, c, t, d in
            zip(f["job_id"], f["cost_code"], f["cost_type"], f["dollar_impact"])}


def test_columns_and_types(flags):
    assert list(flags.columns) == OUT_COLUMNS
    assert flags["dollar_impact"].dtype == "int64" and (flags["dollar_impact"] >= 0).all()
    assert set(flags["flag"]) <= set(FLAGS)


def test_eac_over_budget(flags):
    assert hits(flags, "eac_over_budget") == {("100", "03-300", "M"): 2_000,
                                              ("100", "09-999", "O"): 2_500}
    msg = flags[(flags["flag"] == "eac_over_budget") & (flags["cost_code"] == "03-300")][
        "message"].iloc[0]
    assert "Job 100 cost code 03-300 (M)" in msg
    assert "$32,000.00" in msg and "$2,000.00 over the revised budget of $30,000.00" in msg


def test_commitment_over_budget(flags):
    assert hits(flags, "commitment_over_budget") == {("100", "02-200", "S"): 10_000}


def test_impossible_forecast(flags):
    assert hits(flags, "impossible_forecast") == {("100", "02-200", "S"): 25_000}
    msg = flags[flags["flag"] == "impossible_forecast"]["message"].iloc[0]
    assert "$5,000.00" in msg and "$30,000.00" in msg


def _stale(company, fc, n):
    settings = Settings(name="T", current_period="2026-10",
                        policies={**SETTINGS.policies, "stale_forecast_periods": n})
    return overrun_flags(fc, budget_history(company, "2026-10"),
                         erp_cost_history(company, "2026-10"), None, settings)


def test_stale_forecast(company, fc):
    f = _stale(company, fc, 2)
    assert hits(f, "stale_forecast") == {("100", "01-100", "L"): 30_000,
                                         ("100", "03-300", "M"): 12_000}
    msg = f[f["flag"] == "stale_forecast"]["message"].iloc[0]
    assert "$40,000.00 for 2 periods (2026-08 to 2026-10)" in msg and "$30,000.00" in msg


def test_stale_forecast_needs_n_periods(company, fc, flags):
    # Default N = 3 needs four identical snapshots: three are not enough.
    assert hits(flags, "stale_forecast") == {}
    assert hits(_stale(company, fc, 4), "stale_forecast") == {}
    # N = 1: the whole unchanged run counts, so the impact is the same as with N = 2; 02-200's
    # run (5k in 09 and 10) had no cost booked in 10.
    assert hits(_stale(company, fc, 1), "stale_forecast") == {("100", "01-100", "L"): 30_000,
                                                              ("100", "03-300", "M"): 12_000}


def test_cost_ahead_of_curve(flags):
    assert hits(flags, "cost_ahead_of_curve") == {("200", "", ""): 26_483.52}
    msg = flags[flags["flag"] == "cost_ahead_of_curve"]["message"].iloc[0]
    assert "60.0% of the revised budget" in msg and "33.5% of the schedule" in msg


def test_pending_changes_loss(flags):
    # job 100: 200k - 198k = 2k profit; + 4k pending cost changes -> 2k loss.
    # job 200: no pending changes; job 300 already a loss (not "currently profitable").
    assert hits(flags, "pending_changes_loss") == {("100", "", ""): 2_000}
    msg = flags[flags["flag"] == "pending_changes_loss"]["message"].iloc[0]
    assert "$4,000.00" in msg and "loss of $2,000.00" in msg


def test_margin_fade(flags):
    # job 100: 14% prior -> 10%: 4 points > 3, 0.04 * 200k = 8k; job 300: bid 10% -> 5%: 2.5k.
    # job 200: 31% -> 30% and 32% -> 30% stay within 3 points.
    assert hits(flags, "margin_fade") == {("100", "", ""): 8_000, ("300", "", ""): 2_500}
    m = flags[flags["flag"] == "margin_fade"].set_index("job_id")["message"]
    assert "down 4.0 points from 14.0% at the prior period" in m["100"]
    assert "at the bid" in m["300"]


def test_no_jobs_frame_skips_job_flags(company, fc):
    f = overrun_flags(fc, None, None, None, SETTINGS)
    assert not f["flag"].isin(["pending_changes_loss", "margin_fade", "stale_forecast"]).any()
    assert hits(f, "commitment_over_budget") == {("100", "02-200", "S"): 10_000}


def test_no_flags_on_clean_forecast(fc):
    clean = fc[fc["job_id"] == "100"].copy()
    clean = clean[clean["cost_code"] == "01-100"]
    f = overrun_flags(clean, None, None, None, SETTINGS)
    assert f.empty and list(f.columns) == OUT_COLUMNS


def test_risk_ranking(company, fc):
    two = Settings(name="T", current_period="2026-10",
                   policies={**SETTINGS.policies, "stale_forecast_periods": 2})
    flags = overrun_flags(fc, budget_history(company, "2026-10"),
                          erp_cost_history(company, "2026-10"), JOBS, two)
    r = risk_ranking(flags)
    assert list(r.columns) == ["rank", "job_id", "total_impact", "flag_count", "flags",
                               "explanation"]
    # job 100, distinct dollars (issue #20): each code counts its largest impact, 01-100 30,000
    # (stale), 02-200 25,000 (impossible forecast over commitment 10,000), 03-300 12,000 (stale
    # over EAC 2,000), 09-999 2,500: 69,500, above the largest job-level impact (fade 8,000).
    # The flags' impacts add to 2,000 + 2,500 + 10,000 + 25,000 + 30,000 + 12,000 + 2,000 + 8,000
    # = 91,500, which counts overlapping dollars several times.
    assert list(r["job_id"]) == ["100", "200", "300"]
    assert list(r["rank"]) == [1, 2, 3]
    assert int(r.loc[0, "total_impact"]) == 69_500 * D and int(r.loc[0, "flag_count"]) == 8
    assert "$69,500.00 at stake" in r.loc[0, "explanation"]
    assert "add to $91,500.00" in r.loc[0, "explanation"]
    assert r.loc[0, "flags"] == ("eac_over_budget, commitment_over_budget, impossible_forecast, "
                                 "stale_forecast, pending_changes_loss, margin_fade")
    assert "largest is stale_forecast on cost code 01-100 (L) at $30,000.00" in r.loc[0,
                                                                                  "explanation"]
    assert risk_ranking(flags.iloc[0:0]).empty


def test_loss_job_and_fade_in_dollars(fc):
    """Job 300: EAC 55k above the 50k contract -> loss_job 5,000. With dollar columns the fade is
    the gross profit lost against the reference: bid GP 5,000 - current GP (-5,000) = 10,000."""
    jobs = JOBS.assign(est_gross_profit=JOBS["contract_revised"] - JOBS["est_total_cost"],
                       prior_est_gross_profit=pd.array([28_000 * D, 31_000 * D, pd.NA],
                                                       dtype="Int64"),
                       bid_gross_profit=pd.array([24_000 * D, 32_000 * D, 5_000 * D],
                                                 dtype="Int64"))
    f = overrun_flags(fc, None, None, jobs, SETTINGS)
    assert hits(f, "loss_job") == {("300", "", ""): 5_000}
    assert "anticipated loss of $5,000.00" in f[f["flag"] == "loss_job"]["message"].iloc[0]
    # job 100: 14% prior -> 10%, prior GP 28k -> 2k now: 26,000; job 300 vs the bid: 10,000.
    assert hits(f, "margin_fade") == {("100", "", ""): 26_000, ("300", "", ""): 10_000}
