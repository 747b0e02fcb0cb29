"""Benchmarks at scale: ``python -m benchmarks.run [--jobs N] [--lines M] [--repeat K] [--only NAME]``.

Generates (once, under ``benchmarks/data/``) a company of the chosen size with
:mod:`benchmarks.scale`, then runs each benchmark and its reference side by side, each in a fresh
process (peak RSS is that process's own), and prints one JSON object per line:

- ``load_validate``: :func:`wip_lib.sources.readers.read_company` (read, type, validate every export) vs
  ``pyarrow.csv.read_csv`` of the same files (raw read, types inferred, nothing checked), timed
  turn about in one process, each side's peak memory in its own;
- ``schedule_duckdb`` / ``schedule_loop``: the WIP schedule for every job and every period
  (:mod:`benchmarks.schedule_refs`) vs the same aggregation as one DuckDB SQL query over the same
  in-memory tables, and vs a per-job Python loop; results are checked equal before timing; ours
  and DuckDB's (sub-second) are timed at least 9 times each, turn about in one process;
- ``reconcile``: :func:`wip_lib.reconcile.reconcile` of the whole company at its current period,
  against the issue's target (15 s; reference_median_s is that target, not a measurement);
- ``month_end``: the sample company's whole month-end (``wip month-end data/sample --workers 2``:
  30 project dashboards, the portfolio and the reconciliation page) vs the same notebooks run one
  at a time with papermill + nbconvert; also per project and the speed-up;
- ``month_end_JOBS`` (``--only month_end_scale``): the generated company's month-end, every
  project (or ``--projects N``): projects per second of the notebook stage vs papermill +
  nbconvert one project at a time on ``--reference-projects`` of them (both skipped with a
  message when ``wip month-end`` is not there).

Fields: name, median_s, reference, reference_median_s, ratio (ours / reference: below 1 is faster),
peak_rss_mb, reference_peak_rss_mb, detail, cpu_s, reference_cpu_s, load_avg, and a benchmark's
own fields (the month-end lines: projects, per project, projects per second, speed-up). Progress goes to stderr. Inputs for the schedule and
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
NAMES = ("load_validate", "schedule_duckdb", "schedule_loop", "reconcile", "month_end",
         "month_end_scale")
TARGETS = {"reconcile_s": 15.0, "peak_rss_mb": 4096.0}


def make_line(name: str, ours: Measure, reference: str, ref: Measure, detail: str,
              extra: dict | None = None) -> Line:
    line = Line(name, ours.median_s, reference, ref.median_s, ours.median_s / ref.median_s,
                ours.peak_rss_mb, ref.peak_rss_mb, detail,
                None if ours.cpu_s != ours.cpu_s else round(ours.cpu_s, 3),
                None if ref.cpu_s != ref.cpu_s else round(ref.cpu_s, 3), load_avg(),
                extra or {})
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


def _one_by_one(notebooks: list[tuple[str, str, dict]], out: Path, bundle_dir: Path,
                cwd: Path) -> list[list[str]]:
    """The reference: each notebook run alone with plain ``papermill`` (a kernel of its own),
    then ``jupyter nbconvert --to html --no-input``, reading the computed period the batch saved
    (``bundle_dir``), so the reference does the notebooks' work only."""
    cmds = []
    for name, nb, params in notebooks:
        ipynb = str(out / f"{name}.ipynb")
        cmd = [str(BIN / "papermill"), nb, ipynb, "--no-progress-bar", "--cwd", str(cwd)]
        for k, v in {**params, "bundle_dir": str(bundle_dir)}.items():
            cmd += ["-r", k, str(v)]
        cmds.append(cmd)
        cmds.append([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", ipynb])
    return cmds


def _clean(d: Path):
    def f():
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    return f


def _batch_notebooks(summary: dict, data_dir: Path, period: str) -> list[tuple[str, str, dict]]:
    """The notebooks a month-end ran (from its run summary), as (name, notebook, parameters)."""
    nb = ROOT / "notebooks"
    out = []
    for key in summary["notebooks"]:
        params = {"data_dir": str(data_dir.resolve()), "period": period}
        if key == "portfolio":
            out.append((key, str(nb / "portfolio_dashboard.ipynb"), params))
        elif key == "reconciliation":
            out.append((key, str(nb / "reconciliation.ipynb"), params))
        else:
            out.append((key, str(nb / "project_dashboard.ipynb"), {**params, "job_id": key}))
    return out


def month_end(repeat: int, reference_repeat: int) -> Line | None:
    """The sample company's whole month-end (30 jobs: every project dashboard, the portfolio and
    the reconciliation page) against the same notebooks one by one."""
    why = month_end_available()
    if why:
        log(f"month_end: skipped: {why}")
        print(json.dumps({"name": "month_end", "skipped": why}), flush=True)
        return None
    sample = ROOT / "data" / "sample"
    period = "2026-10"
    out = DATA / "month-end-out"
    batch_out, loop_out = out / "sample-batch", out / "sample-loop"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    batch = [[str(BIN / "wip"), "month-end", str(sample), "--period", period, "--out",
              str(batch_out), "--workers", "2", "--no-progress"]]
    log("month_end: the sample company's month-end ...")
    a = measure_commands(batch, repeat, cwd=ROOT, env=env, before=_clean(batch_out))
    summary = json.loads((batch_out / period / "run_summary.json").read_text())
    notebooks = _batch_notebooks(summary, sample, period)
    projects = len(notebooks) - 2
    log(f"  batch {a.median_s:.1f} s ({summary['timings']}); {len(notebooks)} notebooks one by "
        "one (papermill + nbconvert) ...")
    cmds = _one_by_one(notebooks, loop_out, batch_out / period / "data", ROOT)
    b = measure_commands(cmds, reference_repeat, cwd=ROOT, env=env, before=_clean(loop_out))
    t = summary["timings"]
    return make_line(
        "month_end", a, f"papermill + nbconvert --no-input, one notebook at a time "
        f"({len(notebooks)} notebooks)", b,
        f"wip month-end data/sample --period {period} --workers 2: validate, compute, CSVs, Excel "
        f"workbook, {len(notebooks)} notebooks on warm kernels (last run: validate "
        f"{t['validate_s']:.1f} s, compute {t['compute_s']:.1f} s, notebooks "
        f"{t['notebooks_s']:.1f} s); the reference runs the same notebooks on the period the batch "
        f"computed; reference runs: {reference_repeat}; peak memory is the whole process "
        "tree's (PSS)",
        extra={"projects": projects, "notebooks": len(notebooks),
               "per_project_s": round(a.median_s / projects, 4),
               "reference_per_project_s": round(b.median_s / projects, 4),
               "speedup": round(b.median_s / a.median_s, 2)})


def month_end_scale(root: Path, size: str, n_jobs: int, projects: int | None,
                    reference_projects: int, reference_repeat: int) -> Line | None:
    """The month-end of the generated company (every project, or the first ``projects``):
    projects per second of the notebook stage, against the same project notebooks one by one
    on ``reference_projects`` of them."""
    why = month_end_available()
    name = f"month_end_{n_jobs}"
    if why:
        log(f"{name}: skipped: {why}")
        print(json.dumps({"name": name, "skipped": why}), flush=True)
        return None
    period = json.loads((root / "scale.json").read_text())["spec"]["current"]
    out = DATA / "month-end-out"
    batch_out, loop_out = out / f"{root.name}-batch", out / f"{root.name}-loop"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [str(BIN / "wip"), "month-end", str(root), "--period", period, "--out", str(batch_out),
           "--workers", "2", "--no-progress"]
    if projects:
        ctx = multiprocessing.get_context("spawn")
        q = ctx.Queue()
        p = ctx.Process(target=_schedule_jobs, args=(str(root), q))
        p.start()
        jobs = q.get()[:projects]
        p.join()
        cmd += ["--jobs", ",".join(jobs)]
    log(f"{name}: month-end of {root.name} ...")
    a = measure_commands([cmd], 1, cwd=ROOT, env=env, before=_clean(batch_out))
    summary = json.loads((batch_out / period / "run_summary.json").read_text())
    t = summary["timings"]
    n_projects = len(summary["notebooks"]) - 2
    ours_rate = len(summary["notebooks"]) / t["notebooks_s"]
    notebooks = [n for n in _batch_notebooks(summary, root, period)
                 if n[0] not in ("portfolio", "reconciliation")][:reference_projects]
    log(f"  {n_projects} projects: notebooks {t['notebooks_s']:.1f} s ({ours_rate:.2f} notebooks/s), "
        f"all {a.median_s:.1f} s; {len(notebooks)} projects one by one ...")
    cmds = _one_by_one(notebooks, loop_out, batch_out / period / "data", ROOT)
    b = measure_commands(cmds, reference_repeat, cwd=ROOT, env=env, before=_clean(loop_out))
    ref_rate = len(notebooks) / b.median_s
    ours = Measure(1 / ours_rate, (1 / ours_rate,), a.peak_rss_mb)
    ref = Measure(1 / ref_rate, (1 / ref_rate,), b.peak_rss_mb)
    return make_line(
        name, ours, f"papermill + nbconvert --no-input, one project at a time "
        f"({len(notebooks)} projects)", ref,
        f"median_s and reference_median_s are seconds per notebook (1 / rate). wip month-end "
        f"--workers 2 on {size}: {n_projects} project dashboards + portfolio + reconciliation; "
        f"notebook stage {t['notebooks_s']:.1f} s, whole month-end {a.median_s:.1f} s "
        f"(validate {t['validate_s']:.1f} s, compute {t['compute_s']:.1f} s; beside the "
        f"notebooks: CSVs and workbook {t.get('reports_s', 0):.1f} s, billing "
        f"{t.get('billing_s', 0):.1f} s, waited for after them {t.get('publish_wait_s', 0):.1f} "
        "s); peak memory is the whole process tree's (PSS)",
        extra={"projects": n_projects, "projects_per_s": round(ours_rate, 3),
               "reference_projects_per_s": round(ref_rate, 3),
               "month_end_wall_s": round(a.median_s, 2), "notebooks_s": t["notebooks_s"],
               "speedup": round(ours_rate / ref_rate, 2)})


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
    ap.add_argument("--projects", type=int, help="month_end_scale: only the first N projects "
                    "(default: every project of the company)")
    ap.add_argument("--reference-projects", type=int, default=8, help="month_end_scale: projects "
                    "run one by one for the reference (8)")
    ap.add_argument("--reference-repeat", type=int, default=1, help="timed runs of the month-end "
                    "references, papermill + nbconvert one by one (1)")
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
            # Turn about in one process: the ratio is taken under the same conditions on a
            # machine whose speed drifts (each side's peak memory still in its own process).
            ours, ref = measure_pair(functools.partial(run_read_company, r),
                                     functools.partial(run_pyarrow, csv_files(r)), rep)
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
        if "month_end_scale" in only:
            line = month_end_scale(root, size, a.jobs, a.projects, a.reference_projects,
                                   a.reference_repeat)
            if line:
                lines.append(line)
    if "month_end" in only:
        line = month_end(a.repeat, a.reference_repeat)
        if line:
            lines.append(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
