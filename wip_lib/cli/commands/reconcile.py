"""``wip reconcile``: reconcile Procore to the ERP for a period and write the findings."""
from __future__ import annotations

import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("reconcile", help="reconcile Procore to the ERP at a period end")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="the company folder")
    p.add_argument("--period", help="period to reconcile, YYYY-MM (default: company.yaml's "
                   "current_period)")
    p.add_argument("--out", type=Path, help="folder for reconciliation.csv and "
                   "reconciliation_summary.csv (default: reports/PERIOD)")
    p.set_defaults(func=run)

def _print_summary(summary, findings, cov, period: str) -> None:
    from wip_lib.reports.csvfiles import SUMMARY_MONEY
    from wip_lib.reports.html import dollars

    cols = ["job", "Procore JTD", "ERP cost", "variance", "explained", "unexplained", "err",
            "warn", "info"]
    rows = [[r.job_id, dollars(r.procore_total), dollars(r.erp_total), dollars(r.variance),
             dollars(r.explained), dollars(r.unexplained), str(r.errors), str(r.warnings),
             str(r.info)] for r in summary.itertuples()]
    tot = summary[SUMMARY_MONEY].sum()
    rows.append(["TOTAL", *(dollars(tot[c]) for c in SUMMARY_MONEY),
                 str(summary["errors"].sum()), str(summary["warnings"].sum()),
                 str(summary["info"].sum())])
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    line = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(f"Reconciliation, Procore to ERP, period {period}")
    print(line(cols))
    for r in rows:
        print(line(r))
    if len(findings):
        by = findings.groupby(["check", "severity"]).size().unstack(fill_value=0)
        print("\nFindings by check:")
        for check, r in by.iterrows():
            print("  " + check.ljust(26) + ", ".join(f"{int(n)} {s}" for s, n in r.items() if n))
    c = cov[["erp_rows", "erp_amount", "matched_rows", "matched_amount", "finding_rows",
             "finding_amount", "uncovered_rows", "uncovered_amount"]].sum()
    print(f"\nCoverage: {c.erp_rows} ERP job-cost transactions ({dollars(c.erp_amount)}) = "
          f"{c.matched_rows} matched ({dollars(c.matched_amount)}) + {c.finding_rows} in findings "
          f"({dollars(c.finding_amount)}) + {c.uncovered_rows} uncovered "
          f"({dollars(c.uncovered_amount)})" + ("" if bool(cov["foots"].all()) else
                                                "  <-- DOES NOT FOOT"))

def run(args) -> int:
    from wip_lib.core.period_range import check_in_data
    from wip_lib.core.periods import check_period
    from wip_lib.reconcile import coverage, reconcile, tie_out  # noqa: F401
    from wip_lib.reports.csvfiles import SUMMARY_MONEY, write_report_csv
    from wip_lib.sources.readers import load_company

    started = time.perf_counter()
    company = load_company(Path(args.data_dir))
    period = check_in_data(company, check_period(args.period or company.settings.current_period))
    loaded = time.perf_counter()
    findings, summary = reconcile(company, period)
    cov = coverage(company, period, findings)
    done = time.perf_counter()
    out = args.out or Path("reports") / period
    write_report_csv(findings, out / "reconciliation.csv",
                     money=["procore_amount", "erp_amount", "difference"],
                     keep=["check", "severity"])
    write_report_csv(summary, out / "reconciliation_summary.csv", money=SUMMARY_MONEY)
    _print_summary(summary, findings, cov, period)
    print(f"\nWrote {out / 'reconciliation.csv'} ({len(findings)} findings) and "
          f"{out / 'reconciliation_summary.csv'}")
    print(f"Time: {done - started:.2f} s ({loaded - started:.2f} s reading, "
          f"{done - loaded:.2f} s reconciling)")
    return 1 if int(summary["unexplained"].abs().sum()) or not bool(cov["foots"].all()) else 0
