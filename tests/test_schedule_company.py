"""The WIP schedule of a company folder (the sample company): sources, planted situations,
ties to the ERP's GL for every closed period, period amounts summing to the cumulative."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from wip_lib.accounting.history import history_start, job_history
from wip_lib.accounting.schedule import (
    PRIOR_ASOF,
    inputs_all_periods,
    recognise,
    recognise_all_periods,
    recognise_periods,
    recomputed_priors,
    wip_schedule,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="module")
def company(sample_company):
    return sample_company


@pytest.fixture(scope="module")
def october(company):
    return wip_schedule(company, "2026-10")


def _row(df, job):
    return df.loc[df["job_id"] == job].iloc[0]


def test_sources_are_named_beside_each_figure(october):
    r = _row(october.in_progress, "00104")
    assert r["contract_source"].startswith("Procore")
    assert r["cost_source"].startswith("ERP")
    assert r["billed_source"].startswith("ERP")
    assert r["etc_source"] == "Procore: estimated cost at completion less ERP cost to date, budget snapshot 2026-10"
    assert r["prior_source"] == PRIOR_ASOF


def test_planted_schedule_situations(october):
    """Answer-key amounts: loss = TP - EAC, fade vs bid, under- and overbillings."""
    key = pd.read_csv(SAMPLE / "answer_key.csv", dtype=str, keep_default_na=False)
    amount = {r["situation"].split(":")[0].split(" ")[0]: (r["job_id"], round(float(r["amount"])
                                                                              * 100))
              for r in key.to_dict("records") if r["found_by"] == "schedule"}
    ip = october.in_progress
    job, cents = amount["Loss"]
    loss = _row(ip, job)
    assert loss["est_gross_profit"] == cents < 0
    assert loss["gross_profit_to_date"] == cents  # full anticipated loss, whatever % complete
    assert loss["loss_provision"] > 0 and "loss" in loss["flag"]
    job, cents = amount["Margin"]
    fade = _row(ip, job)
    assert fade["fade_vs_bid"] == cents
    assert fade["est_gp_pct_bid"] > 0.10 and 0 < fade["est_gp_pct"] < 0.04
    job, cents = amount["Heavily"]
    assert _row(ip, job)["underbillings"] == cents
    job, cents = amount["Overbilled"]
    assert _row(ip, job)["overbillings"] == cents
    # The biggest underbilling and overbilling are the planted ones.
    assert ip.sort_values("underbillings").iloc[-1]["job_id"] == amount["Heavily"][0]


def test_identity_and_totals(october):
    s = october.in_progress
    lhs = s["cost_to_date"] + (s["earned_revenue"] - s["cost_to_date"]) - s["billed_to_date"]
    assert (lhs == s["underbillings"] - s["overbillings"]).all()
    assert len(october.completed) == 5 and len(s) == 25
    c = october.completed
    assert (c["revenue_prior_years"] + c["revenue_this_year"] == c["final_contract"]).all()
    assert (c["gp_prior_years"] + c["gp_this_year"] == c["total_gross_profit"]).all()


@pytest.mark.parametrize("period", ["2025-06", "2025-12", "2026-03", "2026-08", "2026-09"])
def test_schedule_reproduces_the_gl_of_every_closed_period(company, period):
    """The ERP's WIP accounts of a closed month hold exactly the schedule's figures then."""
    r = recognise(company, period)
    r = r[r["status"] == "open"]
    target = pd.concat([
        pd.DataFrame({"job_id": r["job_id"], "account": "1250", "t": r["underbillings"]}),
        pd.DataFrame({"job_id": r["job_id"], "account": "2150", "t": -r["overbillings"]}),
        pd.DataFrame({"job_id": r["job_id"], "account": "2160", "t": -r["loss_provision"]})])
    gl = company["gl_balances"]
    gl = gl[gl["period"] == period][["job_id", "account", "balance"]]
    m = target.merge(gl, on=["job_id", "account"], how="outer").fillna(0)
    assert len(m) > 0
    assert (m["t"] == m["balance"]).all(), m[m["t"] != m["balance"]]


def test_journal_is_this_months_change_only(october, company):
    """Against September's GL, October's entry moves each account by October's change."""
    j = october.journal_summary.set_index("account")
    gl = company["gl_balances"]
    sep = gl[gl["period"] == "2026-09"].groupby("account")["balance"].sum()
    ip = october.in_progress
    assert j.loc["1250", "net"] == ip["underbillings"].sum() - sep.get("1250", 0)
    assert j.loc["2150", "net"] == -ip["overbillings"].sum() - sep.get("2150", 0)
    assert j.loc["2160", "net"] == -ip["loss_provision"].sum() - sep.get("2160", 0)
    assert october.journal["debit"].sum() == october.journal["credit"].sum()


def test_all_periods_at_once_equals_period_by_period(company):
    a = recognise_all_periods(company, "2024-07", "2026-10")
    cols = ["job_id", "status", "contract_original", "change_orders_approved",
            "change_orders_pending", "cost_to_date", "billed_to_date", "est_cost_to_complete",
            "est_cost_original", "earned_revenue", "loss_provision", "underbillings",
            "overbillings", "etc_source"]
    for p in ["2024-07", "2025-01", "2025-09", "2026-04", "2026-10"]:
        one = recognise(company, p)[cols].reset_index(drop=True)
        many = a.loc[a["period"] == p, cols].reset_index(drop=True)
        pd.testing.assert_frame_equal(one, many, check_dtype=False)


@pytest.mark.parametrize("periods", [["2026-09"], ["2025-12", "2026-09"],
                                     ["2025-11", "2026-02", "2026-06", "2026-09"]])
def test_periods_in_one_pass_equal_each_period_alone(company, periods):
    """The priors' periods are recognised in one pass (recognise_periods): every column, every
    dtype, as recognise gives each period alone."""
    got = recognise_periods(company, periods)
    assert list(got) == periods
    for p in periods:
        pd.testing.assert_frame_equal(got[p], recognise(company, p), check_exact=True)


def test_a_wider_pass_gives_each_period_the_same_rows(company):
    """The month's priors and history share one pass from the first job's start to the period
    (compute_period): the periods taken from it equal the periods' own pass, every column and
    dtype, and so does the history drawn from it."""
    every = recognise_all_periods(company, "2024-07", "2026-10")
    periods = ["2025-12", "2026-09"]
    own = recognise_periods(company, periods)
    got = recognise_periods(company, periods, every=every)
    for p in periods:
        pd.testing.assert_frame_equal(got[p], own[p], check_exact=True)
    first = history_start(company, "2026-10")
    assert first > "2024-07"  # the shared pass starts before the history: it is wider
    pd.testing.assert_frame_equal(job_history(company, "2026-10", first=first, as_of=every),
                                  job_history(company, "2026-10"), check_exact=True)


def test_recomputed_priors_cover_each_completed_job_at_its_last_open_period(company):
    """2026-10: the jobs completed this fiscal year are measured at the month before their
    completion, the same figures recognise gives for that month."""
    priors = recomputed_priors(company, "2026-10")
    assert priors.prior_period == "2026-09"
    pd.testing.assert_frame_equal(priors.prior, recognise(company, "2026-09"), check_exact=True)
    last = priors.last_open
    assert len(last) > 0
    jobs = company["jobs"].set_index("job_id")
    for _, r in last.iterrows():
        done = pd.Timestamp(jobs.loc[r["job_id"], "completion_date"])
        assert r["period"] == str(done.to_period("M") - 1)
        alone = recognise(company, r["period"])
        assert alone.loc[alone["job_id"] == r["job_id"], "earned_revenue"].iloc[0] == \
            r["earned_revenue"]


def test_period_revenue_sums_to_cumulative(company):
    """Month by month catch-up: the periods' revenue adds up to earned revenue to date."""
    a = recognise_all_periods(company, "2024-07", "2026-10")
    job = a[a["job_id"] == "00297"].sort_values("period")
    monthly = job["earned_revenue"].diff().fillna(job["earned_revenue"].iloc[0])
    assert int(monthly.sum()) == int(job["earned_revenue"].iloc[-1])
    sched = wip_schedule(company, "2026-10").schedule
    r = _row(sched, "00297")
    prior = job[job["period"] == "2026-09"].iloc[0]
    assert r["revenue_period"] == r["earned_revenue"] - prior["earned_revenue"]


def test_timing_change_order_is_pending_at_period_end(company):
    """A prime CO approved on 2026-11-03 is pending at 2026-10 and approved at 2026-11."""
    co = company["prime_change_orders"]
    late = co[pd.to_datetime(co["approved_date"]) > pd.Timestamp("2026-10-31")]
    assert len(late) >= 1
    job = late["job_id"].iloc[0]
    inputs = inputs_all_periods(company, "2026-10", "2026-11")
    oct_, nov = (_row(inputs[inputs["period"] == p], job) for p in ("2026-10", "2026-11"))
    amount = int(late["amount"].iloc[0])
    assert nov["change_orders_approved"] - oct_["change_orders_approved"] == amount
    assert oct_["change_orders_pending"] >= amount
