"""The benchmark command works end to end on a tiny company (figures are measured in benchmarks/,
never asserted here): the scale generator's folder reads back without an error, the three
schedule implementations agree on every job-period, and each benchmark prints the fields the
README's Performance table is made from."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIELDS = {"name", "median_s", "reference", "reference_median_s", "ratio", "peak_rss_mb"}


@pytest.fixture(scope="module")
def lines():
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--jobs", "6", "--lines", "6000", "--codes", "20",
         "--repeat", "1", "--only", "load_validate", "--only", "schedule", "--only", "reconcile"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return {d["name"]: d for d in map(json.loads, out.stdout.splitlines())}


def test_every_benchmark_prints_one_json_line_with_its_reference(lines):
    assert set(lines) == {"load_validate", "schedule_duckdb", "schedule_loop", "reconcile"}
    for d in lines.values():
        assert FIELDS <= set(d)
        assert d["median_s"] > 0 and d["reference_median_s"] > 0 and d["peak_rss_mb"] > 0
        # every figure is printed to 4 decimals, the ratio worked from the unrounded seconds:
        # each second's rounding moves median / reference by up to 0.00005 / it, relatively,
        # and the ratio's own rounding by up to 0.00005
        want = d["median_s"] / d["reference_median_s"]
        rel = 1e-3 + 5e-5 / d["median_s"] + 5e-5 / d["reference_median_s"]
        assert abs(d["ratio"] - want) <= want * rel + 5e-5


def test_schedule_references_agree_with_the_workbook(lines):
    assert "DuckDB result equal to ours on all" in lines["schedule_duckdb"]["detail"]
    assert "loop result equal to ours" in lines["schedule_loop"]["detail"]


def test_generated_company_reads_back_cleanly(lines):
    from benchmarks.scale import ScaleSpec
    from wip_lib.sources.readers import read_company

    folder = ScaleSpec(jobs=6, lines=6000, codes=20).folder()
    result = read_company(folder)
    errors = [p for p in result.problems if p.severity == "error"]
    assert not errors, errors[:5]
    assert len(result.company["erp_job_cost"]) >= 5000
    assert result.company["jobs"]["job_id"].nunique() == 6


def test_notebook_pool_times_project_dashboards_on_a_computed_period(tmp_path, sample_period):
    """``benchmarks.notebook_pool`` on the sample's computed period: the timed notebooks all
    run, and the line gives their rate."""
    from wip_lib.close import bundle as bundles

    report = tmp_path / "2026-10"
    bundles.save(bundles.from_result(sample_period), report / "data")
    out = subprocess.run([sys.executable, "-m", "benchmarks.notebook_pool", str(report),
                          "--workers", "1", "--notebooks", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    d = json.loads(out.stdout.strip().splitlines()[-1])
    assert (d["name"], d["workers"], d["notebooks"], d["ok"]) == ("notebook_pool", 1, 2, 2)
    # Both figures are rounded to the millisecond, so the rate lies between the rates of the
    # two ends of the seconds' rounding interval (give or take its own last digit).
    low, high = 2 / (d["seconds"] + 0.0005) - 0.0005, 2 / (d["seconds"] - 0.0005) + 0.0005
    assert low <= d["notebooks_per_s"] <= high, d


def test_a_benchmarks_peak_memory_is_its_own_not_the_runners():
    """A benchmark's child process reports its own peak memory, not that of the runner it was
    started from (on Linux a spawned child's ``ru_maxrss`` starts at its parent's peak: a
    runner that had just generated a large company passed its gigabytes on to every line)."""
    from benchmarks.harness import measure

    held = bytearray(512 * 2**20)
    held[::4096] = b"x" * len(held[::4096])  # touched: resident in this process
    peak = measure(len, 1, setup=bytes).peak_rss_mb
    del held
    assert 0 < peak < 300, peak
