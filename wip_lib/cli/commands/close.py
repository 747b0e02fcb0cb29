"""``wip close DATA_DIR --period YYYY-MM``: compute a period and freeze it in the period store.

``--through YYYY-MM [--from YYYY-MM]`` closes the history month by month in one command;
``--period YYYY-MM --verify`` re-runs a closed period and compares it with what was closed.
See :mod:`wip_lib.close.close` and docs/period-close.md.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from wip_lib.core.errors import InputError, PeriodError, Problem
from wip_lib.core.period_range import check_in_data


def register(sub) -> None:
    p = sub.add_parser(
        "close", help="freeze a month-end in the period store (or close the history up to a "
        "month)",
        description="Compute the period and freeze its WIP schedule, completed contracts, ETC "
        "used (with overrides), reconciliation findings, journal entry and input fingerprints "
        "in one transaction. A closed period is refused until `wip reopen` reopens it. The "
        "first close may be any period; after that periods close in order.")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="company folder (holds "
                   "company.yaml)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--period", metavar="YYYY-MM", help="the period to close")
    which.add_argument("--through", metavar="YYYY-MM", help="close every period up to this one, "
                       "in order, one transaction each")
    p.add_argument("--from", dest="first", metavar="YYYY-MM", help="with --through: the first "
                   "period (default: the month after the latest closed one, or the company's "
                   "earliest month of data)")
    p.add_argument("--verify", action="store_true", help="with --period: re-run the closed "
                   "period and compare with what was closed; list input files changed since "
                   "(exit 1 when anything differs)")
    p.add_argument("--store", type=Path, metavar="FILE", help="the store file (default: "
                   "store_path in company.yaml, else DATA_DIR/wip_store.duckdb)")
    p.set_defaults(func=run)


def company_root(data_dir: Path) -> Path:
    if not (data_dir / "company.yaml").is_file():
        raise InputError([Problem(str(data_dir), "not a company folder (no company.yaml)",
                                  "give the folder that holds company.yaml, e.g. data/sample")])
    return data_dir


def _money(cents) -> str:
    from wip_lib.reports.html import dollars
    return dollars(cents) or "0.00"


def summary(c) -> str:
    t = c.result.wip.totals()
    return (f"{c.rows['schedule']} jobs ({c.rows['completed']} completed this year), revenue "
            f"{_money(t['revenue_period'])}, gross profit {_money(t['gross_profit_period'])}, "
            f"journal {c.rows['journal']} lines, {c.rows['findings']} findings, "
            f"{c.rows['inputs']} input files fingerprinted")


def run(args) -> int:
    from wip_lib.close import close as closing
    from wip_lib.accounting.forecast import check_period
    from wip_lib.sources.readers import load_company

    root = company_root(args.data_dir)
    if args.first and not args.through:
        raise PeriodError("--from goes with --through (close a range of periods)")
    if args.verify and not args.period:
        raise PeriodError("--verify goes with --period (the closed period to check)")
    path = closing.store_path(root, args.store)
    if args.verify:
        return verify(args, root, path)
    with closing.open_store(root, args.store) as store:
        if args.period:
            period = check_period(args.period)
            closing.refuse_if_closed(store, period, root)  # before the slow part
            inputs = closing.fingerprints(root, store)
            company = load_company(root)
            check_in_data(company, period)
            c = closing.close_period(company, period, store, inputs=inputs)
            print(f"Closed {period} (close {c.close.close_id}) by {c.close.closed_by} at "
                  f"{c.close.closed_at} in {c.seconds:.1f} s -> {path}")
            print(f"  {summary(c)}")
            for note in c.result.wip.notes:
                print(f"  {note}")
            return 0
        return through(args, root, path, store, closing, load_company)


def through(args, root, path, store, closing, load_company) -> int:
    from wip_lib.accounting.forecast import check_period

    started = time.perf_counter()
    last = check_period(args.through)
    company = load_company(root)
    latest = store.latest_closed()
    first = args.first or (closing.next_period(latest) if latest else
                           closing.first_period(company))
    first = check_period(first)
    if first > last:
        print(f"Nothing to close: the latest closed period is {latest}.")
        return 0
    if not store.is_closed(first):
        store.check_can_close(first)  # periods close in order: first say which one is next
    check_in_data(company, first, option="--from")
    check_in_data(company, last, option="--through")
    n = len(closing.periods_between(first, last))
    print(f"Closing {first} .. {last} ({n} period{'s' if n != 1 else ''}) into {path}"
          + (f"; latest closed so far: {latest}" if latest else "; first close of the company"))

    def progress(i, total, period, c):
        if c is None:
            print(f"[{i:>{len(str(total))}}/{total}] {period} already closed, skipped",
                  flush=True)
        else:
            print(f"[{i:>{len(str(total))}}/{total}] {period} closed (close "
                  f"{c.close.close_id}) in {c.seconds:.1f} s: {summary(c)}", flush=True)

    try:
        done = closing.close_through(company, last, store, first=first, progress=progress)
    except BaseException as exc:
        now = store.latest_closed()
        print(f"stopped: {type(exc).__name__}; the periods closed before stay closed (latest "
              f"closed: {now or 'none'}). Rerun the same command to go on.", file=sys.stderr)
        raise
    print(f"Closed {len(done)} period{'s' if len(done) != 1 else ''} in "
          f"{time.perf_counter() - started:.1f} s; latest closed: {store.latest_closed()}.")
    return 0


def verify(args, root, path) -> int:
    from wip_lib.close import close as closing
    from wip_lib.accounting.forecast import check_period
    from wip_lib.sources.readers import load_company

    period = check_period(args.period)
    if not path.exists():
        raise PeriodError(f"no period store at {path}: nothing is closed yet")
    with closing.open_store(root, args.store) as store:
        if not store.is_closed(period):
            raise PeriodError(f"{period} is not closed, so there is nothing to compare with")
        changes = closing.input_changes(store, period, root)
        if len(changes):
            print(f"warning: {closing.describe_changes(changes, period)}", file=sys.stderr)
        company = load_company(root)
        check_in_data(company, period)
        v = closing.verify_period(company, period, store)
    c = v.close
    if v.identical:
        print(f"{period}: the re-run is identical to the close (close {c.close_id}, closed "
              f"{c.closed_at} by {c.closed_by}): every figure of every artefact agrees.")
        return 0
    d = v.differences
    by = d.groupby("artefact", sort=False).size()
    print(f"{period}: the re-run differs from the close (close {c.close_id}, closed "
          f"{c.closed_at} by {c.closed_by}): "
          + ", ".join(f"{a} {n}" for a, n in by.items()) + " difference(s).")
    for r in d.head(30).itertuples():
        where = " ".join(x for x in (r.row, r.column) if x)
        print(f"  {r.artefact}: {where}: closed {r.closed}, now {r.now}")
    if len(d) > 30:
        print(f"  ... and {len(d) - 30} more")
    print(f"The closed figures stand; to replace them: wip reopen {args.data_dir} --period "
          f"{period} --reason \"...\", then wip close {args.data_dir} --period {period}.")
    return 1
