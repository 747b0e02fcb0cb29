"""Reconciliation, Procore to ERP: a small two-system company that ties, then one discrepancy at a
time. Each check has a positive case (the discrepancy is found) and a negative one (the clean
company, which also holds timing items dated after the period end, gives no finding)."""
from __future__ import annotations

import pandas as pd
import pytest

from wip_lib.core import schema
from wip_lib.core.settings import Company, Settings
from wip_lib.reconcile import (
    CHECKS,
    FINDING_COLUMNS,
    coverage,
    make_context,
    reconcile,
    run_checks,
    tie_out,
)

PERIOD = "2026-10"
D = 100  # cents per dollar


def frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """A canonical table from dicts: schema defaults filled, schema dtypes."""
    t = schema.get(name)
    data = {}
    for c in t.columns:
        values = [r.get(c.name, c.default) for r in rows]
        s = pd.Series(values, dtype=object)
        if c.kind == "date":
            data[c.name] = pd.to_datetime(s).astype("datetime64[us]")
        elif c.kind == "money":
            data[c.name] = s.fillna(0).astype("int64")
        else:
            data[c.name] = s.astype(c.dtype)
    return pd.DataFrame(data, columns=t.names)


def base_tables() -> dict[str, list[dict]]:
    """Two jobs that tie at 2026-10, with items dated after the period end (timing only)."""
    return {
        "jobs": [
            {"job_id": "100", "job_name": "Alpha School", "status": "active",
             "start_date": "2026-01-05", "erp_status": "synced"},
            {"job_id": "200", "job_name": "Beta Clinic", "status": "active",
             "start_date": "2026-03-01", "erp_status": "synced"},
        ],
        "erp_jobs": [
            {"job_id": "100", "job_id_raw": "100 ", "job_name": "Alpha School",
             "original_contract": 2_000_000 * D, "revised_contract": 2_050_000 * D},
            {"job_id": "200", "job_id_raw": "200", "job_name": "Beta Clinic",
             "original_contract": 500_000 * D, "revised_contract": 500_000 * D},
        ],
        "budget": [
            # September snapshot: superseded by October's.
            {"job_id": "100", "period": "2026-09", "cost_code": "03-300", "cost_code_raw": "03-300",
             "cost_type": "S", "original_budget": 900_000 * D, "revised_budget": 900_000 * D,
             "job_to_date_costs": 300_000 * D, "forecast_to_complete": 0},
            {"job_id": "100", "period": PERIOD, "cost_code": "03-300", "cost_code_raw": "03-300",
             "cost_type": "S", "original_budget": 900_000 * D, "revised_budget": 900_000 * D,
             "job_to_date_costs": 500_000 * D, "forecast_to_complete": 0},
            {"job_id": "100", "period": PERIOD, "cost_code": "05-100", "cost_code_raw": "05-100",
             "cost_type": "M", "original_budget": 400_000 * D, "revised_budget": 400_000 * D,
             "job_to_date_costs": 200_000 * D, "forecast_to_complete": 0},
            {"job_id": "200", "period": PERIOD, "cost_code": "02-200", "cost_code_raw": "02-200",
             "cost_type": "L", "original_budget": 300_000 * D, "revised_budget": 300_000 * D,
             "job_to_date_costs": 100_000 * D, "forecast_to_complete": 0},
        ],
        "erp_job_cost": [
            {"row_id": "J1", "job_id": "100", "cost_code": "03-300", "cost_code_raw": "03-300",
             "cost_type": "SUB", "source": "AP", "transaction_date": "2026-09-15",
             "accounting_date": "2026-09-15", "period": "2026-09", "amount": 300_000 * D,
             "vendor_name": "Acme Concrete, Inc.", "document_number": "A-0"},
            {"row_id": "J2", "job_id": "100", "cost_code": "03-300", "cost_code_raw": "03-300",
             "cost_type": "SUB", "source": "AP", "transaction_date": "2026-10-20",
             "accounting_date": "2026-10-20", "period": PERIOD, "amount": 200_000 * D,
             "vendor_name": "Acme Concrete, Inc.", "document_number": "A-1"},
            {"row_id": "J3", "job_id": "100", "cost_code": "05-100", "cost_code_raw": "05-100",
             "cost_type": "MAT", "source": "AP", "transaction_date": "2026-10-05",
             "accounting_date": "2026-10-05", "period": PERIOD, "amount": 200_000 * D,
             "vendor_name": "Steel Co", "document_number": "S-77"},
            {"row_id": "J4", "job_id": "200", "cost_code": "0220", "cost_code_raw": "0220",
             "cost_type": "LAB", "source": "PR", "transaction_date": "2026-10-10",
             "accounting_date": "2026-10-10", "period": PERIOD, "amount": 100_000 * D},
            # November: after the period end, out of scope.
            {"row_id": "J5", "job_id": "100", "cost_code": "03-300", "cost_code_raw": "03-300",
             "cost_type": "SUB", "source": "AP", "transaction_date": "2026-11-03",
             "accounting_date": "2026-11-03", "period": "2026-11", "amount": 50_000 * D},
        ],
        "erp_cost_codes": [
            {"cost_code": "03-300", "cost_code_raw": "03-300"},
            {"cost_code": "05-100", "cost_code_raw": "05-100"},
            {"cost_code": "0220", "cost_code_raw": "0220"},
            {"cost_code": "99-999", "cost_code_raw": "99999", "description": "Unassigned",
             "is_default": True},
            {"cost_code": "01-000", "cost_code_raw": "01-000", "is_active": False},
        ],
        "cost_code_crosswalk": [
            {"procore_cost_code": "02-200", "erp_cost_code": "0220", "job_id": "200"},
        ],
        "commitments": [
            {"job_id": "100", "commitment_number": "SC-001", "commitment_type": "subcontract",
             "vendor_name": "Acme Concrete Inc", "status": "Approved", "status_family": "committed",
             "original_amount": 400_000 * D, "approved_change_orders": 25_000 * D,
             "revised_amount": 425_000 * D, "approved_date": "2026-08-01", "erp_status": "synced",
             "invoiced": 540_000 * D},
        ],
        "commitment_change_orders": [
            {"job_id": "100", "commitment_number": "SC-001", "co_number": "CO-1",
             "status": "Approved", "status_family": "approved", "cost_code": "03-300",
             "cost_code_raw": "03-300", "cost_type": "S", "amount": 10_000 * D,
             "approved_date": "2026-09-01", "erp_status": "synced"},
            {"job_id": "100", "commitment_number": "SC-001", "co_number": "CO-2",
             "status": "Approved", "status_family": "approved", "cost_code": "03-300",
             "cost_code_raw": "03-300", "cost_type": "S", "amount": 10_000 * D,
             "approved_date": "2026-10-10", "erp_status": "synced"},
            # Approved after the period end and not yet in the ERP: timing, not a finding.
            {"job_id": "100", "commitment_number": "SC-001", "co_number": "CO-3",
             "status": "Approved", "status_family": "approved", "cost_code": "03-300",
             "cost_code_raw": "03-300", "cost_type": "S", "amount": 5_000 * D,
             "approved_date": "2026-11-05", "erp_status": "ready_to_export",
             "erp_status_date": "2026-11-05"},
        ],
        "erp_commitments": [
            {"job_id": "100", "commitment_number": "SC-001", "commitment_type": "subcontract",
             "vendor_name": "Acme Concrete, Inc.", "original_amount": 400_000 * D,
             "approved_change_orders": 20_000 * D, "revised_amount": 420_000 * D,
             # invoiced to date: A-0 (September, $300,000) and A-1 (October, $200,000)
             "invoiced": 500_000 * D},
        ],
        "prime_contracts": [
            {"job_id": "100", "contract_number": "PC-100", "status": "Approved",
             "original_amount": 2_000_000 * D, "erp_status": "synced"},
        ],
        "prime_change_orders": [
            {"job_id": "100", "contract_number": "PC-100", "co_number": "PCO-1",
             "status": "Approved", "status_family": "approved", "amount": 50_000 * D,
             "approved_date": "2026-10-15", "erp_status": "synced"},
            # Approved after the period end: timing, not a finding.
            {"job_id": "100", "contract_number": "PC-100", "co_number": "PCO-2",
             "status": "Approved", "status_family": "approved", "amount": 30_000 * D,
             "approved_date": "2026-11-03", "erp_status": "ready_to_export",
             "erp_status_date": "2026-11-03"},
            {"job_id": "100", "contract_number": "PC-100", "co_number": "PCO-3",
             "status": "Pending", "status_family": "pending", "amount": 12_000 * D},
        ],
        "erp_contract_change_orders": [
            {"job_id": "100", "co_number": "PCO-1", "amount": 50_000 * D,
             "posted_date": "2026-10-20", "period": PERIOD},
        ],
        "subcontractor_invoices": [
            {"job_id": "100", "commitment_number": "SC-001", "vendor_name": "Acme Concrete Inc",
             "invoice_number": "A-1", "application_number": 2, "billing_date": "2026-10-15",
             "period_end": "2026-10-31", "status": "approved", "approved_date": "2026-10-20",
             "work_completed_this_period": 200_000 * D, "total_completed_to_date": 500_000 * D,
             "retainage_this_period": 20_000 * D, "amount_due": 180_000 * D,
             "payment_status": "paid", "erp_status": "synced"},
            # Approved after the period end, not yet in AP: timing, not a finding.
            {"job_id": "100", "commitment_number": "SC-001", "vendor_name": "Acme Concrete Inc",
             "invoice_number": "A-2", "application_number": 3, "billing_date": "2026-11-01",
             "period_end": "2026-11-30", "status": "approved", "approved_date": "2026-11-02",
             "work_completed_this_period": 40_000 * D, "total_completed_to_date": 540_000 * D,
             "retainage_this_period": 4_000 * D, "amount_due": 36_000 * D},
        ],
        "erp_ap_invoices": [
            {"job_id": "100", "vendor_name": "Acme Concrete, Inc.", "invoice_number": "A-1",
             "commitment_number": "SC-001", "invoice_date": "2026-10-15", "period": PERIOD,
             "amount": 200_000 * D, "retainage_held": 20_000 * D, "amount_paid": 180_000 * D,
             "paid_date": "2026-10-30"},
        ],
        "owner_invoices": [
            {"job_id": "100", "contract_number": "PC-100", "invoice_number": "1001",
             "application_number": 1, "billing_date": "2026-09-30", "period_end": "2026-09-30",
             "status": "approved", "work_completed_this_period": 300_000 * D,
             "total_completed_to_date": 300_000 * D, "amount_due": 270_000 * D},
            {"job_id": "100", "contract_number": "PC-100", "invoice_number": "1002",
             "application_number": 2, "billing_date": "2026-10-31", "period_end": "2026-10-31",
             "status": "approved", "work_completed_this_period": 250_000 * D,
             "total_completed_to_date": 550_000 * D, "amount_due": 225_000 * D},
            # November pay app: after the period end.
            {"job_id": "100", "contract_number": "PC-100", "invoice_number": "1003",
             "application_number": 3, "billing_date": "2026-11-30", "period_end": "2026-11-30",
             "status": "approved", "work_completed_this_period": 90_000 * D,
             "total_completed_to_date": 640_000 * D, "amount_due": 81_000 * D},
        ],
        "erp_ar_billings": [
            {"job_id": "100", "invoice_number": "1001", "invoice_date": "2026-09-30",
             "period": "2026-09", "amount_billed": 300_000 * D, "retainage": 30_000 * D},
            {"job_id": "100", "invoice_number": "1002", "invoice_date": "2026-10-31",
             "period": PERIOD, "amount_billed": 250_000 * D, "retainage": 25_000 * D},
        ],
        "procore_vendors": [
            {"vendor_name": "Acme Concrete Inc", "erp_vendor_id": "V1"},
            {"vendor_name": "Steel Co", "erp_vendor_id": "V2"},
        ],
        "erp_vendors": [
            {"vendor_id": "V1", "vendor_name": "Acme Concrete, Inc."},
            {"vendor_id": "V2", "vendor_name": "Steel Co"},
            {"vendor_id": "V9", "vendor_name": "Old Paving LLC", "status": "inactive"},
        ],
        "direct_costs": [
            {"job_id": "100", "direct_cost_id": "DC-1", "line_number": 1,
             "direct_cost_type": "expense", "status": "approved",
             "direct_cost_date": "2026-10-12", "vendor_name": "Office Depot",
             "invoice_number": "OD-1", "cost_code": "05-100", "cost_code_raw": "05-100",
             "cost_type": "O", "amount": 500 * D},
        ],
    }


def company(tables: dict[str, list[dict]] | None = None, **settings) -> Company:
    tables = base_tables() if tables is None else tables
    s = Settings(name="Test Builders", current_period=PERIOD, **settings)
    return Company.from_tables(s, {k: frame(k, v) for k, v in tables.items()})


def run(tables, check: str | None = None, **settings) -> pd.DataFrame:
    ctx = make_context(company(tables, **settings), PERIOD)
    found, problems = run_checks(ctx, None if check is None else [check])
    assert problems == []
    return found


def one(found: pd.DataFrame, **match) -> pd.Series:
    sel = found
    for k, v in match.items():
        sel = sel.loc[sel[k] == v]
    assert len(sel) == 1, f"expected one finding for {match}, got:\n{found.to_string()}"
    return sel.iloc[0]


@pytest.fixture
def t():
    return base_tables()


# ------------------------------------------------------------------------------- the clean case

def test_clean_company_has_no_findings_and_ties_out():
    findings, summary = reconcile(company(), PERIOD)
    assert list(findings.columns) == FINDING_COLUMNS
    assert findings.empty, findings.to_string()
    assert list(summary["job_id"]) == ["100", "200"]
    assert summary["variance"].tolist() == [0, 0]
    assert summary["unexplained"].tolist() == [0, 0]
    # Procore's October snapshot, not September's; ERP's November cost left out.
    assert summary["procore_total"].tolist() == [700_000 * D, 100_000 * D]
    assert summary["erp_total"].tolist() == [700_000 * D, 100_000 * D]
    cov = coverage(company(), PERIOD, findings)
    assert cov["foots"].all()
    assert cov["matched_rows"].sum() == 4 and cov["finding_rows"].sum() == 0


def test_every_check_is_registered_once():
    names = [c.name for c in CHECKS]
    assert len(names) == len(set(names))
    assert set(names) >= {"job_cost", "unmapped_cost_code", "commitments",
                          "commitment_change_orders", "prime_change_orders",
                          "subcontractor_invoices", "owner_invoices", "payments", "vendors",
                          "jobs", "sync_state", "double_counting"}


def test_bad_period_is_refused():
    from wip_lib.core.errors import PeriodError
    with pytest.raises(PeriodError):
        reconcile(company(), "2026-13")


# ------------------------------------------------------------------------------------ job cost

def test_job_cost_difference_found_and_tie_out_explains_it(t):
    t["erp_job_cost"].append(
        {"row_id": "J6", "job_id": "100", "cost_code": "03-300", "cost_code_raw": "03-300",
         "cost_type": "SUB", "source": "JC", "transaction_date": "2026-10-30",
         "accounting_date": "2026-10-30", "period": PERIOD, "amount": 20_000 * D})
    findings, summary = reconcile(company(t), PERIOD)
    f = one(findings, check="job_cost")
    assert (f.job_id, f.cost_code) == ("100", "03-300")
    assert (f.procore_amount, f.erp_amount, f.difference) == (500_000 * D, 520_000 * D,
                                                              -20_000 * D)
    assert f.severity == "error" and "re-sync" in f.action
    row = summary.set_index("job_id").loc["100"]
    assert row.variance == -20_000 * D and row.explained == -20_000 * D and row.unexplained == 0


def test_job_cost_through_crosswalk(t):
    t["erp_job_cost"][3]["amount"] = 103_000 * D  # job 200, ERP code 0220 -> Procore 02-200
    f = one(run(t, "job_cost"), check="job_cost")
    assert (f.job_id, f.cost_code, f.difference) == ("200", "02-200", -3_000 * D)
    t2 = base_tables()
    t2["cost_code_crosswalk"] = []  # without the crosswalk 0220 reaches no budget line
    found = run(t2)
    assert one(found, check="job_cost").procore_amount == 100_000 * D
    assert one(found, check="unmapped_cost_code").erp_amount == 100_000 * D


def test_company_wide_crosswalk_and_many_to_one(t):
    t["cost_code_crosswalk"] = [{"procore_cost_code": "02-200", "erp_cost_code": "0220"}]
    assert run(t).empty


def test_job_cost_below_materiality_is_info(t):
    t["erp_job_cost"].append(
        {"row_id": "J6", "job_id": "200", "cost_code": "0220", "cost_code_raw": "0220",
         "cost_type": "LAB", "source": "PR", "transaction_date": "2026-10-30",
         "accounting_date": "2026-10-30", "period": PERIOD, "amount": 999_99})
    f = one(run(t, "job_cost"), check="job_cost")
    assert f.difference == -999_99 and f.severity == "info"
    # The percentage leg: $2,000 on a $500,000 line is under 0.5%.
    t = base_tables()
    t["erp_job_cost"][1]["amount"] += 2_000 * D
    assert one(run(t, "job_cost"), check="job_cost").severity == "info"
    # A stricter company setting makes it an error.
    t = base_tables()
    t["erp_job_cost"][1]["amount"] += 2_000 * D
    f = one(run(t, "job_cost", materiality={"amount_cents": 10_000, "pct": 0.0}),
            check="job_cost")
    assert f.severity == "error"


# ---------------------------------------------------------------------------- unmapped codes

def _cost(code, amount, job="100", row="X1"):
    return {"row_id": row, "job_id": job, "cost_code": code, "cost_code_raw": code,
            "cost_type": "OTH", "source": "JC", "transaction_date": "2026-10-30",
            "accounting_date": "2026-10-30", "period": PERIOD, "amount": amount}


def test_unmapped_default_and_inactive_codes(t):
    t["erp_job_cost"] += [_cost("99-999", 7_000 * D, row="X1"), _cost("07-100", 4_000 * D, row="X2"),
                          _cost("01-000", 3_000 * D, row="X3"), _cost("07-100", 1_000 * D, row="X4")]
    findings, summary = reconcile(company(t), PERIOD)
    un = findings.loc[findings["check"] == "unmapped_cost_code"].set_index("cost_code")
    assert un.loc["99-999", "erp_amount"] == 7_000 * D and "default" in un.loc["99-999", "detail"]
    assert un.loc["99-999", "reference"] == "99-999 Unassigned"
    assert un.loc["07-100", "erp_amount"] == 5_000 * D and "no line" in un.loc["07-100", "detail"]
    assert "inactive" in un.loc["01-000", "detail"]
    assert (un["difference"] == -un["erp_amount"]).all() and (un["severity"] == "error").all()
    assert "job_cost" not in set(findings["check"])
    row = summary.set_index("job_id").loc["100"]
    assert row.variance == -15_000 * D and row.unexplained == 0
    cov = coverage(company(t), PERIOD, findings).set_index("job_id").loc["100"]
    assert (cov.finding_rows, cov.finding_amount) == (4, 15_000 * D) and cov.foots
    # Leave the findings out and the proof fails: the transactions are uncovered.
    bad = coverage(company(t), PERIOD, findings.loc[findings["check"] != "unmapped_cost_code"])
    bad = bad.set_index("job_id").loc["100"]
    assert (bad.uncovered_rows, bad.uncovered_amount) == (4, 15_000 * D) and not bad.foots
    assert bad.matched_amount + bad.finding_amount + bad.uncovered_amount == bad.erp_amount


def test_settings_default_code_with_budget_line_is_a_warning_that_ties(t):
    t["budget"].append({"job_id": "100", "period": PERIOD, "cost_code": "99-000",
                        "cost_code_raw": "99-000", "cost_type": "O", "original_budget": 0,
                        "revised_budget": 0, "job_to_date_costs": 2_500 * D,
                        "forecast_to_complete": 0})
    t["erp_job_cost"].append(_cost("99-000", 2_500 * D))
    assert run(t).empty  # not a default code: ties
    found = run(t, default_cost_codes=("99-000",))
    f = one(found, check="unmapped_cost_code")
    assert f.severity == "warning" and pd.isna(f.difference) and f.erp_amount == 2_500 * D
    assert "job_cost" not in set(found["check"])


# ------------------------------------------------------------------------------- commitments

def _commitment(number, approved, amount=50_000 * D, status="Approved", family="committed"):
    return {"job_id": "100", "commitment_number": number, "commitment_type": "purchase_order",
            "vendor_name": "Steel Co", "status": status, "status_family": family,
            "original_amount": amount, "revised_amount": amount, "approved_date": approved}


def test_commitment_missing_in_erp(t):
    t["commitments"] += [_commitment("PO-002", "2026-10-11"),
                         _commitment("PO-003", "2026-11-05")]  # after the period end
    found = run(t, "commitments")
    f = one(found, reference="PO-002")
    assert (f.procore_amount, f.erp_amount, f.difference) == (50_000 * D, 0, 50_000 * D)
    assert f.days_waiting == 20 and f.severity == "error" and "Export" in f.action
    assert len(found) == 1


def test_commitment_amount_status_and_erp_only(t):
    t["erp_commitments"][0]["original_amount"] = 390_000 * D
    t["erp_commitments"].append({"job_id": "100", "commitment_number": "PO-9",
                                 "commitment_type": "purchase_order", "vendor_name": "Steel Co",
                                 "original_amount": 8_000 * D, "revised_amount": 8_000 * D})
    t["commitments"].append(_commitment("SC-007", None, status="Void", family="excluded"))
    t["erp_commitments"].append({"job_id": "100", "commitment_number": "SC-007",
                                 "commitment_type": "subcontract", "vendor_name": "Steel Co",
                                 "original_amount": 50_000 * D, "revised_amount": 50_000 * D})
    found = run(t, "commitments")
    amt = one(found, reference="SC-001")
    assert (amt.procore_amount, amt.erp_amount, amt.difference) == (400_000 * D, 390_000 * D,
                                                                    10_000 * D)
    eo = one(found, reference="PO-9")
    assert (eo.procore_amount, eo.erp_amount, eo.difference) == (0, 8_000 * D, -8_000 * D)
    st = one(found, reference="SC-007")
    assert st.severity == "warning" and "Close SC-007 in the ERP" in st.action


def test_commitment_change_order_missing_in_erp(t):
    t["erp_commitments"][0]["approved_change_orders"] = 10_000 * D
    t["erp_commitments"][0]["revised_amount"] = 410_000 * D
    f = one(run(t, "commitment_change_orders"), check="commitment_change_orders")
    assert (f.procore_amount, f.erp_amount, f.difference) == (20_000 * D, 10_000 * D, 10_000 * D)
    assert f.reference == "SC-001/CO-2" and f.cost_code == "03-300" and f.days_waiting == 21 and f.severity == "error"


def test_commitment_change_order_named_by_sync_state(t):
    # Both COs are $10,000; the one Procore failed to export is the one the ERP lacks.
    t["erp_commitments"][0]["approved_change_orders"] = 10_000 * D
    t["commitment_change_orders"][0].update(erp_status="failed_to_export",
                                            erp_status_date="2026-09-02")
    f = one(run(t, "commitment_change_orders"), check="commitment_change_orders")
    assert f.reference == "SC-001/CO-1" and f.days_waiting == 60
    assert one(run(t, "sync_state"), reference="SC-001/CO-1").severity == "error"


def test_commitment_change_order_timing_both_ways(t):
    # The ERP already holds CO-3 (approved 2026-11-05): timing, not a finding.
    t["erp_commitments"][0]["approved_change_orders"] = 25_000 * D
    assert run(t, "commitment_change_orders").empty
    # More in the ERP than Procore ever approved: a finding.
    t["erp_commitments"][0]["approved_change_orders"] = 31_000 * D
    f = one(run(t, "commitment_change_orders"), check="commitment_change_orders")
    assert f.difference == -6_000 * D


# ------------------------------------------------------------------------ prime change orders

def test_prime_change_order_missing_in_erp(t):
    t["erp_contract_change_orders"] = []
    f = one(run(t, "prime_change_orders"), check="prime_change_orders")
    assert (f.reference, f.procore_amount, f.erp_amount) == ("PCO-1", 50_000 * D, 0)
    assert f.days_waiting == 16 and f.severity == "error"


def test_prime_change_order_amount_and_erp_only(t):
    t["erp_contract_change_orders"][0]["amount"] = 45_000 * D
    t["erp_contract_change_orders"].append({"job_id": "100", "co_number": "PCO-3",
                                            "amount": 12_000 * D, "posted_date": "2026-10-28",
                                            "period": PERIOD})
    found = run(t, "prime_change_orders")
    assert one(found, reference="PCO-1").difference == 5_000 * D
    eo = one(found, reference="PCO-3")
    assert eo.difference == -12_000 * D and "Pending" in eo.detail


def test_prime_change_order_booked_after_period_end_is_a_warning(t):
    t["erp_contract_change_orders"][0].update(period="2026-11", posted_date="2026-11-02")
    f = one(run(t, "prime_change_orders"), check="prime_change_orders")
    assert f.severity == "warning" and "2026-11" in f.action


# ---------------------------------------------------------------------- subcontractor invoices

def test_subcontractor_invoice_missing_in_erp(t):
    t["erp_ap_invoices"] = []
    f = one(run(t, "subcontractor_invoices"), check="subcontractor_invoices")
    assert (f.reference, f.procore_amount, f.erp_amount) == ("A-1", 200_000 * D, 0)
    assert f.days_waiting == 11


def test_subcontractor_invoice_amount_and_retainage(t):
    t["erp_ap_invoices"][0].update(amount=198_000 * D, retainage_held=10_000 * D)
    found = run(t, "subcontractor_invoices")
    assert one(found, reference="A-1").difference == 2_000 * D
    ret = one(found, reference="A-1 retainage")
    assert (ret.procore_amount, ret.erp_amount, ret.difference) == (20_000 * D, 10_000 * D,
                                                                    10_000 * D)


# ----------------------------------------------------------------------------- owner invoices

def test_owner_invoice_missing_in_erp_ar(t):
    t["erp_ar_billings"].pop()
    found = run(t, "owner_invoices")
    f = one(found, check="owner_invoices")  # one finding: billed to date is explained by it
    assert (f.reference, f.difference) == ("1002", 250_000 * D)


def test_owner_invoice_amount_and_billed_to_date(t):
    t["erp_ar_billings"][1]["amount_billed"] = 240_000 * D
    assert one(run(t, "owner_invoices"), reference="1002").difference == 10_000 * D
    t = base_tables()
    t["owner_invoices"][1]["total_completed_to_date"] = 560_000 * D  # G702 line 4 off by $10k
    f = one(run(t, "owner_invoices"), reference="billed to date")
    assert f.difference == 10_000 * D
    t = base_tables()
    t["erp_ar_billings"].append({"job_id": "100", "invoice_number": "1099",
                                 "invoice_date": "2026-10-15", "period": PERIOD,
                                 "amount_billed": 5_000 * D})
    f = one(run(t, "owner_invoices"), reference="1099")
    assert f.difference == -5_000 * D


# ----------------------------------------------------------------------------------- payments

def test_paid_in_erp_unpaid_in_procore(t):
    t["subcontractor_invoices"][0]["payment_status"] = "unpaid"
    f = one(run(t, "payments"), check="payments")
    assert (f.reference, f.erp_amount, f.days_waiting) == ("A-1", 180_000 * D, 1)
    assert f.severity == "warning"
    # Partly paid in the ERP: not a finding.
    t["erp_ap_invoices"][0]["amount_paid"] = 100_000 * D
    assert run(t, "payments").empty


# ------------------------------------------------------------------------------------ vendors

def test_vendor_in_one_system_and_near_duplicates(t):
    t["procore_vendors"].append({"vendor_name": "Brand New Electric"})
    t["erp_vendors"] += [{"vendor_id": "V3", "vendor_name": "Steel Co."},
                         {"vendor_id": "V4", "vendor_name": "Acme Concrete Incorporated"},
                         {"vendor_id": "V5", "vendor_name": "Brand-New Electrik"}]
    found = run(t, "vendors")
    refs = set(found["reference"])
    assert "Brand New Electric" in refs  # Procore only (and near the ERP's V5)
    assert any("Steel Co" in r and "Steel Co." in r for r in refs)  # same normalised name
    assert any("Brand New Electric / Brand-New Electrik" == r for r in refs)
    assert "Old Paving LLC" not in refs  # inactive ERP vendor


def test_similar_pairs_threshold():
    from wip_lib.reconcile.masters import similar_pairs
    pairs = similar_pairs(pd.Series(["acme concrete", "acme concret", "zeta steel"]))
    assert list(zip(pairs["a"], pairs["b"])) == [("acme concret", "acme concrete")]


# --------------------------------------------------------------------------------------- jobs

def test_jobs_in_one_system_or_duplicated(t):
    t["jobs"].append({"job_id": "300", "job_name": "Gamma", "status": "active",
                      "start_date": "2026-05-01"})
    t["erp_jobs"] += [{"job_id": "0200", "job_id_raw": "0200", "original_contract": 0,
                       "revised_contract": 0},
                      {"job_id": "900", "job_id_raw": "900", "status": "closed",
                       "original_contract": 0, "revised_contract": 0}]
    found = run(t, "jobs")
    assert one(found, job_id="300").severity == "warning"
    assert one(found, job_id="900").severity == "info"  # a closed ERP job
    assert "0200" in one(found, reference="0200; 200").action


# --------------------------------------------------------------------------------- sync state

def test_sync_state_stuck_items(t):
    t["prime_change_orders"][0].update(erp_status="failed_to_export",
                                       erp_status_date="2026-10-01")
    t["subcontractor_invoices"][0].update(erp_status="ready_to_export",
                                          erp_status_date="2026-10-21")
    found = run(t, "sync_state")
    co = one(found, reference="PCO-1")
    assert (co.severity, co.days_waiting, co.procore_amount) == ("error", 30, 50_000 * D)
    inv = one(found, reference="A-1")
    assert (inv.severity, inv.days_waiting) == ("warning", 10)
    assert len(found) == 2  # CO-3 and PCO-2 are ready to export but approved after period end


# ---------------------------------------------------------------------------- double counting

def test_double_counting(t):
    t["direct_costs"] += [
        {"job_id": "100", "direct_cost_id": "DC-2", "line_number": 1,
         "direct_cost_type": "invoice", "status": "approved", "direct_cost_date": "2026-10-06",
         "vendor_name": "Steel Co.", "invoice_number": "s-77", "cost_code": "05-100",
         "cost_code_raw": "05-100", "cost_type": "M", "amount": 200_000 * D},
        {"job_id": "100", "direct_cost_id": "DC-3", "line_number": 1,
         "direct_cost_type": "invoice", "status": "approved", "direct_cost_date": "2026-10-21",
         "vendor_name": "Acme", "invoice_number": "", "cost_code": "03-300",
         "cost_code_raw": "03-300", "cost_type": "S", "amount": 200_000 * D, "origin_id": "J2"},
    ]
    found = run(t, "double_counting")
    assert set(found["reference"]) == {"s-77", "DC-3"}
    assert (found["difference"] == 200_000 * D).all() and (found["severity"] == "error").all()
    assert "origin_id J2" in one(found, reference="DC-3").detail
    assert one(found, reference="s-77").cost_code == "05-100"


# ------------------------------------------------------------------------- tie-out and output

def test_tie_out_foots_with_several_findings(t):
    t["erp_job_cost"] += [_cost("03-300", 1_234_56, row="X1"), _cost("99-999", 8_000 * D, row="X2"),
                          _cost("0220", -700 * D, job="200", row="X3")]
    t["budget"][2]["job_to_date_costs"] += 4_000 * D
    findings, summary = reconcile(company(t), PERIOD)
    s = summary.set_index("job_id")
    assert s.loc["100", "variance"] == 4_000 * D - 1_234_56 - 8_000 * D
    assert (s["unexplained"] == 0).all()
    assert (s["explained"] == s["variance"]).all()
    cov = coverage(company(t), PERIOD, findings)
    assert cov["foots"].all()
    assert cov["erp_amount"].sum() == s["erp_total"].sum()
    assert tie_out(company(t), PERIOD, findings).equals(summary)


def test_cli_writes_reconciliation_csvs(t, tmp_path, monkeypatch, capsys):
    import sys
    import types

    from wip_lib.cli import main as cli
    t["erp_contract_change_orders"] = []
    fake = types.ModuleType("wip_lib.sources.readers")
    fake.load_company = lambda root: company(t)
    monkeypatch.setitem(sys.modules, "wip_lib.sources.readers", fake)
    rc = cli.main(["reconcile", str(tmp_path / "co"), "--period", PERIOD,
                   "--out", str(tmp_path / "out")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "TOTAL" in text and "Time:" in text and "prime_change_orders" in text
    out = pd.read_csv(tmp_path / "out" / "reconciliation.csv", dtype=str)
    assert list(out.columns) == FINDING_COLUMNS
    assert out.loc[0, "reference"] == "PCO-1" and out.loc[0, "difference"] == "50000.00"
    summary = pd.read_csv(tmp_path / "out" / "reconciliation_summary.csv", dtype=str)
    assert list(summary["job_id"]) == ["100", "200"]
