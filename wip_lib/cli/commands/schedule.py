"""``wip schedule``: a job-status CSV (one row per job per period end) to the WIP schedule."""
from __future__ import annotations

from pathlib import Path

from wip_lib.sources import job_status as jobstatus
from wip_lib.core.errors import PolicyError


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
    threshold = _fraction(args.threshold)
    status = jobstatus.read_job_status(args.job_status)
    schedule = jobstatus.build_schedule(status, threshold=threshold,
                                        net_loss_provision=args.net_loss_provision)
    path = jobstatus.write_schedule(schedule, args.out)
    periods = schedule["period_end"]
    basis = " (under/overbillings net of loss provisions)" if args.net_loss_provision else ""
    print(f"wip schedule: {schedule['job_id'].nunique()} jobs, {periods.nunique()} period ends "
          f"({periods.min()} to {periods.max()}), {len(schedule)} rows -> {path}{basis}")
    for line in jobstatus.summary_lines(schedule):
        print("  " + line)
    return 0
