"""Controller ETC overrides: exact effect on etc_used, the audit trail and bad files.

Job 100's PM forecast (dollars): 01-100 L 40,000; 02-200 S 5,000; 03-300 M 20,000; 04-400 E 0;
09-999 O 0 -> 65,000 (see test_forecast).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_forecast import D, make_company

from wip_lib.accounting.forecast import SOURCE_OVERRIDE, SOURCE_PM, cost_to_complete, job_etc
from wip_lib.accounting.overrides import apply_overrides, audit_trail
from wip_lib.core.errors import InputError
from wip_lib.core.settings import Company
from wip_lib.sources.overrides_file import (
    HEADERS,
    read_all_overrides,
    read_overrides,
    write_override,
)


@pytest.fixture(scope="module")
def fc():
    return cost_to_complete(make_company(), "2026-10")


def ov(*rows) -> pd.DataFrame:
    """Overrides in memory: (job, code, type, dollars)."""
    return pd.DataFrame({
        "job_id": [r[0] for r in rows], "cost_code": [r[1] for r in rows],
        "cost_type": [r[2] for r in rows],
        "etc_amount": pd.Series([round(r[3] * D) for r in rows], dtype="int64"),
        "who": "cfo", "when": pd.Timestamp("2026-10-31T12:00:00"), "why": "subcontractor quote",
        "_file": "overrides/2026-10.csv", "_row": range(2, 2 + len(rows)),
    })


def etc(df) -> dict:
    return {(j, c, t): int(e) for j, c, t, e in
            zip(df["job_id"], df["cost_code"], df["cost_type"], df["etc_used"])}


def test_code_level_override_replaces_that_code(fc):
    out = apply_overrides(fc, ov(("100", "03-300", "M", 25_000)))
    before, after = etc(fc), etc(out)
    assert after[("100", "03-300", "M")] == 25_000 * D
    assert {k: v for k, v in after.items() if k != ("100", "03-300", "M")} == \
        {k: v for k, v in before.items() if k != ("100", "03-300", "M")}
    r = out[out["cost_code"] == "03-300"].iloc[0]
    assert r["etc_source"] == SOURCE_OVERRIDE and int(r["pm_forecast"]) == 20_000 * D
    assert int(r["eac_used"]) == 37_000 * D and int(r["variance_used"]) == -7_000 * D
    assert (out.loc[out["cost_code"] != "03-300", "etc_source"] == SOURCE_PM).all()


def test_job_level_override_total_is_exact(fc):
    out = apply_overrides(fc, ov(("100", "", "", 100_000)))
    e = etc(out)
    # pro rata to PM forecast 40k : 5k : 20k, cumulative half-up rounding in cents
    assert e[("100", "01-100", "L")] == 6_153_846
    assert e[("100", "02-200", "S")] == 769_231
    assert e[("100", "03-300", "M")] == 3_076_923
    assert e[("100", "04-400", "E")] == 0 and e[("100", "09-999", "O")] == 0
    j = job_etc(out).set_index("job_id")
    assert int(j.loc["100", "est_cost_to_complete"]) == 100_000 * D
    assert j.loc["100", "etc_source"] == SOURCE_OVERRIDE
    assert int(j.loc["200", "est_cost_to_complete"]) == 10_000 * D
    assert j.loc["200", "etc_source"] == SOURCE_PM


def test_job_override_with_code_override_inside(fc):
    out = apply_overrides(fc, ov(("100", "", "", 100_000), ("100", "03-300", "M", 25_000)))
    e = etc(out)
    assert e[("100", "03-300", "M")] == 2_500_000
    # remaining 75k over 01-100 and 02-200 (40k : 5k)
    assert e[("100", "01-100", "L")] == 6_666_667 and e[("100", "02-200", "S")] == 833_333
    assert int(job_etc(out).set_index("job_id").loc["100", "est_cost_to_complete"]) == 100_000 * D


def test_job_override_where_pm_forecast_is_zero_spreads_on_committed_then_equally(fc):
    zero = fc.copy()
    zero.loc[zero["job_id"] == "100", "pm_forecast"] = 0
    out = apply_overrides(zero, ov(("100", "", "", 1_000)))
    assert sum(v for k, v in etc(out).items() if k[0] == "100") == 1_000 * D
    z = fc[fc["job_id"] == "200"].copy()
    z[["pm_forecast", "etc_committed"]] = 0
    out = apply_overrides(z, ov(("200", "", "", 0.01)))
    assert etc(out) == {("200", "05-500", "L"): 1}


def test_later_row_supersedes_and_audit_trail(fc):
    o = ov(("100", "03-300", "M", 30_000), ("100", "03-300", "M", 25_000),
           ("100", "", "", 100_000))
    out = apply_overrides(fc, o)
    assert etc(out)[("100", "03-300", "M")] == 25_000 * D
    a = audit_trail(o, out)
    assert list(a.columns) == ["who", "when", "why", "job_id", "cost_code", "cost_type",
                               "pm_forecast", "override", "difference", "status", "file", "row"]
    assert list(a["status"]) == ["superseded", "applied", "applied"]
    assert [int(x) for x in a["pm_forecast"]] == [20_000 * D, 20_000 * D, 65_000 * D]
    assert [int(x) for x in a["difference"]] == [10_000 * D, 5_000 * D, 35_000 * D]
    assert list(a["why"]) == ["subcontractor quote"] * 3


def test_override_that_cannot_be_honoured(fc):
    with pytest.raises(InputError) as e:
        apply_overrides(fc, ov(("100", "", "", 10_000), ("100", "03-300", "M", 25_000)))
    assert "row 2" in str(e.value) and "less than the $25,000.00" in str(e.value)


def write(root: Path, lines: list[str]) -> None:
    (root / "overrides").mkdir(parents=True, exist_ok=True)
    (root / "overrides" / "2026-10.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


GOOD = "100,03-300,M,\"25,000.00\",ann,2026-10-31T10:00:00,sub quote came in"


def test_bad_override_rows_are_problems(tmp_path, fc):
    write(tmp_path, [",".join(HEADERS), GOOD,
                     "999,,,100.00,ann,2026-10-31T10:00:00,typo job",                 # row 3
                     "100,,,12.34x,ann,2026-10-31T10:00:00,bad money",                 # row 4
                     "100,,,100.00,ann,2026-10-31T10:00:00,",                           # row 5
                     "100,77-777,,100.00,ann,2026-10-31T10:00:00,no such code",         # row 6
                     "100,,,100.00,ann,yesterday,bad date",                             # row 7
                     "100,,,(500.00),ann,2026-10-31T10:00:00,negative",                 # row 8
                     "100,03-300,Z,100.00,ann,2026-10-31T10:00:00,no such type",        # row 9
                     "100,,,,ann,2026-10-31T10:00:00,no amount"])                       # row 10
    got, problems = read_overrides(tmp_path, "2026-10", known=fc)
    assert list(got["_row"]) == [2] and int(got["etc_amount"].iloc[0]) == 25_000 * D
    by_row = {p.row: p for p in problems}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert all(p.file == "overrides/2026-10.csv" for p in problems)
    expect = {3: ("job_id", "999", "unknown job"),
              4: ("etc_amount", "12.34x", "not a money amount"),
              5: ("why", "", "why is blank"),
              6: ("cost_code", "77-777", "has no cost code 77-777"),
              7: ("when", "yesterday", "not an ISO date-time"),
              8: ("etc_amount", "(500.00)", "negative"),
              9: ("cost_type", "Z", "has no cost type Z on cost code 03-300"),
              10: ("etc_amount", "", "etc_amount is blank")}
    for r, (col, value, text) in expect.items():
        p = by_row[r]
        assert (p.column, p.value) == (col, value), p
        assert text in p.message, p
        assert p.fix
    assert str(by_row[5]).startswith("overrides/2026-10.csv, row 5, column 'why': why is blank")


def test_missing_header_and_missing_file(tmp_path):
    got, problems = read_overrides(tmp_path, "2026-10")
    assert got.empty and problems == []
    write(tmp_path, ["job_id,cost_code,cost_type,etc_amount,who,when", "100,,,1.00,a,2026-10-01"])
    got, problems = read_overrides(tmp_path, "2026-10")
    assert got.empty and [p.column for p in problems] == ["why"]
    assert "missing column" in problems[0].message


def company_with_folder_overrides(root: Path):
    """The company as the folder reader builds it: every period's overrides read with it, and a
    bad row an error that stops the command (as ``load_company`` raises it)."""
    overrides, problems = read_all_overrides(root)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return Company.from_tables(make_company().settings, make_company().tables, root, overrides)


def test_cost_to_complete_reads_company_overrides(tmp_path):
    write(tmp_path, [",".join(HEADERS), GOOD])
    out = cost_to_complete(company_with_folder_overrides(tmp_path), "2026-10")
    assert etc(out)[("100", "03-300", "M")] == 25_000 * D
    write(tmp_path, [",".join(HEADERS), GOOD, "100,,,1.00,ann,2026-10-31T10:00:00,"])
    with pytest.raises(InputError, match="why is blank"):
        cost_to_complete(company_with_folder_overrides(tmp_path), "2026-10")


def test_write_override_appends(tmp_path, fc):
    write_override(tmp_path, "2026-10", {"job_id": "100", "cost_code": "03-300", "cost_type": "M",
                                         "etc_amount": "30,000", "who": "ann", "why": "first"})
    write_override(tmp_path, "2026-10", {"job_id": "100", "cost_code": "03-300", "cost_type": "M",
                                         "etc_amount": 25000.5, "who": "ann", "why": "revised",
                                         "when": pd.Timestamp("2026-10-31T09:30:00")})
    text = (tmp_path / "overrides" / "2026-10.csv").read_text()
    assert text.count("job_id") == 1
    got, problems = read_overrides(tmp_path, "2026-10", known=fc)
    assert problems == []
    assert [int(x) for x in got["etc_amount"]] == [3_000_000, 2_500_050]
    assert list(got["why"]) == ["first", "revised"]
    assert got["when"].iloc[1] == pd.Timestamp("2026-10-31T09:30:00")
    out = apply_overrides(fc, got)
    assert etc(out)[("100", "03-300", "M")] == 2_500_050
    with pytest.raises(InputError, match="why is blank"):
        write_override(tmp_path, "2026-10", {"job_id": "100", "etc_amount": "1", "who": "a"})
    with pytest.raises(InputError, match="fraction of a cent"):
        write_override(tmp_path, "2026-10", {"job_id": "100", "etc_amount": 1.001, "who": "a",
                                             "why": "x"})


def test_apply_rejects_override_outside_the_forecast(fc):
    with pytest.raises(InputError, match="unknown job"):
        apply_overrides(fc, ov(("999", "", "", 1_000)))
