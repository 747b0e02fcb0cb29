"""``wip override``: validated before anything is written, then one row with who, why and a full
timestamp (to the second, ISO 8601, UTC offset); the schedule's ETC of the scope then adds up to
the amount, and the audit trail and the project page's override log show who, when and why.

The sample company is copied to a temporary folder; job 00104's cost code 01-310 has one cost
type (L) whose PM forecast to complete is $181,176.99 (worked from its 2026-10 budget snapshot in
the dashboards' cost-code table)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from wip_lib.cli.main import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


@pytest.fixture
def company_dir(tmp_path) -> Path:
    d = tmp_path / "sample"
    shutil.copytree(SAMPLE, d, ignore=shutil.ignore_patterns("wip_store.duckdb*", "overrides"))
    return d


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("argv, column, words", [
    (["00104", "01-310", "--etc", "12x"], "--etc", "not a money amount"),
    (["00104", "01-310", "--etc", "-5"], "--etc", "negative"),
    (["00104", "01-310", "--etc", "1.001"], "--etc", "not a money amount"),
    (["00999", "all", "--etc", "5"], "JOB", "unknown job"),
    (["00104", "99-123", "--etc", "5"], "COST_CODE", "no cost code 99-123"),
    (["00104", "01-310", "--cost-type", "Q", "--etc", "5"], "--cost-type", "no cost type Q"),
    (["00104", "01-310", "--etc", "5", "--why", " "], "--why", "blank"),
])
def test_bad_input_names_the_argument_and_writes_nothing(company_dir, capsys, argv, column,
                                                          words):
    args = ["override", *argv, "--who", "Ann Lee", "--data-dir", company_dir]
    if "--why" not in argv:
        args += ["--why", "sub quote"]
    rc, _, err = run(capsys, *args)
    assert rc != 0 and f"'{column}'" in err and words in err, err
    assert "Traceback" not in err
    assert not (company_dir / "overrides").exists()


def test_override_is_written_with_a_full_timestamp_and_used(company_dir, capsys):
    from wip_lib.accounting.overrides import audit_trail
    from wip_lib.close.bundle import from_result
    from wip_lib.close.period import compute_period
    from wip_lib.reports.dashboard import override_log
    from wip_lib.sources.readers import load_company

    rc, out, err = run(capsys, "override", "00104", "01-310", "--etc", "200,000.00", "--who",
                       "Ann Lee", "--why", "subcontractor quote <b>", "--period", "2026-10",
                       "--data-dir", company_dir)
    assert rc == 0, err
    assert "PM's forecast $181,176.99" in out and "now $200,000.00 ($18,823.01)" in out
    rows = pd.read_csv(company_dir / "overrides" / "2026-10.csv", dtype=str,
                       keep_default_na=False)
    assert rows.to_dict("records")[0] | {"when": ""} == {
        "job_id": "00104", "cost_code": "01-310", "cost_type": "", "etc_amount": "200000.00",
        "who": "Ann Lee", "when": "", "why": "subcontractor quote <b>"}
    when = rows["when"].iloc[0]
    assert STAMP.match(when), when

    company = load_company(company_dir)
    result = compute_period(company, "2026-10")
    f = result.forecast
    scope = f[(f["job_id"] == "00104") & (f["cost_code"] == "01-310")]
    assert int(scope["etc_used"].sum()) == 200_000_00       # the override, to the cent
    assert int(scope["pm_forecast"].sum()) == 181_176_99    # the PM's figure kept beside it
    audit = audit_trail(company.overrides_for("2026-10"), result.forecast)
    assert audit["when"].tolist() == [when]                 # the time of day and offset kept
    log = override_log(from_result(result), "00104")
    assert log[["who", "when", "why"]].values.tolist() == [["Ann Lee", when,
                                                            "subcontractor quote <b>"]]
    assert [int(x) for x in log[["pm_forecast", "override", "difference"]].iloc[0]] == [
        181_176_99, 200_000_00, 18_823_01]


def test_override_that_cannot_be_honoured_is_refused(company_dir, capsys):
    rc, _, err = run(capsys, "override", "00104", "01-310", "--etc", "200,000", "--who", "a",
                     "--why", "b", "--data-dir", company_dir)
    assert rc == 0, err
    # a whole-job override below the code override inside it cannot be honoured
    rc, _, err = run(capsys, "override", "00104", "all", "--etc", "5", "--who", "a", "--why",
                     "b", "--data-dir", company_dir)
    assert rc != 0 and "less than the $200,000.00" in err
    assert len(pd.read_csv(company_dir / "overrides" / "2026-10.csv")) == 1
