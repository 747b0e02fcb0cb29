"""``wip package DATA_DIR --period YYYY-MM``: the month-end package as one PDF.

The WIP schedule, completed contracts, over and under billings, the journal entry, the cost to
complete summary, the reconciliation summary, notes with the policies, and a prepared-by /
reviewed-by / approved sign-off block (:mod:`wip_lib.reports.package`), printed by headless
Chromium. The month-end writes the same file as ``reports/PERIOD/wip_package.pdf``.
"""
from __future__ import annotations

import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("package", help="the month-end package as one PDF (schedule, journal "
                       "entry, reconciliation summary, notes, sign-off)")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="company folder (holds "
                   "company.yaml)")
    p.add_argument("--period", metavar="YYYY-MM", help="the period (default: the company's "
                   "current period)")
    p.add_argument("--out", type=Path, help="the PDF to write (default "
                   "reports/PERIOD/wip_package.pdf); its HTML page is written beside it")
    p.set_defaults(func=run)


def run(args) -> int:
    from wip_lib.close.period import compute_period
    from wip_lib.core.money import report_amount
    from wip_lib.reports.package import write_package
    from wip_lib.sources.readers import load_company

    started = time.perf_counter()
    company = load_company(args.data_dir)
    result = compute_period(company, args.period)
    target = args.out or Path("reports") / result.period / "wip_package.pdf"
    write_package(result, target)
    t = result.wip.totals()
    print(f"Wrote {target} ({target.stat().st_size // 1024} KB) in "
          f"{time.perf_counter() - started:.1f} s: {result.company_name}, {result.period}; "
          f"revenue for the period {report_amount(t['revenue_period'])}, underbillings "
          f"{report_amount(t['underbillings'])}, overbillings "
          f"{report_amount(t['overbillings'])}; sign-off block for prepared by, reviewed by, "
          "approved by.")
    return 0
