"""``wip payapps DATA_DIR --period P --out DIR``: every subcontractor pay application billed in
the period checked against its commitment (billed within the commitment and its approved change
orders, retainage at the subcontract's rate, stored materials, the arithmetic, the lien waiver
for the previous payment); writes ``DIR/payapp_findings.csv`` (docs/billing.md). Exit 1 when a
finding is an error above materiality, 2 when the input (lien_waivers.csv included) cannot be
read."""
from __future__ import annotations

import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("payapps", help="review the subcontractor pay applications of a period "
                       "against their commitments")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="the company folder")
    p.add_argument("--period", help="period YYYY-MM (default: company.yaml's current_period)")
    p.add_argument("--out", type=Path, help="folder for payapp_findings.csv (default: "
                   "reports/PERIOD)")
    p.set_defaults(func=run)


def run(args) -> int:
    from wip_lib.cli.commands.billing import print_problems, summary_lines
    from wip_lib.close.billing import compute_payapps
    from wip_lib.core.errors import InputError
    from wip_lib.core.period_range import check_in_data
    from wip_lib.core.periods import check_period
    from wip_lib.reports.billing import PAYAPP_FINDINGS, write_findings
    from wip_lib.sources.readers import load_company

    started = time.perf_counter()
    company = load_company(Path(args.data_dir))
    # The period checked as every command checks it: a month, and one the data covers.
    period = check_in_data(company, check_period(args.period or company.settings.current_period))
    findings, problems = compute_payapps(company, period)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(errors)
    out = args.out or Path("reports") / period
    path = write_findings(findings, out / PAYAPP_FINDINGS)
    print_problems(problems)
    print(f"Subcontractor pay-app review for {period}: {len(findings)} findings")
    for line in summary_lines(findings, "pay-app"):
        print(line)
    print(f"\nWrote {path}")
    print(f"Time: {time.perf_counter() - started:.1f} s")
    return 1 if findings["severity"].eq("error").any() else 0
