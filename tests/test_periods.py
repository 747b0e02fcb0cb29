"""Period, year-to-date and completed-contract amounts by cumulative catch-up: hand-worked
sequences and the property that period amounts always add up to the cumulative figures."""
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wip_lib.accounting.catch_up import catch_up, completed_contracts, period_amounts, ytd_amounts
from wip_lib.accounting.recognition import Policy, recognize

D = 100


def state(job_id="J", tp=1_000_000, ctd=0, etc=0, b=0, status="open", bid=None):
    """One job at one period end (dollars), recognised."""
    df = pd.DataFrame({
        "job_id": pd.Series([job_id], dtype="string"),
        "contract_original": [tp * D], "cost_to_date": [ctd * D],
        "est_cost_to_complete": pd.array([None if etc is None else etc * D], dtype="Int64"),
        "billed_to_date": [b * D], "status": pd.Series([status], dtype="string"),
        "est_cost_original": pd.array([None if bid is None else bid * D], dtype="Int64"),
    })
    return recognize(df)


def test_first_period_against_no_prior():
    r = period_amounts(state(ctd=450_000, etc=350_000), None).iloc[0]
    assert r["revenue_period"] == 562_500 * D
    assert r["cost_period"] == 450_000 * D
    assert r["gross_profit_period"] == 112_500 * D
    assert pd.isna(r["fade"])


def test_revised_estimate_lands_in_the_period_of_revision():
    # t-1: CTD 200,000 of EAC 800,000 (EGP 200,000, p 25%, GP 50,000).
    # t:   CTD 450,000 of EAC 850,000 (EGP 150,000, p = 45/85, GP 79,411.76).
    prior = state(ctd=200_000, etc=600_000, bid=780_000)
    cur = state(ctd=450_000, etc=400_000, bid=780_000)
    r = period_amounts(cur, prior).iloc[0]
    assert r["revenue_period"] == 52_941_176 - 25_000_000      # 529,411.76 - 250,000
    assert r["cost_period"] == 250_000 * D
    assert r["gross_profit_period"] == 2_941_176               # 29,411.76
    assert r["fade"] == -50_000 * D
    assert r["fade_points"] == pytest.approx(-0.05)
    # New work at the new margin: 150,000 * (45/85 - 1/4) = 41,911.76;
    # catch-up from the revision: -50,000 * 25% = -12,500.
    assert r["gp_new_work"] == 4_191_176
    assert r["gp_revision"] == -1_250_000
    assert r["gp_new_work"] + r["gp_revision"] == r["gross_profit_period"]
    assert r["fade_vs_bid"] == (150_000 - 220_000) * D
    assert r["fade_vs_bid_points"] == pytest.approx(0.15 - 0.22)


def test_job_turns_into_a_loss_then_completes():
    p1 = state(tp=500_000, ctd=100_000, etc=300_000, b=120_000)
    p2 = state(tp=500_000, ctd=300_000, etc=250_000, b=330_000)
    p3 = state(tp=500_000, ctd=400_000, etc=150_000, b=420_000)   # estimate unchanged
    p4 = state(tp=500_000, ctd=560_000, etc=0, b=500_000, status="complete")
    r1 = period_amounts(p1, None).iloc[0]
    r2 = period_amounts(p2, p1).iloc[0]
    r3 = period_amounts(p3, p2).iloc[0]
    r4 = period_amounts(p4, p3).iloc[0]
    assert (r1["revenue_period"], r1["gross_profit_period"]) == (125_000 * D, 25_000 * D)
    # Period 2: ER 272,727.27, provision 22,727.27, GP -50,000 -> period GP -75,000.
    assert r2["revenue_period"] == 27_272_727 - 12_500_000
    assert r2["cost_period"] == 200_000 * D + 2_272_727
    assert r2["gross_profit_period"] == -75_000 * D
    assert r2["fade"] == -150_000 * D
    # Period 3: unchanged estimate -> zero GP as the provision unwinds.
    assert r3["loss_provision"] == 1_363_636  # 50,000 * 150/550 = 13,636.36
    assert r3["gross_profit_period"] == 0
    assert r3["revenue_period"] == 36_363_636 - 27_272_727
    # Period 4: complete at a final cost of 560,000; period revenue = TP - revenue before.
    assert r4["revenue_period"] == 500_000 * D - 36_363_636
    assert r4["cost_period"] == 160_000 * D - 1_363_636
    assert r4["gross_profit_period"] == -10_000 * D
    assert r4["loss_provision"] == 0 and r4["over_under"] == 0
    total_gp = sum(r["gross_profit_period"] for r in (r1, r2, r3, r4))
    assert total_gp == (500_000 - 560_000) * D


def test_job_missing_from_prior_has_prior_zeros_and_prior_only_jobs_are_ignored():
    prior = pd.concat([state("A", ctd=100_000, etc=700_000), state("Z", ctd=5, etc=5)],
                      ignore_index=True)
    cur = pd.concat([state("A", ctd=200_000, etc=600_000), state("B", ctd=80_000, etc=720_000)],
                    ignore_index=True)
    r = period_amounts(cur, prior)
    assert r["job_id"].tolist() == ["A", "B"]
    assert r["revenue_period"].tolist() == [125_000 * D, 100_000 * D]


def test_ytd_against_fiscal_year_start():
    fye = state(ctd=200_000, etc=600_000)
    r = ytd_amounts(state(ctd=450_000, etc=350_000), fye).iloc[0]
    assert r["revenue_ytd"] == (562_500 - 250_000) * D
    assert r["cost_ytd"] == 250_000 * D
    assert r["gross_profit_ytd"] == 62_500 * D
    assert r["fade_ytd"] == 0


def test_completed_contracts():
    fye = pd.concat([state("A", tp=500_000, ctd=300_000, etc=250_000),
                     state("B", tp=200_000, ctd=50_000, etc=110_000)], ignore_index=True)
    final = pd.concat([state("A", tp=500_000, ctd=560_000, etc=0, b=500_000, status="complete"),
                       state("B", tp=210_000, ctd=170_000, etc=0, b=210_000, status="complete"),
                       state("C", tp=90_000, ctd=70_000, etc=0, b=90_000, status="complete")],
                      ignore_index=True)
    r = completed_contracts(final, fye, last_reported=fye).set_index("job_id")
    a = r.loc["A"]
    assert a["final_contract"] == 500_000 * D and a["total_cost"] == 560_000 * D
    assert a["total_gross_profit"] == -60_000 * D
    assert a["revenue_prior_years"] == 27_272_727
    assert a["revenue_this_year"] == 500_000 * D - 27_272_727
    assert a["cost_prior_years"] == 300_000 * D + 2_272_727
    assert a["gp_prior_years"] == -50_000 * D
    assert a["gp_this_year"] == -10_000 * D
    assert a["fade_at_close"] == -10_000 * D
    b = r.loc["B"]  # 50,000 of 160,000 at 200,000: ER 62,500, GP 12,500
    assert (b["revenue_prior_years"], b["gp_prior_years"]) == (62_500 * D, 12_500 * D)
    assert b["gp_this_year"] == (40_000 - 12_500) * D
    c = r.loc["C"]
    assert c["revenue_prior_years"] == 0 and c["revenue_this_year"] == 90_000 * D
    assert pd.isna(c["fade_at_close"])
    for col in ("revenue", "cost", "gp"):
        assert (r[f"{col}_prior_years"] + r[f"{col}_this_year"]).tolist() == \
            r[{"revenue": "final_contract", "cost": "total_cost",
               "gp": "total_gross_profit"}[col]].tolist()


def test_completed_contracts_from_raw_figures():
    raw = pd.DataFrame({"job_id": ["X"], "contract_original": [100_000], "cost_to_date": [90_000],
                        "est_cost_to_complete": pd.array([0], dtype="Int64"),
                        "billed_to_date": [100_000]})
    r = completed_contracts(raw, None).iloc[0]
    assert (r["revenue_this_year"], r["gp_this_year"]) == (100_000, 10_000)


# ----------------------------------------------------------------------------- properties

@st.composite
def sequences(draw):
    """A job through 1-8 period ends: cost only grows, estimates and contract move freely."""
    n = draw(st.integers(1, 8))
    tp = draw(st.integers(0, 10**10))
    ctd = 0
    states = []
    for i in range(n):
        ctd += draw(st.integers(0, 10**9))
        tp += draw(st.integers(-10**8, 10**8))
        etc = draw(st.none() | st.integers(-10**8, 10**10))
        status = "complete" if i == n - 1 and draw(st.booleans()) else "open"
        states.append((max(tp, 0), ctd, etc, draw(st.integers(0, 10**10)), status))
    return states, draw(st.sampled_from([0.0, 0.15]))


@settings(max_examples=100, deadline=None)
@given(sequences())
def test_period_amounts_sum_to_cumulative(data):
    states, threshold = data
    # Each period of the sequence is a row of one frame (job "0", "1", ...), recognised at once;
    # the prior of period i is row i-1 named as job i, so one catch-up gives every period's
    # amounts (the job of period 0 has no prior: prior zeros).
    tp, ctd, etc, billed, status = (list(x) for x in zip(*states))
    ids = [str(i) for i in range(len(states))]
    rec = recognize(pd.DataFrame({
        "job_id": ids, "contract_original": tp, "cost_to_date": ctd,
        "est_cost_to_complete": pd.array(etc, dtype="Int64"), "billed_to_date": billed,
        "status": status}), Policy(start_threshold=threshold))
    prior = rec.iloc[:-1].assign(job_id=ids[1:])
    r = period_amounts(rec, prior)
    assert r["job_id"].tolist() == ids
    assert (r["gp_new_work"] + r["gp_revision"] == r["gross_profit_period"]).all()
    assert (r["revenue_period"] - r["cost_period"] == r["gross_profit_period"]).all()
    last = rec.iloc[-1]
    assert r["revenue_period"].sum() == last["earned_revenue"]
    assert r["cost_period"].sum() == last["cost_to_date"] + last["loss_provision"]
    assert r["gross_profit_period"].sum() == last["gross_profit_to_date"]


profitable_job = st.tuples(st.integers(10**4, 10**10), st.integers(1, 10**10),
                           st.integers(1, 10**10), st.fractions(0, 1), st.fractions(0, 1))


# Jobs in batches of up to twenty (two recognitions per batch, not per job), each checked alone.
@settings(max_examples=25, deadline=None)
@given(st.lists(profitable_job, min_size=1, max_size=20))
def test_gp_decomposition_for_profitable_jobs(batch):
    """GP_period = EGP(t)(p(t) - p(t-1)) + (EGP(t) - EGP(t-1)) p(t-1), to rounding."""
    jobs = []
    for tp, eac0, eac1, f0, f1 in batch:
        eac0, eac1 = min(eac0, tp), min(eac1, tp)  # profitable (or break-even) both periods
        ctd0 = int(eac0 * f0)
        ctd1 = max(int(eac1 * f1), ctd0)
        eac1 = max(eac1, ctd1)
        jobs.append((tp, eac0, eac1, ctd0, ctd1))
    ids = pd.Series([f"{i:02d}" for i in range(len(jobs))], dtype="string")
    frames = [recognize(pd.DataFrame({
        "job_id": ids, "contract_original": [j[0] for j in jobs],
        "cost_to_date": [j[3 + k] for j in jobs],
        "est_cost_to_complete": pd.array([j[1 + k] - j[3 + k] for j in jobs], dtype="Int64"),
        "billed_to_date": [0] * len(jobs)})) for k in (0, 1)]
    got = period_amounts(frames[1], frames[0]).set_index("job_id")["gp_revision"]
    for i, (tp, eac0, eac1, ctd0, _) in enumerate(jobs):
        p0 = Fraction(ctd0, eac0)
        revision = Fraction((tp - eac1) - (tp - eac0)) * p0
        assert abs(got[ids[i]] - revision) <= Fraction(3, 2)


def test_catch_up_requires_aligned_prior():
    cur = state(ctd=10, etc=10)
    out = catch_up(cur, cur.iloc[:0].reindex(cur.index), [False])
    assert out["revenue_period"].iloc[0] == cur["earned_revenue"].iloc[0]


# -- a period's text: one pattern, read alike by Python's re and Arrow's RE2 ----------------------

@pytest.mark.parametrize("text, is_one", [
    ("2026-10", True), ("2026-01", True), ("1999-12", True),
    ("2026-13", False), ("2026-00", False), ("2026-1", False), ("26-10", False),
    ("2026-10 ", False), (" 2026-10", False), ("2026-10\n", False), ("2026/10", False),
    ("٢٠٢٦-10", False),  # Arabic-Indic digits: Python's \d takes them, a month cannot
    ("", False), (None, False), (202610, False),
])
def test_a_period_is_a_month_written_yyyy_mm_by_both_engines(text, is_one):
    import pyarrow as pa
    import pyarrow.compute as pc

    from wip_lib.core.errors import PeriodError
    from wip_lib.core.periods import check_period, is_period
    from wip_lib.sources.readers.tabular import PERIOD_TEXT

    assert is_period(text) is is_one
    if isinstance(text, str):  # a period column's cell, matched by Arrow
        assert pc.match_substring_regex(pa.array([text]), PERIOD_TEXT)[0].as_py() is is_one
    if is_one:
        assert check_period(text) == text
    else:
        with pytest.raises(PeriodError):
            check_period(text)
