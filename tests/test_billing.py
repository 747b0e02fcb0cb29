"""Progress billing, retainage and the pay-app review, worked by hand on the company of
``tests/billing_company.py`` (its docstring holds every figure: owner pay applications 1-3 of
job J1 under a 10%-to-5%-at-50% retainage rule, subcontract SC-001's applications 1-2, the ERP's
AR and AP). Each check is run on the clean company (no finding) and on a copy with one thing
wrong (the finding, with the figures worked from the tables)."""
from __future__ import annotations

import billing_company as bc
import pandas as pd
import pytest
from billing_company import D

from wip_lib.accounting import payapp_review as pr
from wip_lib.accounting import progress_billing as pb
from wip_lib.accounting import retainage as rt
from wip_lib.close.billing import missing_from_ar
from wip_lib.core.errors import InputError
from wip_lib.core.settings import Settings

PERIOD = "2026-10"
# Cost progress of job J1's cost codes at 2026-10: each line bills exactly its progress
# (1: 15,000 / 20,000 = 75%; 2: 47,000 / 50,000 = 94%; 3: 21,000 / 30,000 = 70%; CO-001 8 / 10
# at the job's 80%).
CODES = pd.DataFrame({"job_id": ["J1"] * 3, "cost_code": ["01-310", "03-300", "26-100"],
                      "p": [0.75, 0.94, 0.70]})
JOBS = pd.DataFrame({"job_id": ["J1"], "p": [0.80]})


def owner(company=None, codes=CODES):
    return pb.owner_review_context(company or bc.company(), PERIOD, codes, JOBS)


def sub(company=None, waivers=None):
    return pr.review_context(company or bc.company(), PERIOD,
                             bc.waivers() if waivers is None else waivers)


def edit(table: str, where: dict, **values) -> dict:
    """The company's tables with ``values`` set on the rows of ``table`` matching ``where``."""
    t = bc.tables()
    df = t[table].copy()
    m = pd.Series(True, index=df.index)
    for k, v in where.items():
        m &= df[k].astype(str) == str(v)
    assert m.sum() >= 1
    for k, v in values.items():
        df.loc[m, k] = v
    t[table] = df
    return t


def one(found: pd.DataFrame, check: str) -> dict:
    rows = found[found["check"] == check]
    assert len(rows) == 1, found.to_string()
    return rows.iloc[0].to_dict()


# -- G702 lines 1-9 from a G703 ---------------------------------------------------------------

def test_g702_lines_1_to_9_from_application_2():
    """Application 2's G703 (C 110,000; G 75,000; F 10,000; I 7,500) at 10%, previous
    certificate 31,500 (application 1: 35,000 - 3,500):
    1 = 100,000; 2 = 10,000; 3 = 110,000; 4 = 75,000; 5 = 7,500, 5b = 10% x 10,000 = 1,000,
    5a = 6,500; 6 = 67,500; 7 = 31,500; 8 = 36,000 (application 2's own line 8); 9 = 110,000 -
    67,500 = 42,500."""
    g703 = bc.tables()["owner_invoice_lines"]
    g703 = g703[g703["application_number"] == 2]
    got = pb.g702_lines(g703, original=100_000 * D, change_orders=10_000 * D,
                        previous_certificates=31_500 * D, rate_ppm=100_000)
    assert got == {k: v * D for k, v in {
        "line_1": 100_000, "line_2": 10_000, "line_3": 110_000, "line_4": 75_000,
        "line_5a": 6_500, "line_5b": 1_000, "line_5": 7_500, "line_6": 67_500,
        "line_7": 31_500, "line_8": 36_000, "line_9": 42_500}.items()}


def test_g702_identities_hold_for_any_g703():
    g703 = pd.DataFrame({"scheduled_value": [12_345_67, -2_000_00, 0],
                         "total_completed_to_date": [6_000_01, -500_00, 0],
                         "materials_stored": [1_234_55, 0, 0], "retainage": [600_00, -50_00, 0]})
    g = pb.g702_lines(g703, original=9_999_99, change_orders=345_68, previous_certificates=4_1,
                      rate_ppm=75_000)
    assert g["line_3"] == g["line_1"] + g["line_2"]
    assert g["line_4"] == 5_500_01 and g["line_5"] == 550_00
    assert g["line_5b"] == 92_59  # 7.5% of 1,234.55 = 92.59125 -> 92.59
    assert g["line_5a"] + g["line_5b"] == g["line_5"]
    assert g["line_6"] == g["line_4"] - g["line_5"]
    assert g["line_8"] == g["line_6"] - g["line_7"]
    assert g["line_9"] == g["line_3"] - g["line_6"]


# -- retainage rates ---------------------------------------------------------------------------

def test_sliding_scale_rule_parsed_exactly():
    rules = rt.parse_rules(pd.Series(["sliding:10>5@50", "flat", "", "sliding:10>7.5@50",
                                      "sliding: 10% > 5% @ 40%"]),
                           pd.Series([0.10, 0.05, 0.10, 0.10, 0.10]))
    assert rules["rate_ppm"].tolist() == [100_000, 50_000, 100_000, 100_000, 100_000]
    assert rules["step_ppm"].tolist() == [50_000, 50_000, 100_000, 75_000, 50_000]
    assert rules["step_at_ppm"].tolist()[0] == 500_000 and rules["step_at_ppm"].tolist()[4] \
        == 400_000
    assert rules["step_at_ppm"].isna().tolist() == [False, True, True, False, False]
    assert rules["understood"].all()


@pytest.mark.parametrize("text", ["tiered", "sliding:10>5", "sliding:110>5@50", "10%"])
def test_a_rule_not_understood_is_a_problem_naming_file_row_column(text):
    pc = bc.tables()["prime_contracts"].assign(retainage_rule=text, _file="procore/pc.csv",
                                               _row=2)
    rules = rt.parse_rules(pc["retainage_rule"], pc["retainage_percent"])
    assert not rules["understood"].iloc[0]
    (p,) = rt.rule_problems(pc, rules, "procore/prime_contracts.csv")
    assert (p.file, p.row, p.column, p.value) == ("procore/pc.csv", 2, "Retainage Rule", text)
    assert "sliding:10>5@50" in p.fix


def test_sliding_rate_steps_down_at_50_percent_of_the_contract_sum_exactly():
    """Contract sum to date 110,000: 50% is 55,000. Billed before 54,999.99 -> 10%; 55,000.00
    -> 5%; a flat 10% stays 10%."""
    rules = rt.parse_rules(pd.Series(["sliding:10>5@50"] * 3 + ["flat"]),
                           pd.Series([0.10] * 4))
    prev = pd.Series([54_999_99, 55_000_00, 75_000_00, 75_000_00])
    rate = rt.application_rate(rules, prev, pd.Series([110_000_00] * 4))
    assert rate.tolist() == [100_000, 50_000, 50_000, 100_000]


def test_retainage_withheld_rounds_half_up_to_the_cent():
    got = rt.withheld(pd.Series([1_234_567, 1_234_570, 16_000_00, -1_234_570]),
                      pd.Series([50_000, 50_000, 50_000, 50_000]))
    # 5% of 12,345.67 = 617.2835 -> 617.28; of 12,345.70 = 617.285 -> 617.29; of 16,000 = 800;
    # a credit rounds the same way on its side.
    assert got.tolist() == [61_728, 61_729, 800_00, -61_729]


def test_the_three_applications_follow_the_sliding_rule():
    """Applications 1 and 2 at 10% (3,500; 4,000), application 3 at 5% (800): no finding."""
    review = pb.prepare("2026-08", "owner", pb.applications(bc.tables()["owner_invoices"],
                                                            "contract_number"),
                        pb.g703_lines(bc.tables()["owner_invoice_lines"], "contract_number"),
                        lambda a: pd.Series([100_000_00] * len(a), index=a.index),
                        pd.DataFrame({"job_id": ["J1"], "contract": ["1"],
                                      "retainage_rule": ["sliding:10>5@50"],
                                      "retainage_percent": [0.10]}), {})
    assert review.apps["rate_ppm"].tolist() == [100_000]
    for period, rate in (("2026-09", 100_000), ("2026-10", 50_000)):
        r = owner_at(period)
        assert r.apps["rate_ppm"].tolist() == [rate]
        assert pb.retainage(r)[0].empty


def owner_at(period):
    return pb.owner_review_context(bc.company(), period, CODES, JOBS)


# -- the owner review: each finding, positive and negative ------------------------------------

def test_clean_company_has_no_owner_finding():
    found, problems = pb.run(owner(), pb.OWNER_CHECKS)
    assert found.empty and problems == []


def test_line_over_100_percent():
    """CO-001 billed 11,000 (D 5,000 + E 6,000) on a scheduled value of 10,000."""
    t = edit("owner_invoice_lines", {"application_number": 3, "item_number": "CO-001"},
             this_period=6_000 * D, total_completed_to_date=11_000 * D,
             balance_to_finish=-1_000 * D)
    f = one(pb.line_over_100(owner(bc.company(t)))[0], "line_over_100")
    assert (f["reference"], f["line"], f["expected"], f["actual"], f["difference"],
            f["severity"]) == ("LS-003", "CO-001", 10_000 * D, 11_000 * D, 1_000 * D, "error")
    assert pb.line_over_100(owner())[0].empty


def test_front_loading_ahead_of_cost_progress():
    """Electrical at 55% cost progress bills 21,000 / 30,000 = 70%: 15 points ahead (> 10);
    expected 55% x 30,000 = 16,500, ahead by 4,500. At 61% it is 9 points: no finding."""
    codes = CODES.assign(p=[0.75, 0.94, 0.55])
    f = one(pb.front_loading(owner(codes=codes))[0], "front_loading")
    assert (f["line"], f["cost_code"], f["expected"], f["actual"], f["difference"],
            f["severity"]) == ("3", "26-100", 16_500 * D, 21_000 * D, 4_500 * D, "warning")
    assert pb.front_loading(owner(codes=CODES.assign(p=[0.75, 0.94, 0.61])))[0].empty


def test_front_loading_finds_the_cost_code_of_a_line_without_a_budget_code():
    """The owner G703 has no budget codes: line 3 is SOV line 3, cost code 26-100."""
    lines = owner().lines
    assert lines.loc[lines["item_number"] == "3", "cost_code"].tolist() == ["26-100"]
    assert lines.loc[lines["item_number"] == "CO-001", "cost_code"].tolist() == [""]


def test_retainage_not_at_the_rate_in_force():
    """Application 3 withholds 10% of 16,000 = 1,600 (its I 9,100) where 5% (800) is due."""
    t = edit("owner_invoices", {"application_number": 3}, retainage_this_period=1_600 * D,
             retainage_to_date=9_100 * D, amount_due=14_400 * D)
    f = one(pb.retainage(owner(bc.company(t)))[0], "retainage")
    assert (f["line"], f["expected"], f["actual"], f["difference"]) == (
        "G702 line 5", 800 * D, 1_600 * D, 800 * D)
    assert "5%" in f["action"]


def test_retainage_within_per_line_rounding_is_not_a_finding():
    """Four lines: up to 4 cents from 800.00 is Procore's per-line rounding; 5 cents is not."""
    for cents, found in ((4, False), (5, True)):
        t = edit("owner_invoices", {"application_number": 3},
                 retainage_this_period=800 * D + cents)
        assert (not pb.retainage(owner(bc.company(t)))[0].empty) is found


def test_does_not_foot_work_from_previous_application():
    """Line 2 of application 3 says D 38,000 (E 9,000) where application 2's D + E is 35,000."""
    t = edit("owner_invoice_lines", {"application_number": 3, "item_number": "2"},
             from_previous_application=38_000 * D, this_period=9_000 * D)
    f = one(pb.does_not_foot(owner(bc.company(t)))[0], "does_not_foot")
    assert (f["line"], f["expected"], f["actual"], f["difference"]) == (
        "2", 35_000 * D, 38_000 * D, 3_000 * D)


def test_does_not_foot_current_payment_due():
    """Line 8 of application 3 says 15,700: (91,000 - 8,300) - (75,000 - 7,500) = 15,200."""
    t = edit("owner_invoices", {"application_number": 3}, amount_due=15_700 * D)
    f = one(pb.does_not_foot(owner(bc.company(t)))[0], "does_not_foot")
    assert (f["line"], f["expected"], f["actual"], f["difference"]) == (
        "G702 line 8", 15_200 * D, 15_700 * D, 500 * D)


def test_does_not_foot_g_is_not_d_plus_e_plus_f():
    """A G703 built in memory (the reader sets such a line aside): G 16,000 but D + E + F =
    15,000 on line 1 (H then also 4,000 is checked against C - G = 4,000)."""
    t = edit("owner_invoice_lines", {"application_number": 3, "item_number": "1"},
             total_completed_to_date=16_000 * D, balance_to_finish=4_000 * D)
    found = pb.does_not_foot(owner(bc.company(t)))[0]
    g = found[found["detail"].str.startswith("G = D + E + F")].iloc[0]
    assert (g["line"], g["expected"], g["actual"]) == ("1", 15_000 * D, 16_000 * D)


def test_stored_materials_that_left_storage_uninstalled():
    """Line 2: 10,000 stored on application 2; application 3 stores none and installs only
    4,000 (E): 6,000 left storage without being installed (expected F >= 10,000 - 4,000)."""
    t = edit("owner_invoice_lines", {"application_number": 3, "item_number": "2"},
             this_period=4_000 * D, total_completed_to_date=39_000 * D,
             balance_to_finish=11_000 * D)
    f = one(pb.stored_materials(owner(bc.company(t)))[0], "stored_materials")
    assert (f["line"], f["expected"], f["actual"], f["difference"]) == (
        "2", 6_000 * D, 0, -6_000 * D)
    assert pb.stored_materials(owner())[0].empty


def test_contract_sum_with_a_line_for_a_pending_change_order():
    """Application 3 adds a line for pending change order 002 (7,000): column C adds up to
    117,000; the contract sum to date at 2026-10-31 is 110,000."""
    t = bc.tables()
    extra = t["owner_invoice_lines"].iloc[[-1]].assign(
        line_number=5, item_number="CO-002", description="Change Order 002 - Canopy",
        scheduled_value=7_000 * D, from_previous_application=0, this_period=0,
        materials_stored=0, total_completed_to_date=0, balance_to_finish=7_000 * D,
        retainage=0)
    t["owner_invoice_lines"] = pd.concat([t["owner_invoice_lines"], extra], ignore_index=True)
    f = one(pb.contract_sum(owner(bc.company(t)))[0], "contract_sum")
    assert (f["line"], f["expected"], f["actual"], f["difference"]) == (
        "column C", 110_000 * D, 117_000 * D, 7_000 * D)
    assert pb.contract_sum(owner())[0].empty


def test_missing_from_ar():
    """LS-003 (16,000 gross) billed in October and not in ERP AR; with it there, no finding."""
    t = bc.tables()
    ar = t["erp_ar_billings"]
    t["erp_ar_billings"] = ar[ar["invoice_number"] != "LS-003"].reset_index(drop=True)
    f = one(missing_from_ar(bc.company(t), PERIOD), "missing_from_ar")
    assert (f["reference"], f["expected"], f["actual"], f["difference"]) == (
        "LS-003", 16_000 * D, 0, -16_000 * D)
    assert missing_from_ar(bc.company(), PERIOD).empty


def test_missing_from_ar_from_the_periods_findings_equals_the_check_run_again():
    """The month-end hands over the period's reconciliation (compute_billing with its result):
    the same finding as running the owner_invoices check again, to the cent."""
    from wip_lib.close.billing import compute_billing
    from wip_lib.close.period import compute_period

    t = bc.tables()
    ar = t["erp_ar_billings"]
    t["erp_ar_billings"] = ar[ar["invoice_number"] != "LS-003"].reset_index(drop=True)
    company = bc.company(t)
    result = compute_period(company, PERIOD)
    given = missing_from_ar(company, PERIOD, result.findings)
    pd.testing.assert_frame_equal(given, missing_from_ar(company, PERIOD))
    assert one(given, "missing_from_ar")["reference"] == "LS-003"
    review = compute_billing(company, PERIOD, result).review
    pd.testing.assert_frame_equal(review[review["check"] == "missing_from_ar"]
                                  .reset_index(drop=True), given)


def test_an_immaterial_difference_is_info():
    """Materiality 1,000.00 (and 0.5% of the larger figure): line 8 off by 500 is info, off by
    2,000 an error."""
    for due, severity in ((15_700, "info"), (17_200, "error")):
        t = edit("owner_invoices", {"application_number": 3}, amount_due=due * D)
        assert pb.does_not_foot(owner(bc.company(t)))[0]["severity"].tolist() == [severity]


# -- the subcontractor review -----------------------------------------------------------------

def test_clean_subcontract_has_no_finding():
    found, problems = pb.run(sub(), pr.CHECKS)
    assert found.empty and problems == []


def test_commitment_sum_counts_change_orders_approved_by_the_period_end():
    r = sub()
    assert r.apps["contract_sum"].tolist() == [45_000 * D]  # 40,000 + CO 001 (approved 9/20)
    r9 = pr.review_context(bc.company(), "2026-09", bc.waivers())
    assert r9.apps["contract_sum"].tolist() == [45_000 * D]


def test_over_commitment():
    """Application 2 bills 48,000 to date (line 4) on a commitment of 45,000."""
    t = edit("subcontractor_invoices", {"application_number": 2},
             total_completed_to_date=48_000 * D)
    f = one(pr.over_commitment(sub(bc.company(t)))[0], "over_commitment")
    assert (f["reference"], f["expected"], f["actual"], f["difference"]) == (
        "APX-2", 45_000 * D, 48_000 * D, 3_000 * D)
    assert pr.over_commitment(sub())[0].empty


def test_subcontract_retainage_below_its_rate():
    """APX-2 withholds 600 (5%) of 12,000 where the subcontract says 10% (1,200)."""
    t = edit("subcontractor_invoices", {"application_number": 2}, retainage_this_period=600 * D)
    f = one(pb.retainage(sub(bc.company(t)))[0], "retainage")
    assert (f["expected"], f["actual"], f["difference"]) == (1_200 * D, 600 * D, -600 * D)


def test_subcontract_sliding_scale_from_the_commitment_rule():
    """SC-001 on sliding:10>5@50: application 1 billed 20,000 of 45,000 (44%) -> 10% still on
    application 2 (1,200 is right); at sliding:10>5@40 (40% = 18,000) it steps to 5% (600)."""
    t = edit("commitments", {"commitment_number": "SC-001"}, retainage_rule="sliding:10>5@50")
    assert pb.retainage(sub(bc.company(t)))[0].empty
    t = edit("commitments", {"commitment_number": "SC-001"}, retainage_rule="sliding:10>5@40")
    f = one(pb.retainage(sub(bc.company(t)))[0], "retainage")
    assert (f["expected"], f["actual"]) == (600 * D, 1_200 * D)


def test_subcontract_stored_materials_and_lines():
    """Line 1 stored 2,000 on application 1; application 2 installs only 1,500 and stores
    none: 500 unaccounted. And CO-001 billed 6,000 on 5,000: over 100%."""
    t = edit("subcontractor_invoice_lines", {"application_number": 2, "item_number": "1"},
             this_period=1_500 * D, total_completed_to_date=19_500 * D)
    f = one(pb.stored_materials(sub(bc.company(t)))[0], "stored_materials")
    assert (f["expected"], f["actual"]) == (500 * D, 0)
    t = edit("subcontractor_invoice_lines", {"application_number": 2, "item_number": "CO-001"},
             this_period=6_000 * D, total_completed_to_date=6_000 * D)
    f = one(pb.line_over_100(sub(bc.company(t)))[0], "line_over_100")
    assert (f["expected"], f["actual"]) == (5_000 * D, 6_000 * D)


@pytest.mark.parametrize("log, severity, actual", [
    ([], "error", 0),  # no waiver
    ([("SC-001", "2026-09-30", "conditional", 18_000)], "warning", 0),  # paid: needs unconditional
    ([("SC-001", "2026-09-30", "unconditional", 15_000)], "error", 15_000),  # short
    ([("SC-001", "2026-08-31", "unconditional", 18_000)], "error", 0),  # through an earlier date
    ([("SC-002", "2026-09-30", "unconditional", 18_000)], "error", 0),  # another commitment
    ([("SC-001", "2026-10-31", "conditional", 18_000)], "error", 0),  # the next payment's
])
def test_lien_waiver_for_the_previous_payment(log, severity, actual):
    """APX-2's previous payment: application 1, 18,000, through 2026-09-30, paid."""
    f = one(pr.lien_waiver(sub(waivers=bc.waivers(log)))[0], "lien_waiver")
    assert (f["reference"], f["line"], f["expected"], f["actual"], f["severity"]) == (
        "APX-2", "previous payment", 18_000 * D, actual * D, severity)


@pytest.mark.parametrize("log", [
    [("SC-001", "2026-09-30", "unconditional", 18_000)],
    [("SC-001", "2026-10-31", "unconditional", 30_000)],  # a later unconditional covers it
])
def test_lien_waiver_on_file(log):
    assert pr.lien_waiver(sub(waivers=bc.waivers(log)))[0].empty


def test_conditional_waiver_does_while_the_previous_payment_is_unpaid():
    t = edit("subcontractor_invoices", {"application_number": 1}, payment_status="unpaid")
    log = [("SC-001", "2026-09-30", "conditional", 18_000)]
    assert pr.lien_waiver(sub(bc.company(t), waivers=bc.waivers(log)))[0].empty


def test_no_waiver_log_is_a_warning_and_no_finding():
    review = pr.review_context(bc.company(), PERIOD, None)
    found, problems = pr.lien_waiver(review)
    assert found.empty and problems[0].severity == "warning"
    assert problems[0].file == "lien_waivers.csv"


def test_first_application_has_no_previous_payment():
    review = pr.review_context(bc.company(), "2026-09", bc.waivers([]))
    assert pr.lien_waiver(review)[0].empty


# -- the draft G702/G703 ------------------------------------------------------------------------

def test_draft_from_procore_figures_is_application_3_with_its_g702():
    """Progress ``procore``: the SOV (3 lines) and CO 001; D = application 2's D + E; work to
    date = application 3's G - F; I = application 2's I + 5% of each line's G change
    (1: 1,000 + 250; 2: 4,500 + 100; 3: 1,500 + 300; CO: 500 + 150 = 8,300). G702: 1 100,000;
    2 10,000; 3 110,000; 4 91,000; 5 8,300 (5b 0); 6 82,700; 7 67,500; 8 15,200; 9 27,300."""
    (d,), problems = pb.draft(bc.company(), PERIOD, "procore", CODES, JOBS)
    assert problems == []
    assert (d.job_id, d.contract, d.application_number, d.invoice_number, d.rate_ppm) == (
        "J1", "1", 3, "LS-003", 50_000)
    want = [(item, c * D, dd * D, e * D, f * D, g * D, i * D)
            for item, c, dd, e, f, g, i in bc.OWNER_LINES[3]]
    got = list(d.lines[["item_number", "scheduled_value", "from_previous_application",
                        "this_period", "materials_stored", "total_completed_to_date",
                        "retainage"]].itertuples(index=False, name=None))
    assert got == want
    assert d.g702 == {k: v * D for k, v in {
        "line_1": 100_000, "line_2": 10_000, "line_3": 110_000, "line_4": 91_000,
        "line_5a": 8_300, "line_5b": 0, "line_5": 8_300, "line_6": 82_700, "line_7": 67_500,
        "line_8": 15_200, "line_9": 27_300}.items()}


def test_draft_from_wip_cost_progress():
    """Progress ``wip`` at 01-310 80%, 03-300 90%, 26-100 75%, the job 85% (CO-001): work to
    date 16,000 / 45,000 / 22,500 / 8,500 = 92,000; E = work - D (10,000 / 35,000 / 15,000 /
    5,000) = 6,000 / 10,000 / 7,500 / 3,500; I = 1,000 + 5% x 6,000 = 1,300; 4,500 + 0;
    1,500 + 375; 500 + 175 = 8,350; line 6 = 83,650, 8 = 16,150, 9 = 26,350."""
    codes = CODES.assign(p=[0.80, 0.90, 0.75])
    jobs = JOBS.assign(p=[0.85])
    (d,), _ = pb.draft(bc.company(), PERIOD, "wip", codes, jobs)
    assert d.lines["this_period"].tolist() == [v * D for v in (6_000, 10_000, 7_500, 3_500)]
    assert d.lines["retainage"].tolist() == [v * D for v in (1_300, 4_500, 1_875, 675)]
    assert (d.g702["line_4"], d.g702["line_5"], d.g702["line_6"], d.g702["line_8"],
            d.g702["line_9"]) == (92_000 * D, 8_350 * D, 83_650 * D, 16_150 * D, 26_350 * D)


def test_draft_without_an_sov_uses_the_pay_application_lines():
    t = bc.tables()
    t["prime_contract_lines"] = t["prime_contract_lines"].iloc[:0]
    (d,), _ = pb.draft(bc.company(t), PERIOD, "procore", CODES, JOBS)
    assert d.sov_source.startswith("pay application 3")
    assert d.g702["line_4"] == 91_000 * D and d.g702["line_5"] == 8_300 * D


# -- retention ---------------------------------------------------------------------------------

def test_retention_both_directions_from_the_books():
    """Receivable (AR): withheld 3,500 + 4,000 + 800 = 8,300; released 1,000 (R1); collected
    600; outstanding 7,300; released not collected 400. Procore's latest G702 line 5: 8,300.
    Payable SC-001 (AP): withheld 2,000 + 1,200 = 3,200, outstanding 3,200 (Procore 3,200).
    PO-001 holds none: no row. Per job: receivable 7,300, payable 3,200, net 4,100."""
    r = rt.retention(bc.company(), PERIOD)
    rec = r[r["direction"] == "receivable"].iloc[0]
    assert (rec["job_id"], rec["party"], rec["rate"], rec["withheld"], rec["released"],
            rec["collected_or_paid"], rec["outstanding"], rec["released_unpaid"],
            rec["procore_retained"]) == ("J1", "Lakeside Schools", "sliding:10>5@50", 8_300 * D,
                                         1_000 * D, 600 * D, 7_300 * D, 400 * D, 8_300 * D)
    pay = r[r["direction"] == "payable"]
    assert pay["contract"].tolist() == ["SC-001"]
    p = pay.iloc[0]
    assert (p["party"], p["rate"], p["withheld"], p["outstanding"], p["procore_retained"]) == (
        "Apex Concrete", "10% flat", 3_200 * D, 3_200 * D, 3_200 * D)
    by = rt.retention_by_job(r)
    assert by[["job_id", "receivable", "payable", "net"]].values.tolist() == [
        ["J1", 7_300 * D, 3_200 * D, 4_100 * D]]


def test_retention_receivable_is_the_sum_of_ar_retainage():
    """Identity: outstanding receivable = the sum of the AR retainage (what the WIP schedule
    carries as retainage receivable), in any period."""
    for period in ("2026-08", "2026-09", "2026-10"):
        r = rt.retention(bc.company(), period)
        ar = bc.tables()["erp_ar_billings"]
        want = int(ar.loc[ar["period"] <= period, "retainage"].sum())
        assert int(r.loc[r["direction"] == "receivable", "outstanding"].sum()) == want


# -- settings ------------------------------------------------------------------------------------

def test_billing_settings_are_checked():
    s = Settings.from_mapping({**bc.SETTINGS, "billing": {"progress": "WIP"}})
    assert s.billing["progress"] == "wip" and s.billing["front_loading_points"] == 0.10
    with pytest.raises(InputError) as e:
        Settings.from_mapping({**bc.SETTINGS, "billing": {"progress": "cost", "points": 1}})
    text = str(e.value)
    assert "billing progress must be procore or wip" in text
    assert "unknown billing setting 'points'" in text


def test_wip_progress_drafts_the_next_application_of_a_job_not_billed_in_the_period():
    """November: no pay application yet. Progress ``wip`` drafts application 4 after
    application 3: work to date 16,000 / 45,000 / 22,500 / 8,500 = 92,000 (line 4); D = the
    October D + E; rate 5% (91,000 billed >= 55,000): I = October I + 5% x (G - October G) =
    1,250 + 50; 4,600 - 100; 1,800 + 75; 650 + 25 = 8,350; line 7 = 91,000 - 8,300 = 82,700;
    line 8 = 83,650 - 82,700 = 950. Progress ``procore`` has nothing to draft."""
    codes = CODES.assign(p=[0.80, 0.90, 0.75])
    (d,), _ = pb.draft(bc.company(), "2026-11", "wip", codes, JOBS.assign(p=[0.85]))
    assert (d.application_number, d.invoice_number, d.previous_application) == (4, "", 3)
    assert d.lines["from_previous_application"].tolist() == [
        v * D for v in (15_000, 47_000, 21_000, 8_000)]
    assert d.lines["retainage"].tolist() == [v * D for v in (1_300, 4_500, 1_875, 675)]
    assert {k: d.g702[k] for k in ("line_3", "line_4", "line_5", "line_7", "line_8")} == {
        "line_3": 110_000 * D, "line_4": 92_000 * D, "line_5": 8_350 * D, "line_7": 82_700 * D,
        "line_8": 950 * D}
    assert pb.draft(bc.company(), "2026-11", "procore", codes, JOBS)[0] == []
