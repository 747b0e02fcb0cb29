"""Warm kernels (``wip_lib.reports.notebooks``): the same notebooks and pages as one kernel per
notebook, a namespace that does not leak from one notebook to the next, and a crashed or hung
kernel that fails its own notebook only and is replaced.

The comparison runs the real dashboards on the sample company twice: once on a single warm kernel
(every notebook after the first runs on a kernel that has already run another), once with a
kernel per notebook (plain Papermill). What may differ is normalised away, and nothing else:
timestamps and durations (Papermill's and nbclient's metadata), the random id Papermill gives the
injected-parameters cell, the random id plotly gives each chart's ``<div>``, and the output folder
(each run writes its own).
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbcompare import normalise_notebook, normalise_page

from wip_lib.reports.notebooks import (
    NotebookPool,
    NotebookRun,
    WarmKernel,
    execute,
    run_batch,
    write_notebook,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PERIOD = "2026-10"
JOBS = ["00104", "00205"]  # a loss job and an underbilled one


def _runs(out: Path, bundle_dir: Path) -> list[NotebookRun]:
    common = {"data_dir": str(ROOT / "data" / "sample"), "period": PERIOD,
              "bundle_dir": str(bundle_dir)}
    runs = [NotebookRun("portfolio", NOTEBOOKS / "portfolio_dashboard.ipynb",
                        out / "notebooks" / "portfolio.ipynb", out / "portfolio.html",
                        common, "Portfolio"),
            NotebookRun("reconciliation", NOTEBOOKS / "reconciliation.ipynb",
                        out / "notebooks" / "reconciliation.ipynb", out / "reconciliation.html",
                        common, "Reconciliation")]
    for job in JOBS:
        runs.append(NotebookRun(job, NOTEBOOKS / "project_dashboard.ipynb",
                                out / "notebooks" / "projects" / f"{job}.ipynb",
                                out / "projects" / f"{job}.html", {**common, "job_id": job},
                                f"Job {job}"))
    return runs


@pytest.fixture(scope="module")
def warm_and_cold(tmp_path_factory, sample_bundle_dir):
    """The same four notebooks: on one warm kernel, and on a kernel each."""
    got = {}
    for mode in ("warm", "cold"):
        out = tmp_path_factory.mktemp(mode)
        results = run_batch(_runs(out, sample_bundle_dir), workers=1, cwd=ROOT,
                            plotly_src_for=lambda r: "assets/plotly.min.js", subtitle="test",
                            progress=False, warm=mode == "warm", log=out / "kernels.log")
        got[mode] = (out, results)
    return got


def test_every_notebook_runs_both_ways(warm_and_cold):
    for mode, (out, results) in warm_and_cold.items():
        assert [r.key for r in results] == ["portfolio", "reconciliation", *JOBS]
        assert all(r.ok for r in results), (mode, [r.error for r in results])


def test_executed_notebooks_equal_a_cold_kernel_run(warm_and_cold):
    (warm_out, warm), (cold_out, cold) = warm_and_cold["warm"], warm_and_cold["cold"]
    for w, c in zip(warm, cold):
        wn = nbformat.read(w.output_ipynb, as_version=4)
        cn = nbformat.read(c.output_ipynb, as_version=4)
        # Execution counts from 1 in every notebook, as on a new kernel.
        counts = [cell.execution_count for cell in wn.cells if cell.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), (w.key, counts)
        # The parameters cell kept, the injected one right after it, as Papermill writes them.
        tags = [cell.metadata.get("tags", []) for cell in wn.cells]
        i = tags.index(["parameters"])
        assert tags[i + 1] == ["injected-parameters"]
        assert normalise_notebook(wn, warm_out) == normalise_notebook(cn, cold_out), w.key


def test_executed_notebooks_are_written_as_nbformat_writes_them(warm_and_cold, tmp_path):
    """The batch writes an executed notebook without nbformat's copy and check: same bytes as
    ``nbformat.writes`` (which Papermill writes with), on every executed and committed one."""
    warm_out, warm = warm_and_cold["warm"]
    paths = [Path(r.output_ipynb) for r in warm] + sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        want = nbformat.writes(nbformat.read(path, as_version=4)).encode("utf-8")
        write_notebook(nbformat.read(path, as_version=4), tmp_path / "nb.ipynb")
        assert (tmp_path / "nb.ipynb").read_bytes() == want, path.name


def test_pages_equal_a_cold_kernel_run(warm_and_cold):
    (warm_out, warm), (cold_out, cold) = warm_and_cold["warm"], warm_and_cold["cold"]
    for w, c in zip(warm, cold):
        wp = Path(w.output_html).read_text(encoding="utf-8")
        cp = Path(c.output_html).read_text(encoding="utf-8")
        wn = nbformat.read(w.output_ipynb, as_version=4)
        cn = nbformat.read(c.output_ipynb, as_version=4)
        assert normalise_page(wp, wn, warm_out) == normalise_page(cp, cn, cold_out), w.key
        assert wp.count("plotly-graph-div") == cp.count("plotly-graph-div")


def test_normaliser_keeps_real_differences(warm_and_cold):
    """The comparison is not vacuous: two different jobs' notebooks do not normalise equal."""
    out, results = warm_and_cold["warm"]
    a = nbformat.read(results[2].output_ipynb, as_version=4)
    b = nbformat.read(results[3].output_ipynb, as_version=4)
    assert normalise_notebook(a, out) != normalise_notebook(b, out)


# -- small notebooks: namespace, crash, hang ------------------------------------------------------

def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    p = nbformat.v4.new_code_cell("step = 0")
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path


def _run(tmp: Path, key: str, nb: Path, step: int) -> NotebookRun:
    return NotebookRun(key, nb, tmp / "out" / f"{key}.ipynb", tmp / "out" / f"{key}.html",
                       {"step": step}, key)


def test_namespace_is_reset_between_notebooks(tmp_path):
    """A name one notebook defines is gone in the next; a module it imported stays loaded."""
    nb = _notebook(tmp_path / "n.ipynb",
                   "import sys\nprint('seen before:', 'left_over' in globals())\n"
                   "print('module loaded:', 'wip_lib.core.money' in sys.modules)",
                   "import wip_lib.core.money\nleft_over = step")
    kernel = WarmKernel(ROOT, log=tmp_path / "k.log")
    try:
        results = [execute(_run(tmp_path, f"n{i}", nb, i), cwd=ROOT, plotly_src=None,
                           kernel=kernel) for i in range(3)]
        assert kernel.started == 1  # one kernel for all three
    finally:
        kernel.shutdown()
    assert all(r.ok for r in results), [r.error for r in results]
    printed = [nbformat.read(r.output_ipynb, as_version=4).cells[2].outputs[0]["text"]
               for r in results]
    assert printed[0] == "seen before: False\nmodule loaded: False\n"
    assert printed[1] == printed[2] == "seen before: False\nmodule loaded: True\n"


def test_crashed_and_hung_kernels_fail_alone_and_are_replaced(tmp_path):
    ok = _notebook(tmp_path / "ok.ipynb", "print('step', step)")
    crash = _notebook(tmp_path / "crash.ipynb", "import os\nos._exit(3)")
    hang = _notebook(tmp_path / "hang.ipynb", "import time\ntime.sleep(600)")
    runs = [_run(tmp_path, "first", ok, 1), _run(tmp_path, "crash", crash, 2),
            _run(tmp_path, "after_crash", ok, 3), _run(tmp_path, "hang", hang, 4),
            _run(tmp_path, "after_hang", ok, 5)]
    with NotebookPool(1, ROOT, timeout=5, log=tmp_path / "k.log") as pool:
        results = {r.key: r for r in pool.run(runs, plotly_src_for=lambda r: None,
                                              progress=False)}
    assert not results["crash"].ok and "died" in results["crash"].error
    assert not results["hang"].ok and "timeout" in results["hang"].error
    for key, step in (("first", 1), ("after_crash", 3), ("after_hang", 5)):
        assert results[key].ok, (key, results[key].error)
        nb = nbformat.read(results[key].output_ipynb, as_version=4)
        assert nb.cells[-1].outputs[0]["text"] == f"step {step}\n"
        assert Path(results[key].output_html).is_file()


def _kernels() -> set[int]:
    """This process's kernel processes (``ipykernel_launcher``) now running."""
    import psutil

    return {p.pid for p in psutil.Process().children(recursive=True)
            if "ipykernel_launcher" in " ".join(p.cmdline())}


def test_a_pool_told_not_to_start_starts_its_kernels_at_its_first_run(tmp_path):
    ok = _notebook(tmp_path / "ok.ipynb", "print('step', step)")
    before = _kernels()
    pool = NotebookPool(1, ROOT, log=tmp_path / "k.log", start=False)
    try:
        assert not pool.started
        assert _kernels() == before  # no kernel beside the large company's computation
        results = pool.run([_run(tmp_path, "first", ok, 1)], plotly_src_for=lambda r: None,
                           progress=False)
        assert pool.started and results[0].ok, results[0].error
        assert len(_kernels() - before) == 1
        nb = nbformat.read(results[0].output_ipynb, as_version=4)
        assert nb.cells[-1].outputs[0]["text"] == "step 1\n"
    finally:
        pool.close()
    assert _kernels() == before


def test_a_pool_never_run_closes_at_once():
    pool = NotebookPool(2, ROOT, start=False)
    pool.close()  # nothing started: nothing to wait for
    assert not pool.started


@pytest.mark.parametrize("notebooks, workers, expected", [
    (1, 2, 1), (3, 2, 1), (24, 2, 1), (25, 2, 2), (32, 2, 2), (1_885, 2, 2),
    (100, 8, 5), (1_885, 8, 8), (32, 1, 1), (0, 2, 1), (5, 0, 1),
])
def test_kernels_for_a_batch_one_per_24_notebooks_at_most_the_workers(notebooks, workers,
                                                                      expected):
    from wip_lib.reports.notebooks import NOTEBOOKS_PER_KERNEL, kernels_for

    assert NOTEBOOKS_PER_KERNEL == 24
    assert kernels_for(notebooks, workers) == expected


def test_the_month_end_help_states_the_kernels_rule():
    import argparse

    from wip_lib.cli.commands import month_end
    from wip_lib.reports.notebooks import NOTEBOOKS_PER_KERNEL

    sub = argparse.ArgumentParser().add_subparsers()
    month_end.register(sub)
    (workers,) = [a for a in sub.choices["month-end"]._actions if a.dest == "workers"]
    assert f"one kernel per {NOTEBOOKS_PER_KERNEL} notebooks" in workers.help


def test_a_pool_starts_the_kernels_its_batch_needs(tmp_path):
    """The month-end starts one kernel early; a run of 3 notebooks starts no other (one kernel
    per 24 begun), a run of 25 starts the second."""
    ok = _notebook(tmp_path / "ok.ipynb", "print('step', step)")
    before = _kernels()
    pool = NotebookPool(2, ROOT, log=tmp_path / "k.log", start=False)
    try:
        pool.start(1)
        short = pool.run([_run(tmp_path, f"a{i}", ok, i) for i in range(3)],
                         plotly_src_for=lambda r: None, progress=False)
        assert all(r.ok for r in short) and len(_kernels() - before) == 1
        longer = pool.run([_run(tmp_path, f"b{i}", ok, i) for i in range(25)],
                          plotly_src_for=lambda r: None, progress=False)
        assert all(r.ok for r in longer) and len(_kernels() - before) == 2
        nb = nbformat.read(longer[-1].output_ipynb, as_version=4)
        assert nb.cells[-1].outputs[0]["text"] == "step 24\n"
    finally:
        pool.close()
    assert _kernels() == before
