"""Findings a controller can trust (issue #20): every check both ways, the forecast and its flags
cut off at the period end, each line's invoicing from the ERP's cost rows, deduct change orders in
the timing rules, no stale forecast for a change order billed after completion, risk counted once,
every flag kind on the index. Each bullet has a positive and a negative case on a small
two-system company; figures are worked by hand in each test (dollars; the frames hold cents).

Reconciliation cases start from the clean company of ``test_reconcile`` (period 2026-10): job 100
holds subcontract SC-001 (Acme Concrete, approved 2026-08-01, original $400,000, change orders
CO-1 and CO-2 of $10,000 approved by the period end and CO-3 of $5,000 approved 2026-11-05), its
requisitions A-1 ($200,000 gross, $20,000 retainage, approved 2026-10-20, G702 line 4 $500,000)
and A-2 ($40,000, approved 2026-11-02), AP invoice A-1, and an ERP commitment with $20,000 of
change orders and $500,000 invoiced to date.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_forecast import SETTINGS, budget_row, cost_row, table
from test_reconcile import PERIOD, base_tables, company, one, run

from wip_lib.accounting.flags import OUT_COLUMNS, billing_flags, overrun_flags, risk_ranking
from wip_lib.accounting.forecast import (
    approved_change_orders,
    budget_history,
    cost_to_complete,
    erp_cost_history,
)
from wip_lib.close.bundle import Bundle
from wip_lib.core.settings import Company, Settings
from wip_lib.reconcile import make_context, run_checks
from wip_lib.reports.dashboard import job_flag_kinds
from wip_lib.reports.index_page import write_index

D = 100  # cents per dollar
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _ap(invoice, amount, period=PERIOD, commitment="SC-001", vendor="Acme Concrete, Inc.",
        retainage=0, paid=0, paid_date=None, date=None):
    return {"job_id": "100", "vendor_name": vendor, "invoice_number": invoice,
            "commitment_number": commitment, "invoice_date": date or f"{period}-22",
            "period": period, "amount": amount, "retainage_held": retainage,
            "amount_paid": paid, "paid_date": paid_date}


# ------------------------------------------------------------- one direction only: invoices

def test_ap_invoice_on_a_subcontract_with_no_procore_requisition_is_found():
    t = base_tables()
    # Entered straight into ERP AP against SC-001 on 2026-10-22; the ERP's commitment carries it.
    t["erp_ap_invoices"].append(_ap("A-9", 30_000 * D, retainage=3_000 * D))
    t["erp_commitments"][0]["invoiced"] = 530_000 * D
    found = run(t)
    f = one(found, check="subcontractor_invoices")
    assert (f.reference, f.procore_amount, f.erp_amount, f.difference) == (
        "A-9", 0, 30_000 * D, -30_000 * D)
    assert f.severity == "error" and f.days_waiting == 9 and "in Procore" in f.action
    # Invoiced to date differs by the same $30,000 (Procore $500,000, ERP $530,000): the invoice
    # finding explains it, so the commitment check does not report it again.
    assert len(found) == 1, found.to_string()


def test_erp_only_invoice_negative_cases():
    t = base_tables()
    # An AP invoice of a later period (2026-11) is not in scope at 2026-10.
    t["erp_ap_invoices"].append(_ap("A-9", 30_000 * D, period="2026-11"))
    t["erp_commitments"][0]["invoiced"] = 530_000 * D
    # An AP invoice on a purchase order: POs are invoiced in the ERP, not through requisitions.
    t["commitments"].append({"job_id": "100", "commitment_number": "PO-7",
                             "commitment_type": "purchase_order", "vendor_name": "Steel Co",
                             "status": "Approved", "status_family": "committed",
                             "original_amount": 8_000 * D, "revised_amount": 8_000 * D,
                             "approved_date": "2026-09-01", "invoiced": 8_000 * D})
    t["erp_commitments"].append({"job_id": "100", "commitment_number": "PO-7",
                                 "commitment_type": "purchase_order", "vendor_name": "Steel Co",
                                 "original_amount": 8_000 * D, "revised_amount": 8_000 * D,
                                 "invoiced": 8_000 * D})
    t["erp_ap_invoices"].append(_ap("S-88", 8_000 * D, commitment="PO-7", vendor="Steel Co"))
    assert run(t).empty


def test_ap_invoice_booked_before_procore_approved_it_is_a_warning():
    t = base_tables()
    # A-2 was approved in Procore on 2026-11-02 but AP booked it in October.
    t["erp_ap_invoices"].append(_ap("A-2", 40_000 * D, date="2026-10-30"))
    t["erp_commitments"][0]["invoiced"] = 540_000 * D
    found = run(t)
    f = one(found, check="subcontractor_invoices")
    assert (f.reference, f.difference, f.severity) == ("A-2", -40_000 * D, "warning")
    assert "before Procore approved it" in f.action and "approved" in f.detail
    assert len(found) == 1, found.to_string()


# ------------------------------------------------------- invoiced to date per commitment

def test_invoiced_to_date_per_commitment_is_compared():
    t = base_tables()
    t["erp_commitments"][0]["invoiced"] = 512_345 * D  # no invoice explains the $12,345
    f = one(run(t), check="commitments")
    assert f.reference == "SC-001 invoiced to date"
    assert (f.procore_amount, f.erp_amount, f.difference) == (500_000 * D, 512_345 * D,
                                                              -12_345 * D)
    assert f.severity == "error" and "G702 line 4" in f.detail
    # The other way: Procore's G702 line 4 above the ERP's figure.
    t = base_tables()
    t["subcontractor_invoices"][0]["total_completed_to_date"] = 507_000 * D
    f = one(run(t), check="commitments")
    assert (f.reference, f.difference) == ("SC-001 invoiced to date", 7_000 * D)


def test_invoiced_to_date_negative_cases():
    # A-1 missing in AP, so the ERP's commitment shows $300,000: the invoice finding explains the
    # whole $200,000 and is the only finding.
    t = base_tables()
    t["erp_ap_invoices"] = []
    t["erp_commitments"][0]["invoiced"] = 300_000 * D
    found = run(t)
    assert list(found["check"]) == ["subcontractor_invoices"], found.to_string()
    assert found.loc[0, "difference"] == 200_000 * D
    # Cut off at the period end: the ERP's $540,000 today holds A-2 (AP of 2026-11) and Procore's
    # latest requisition approved by 2026-10-31 is A-1 (line 4 $500,000): both $500,000.
    t = base_tables()
    t["erp_ap_invoices"].append(_ap("A-2", 40_000 * D, period="2026-11", date="2026-11-03"))
    t["erp_commitments"][0]["invoiced"] = 540_000 * D
    assert run(t).empty
    # Without the later AP row the ERP's $540,000 is not cut back: a finding of $40,000.
    t["erp_ap_invoices"].pop()
    assert one(run(t), check="commitments").difference == -40_000 * D


# An ERP whose commitments export carries no invoiced to date (QuickBooks' purchase orders: the
# profile's commitments_have_invoiced false): the ERP's figure is its AP invoices naming the
# commitment through the period. The clean company's AP holds A-1 only (October, $200,000), so
# the ERP has $200,000 against Procore's $500,000 (G702 line 4 of A-1, which follows an
# application of $300,000 that AP lacks); the commitment's own $500,000 is not read.

def _run_as(t, facts, check=None):
    c = company(t)
    c = Company.from_tables(c.settings, c.tables, erp_facts=facts)
    found, problems = run_checks(make_context(c, PERIOD), None if check is None else [check])
    assert problems == []
    return found


NO_INVOICED = {"commitments_have_invoiced": False}


def test_erp_without_commitment_invoiced_compares_its_ap_invoices():
    f = one(_run_as(base_tables(), NO_INVOICED, "commitments"), check="commitments")
    assert (f.reference, f.procore_amount, f.erp_amount, f.difference) == (
        "SC-001 invoiced to date", 500_000 * D, 200_000 * D, 300_000 * D)
    # Negative: with A-0 (September, $300,000) in AP the ERP has $500,000 too; A-2 (AP of
    # 2026-11) is after the period end and not counted.
    t = base_tables()
    t["erp_ap_invoices"] += [_ap("A-0", 300_000 * D, period="2026-09", date="2026-09-20"),
                             _ap("A-2", 40_000 * D, period="2026-11", date="2026-11-03")]
    assert _run_as(t, NO_INVOICED, "commitments").empty
    # The profile that carries it reads the commitment's $500,000: no finding on the clean
    # company.
    assert run(base_tables(), "commitments").empty


# ------------------------------------------------------------------- payments both ways

def test_payment_shown_paid_in_procore_unpaid_in_the_erp():
    t = base_tables()
    t["erp_ap_invoices"][0].update(amount_paid=0, paid_date=None)  # Procore says paid
    f = one(run(t, "payments"), check="payments")
    assert (f.reference, f.procore_amount, f.erp_amount) == ("A-1", 180_000 * D, 0)
    assert f.severity == "warning" and "record the payment in the ERP" in f.action
    # Paid after the period end in the ERP: timing, not a finding.
    t["erp_ap_invoices"][0].update(amount_paid=180_000 * D, paid_date="2026-11-10")
    assert run(t, "payments").empty


# ------------------------------------------------- both ways, family by family (the matrix)

def _add(key, row):
    def mutate(t):
        t[key].append(row)
    return mutate


def _set(key, i, **values):
    def mutate(t):
        t[key][i].update(values)
    return mutate


def _clear(key):
    def mutate(t):
        t[key] = []
    return mutate


BOTH_WAYS = {
    # family, direction: (mutation, check, reference, sign of procore - erp or None for names)
    ("commitments", "Procore to ERP"): (
        _add("commitments", {"job_id": "100", "commitment_number": "PO-002",
                             "commitment_type": "purchase_order", "vendor_name": "Steel Co",
                             "status": "Approved", "status_family": "committed",
                             "original_amount": 50_000 * D, "revised_amount": 50_000 * D,
                             "approved_date": "2026-10-11"}),
        "commitments", "PO-002", 1),
    ("commitments", "ERP to Procore"): (
        _add("erp_commitments", {"job_id": "100", "commitment_number": "PO-9",
                                 "commitment_type": "purchase_order", "vendor_name": "Steel Co",
                                 "original_amount": 8_000 * D, "revised_amount": 8_000 * D}),
        "commitments", "PO-9", -1),
    ("prime change orders", "Procore to ERP"): (
        _clear("erp_contract_change_orders"), "prime_change_orders", "PCO-1", 1),
    ("prime change orders", "ERP to Procore"): (
        _add("erp_contract_change_orders", {"job_id": "100", "co_number": "PCO-7",
                                            "amount": 12_000 * D, "posted_date": "2026-10-28",
                                            "period": PERIOD}),
        "prime_change_orders", "PCO-7", -1),
    ("commitment change orders", "Procore to ERP"): (
        _set("erp_commitments", 0, approved_change_orders=10_000 * D),
        "commitment_change_orders", "SC-001/CO-2", 1),
    ("commitment change orders", "ERP to Procore"): (
        _set("erp_commitments", 0, approved_change_orders=31_000 * D),
        "commitment_change_orders", "SC-001", -1),
    ("subcontractor invoices", "Procore to ERP"): (
        _clear("erp_ap_invoices"), "subcontractor_invoices", "A-1", 1),
    ("subcontractor invoices", "ERP to Procore"): (
        _add("erp_ap_invoices", _ap("A-9", 30_000 * D)), "subcontractor_invoices", "A-9", -1),
    ("owner invoices", "Procore to ERP"): (
        lambda t: t["erp_ar_billings"].pop(), "owner_invoices", "1002", 1),
    ("owner invoices", "ERP to Procore"): (
        _add("erp_ar_billings", {"job_id": "100", "invoice_number": "1099",
                                 "invoice_date": "2026-10-15", "period": PERIOD,
                                 "amount_billed": 5_000 * D}),
        "owner_invoices", "1099", -1),
    ("vendors", "Procore to ERP"): (
        _add("procore_vendors", {"vendor_name": "Brand New Electric"}), "vendors",
        "Brand New Electric", None),
    ("vendors", "ERP to Procore"): (
        lambda t: (t["erp_vendors"].append({"vendor_id": "V7", "vendor_name": "Zeta Steel"}),
                   t["erp_ap_invoices"].append(_ap("Z-1", 1_000 * D, commitment="",
                                                   vendor="Zeta Steel"))),
        "vendors", "Zeta Steel", None),
    ("jobs", "Procore to ERP"): (
        _add("jobs", {"job_id": "300", "job_name": "Gamma", "status": "active",
                      "start_date": "2026-05-01"}), "jobs", "Gamma", None),
    ("jobs", "ERP to Procore"): (
        _add("erp_jobs", {"job_id": "900", "job_id_raw": "900", "job_name": "Delta",
                          "original_contract": 0, "revised_contract": 0}), "jobs", "Delta", None),
}


@pytest.mark.parametrize("family,direction", sorted(BOTH_WAYS))
def test_every_family_is_checked_both_ways(family, direction):
    mutate, check, reference, sign = BOTH_WAYS[(family, direction)]
    t = base_tables()
    mutate(t)
    found = run(t, check)
    f = one(found.loc[found["severity"] != "info"], reference=reference)
    if sign is not None:
        assert np.sign(f.difference) == sign, f
    # Negative: the clean company gives the check nothing.
    assert run(base_tables(), check).empty


# ------------------------------------------------------- deduct change orders and timing

def _sc002(approved="2026-11-15"):
    """SC-002 approved after the period end, with a deduct of $3,000 the ERP already holds."""
    return {
        "commitments": {"job_id": "100", "commitment_number": "SC-002",
                        "commitment_type": "subcontract", "vendor_name": "Steel Co",
                        "status": "Approved", "status_family": "committed",
                        "original_amount": 60_000 * D, "approved_change_orders": -3_000 * D,
                        "revised_amount": 57_000 * D, "approved_date": approved},
        "commitment_change_orders": {"job_id": "100", "commitment_number": "SC-002",
                                     "co_number": "CO-1", "status": "Approved",
                                     "status_family": "approved", "cost_code": "05-100",
                                     "cost_code_raw": "05-100", "cost_type": "S",
                                     "amount": -3_000 * D, "approved_date": "2026-12-01",
                                     "erp_status": "synced"},
        "erp_commitments": {"job_id": "100", "commitment_number": "SC-002",
                            "commitment_type": "subcontract", "vendor_name": "Steel Co",
                            "original_amount": 60_000 * D, "approved_change_orders": -3_000 * D,
                            "revised_amount": 57_000 * D},
    }


def test_deduct_change_orders_before_the_commitment_existed_are_no_error():
    t = base_tables()
    for key, row in _sc002().items():
        t[key].append(row)
    # At 2026-10 SC-002 (approved 2026-11-15) and its deduct (2026-12-01) are timing items.
    assert run(t).empty
    # A later deduct the ERP already holds on SC-001: CO-4 of -$2,000 approved 2026-11-06; the
    # ERP's $18,000 lies in [20,000 - 2,000, 20,000 + 5,000].
    t = base_tables()
    t["commitment_change_orders"].append(
        {"job_id": "100", "commitment_number": "SC-001", "co_number": "CO-4",
         "status": "Approved", "status_family": "approved", "cost_code": "03-300",
         "cost_code_raw": "03-300", "cost_type": "S", "amount": -2_000 * D,
         "approved_date": "2026-11-06", "erp_status": "synced"})
    t["erp_commitments"][0]["approved_change_orders"] = 18_000 * D
    assert run(t, "commitment_change_orders").empty


def test_deduct_change_order_missing_in_the_erp_is_found():
    t = base_tables()
    # CO-4, a deduct of $2,000 approved 2026-10-25 and never exported: Procore $18,000 of approved
    # change orders by the period end, the ERP $20,000.
    t["commitment_change_orders"].append(
        {"job_id": "100", "commitment_number": "SC-001", "co_number": "CO-4",
         "status": "Approved", "status_family": "approved", "cost_code": "03-300",
         "cost_code_raw": "03-300", "cost_type": "S", "amount": -2_000 * D,
         "approved_date": "2026-10-25", "erp_status": "ready_to_export"})
    f = one(run(t, "commitment_change_orders"), check="commitment_change_orders")
    assert (f.reference, f.procore_amount, f.erp_amount, f.difference) == (
        "SC-001/CO-4", 18_000 * D, 20_000 * D, -2_000 * D)
    assert "deduct" in f.action and "CO-4" in f.action and f.days_waiting == 6
    # Once the commitment is approved in scope, the deduct the ERP lacks is an error too: SC-002
    # approved 2026-10-01, its deduct approved 2026-10-20, the ERP holding none of it.
    t = base_tables()
    rows = _sc002(approved="2026-10-01")
    rows["commitment_change_orders"]["approved_date"] = "2026-10-20"
    rows["erp_commitments"].update(approved_change_orders=0, revised_amount=60_000 * D)
    for key, row in rows.items():
        t[key].append(row)
    f = one(run(t, "commitment_change_orders"), check="commitment_change_orders")
    assert (f.reference, f.difference) == ("SC-002/CO-1", -3_000 * D)


# ------------------------------------------------------------ the forecast's cut-off
#
# Job 400 (budget 06-100 S: revised 100,000, PM forecast to complete 20,000 in 2026-10):
#   SC-4 approved 2026-03-01, original 90,000; SOV line 06-100 S 105,000 today (original + CO-1).
#   CO-1 +15,000 created 2026-10-25, approved 2026-11-04 (after the period end).
#   CO-2 +4,000 pending today, created 2026-11-02 (after the period end).
#   SC-5 approved 2026-11-10 (after the period end), line 06-100 S 50,000.
#   ERP cost naming SC-4: 70,000 (2026-10), 10,000 (2026-11, after the period end).
# At 2026-10: committed 105,000 - 15,000 = 90,000 (within budget; SC-5 not yet committed);
# invoiced 70,000; committed remaining 20,000 = the PM's 20,000: no flag. Pending at the period
# end: CO-1 15,000 (pending then), not CO-2 (created after).

def _job400(co1_approved="2026-11-04") -> Company:
    # ECAC = the line's ERP cost through the snapshot (70,000; 80,000) + the PM's 20,000.
    budget = [budget_row("400", "2026-10", "06-100", "S", 100_000, 20_000, 70_000),
              budget_row("400", "2026-11", "06-100", "S", 100_000, 20_000, 80_000)]
    tables = {
        "jobs": table("jobs", [{"job_id": "400", "job_name": "Depot", "status": "active",
                                "start_date": "2026-01-01", "completion_date": "2027-03-31"}]),
        "budget": table("budget", budget),
        "commitments": table("commitments", [
            {"job_id": "400", "commitment_number": "SC-4", "commitment_type": "subcontract",
             "vendor_name": "Tilt-Up Co", "status": "Approved", "status_family": "committed",
             "original_amount": 90_000 * D, "revised_amount": 105_000 * D,
             "invoiced": 80_000 * D, "approved_date": "2026-03-01"},
            {"job_id": "400", "commitment_number": "SC-5", "commitment_type": "subcontract",
             "vendor_name": "Roof Co", "status": "Approved", "status_family": "committed",
             "original_amount": 50_000 * D, "revised_amount": 50_000 * D,
             "approved_date": "2026-11-10"}]),
        "commitment_lines": table("commitment_lines", [
            {"job_id": "400", "commitment_number": "SC-4", "line_number": 1,
             "cost_code": "06-100", "cost_code_raw": "06-100", "cost_type": "S",
             "amount": 105_000 * D},
            {"job_id": "400", "commitment_number": "SC-5", "line_number": 1,
             "cost_code": "06-100", "cost_code_raw": "06-100", "cost_type": "S",
             "amount": 50_000 * D}]),
        "commitment_change_orders": table("commitment_change_orders", [
            {"job_id": "400", "commitment_number": "SC-4", "co_number": "CO-1",
             "status": "Approved", "status_family": "approved", "cost_code": "06-100",
             "cost_code_raw": "06-100", "cost_type": "S", "amount": 15_000 * D,
             "created_date": "2026-10-25", "approved_date": co1_approved},
            {"job_id": "400", "commitment_number": "SC-4", "co_number": "CO-2",
             "status": "Pending", "status_family": "pending", "cost_code": "06-100",
             "cost_code_raw": "06-100", "cost_type": "S", "amount": 4_000 * D,
             "created_date": "2026-11-02"}]),
        "erp_job_cost": table("erp_job_cost", [
            cost_row(1, "400", "06-100", "S", "2026-10", 70_000, commitment="SC-4"),
            cost_row(2, "400", "06-100", "S", "2026-11", 10_000, commitment="SC-4")]),
    }
    return Company.from_tables(SETTINGS, tables)


def _code_flags(fc: pd.DataFrame) -> dict:
    f = overrun_flags(fc, None, None, None, SETTINGS)
    return {(r.cost_code, r.flag): int(r.dollar_impact) / D for r in f.itertuples()}


def test_forecast_cut_off_at_the_period_end():
    fc = cost_to_complete(_job400(), "2026-10").set_index(["cost_code", "cost_type"])
    r = fc.loc[("06-100", "S")]
    assert (r.committed, r.invoiced_against_commitments, r.committed_remaining,
            r.pending_cost_changes) == (90_000 * D, 70_000 * D, 20_000 * D, 15_000 * D)
    assert _code_flags(fc.reset_index()) == {}


def test_forecast_without_the_later_items_flags_the_overrun():
    # CO-1 approved 2026-10-20, by the period end: committed 105,000 > budget 100,000 (5,000);
    # committed remaining 105,000 - 70,000 = 35,000 above the PM's 20,000 (15,000).
    fc = cost_to_complete(_job400(co1_approved="2026-10-20"), "2026-10")
    assert _code_flags(fc) == {("06-100", "commitment_over_budget"): 5_000,
                               ("06-100", "impossible_forecast"): 15_000}
    # At 2026-11 everything counts: SC-5 too (155,000), invoiced 80,000; CO-2 pending.
    r = cost_to_complete(_job400(), "2026-11").iloc[0]
    assert (r.committed, r.invoiced_against_commitments, r.pending_cost_changes) == (
        155_000 * D, 80_000 * D, 4_000 * D)


def test_forecast_takes_a_later_deduct_back_out():
    # CO-1 a deduct of -15,000 approved after the period end: the line of 75,000 today stood at
    # 90,000 at 2026-10-31.
    c = _job400()
    cos = c["commitment_change_orders"].copy()
    cos.loc[0, "amount"] = -15_000 * D
    lines = c["commitment_lines"].copy()
    lines.loc[0, "amount"] = 75_000 * D
    c = Company.from_tables(SETTINGS, {**c.tables, "commitment_change_orders": cos,
                                       "commitment_lines": lines})
    assert int(cost_to_complete(c, "2026-10").iloc[0]["committed"]) == 90_000 * D


# ------------------------------------------- each line's invoicing from the ERP's cost rows
#
# Job 500, SC-6 with two lines: 07-100 S 100,000 and 07-200 S 100,000. ERP rows naming SC-6:
# 07-100 85,000 (type S) + 5,000 (type SUB: the commitment's only 07-100 line), 07-200 10,000,
# and 07-900 4,000 (no such line: spread 2,000 / 2,000). Exact: 07-100 92,000, 07-200 12,000.
# PM forecasts to complete: 07-100 8,000 (= 100,000 - 92,000), 07-200 88,000.
# Pro rata over Procore's 104,000 would have given 52,000 each: 07-100 remaining 48,000 against
# a forecast of 8,000, an "impossible forecast" of 40,000 on a clean line.

def _job500(ftc_200=88_000) -> Company:
    costs = [("07-100", "S", 85_000), ("07-100", "SUB", 5_000), ("07-200", "S", 10_000),
             ("07-900", "S", 4_000)]
    tables = {
        # ECAC = the line's ERP cost (07-100 S 85,000; 07-200 S 10,000) + the PM's forecast.
        "budget": table("budget", [budget_row("500", "2026-10", "07-100", "S", 100_000, 8_000,
                                              85_000),
                                   budget_row("500", "2026-10", "07-200", "S", 100_000,
                                              ftc_200, 10_000)]),
        "commitments": table("commitments", [
            {"job_id": "500", "commitment_number": "SC-6", "commitment_type": "subcontract",
             "vendor_name": "Frame Co", "status": "Approved", "status_family": "committed",
             "original_amount": 200_000 * D, "revised_amount": 200_000 * D,
             "invoiced": 104_000 * D, "approved_date": "2026-02-01"}]),
        "commitment_lines": table("commitment_lines", [
            {"job_id": "500", "commitment_number": "SC-6", "line_number": n, "cost_code": code,
             "cost_code_raw": code, "cost_type": "S", "amount": 100_000 * D}
            for n, code in ((1, "07-100"), (2, "07-200"))]),
        "erp_job_cost": table("erp_job_cost", [
            cost_row(i, "500", code, ctype, "2026-10", amount, commitment="SC-6")
            for i, (code, ctype, amount) in enumerate(costs)]),
    }
    return Company.from_tables(SETTINGS, tables)


def test_each_line_invoiced_from_the_erp_cost_rows():
    fc = cost_to_complete(_job500(), "2026-10")
    lines = fc[fc["committed"] > 0].set_index("cost_code")
    assert lines["invoiced_against_commitments"].to_dict() == {"07-100": 92_000 * D,
                                                               "07-200": 12_000 * D}
    assert lines["committed_remaining"].to_dict() == {"07-100": 8_000 * D, "07-200": 88_000 * D}
    assert "impossible_forecast" not in set(overrun_flags(fc, None, None, None, SETTINGS)["flag"])


def test_impossible_forecast_on_the_line_that_is_short():
    # 07-200's PM forecast lowered to 60,000 while 88,000 is still to be invoiced on it: 28,000.
    fc = cost_to_complete(_job500(ftc_200=60_000), "2026-10")
    assert {k: v for k, v in _code_flags(fc).items() if k[1] == "impossible_forecast"} == {
        ("07-200", "impossible_forecast"): 28_000}


# Where the ERP's job-cost export does not carry the commitment (the profile's fact
# job_cost_has_commitment false: Sage 100, QuickBooks, Acumatica, Intacct, Foundation), the rows'
# numbers are not read: SC-6 takes Procore's invoiced to date at the period end, 104,000 (its
# requisition A-3, approved 2026-10-24, G702 line 4), spread by that requisition's G703 lines
# (07-100.S column G 92,000, 07-200.S 12,000): 92,000 / 12,000 again; without G703 lines, pro rata
# to the lines' amounts (100,000 each): 52,000 / 52,000.

NO_JC_COMMITMENT = {"job_cost_has_commitment": False}


def _job500_procore(g703: bool) -> Company:
    c = _job500()
    req = table("subcontractor_invoices", [
        {"job_id": "500", "commitment_number": "SC-6", "vendor_name": "Frame Co",
         "invoice_number": "F-3", "application_number": 3, "billing_date": "2026-10-20",
         "period_end": "2026-10-31", "status": "approved", "approved_date": "2026-10-24",
         "work_completed_this_period": 30_000 * D, "total_completed_to_date": 104_000 * D,
         "amount_due": 27_000 * D}])
    g = table("subcontractor_invoice_lines", [
        {"job_id": "500", "commitment_number": "SC-6", "application_number": 3,
         "line_number": n, "budget_code": code, "scheduled_value": 100_000 * D,
         "total_completed_to_date": amount * D}
        for n, (code, amount) in enumerate((("07-100.S", 92_000), ("07-200.S", 12_000)), 1)])
    tables = {**c.tables, "subcontractor_invoices": req}
    if g703:
        tables["subcontractor_invoice_lines"] = g
    return Company.from_tables(SETTINGS, tables, erp_facts=NO_JC_COMMITMENT)


def _invoiced(c: Company) -> dict:
    fc = cost_to_complete(c, "2026-10")
    lines = fc[fc["committed"] > 0].set_index("cost_code")
    return {k: int(v) / D for k, v in lines["invoiced_against_commitments"].items()}


def test_without_commitment_on_cost_rows_each_line_takes_procore_by_its_g703_line():
    assert _invoiced(_job500_procore(g703=True)) == {"07-100": 92_000, "07-200": 12_000}
    # A sub job prefix on the budget code ("SUB.CODE.TYPE") names the same line.
    c = _job500_procore(g703=True)
    g = c["subcontractor_invoice_lines"].assign(
        budget_code=lambda d: "A." + d["budget_code"].astype("string"))
    c = Company.from_tables(SETTINGS, {**c.tables, "subcontractor_invoice_lines": g},
                            erp_facts=NO_JC_COMMITMENT)
    assert _invoiced(c) == {"07-100": 92_000, "07-200": 12_000}


def test_without_commitment_on_cost_rows_and_no_g703_lines_procore_is_pro_rata():
    assert _invoiced(_job500_procore(g703=False)) == {"07-100": 52_000, "07-200": 52_000}
    # Negative: the profile that carries the commitment reads the ERP's rows, whatever Procore's.
    c = _job500_procore(g703=False)
    c = Company.from_tables(SETTINGS, dict(c.tables))
    assert _invoiced(c) == {"07-100": 92_000, "07-200": 12_000}


# ----------------------------------------------- stale: a change order billed after completion
#
# Job 600, 08-100 S (revised 56,000): the PM's forecast to complete is 0 in the four snapshots
# 2026-07 to 2026-10 (finished: unchanged for 3 periods, N = 3). ERP cost naming SC-8: 50,000 in
# 2026-06; then 6,000 in 2026-09. SC-8's CO-1 of +6,000 was approved 2026-08-20, after the line
# finished: the late cost is the change order billed after completion, not a stale forecast.

def _job600(late=6_000, co_approved="2026-08-20", commitment="SC-8") -> Company:
    # ECAC = the line's ERP cost through the snapshot (50,000, then + the late cost from 2026-09).
    budget = [budget_row("600", p, "08-100", "S", 56_000, 0, 50_000 + (late if p >= "2026-09"
                                                                          else 0))
              for p in ("2026-07", "2026-08", "2026-09", "2026-10")]
    cos = [] if co_approved is None else [
        {"job_id": "600", "commitment_number": "SC-8", "co_number": "CO-1", "status": "Approved",
         "status_family": "approved", "cost_code": "08-100", "cost_code_raw": "08-100",
         "cost_type": "S", "amount": 6_000 * D, "approved_date": co_approved}]
    tables = {
        "budget": table("budget", budget),
        "commitments": table("commitments", [
            {"job_id": "600", "commitment_number": "SC-8", "commitment_type": "subcontract",
             "vendor_name": "Glass Co", "status": "Approved", "status_family": "committed",
             "original_amount": 50_000 * D, "revised_amount": 56_000 * D,
             "approved_date": "2026-01-10"}]),
        "commitment_lines": table("commitment_lines", [
            {"job_id": "600", "commitment_number": "SC-8", "line_number": 1,
             "cost_code": "08-100", "cost_code_raw": "08-100", "cost_type": "S",
             "amount": 56_000 * D}]),
        "commitment_change_orders": table("commitment_change_orders", cos),
        "erp_job_cost": table("erp_job_cost", [
            cost_row(1, "600", "08-100", "S", "2026-06", 50_000, commitment="SC-8"),
            cost_row(2, "600", "08-100", "S", "2026-09", late, commitment=commitment)]),
    }
    return Company.from_tables(SETTINGS, tables)


def _stale(c: Company, period="2026-10") -> dict:
    fc = cost_to_complete(c, period)
    f = overrun_flags(fc, budget_history(c, period), erp_cost_history(c, period), None,
                      SETTINGS, change_orders=approved_change_orders(c, period),
                      commitment_cost=erp_cost_history(c, period, commitments_only=True))
    f = f[f["flag"] == "stale_forecast"]
    return {r.cost_code: int(r.dollar_impact) / D for r in f.itertuples()}


def test_change_order_billed_after_completion_is_not_stale():
    assert _stale(_job600()) == {}
    # The same through the one computation of a period.
    from wip_lib.close.period import compute_period
    result = compute_period(_job600(), "2026-10")
    assert "stale_forecast" not in set(result.flags["flag"])


def test_late_cost_beyond_a_change_order_is_stale():
    assert _stale(_job600(co_approved=None)) == {"08-100": 6_000}  # no change order at all
    assert _stale(_job600(late=9_000)) == {"08-100": 3_000}  # 9,000 billed, 6,000 of CO
    # Cost not billed against a commitment is no change order's.
    assert _stale(_job600(commitment="")) == {"08-100": 6_000}
    # A change order approved before the line finished (2026-05) was no late change.
    assert _stale(_job600(co_approved="2026-05-20")) == {"08-100": 6_000}


# ------------------------------------------------------------------ risk counted once

def _flag(job, flag, dollars, code="", ctype=""):
    return {"job_id": job, "cost_code": code, "cost_type": ctype, "flag": flag,
            "dollar_impact": dollars * D, "message": ""}


def test_risk_ranking_counts_distinct_dollars():
    flags = pd.DataFrame([
        # Job A: code 01 counts its largest (10,000), code 02 3,000: 13,000 above the fade
        # (8,000); billings add 50,000 + 5,000: 68,000 (the flags add to 87,000).
        _flag("A", "eac_over_budget", 10_000, "01", "S"),
        _flag("A", "commitment_over_budget", 7_000, "01", "S"),
        _flag("A", "impossible_forecast", 4_000, "01", "S"),
        _flag("A", "stale_forecast", 3_000, "02", "L"),
        _flag("A", "margin_fade", 8_000),
        _flag("A", "underbilling", 50_000), _flag("A", "aged_billing", 5_000),
        # Job B: a job-level impact (25,000) above its codes' 2,000.
        _flag("B", "margin_fade", 20_000), _flag("B", "cost_ahead_of_curve", 25_000),
        _flag("B", "eac_over_budget", 2_000, "03", "M"),
        # Job C: an underbilling alone is ranked.
        _flag("C", "underbilling", 60_000)])
    r = risk_ranking(flags)
    assert list(r["job_id"]) == ["A", "C", "B"]
    assert [int(v) / D for v in r["total_impact"]] == [68_000, 60_000, 25_000]
    assert list(r["flag_count"]) == [7, 1, 3]
    assert "$68,000.00 at stake" in r.loc[0, "explanation"]
    assert "add to $87,000.00" in r.loc[0, "explanation"]
    # Negative: one flag per job, nothing overlaps: the ranking is the flags' own impacts.
    single = risk_ranking(flags.drop_duplicates("job_id"))
    assert [int(v) / D for v in single["total_impact"]] == [60_000, 20_000, 10_000]
    assert not single["explanation"].str.contains("add to").any()


def test_underbilling_and_aged_billing_flags():
    settings = Settings(name="T", current_period="2026-10")  # 5% and 90 days by default
    schedule = pd.DataFrame({"job_id": ["U", "V", "W"],
                             "contract_revised": np.array([23_764_742, 20_082_604, 1_000_000],
                                                          dtype="int64") * D,
                             "underbillings": np.array([3_517_409, 251_851, 0],
                                                       dtype="int64") * D})
    ar = pd.DataFrame({
        "job_id": ["W", "W", "W", "V"],
        "invoice_number": ["W-1", "W-2", "W-3", "V-1"],
        # 128 days, 77 days, 159 days (paid), 128 days but a November period (not in scope)
        "invoice_date": pd.to_datetime(["2026-06-25", "2026-08-15", "2026-05-25", "2026-06-25"]),
        "period": ["2026-06", "2026-08", "2026-05", "2026-11"],
        "amount_billed": np.array([100_000, 40_000, 70_000, 9_000], dtype="int64") * D,
        "retainage": np.array([10_000, 4_000, 7_000, 0], dtype="int64") * D,
        "amount_paid": np.array([0, 0, 63_000, 0], dtype="int64") * D})
    f = billing_flags(schedule, ar, "2026-10", settings)
    assert list(f.columns) == OUT_COLUMNS
    got = {(r.job_id, r.flag): int(r.dollar_impact) / D for r in f.itertuples()}
    # U: 3,517,409 of 23,764,742 = 14.8% > 5%; V: 1.25% is not flagged; W: W-1's 90,000 net of
    # retainage is 128 days old, W-2 is 77 days old, W-3 is collected.
    assert got == {("U", "underbilling"): 3_517_409, ("W", "aged_billing"): 90_000}
    assert "14.8% of the contract" in f.loc[f["job_id"] == "U", "message"].iloc[0]
    aged = f.loc[f["job_id"] == "W", "message"].iloc[0]
    assert "$90,000.00 billed on 1 invoice(s) more than 90 days" in aged
    assert "oldest 2026-06-25" in aged  # W-3 (2026-05-25) is collected
    # A stricter policy flags V too; a longer age leaves W-1 alone.
    strict = Settings(name="T", current_period="2026-10",
                      policies={**settings.policies, "underbilling_flag_pct": 0.01,
                                "aged_billing_days": 130})
    got = {(r.job_id, r.flag) for r in billing_flags(schedule, ar, "2026-10", strict).itertuples()}
    assert got == {("U", "underbilling"), ("V", "underbilling")}


def test_no_aged_billing_where_the_ar_export_carries_no_collections():
    """Spectrum, QuickBooks and Acumatica as read here (ar_has_collections false): every billing
    would look unpaid, so none is flagged as aged; the underbilling still is."""
    settings = Settings(name="T", current_period="2026-10")
    schedule = pd.DataFrame({"job_id": ["U"], "contract_revised": [1_000_000 * D],
                             "underbillings": [100_000 * D]})
    ar = pd.DataFrame({"job_id": ["U"], "invoice_number": ["U-1"],
                       "invoice_date": pd.to_datetime(["2026-05-25"]), "period": ["2026-05"],
                       "amount_billed": [50_000 * D], "retainage": [0], "amount_paid": [0]})
    both = billing_flags(schedule, ar, "2026-10", settings)
    assert list(both["flag"]) == ["underbilling", "aged_billing"]  # 159 days, $50,000 unpaid
    f = billing_flags(schedule, ar, "2026-10", settings, collections=False)
    assert [(r.flag, int(r.dollar_impact) / D) for r in f.itertuples()] == [
        ("underbilling", 100_000)]


def test_billing_flag_policies_are_checked():
    from wip_lib.core.errors import InputError
    from wip_lib.core.settings import normalise_policies
    with pytest.raises(InputError) as exc:
        normalise_policies({"underbilling_flag_pct": 5, "aged_billing_days": "ninety"})
    text = str(exc.value)
    assert "policies.underbilling_flag_pct" in text and "a fraction from 0 to below 1" in text
    assert "policies.aged_billing_days" in text and "whole number of days" in text
    assert normalise_policies({"aged_billing_days": 60})["aged_billing_days"] == 60


# ------------------------------------------------------------------- the index's flags

def test_index_flags_column_shows_every_flag_kind(tmp_path):
    schedule = pd.DataFrame({
        "job_id": ["00104", "00148", "00999"], "job_name": ["A", "B", "C"],
        "status": ["open"] * 3, "contract_revised": [1, 1, 1], "pct_complete": [0.5] * 3,
        "est_gp_pct": [0.1] * 3, "underbillings": [0, 0, 0], "overbillings": [0, 0, 0],
        "loss_provision": [5, 0, 0], "flag": ["loss", "", ""]})
    flags = pd.DataFrame([_flag("00148", "margin_fade", 1), _flag("00148", "eac_over_budget", 1,
                                                                  "01", "S"),
                          _flag("00148", "eac_over_budget", 2, "02", "S"),
                          _flag("00104", "loss_job", 1), _flag("00148", "underbilling", 3)])
    assert job_flag_kinds(schedule, flags).tolist() == [
        "loss, loss_job", "eac_over_budget, margin_fade, underbilling", ""]
    b = Bundle("Co", "2026-10", "as of", {"schedule": schedule, "flags": flags})
    text = write_index(b, tmp_path, {}).read_text(encoding="utf-8")
    assert '<td class="t w">eac_over_budget, margin_fade, underbilling</td>' in text
    assert '<td class="t w">loss, loss_job</td>' in text
    # Negative: without flags the column holds the schedule's own flags only.
    assert job_flag_kinds(schedule, None).tolist() == ["loss", "", ""]


# --------------------------------------------------------------- the sample's answer key



def test_sample_answer_key_in_full_and_nothing_outside_it(sample_period):
    """Every planted schedule and forecast situation is flagged and ranked with the answer key's
    amount where the key gives the flag; no job outside the key carries a flag or a finding
    above materiality."""
    result = sample_period
    key = pd.read_csv(SAMPLE / "answer_key.csv", dtype=str, keep_default_na=False)
    planted = key.loc[key["found_by"].isin(["schedule", "forecast"])]
    ranked = set(result.ranking["job_id"])
    assert set(planted["job_id"]) - {"00216"} <= ranked  # an overbilling is no risk flag
    under = key.loc[key["situation"].str.startswith("Heavily underbilled")].iloc[0]
    hit = result.flags[(result.flags["job_id"] == under["job_id"])
                       & (result.flags["flag"] == "underbilling")]
    assert f"{int(hit['dollar_impact'].iloc[0]) / 100:.2f}" == under["amount"]
    # Ranked by distinct dollars: no job's total above its flags' plain sum, and the underbilled
    # job's total is its underbilling.
    sums = result.flags.groupby("job_id")["dollar_impact"].sum()
    r = result.ranking.set_index("job_id")
    assert (r["total_impact"] <= sums.reindex(r.index)).all()
    assert f"{int(r.loc[under['job_id'], 'total_impact']) / 100:.2f}" == under["amount"]
    jobs = set(key["job_id"])
    assert set(result.flags["job_id"]) <= jobs
    loud = result.findings.loc[result.findings["severity"] != "info"]
    assert set(loud["job_id"]) - {""} <= jobs


def test_sample_reconciled_at_an_earlier_period_reports_only_planted_items(sample_company):
    """At 2026-09 (the exports run to 2026-10) the cut-off keeps October's items out: the
    findings above materiality are planted items dated by 2026-09 only."""
    from wip_lib.reconcile import reconcile
    key = pd.read_csv(SAMPLE / "answer_key.csv", dtype=str, keep_default_na=False)
    found, summary = reconcile(sample_company, "2026-09")
    loud = found.loc[found["severity"] != "info"]
    assert set(loud["job_id"]) - {""} <= set(key["job_id"]), loud.to_string()
    assert set(loud.loc[loud["job_id"] == "", "reference"]) <= set(key["reference"])
    assert (summary["unexplained"] == 0).all()
