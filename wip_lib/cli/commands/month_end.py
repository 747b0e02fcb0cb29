"""``wip month-end DATA_DIR --period YYYY-MM``: the whole month-end in one command.

1. Validate the company folder (every file read, every row accounted for).
2. Compute the period once (schedule, forecast and flags, reconciliation, journal entry, history)
   and write the CSV reports, the Excel workbook and the computed bundle (``data/``).
3. Execute the project dashboard once per job, the portfolio dashboard and the reconciliation
   workbook with Papermill, in parallel; publish each as offline HTML (no code, no CDN).
4. Write ``index.html`` (the portfolio, linking every project) and ``run_summary.json``.

One notebook's failure never stops the others; it is listed with its error and
``--only-failed`` re-runs just those.
"""
from __future__ import annotations

import html
import json
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from wip_lib.core.errors import InputError, Problem
from wip_lib.core.identifiers import path_inside, safe_name
from wip_lib.core.period_range import check_in_data

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = ROOT / "notebooks"
PROJECT_NB = NOTEBOOKS / "project_dashboard.ipynb"
PORTFOLIO_NB = NOTEBOOKS / "portfolio_dashboard.ipynb"
RECON_NB = NOTEBOOKS / "reconciliation.ipynb"
SUMMARY = "run_summary.json"


def register(sub) -> None:
    p = sub.add_parser("month-end", help="validate, compute and publish the month-end reports")
    p.add_argument("data_dir", type=Path, help="company folder (holds company.yaml)")
    p.add_argument("--period", help="period YYYY-MM (default: the company's current period)")
    p.add_argument("--out", type=Path, default=Path("reports"), help="reports root (default "
                   "reports/); the period's reports go to OUT/PERIOD/")
    p.add_argument("--workers", type=int, default=2, help="notebooks run in parallel (default 2)")
    p.add_argument("--only-failed", action="store_true", help="re-run only the notebooks that "
                   "failed in the last run of this period (from run_summary.json)")
    p.add_argument("--project-notebook", type=Path, default=PROJECT_NB,
                   help="the per-project notebook (default notebooks/project_dashboard.ipynb)")
    p.add_argument("--jobs", help="only these projects' dashboards, comma separated (default: "
                   "every job in the schedule)")
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


def _index(bundle, out: Path, results: dict) -> Path:
    """index.html: key figures, links to every project, the portfolio dashboard below."""
    from wip_lib.reports.notebooks import PLOTLY_ASSET, page
    from wip_lib.reports.html import dollars, percent

    s = bundle["schedule"]
    rows = []
    for r in s.itertuples():
        res = results.get(r.job_id)
        state = "ok" if res and res["ok"] else ("FAILED: " + (res["error"] or "") if res else
                                                "not run")
        link = (f'<a href="projects/{html.escape(r.job_id)}.html">{html.escape(r.job_id)}</a>'
                if res and res["ok"] else html.escape(r.job_id))
        cls = ' class="flag"' if r.loss_provision > 0 else ""
        rows.append(
            f"<tr{cls}><td>{link}</td>"
            f"<td>{html.escape(str(r.job_name))}</td><td>{html.escape(str(r.status))}</td>"
            f"<td>{dollars(r.contract_revised, whole=True)}</td>"
            f"<td>{percent(r.pct_complete)}</td><td>{percent(r.est_gp_pct)}</td>"
            f"<td>{dollars(r.underbillings, whole=True)}</td>"
            f"<td>{dollars(r.overbillings, whole=True)}</td>"
            f"<td>{html.escape(str(r.flag or ''))}</td><td>{html.escape(state)}</td></tr>")
    links = ('<h2>Projects</h2><table><thead><tr><th>job</th><th>name</th><th>status</th>'
             '<th>contract</th><th>% complete</th><th>est. margin</th><th>underbillings</th>'
             '<th>overbillings</th><th>flags</th><th>dashboard</th></tr></thead><tbody>'
             + "".join(rows) + "</tbody></table>"
             '<p>Also: <a href="reconciliation.html">reconciliation workbook</a> · '
             '<a href="wip_schedule.xlsx">Excel WIP workbook</a> · '
             '<a href="wip_schedule.csv">wip_schedule.csv</a> · '
             '<a href="journal_entry.csv">journal_entry.csv</a> · '
             '<a href="run_summary.json">run summary</a></p>')
    body = ""
    portfolio = out / "portfolio.html"
    if portfolio.exists():
        text = portfolio.read_text(encoding="utf-8")
        start, end = text.find("<main>"), text.rfind("</main>")
        body = text[start + 6:end] if start >= 0 and end > start else ""
    target = out / "index.html"
    target.write_text(page(f"{bundle.company_name}: WIP {bundle.period}", links + body,
                           plotly_src=PLOTLY_ASSET,
                           subtitle=f"Month-end reports for {bundle.period}"), encoding="utf-8")
    return target


def run(args) -> int:
    from wip_lib.close import bundle as bundles
    from wip_lib.reports.notebooks import PLOTLY_ASSET, run_batch, write_plotly_asset
    from wip_lib.cli.commands.validate import print_report
    from wip_lib.accounting.forecast import check_period
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
    print(f"Validated {len(reports)} files: {sum(r.rows_in for r in reports)} rows in = "
          f"{sum(r.rows_accepted for r in reports)} accepted + "
          f"{sum(r.rows_reported for r in reports)} reported + "
          f"{sum(r.rows_totals + r.rows_blank + r.rows_excluded for r in reports)} "
          "totals/blank/not-cost rows", flush=True)
    timings["validate_s"] = time.perf_counter() - t

    previous = _previous(out) if args.only_failed else None
    if args.only_failed and previous is None:
        raise InputError([Problem(str(out / SUMMARY), "no earlier run of this period to re-run",
                                  "run the month-end without --only-failed first")])

    t = time.perf_counter()
    if previous is None:
        b = _compute(company, period, out)
    else:
        b = bundles.load(out / "data")
    timings["compute_s"] = time.perf_counter() - t

    warnings = missing_snapshots(b["schedule"], b["budget_history"], b.period)
    for w in warnings:
        print(f"warning: {w}", flush=True)

    t = time.perf_counter()
    write_plotly_asset(out)
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
    print(f"Executing {len(runs)} notebooks on {args.workers} worker(s) ...", flush=True)
    results = run_batch(
        runs, workers=max(1, args.workers), cwd=ROOT,
        plotly_src_for=lambda r: ("../" if r.output_html.parent.name == "projects" else "")
        + PLOTLY_ASSET,
        subtitle=f"{b.company_name} · period {period}",
        back_link_for=lambda r: "../index.html" if r.output_html.parent.name == "projects"
        else "index.html", progress=not args.no_progress, log=out / "notebooks" / "kernels.log")
    timings["notebooks_s"] = time.perf_counter() - t

    merged = dict(previous["notebooks"]) if previous else {}
    for r in results:
        merged[r.key] = {"ok": r.ok, "seconds": round(r.seconds, 3), "error": r.error,
                         "html": _rel(Path(r.output_html), out) if r.ok else None,
                         "notebook": _rel(Path(r.output_ipynb), out)}
    _index(b, out, merged)
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


def _previous(out: Path) -> dict | None:
    p = out / SUMMARY
    if not p.is_file() or not (out / "data" / "meta.json").is_file():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


def _compute(company, period: str, out: Path):
    from wip_lib.close import bundle as bundles
    from wip_lib.accounting import forecast as fc
    from wip_lib.accounting.history import job_history
    from wip_lib.close.period import compute_period, write_reports

    result = compute_period(company, period)
    history = job_history(company, result.period)
    b = bundles.from_result(result, history, fc.budget_history(company, result.period))
    if (out / "data").exists():
        shutil.rmtree(out / "data")
    bundles.save(b, out / "data")
    write_reports(result, out)
    from wip_lib.reports.excel.workbook import write_wip_workbook

    write_wip_workbook(result, out / "wip_schedule.xlsx", settings=company.settings)
    return b


def _totals(b) -> dict[str, str]:
    from wip_lib.core.money import cents_to_text
    import pandas as pd

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
    if summary.get("warnings"):
        print(f"\n{len(summary['warnings'])} warning(s) on the input (also on the dashboards):")
        for w in summary["warnings"]:
            print(f"  warning: {w}")
    t = summary["timings"]
    print(f"\nReports in {out}/ (open {out / 'index.html'})")
    print(f"Time: {t['total_s']:.1f} s (validate {t['validate_s']:.1f}, compute "
          f"{t['compute_s']:.1f}, notebooks {t['notebooks_s']:.1f}); "
          f"{summary['notebooks_ok']} of {len(summary['notebooks'])} notebooks ok")
