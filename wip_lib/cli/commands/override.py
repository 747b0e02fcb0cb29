"""``wip override JOB COST_CODE --etc AMOUNT --who NAME --why TEXT [--period P] [--cost-type T]``:
record a controller override of the estimate to complete.

Checked before anything is written: the amount is money (whole cents, 0 or more); the job, the
cost code (``all`` or ``-`` for the whole job) and the cost type exist in the period's forecast;
and the override can be honoured with the period's other overrides (a broader override may not
be less than the code overrides inside it; :mod:`wip_lib.accounting.overrides`). Then one row is
appended to ``overrides/PERIOD.csv`` (:func:`wip_lib.sources.overrides_file.write_override`)
with who, why and when: now, to the second, ISO 8601 with the UTC offset. Bad input is a message
naming the argument and the fix, and exit 1; the file is left as it was.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from wip_lib.core.errors import InputError, Problem

WHOLE_JOB = ("all", "-", "*")


def register(sub) -> None:
    p = sub.add_parser("override", help="record a controller override of cost to complete "
                       "(validated, with who, why and a full timestamp)",
                       description="Override the PM's estimate to complete of a job's cost code "
                       "(all its types, or one with --cost-type; COST_CODE 'all' for the whole "
                       "job). The row goes to DATA_DIR/overrides/PERIOD.csv; the next run of any "
                       "command uses it, and the audit trail and project pages list it.")
    p.add_argument("job", metavar="JOB", help="job number, as the schedule shows it")
    p.add_argument("cost_code", metavar="COST_CODE", help="cost code of the job's budget, or "
                   "'all' for the whole job")
    p.add_argument("--etc", required=True, metavar="AMOUNT", help="the cost still to come, "
                   "in dollars: 12345.67 or 12,345.67")
    p.add_argument("--who", required=True, metavar="NAME", help="who makes the override")
    p.add_argument("--why", required=True, metavar="TEXT", help="why the PM's forecast is "
                   "overridden (kept in the audit trail)")
    p.add_argument("--period", metavar="YYYY-MM", help="the period (default: the company's "
                   "current period)")
    p.add_argument("--cost-type", default="", metavar="T", help="one cost type of the code "
                   "(default: all its types)")
    p.add_argument("--data-dir", type=Path, default=Path("."), metavar="DATA_DIR",
                   help="company folder (default: the current folder)")
    p.set_defaults(func=run)


def _problem(column: str, message: str, fix: str, value: str = "") -> InputError:
    return InputError([Problem("wip override", message, fix, column=column, value=value)])


def run(args) -> int:
    import pandas as pd  # here, not at the top: ``wip --help`` imports every command

    from wip_lib.accounting.forecast import cost_to_complete
    from wip_lib.cli.commands.close import company_root
    from wip_lib.core.money import parse_cents, report_amount
    from wip_lib.core.periods import check_period
    from wip_lib.sources.overrides_file import (
        empty,
        money_text,
        override_path,
        scope,
        validate_overrides,
        write_override,
    )
    from wip_lib.sources.readers import load_company

    root = company_root(args.data_dir)
    for name in ("who", "why"):
        if not str(getattr(args, name)).strip():
            raise _problem(f"--{name}", f"--{name} is blank", "say who makes the override"
                           if name == "who" else "say why the PM's forecast is overridden")
    try:
        etc_text = money_text(args.etc.strip())  # not money, negative, fraction of a cent
    except InputError as exc:
        raise InputError([Problem("wip override", p.message, p.fix, column="--etc",
                                  value=args.etc) for p in exc.problems]) from None
    etc = int(parse_cents(pd.Series([etc_text], dtype="string"))[0].iloc[0])
    company = load_company(root)
    period = check_period(args.period or company.settings.current_period)
    code = "" if args.cost_code.strip().lower() in WHOLE_JOB else args.cost_code.strip()
    ctype = args.cost_type.strip()
    now = datetime.now().astimezone().replace(microsecond=0)

    existing = company.overrides_for(period)
    before = cost_to_complete(company, period, existing)
    row = pd.DataFrame([{"job_id": args.job.strip(), "cost_code": code, "cost_type": ctype,
                  "etc_amount": etc, "who": args.who.strip(),
                  "when": pd.Timestamp(now.replace(tzinfo=None)), "why": args.why.strip(),
                  "when_text": now.isoformat(), "_file": "wip override", "_row": pd.NA}])
    row = row.astype({**empty().dtypes.to_dict(), "_row": "Int64"})
    problems = validate_overrides(row, before)
    if problems:
        p = problems[0]
        arg = {"job_id": "JOB", "cost_code": "COST_CODE", "cost_type": "--cost-type"}.get(
            p.column, p.column)
        fix = {"COST_CODE": "use a cost code of the job's budget (wip forecast lists them), or "
                            "'all' for the whole job",
               "--cost-type": "use a cost type of that code, or leave --cost-type out for all "
                              "its types"}.get(arg, p.fix)
        raise InputError([Problem("wip override", f"{p.message} in the {period} forecast",
                                  fix, column=arg, value=p.value)])
    combined = pd.concat([existing, row], ignore_index=True) if len(existing) else row
    after = cost_to_complete(company, period, combined)  # raises when it cannot be honoured
    in_scope = scope(row, before)["_fc"].to_numpy()
    pm = int(before["etc_pm"].iloc[in_scope].sum())  # the PM's estimate to complete
    used_before = int(before["etc_used"].iloc[in_scope].sum())
    used_after = int(after["etc_used"].iloc[in_scope].sum())

    path = write_override(root, period, {
        "job_id": args.job.strip(), "cost_code": code, "cost_type": ctype,
        "etc_amount": etc_text, "who": args.who.strip(), "why": args.why.strip(),
        "when": now})
    what = f"job {args.job.strip()}" + (f" cost code {code}" if code else " (whole job)") + (
        f" type {ctype}" if ctype else (" (all types)" if code else ""))
    print(f"Override recorded in {path.relative_to(root) if path.is_relative_to(root) else path}"
          f" at {now.isoformat()} by {args.who.strip()}: {what}, estimate to complete "
          f"{report_amount(etc)}.")
    print(f"  PM's forecast {report_amount(pm)}; ETC used before {report_amount(used_before)}, "
          f"now {report_amount(used_after)} ({report_amount(used_after - used_before)}).")
    print(f"  Why: {args.why.strip()}")
    print(f"  {override_path(root, period).name} is read by every command of {period}; see the "
          f"override log on the job's page and override_audit.csv.")
    return 0
