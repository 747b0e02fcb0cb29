"""Procore's forecast columns give the estimate: EAC = sum of Estimated Cost at Completion.

Job J, period 2026-10, contract 200,000.00 (dollars; frames hold cents). Budget snapshot 2026-10:

  line     committed  projected  FTC     ECAC (= projected + FTC)  Procore JTD  ERP cost to date
  01-100 L        0          0   40,000  40,000                    10,000       10,000
  02-200 S   60,000     60,000   30,000  90,000                    50,000       55,000

Worked by hand (the reference, "Procore's forecast columns"):
- EAC = 40,000 + 90,000 = 130,000; CTD = 65,000 (ERP); ETC = EAC - CTD = 65,000.
- p = CTD / EAC = 65,000 / 130,000 = 0.5; ER = TP x p = 100,000.00; EGP = 70,000.
- The misreading EAC = CTD + sum(FTC) = 65,000 + 70,000 = 135,000 would give p = 0.481481...
  and ER = 96,296.30: revenue understated here (and overstated wherever FTC < ECAC - JTD).
- Line ETCs: 01-100 40,000 - 10,000 = 30,000; 02-200 90,000 - 55,000 = 35,000 (sum 65,000).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_forecast import table

from wip_lib.accounting.forecast import cost_to_complete
from wip_lib.accounting.schedule import recognise
from wip_lib.core.settings import Company, Settings
from wip_lib.sources.procore_forecast import line_ecac

D = 100
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def company(ecac: dict | None = None, cost: tuple[int, int] = (10_000, 55_000),
            rule: str = "standard") -> Company:
    ecac = ecac if ecac is not None else {"01-100": 40_000, "02-200": 90_000}
    lines = [("01-100", "L", 0, 40_000, 10_000), ("02-200", "S", 60_000, 30_000, 50_000)]
    budget = [{"job_id": "J", "period": "2026-10", "cost_code": c, "cost_code_raw": c,
               "cost_type": t, "original_budget": 120_000 * D, "revised_budget": 120_000 * D,
               "committed_costs": p * D, "projected_costs": p * D,
               "forecast_to_complete": f * D, "job_to_date_costs": j * D,
               "estimated_cost_at_completion": ecac.get(c, 0) * D} for c, t, p, f, j in lines]
    costs = [{"job_id": "J", "cost_code": c, "cost_code_raw": c, "cost_type": t, "source": "AP",
              "transaction_date": "2026-10-15", "accounting_date": "2026-10-15",
              "period": "2026-10", "amount": a * D, "row_id": f"r{c}"}
             for (c, t, *_), a in zip(lines, cost)]
    return Company.from_tables(Settings(name="T", current_period="2026-10",
                                        budget_forecast=rule), {
        "jobs": table("jobs", [{"job_id": "J", "job_name": "J", "status": "active",
                                "start_date": "2026-01-01", "completion_date": "2027-06-30"}]),
        "prime_contracts": table("prime_contracts", [
            {"job_id": "J", "contract_number": "1", "status": "Approved",
             "original_amount": 200_000 * D}]),
        "budget": table("budget", budget),
        "erp_job_cost": table("erp_job_cost", costs),
    })


def test_eac_is_the_sum_of_ecac_and_recognition_follows():
    r = recognise(company(), "2026-10").set_index("job_id").loc["J"]
    assert int(r["est_total_cost"]) == 130_000 * D
    assert int(r["est_cost_to_complete"]) == 65_000 * D
    assert r["pct_complete"] == pytest.approx(0.5)
    assert int(r["earned_revenue"]) == 100_000 * D
    assert int(r["est_gross_profit"]) == 70_000 * D


def test_line_estimates_add_up_to_the_job():
    f = cost_to_complete(company(), "2026-10").set_index(["cost_code"])
    assert int(f.loc["01-100", "etc_pm"]) == 30_000 * D
    assert int(f.loc["02-200", "etc_pm"]) == 35_000 * D
    assert int(f.loc["02-200", "pm_forecast"]) == 30_000 * D  # Procore's FTC, shown beside
    assert int(f.loc["02-200", "estimated_cost_at_completion"]) == 90_000 * D
    assert int(f["etc_used"].sum()) == 65_000 * D


def test_no_ecac_column_means_projected_costs_plus_ftc():
    """Without ECAC in the export: ECAC = Projected Costs + FTC = 40,000 and 90,000 again."""
    c = company(ecac={})
    assert list(line_ecac(c["budget"], "standard")) == [40_000 * D, 90_000 * D]
    r = recognise(c, "2026-10").set_index("job_id").loc["J"]
    assert int(r["est_total_cost"]) == 130_000 * D


def test_a_view_defined_on_job_to_date():
    """``budget_forecast: job_to_date`` and no ECAC column: ECAC = JTD + FTC = 50,000 + 80,000
    = 130,000 (10,000 + 40,000 and 50,000 + 30,000)."""
    c = company(ecac={}, rule="job_to_date")
    assert list(line_ecac(c["budget"], "job_to_date")) == [50_000 * D, 80_000 * D]
    r = recognise(c, "2026-10").set_index("job_id").loc["J"]
    assert int(r["est_total_cost"]) == 130_000 * D


def test_eac_never_below_cost_to_date():
    """ECAC 40,000 + 90,000 = 130,000 but ERP cost 60,000 + 80,000 = 140,000: EAC = CTD,
    ETC 0, p = 100%, and the job is flagged (cost over the estimate)."""
    r = recognise(company(cost=(60_000, 80_000)), "2026-10").set_index("job_id").loc["J"]
    assert int(r["est_total_cost"]) == 140_000 * D
    assert int(r["est_cost_to_complete"]) == 0
    assert r["pct_complete"] == pytest.approx(1.0)
    assert "cost_over_estimate" in str(r["flag"])


def _wip(*args) -> subprocess.CompletedProcess:
    exe = ROOT / ".venv" / "bin" / "wip"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "wip_lib.cli.main"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_a_line_whose_columns_do_not_add_up_is_reported(tmp_path):
    """In the sample's 00104 snapshot of 2026-10, raise one line's ECAC by $1.00: validate names
    the file, the row and the column, and says how to fix it."""
    folder = tmp_path / "company"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("*.duckdb*"))
    path = folder / "procore" / "budget" / "00104" / "2026-10.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    col = "Estimated Cost at Completion"
    cents = int(round(float(df.loc[0, col].replace("$", "").replace(",", "").replace("(", "-")
                            .replace(")", "")) * 100)) + 100
    df.loc[0, col] = f"${cents // 100:,}.{cents % 100:02d}"
    df.to_csv(path, index=False)
    r = _wip("validate", str(folder))
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "procore/budget/00104/2026-10.csv" in out
    assert "row 2" in out and "Estimated Cost at Completion" in out
    assert "Projected Costs + Forecast To Complete" in out
    assert "budget_forecast" in out
