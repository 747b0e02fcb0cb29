"""One period, one computation: after a close, a late cost posted into the closed month.

The scenario (issue "One period, one computation"): the sample company's 2026-09 is closed; then a
late $100,000.00 AP cost dated 09/25/2026 is posted to job 00541. For 2026-10 every output must
show the same period figures, all measured against the closed 2026-09 ("closed period (store)"),
and a finding must name the $100,000.00 that today's data add to closed 2026-09. The month-end
must not restate 2026-09 silently.

Worked by hand: the late cost raises job 00541's cost to date at 2026-09 and at 2026-10 by the same
$100,000.00 (cumulative). Against the closed 2026-09 (cost to date without it), the 2026-10 period
cost of 00541 is therefore $100,000.00 higher than against a 2026-09 recomputed from today's data
(which already holds it): cost_period(closed prior) - cost_period(recomputed prior) = 10,000,000
cents, for the loss-free job (no provision on 00541 in either month).
"""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from wip_lib.core.money import parse_cents

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
JOB = "00541"
LATE = 10_000_000  # $100,000.00 in cents
JOB_COST = Path("erp") / "JCT_CURRENT__TRANSACTION.csv"


def _wip(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = ROOT / ".venv" / "bin" / "wip"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "wip_lib.cli.main"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=ROOT, timeout=900,
                          env=env)


def _post_late_cost(company: Path) -> None:
    """Append one AP cost row for job 00541 dated 09/25/2026, copied from a real 00541 row."""
    path = company / JOB_COST
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    src = next(r for r in rows[1:] if r[0] == JOB and r[head.index("Transaction_Type")] == "AP cost")
    late = dict(zip(head, src))
    late.update({"Transaction_Date": "09/25/2026", "Accounting_Date": "09/25/2026",
                 "Amount": "100000.00", "Invoice": "LATE-0925", "Description": "Late invoice",
                 "Transaction_ID": "JCT9999999"})
    with open(path, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow([late[h] for h in head])


@pytest.fixture(scope="module")
def late(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("late_cost")
    company = tmp / "company"
    shutil.copytree(SAMPLE, company, ignore=shutil.ignore_patterns("*.duckdb*"))
    env = {**__import__("os").environ, "WIP_CACHE_DIR": str(tmp / "cache"), "WIP_USER": "ci"}
    closed = _wip("close", str(company), "--period", "2026-09", env=env)
    assert closed.returncode == 0, closed.stdout + closed.stderr
    _post_late_cost(company)
    out = {"company": company, "tmp": tmp, "env": env}
    out["month_end"] = _wip("month-end", str(company), "--period", "2026-10", "--out",
                            str(tmp / "reports"), "--jobs", JOB, "--no-progress", env=env)
    out["excel"] = _wip("excel", str(company), "--period", "2026-10", "--out", str(tmp / "xl"),
                        env=env)
    out["forecast"] = _wip("forecast", str(company), "--period", "2026-10", "--out",
                           str(tmp / "fc"), env=env)
    out["reports"] = tmp / "reports" / "2026-10"
    return out


def _money(text: pd.Series) -> pd.Series:
    cents, bad = parse_cents(text.astype("string"))
    assert not bad.any()
    return cents.astype("int64")


def _schedule_csv(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "wip_schedule.csv", dtype=str, keep_default_na=False)


def test_month_end_measures_against_the_closed_period(late):
    me = late["month_end"]
    assert me.returncode == 0, me.stdout + me.stderr
    summary = json.loads((late["reports"] / "run_summary.json").read_text())
    assert summary["prior_source"] == "closed period (store)"
    assert "Prior period 2026-09: closed period (store)." in me.stdout
    s = _schedule_csv(late["reports"])
    assert set(s["prior_source"]) <= {"closed period (store)", "none (first period of the job)"}


def test_a_change_to_the_closed_month_is_a_finding_not_a_restatement(late):
    me = late["month_end"]
    f = pd.read_csv(late["reports"] / "reconciliation.csv", dtype=str, keep_default_na=False)
    hit = f[(f["check"] == "closed_period_changed") & (f["job_id"] == JOB)]
    cost = hit[hit["detail"].str.contains(" of cost ")]
    assert len(cost) == 1, f.loc[f["check"] == "closed_period_changed"].to_string()
    row = cost.iloc[0]
    assert row["severity"] == "error"
    assert int(_money(pd.Series([row["difference"]])).iloc[0]) == LATE
    assert "closed 2026-09 differs from today's data by $100,000.00 of cost on job 00541" \
        in row["detail"]
    assert "LATE-0925" in row["reference"]
    assert "reopen 2026-09" in row["action"] and "2026-10" in row["action"]
    assert "$100,000.00 of cost on job 00541" in me.stdout


def test_every_output_shows_the_same_period_figures(late):
    """Month-end CSV, Excel, forecast command, project notebook and explorer agree."""
    from wip_lib.close import bundle
    from wip_lib.reports.explorer import Explorer

    me = _schedule_csv(late["reports"]).set_index("job_id")
    summary = json.loads((late["reports"] / "run_summary.json").read_text())
    # Period revenue of every job of the period, in progress and completed this month.
    revenue = int(_money(pd.Series([summary["totals"]["revenue_period"]])).iloc[0])
    # Excel prints the period's revenue as report text.
    xl = late["excel"]
    assert xl.returncode == 0, xl.stdout + xl.stderr
    from wip_lib.core.money import report_amount
    assert f"revenue for the period {report_amount(revenue)}" in xl.stdout
    assert "Prior period 2026-09: closed period (store)." in xl.stdout
    # The forecast command writes the same forecast and flags as the month-end.
    fc = late["forecast"]
    assert fc.returncode == 0, fc.stdout + fc.stderr
    for name in ("forecast.csv", "overrun_flags.csv"):
        assert (late["tmp"] / "fc" / name).read_bytes() == (late["reports"] / name).read_bytes()
    # The project notebook read the month-end's computed period: same row for the job.
    saved = bundle.load(late["reports"] / "data")
    assert saved.prior_source == "closed period (store)"
    row = saved["schedule"].set_index("job_id").loc[JOB]
    assert int(row["revenue_period"]) == int(_money(pd.Series([me.loc[JOB, "revenue_period"]])).iloc[0])
    page = (late["reports"] / "projects" / f"{JOB}.html").read_text(encoding="utf-8")
    assert "closed period (store)" in page
    # The explorer computes the period itself, from the company folder: same figures.
    import os
    os.environ["WIP_CACHE_DIR"] = late["env"]["WIP_CACHE_DIR"]
    ex = Explorer(late["company"], "2026-10", JOB)
    assert ex.bundle.prior_source == "closed period (store)"
    mine = ex.bundle["schedule"].set_index("job_id")
    cols = ["revenue_period", "cost_period", "gross_profit_period", "earned_revenue",
            "cost_to_date", "underbillings", "overbillings"]
    pd.testing.assert_frame_equal(mine[cols], saved["schedule"].set_index("job_id")[cols])


def test_the_closed_prior_moves_the_period_cost_by_the_late_cost(late):
    """Against the closed 2026-09 the late cost lands in October's period cost of 00541; against
    a recomputed 2026-09 it would not (worked in the module docstring)."""
    from wip_lib.accounting.schedule import wip_schedule
    from wip_lib.close.period import compute_period
    from wip_lib.sources.readers import load_company

    company = load_company(late["company"])
    closed = compute_period(company, "2026-10").schedule.set_index("job_id")
    recomputed = wip_schedule(company, "2026-10").schedule.set_index("job_id")
    assert int(closed.loc[JOB, "cost_period"]) - int(recomputed.loc[JOB, "cost_period"]) == LATE
    assert int(closed.loc[JOB, "loss_provision"]) == 0


def test_verify_names_the_late_cost_in_dollars(late):
    v = _wip("close", str(late["company"]), "--period", "2026-09", "--verify", env=late["env"])
    assert v.returncode == 1, v.stdout + v.stderr
    assert "closed 2026-09 differs from today's data by $100,000.00 of cost on job 00541" \
        in v.stdout
    assert "LATE-0925" in v.stdout


BAD_OVERRIDE = "job_id,cost_code,cost_type,etc_amount,who,when,why\n00541,,,12x,ann,2026-10-31T10:00:00,quote\n"


@pytest.fixture(scope="module")
def bad_override(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad_override")
    company = tmp / "company"
    shutil.copytree(SAMPLE, company, ignore=shutil.ignore_patterns("*.duckdb*"))
    (company / "overrides").mkdir(exist_ok=True)
    (company / "overrides" / "2026-10.csv").write_text(BAD_OVERRIDE, encoding="utf-8")
    runs = {
        "forecast": _wip("forecast", str(company), "--period", "2026-10", "--out",
                         str(tmp / "fc")),
        "month-end": _wip("month-end", str(company), "--period", "2026-10", "--out",
                          str(tmp / "reports"), "--jobs", JOB, "--no-progress"),
        "excel": _wip("excel", str(company), "--period", "2026-10", "--out", str(tmp / "xl")),
        "close": _wip("close", str(company), "--period", "2026-10"),
    }
    return {"tmp": tmp, "company": company, "runs": runs}


def test_a_bad_override_row_stops_every_command_the_same_way(bad_override):
    runs = bad_override["runs"]
    messages = set()
    for name, r in runs.items():
        assert r.returncode != 0, f"{name} exited 0:\n{r.stdout}{r.stderr}"
        assert "Traceback" not in r.stderr, name
        assert "overrides/2026-10.csv" in r.stderr and "etc_amount" in r.stderr, name
        assert "row 2" in r.stderr, name
        # The problem lines (after the command's own prefix) are the same for every command.
        messages.add(tuple(line for line in r.stderr.splitlines() if "overrides/2026-10.csv" in line))
    assert len(messages) == 1, messages


def test_a_bad_override_row_writes_and_closes_nothing(bad_override):
    tmp, company = bad_override["tmp"], bad_override["company"]
    assert not (tmp / "fc").exists() or not any((tmp / "fc").iterdir())
    assert not (tmp / "reports").exists() or not any((tmp / "reports").rglob("*.*"))
    assert not (tmp / "xl").exists() or not any((tmp / "xl").iterdir())
    assert not (company / "wip_store.duckdb").exists()
