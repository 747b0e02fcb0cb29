"""A small company for the billing tests, every figure written down by hand (dollars).

Job J1, prime contract 1 with the owner Lakeside Schools: original sum 100,000, retainage
``sliding:10>5@50``; change order 001 (+10,000) approved 2026-08-15, 002 (+7,000) pending.
Schedule of values: 1 General conditions (01-310) 20,000; 2 Concrete (03-300) 50,000;
3 Electrical (26-100) 30,000; the change order bills as line CO-001 (10,000).

Owner pay applications (C D E F G I per line; G702 line 4 / 5 / 8):

====== ======== ======== ======== ======== ======== ======== =====================
app    line     C        D        E        F        G        I
====== ======== ======== ======== ======== ======== ======== =====================
1      1        20,000   0        4,000    0        4,000    400
Aug    2        50,000   0        20,000   5,000    25,000   2,500
       3        30,000   0        6,000    0        6,000    600
       CO-001   10,000   0        0        0        0        0     4: 35,000 5: 3,500 8: 31,500
2      1        20,000   4,000    6,000    0        10,000   1,000
Sep    2        50,000   20,000   15,000   10,000   45,000   4,500
       3        30,000   6,000    9,000    0        15,000   1,500
       CO-001   10,000   0        5,000    0        5,000    500   4: 75,000 5: 7,500 8: 36,000
3      1        20,000   10,000   5,000    0        15,000   1,250
Oct    2        50,000   35,000   12,000   0        47,000   4,600
       3        30,000   15,000   6,000    0        21,000   1,800
       CO-001   10,000   5,000    3,000    0        8,000    650   4: 91,000 5: 8,300 8: 15,200
====== ======== ======== ======== ======== ======== ======== =====================

Rates: app 1 and 2 at 10% (previous billing 0 and 35,000, under 50% of the contract sum to date
110,000 = 55,000); app 3 at 5% (previous billing 75,000 >= 55,000): 5% of 16,000 = 800.

Subcontract SC-001 (Apex Concrete, 03-300.S): original 40,000, retainage 10%; change order 001
(+5,000) approved 2026-09-20, 002 (+3,000) pending. Its pay applications:

====== ======== ======== ======== ======== ======== ======== =====================
app    line     C        D        E        F        G        I
====== ======== ======== ======== ======== ======== ======== =====================
1 Sep  1        40,000   0        18,000   2,000    20,000   2,000
       CO-001   5,000    0        0        0        0        0     4: 20,000 5: 2,000 8: 18,000
2 Oct  1        40,000   18,000   12,000   0        30,000   3,000
       CO-001   5,000    0        2,000    0        2,000    200   4: 32,000 5: 3,200 8: 10,800
====== ======== ======== ======== ======== ======== ======== =====================

Application 1 is paid (an unconditional waiver through 2026-09-30 for 18,000 is on file); 2 is
approved, unpaid. PO-001 (Front Range Rebar) holds no retainage.

ERP AR: A1 billed 35,000 retainage 3,500 paid 31,500; A2 40,000 / 4,000 / 0; A3 16,000 / 800 /
0; R1, a release of 1,000 of retainage (billed 0, retainage -1,000), 600 of it collected.
ERP AP: SC-001 invoices 20,000 / 2,000 held / 18,000 paid and 12,000 / 1,200 / 0; PO-001 5,000 /
0 / 5,000.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core.settings import Company, Settings
from wip_lib.sample.generate import canonical_frame

D = 100  # cents per dollar


frame = canonical_frame  # rows as a canonical table, typed as the sample generator types them


OWNER_LINES = {  # app -> [(item, C, D, E, F, G, I)] in dollars
    1: [("1", 20_000, 0, 4_000, 0, 4_000, 400), ("2", 50_000, 0, 20_000, 5_000, 25_000, 2_500),
        ("3", 30_000, 0, 6_000, 0, 6_000, 600), ("CO-001", 10_000, 0, 0, 0, 0, 0)],
    2: [("1", 20_000, 4_000, 6_000, 0, 10_000, 1_000),
        ("2", 50_000, 20_000, 15_000, 10_000, 45_000, 4_500),
        ("3", 30_000, 6_000, 9_000, 0, 15_000, 1_500),
        ("CO-001", 10_000, 0, 5_000, 0, 5_000, 500)],
    3: [("1", 20_000, 10_000, 5_000, 0, 15_000, 1_250),
        ("2", 50_000, 35_000, 12_000, 0, 47_000, 4_600),
        ("3", 30_000, 15_000, 6_000, 0, 21_000, 1_800),
        ("CO-001", 10_000, 5_000, 3_000, 0, 8_000, 650)],
}
OWNER_APPS = {  # app -> (billing date, period end, work, G, ret this period, I, due)
    1: ("2026-08-25", "2026-08-31", 35_000, 35_000, 3_500, 3_500, 31_500),
    2: ("2026-09-25", "2026-09-30", 40_000, 75_000, 4_000, 7_500, 36_000),
    3: ("2026-10-25", "2026-10-31", 16_000, 91_000, 800, 8_300, 15_200),
}
DESCRIPTIONS = {"1": "General conditions", "2": "Concrete", "3": "Electrical",
                "CO-001": "Change Order 001 - Added storm drainage"}
SUB_LINES = {
    1: [("1", 40_000, 0, 18_000, 2_000, 20_000, 2_000), ("CO-001", 5_000, 0, 0, 0, 0, 0)],
    2: [("1", 40_000, 18_000, 12_000, 0, 30_000, 3_000),
        ("CO-001", 5_000, 0, 2_000, 0, 2_000, 200)],
}
SUB_APPS = {  # app -> (billing, period end, work, G, ret, I, due, payment)
    1: ("2026-09-25", "2026-09-30", 20_000, 20_000, 2_000, 2_000, 18_000, "paid"),
    2: ("2026-10-25", "2026-10-31", 12_000, 32_000, 1_200, 3_200, 10_800, "unpaid"),
}


def _lines(contract_col: str, contract: str, apps: dict, budget_code: str = "") -> list[dict]:
    rows = []
    for app, lines in apps.items():
        for n, (item, c, d, e, f, g, i) in enumerate(lines, start=1):
            rows.append({"job_id": "J1", contract_col: contract, "application_number": app,
                         "line_number": n, "item_number": item, "budget_code": budget_code,
                         "description": DESCRIPTIONS.get(item, "Cast-in-place concrete")
                         if contract_col == "contract_number" else
                         ("Cast-in-place concrete" if item == "1" else "Change Order 001"),
                         "scheduled_value": c * D, "from_previous_application": d * D,
                         "this_period": e * D, "materials_stored": f * D,
                         "total_completed_to_date": g * D, "balance_to_finish": (c - g) * D,
                         "retainage": i * D})
    return rows


def tables() -> dict[str, pd.DataFrame]:
    t = {}
    t["jobs"] = frame("jobs", [{"job_id": "J1", "job_name": "Lakeside Elementary",
                                "status": "active", "start_date": "2026-06-01",
                                "customer": "Lakeside Schools"}])
    t["prime_contracts"] = frame("prime_contracts", [{
        "job_id": "J1", "contract_number": "1", "owner": "Lakeside Schools", "status": "Approved",
        "original_amount": 100_000 * D, "retainage_percent": 0.10,
        "retainage_rule": "sliding:10>5@50"}])
    t["prime_contract_lines"] = frame("prime_contract_lines", [
        {"job_id": "J1", "contract_number": "1", "line_number": 1, "cost_code": "01-310",
         "cost_type": "L", "description": "General conditions", "amount": 20_000 * D},
        {"job_id": "J1", "contract_number": "1", "line_number": 2, "cost_code": "03-300",
         "cost_type": "S", "description": "Concrete", "amount": 50_000 * D},
        {"job_id": "J1", "contract_number": "1", "line_number": 3, "cost_code": "26-100",
         "cost_type": "S", "description": "Electrical", "amount": 30_000 * D}])
    t["prime_change_orders"] = frame("prime_change_orders", [
        {"job_id": "J1", "contract_number": "1", "co_number": "001",
         "title": "Added storm drainage", "status": "Approved", "status_family": "approved",
         "amount": 10_000 * D, "approved_date": "2026-08-15"},
        {"job_id": "J1", "contract_number": "1", "co_number": "002", "title": "Canopy",
         "status": "Pending", "status_family": "pending", "amount": 7_000 * D}])
    t["owner_invoices"] = frame("owner_invoices", [
        {"job_id": "J1", "contract_number": "1", "invoice_number": f"LS-00{n}",
         "application_number": n, "billing_date": b, "period_start": e[:8] + "01",
         "period_end": e, "status": "approved", "work_completed_this_period": w * D,
         "total_completed_to_date": g * D, "retainage_this_period": r * D,
         "retainage_to_date": i * D, "amount_due": due * D}
        for n, (b, e, w, g, r, i, due) in OWNER_APPS.items()])
    t["owner_invoice_lines"] = frame("owner_invoice_lines",
                                     _lines("contract_number", "1", OWNER_LINES))
    t["commitments"] = frame("commitments", [
        {"job_id": "J1", "commitment_number": "SC-001", "commitment_type": "subcontract",
         "vendor_name": "Apex Concrete", "status": "Approved", "status_family": "committed",
         "original_amount": 40_000 * D, "approved_change_orders": 5_000 * D,
         "revised_amount": 45_000 * D, "retainage_percent": 0.10},
        {"job_id": "J1", "commitment_number": "PO-001", "commitment_type": "purchase_order",
         "vendor_name": "Front Range Rebar", "status": "Approved", "status_family": "committed",
         "original_amount": 5_000 * D, "revised_amount": 5_000 * D}])
    t["commitment_change_orders"] = frame("commitment_change_orders", [
        {"job_id": "J1", "commitment_number": "SC-001", "co_number": "001", "status": "Approved",
         "status_family": "approved", "cost_code": "03-300", "cost_code_raw": "03-300",
         "cost_type": "S", "amount": 5_000 * D, "approved_date": "2026-09-20"},
        {"job_id": "J1", "commitment_number": "SC-001", "co_number": "002", "status": "Pending",
         "status_family": "pending", "cost_code": "03-300", "cost_code_raw": "03-300",
         "cost_type": "S", "amount": 3_000 * D}])
    t["subcontractor_invoices"] = frame("subcontractor_invoices", [
        {"job_id": "J1", "commitment_number": "SC-001", "vendor_name": "Apex Concrete",
         "invoice_number": f"APX-{n}", "application_number": n, "billing_date": b,
         "period_start": e[:8] + "01", "period_end": e, "status": "approved",
         "approved_date": b, "work_completed_this_period": w * D,
         "total_completed_to_date": g * D, "retainage_this_period": r * D,
         "retainage_to_date": i * D, "amount_due": due * D, "payment_status": pay}
        for n, (b, e, w, g, r, i, due, pay) in SUB_APPS.items()])
    t["subcontractor_invoice_lines"] = frame("subcontractor_invoice_lines", _lines(
        "commitment_number", "SC-001", SUB_LINES, "03-300.S"))
    t["erp_ar_billings"] = frame("erp_ar_billings", [
        {"job_id": "J1", "invoice_number": "LS-001", "invoice_date": "2026-08-25",
         "period": "2026-08", "amount_billed": 35_000 * D, "retainage": 3_500 * D,
         "amount_paid": 31_500 * D},
        {"job_id": "J1", "invoice_number": "LS-002", "invoice_date": "2026-09-25",
         "period": "2026-09", "amount_billed": 40_000 * D, "retainage": 4_000 * D},
        {"job_id": "J1", "invoice_number": "LS-003", "invoice_date": "2026-10-25",
         "period": "2026-10", "amount_billed": 16_000 * D, "retainage": 800 * D},
        {"job_id": "J1", "invoice_number": "R1", "invoice_date": "2026-10-28",
         "period": "2026-10", "amount_billed": 0, "retainage": -1_000 * D,
         "amount_paid": 600 * D}])
    t["erp_ap_invoices"] = frame("erp_ap_invoices", [
        {"job_id": "J1", "vendor_name": "Apex Concrete", "invoice_number": "APX-1",
         "commitment_number": "SC-001", "invoice_date": "2026-09-25", "period": "2026-09",
         "amount": 20_000 * D, "retainage_held": 2_000 * D, "amount_paid": 18_000 * D},
        {"job_id": "J1", "vendor_name": "Apex Concrete", "invoice_number": "APX-2",
         "commitment_number": "SC-001", "invoice_date": "2026-10-25", "period": "2026-10",
         "amount": 12_000 * D, "retainage_held": 1_200 * D},
        {"job_id": "J1", "vendor_name": "Front Range Rebar", "invoice_number": "FR-9",
         "commitment_number": "PO-001", "invoice_date": "2026-09-10", "period": "2026-09",
         "amount": 5_000 * D, "amount_paid": 5_000 * D}])
    return t


SETTINGS = {"name": "Cedar Point Builders", "current_period": "2026-10",
            "materiality": {"amount_cents": 100_000, "pct": 0.005}}


def company(tables_: dict | None = None, **billing) -> Company:
    settings = dict(SETTINGS)
    if billing:
        settings["billing"] = billing
    return Company.from_tables(Settings.from_mapping(settings), tables_ or tables())


def waivers(rows: list[tuple] | None = None) -> pd.DataFrame:
    """The lien waiver log as read: (commitment, through, type, amount in dollars) rows."""
    if rows is None:
        rows = [("SC-001", "2026-09-30", "unconditional", 18_000)]
    return pd.DataFrame({"job_id": pd.Series(["J1"] * len(rows), dtype="string"),
                         "commitment_number": pd.Series([r[0] for r in rows], dtype="string"),
                         "vendor": pd.Series(["Apex Concrete"] * len(rows), dtype="string"),
                         "through_date": pd.to_datetime([r[1] for r in rows]),
                         "waiver_type": pd.Series([r[2] for r in rows], dtype="string"),
                         "amount": pd.Series([r[3] * D for r in rows], dtype="int64")})
