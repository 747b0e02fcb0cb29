"""``wip billing DATA_DIR --period P --out DIR``: the draft AIA G702/G703 of every job and prime
contract for the period, and the review of the owner pay applications billed in it.

Writes ``DIR/billing_review.csv`` and, under ``DIR/billing/``, each draft's workbook (live
formulas), page and PDF (docs/billing.md). Exit 1 when the review has an error above
materiality, 2 when the input cannot be read."""
from __future__ import annotations

import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("billing", help="draft the owner's G702/G703 and review the pay "
                       "applications billed in the period")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="the company folder")
    p.add_argument("--period", help="period YYYY-MM (default: company.yaml's current_period)")
    p.add_argument("--out", type=Path, help="folder for billing_review.csv and billing/ "
                   "(default: reports/PERIOD)")
    p.add_argument("--no-pdf", action="store_true", help="write the workbooks and pages, not "
                   "the PDFs (no Chromium needed)")
    p.add_argument("--jobs", help="only these jobs' drafts, comma separated (the review covers "
                   "every job)")
    p.set_defaults(func=run)


def summary_lines(findings, what: str) -> list[str]:
    """The findings counted by check and severity, for the terminal."""
    if findings.empty:
        return [f"No {what} findings."]
    by = findings.groupby(["check", "severity"]).size().unstack(fill_value=0)
    return [f"{what.capitalize()} findings by check:"] + [
        "  " + str(check).ljust(18) + ", ".join(f"{int(n)} {s}" for s, n in r.items() if n)
        for check, r in by.iterrows()]


def print_problems(problems) -> None:
    for p in problems:
        print(f"{p.severity}: {p}")


def run(args) -> int:
    from wip_lib.close.billing import compute_billing
    from wip_lib.core.errors import InputError, Problem
    from wip_lib.core.period_range import check_in_data
    from wip_lib.core.periods import check_period
    from wip_lib.reports.billing import BILLING_REVIEW, FOLDER, write_billing
    from wip_lib.sources.readers import load_company

    started = time.perf_counter()
    company = load_company(Path(args.data_dir))
    # The period checked as every command checks it: a month, and one the data covers.
    period = check_in_data(company, check_period(args.period or company.settings.current_period))
    billing = compute_billing(company, period)
    if args.jobs:
        wanted = {j.strip() for j in args.jobs.split(",") if j.strip()}
        unknown = sorted(wanted - {d.job_id for d in billing.drafts})
        if unknown:
            raise InputError([Problem("--jobs", f"job {j} has no draft G702/G703 for {period}",
                                      "use job numbers of the jobs billed in the period",
                                      value=j) for j in unknown])
        billing.drafts = [d for d in billing.drafts if d.job_id in wanted]
    errors = [p for p in billing.problems if p.severity == "error"]
    if errors:
        raise InputError(errors)
    out = args.out or Path("reports") / period
    files = write_billing(billing, out, pdf=None if args.no_pdf else "jobs")
    print_problems(billing.problems)
    print(f"Progress billing for {period} (progress: {billing.progress}): "
          f"{len(billing.drafts)} draft G702/G703, {len(billing.review)} review findings")
    for line in summary_lines(billing.review, "billing review"):
        print(line)
    print(f"\nWrote {out / BILLING_REVIEW}, {len(files['xlsx'])} workbook(s) and "
          f"{len(files['pdf'])} PDF(s) in {out / FOLDER}/")
    print(f"Time: {time.perf_counter() - started:.1f} s")
    material = billing.review["severity"].eq("error").any()
    return 1 if material else 0
