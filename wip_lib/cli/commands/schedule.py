"""``wip schedule``: a job-status CSV (one row per job per period end) to the WIP schedule."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from wip_lib.core.errors import PolicyError

if TYPE_CHECKING:  # pandas is imported by the command when it runs, not by ``wip --help``
    import pandas as pd


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PolicyError(f"--threshold must be a fraction such as 0.10, not {text!r}") from None
    return value


def register(sub) -> None:
    p = sub.add_parser(
        "schedule", help="WIP schedule from a job-status CSV (ASC 606 cost-to-cost, "
        "ASC 605-35 losses)",
        description="Read JOB_STATUS.csv (job_id, period_end, contract_original, cost_to_date, "
        "est_cost_to_complete and/or est_total_cost, billed_to_date, ...) and write "
        "DIR/wip_schedule.csv with earned revenue, over/under billings and period amounts.")
    p.add_argument("job_status", metavar="JOB_STATUS.csv", type=Path)
    p.add_argument("--out", metavar="DIR", type=Path, required=True,
                   help="folder for wip_schedule.csv (created if needed)")
    p.add_argument("--net-loss-provision", action="store_true",
                   help="surety view: net loss provisions into under/overbillings")
    p.add_argument("--threshold", metavar="FRACTION", type=str, default="0",
                   help="start-of-job threshold as a fraction (0.10 = 10%%): below it revenue "
                   "equals cost; losses are never deferred")
    p.set_defaults(func=run)


def run(args) -> int:
    from wip_lib.accounting.status_schedule import build_schedule
    from wip_lib.reports.csvfiles import write_schedule
    from wip_lib.sources.job_status import read_job_status

    threshold = _fraction(args.threshold)
    status = read_job_status(args.job_status)
    schedule = build_schedule(status, threshold=threshold,
                              net_loss_provision=args.net_loss_provision)
    path = write_schedule(schedule, args.out)
    periods = schedule["period_end"]
    basis = " (under/overbillings net of loss provisions)" if args.net_loss_provision else ""
    print(f"wip schedule: {schedule['job_id'].nunique()} jobs, {periods.nunique()} period ends "
          f"({periods.min()} to {periods.max()}), {len(schedule)} rows -> {path}{basis}")
    for line in summary_lines(schedule):
        print("  " + line)
    return 0


def summary_lines(schedule: pd.DataFrame) -> list[str]:
    """Totals per period end: revenue, GP for the period, under/overbillings, loss provision."""
    from wip_lib.core.grouping import aggregate

    totals = aggregate(schedule, "period_end", sort=True, jobs=("job_id", "nunique"),
                       revenue=("revenue_period", "sum"),
                       gross_profit=("gross_profit_period", "sum"),
                       underbillings=("underbillings", "sum"), overbillings=("overbillings", "sum"),
                       loss_provision=("loss_provision", "sum"),
                       flagged=("flag", lambda f: int((f != "").sum())))

    def d(c) -> str:
        return f"{Decimal(int(c)) / 100:,.2f}"

    head = (f"{'period_end':<10} {'jobs':>4} {'revenue':>16} {'gross profit':>15} "
            f"{'underbillings':>15} {'overbillings':>15} {'loss provision':>15} {'flagged':>7}")
    lines = [head]
    for pe, t in totals.iterrows():  # one line per period end (a handful), for display only
        lines.append(f"{pe:<10} {t['jobs']:>4} {d(t['revenue']):>16} {d(t['gross_profit']):>15} "
                     f"{d(t['underbillings']):>15} {d(t['overbillings']):>15} "
                     f"{d(t['loss_provision']):>15} {t['flagged']:>7}")
    return lines
