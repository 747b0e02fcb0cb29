"""``wip month-end --cluster``: the notebook stage on a Dask distributed cluster (here a
``LocalCluster`` of two worker processes, ``--cluster local``) gives the same reports and run
summary as this machine's warm kernels.

One month-end of three notebooks (portfolio, reconciliation, job 00104) runs on the cluster. The
same three notebooks then run here, on a local warm kernel, from the same computed period; the
executed notebooks and pages must be equal apart from what two runs always differ by (timings,
random ids, the output folder: ``nbcompare``).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbcompare import normalise_notebook, normalise_page

from wip_lib.cli.commands import month_end
from wip_lib.close import bundle as bundles
from wip_lib.reports.notebooks import INLINE_PLOTLY, run_batch

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
PERIOD = "2026-10"
JOB = "00104"
SUMMARY_KEYS = {"company", "period", "data_dir", "started_utc", "timings", "workers",
                "only_failed", "prior_source", "notebooks_run", "notebooks_ok", "failed",
                "notebooks", "totals", "files", "warnings"}


def _wip(*args: str) -> subprocess.CompletedProcess:
    exe = ROOT / ".venv" / "bin" / "wip"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "wip_lib.cli.main"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=ROOT, timeout=900)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    done = _wip("month-end", str(SAMPLE), "--period", PERIOD, "--out", str(tmp / "cluster"),
                "--cluster", "local", "--workers", "2", "--jobs", JOB, "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    out = tmp / "cluster" / PERIOD
    # The same notebooks here, on one warm kernel, from a copy of the same computed period.
    here = tmp / "here" / PERIOD
    shutil.copytree(out / "data", here / "data")
    b = bundles.load(here / "data")
    local = [r for r in month_end._runs(b, here, SAMPLE, month_end.PROJECT_NB)
             if r.key in ("portfolio", "reconciliation", JOB)]
    results = run_batch(local, workers=1, cwd=ROOT, progress=False,
                        plotly_src_for=lambda r: INLINE_PLOTLY,  # the month-end's default
                        subtitle=f"{b.company_name} · period {PERIOD}",
                        back_link_for=lambda r: "../index.html"
                        if r.output_html.parent.name == "projects" else "index.html")
    return {"done": done, "out": out, "here": here, "local": results}


def test_month_end_on_the_cluster_succeeds(runs):
    done = runs["done"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "on the Dask cluster local" in done.stdout


def test_run_summary_as_a_local_run_writes_it(runs):
    s = json.loads((runs["out"] / "run_summary.json").read_text())
    assert set(s) == SUMMARY_KEYS
    assert s["notebooks_run"] == s["notebooks_ok"] == 3 and s["failed"] == []
    assert s["notebooks"] == {
        key: {"ok": True, "seconds": s["notebooks"][key]["seconds"], "error": None,
              "html": html, "notebook": nb}
        for key, html, nb in (("portfolio", "portfolio.html", "notebooks/portfolio.ipynb"),
                              ("reconciliation", "reconciliation.html",
                               "notebooks/reconciliation.ipynb"),
                              (JOB, f"projects/{JOB}.html", f"notebooks/projects/{JOB}.ipynb"))}
    for name in ("index.html", "wip_schedule.csv", "journal_entry.csv", "wip_schedule.xlsx"):
        assert name in s["files"]


def test_notebooks_and_pages_equal_a_local_run(runs):
    out, here = runs["out"], runs["here"]
    assert all(r.ok for r in runs["local"]), [r.error for r in runs["local"]]
    for r in runs["local"]:
        rel_nb = Path(r.output_ipynb).relative_to(here)
        rel_html = Path(r.output_html).relative_to(here)
        there_nb = nbformat.read(out / rel_nb, as_version=4)
        here_nb = nbformat.read(here / rel_nb, as_version=4)
        assert normalise_notebook(there_nb, out) == normalise_notebook(here_nb, here), r.key
        assert normalise_page((out / rel_html).read_text(encoding="utf-8"), there_nb, out) == \
            normalise_page((here / rel_html).read_text(encoding="utf-8"), here_nb, here), r.key
