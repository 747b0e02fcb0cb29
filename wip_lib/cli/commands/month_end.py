"""``wip month-end DATA_DIR --period YYYY-MM``: the whole month-end in one command.

1. Validate the company folder (every file read, every row accounted for).
2. Compute the period once (schedule, forecast and flags, reconciliation, journal entry, history)
   and write the CSV reports, the Excel workbook and the computed bundle (``data/``).
3. Execute the project dashboard once per job, the portfolio dashboard and the reconciliation
   workbook with Papermill on ``--workers`` warm kernels (imports loaded once, the namespace reset
   between notebooks: :mod:`wip_lib.reports.notebooks`), or on a Dask cluster (``--cluster``);
   publish each as offline HTML (no code, no CDN).
4. Write the month-end package, ``wip_package.pdf`` (printed by headless Chromium), the
   progress billing (``billing_review.csv``, the draft G702/G703 of each job under ``billing/``,
   their workbooks and pages, and one PDF of them all)
   and the subcontractor pay-app review (``payapp_findings.csv``), then ``index.html`` (the
   portfolio, linking every project, the package and the billing outputs) and
   ``run_summary.json``.

Each page carries plotly.js inside it (it opens alone, e.g. emailed); ``--shared-assets`` loads
it from one ``assets/plotly.min.js`` instead, for large batches.

One notebook's failure never stops the others; it is listed with its error and
``--only-failed`` re-runs just those.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from wip_lib.core.errors import InputError, Problem, WipError
from wip_lib.core.identifiers import path_inside, safe_name
from wip_lib.core.memory import release_unused
from wip_lib.core.period_range import check_in_data
from wip_lib.sources.export_size import exports_bytes

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = ROOT / "notebooks"
PROJECT_NB = NOTEBOOKS / "project_dashboard.ipynb"
PORTFOLIO_NB = NOTEBOOKS / "portfolio_dashboard.ipynb"
RECON_NB = NOTEBOOKS / "reconciliation.ipynb"
SUMMARY = "run_summary.json"
#: What the notebooks import, loaded into each warm kernel as it starts (while the period is
#: computed), so no notebook pays for it.
PRELOAD = ("IPython.display", "wip_lib.close.bundle", "wip_lib.reports.dashboard",
           "wip_lib.reports.html")
#: Exports larger than this (``procore/`` and ``erp/``, bytes on disk) and the kernels start once
#: the period is computed instead of beside it: the computation is the month-end's peak of memory
#: (the company's tables and the period's working frames; about 3.7 GB at 2,000 jobs and 1.1 GB
#: of exports), and two kernels with their imports loaded would add about 0.3 GB to it. Below it
#: they start as soon as the input is valid and their start-up (seconds) overlaps the
#: computation, which is where the month-end of a small company gains most from it.
EARLY_KERNELS_BYTES = 256 * 2**20
#: Kernels started while the period is computed; the others start with the notebooks, once the
#: batch's size is known, and only if it needs them (reports/notebooks.py: kernels_for): a short
#: batch (a few --jobs, a small company, --only-failed) runs on one. The sample's whole
#: month-end takes as long either way (13.1-13.9 s against 13.3-14.3 s with both kernels
#: started early, three runs each, interleaved, 2026-12-02).
EARLY_KERNELS = 1
#: How much the forked reports process (CSVs, workbook, package, billing) steps back for the
#: kernels (``os.nice``; 19 is the lowest priority): see :func:`_beside_child`.
_BESIDE_NICENESS = 10


def register(sub) -> None:
    p = sub.add_parser("month-end", help="validate, compute and publish the month-end reports")
    p.add_argument("data_dir", type=Path, help="company folder (holds company.yaml)")
    p.add_argument("--period", help="period YYYY-MM (default: the company's current period)")
    p.add_argument("--out", type=Path, default=Path("reports"), help="reports root (default "
                   "reports/); the period's reports go to OUT/PERIOD/")
    p.add_argument("--workers", type=int, default=2, help="notebooks run in parallel, each worker "
                   "on a warm kernel kept for the whole batch (default 2); a short batch starts "
                   "one kernel per 24 notebooks, up to this many")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds one notebook cell may "
                   "run before its kernel counts as hung: that notebook fails and the kernel is "
                   "replaced (default 600)")
    p.add_argument("--cluster", metavar="ADDRESS", help="run the notebooks on a Dask distributed "
                   "cluster: its scheduler's address (tcp://HOST:8786), or 'local' for a cluster "
                   "of --workers processes on this machine; see docs/cluster.md")
    p.add_argument("--only-failed", action="store_true", help="re-run only the notebooks that "
                   "failed in the last run of this period (from run_summary.json)")
    p.add_argument("--project-notebook", type=Path, default=PROJECT_NB,
                   help="the per-project notebook (default notebooks/project_dashboard.ipynb)")
    p.add_argument("--jobs", help="only these projects' dashboards, comma separated (default: "
                   "every job in the schedule)")
    p.add_argument("--shared-assets", action="store_true", help="pages load plotly.js from "
                   "OUT/PERIOD/assets/plotly.min.js (one copy for a large batch) instead of "
                   "carrying it inside each page (the default: a page opens alone)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _rel(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix()


def _runs(bundle, out: Path, data_dir: Path, project_nb: Path):
    from wip_lib.reports.notebooks import NotebookRun

    data = str((out / "data").resolve())
    d = str(data_dir.resolve())
    runs = [NotebookRun("portfolio", PORTFOLIO_NB, out / "notebooks" / "portfolio.ipynb",
                        out / "portfolio.html",
                        {"data_dir": d, "period": bundle.period, "bundle_dir": data},
                        f"{bundle.company_name}: WIP portfolio {bundle.period}"),
            NotebookRun("reconciliation", RECON_NB, out / "notebooks" / "reconciliation.ipynb",
                        out / "reconciliation.html",
                        {"data_dir": d, "period": bundle.period, "bundle_dir": data},
                        f"{bundle.company_name}: reconciliation {bundle.period}")]
    for job in bundle.job_ids:
        # A job number names two files: checked by the one rule for names built from data.
        runs.append(NotebookRun(job, project_nb,
                                path_inside(out / "notebooks" / "projects", job, suffix=".ipynb",
                                            what="job number", source="procore/projects.csv"),
                                path_inside(out / "projects", job, suffix=".html",
                                            what="job number", source="procore/projects.csv"),
                                {"data_dir": d, "period": bundle.period, "job_id": job,
                                 "bundle_dir": data},
                                f"{job} {bundle.job_name(job)}: WIP {bundle.period}"))
    return runs


def run(args) -> int:
    timeout = args.timeout if args.timeout > 0 else None
    if args.cluster:
        from wip_lib.reports import cluster

        # Connect first: an unreachable scheduler stops the command before any work. The
        # workers' kernels start while the period is computed.
        client = cluster.connect(args.cluster, max(1, args.workers))
        try:
            cluster.warm_up(client, cwd=ROOT, preload=PRELOAD)
            return _run(args, lambda runs, **kw: cluster.run_on_cluster(
                client, runs, cwd=ROOT, timeout=timeout, preload=PRELOAD, **kw), None)
        finally:
            cluster.close(client)

    import tempfile

    from wip_lib.reports.notebooks import NotebookPool

    # One kernel starts (and imports what the notebooks need) once the company's input is valid,
    # while the period is computed, unless the company is large (EARLY_KERNELS_BYTES: then at
    # the first notebook); the others at the first notebook, as many as the batch needs
    # (kernels_for); input refused starts none. Their start-up chatter goes to
    # notebooks/kernels.log at the end.
    fd, log = tempfile.mkstemp(prefix="wip-kernels-", suffix=".log")
    os.close(fd)
    pool = NotebookPool(max(1, args.workers), ROOT, preload=PRELOAD, log=Path(log),
                        timeout=timeout, start=False)
    early = exports_bytes(args.data_dir) <= EARLY_KERNELS_BYTES
    try:
        return _run(args, pool.run, Path(log),
                    valid=(lambda: pool.start(EARLY_KERNELS)) if early else None)
    finally:
        pool.close()
        Path(log).unlink(missing_ok=True)


def _run(args, execute_runs, log: Path | None, valid: Callable[[], None] | None = None) -> int:
    """The month-end, with the notebooks executed by ``execute_runs`` (a local
    :class:`~wip_lib.reports.notebooks.NotebookPool`'s ``run``, or on a cluster); ``log``: the
    local kernels' start-up log; ``valid``: called once the input is valid, before the period
    is computed."""
    from wip_lib.close import bundle as bundles
    from wip_lib.core.periods import check_period
    from wip_lib.reports.index_page import write_index
    from wip_lib.reports.notebooks import INLINE_PLOTLY, PLOTLY_ASSET, write_plotly_asset
    from wip_lib.sources.readers import read_company
    from wip_lib.sources.snapshots import missing_snapshots

    started = time.perf_counter()
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    data_dir: Path = args.data_dir
    timings: dict[str, float] = {}

    wanted = _job_names(args.jobs) if args.jobs else None  # before any work: a name is no path

    t = time.perf_counter()
    result = read_company(data_dir)
    if not result.ok:
        raise InputError([p for p in result.problems if p.severity == "error"])
    company = result.company
    period = check_in_data(company, check_period(args.period or company.settings.current_period))
    out: Path = path_inside(args.out, period, what="period", source="--period")
    reports = result.reports
    rows = sum(r.rows_in for r in reports)  # what the company's size is to release_unused
    print(f"Validated {len(reports)} files: {rows} rows in = "
          f"{sum(r.rows_accepted for r in reports)} accepted + "
          f"{sum(r.rows_reported for r in reports)} reported + "
          f"{sum(r.rows_totals + r.rows_blank + r.rows_excluded for r in reports)} "
          "totals/blank/not-cost rows", flush=True)
    timings["validate_s"] = time.perf_counter() - t

    previous = _previous(out) if args.only_failed else None
    if args.only_failed and previous is None:
        raise InputError([Problem(str(out / SUMMARY), "no earlier run of this period to re-run",
                                  "run the month-end without --only-failed first")])
    if valid is not None:
        valid()

    t = time.perf_counter()
    publishing = None
    if previous is None:
        result, b = _compute(company, period, out)
        billing = _billing_figures(company, result)
        settings = company.settings
        # Nothing after this reads the company's exports (5 million cost lines, 1.9 GB at
        # 2,000 jobs): let go before the fork, so neither process holds them beside the kernels.
        company = None
        release_unused(rows)
        # The CSVs, the workbook, the package and the billing are written beside the notebooks
        # (which read only data/), in a process of their own where the platform forks (_Beside).
        publishing = _Beside(_publish, settings, result, billing, out, rows)
    else:
        b = bundles.load(out / "data")
    timings["compute_s"] = time.perf_counter() - t
    warnings = missing_snapshots(b["schedule"], b["budget_history"], b.period)
    for w in warnings:
        print(f"warning: {w}", flush=True)
    result = billing = company = None
    release_unused(rows)  # the period is the reports process's alone now

    t = time.perf_counter()
    if args.shared_assets:
        write_plotly_asset(out)

    def plotly_src(r) -> str:
        if not args.shared_assets:
            return INLINE_PLOTLY
        return ("../" if r.output_html.parent.name == "projects" else "") + PLOTLY_ASSET

    runs = _runs(b, out, data_dir, args.project_notebook)
    if wanted is not None:
        unknown = sorted(wanted - set(b.job_ids))
        if unknown:
            raise InputError([Problem("--jobs", f"job {j} is not in the {period} schedule",
                                      "use job numbers as the schedule shows them", value=j)
                              for j in unknown])
        runs = [r for r in runs if r.key in ("portfolio", "reconciliation") or r.key in wanted]
    if previous is not None:
        failed = {k for k, v in previous["notebooks"].items() if not v["ok"]}
        runs = [r for r in runs if r.key in failed]
        print(f"Re-running {len(runs)} failed notebook(s): {', '.join(r.key for r in runs)}")
    where = f" on the Dask cluster {args.cluster}" if args.cluster else ""
    print(f"Executing {len(runs)} notebooks on {args.workers} worker(s){where} ...", flush=True)
    results = execute_runs(
        runs, plotly_src_for=plotly_src,
        subtitle=f"{b.company_name} · period {period}",
        back_link_for=lambda r: "../index.html" if r.output_html.parent.name == "projects"
        else "index.html", progress=not args.no_progress)
    timings["notebooks_s"] = time.perf_counter() - t
    if publishing is not None:
        t = time.perf_counter()
        messages, took = publishing.result()
        publishing = None
        timings.update(took, publish_wait_s=time.perf_counter() - t)
        for m in messages:
            print(m, flush=True)
    if log is not None:
        _keep_log(log, out / "notebooks" / "kernels.log")

    merged = dict(previous["notebooks"]) if previous else {}
    for r in results:
        merged[r.key] = {"ok": r.ok, "seconds": round(r.seconds, 3), "error": r.error,
                         "html": _rel(Path(r.output_html), out) if r.ok else None,
                         "notebook": _rel(Path(r.output_ipynb), out)}
    write_index(b, out, merged,
                plotly_src=PLOTLY_ASSET if args.shared_assets else INLINE_PLOTLY)
    timings["total_s"] = time.perf_counter() - started
    failed = sorted(k for k, v in merged.items() if not v["ok"])
    summary = {
        "company": b.company_name, "period": period, "data_dir": str(data_dir),
        "started_utc": stamp, "timings": {k: round(v, 3) for k, v in timings.items()},
        "workers": args.workers, "only_failed": bool(args.only_failed),
        "prior_source": b.prior_source, "notebooks_run": len(results),
        "notebooks_ok": sum(v["ok"] for v in merged.values()), "failed": failed,
        "notebooks": merged, "totals": _totals(b), "warnings": [str(w) for w in warnings],
        "files": sorted(_rel(p, out) for p in out.glob("*") if p.is_file()),
    }
    (out / SUMMARY).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    _print_done(b, out, summary)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}. Fix the cause and re-run "
              f"with --only-failed.")
        return 1
    return 0


def _job_names(text: str) -> set[str]:
    """The job numbers ``--jobs`` names, each a safe name
    (:func:`wip_lib.core.identifiers.safe_name`): a job number names files, so ``../../x`` is
    refused before anything is computed or written."""
    return {safe_name(j.strip(), what="job number", source="--jobs")
            for j in text.split(",") if j.strip()}


def _keep_log(log: Path, target: Path) -> None:
    """Append the kernels' start-up chatter to the period's ``notebooks/kernels.log``."""
    text = log.read_bytes() if log.is_file() else b""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "ab") as fh:
        fh.write(text)


def _previous(out: Path) -> dict | None:
    p = out / SUMMARY
    if not p.is_file() or not (out / "data" / "meta.json").is_file():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


class _Beside:
    """``fn(*args)`` beside the notebooks; :meth:`result` waits for it and returns its value or
    raises its exception.

    Where the platform forks (Linux), in a process of its own: on a thread, its Python work (the
    workbook is 8.7 million openpyxl cells at 2,000 jobs) would hold the batch's GIL and starve
    the threads that feed the kernels (measured: dashboards at 1.9 per second instead of 4.4).
    The forked process shares the company and the period with the batch without copying them,
    and the batch lets them go at once. Elsewhere, a daemon thread. Either way an interrupted
    month-end exits at once instead of waiting for the workbook."""

    def __init__(self, fn, *args):
        import multiprocessing

        self._value = self._error = self._process = None
        if sys.platform.startswith("linux"):
            ctx = multiprocessing.get_context("fork")
            self._recv, send = ctx.Pipe(duplex=False)
            self._process = ctx.Process(target=_beside_child, args=(send, fn, *args),
                                        daemon=True, name="wip-publish")
            with warnings.catch_warnings():
                # Python 3.12+ warns of forking with threads running. The batch's are waiting
                # on their queues (the kernels' clients, idle until the notebooks start); the
                # child uses none of their locks or sockets and leaves by os._exit, not atexit.
                warnings.filterwarnings("ignore", message=r".*multi-threaded.*fork",
                                        category=DeprecationWarning)
                self._process.start()
            send.close()
            # Received as soon as it is sent: a reply longer than the pipe holds (thousands of
            # billing warnings at 2,000 jobs) would keep the finished process, and the period
            # it holds, alive until the notebooks end.
            process = self._process
            self._thread = threading.Thread(target=self._receive, args=(lambda: (
                process.join(), process.exitcode)[1],), daemon=True, name="wip-publish-reply")
            self._thread.start()
            return
        self._thread = threading.Thread(target=self._run, args=(fn, *args), daemon=True,
                                        name="wip-publish")
        self._thread.start()

    def _run(self, fn, *args) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def _receive(self, wait) -> None:
        try:
            self._value = _outcome(self._recv, "the reports process (CSVs, workbook, package, "
                                   "billing)", wait)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _beside_child(send, fn, *args) -> None:
    """The forked process's work, at a lower priority, its result sent back (:func:`_reply`)."""
    # The dashboards are the month-end's long pole: at 2,000 jobs the workbook's 8.7 million
    # cells took a third of a core for the whole notebook stage. Lowered, this process still
    # gets every cycle the kernels leave (a kernel waiting on its client, the batch writing a
    # page), and the kernels no longer share their two cores with it; the work is the same.
    os.nice(_BESIDE_NICENESS)
    _reply(send, fn, *args)


def _reply(send, fn, *args) -> None:
    """``("ok", fn(*args))`` or ``("error", exception)`` sent on ``send`` (an exception that
    cannot cross is sent as a RuntimeError holding its traceback)."""
    import pickle
    import traceback

    try:
        reply = ("ok", fn(*args))
    except BaseException as exc:
        try:
            pickle.loads(pickle.dumps(exc))
            reply = ("error", exc)
        except Exception:
            reply = ("error", RuntimeError("".join(traceback.format_exception(exc))))
    send.send(reply)
    send.close()


def _in_own_process(what: str, fn, *args):
    """``fn(*args)`` in a forked process that then exits, so every page it used goes back to
    the system (on Linux, as :class:`_Beside`; elsewhere, here). For the workbook: its 8.7
    million cells at 2,000 jobs, freed, left 2 GB in the reports process that Python does not
    give back, held while Chromium prints the package beside the kernels."""
    import multiprocessing.connection

    if not sys.platform.startswith("linux"):  # as _Beside: forking beside threads elsewhere
        return fn(*args)
    recv, send = multiprocessing.connection.Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child; its result is checked in the parent)
        code = 1
        try:
            recv.close()
            _reply(send, fn, *args)
            code = 0
        finally:
            sys.stdout.flush()  # its warnings: os._exit flushes nothing
            sys.stderr.flush()
            os._exit(code)
    send.close()
    return _outcome(recv, f"the process writing {what}",
                    lambda: os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))


def _outcome(recv, who: str, wait):
    """What a forked process sent on ``recv`` (:func:`_reply`): its value, or its exception
    raised. ``wait()`` reaps the process and returns its exit code; a process that ended
    without sending is a :class:`WipError` naming ``who`` and the code."""
    try:
        kind, value = recv.recv()
    except EOFError:
        raise WipError(f"{who} ended without finishing, exit code {wait()}; run the month-end "
                       "again, and report it if it happens again") from None
    finally:
        recv.close()
    wait()
    if kind == "error":
        raise value
    return value


def _compute(company, period: str, out: Path):
    """The period computed and its bundle saved in ``out/data`` (what the notebooks read)."""
    from wip_lib.close import bundle as bundles
    from wip_lib.close.period import compute_period

    result = compute_period(company, period)
    b = bundles.from_result(result)
    if (out / "data").exists():
        shutil.rmtree(out / "data")
    bundles.save(b, out / "data")
    return result, b


def _publish(settings, result, billing, out: Path, rows: int | None = None
             ) -> tuple[list[str], dict[str, float]]:
    """The period's CSV reports and Excel workbook, the package (PDF printed by Chromium) and the
    billing (``billing``: :func:`_billing_figures`); returns the lines to print when the
    notebooks are done (none while their progress bar is drawn) and the seconds each part
    took. ``rows``: the rows the company's exports held (:func:`release_unused`)."""
    from wip_lib.core.errors import WipError
    from wip_lib.reports.csvfiles import write_period_reports
    from wip_lib.reports.package import BackgroundPrinter, browser

    messages: list[str] = []
    took: dict[str, float] = {}
    t = time.perf_counter()
    write_period_reports(result, out)
    release_unused(rows)  # before the workbook's fork and Chromium, which run beside the kernels
    _in_own_process("the workbook", _workbook, result, out, settings)
    took["reports_s"] = time.perf_counter() - t
    try:
        browser()
        printer = BackgroundPrinter()  # two Chromiums print while the billing is worked out
    except WipError as exc:  # no Chromium: the pages stay, without PDFs
        printer = None
        messages += [f"warning: wip_package.pdf not written: {exc}",
                     f"warning: billing PDFs not written: {exc}"]
    t = time.perf_counter()
    _package(result, out, printer)
    took["package_s"] = time.perf_counter() - t
    t = time.perf_counter()
    _billing(billing, out, printer, messages)
    took["billing_s"] = time.perf_counter() - t
    if printer is not None:
        messages += [f"warning: PDF not written: {exc}" for exc in printer.wait()]
    return messages, took


def _workbook(result, out: Path, settings) -> None:
    from wip_lib.reports.excel.workbook import write_wip_workbook

    write_wip_workbook(result, out / "wip_schedule.xlsx", settings=settings)


def _package(result, out: Path, printer) -> None:
    """``wip_package.html``, printed to ``wip_package.pdf`` by ``printer`` (None: no PDF)."""
    from wip_lib.reports.package import write_package

    write_package(result, out / "wip_package.pdf", printer=printer or _no_pdf)


def _no_pdf(html_file: Path, pdf_file: Path) -> None:
    """The printer when there is no Chromium: the page stays, no PDF."""


def _billing_figures(company, result) -> tuple:
    """The period's billing and the pay-app findings: ``(billing, findings, problems)``, worked
    out from the company while it is held (see :func:`_billing` for what is written)."""
    from wip_lib.close.billing import compute_billing, compute_payapps

    billing = compute_billing(company, result.period, result)
    findings, problems = compute_payapps(company, result.period)
    return billing, findings, problems


def _billing(figures: tuple, out: Path, printer, messages: list[str]) -> None:
    """``billing_review.csv``, ``billing/`` and ``payapp_findings.csv`` (docs/billing.md) from
    :func:`_billing_figures`; a problem with the billing inputs (e.g. a bad row of
    lien_waivers.csv) is a warning and the rest of the month-end still runs; ``printer`` None:
    the drafts have no PDF."""
    from wip_lib.reports.billing import PAYAPP_FINDINGS, write_billing, write_findings

    billing, findings, problems = figures
    if printer is None:
        write_billing(billing, out, pdf=None)
    else:
        write_billing(billing, out, pdf="combined", printer=printer)
    write_findings(findings, out / PAYAPP_FINDINGS)
    messages += [f"warning: {p}" for p in [*billing.problems, *problems]]
    messages.append(f"Billing: {len(billing.drafts)} draft G702/G703, {len(billing.review)} "
                    f"billing review and {len(findings)} pay-app findings")


def _totals(b) -> dict[str, str]:
    import pandas as pd

    from wip_lib.core.money import cents_to_text

    ip, s = b["in_progress"], b["schedule"]
    vals = {"revenue_period": s["revenue_period"].sum(),
            "gross_profit_period": s["gross_profit_period"].sum(),
            "underbillings": ip["underbillings"].sum(), "overbillings": ip["overbillings"].sum(),
            "loss_provision": ip["loss_provision"].sum(), "backlog": ip["backlog"].sum()}
    text = cents_to_text(pd.Series([int(v) for v in vals.values()]))
    return dict(zip(vals, text))


def _print_done(b, out: Path, summary: dict) -> None:
    from wip_lib.reports.html import dollars

    ip, s = b["in_progress"], b["schedule"]
    print(f"\n{b.company_name}: WIP at {b.period}  ({len(ip)} jobs in progress, "
          f"{len(b['completed'])} completed this year)")
    for label, v in (("Revenue for the period", s["revenue_period"].sum()),
                     ("Gross profit for the period", s["gross_profit_period"].sum()),
                     ("Underbillings", ip["underbillings"].sum()),
                     ("Overbillings", ip["overbillings"].sum()),
                     ("Loss provision", ip["loss_provision"].sum()),
                     ("Backlog", ip["backlog"].sum())):
        print(f"  {label:30} {dollars(int(v)):>18}")
    print(f"  Overrun flags {len(b['flags'])}, reconciliation findings {len(b['findings'])}")
    for note in b.notes:
        print(f"  {note}")
    f = b["findings"]
    from wip_lib.close.period import CLOSED_CHANGED

    for detail in f.loc[f["check"] == CLOSED_CHANGED, "detail"]:
        print(f"  ! {detail}")
    if summary.get("warnings"):
        print(f"\n{len(summary['warnings'])} warning(s) on the input (also on the dashboards):")
        for w in summary["warnings"]:
            print(f"  warning: {w}")
    t = summary["timings"]
    print(f"\nReports in {out}/ (open {out / 'index.html'})")
    beside = (f"; beside the notebooks: reports {t['reports_s']:.1f}, package "
              f"{t['package_s']:.1f}, billing {t['billing_s']:.1f}, then waited "
              f"{t['publish_wait_s']:.1f}") if "reports_s" in t else ""
    print(f"Time: {t['total_s']:.1f} s (validate {t['validate_s']:.1f}, compute "
          f"{t['compute_s']:.1f}, notebooks {t['notebooks_s']:.1f}{beside}); "
          f"{summary['notebooks_ok']} of {len(summary['notebooks'])} notebooks ok")
