"""Cost to complete: every ETC method worked by hand on a small company built in memory.

Company "T", period 2026-10 (figures in dollars; the frames hold cents):

Job 100 (start 2026-01-01, scheduled completion 2027-01-31: 3 months remaining after 2026-10)
  code    type revised  PM ETC  committed invoiced  ERP cost (period)
  01-100  L    100,000  40,000  -         -         ERP code 0100: 10k (06), 20k (08), 15k (09),
                                                    15k (10), 99,999 (11: after the period)
  02-200  S     50,000   5,000  60,000    30,000    30k (09)
  03-300  M     30,000  20,000  20,000    10,000    ERP code 300J: 12k (10); pending CO 4,000
  04-400  E     10,000       0  -         -         10k (05)
  09-999  O     (no budget line)                    2,500 (10)
SC-1 (committed, invoiced 40,000) has lines 02-200 S 60,000 and 03-300 M 20,000: invoiced spreads
30,000 / 10,000. PO-2 is pending (not committed). Crosswalk: 0100 -> 01-100 (every job);
300J -> 03-300 for job 100 beats the blank-job 300J -> 03-301.
Job 200 (start 2026-07-01, completion 2027-06-30: 8 months remaining): 05-500 L revised 100,000,
PM ETC 10,000, cost 60,000 (10).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from wip_lib.core import schema
from wip_lib.core.settings import Company, Settings
from wip_lib.core.errors import PeriodError
from wip_lib.accounting.forecast import (COLUMNS, SOURCE_OVERRIDE, SOURCE_PM, cost_to_complete,
                              erp_cost_history, job_etc, job_summary)
from wip_lib.core.codes import erp_to_procore

D = 100  # cents per dollar
ROOT = Path(__file__).resolve().parents[1]


def table(name: str, rows: list[dict]) -> pd.DataFrame:
    """A canonical table from a few rows: missing columns take their schema default."""
    t = schema.get(name)
    df = pd.DataFrame(rows)
    out = {}
    for c in t.columns:
        if c.name in df:
            s = df[c.name]
        else:
            s = pd.Series([c.default] * len(df), dtype=object)
        if c.kind == "date":
            s = pd.to_datetime(s)
        elif c.kind == "money":
            s = s.fillna(0)
        out[c.name] = s.astype(c.dtype) if len(df) else pd.Series(dtype=c.dtype)
    return pd.DataFrame(out)


def budget_row(job, period, code, ctype, revised, ftc, **kw):
    return {"job_id": job, "period": period, "cost_code": code, "cost_code_raw": code,
            "cost_type": ctype, "original_budget": revised * D, "revised_budget": revised * D,
            "forecast_to_complete": ftc * D, **{k: v * D for k, v in kw.items()}}


def cost_row(i, job, code, ctype, period, amount, commitment=""):
    return {"job_id": job, "cost_code": code, "cost_code_raw": code, "cost_type": ctype,
            "source": "AP", "transaction_date": f"{period}-15", "accounting_date": f"{period}-15",
            "period": period, "amount": amount * D, "commitment_number": commitment,
            "row_id": f"r{i}"}


def build_tables() -> dict[str, pd.DataFrame]:
    budget = []
    for period, ftc_200 in (("2026-08", 8_000), ("2026-09", 5_000), ("2026-10", 5_000)):
        budget += [
            budget_row("100", period, "01-100", "L", 100_000, 40_000),
            budget_row("100", period, "02-200", "S", 50_000, ftc_200),
            budget_row("100", period, "03-300", "M", 30_000, 20_000),
            budget_row("100", period, "04-400", "E", 10_000, 0),
        ]
    budget.append(budget_row("200", "2026-10", "05-500", "L", 100_000, 10_000))
    costs = [
        ("100", "0100", "L", "2026-06", 10_000), ("100", "0100", "L", "2026-08", 20_000),
        ("100", "0100", "L", "2026-09", 15_000), ("100", "0100", "L", "2026-10", 15_000),
        ("100", "0100", "L", "2026-11", 99_999),
        ("100", "02-200", "S", "2026-09", 30_000),
        ("100", "300J", "M", "2026-10", 12_000),
        ("100", "04-400", "E", "2026-05", 10_000),
        ("100", "09-999", "O", "2026-10", 2_500),
        ("200", "05-500", "L", "2026-10", 60_000),
    ]
    return {
        "jobs": table("jobs", [
            {"job_id": "100", "job_name": "Clinic", "status": "active",
             "start_date": "2026-01-01", "completion_date": "2027-01-31"},
            {"job_id": "200", "job_name": "School", "status": "active",
             "start_date": "2026-07-01", "completion_date": "2027-06-30"},
        ]),
        "budget": table("budget", budget),
        "commitments": table("commitments", [
            {"job_id": "100", "commitment_number": "SC-1", "commitment_type": "subcontract",
             "vendor_name": "Steel Co", "status": "Approved", "status_family": "committed",
             "original_amount": 80_000 * D, "revised_amount": 80_000 * D, "invoiced": 40_000 * D},
            {"job_id": "100", "commitment_number": "PO-2", "commitment_type": "purchase_order",
             "vendor_name": "Supply", "status": "Draft", "status_family": "pending",
             "original_amount": 7_000 * D, "revised_amount": 7_000 * D},
        ]),
        "commitment_lines": table("commitment_lines", [
            {"job_id": "100", "commitment_number": "SC-1", "line_number": 1,
             "cost_code": "02-200", "cost_code_raw": "02-200", "cost_type": "S",
             "amount": 60_000 * D},
            {"job_id": "100", "commitment_number": "SC-1", "line_number": 2,
             "cost_code": "03-300", "cost_code_raw": "03-300", "cost_type": "M",
             "amount": 20_000 * D},
            {"job_id": "100", "commitment_number": "PO-2", "line_number": 1,
             "cost_code": "01-100", "cost_code_raw": "01-100", "cost_type": "L",
             "amount": 7_000 * D},
        ]),
        "commitment_change_orders": table("commitment_change_orders", [
            {"job_id": "100", "commitment_number": "SC-1", "co_number": "1", "status": "Pending",
             "status_family": "pending", "cost_code": "03-300", "cost_code_raw": "03-300",
             "cost_type": "M", "amount": 4_000 * D},
            {"job_id": "100", "commitment_number": "SC-1", "co_number": "2", "status": "Void",
             "status_family": "excluded", "cost_code": "03-300", "cost_code_raw": "03-300",
             "cost_type": "M", "amount": 9_000 * D},
        ]),
        "erp_job_cost": table("erp_job_cost", [cost_row(i, *c) for i, c in enumerate(costs)]),
        "cost_code_crosswalk": table("cost_code_crosswalk", [
            {"procore_cost_code": "01-100", "erp_cost_code": "0100", "job_id": ""},
            {"procore_cost_code": "03-301", "erp_cost_code": "300J", "job_id": ""},
            {"procore_cost_code": "03-300", "erp_cost_code": "300J", "job_id": "100"},
        ]),
        "prime_contracts": table("prime_contracts", [
            {"job_id": "100", "contract_number": "1", "status": "Approved",
             "original_amount": 200_000 * D},
            {"job_id": "200", "contract_number": "1", "status": "Approved",
             "original_amount": 120_000 * D},
            {"job_id": "200", "contract_number": "2", "status": "Draft",
             "original_amount": 999_000 * D},
        ]),
        "prime_change_orders": table("prime_change_orders", [
            {"job_id": "200", "contract_number": "1", "co_number": "1", "status": "Approved",
             "status_family": "approved", "amount": 10_000 * D, "approved_date": "2026-10-05"},
        ]),
    }


SETTINGS = Settings(name="T", current_period="2026-10")


def make_company(root: Path | None = None, **replace) -> Company:
    tables = build_tables()
    tables.update(replace)
    return Company.from_tables(SETTINGS, tables, root=root)


@pytest.fixture(scope="module")
def fc() -> pd.DataFrame:
    return cost_to_complete(make_company(), "2026-10")


def row(df, job, code, ctype) -> pd.Series:
    hit = df[(df["job_id"] == job) & (df["cost_code"] == code) & (df["cost_type"] == ctype)]
    assert len(hit) == 1, hit
    return hit.iloc[0]


def dollars(r: pd.Series, cols) -> dict:
    return {c: int(r[c]) / D for c in cols}


def test_shape_and_dtypes(fc):
    assert list(fc.columns) == COLUMNS
    assert list(zip(fc["job_id"], fc["cost_code"], fc["cost_type"])) == [
        ("100", "01-100", "L"), ("100", "02-200", "S"), ("100", "03-300", "M"),
        ("100", "04-400", "E"), ("100", "09-999", "O"), ("200", "05-500", "L")]
    for c in ("revised_budget", "committed", "cost_to_date", "etc_trend", "eac_used"):
        assert fc[c].dtype == "int64"
    assert set(fc["etc_source"]) == {SOURCE_PM}


def test_code_with_no_commitment_and_crosswalked_cost(fc):
    r = row(fc, "100", "01-100", "L")
    assert dollars(r, ["revised_budget", "committed", "invoiced_against_commitments",
                       "committed_remaining", "uncommitted_budget", "cost_to_date",
                       "cost_last_3_periods", "pm_forecast"]) == {
        "revised_budget": 100_000, "committed": 0, "invoiced_against_commitments": 0,
        "committed_remaining": 0, "uncommitted_budget": 100_000, "cost_to_date": 60_000,
        "cost_last_3_periods": 50_000, "pm_forecast": 40_000}
    # remaining budget 100k-60k; committed 0+100k; PM 40k; trend 50k/3 * 3 months = 50k
    assert dollars(r, ["etc_remaining_budget", "etc_committed", "etc_pm", "etc_trend"]) == {
        "etc_remaining_budget": 40_000, "etc_committed": 100_000, "etc_pm": 40_000,
        "etc_trend": 50_000}
    assert dollars(r, ["eac_remaining_budget", "eac_committed", "eac_pm", "eac_trend"]) == {
        "eac_remaining_budget": 100_000, "eac_committed": 160_000, "eac_pm": 100_000,
        "eac_trend": 110_000}
    assert dollars(r, ["variance_remaining_budget", "variance_committed", "variance_pm",
                       "variance_trend", "variance_used"]) == {
        "variance_remaining_budget": 0, "variance_committed": -60_000, "variance_pm": 0,
        "variance_trend": -10_000, "variance_used": 0}
    assert r["months_remaining"] == 3
    assert r["budget_snapshot"] == "2026-10"


def test_over_committed_code_pro_rata_invoiced(fc):
    r = row(fc, "100", "02-200", "S")
    assert dollars(r, ["committed", "invoiced_against_commitments", "committed_remaining",
                       "uncommitted_budget", "cost_to_date"]) == {
        "committed": 60_000, "invoiced_against_commitments": 30_000,
        "committed_remaining": 30_000, "uncommitted_budget": 0, "cost_to_date": 30_000}
    assert dollars(r, ["etc_remaining_budget", "etc_committed", "etc_pm", "etc_trend"]) == {
        "etc_remaining_budget": 20_000, "etc_committed": 30_000, "etc_pm": 5_000,
        "etc_trend": 30_000}
    assert dollars(r, ["variance_committed", "variance_pm", "variance_trend"]) == {
        "variance_committed": -10_000, "variance_pm": 15_000, "variance_trend": -10_000}


def test_negative_variance_pending_cos_and_job_specific_crosswalk(fc):
    r = row(fc, "100", "03-300", "M")
    assert dollars(r, ["committed", "invoiced_against_commitments", "committed_remaining",
                       "uncommitted_budget", "pending_cost_changes", "cost_to_date"]) == {
        "committed": 20_000, "invoiced_against_commitments": 10_000,
        "committed_remaining": 10_000, "uncommitted_budget": 10_000,
        "pending_cost_changes": 4_000, "cost_to_date": 12_000}
    assert dollars(r, ["etc_remaining_budget", "etc_committed", "etc_pm", "etc_trend"]) == {
        "etc_remaining_budget": 18_000, "etc_committed": 20_000, "etc_pm": 20_000,
        "etc_trend": 12_000}
    assert dollars(r, ["eac_used", "variance_used", "variance_trend"]) == {
        "eac_used": 32_000, "variance_used": -2_000, "variance_trend": 6_000}
    assert not (fc["cost_code"] == "03-301").any()


def test_zero_remaining_budget(fc):
    r = row(fc, "100", "04-400", "E")
    assert dollars(r, ["etc_remaining_budget", "etc_committed", "etc_pm", "etc_trend",
                       "eac_remaining_budget", "variance_remaining_budget"]) == {
        "etc_remaining_budget": 0, "etc_committed": 10_000, "etc_pm": 0, "etc_trend": 0,
        "eac_remaining_budget": 10_000, "variance_remaining_budget": 0}


def test_cost_on_code_without_budget(fc):
    r = row(fc, "100", "09-999", "O")
    assert dollars(r, ["revised_budget", "pm_forecast", "cost_to_date", "etc_remaining_budget",
                       "etc_committed", "etc_trend", "eac_used", "variance_used"]) == {
        "revised_budget": 0, "pm_forecast": 0, "cost_to_date": 2_500,
        "etc_remaining_budget": 0, "etc_committed": 0, "etc_trend": 2_500, "eac_used": 2_500,
        "variance_used": -2_500}
    assert r["budget_snapshot"] == "" and r["description"] == ""


def test_trend_months_and_schedule(fc):
    r = row(fc, "200", "05-500", "L")
    assert r["months_remaining"] == 8
    assert int(r["etc_trend"]) == 160_000 * D  # 60k over the last 3 periods / 3 * 8 months
    assert r["time_elapsed"] == pytest.approx(122 / 364)


def test_trend_guards():
    jobs = build_tables()["jobs"]
    jobs.loc[jobs["job_id"] == "200", "completion_date"] = pd.NaT  # no date: remaining budget
    jobs.loc[jobs["job_id"] == "100", "completion_date"] = pd.Timestamp("2026-09-30")  # past it
    fc = cost_to_complete(make_company(jobs=jobs), "2026-10")
    assert int(row(fc, "200", "05-500", "L")["etc_trend"]) == 40_000 * D
    assert (fc.loc[fc["job_id"] == "100", "etc_trend"] == 0).all()
    assert (fc.loc[fc["job_id"] == "100", "months_remaining"] == 0).all()


def test_earlier_period_uses_that_snapshot_and_cost():
    fc = cost_to_complete(make_company(), "2026-08")
    r = row(fc, "100", "02-200", "S")
    assert int(r["pm_forecast"]) == 8_000 * D and r["budget_snapshot"] == "2026-08"
    assert int(row(fc, "100", "01-100", "L")["cost_to_date"]) == 30_000 * D
    # job 200 has no snapshot before 2026-10 and no cost yet: no rows
    assert not (fc["job_id"] == "200").any()


def test_snapshot_falls_back_to_latest_before_period():
    fc = cost_to_complete(make_company(), "2026-12")
    r = row(fc, "100", "02-200", "S")
    assert r["budget_snapshot"] == "2026-10" and int(r["pm_forecast"]) == 5_000 * D
    assert int(row(fc, "100", "01-100", "L")["cost_to_date"]) == 159_999 * D


def test_crosswalk_inversion_rules():
    cost = pd.DataFrame({"job_id": ["100", "300", "100"], "cost_code": ["300J", "300J", "77"]})
    cw = build_tables()["cost_code_crosswalk"]
    out = cost.assign(erp_cost_code=cost["cost_code"], cost_code=erp_to_procore(cw, cost))
    assert list(out["cost_code"]) == ["03-300", "03-301", "77"]
    assert list(out["erp_cost_code"]) == ["300J", "300J", "77"]


def test_erp_cost_history_in_procore_codes():
    h = erp_cost_history(make_company(), "2026-10")
    got = h[(h["job_id"] == "100") & (h["cost_code"] == "01-100")]
    assert list(got["period"]) == ["2026-06", "2026-08", "2026-09", "2026-10"]
    assert got["amount"].sum() == 60_000 * D


def test_job_etc_sums_etc_used(fc):
    j = job_etc(fc)
    assert list(j.columns) == ["job_id", "est_cost_to_complete", "etc_source"]
    assert dict(zip(j["job_id"], j["est_cost_to_complete"])) == {"100": 65_000 * D,
                                                                 "200": 10_000 * D}
    assert set(j["etc_source"]) == {SOURCE_PM}
    ov = fc.copy()
    ov.loc[0, "etc_source"] = SOURCE_OVERRIDE
    assert job_etc(ov).set_index("job_id").loc["100", "etc_source"] == SOURCE_OVERRIDE


def test_job_summary(fc):
    s = job_summary(make_company(), "2026-10", fc).set_index("job_id")
    # job 100: contract 200k; EAC 100k + 35k + 32k + 10k + 2.5k = 179.5k; bid: 200k - 190k budget
    assert int(s.loc["100", "contract_revised"]) == 200_000 * D
    assert int(s.loc["100", "est_total_cost"]) == 179_500 * D
    assert s.loc["100", "est_gp_pct"] == pytest.approx(20_500 / 200_000)
    assert s.loc["100", "bid_gp_pct"] == pytest.approx(10_000 / 200_000)
    # prior (2026-09): EAC 45k+40k, 30k+5k, 0+20k, 10k+0 = 150k
    assert s.loc["100", "prior_est_gp_pct"] == pytest.approx(50_000 / 200_000)
    # job 200: the Draft contract is left out; the CO approved in October counts now, not before
    assert int(s.loc["200", "contract_revised"]) == 130_000 * D
    assert pd.isna(s.loc["200", "prior_est_gp_pct"])


def test_empty_company():
    fc = cost_to_complete(Company.from_tables(SETTINGS, {}), "2026-10")
    assert fc.empty and list(fc.columns) == COLUMNS
    assert job_etc(fc).empty


def test_bad_period():
    with pytest.raises(PeriodError):
        cost_to_complete(make_company(), "2026-13")


def test_forecast_command(tmp_path, monkeypatch, capsys):
    import wip_lib.sources.readers
    from wip_lib.cli.main import main
    monkeypatch.setattr(wip_lib.sources.readers, "load_company", lambda root: make_company(root))
    out = tmp_path / "out"
    assert main(["forecast", str(tmp_path), "--period", "2026-10", "--out", str(out)]) == 0
    fc = pd.read_csv(out / "forecast.csv", dtype=str, keep_default_na=False)
    assert len(fc) == 6
    assert fc.loc[fc["cost_code"] == "02-200", "etc_pm"].iloc[0] == "5000.00"
    flags = pd.read_csv(out / "overrun_flags.csv", dtype=str, keep_default_na=False)
    assert list(flags.columns) == ["job_id", "cost_code", "cost_type", "flag", "dollar_impact",
                                   "message"]
    assert ("02-200", "commitment_over_budget", "10000.00") in set(
        zip(flags["cost_code"], flags["flag"], flags["dollar_impact"]))
    text = capsys.readouterr().out
    assert "Top" in text and "1. Job" in text


SAMPLE = ROOT / "data" / "sample"

# answer-key situation -> the flag that must catch it with the answer key's amount
SITUATION_FLAGS = {
    "Loss job": "loss_job",
    "Margin fade": "margin_fade",
    "Stale forecast": "stale_forecast",
    "Commitment above": "commitment_over_budget",
}


def test_sample_company_planted_situations_are_flagged(tmp_path):
    """Each planted forecast situation is flagged with the answer key's dollar impact, and no
    job the sample planted clean carries any flag."""
    wip = ROOT / ".venv" / "bin" / "wip"
    cmd = [str(wip)] if wip.exists() else [sys.executable, "-m", "wip_lib.cli.main"]
    done = subprocess.run([*cmd, "forecast", str(SAMPLE), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    flags = pd.read_csv(tmp_path / "overrun_flags.csv", dtype=str, keep_default_na=False)
    key = pd.read_csv(SAMPLE / "answer_key.csv", dtype=str, keep_default_na=False)
    checked = 0
    for rec in key.to_dict("records"):
        for prefix, flag in SITUATION_FLAGS.items():
            if not rec["situation"].startswith(prefix):
                continue
            hit = flags[(flags["job_id"] == rec["job_id"]) & (flags["flag"] == flag)]
            if rec["cost_code"]:
                hit = hit[hit["cost_code"] == rec["cost_code"]]
            assert len(hit) == 1, (rec, flags[flags["job_id"] == rec["job_id"]])
            assert hit["dollar_impact"].iloc[0] == f"{abs(float(rec['amount'])):.2f}", rec
            checked += 1
    assert checked == 4
    planted = set(key["job_id"])
    assert set(flags["job_id"]) <= planted, sorted(set(flags["job_id"]) - planted)
