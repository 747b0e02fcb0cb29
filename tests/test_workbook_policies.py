"""The workbook under the contract policies (docs/policies.md): every formula recalculated by
LibreOffice still equals the Python figure when jobs are cost-plus, GMP, letters of intent, carry
pending change orders treated one by one, or are completed and still underbilled, in the gross
and the surety view; and the notes sheet states the policies.

The company (period 2026-10, dollars; each job's budget snapshot gives its ETC):
  job  contract                         type / policy                 CTD Sep/Oct       ETC Sep/Oct
  F    1,000,000 Approved               fixed price                   300,000/450,000   500,000/350,000
  C      800,000 Approved               cost plus 8%                  100,000/200,000   500,000/400,000
  G    1,000,000 Approved               GMP 5%                        300,000/450,000   500,000/350,000
  L      600,000 Out For Signature      letter of intent, est. 700,000 100,000/200,000  400,000/300,000
  U      500,000 Draft                  revenue = cost                 50,000/100,000   300,000/250,000
  P    1,000,000 Approved + CO A pending 100,000 (include 50%)         200,000/300,000   500,000/400,000
  X      500,000 Approved               fixed price, a loss            200,000/300,000   300,000/250,000
  D      400,000 Approved               completed 2026-10-20, billed 390,000  300,000/350,000  50,000/0
Billed: half of CTD each month, but D. GL at 2026-09 (gross view): X accrued loss 10,000.00,
X overbilled 0, D underbilled 25,000.00.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import require_tool
from test_forecast import table
from test_workbook import _compare, _soffice

from wip_lib.accounting import flags as flagmod
from wip_lib.accounting import forecast as fc
from wip_lib.accounting.schedule import wip_schedule
from wip_lib.close.period import PeriodResult
from wip_lib.core.settings import Company, Settings
from wip_lib.reconcile.core import empty_findings
from wip_lib.reconcile.tieout import TIE_OUT_COLUMNS
from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel.sheet_names import NOTES_AND_POLICIES
from wip_lib.reports.excel.workbook import build_wip_workbook

D = 100
JOBS = {  # job: (contract, status, CTD Sep, CTD Oct, ETC Sep, ETC Oct)
    "F": (1_000_000, "Approved", 300_000, 450_000, 500_000, 350_000),
    "C": (800_000, "Approved", 100_000, 200_000, 500_000, 400_000),
    "G": (1_000_000, "Approved", 300_000, 450_000, 500_000, 350_000),
    "L": (600_000, "Out For Signature", 100_000, 200_000, 400_000, 300_000),
    "U": (500_000, "Draft", 50_000, 100_000, 300_000, 250_000),
    "P": (1_000_000, "Approved", 200_000, 300_000, 500_000, 400_000),
    "X": (500_000, "Approved", 200_000, 300_000, 300_000, 250_000),
    "D": (400_000, "Approved", 300_000, 350_000, 50_000, 0),
}
POLICIES = {
    "contract_types": {"jobs": {"C": {"type": "cost_plus", "fee": 0.08},
                                "G": {"type": "gmp", "fee": 0.05},
                                "L": {"type": "letter_of_intent", "estimated_contract": 700_000}}},
    "pending_change_orders": {"change_orders": [
        {"job": "P", "change_order": "A", "treatment": "include_percent", "percent": 0.5}]},
}


def company(net: bool) -> Company:
    s = Settings.from_mapping({"name": "Policy & Co", "current_period": "2026-10",
                               "policies": {**POLICIES, "net_loss_provision": net}})
    periods = ("2026-09", "2026-10")
    billed = {j: [v[2] // 2, (v[3] - v[2]) // 2] for j, v in JOBS.items()}
    billed["D"] = [275_000, 115_000]  # 390,000: 10,000 short of the final contract
    return Company.from_tables(s, {
        "jobs": table("jobs", [{"job_id": j, "job_name": f"Job {j}",
                                "status": "complete" if j == "D" else "active",
                                "start_date": "2026-01-01",
                                "completion_date": "2026-10-20" if j == "D" else "2027-06-30"}
                               for j in JOBS]),
        "prime_contracts": table("prime_contracts", [
            {"job_id": j, "contract_number": "1", "status": v[1], "original_amount": v[0] * D}
            for j, v in JOBS.items()]),
        "prime_change_orders": table("prime_change_orders", [
            {"job_id": "P", "contract_number": "1", "co_number": "A", "status": "Pending",
             "status_family": "pending", "created_date": "2026-08-01", "amount": 100_000 * D}]),
        "budget": table("budget", [
            {"job_id": j, "period": p, "cost_code": "01-100", "cost_code_raw": "01-100",
             "cost_type": "L", "original_budget": (v[2] + v[4]) * D,
             "revised_budget": (v[2] + v[4]) * D, "forecast_to_complete": v[4 + k] * D,
             "job_to_date_costs": v[2 + k] * D, "projected_costs": v[2 + k] * D,
             "estimated_cost_at_completion": (v[2 + k] + v[4 + k]) * D}
            for j, v in JOBS.items() for k, p in enumerate(periods)]),
        "erp_job_cost": table("erp_job_cost", [
            {"job_id": j, "cost_code": "01-100", "cost_code_raw": "01-100", "cost_type": "L",
             "source": "AP", "transaction_date": f"{p}-15", "accounting_date": f"{p}-15",
             "period": p, "amount": (v[2] if k == 0 else v[3] - v[2]) * D,
             "row_id": f"{j}{p}"} for j, v in JOBS.items() for k, p in enumerate(periods)]),
        "erp_ar_billings": table("erp_ar_billings", [
            {"job_id": j, "invoice_number": f"{j}-{k}", "invoice_date": f"{p}-25", "period": p,
             "amount_billed": billed[j][k] * D, "retainage": billed[j][k] * 10,
             "amount_paid": 0} for j in JOBS for k, p in enumerate(periods)]),
        "gl_balances": table("gl_balances", [
            {"period": "2026-09", "account": "2160", "job_id": "X", "balance": -1_000_000},
            {"period": "2026-09", "account": "1250", "job_id": "D", "balance": 2_500_000}]),
    })


def period_result(c: Company) -> PeriodResult:
    """The period as compute_period computes it, without the reconciliation (this company has no
    commitments or invoices to reconcile)."""
    wip = wip_schedule(c, "2026-10")
    jobs = fc.job_summary(c, "2026-10", wip.forecast, schedule=wip.schedule)
    flags = flagmod.overrun_flags(wip.forecast, None, None, jobs, c.settings)
    return PeriodResult(c.settings.name, "2026-10", wip, wip.forecast, flags,
                        flagmod.risk_ranking(flags), jobs, empty_findings(),
                        pd.DataFrame(columns=TIE_OUT_COLUMNS), pd.DataFrame(), pd.DataFrame(),
                        c.settings)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    soffice = _soffice() or require_tool("soffice", "LibreOffice recalculates the workbook")
    tmp = tmp_path_factory.mktemp("wbp")
    built = {}
    for name, net in (("gross", False), ("net", True)):
        c = company(net)
        result = period_result(c)
        b = build_wip_workbook(result, settings=c.settings)
        built[name] = (b.checks, xl.save(b.workbook, tmp / "in" / f"{name}.xlsx"), result)
    out = tmp / "calc"
    proc = subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp / 'lo').as_uri()}", "--headless", "--norestore",
         "--convert-to", "xlsx", "--outdir", str(out), *[str(p) for _, p, _ in built.values()]],
        capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(tmp)})
    assert proc.returncode == 0, proc.stderr
    return {k: (checks, src, out / src.name, result) for k, (checks, src, result) in built.items()}


@pytest.mark.parametrize("case", ["gross", "net"])
def test_every_formula_equals_the_python_figure(recalculated, case):
    checks, src, calc, result = recalculated[case]
    s = result.wip.schedule.set_index("job_id")
    # The company is what the docstring says: every rule is in play.
    assert s.loc["C", "recognition_basis"] == "cost_plus"
    assert s.loc["G", "recognition_basis"] == "cost_plus"
    assert "letter_of_intent" in s.loc["L", "flag"] and "letter_of_intent" in s.loc["U", "flag"]
    assert s.loc["P", "change_orders_pending_included"] == 50_000 * D
    assert s.loc["X", "loss_provision"] > 0
    assert s.loc["D", "underbillings"] == 10_000 * D
    n, bad = _compare(checks, src, calc)
    assert not bad, f"{len(bad)} of {n} formula cells differ, first: {bad[:5]}"


def test_the_notes_sheet_states_the_policies(recalculated):
    _, src, _, _ = recalculated["gross"]
    ws = openpyxl.load_workbook(src)[NOTES_AND_POLICIES]
    text = {str(r[0].value): str(r[1].value) for r in ws.iter_rows(min_col=1, max_col=2)
            if r[0].value}
    assert "job C: cost plus, fee 8% on cost" in text["Contract types"]
    assert "job L: letter of intent, estimated contract value $700,000.00" in \
        text["Contract types"]
    assert "job P CO A: included at a percent of their amount 50%" in \
        text["Pending change orders (ASC 606-10-32-11)"]
    assert "Revenue = cost until priced" in text["Jobs without a signed contract (letter of intent)"]
    assert text["Uninstalled materials"].startswith("None recorded")
    assert "withheld - released and collected" in text["Retainage"]
    assert "sum of the jobs' cents" in text["Rounding"]


def test_docs_state_every_policy():
    from wip_lib.core.settings import DEFAULT_POLICIES
    doc = (Path(__file__).resolve().parents[1] / "docs" / "policies.md").read_text()
    for key in DEFAULT_POLICIES:
        assert f"{key}:" in doc, key
