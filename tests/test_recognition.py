"""Recognition (ASC 606 cost-to-cost, ASC 605-35 losses): figures worked by hand, every edge policy
of the reference, and the exact identities as properties over random jobs."""
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wip_lib.accounting.recognition import Policy, recognize
from wip_lib.core.errors import InputError, PolicyError
from wip_lib.core.settings import DEFAULT_POLICIES

D = 100  # cents per dollar


def jobs(*rows, **extra):
    """rows: (job_id, TP, CTD, ETC or None, B) in dollars; extra: other columns (dollars)."""
    df = pd.DataFrame({
        "job_id": pd.Series([r[0] for r in rows], dtype="string"),
        "contract_original": pd.Series([r[1] * D for r in rows], dtype="int64"),
        "cost_to_date": pd.Series([r[2] * D for r in rows], dtype="int64"),
        "est_cost_to_complete": pd.Series([None if r[3] is None else r[3] * D for r in rows],
                                          dtype="Int64"),
        "billed_to_date": pd.Series([r[4] * D for r in rows], dtype="int64"),
    })
    for k, v in extra.items():
        df[k] = pd.Series([x if isinstance(x, str) or x is None else x * D for x in v],
                          dtype="string" if k == "status" else "Int64")
    return df


def one(df, policy=Policy()):
    return recognize(df, policy).iloc[0]


# (case, TP, CTD, ETC, B) -> (EAC, p, ER, GP, provision, under, over, backlog), dollars
HAND = [
    ("overbilled", 1_000_000, 450_000, 350_000, 600_000,
     800_000, 0.5625, 562_500, 112_500, 0, 0, 37_500, 437_500),
    ("underbilled", 1_000_000, 450_000, 350_000, 500_000,
     800_000, 0.5625, 562_500, 112_500, 0, 62_500, 0, 437_500),
    ("exactly billed", 2_000_000, 500_000, 1_100_000, 625_000,
     1_600_000, 0.3125, 625_000, 125_000, 0, 0, 0, 1_375_000),
    ("finished, not closed", 300_000, 240_000, 0, 300_000,
     240_000, 1.0, 300_000, 60_000, 0, 0, 0, 0),
    ("nothing spent", 500_000, 0, 400_000, 0, 400_000, 0.0, 0, 0, 0, 0, 0, 500_000),
    # Loss: EAC 550,000 > TP 500,000; p = 6/11; ER = 272,727.27; provision = 50,000 * 5/11
    ("loss", 500_000, 300_000, 250_000, 330_000,
     550_000, 300 / 550, 272_727.27, -50_000, 22_727.27, 0, 57_272.73, 227_272.73),
    ("loss at 100%", 500_000, 560_000, 0, 500_000,
     560_000, 1.0, 500_000, -60_000, 0, 0, 0, 0),
]


@pytest.mark.parametrize("case,tp,ctd,etc,b,eac,p,er,gp,prov,under,over,backlog", HAND,
                         ids=[h[0] for h in HAND])
def test_hand_worked_jobs(case, tp, ctd, etc, b, eac, p, er, gp, prov, under, over, backlog):
    r = one(jobs(("J", tp, ctd, etc, b)))
    cents = lambda dollars: round(dollars * D)  # noqa: E731
    assert r["contract_revised"] == cents(tp)
    assert r["est_total_cost"] == cents(eac)
    assert r["pct_complete"] == pytest.approx(p, abs=1e-12)
    assert r["earned_revenue"] == cents(er)
    assert r["gross_profit_to_date"] == cents(gp)
    assert r["loss_provision"] == cents(prov)
    assert r["underbillings"] == cents(under)
    assert r["overbillings"] == cents(over)
    assert r["backlog"] == cents(backlog)
    assert r["cost_of_revenue_to_date"] == cents(ctd) + cents(prov)
    assert r["est_gross_profit"] == cents(tp - eac)
    assert r["remaining_gross_profit"] == cents(tp - eac) - cents(gp)


def test_loss_job_net_view_equals_revenue_reduced_by_loss():
    # ER' = CTD + TP - EAC = 300,000 + 500,000 - 550,000 = 250,000; B - ER' = 80,000 overbilled
    r = one(jobs(("L", 500_000, 300_000, 250_000, 330_000)))
    assert r["over_under"] == 5_727_273
    assert r["over_under_net"] == (330_000 - 250_000) * D
    assert r["overbillings_net"] == 80_000 * D and r["underbillings_net"] == 0
    assert r["flag"] == "loss"
    assert "Anticipated loss of 50000.00" in r["flag_reason"]


def test_loss_is_the_same_whatever_p():
    # Same contract and EAC at 10%, 50%, 90%: GP to date is always TP - EAC.
    df = jobs(("a", 1_000_000, 110_000, 990_000, 0), ("b", 1_000_000, 550_000, 550_000, 0),
              ("c", 1_000_000, 990_000, 110_000, 0))
    r = recognize(df)
    assert r["gross_profit_to_date"].tolist() == [-100_000 * D] * 3
    assert r["loss_provision"].tolist() == [90_000 * D, 50_000 * D, 10_000 * D]


def test_change_orders_and_pending_policy():
    df = jobs(("J", 900_000, 450_000, 350_000, 0), change_orders_approved=[100_000],
              change_orders_pending=[40_000])
    off = one(df)
    assert off["contract_revised"] == 1_000_000 * D
    assert off["change_orders_pending_included"] == 0
    assert off["earned_revenue"] == 562_500 * D
    on = one(df, Policy(include_pending_co_revenue=True))
    assert on["contract_revised"] == 1_040_000 * D
    assert on["change_orders_pending_included"] == 40_000 * D
    assert on["earned_revenue"] == 585_000 * D  # 1,040,000 * 0.5625


def test_uninstalled_materials_at_zero_margin():
    # TP 200,000, CTD 60,000 of which M 20,000 on site, EAC 160,000:
    # p = 40,000 / 140,000; ER = 180,000 * 2/7 + 20,000 = 51,428.57 + 20,000 = 71,428.57
    r = one(jobs(("M", 200_000, 60_000, 100_000, 50_000), uninstalled_materials=[20_000]))
    assert r["pct_complete"] == pytest.approx(2 / 7)
    assert r["earned_revenue"] == 7_142_857
    assert r["gross_profit_to_date"] == 1_142_857
    assert r["underbillings"] == 2_142_857
    plain = one(jobs(("M", 200_000, 60_000, 100_000, 50_000)))
    assert plain["earned_revenue"] == 7_500_000  # without M: 200,000 * 60/160


def test_no_estimate_and_no_cost():
    df = jobs(("none", 100_000, 0, None, 0), ("cost", 100_000, 10_000, None, 4_000),
              ("zero", 100_000, 0, 0, 0))
    r = recognize(df)
    assert r["earned_revenue"].tolist() == [0, 10_000 * D, 0]
    assert r["flag"].tolist() == ["", "no_estimate", ""]
    assert pd.isna(r["est_total_cost"].iloc[1]) and np.isnan(r["pct_complete"].iloc[1])
    assert r["underbillings"].iloc[1] == 6_000 * D
    assert "zero margin" in r["flag_reason"].iloc[1]


def test_no_estimate_with_cost_above_contract_recognises_the_evident_loss():
    r = one(jobs(("J", 100_000, 120_000, None, 90_000)))
    assert r["flag"] == "no_estimate;loss"
    assert r["earned_revenue"] == 100_000 * D
    assert r["gross_profit_to_date"] == -20_000 * D
    assert r["loss_provision"] == 0


def test_cost_over_estimate_raises_eac_and_caps_p():
    # A negative ETC means CTD > EAC: EAC raised to CTD 420,000, p = 100%.
    r = one(jobs(("J", 500_000, 420_000, -20_000, 450_000)))
    assert r["est_total_cost"] == 420_000 * D and r["est_cost_to_complete"] == 0
    assert r["est_cost_to_complete_given"] == -20_000 * D
    assert r["pct_complete"] == 1.0
    assert r["earned_revenue"] == 500_000 * D
    assert r["flag"] == "cost_over_estimate"


def test_cost_over_estimate_reruns_the_loss_test():
    r = one(jobs(("J", 500_000, 530_000, -30_000, 450_000)))
    assert r["flag"] == "cost_over_estimate;loss"
    assert r["gross_profit_to_date"] == -30_000 * D
    assert r["earned_revenue"] == 500_000 * D and r["loss_provision"] == 0


@pytest.mark.parametrize("ctd,etc,er,flag", [
    (50_000, 750_000, 50_000, "below_start_threshold"),     # p = 6.25% < 10%: ER = CTD
    (100_000, 700_000, 125_000, ""),                         # p = 12.5%: normal
    (50_000, 1_050_000, None, "loss"),                        # loss: never deferred
])
def test_start_threshold(ctd, etc, er, flag):
    r = one(jobs(("J", 1_000_000, ctd, etc, 0)), Policy(start_threshold=0.10))
    assert r["flag"] == flag
    if er is not None:
        assert r["earned_revenue"] == er * D
    else:
        assert r["gross_profit_to_date"] == -100_000 * D


def test_complete_status():
    r = one(jobs(("J", 500_000, 560_000, 5_000, 480_000), status=["complete"]))
    assert r["earned_revenue"] == 500_000 * D and r["pct_complete"] == 1.0
    assert r["est_total_cost"] == 560_000 * D
    assert r["loss_provision"] == 0 and r["gross_profit_to_date"] == -60_000 * D
    assert r["over_under"] == -20_000 * D


def test_round_pct_first():
    # p = 1/3 -> 0.3333; ER = 999,999.99 * 0.3333 = 333,299.99667 -> 333,300.00
    df = jobs(("J", 0, 100_000, 200_000, 0))
    df["contract_original"] = 99_999_999
    exact = one(df)
    rounded = one(df, Policy(round_pct_first=True))
    assert exact["earned_revenue"] == 33_333_333
    assert rounded["earned_revenue"] == 33_330_000
    assert rounded["pct_complete"] == 0.3333


def test_huge_contract_exact_beyond_int64_products():
    # $90M contract, $80M CTD of $85M EAC: TP * CTD in cents is 7.2e19 > int64 max.
    r = one(jobs(("J", 90_000_000, 80_000_000, 5_000_000, 0)))
    assert r["earned_revenue"] == 8_470_588_235


def test_bid_margin():
    r = one(jobs(("J", 1_000_000, 450_000, 350_000, 0), est_cost_original=[780_000]))
    assert r["est_gross_profit_bid"] == 220_000 * D
    assert r["est_gp_pct_bid"] == pytest.approx(0.22)


def test_input_problems():
    df = jobs(("J", 100, 50, 10, 0), uninstalled_materials=[60])
    with pytest.raises(InputError, match="uninstalled materials"):
        recognize(df)
    with pytest.raises(InputError, match="billed_to_date"):
        recognize(jobs(("J", 100, 50, 10, 0)).drop(columns="billed_to_date"))


@pytest.mark.parametrize("settings_,ok", [
    ({}, True), (DEFAULT_POLICIES, True), ({"start_threshold": 0.15}, True),
    ({"start_threshold": 1.5}, False), ({"start_threshold": -0.1}, False),
    ({"start_threshold": "10%"}, False), ({"net_loss_provision": "yes"}, False),
    ({"round_pct_first": True}, True),
])
def test_policy_from_settings(settings_, ok):
    if ok:
        p = Policy.from_settings(settings_)
        assert p.start_threshold == settings_.get("start_threshold", 0.0)
    else:
        with pytest.raises(PolicyError):
            Policy.from_settings(settings_)


# ----------------------------------------------------------------------------- properties

money = st.integers(0, 5 * 10**11)  # up to $5 billion in cents


@st.composite
def job_sets(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        tp = draw(money)
        ctd = draw(money)
        m = draw(st.integers(0, ctd)) if draw(st.booleans()) else 0
        etc = draw(st.none() | st.integers(-10**9, 5 * 10**11))
        rows.append((f"{i:03d}", tp, ctd, etc, draw(money), m))
    df = pd.DataFrame({
        "job_id": pd.Series([r[0] for r in rows], dtype="string"),
        "contract_original": pd.Series([r[1] for r in rows], dtype="int64"),
        "cost_to_date": pd.Series([r[2] for r in rows], dtype="int64"),
        "est_cost_to_complete": pd.Series([r[3] for r in rows], dtype="Int64"),
        "billed_to_date": pd.Series([r[4] for r in rows], dtype="int64"),
        "uninstalled_materials": pd.Series([r[5] for r in rows], dtype="int64"),
    })
    policy = Policy(start_threshold=draw(st.sampled_from([0.0, 0.1, 0.2])),
                    round_pct_first=draw(st.booleans()))
    return df, policy


# Both identities over the same random job sets, one recognition per example: generating the
# examples and recognising them is the test's whole cost.
@settings(max_examples=150, deadline=None)
@given(job_sets())
def test_over_under_and_loss_identities(data):
    df, policy = data
    r = recognize(df, policy)
    # Over/under: ER - B = underbillings - overbillings, job by job and in total.
    ctd, b = r["cost_to_date"].sum(), r["billed_to_date"].sum()
    earnings = (r["earned_revenue"] - r["cost_to_date"]).sum()
    assert ctd + earnings - b == r["underbillings"].sum() - r["overbillings"].sum()
    assert ((r["earned_revenue"] - r["billed_to_date"])
            == r["underbillings"] - r["overbillings"]).all()
    assert ((r["underbillings"] == 0) | (r["overbillings"] == 0)).all()
    assert (r[["underbillings", "overbillings", "loss_provision"]] >= 0).all().all()
    assert (r["over_under_net"] == r["over_under"] + r["loss_provision"]).all()
    assert (r["backlog"] == r["contract_revised"] - r["earned_revenue"]).all()
    # ASC 605-35 full anticipated loss: a loss job's GP to date is TP - EAC exactly.
    eac = r["est_total_cost"]
    loss = (eac > r["contract_revised"]).fillna(False)
    gp = r["earned_revenue"] - r["cost_to_date"] - r["loss_provision"]
    assert (gp == r["gross_profit_to_date"]).all()
    assert (gp[loss] == (r["contract_revised"] - eac)[loss]).all()
    assert (r["loss_provision"][~loss] == 0).all()
    # Net view equals the "revenue reduced by the loss" convention ER' = CTD + TP - EAC.
    er_prime = r["cost_to_date"] + r["contract_revised"] - eac
    assert ((r["billed_to_date"] - er_prime)[loss] == r["over_under_net"][loss]).all()


one_job = st.tuples(st.integers(1, 10**11), st.integers(0, 10**11), st.integers(0, 10**11),
                    st.fractions(0, 1))


# Jobs in batches of up to twenty, one recognition per batch: recognising a frame costs about
# the same for one job as for twenty, and each job is checked on its own.
@settings(max_examples=40, deadline=None)
@given(st.lists(one_job, min_size=1, max_size=20))
def test_earned_revenue_is_the_exact_rounded_ratio(batch):
    tp, ctd, etc, m = zip(*((t, c, e, int(c * f)) for t, c, e, f in batch))
    df = pd.DataFrame({"job_id": pd.Series([f"{i:02d}" for i in range(len(batch))],
                                           dtype="string"),
                       "contract_original": list(tp), "cost_to_date": list(ctd),
                       "est_cost_to_complete": pd.array(etc, dtype="Int64"),
                       "billed_to_date": [0] * len(batch), "uninstalled_materials": list(m)})
    rec = recognize(df)
    assert list(rec["job_id"]) == list(df["job_id"])
    for i, r in enumerate(rec.itertuples()):
        eac = ctd[i] + etc[i]
        if eac - m[i] == 0:
            assert r.earned_revenue == ctd[i]
            continue
        exact = Fraction(tp[i] - m[i]) * Fraction(ctd[i] - m[i], eac - m[i]) + m[i]
        assert abs(Fraction(int(r.earned_revenue)) - exact) <= Fraction(1, 2)
        if eac > tp[i]:
            # provision = (EAC - TP)(1 - p) within half a cent, never negative
            p = Fraction(ctd[i] - m[i], eac - m[i])
            assert abs(int(r.loss_provision) - (eac - tp[i]) * (1 - p)) <= Fraction(1, 2)
            assert r.loss_provision >= 0
