"""Benchmarks at scale: ``python -m benchmarks.run [--jobs N] [--lines M] [--repeat K] [--only NAME]``.

Generates (once, under ``benchmarks/data/``) a company of the chosen size with
:mod:`benchmarks.scale`, then runs each benchmark and its reference side by side, each in a fresh
process (peak RSS is that process's own), and prints one JSON object per line:

- ``load_validate``: :func:`wip_lib.sources.readers.read_company` (read, type, validate every export) vs
  ``pyarrow.csv.read_csv`` of the same files (raw read, types inferred, nothing checked);
- ``schedule_duckdb`` / ``schedule_loop``: the WIP schedule for every job and every period
  (:mod:`benchmarks.schedule_refs`) vs the same aggregation as one DuckDB SQL query over the same
  in-memory tables, and vs a per-job Python loop; results are checked equal before timing; ours
  and DuckDB's (sub-second) are timed at least 9 times each, turn about in one process;
- ``reconcile``: :func:`wip_lib.reconcile.reconcile` of the whole company at its current period,
  against the issue's target (15 s; reference_median_s is that target, not a measurement);
- ``month_end``: ``wip month-end --workers 2`` for N projects vs papermill + nbconvert run one
  project at a time (skipped with a message when ``wip month-end`` is not there).

Fields: name, median_s, reference, reference_median_s, ratio (ours / reference: below 1 is faster),
peak_rss_mb, reference_peak_rss_mb, detail. Progress goes to stderr. Inputs for the schedule and
the reconciliation are the canonical tables as ``read_company`` returns them, cached once per
company folder as a pickle (``company.pkl``) so each benchmark process loads them in seconds.
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import multiprocessing
import os
import pickle
import shutil
import sys
import time
from pathlib import Path

from benchmarks.harness import Line, Measure, load_avg, log, measure, measure_commands, measure_pair
from benchmarks.scale import DATA, ScaleSpec, ensure

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CACHE = "company.pkl"
NAMES = ("load_validate", "schedule_duckdb", "schedule_loop", "reconcile", "month_end")
TARGETS = {"reconcile_s": 15.0, "peak_rss_mb": 4096.0}


def make_line(name: str, ours: Measure, reference: str, ref: Measure, detail: str) -> Line:
    line = Line(name, ours.median_s, reference, ref.median_s, ours.median_s / ref.median_s,
                ours.peak_rss_mb, ref.peak_rss_mb, detail,
                None if ours.cpu_s != ours.cpu_s else round(ours.cpu_s, 3),
                None if ref.cpu_s != ref.cpu_s else round(ref.cpu_s, 3), load_avg())
    line.emit()
    return line


# -- the company, read once ---------------------------------------------------------------------

def _build_cache(root: str) -> None:
    from wip_lib.sources.readers import read_company

    r = read_company(root)
    errors = [p for p in r.problems if p.severity == "error"]
    if errors:
        raise RuntimeError(f"{root} does not read back cleanly: {errors[:5]}")
    with open(Path(root) / CACHE, "wb") as fh:
        pickle.dump(dict(r.company.tables), fh, protocol=5)


def ensure_cache(root: Path, rebuild: bool = False) -> None:
    path = root / CACHE
    if path.exists() and not rebuild:
        return
    log(f"reading {root.name} once for the in-memory benchmarks (cache {CACHE}) ...")
    t = time.perf_counter()
    p = multiprocessing.get_context("spawn").Process(target=_build_cache, args=(str(root),))
    p.start()
    p.join()
    if p.exitcode != 0 or not path.exists():
        raise SystemExit(f"could not read {root}")
    log(f"  cached in {time.perf_counter() - t:.1f} s")


def load_company(root: str):
    from wip_lib.core.settings import Company, Settings

    with open(Path(root) / CACHE, "rb") as fh:
        tables = pickle.load(fh)
    settings = Settings.load(Path(root) / "company.yaml")
    return Company.from_tables(settings, tables, Path(root))


# -- (a) load and validate ----------------------------------------------------------------------

def csv_files(root: str) -> list[Path]:
    r = Path(root)
    files = sorted((r / "procore").rglob("*.csv")) + sorted((r / "erp").glob("*.csv"))
    if (r / "crosswalk.csv").exists():
        files.append(r / "crosswalk.csv")
    return files


def run_read_company(root: str) -> None:
    from wip_lib.sources.readers import read_company

    r = read_company(root)
    if not r.ok:
        raise RuntimeError("read_company reported errors")


def run_pyarrow(files: list[Path]) -> None:
    import pyarrow.csv as pacsv

    for f in files:
        pacsv.read_csv(f)


# -- (b) schedule, (c) reconciliation ----------------------------------------------------------

def run_schedule(which: str, company) -> None:
    from benchmarks import schedule_refs

    getattr(schedule_refs, which)(company)


def run_reconcile(company) -> None:
    from wip_lib.reconcile import reconcile

    reconcile(company, company.settings.current_period)


def _verify_schedule(root: str, loop_jobs: int, q) -> None:
    try:
        from benchmarks import schedule_refs as s
        from wip_lib.core.settings import Company

        company = load_company(root)
        ours = s.ours(company)
        ref = s.duckdb_sql(company)
        problems = s.compare(ours, ref)
        # The loop on the first jobs only (it is the slow one); ours on the same jobs.
        ids = sorted(company["jobs"]["job_id"].astype(str).unique())[:loop_jobs]
        sub = Company.from_tables(company.settings, {
            n: (df[df["job_id"].astype(str).isin(ids)] if "job_id" in df.columns and n not in (
                "cost_code_crosswalk",) else df) for n, df in company.tables.items()}, None)
        first, last = s.span(company)
        loop_problems = s.compare(s.ours(sub, first, last), s.python_loop(sub, first, last))
        q.put(("ok", len(ours), problems, loop_problems, len(ids)))
    except BaseException:  # report to the parent, never hang it
        import traceback

        q.put(("error", traceback.format_exc(), [], [], 0))


def verify_schedule(root: Path, loop_jobs: int = 40) -> tuple[str, str]:
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_verify_schedule, args=(str(root), loop_jobs, q))
    p.start()
    status, n, problems, loop_problems, nj = q.get()
    p.join()
    if status != "ok":
        raise RuntimeError(f"schedule verification failed:\n{n}")
    d = (f"equal to ours on all {n:,} job-periods" if not problems
         else "DIFFERS: " + "; ".join(problems))
    lp = (f"equal to ours on the first {nj} jobs' job-periods" if not loop_problems
          else "DIFFERS: " + "; ".join(loop_problems))
    return d, lp


# -- (d) month-end batch vs papermill one by one ------------------------------------------------

def month_end_available() -> str | None:
    """None when ``wip month-end`` and the project notebook are there, else why not."""
    if importlib.util.find_spec("wip_lib.cli.commands.month_end") is None:
        return "wip_lib.cli.commands.month_end is absent (wip month-end not built yet)"
    if not (ROOT / "notebooks" / "project_dashboard.ipynb").exists():
        return "notebooks/project_dashboard.ipynb is absent"
    for exe in ("wip", "papermill", "jupyter"):
        if not (BIN / exe).exists():
            return f"{BIN / exe} not found"
    return None


def _schedule_jobs(root: str, q) -> None:
    from wip_lib.accounting.schedule import recognise
    from wip_lib.sources.readers import load_company as load

    c = load(root)
    q.put(list(recognise(c, c.settings.current_period)["job_id"].astype(str)))


def month_end(n_projects: int, repeat: int, regenerate: bool) -> Line | None:
    why = month_end_available()
    if why:
        log(f"month_end: skipped: {why}")
        print(json.dumps({"name": "month_end", "skipped": why}), flush=True)
        return None
    # A few more jobs than projects: some finish before the fiscal year and leave the schedule.
    n_jobs = 2 * n_projects
    spec = ScaleSpec(jobs=n_jobs, lines=n_jobs * 2500, seed=29)
    root, _ = ensure(spec, log=log, regenerate=regenerate)
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_schedule_jobs, args=(str(root), q))
    p.start()
    jobs = q.get()[:n_projects]
    p.join()
    period = json.loads((root / "scale.json").read_text())["spec"]["current"]
    out = DATA / "month-end-out"
    batch_out = out / "batch"
    loop_out = out / "loop"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def clean(d: Path):
        def f():
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
        return f

    batch = [[str(BIN / "wip"), "month-end", str(root), "--period", period, "--out",
              str(batch_out), "--workers", "2", "--no-progress", "--jobs", ",".join(jobs)]]
    loop = []
    nb = str(ROOT / "notebooks" / "project_dashboard.ipynb")
    for j in jobs:
        ipynb = str(loop_out / f"{j}.ipynb")
        loop.append([str(BIN / "papermill"), nb, ipynb, "-r", "data_dir", str(root), "-r",
                     "period", period, "-r", "job_id", j, "--no-progress-bar", "--cwd", str(ROOT)])
        loop.append([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", ipynb])
    log(f"month_end: {len(jobs)} projects; batch ...")
    a = measure_commands(batch, repeat, cwd=ROOT, env=env, before=clean(batch_out))
    log(f"  batch {a.median_s:.1f} s; papermill + nbconvert one by one ...")
    b = measure_commands(loop, repeat, cwd=ROOT, env=env, before=clean(loop_out))
    return make_line("month_end", a, f"papermill + nbconvert --no-input, one project at a "
                     f"time ({len(jobs)} projects)", b,
                     f"wip month-end --workers 2 --jobs (the same {len(jobs)} projects) on a "
                     f"{n_jobs}-job company "
                     f"({spec.codes} codes, ~{spec.lines:,} ERP lines); the batch also validates, "
                     "writes the Excel workbook and runs the portfolio and reconciliation "
                     "notebooks; peak RSS is the whole process tree's (sampled)")


# -- main ---------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    d = ScaleSpec()
    ap.add_argument("--jobs", type=int, default=200, help="jobs in the company (default 200)")
    ap.add_argument("--lines", type=int, default=500_000,
                    help="ERP job-cost lines (default 500,000)")
    ap.add_argument("--codes", type=int, default=d.codes, help="cost codes per job (150)")
    ap.add_argument("--months", type=int, default=d.months, help="months of history (24)")
    ap.add_argument("--snapshot-every", type=int, default=d.snapshot_every,
                    help="budget snapshot every K months before the recent ones (6)")
    ap.add_argument("--recent-snapshots", type=int, default=d.recent_snapshots,
                    help="budget snapshot every month for the last R periods (3)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per benchmark (median)")
    ap.add_argument("--loop-repeat", type=int, help="timed runs of the per-job loop reference "
                    "(default: --repeat up to 500 jobs, else 1)")
    ap.add_argument("--load-repeat", type=int, help="timed runs of load_validate and its "
                    "reference (default: --repeat)")
    ap.add_argument("--only", action="append", choices=[*NAMES, "schedule"],
                    help="run only this benchmark (repeatable; 'schedule' = both schedule lines)")
    ap.add_argument("--projects", type=int, default=8, help="projects for month_end (8)")
    ap.add_argument("--regenerate", action="store_true", help="generate the data again")
    a = ap.parse_args(argv)
    only = set(a.only or NAMES)
    if "schedule" in only:
        only |= {"schedule_duckdb", "schedule_loop"}

    spec = ScaleSpec(jobs=a.jobs, lines=a.lines, codes=a.codes, months=a.months,
                     snapshot_every=a.snapshot_every, recent_snapshots=a.recent_snapshots)
    lines: list[Line] = []
    if only - {"month_end"}:
        t = time.perf_counter()
        root, info = ensure(spec, log=log, regenerate=a.regenerate)
        log(f"company {root.name}: {info['erp_cost_lines']:,} ERP cost lines, "
            f"{info['rows']['budget']:,} budget rows in {info['budget_snapshots']:,} snapshot "
            f"files, {info['files']:,} files, {info['bytes'] / 2**20:,.0f} MB "
            f"(ready in {time.perf_counter() - t:.0f} s)")
        size = (f"{a.jobs} jobs, {info['erp_cost_lines']:,} ERP cost lines, "
                f"{info['bytes'] / 2**20:,.0f} MB in {info['files']:,} files")
        r = str(root)
        if "load_validate" in only:
            rep = a.load_repeat or a.repeat
            log("load_validate ...")
            ours = measure(functools.partial(run_read_company, r), rep)
            ref = measure(functools.partial(run_pyarrow, csv_files(r)), rep)
            lines.append(make_line("load_validate", ours, "pyarrow.csv.read_csv of the same files",
                                   ref, size))
        if only & {"schedule_duckdb", "schedule_loop", "reconcile"}:
            ensure_cache(root, rebuild=a.regenerate)
            setup = functools.partial(load_company, r)
        if only & {"schedule_duckdb", "schedule_loop"}:
            from benchmarks.schedule_refs import ours_name

            log("schedule: checking the three implementations agree ...")
            d_ok, l_ok = verify_schedule(root)
            log(f"  duckdb: {d_ok}; loop: {l_ok}")
            log("schedule ...")
            # Sub-second runs: more of them, ours and DuckDB's turn about in one process.
            fast = max(a.repeat, 9)
            ours, ref = measure_pair(functools.partial(run_schedule, "ours"),
                                     functools.partial(run_schedule, "duckdb_sql"), fast, setup)
            if "schedule_duckdb" in only:
                lines.append(make_line(
                    "schedule_duckdb", ours, "DuckDB SQL, same tables in memory", ref,
                    f"ours: {ours_name()}; all jobs x {a.months} periods; {size}; {fast} runs "
                    f"each, alternating in one process; DuckDB result {d_ok}"))
            if "schedule_loop" in only:
                rep = a.loop_repeat or (a.repeat if a.jobs <= 500 else 1)
                ref = measure(functools.partial(run_schedule, "python_loop"), rep, setup)
                lines.append(make_line(
                    "schedule_loop", ours, "per-job Python loop (pandas filters)", ref,
                    f"ours: {ours_name()}; loop runs: {rep}; {size}; loop result {l_ok}"))
        if "reconcile" in only:
            log("reconcile ...")
            ours = measure(run_reconcile, a.repeat, setup)
            target = Measure(TARGETS["reconcile_s"], (), TARGETS["peak_rss_mb"])
            lines.append(make_line("reconcile", ours, "target: under 15 s (issue #9), not measured",
                                   target, f"reconcile(company, current period), every check; "
                                   f"{size}"))
    if "month_end" in only:
        line = month_end(a.projects, a.repeat, a.regenerate)
        if line:
            lines.append(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
