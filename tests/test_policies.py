"""The policies a contractor sets in company.yaml (docs/policies.md), table by table, each figure
worked by hand; and the property that ``wip schedule`` and the company path give the same
figures for the same job inputs.

Tables (dollars unless said):
- settings: each policy's accepted values and the message a bad one gets;
- contract types: recognition per type (fixed price, T&M, cost plus, GMP, letter of intent);
- contract terms: where a job's type, fee and estimated value come from;
- pending change orders: category and treatment per change order, the pending-cost column;
- uninstalled materials: none, the input file, the pay applications;
- retainage: receivable net of releases and collections, release invoices, payable;
- rounding: per-job cents, totals as sums of per-job cents;
- the surety view's entry in the period a company switches to it.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_forecast import table

from wip_lib.accounting.contract import contract_terms
from wip_lib.accounting.journal import summarise_by_account, wip_journal_entry
from wip_lib.accounting.recognition import recognize
from wip_lib.accounting.schedule import job_inputs, recognise, wip_schedule
from wip_lib.accounting.status_schedule import build_schedule
from wip_lib.core.errors import InputError
from wip_lib.core.settings import DEFAULT_GL_ACCOUNTS, Company, Settings
from wip_lib.sources.job_status import read_job_status

D = 100
ROOT = Path(__file__).resolve().parents[1]


def settings_with(**policies) -> Settings:
    return Settings.from_mapping({"name": "T", "current_period": "2026-10",
                                  "policies": policies})


# ----------------------------------------------------------------------------- settings
@pytest.mark.parametrize("policies, message", [
    ({}, None),
    ({"contract_types": {"jobs": {"00553": {"type": "letter_of_intent",
                                            "estimated_contract": 2_500_000}}}}, None),
    ({"contract_types": {"jobs": {"0401": {"type": "cost_plus", "fee": 0.08}}}}, None),
    ({"contract_types": {"jobs": {"0401": {"type": "time_and_materials", "markup": "0.15"}}}},
     None),
    ({"contract_types": {"jobs": {553: {"type": "cost_plus", "fee": 0.08}}}},
     "quote the job number"),
    ({"contract_types": {"jobs": {"0401": {"type": "cost-plus", "fee": 0.08}}}},
     "contract type is not one of"),
    ({"contract_types": {"jobs": {"0401": {"type": "cost_plus"}}}}, "needs its fee"),
    ({"contract_types": {"jobs": {"0401": {"type": "fixed_price", "fee": 0.1}}}},
     "takes no fee"),
    ({"contract_types": {"jobs": {"0401": {"type": "cost_plus", "fee": 0.1,
                                           "estimated_contract": 5}}}},
     "only a letter_of_intent job"),
    ({"contract_types": {"jobs": {"0401": {"type": "letter_of_intent",
                                           "estimated_contract": -5}}}}, "above zero"),
    ({"contract_types": {"default": "letter_of_intent"}}, "default contract type"),
    ({"contract_types": {"default": "cost_plus"}}, "needs default_fee"),
    ({"contract_types": {"default": "cost_plus", "default_fee": "x"}}, "default_fee must be"),
    ({"unsigned_contracts": "contract_amount"}, None),
    ({"unsigned_contracts": "zero"}, "unsigned_contracts is not one of"),
    ({"pending_change_orders": {"unpriced": "include", "claims": "exclude"}}, None),
    ({"pending_change_orders": {"claims": "maybe"}}, "claims is not one of"),
    ({"pending_change_orders": {"change_orders": [
        {"job": "00328", "change_order": "004", "treatment": "include_percent",
         "percent": 0.5}]}}, None),
    ({"pending_change_orders": {"change_orders": [
        {"job": "00328", "change_order": "004", "treatment": "include_percent",
         "percent": 1.5}]}}, "a fraction from 0 to 1"),
    ({"pending_change_orders": {"change_orders": [
        {"job": "00328", "change_order": "004", "treatment": "include_amount"}]}},
     "needs the constrained amount"),
    ({"pending_change_orders": {"change_orders": [
        {"job": "00328", "change_order": "004", "treatment": "cost_only"}]}},
     "needs the estimated cost"),
    ({"pending_change_orders": {"change_orders": [
        {"job": 328, "change_order": "004", "treatment": "exclude"}]}}, "quoted text"),
    ({"pending_change_orders": {"change_orders": [
        {"job": "00328", "change_order": "004", "treatment": "accept"}]}},
     "treatment is not one of"),
    ({"uninstalled_materials": "file"}, None),
    ({"uninstalled_materials": "yes"}, "uninstalled_materials is not one of"),
    ({"retainage_release": "separate"}, None),
    ({"retainage_release": "gross"}, "retainage_release is not one of"),
    ({"start_threshold": 1.5}, "start_threshold must be a fraction"),
    ({"round_pct_first": "yes"}, "round_pct_first must be true or false"),
    ({"no_such_policy": 1}, "unknown policy"),
])
def test_settings_accept_or_explain(policies, message):
    if message is None:
        s = settings_with(**policies)
        assert set(s.policies) >= set(policies)
        return
    with pytest.raises(InputError) as exc:
        settings_with(**policies)
    text = str(exc.value)
    assert message in text and "company.yaml" in text and "Fix:" in text


def test_settings_normalise_amounts_and_fractions():
    s = settings_with(contract_types={"jobs": {"A": {"type": "letter_of_intent",
                                                     "estimated_contract": "2,500,000.00"},
                                               "B": {"type": "gmp", "fee": 0.05}}},
                      pending_change_orders={"change_orders": [
                          {"job": "A", "change_order": "1", "treatment": "include_amount",
                           "amount": 25_000.5, "estimated_cost": 18_000}]})
    jobs = s.policies["contract_types"]["jobs"]
    assert jobs["A"]["estimated_contract"] == 250_000_000
    assert jobs["B"]["fee"] == "0.05"
    entry = s.policies["pending_change_orders"]["change_orders"][0]
    assert (entry["amount"], entry["estimated_cost"]) == (2_500_050, 1_800_000)


# ----------------------------------------------------------------------------- contract types
def frame(*rows):
    """rows: (type, fee, TP, CTD, ETC or None, B, status, estimated contract or None)."""
    return pd.DataFrame({
        "job_id": pd.Series([f"J{i}" for i in range(len(rows))], dtype="string"),
        "contract_type": pd.Series([r[0] for r in rows], dtype="string"),
        "fee_pct": pd.Series([r[1] for r in rows], dtype="string"),
        "contract_original": [r[2] * D for r in rows],
        "cost_to_date": [r[3] * D for r in rows],
        "est_cost_to_complete": pd.array([None if r[4] is None else r[4] * D for r in rows],
                                         dtype="Int64"),
        "billed_to_date": [r[5] * D for r in rows],
        "status": pd.Series([r[6] for r in rows], dtype="string"),
        "contract_estimated": pd.array([None if r[7] is None else r[7] * D for r in rows],
                                       dtype="Int64"),
    })


# (case, type, fee, TP, CTD, ETC, B, status, estimate) ->
#   (TP out, ER, provision, basis, flag), money in cents
CONTRACT_TYPES = [
    ("fixed price: ER = TP x CTD / EAC = 1,000,000 x 450/800",
     ("fixed_price", None, 1_000_000, 450_000, 350_000, 0, "open", None),
     (100_000_000, 56_250_000, 0, "percent_complete", "")),
    ("cost plus 8%: ER = 450,000 + 36,000; TP = EAC 800,000 + fee 64,000",
     ("cost_plus", "0.08", 1_000_000, 450_000, 350_000, 0, "open", None),
     (86_400_000, 48_600_000, 0, "cost_plus", "")),
    ("cost plus over its estimate: no loss test; ER = 900,000 + 45,000",
     ("cost_plus", "0.05", 1_000_000, 900_000, 300_000, 0, "open", None),
     (126_000_000, 94_500_000, 0, "cost_plus", "")),
    ("T&M 15%, no estimate: ER = 200,000 + 30,000; TP = the contract amount",
     ("time_and_materials", "0.15", 1_000_000, 200_000, None, 0, "open", None),
     (100_000_000, 23_000_000, 0, "cost_plus", "")),
    ("fee rounded half-up per job: 33,333.33 x 7.5% = 2,499.99975 -> 2,500.00",
     ("cost_plus", "0.075", 0, 33_333.33, 0, 0, "open", None),
     (3_583_333, 3_583_333, 0, "cost_plus", "")),
    ("GMP 5% within the cap: 800,000 + 40,000 <= 1,000,000: ER = 450,000 + 22,500",
     ("gmp", "0.05", 1_000_000, 450_000, 350_000, 0, "open", None),
     (84_000_000, 47_250_000, 0, "cost_plus", "")),
    ("GMP above the cap: 1,000,000 + 50,000 > cap: fixed price, ER = 1,000,000 x 60%",
     ("gmp", "0.05", 1_000_000, 600_000, 400_000, 0, "open", None),
     (100_000_000, 60_000_000, 0, "percent_complete", "")),
    ("GMP at a loss: EAC 1,100,000 > cap: ER = 1,000,000 x 6/11 = 545,454.55; provision "
     "= (545,454.55 - 600,000) + 100,000 = 45,454.55",
     ("gmp", "0.05", 1_000_000, 600_000, 500_000, 0, "open", None),
     (100_000_000, 54_545_455, 4_545_455, "percent_complete", "loss")),
    ("GMP complete: min(980,000 x 1.05, cap 1,000,000)",
     ("gmp", "0.05", 1_000_000, 980_000, 0, 1_000_000, "complete", None),
     (100_000_000, 100_000_000, 0, "complete", "")),
    ("cost plus complete: final revenue = 500,000 x 1.10",
     ("cost_plus", "0.10", 480_000, 500_000, 0, 550_000, "complete", None),
     (55_000_000, 55_000_000, 0, "complete", "")),
    ("letter of intent with an estimated value 2,000,000: fixed price on it, p = 1/3",
     ("letter_of_intent", None, 0, 500_000, 1_000_000, 0, "open", 2_000_000),
     (200_000_000, 66_666_667, 0, "percent_complete", "letter_of_intent")),
    ("letter of intent, no value: revenue = cost, TP = ER, no loss",
     ("letter_of_intent", None, 0, 500_000, 1_000_000, 450_000, "open", None),
     (50_000_000, 50_000_000, 0, "zero_margin", "letter_of_intent")),
    ("fixed price with nothing priced (TP 0, cost 40,000): as a letter of intent",
     ("fixed_price", None, 0, 40_000, 60_000, 30_000, "open", None),
     (4_000_000, 4_000_000, 0, "zero_margin", "letter_of_intent")),
]


@pytest.mark.parametrize("inputs, expected", [c[1:] for c in CONTRACT_TYPES],
                         ids=[c[0] for c in CONTRACT_TYPES])
def test_contract_types(inputs, expected):
    r = recognize(frame(inputs)).iloc[0]
    tp, er, provision, basis, flag = expected
    assert r["contract_revised"] == tp
    assert r["earned_revenue"] == er
    assert r["loss_provision"] == provision
    assert r["recognition_basis"] == basis
    assert r["flag"] == flag
    assert r["backlog"] == tp - er
    assert r["over_under"] == r["billed_to_date"] - er
    assert r["gross_profit_to_date"] == er - r["cost_to_date"] - provision


def test_cost_plus_needs_a_fee_and_a_known_type():
    with pytest.raises(InputError, match="fee"):
        recognize(frame(("cost_plus", None, 1_000, 500, 100, 0, "open", None)))
    with pytest.raises(InputError, match="contract_type is not one of"):
        recognize(frame(("lump", None, 1_000, 500, 100, 0, "open", None)))


# ----------------------------------------------------------------------------- contract terms
def terms_company(contracts, policies=None, period_cos=()):
    """Job J with the given prime contracts (status, amount, -, executed_date)."""
    s = Settings.from_mapping({"name": "T", "current_period": "2026-10",
                               "policies": policies or {}})
    return Company.from_tables(s, {
        "jobs": table("jobs", [{"job_id": "J", "job_name": "J", "status": "active",
                                "start_date": "2026-01-01"}]),
        "prime_contracts": table("prime_contracts", [
            {"job_id": "J", "contract_number": str(i + 1), "status": st_,
             "original_amount": a * D, "executed_date": ex}
            for i, (st_, a, t, ex) in enumerate(contracts)]),
    })


# (case, contracts, policies) -> (type, fee, estimated contract in cents, signed)
TERMS = [
    ("default: fixed price", [("Approved", 100_000, "", None)], {},
     ("fixed_price", None, None, True)),
    ("per-job setting", [("Approved", 100_000, "", None)],
     {"contract_types": {"jobs": {"J": {"type": "cost_plus", "fee": 0.08}}}},
     ("cost_plus", "0.08", None, True)),
    ("a cost-plus default with its default fee", [("Approved", 100_000, "", None)],
     {"contract_types": {"default": "cost_plus", "default_fee": 0.1}},
     ("cost_plus", "0.1", None, True)),
    ("a job's own type wins over the default", [("Approved", 100_000, "", None)],
     {"contract_types": {"default": "cost_plus", "default_fee": 0.1,
                         "jobs": {"J": {"type": "fixed_price"}}}},
     ("fixed_price", None, None, True)),
    ("Out For Signature: letter of intent, revenue = cost",
     [("Out For Signature", 100_000, "", None)], {},
     ("letter_of_intent", None, None, False)),
    ("Out For Signature with an estimated value",
     [("Out For Signature", 100_000, "", None)],
     {"contract_types": {"jobs": {"J": {"type": "letter_of_intent",
                                        "estimated_contract": 90_000}}}},
     ("letter_of_intent", None, 9_000_000, False)),
    ("unsigned_contracts: contract_amount", [("Draft", 120_000, "", None)],
     {"unsigned_contracts": "contract_amount"},
     ("letter_of_intent", None, 12_000_000, False)),
    ("T&M without a signed contract stays T&M", [("Draft", 0, "", None)],
     {"contract_types": {"jobs": {"J": {"type": "time_and_materials", "fee": 0.15}}}},
     ("time_and_materials", "0.15", None, False)),
    ("a letter of intent once signed is fixed price", [("Approved", 100_000, "", None)],
     {"contract_types": {"jobs": {"J": {"type": "letter_of_intent",
                                        "estimated_contract": 90_000}}}},
     ("fixed_price", None, None, True)),
    ("executed after the period end: unsigned at it",
     [("Approved", 100_000, "", "2026-11-05")], {},
     ("letter_of_intent", None, None, False)),
    ("executed on the period's last day: signed", [("Approved", 100_000, "", "2026-10-31")],
     {}, ("fixed_price", None, None, True)),
]


@pytest.mark.parametrize("contracts, policies, expected", [t[1:] for t in TERMS],
                         ids=[t[0] for t in TERMS])
def test_contract_terms(contracts, policies, expected):
    r = contract_terms(terms_company(contracts, policies), ["2026-10"]).iloc[0]
    kind, fee, est, signed = expected
    assert r["contract_type"] == kind
    assert (pd.isna(r["fee_pct"]) if fee is None else r["fee_pct"] == fee)
    assert (pd.isna(r["contract_estimated"]) if est is None else r["contract_estimated"] == est)
    assert bool(r["contract_signed"]) is signed


# ----------------------------------------------------------------------------- pending COs
def pending_company(policies):
    """Job J, contract 1,000,000 Approved; change orders pending at 2026-10 (created 2026-09-01):
    A "Pending" 40,000 (priced); B "Pricing" 30,000 (unpriced); C "Pending" 20,000 (a claim when
    the policy says so); Z "Pending" 0 (unpriced: no amount); V "Void" 8,000 (never counts)."""
    s = Settings.from_mapping({"name": "T", "current_period": "2026-10", "policies": policies})
    cos = [("A", "Pending", "pending", 40_000), ("B", "Pricing", "pending", 30_000),
           ("C", "Pending", "pending", 20_000), ("Z", "Pending", "pending", 0),
           ("V", "Void", "excluded", 8_000)]
    return Company.from_tables(s, {
        "jobs": table("jobs", [{"job_id": "J", "job_name": "J", "status": "active",
                                "start_date": "2026-01-01"}]),
        "prime_contracts": table("prime_contracts", [
            {"job_id": "J", "contract_number": "1", "status": "Approved",
             "original_amount": 1_000_000 * D}]),
        "prime_change_orders": table("prime_change_orders", [
            {"job_id": "J", "contract_number": "1", "co_number": n, "status": st_,
             "status_family": fam, "created_date": "2026-09-01", "amount": a * D}
            for n, st_, fam, a in cos]),
        "budget": table("budget", [
            {"job_id": "J", "period": "2026-10", "cost_code": "01-100",
             "cost_code_raw": "01-100", "cost_type": "L", "original_budget": 800_000 * D,
             "revised_budget": 800_000 * D, "forecast_to_complete": 400_000 * D,
             "estimated_cost_at_completion": 800_000 * D, "projected_costs": 400_000 * D,
             "job_to_date_costs": 400_000 * D}]),
        "erp_job_cost": table("erp_job_cost", [
            {"job_id": "J", "cost_code": "01-100", "cost_code_raw": "01-100",
             "cost_type": "L", "source": "AP", "transaction_date": "2026-10-15",
             "accounting_date": "2026-10-15", "period": "2026-10", "amount": 400_000 * D,
             "row_id": "r1"}]),
    })


def claim_c(**kw):
    return {"job": "J", "change_order": "C", "category": "claim", **kw}


# (case, policies) -> (pending, unpriced, claims, included, pending cost), dollars
PENDING = [
    ("default: all excluded", {}, (60_000, 30_000, 0, 0, 0)),
    ("include_pending_co_revenue: priced and unpriced (as pending)",
     {"include_pending_co_revenue": True}, (60_000, 30_000, 0, 90_000, 0)),
    ("unpriced excluded on their own",
     {"include_pending_co_revenue": True, "pending_change_orders": {"unpriced": "exclude"}},
     (60_000, 30_000, 0, 60_000, 0)),
    ("a claim is its own category, excluded by default",
     {"include_pending_co_revenue": True,
      "pending_change_orders": {"change_orders": [claim_c()]}},
     (40_000, 30_000, 20_000, 70_000, 0)),
    ("claims included by policy",
     {"pending_change_orders": {"claims": "include", "change_orders": [claim_c()]}},
     (40_000, 30_000, 20_000, 20_000, 0)),
    ("one change order at a constrained percent: 40,000 x 50%",
     {"pending_change_orders": {"change_orders": [
         {"job": "J", "change_order": "A", "treatment": "include_percent", "percent": 0.5}]}},
     (60_000, 30_000, 0, 20_000, 0)),
    ("one change order at a constrained amount",
     {"pending_change_orders": {"change_orders": [
         {"job": "J", "contract": "1", "change_order": "A", "treatment": "include_amount",
          "amount": 25_000}]}},
     (60_000, 30_000, 0, 25_000, 0)),
    ("cost only: revenue excluded, its cost added to the estimate",
     {"include_pending_co_revenue": True, "pending_change_orders": {"change_orders": [
         {"job": "J", "change_order": "B", "treatment": "cost_only",
          "estimated_cost": 18_000}]}},
     (60_000, 30_000, 0, 60_000, 18_000)),
    ("a change order excluded while the rest are included",
     {"include_pending_co_revenue": True, "pending_change_orders": {"change_orders": [
         {"job": "J", "change_order": "A", "treatment": "exclude"}]}},
     (60_000, 30_000, 0, 50_000, 0)),
]


@pytest.mark.parametrize("policies, expected", [p[1:] for p in PENDING],
                         ids=[p[0] for p in PENDING])
def test_pending_change_orders(policies, expected):
    company = pending_company(policies)
    r = contract_terms(company, ["2026-10"]).iloc[0]
    pending, unpriced, claims, included, cost = (x * D for x in expected)
    assert (r["change_orders_pending"], r["change_orders_unpriced"],
            r["change_orders_claims"]) == (pending, unpriced, claims)
    assert r["change_orders_pending_included"] == included
    assert r["change_orders_pending_cost"] == cost
    # In the schedule: TP = 1,000,000 + included; ETC = PM's 400,000 + the pending cost.
    rec = recognise(company, "2026-10").iloc[0]
    assert rec["contract_revised"] == 1_000_000 * D + included
    assert rec["est_cost_to_complete"] == 400_000 * D + cost
    tp, ctd, eac = 1_000_000 * D + included, 400_000 * D, 800_000 * D + cost
    assert rec["earned_revenue"] == (2 * tp * ctd + eac) // (2 * eac)  # half-up of TP x CTD/EAC


def test_pending_policy_naming_an_unknown_change_order_is_an_input_error():
    company = pending_company({"pending_change_orders": {"change_orders": [
        {"job": "J", "change_order": "Q", "treatment": "exclude"}]}})
    with pytest.raises(InputError, match="not among the job's prime change orders"):
        contract_terms(company, ["2026-10"])


# ----------------------------------------------------------------------------- materials
def materials_company(source, *, file_rows=(), stored=None):
    """TP 200,000, CTD 60,000, ETC 100,000 (EAC 160,000); period 2026-10."""
    s = Settings.from_mapping({"name": "T", "current_period": "2026-10",
                               "policies": {"uninstalled_materials": source}})
    tables = {
        "jobs": table("jobs", [{"job_id": "M", "job_name": "M", "status": "active",
                                "start_date": "2026-01-01"}]),
        "prime_contracts": table("prime_contracts", [
            {"job_id": "M", "contract_number": "1", "status": "Approved",
             "original_amount": 200_000 * D}]),
        "budget": table("budget", [
            {"job_id": "M", "period": "2026-10", "cost_code": "01-100", "cost_code_raw": "01-100",
             "cost_type": "L", "original_budget": 160_000 * D, "revised_budget": 160_000 * D,
             "forecast_to_complete": 100_000 * D, "job_to_date_costs": 60_000 * D,
             "projected_costs": 60_000 * D, "estimated_cost_at_completion": 160_000 * D}]),
        "erp_job_cost": table("erp_job_cost", [
            {"job_id": "M", "cost_code": "01-100", "cost_code_raw": "01-100", "cost_type": "L",
             "source": "AP", "transaction_date": "2026-10-15", "accounting_date": "2026-10-15",
             "period": "2026-10", "amount": 60_000 * D, "row_id": "r1"}]),
        "uninstalled_materials": table("uninstalled_materials", [
            {"job_id": "M", "period": p, "amount": a * D} for p, a in file_rows]),
    }
    if stored is not None:
        tables["owner_invoices"] = table("owner_invoices", [
            {"job_id": "M", "contract_number": "1", "invoice_number": f"M-{n}",
             "application_number": n, "billing_date": end, "period_end": end,
             "status": "approved", "materials_stored": a * D}
            for n, (end, a) in enumerate(stored, start=1)])
    return Company.from_tables(s, tables)


# (case, source, file rows, pay-app stored) -> (M, ER), dollars; p = (60,000 - M)/(160,000 - M),
# ER = (200,000 - M) p + M: M 20,000 -> 180,000 x 40/140 + 20,000 = 71,428.57
MATERIALS = [
    ("none", "none", [("2026-10", 20_000)], None, 0, 75_000),
    ("file, this period", "file", [("2026-10", 20_000)], None, 20_000, 71_428.57),
    ("file, another period only", "file", [("2026-09", 20_000)], None, 0, 75_000),
    ("pay applications: the latest on or before the period end", "pay_applications", [],
     [("2026-09-30", 5_000), ("2026-10-31", 20_000), ("2026-11-30", 1_000)], 20_000,
     71_428.57),
    # M = CTD 60,000: p = 0 / 100,000 = 0, ER = 0 + M = 60,000 (materials at zero margin)
    ("pay applications above cost: at most the cost to date", "pay_applications", [],
     [("2026-10-31", 90_000)], 60_000, 60_000),
]


@pytest.mark.parametrize("source, rows, stored, m, er", [c[1:] for c in MATERIALS],
                         ids=[c[0] for c in MATERIALS])
def test_uninstalled_materials(source, rows, stored, m, er):
    r = recognise(materials_company(source, file_rows=rows, stored=stored), "2026-10").iloc[0]
    assert r["uninstalled_materials"] == m * D
    assert r["earned_revenue"] == round(er * D)


# ----------------------------------------------------------------------------- retainage
def retainage_company(ar_rows, ap_rows=(), release="in_amount"):
    """Job R; AR rows (amount, retainage, paid); AP rows (amount, held, paid, paid date)."""
    s = Settings.from_mapping({"name": "T", "current_period": "2026-10",
                               "policies": {"retainage_release": release}})
    return Company.from_tables(s, {
        "jobs": table("jobs", [{"job_id": "R", "job_name": "R", "status": "active",
                                "start_date": "2026-01-01"}]),
        "prime_contracts": table("prime_contracts", [
            {"job_id": "R", "contract_number": "1", "status": "Approved",
             "original_amount": 1_000_000 * D}]),
        "erp_ar_billings": table("erp_ar_billings", [
            {"job_id": "R", "invoice_number": f"R-{i}", "invoice_date": "2026-10-20",
             "period": "2026-10", "amount_billed": a * D, "retainage": r * D,
             "amount_paid": p * D} for i, (a, r, p) in enumerate(ar_rows)]),
        "erp_ap_invoices": table("erp_ap_invoices", [
            {"job_id": "R", "vendor_name": "Sub", "invoice_number": f"S-{i}",
             "invoice_date": "2026-10-10", "period": "2026-10", "amount": a * D,
             "retainage_held": h * D, "amount_paid": p * D, "paid_date": when}
            for i, (a, h, p, when) in enumerate(ap_rows)]),
    })


# (case, AR rows, release convention) -> (billed to date, retainage receivable), dollars
RETAINAGE = [
    ("withheld, net paid", [(100_000, 10_000, 90_000)], "in_amount", (100_000, 10_000)),
    ("paid in full: collected", [(100_000, 10_000, 100_000)], "in_amount", (100_000, 0)),
    ("part of the retainage collected", [(100_000, 10_000, 95_000)], "in_amount",
     (100_000, 5_000)),
    ("unpaid: still withheld", [(100_000, 10_000, 0)], "in_amount", (100_000, 10_000)),
    ("release invoice holding the retainage: not new billing",
     [(100_000, 10_000, 90_000), (10_000, -10_000, 0)], "in_amount", (100_000, 0)),
    ("release invoice (G702 style, work only): 0 billed, retainage released",
     [(100_000, 10_000, 90_000), (0, -10_000, 0)], "separate", (100_000, 0)),
    ("final application with work and a release (work only)",
     [(100_000, 10_000, 90_000), (5_000, -10_000, 0)], "separate", (105_000, 0)),
]


@pytest.mark.parametrize("ar, release, expected", [c[1:] for c in RETAINAGE],
                         ids=[c[0] for c in RETAINAGE])
def test_retainage_receivable(ar, release, expected):
    r = job_inputs(retainage_company(ar, release=release), "2026-10").iloc[0]
    assert (r["billed_to_date"], r["retainage_receivable"]) == tuple(x * D for x in expected)


# (case, AP rows) -> retainage payable at 2026-10, dollars
PAYABLE = [
    ("held", [(50_000, 5_000, 45_000, "2026-10-25")], 5_000),
    ("paid in full by the period end", [(50_000, 5_000, 50_000, "2026-10-25")], 0),
    ("paid in full after the period end", [(50_000, 5_000, 50_000, "2026-11-20")], 5_000),
    ("released (negative held)", [(50_000, 5_000, 45_000, "2026-10-25"),
                                  (0, -5_000, 0, None)], 0),
]


@pytest.mark.parametrize("ap, expected", [c[1:] for c in PAYABLE], ids=[c[0] for c in PAYABLE])
def test_retainage_payable(ap, expected):
    r = job_inputs(retainage_company([], ap), "2026-10").iloc[0]
    assert r["retainage_payable"] == expected * D


def test_completed_job_keeps_retainage_and_over_under_until_settled():
    """Job C, contract 100,000, completed 2026-11-15 at a cost of 80,000, billed 100,000 with
    10,000 retainage unpaid: in 2026-12 the completed-contracts schedule carries its retainage
    receivable 10,000. Billed only 95,000: in 2027-02 (a new fiscal year) it stays on the
    schedule, underbilled 5,000, and the entry carries it; billed in full, it leaves."""
    def company(billed, period):
        s = Settings(name="T", current_period=period)
        return Company.from_tables(s, {
            "jobs": table("jobs", [{"job_id": "C", "job_name": "C", "status": "complete",
                                    "start_date": "2026-01-01",
                                    "completion_date": "2026-11-15"}]),
            "prime_contracts": table("prime_contracts", [
                {"job_id": "C", "contract_number": "1", "status": "Approved",
                 "original_amount": 100_000 * D}]),
            "erp_job_cost": table("erp_job_cost", [
                {"job_id": "C", "cost_code": "01-100", "cost_code_raw": "01-100",
                 "cost_type": "L", "source": "AP", "transaction_date": "2026-10-15",
                 "accounting_date": "2026-10-15", "period": "2026-10", "amount": 80_000 * D,
                 "row_id": "r1"}]),
            "erp_ar_billings": table("erp_ar_billings", [
                {"job_id": "C", "invoice_number": "C-1", "invoice_date": "2026-11-20",
                 "period": "2026-11", "amount_billed": billed * D, "retainage": 10_000 * D,
                 "amount_paid": (billed - 10_000) * D}]),
        })
    dec = wip_schedule(company(100_000, "2026-12"), "2026-12").completed.iloc[0]
    assert dec["retainage_receivable"] == 10_000 * D and dec["underbillings"] == 0
    short = wip_schedule(company(95_000, "2027-02"), "2027-02")
    c = short.completed.iloc[0]
    assert c["underbillings"] == 5_000 * D and c["revenue_this_year"] == 0
    under = short.journal[short.journal["account"] == "1250"]
    assert int(under["debit"].sum()) == 5_000 * D  # the entry carries the contract asset
    assert job_inputs(company(100_000, "2027-02"), "2027-02").empty  # billed: off the schedule


# ----------------------------------------------------------------------------- rounding
def test_rounding_per_job_cents_and_totals_as_their_sum():
    """Three jobs each earning 50.5 cents (TP 101 cents, half complete) round to 51 each; the
    total is 153 cents, the sum of the jobs' cents (not 152, the rounded exact sum 151.5)."""
    df = pd.DataFrame({"job_id": ["a", "b", "c"], "contract_original": [101] * 3,
                       "cost_to_date": [1] * 3,
                       "est_cost_to_complete": pd.array([1] * 3, dtype="Int64"),
                       "billed_to_date": [0] * 3})
    r = recognize(df)
    assert r["earned_revenue"].tolist() == [51, 51, 51]
    assert int(r["earned_revenue"].sum()) == 153


# ----------------------------------------------------------------------------- surety switch
def test_surety_view_switch_period_moves_balances_without_revenue_or_cost():
    """A loss job whose figures do not change between two periods, with the GL in the gross view
    (overbillings 57,272.73, accrued loss 22,727.27) when the company switches to the net view:
    the entry only moves the provision from the accrued loss into overbillings (net 80,000);
    revenue and cost of revenue move by 0."""
    s = recognize(pd.DataFrame({"job_id": pd.Series(["A"], dtype="string"),
                                "contract_original": [50_000_000], "cost_to_date": [30_000_000],
                                "est_cost_to_complete": pd.array([25_000_000], dtype="Int64"),
                                "billed_to_date": [33_000_000]}))
    s["loss_provision_prior"] = s["loss_provision"]
    gl = pd.DataFrame({"period": ["2026-09", "2026-09"], "account": ["2150", "2160"],
                       "job_id": ["A", "A"], "balance": [-5_727_273, -2_272_727]})
    entry = wip_journal_entry(s, gl, DEFAULT_GL_ACCOUNTS, "2026-10", net_loss_provision=True)
    net = summarise_by_account(entry).set_index("account")["net"]
    assert net.get("4050", 0) == 0 and net.get("5950", 0) == 0
    assert net["2150"] == -8_000_000 + 5_727_273 and net["2160"] == 2_272_727


# ----------------------------------------------------------------------------- property
TYPES = ("fixed_price", "cost_plus", "time_and_materials", "gmp", "letter_of_intent")


@st.composite
def generated_jobs(draw):
    """1-12 jobs over 2026-09 and 2026-10: contract, approved and pending change orders, a
    contract type (and fee, or estimated value), cost and billings per month, an estimate to
    complete per month, uninstalled materials, completion in October or not."""
    jobs = []
    for i in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(TYPES))
        contract = draw(st.integers(0, 5_000_000)) * D
        jobs.append({
            "id": f"{i:02d}",
            "kind": kind,
            "fee": draw(st.sampled_from(["0.05", "0.08", "0.125"])),
            "estimate": draw(st.integers(1, 5_000_000)) * D,
            "contract": contract,
            "approved": draw(st.integers(0, 500_000)) * D,
            "pending": draw(st.integers(0, 300_000)) * D,
            "cost": [draw(st.integers(0, 2_000_000)) * D + draw(st.integers(0, 99))
                     for _ in range(2)],
            "billed": [draw(st.integers(0, 2_000_000)) * D for _ in range(2)],
            "etc": [draw(st.integers(0, 3_000_000)) * D for _ in range(2)],
            "materials": draw(st.integers(0, 100)),  # percent of October cost
            "complete": draw(st.booleans()),
        })
    include = draw(st.booleans())
    return jobs, include


def _company_of(jobs, include) -> Company:
    contract_types = {j["id"]: ({"type": j["kind"], "fee": float(j["fee"])}
                                if j["kind"] in ("cost_plus", "time_and_materials", "gmp")
                                else {"type": j["kind"], "estimated_contract": j["estimate"] / D}
                                if j["kind"] == "letter_of_intent" else {"type": j["kind"]})
                      for j in jobs}
    s = Settings.from_mapping({"name": "T", "current_period": "2026-10", "policies": {
        "include_pending_co_revenue": include, "uninstalled_materials": "file",
        "contract_types": {"jobs": contract_types}}})
    ids = [j["id"] for j in jobs]
    periods = ("2026-09", "2026-10")
    return Company.from_tables(s, {
        "jobs": table("jobs", [{"job_id": j["id"], "job_name": j["id"],
                                "status": "complete" if j["complete"] else "active",
                                "start_date": "2026-01-01",
                                "completion_date": "2026-10-20" if j["complete"]
                                else "2027-06-30"} for j in jobs]),
        "prime_contracts": table("prime_contracts", [
            {"job_id": j["id"], "contract_number": "1",
             "status": "Out For Signature" if j["kind"] == "letter_of_intent" else "Approved",
             "original_amount": j["contract"]} for j in jobs]),
        "prime_change_orders": table("prime_change_orders", [
            row for j in jobs for row in (
                {"job_id": j["id"], "contract_number": "1", "co_number": "A",
                 "status": "Approved", "status_family": "approved", "created_date": "2026-05-01",
                 "approved_date": "2026-06-01", "amount": j["approved"]},
                {"job_id": j["id"], "contract_number": "1", "co_number": "P",
                 "status": "Pending", "status_family": "pending", "created_date": "2026-05-01",
                 "amount": j["pending"]})]),
        "budget": table("budget", [
            {"job_id": j["id"], "period": p, "cost_code": "01-100", "cost_code_raw": "01-100",
             "cost_type": "L", "original_budget": 0, "revised_budget": 0,
             "forecast_to_complete": j["etc"][k],
             "job_to_date_costs": sum(j["cost"][:k + 1]),
             "projected_costs": sum(j["cost"][:k + 1]),
             "estimated_cost_at_completion": sum(j["cost"][:k + 1]) + j["etc"][k]}
            for j in jobs for k, p in enumerate(periods)]),
        "erp_job_cost": table("erp_job_cost", [
            {"job_id": j["id"], "cost_code": "01-100", "cost_code_raw": "01-100",
             "cost_type": "L", "source": "AP", "transaction_date": f"{p}-15",
             "accounting_date": f"{p}-15", "period": p, "amount": j["cost"][k],
             "row_id": f"{j['id']}{p}"} for j in jobs for k, p in enumerate(periods)]),
        "erp_ar_billings": table("erp_ar_billings", [
            {"job_id": j["id"], "invoice_number": f"{j['id']}-{k}", "invoice_date": f"{p}-25",
             "period": p, "amount_billed": j["billed"][k]}
            for j in jobs for k, p in enumerate(periods)]),
        "uninstalled_materials": table("uninstalled_materials", [
            {"job_id": j["id"], "period": "2026-10",
             "amount": sum(j["cost"]) * j["materials"] // 100} for j in jobs]),
    }), ids


def _status_file(jobs, include, path: Path) -> Path:
    """The same job inputs as a job-status file (``wip schedule``)."""
    lines = ["job_id,period_end,status,contract_type,fee_pct,contract_original,"
             "contract_estimated,change_orders_approved,change_orders_pending_included,"
             "cost_to_date,est_cost_to_complete,billed_to_date,uninstalled_materials"]
    d = lambda c: f"{Decimal(int(c)) / 100:.2f}"  # noqa: E731
    for j in jobs:
        loi = j["kind"] == "letter_of_intent"
        for k, end in enumerate(("2026-09-30", "2026-10-31")):
            done = j["complete"] and k == 1
            cost = sum(j["cost"][:k + 1])
            m = sum(j["cost"]) * j["materials"] // 100 if k == 1 else 0
            lines.append(",".join([
                j["id"], end, "complete" if done else "open", j["kind"],
                j["fee"] if j["kind"] in ("cost_plus", "time_and_materials", "gmp") else "",
                d(0 if loi else j["contract"]), d(j["estimate"]) if loi else "",
                d(0 if loi else j["approved"]), d(j["pending"] if include and not loi else 0),
                d(cost), d(j["etc"][k]), d(sum(j["billed"][:k + 1])), d(m)]))
    path.write_text("\n".join(lines) + "\n")
    return path


FIGURES = ["contract_revised", "est_total_cost", "earned_revenue", "gross_profit_to_date",
           "loss_provision", "underbillings", "overbillings", "backlog", "revenue_period",
           "cost_period", "gross_profit_period", "gp_new_work", "gp_revision", "flag"]


# Each example is a whole company through both paths (about half a second, whatever its number
# of jobs): ten companies of up to twelve jobs check as many jobs as 25 of up to four did.
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(generated_jobs())
def test_wip_schedule_and_the_company_path_agree(tmp_path, data):
    """For the same job inputs, ``wip schedule`` (a job-status file through the reader and
    status_schedule) and the company path (Procore and ERP tables through contract inclusion,
    cumulative cost and billings, the budget snapshot, the materials file, recognition and the
    catch-up against the recomputed prior period) give the same figures, job by job."""
    jobs, include = data
    company, ids = _company_of(jobs, include)
    sched = wip_schedule(company, "2026-10").schedule.set_index("job_id")
    status = build_schedule(read_job_status(_status_file(jobs, include, tmp_path / "js.csv")))
    status = status[status["period_end"] == "2026-10-31"].set_index("job_id")
    for job in ids:
        for col in FIGURES:
            a, b = sched.loc[job, col], status.loc[job, col]
            assert (pd.isna(a) and pd.isna(b)) or a == b, (job, col, a, b)
