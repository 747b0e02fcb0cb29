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
    """Report text in dollars (``$1,234.56``, negatives ``-$...``): never raw cents."""
    from wip_lib.core.money import report_amount
    return report_amount(int(cents or 0))


#: Integer columns of the closed artefacts that are counts or ids, not cents.
NOT_CENTS = {"jobs", "jobs_in_progress", "jobs_completed", "journal_lines", "findings", "errors",
             "warnings", "info", "days_waiting", "row", "_row", "rank", "flag_count", "bytes",
             "close_id", "months_remaining", "budget_snapshot"}


def figure_text(column: str, value) -> str:
    """A closed or re-run figure as ``verify`` prints it: whole-number cents of a money column
    in dollars (:func:`wip_lib.core.money.report_amount`), anything else as stored."""
    text = "" if value is None else str(value)
    if column in NOT_CENTS or column.endswith(("_pct", "_points")) or \
            not text.lstrip("-").isdigit():
        return text
    return _money(int(text))


def summary(c) -> str:
    t = c.result.wip.totals()
    return (f"{c.rows['schedule']} jobs ({c.rows['completed']} completed this year), revenue "
            f"{_money(t['revenue_period'])}, gross profit {_money(t['gross_profit_period'])}, "
            f"journal {c.rows['journal']} lines, {c.rows['findings']} findings, "
            f"{c.rows['inputs']} input files fingerprinted")


def run(args) -> int:
    from wip_lib.close import close as closing
    from wip_lib.close.store import open_store, store_path
    from wip_lib.core.periods import check_period
    from wip_lib.sources.readers import load_company

    root = company_root(args.data_dir)
    if args.first and not args.through:
        raise PeriodError("--from goes with --through (close a range of periods)")
    if args.verify and not args.period:
        raise PeriodError("--verify goes with --period (the closed period to check)")
    path = store_path(root, args.store)
    if args.verify:
        return verify(args, root, path)
    # A company with no store yet is read before the store is made, so bad input leaves no
    # store behind; with a store, a refusal (period already closed) comes before the slow read.
    company = None if path.exists() else load_company(root)
    with open_store(root, args.store) as store:
        if args.period:
            period = check_period(args.period)
            closing.refuse_if_closed(store, period, root)  # before the slow part
            inputs = closing.fingerprints(root, store)
            company = company or load_company(root)
            c = closing.close_period(company, period, store, inputs=inputs)
            print(f"Closed {period} (close {c.close.close_id}) by {c.close.closed_by} at "
                  f"{c.close.closed_at} in {c.seconds:.1f} s -> {path}")
            print(f"  {summary(c)}")
            for note in c.result.wip.notes:
                print(f"  {note}")
            return 0
        return through(args, root, path, store, closing,
                       lambda r: company if company is not None else load_company(r))


def through(args, root, path, store, closing, load_company) -> int:
    from wip_lib.core.periods import check_period, next_period, periods_between

    started = time.perf_counter()
    last = check_period(args.through)
    company = load_company(root)
    latest = store.latest_closed()
    first = args.first or (next_period(latest) if latest else
                           closing.first_period(company))
    first = check_period(first)
    if first > last:
        print(f"Nothing to close: the latest closed period is {latest}.")
        return 0
    n = len(periods_between(first, last))
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
    from wip_lib.close.period import closed_changes
    from wip_lib.close.store import open_store
    from wip_lib.core.periods import check_period, next_period
    from wip_lib.sources.readers import load_company

    period = check_period(args.period)
    if not path.exists():
        raise PeriodError(f"no period store at {path}: nothing is closed yet")
    with open_store(root, args.store) as store:
        if not store.is_closed(period):
            raise PeriodError(f"{period} is not closed, so there is nothing to compare with")
        changes = closing.input_changes(store, period, root)
        if len(changes):
            print(f"warning: {closing.describe_changes(changes, period)}", file=sys.stderr)
        company = load_company(root)
        v = closing.verify_period(company, period, store)
        moved = closed_changes(company, period, store.load(period, "schedule"), store,
                               book_in=next_period(period))
    c = v.close
    for detail in moved["detail"]:
        print(f"! {detail}")
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
        print(f"  {r.artefact}: {where}: closed {figure_text(r.column, r.closed)}, now "
              f"{figure_text(r.column, r.now)}")
    if len(d) > 30:
        print(f"  ... and {len(d) - 30} more")
    print(f"The closed figures stand; to replace them: wip reopen {args.data_dir} --period "
          f"{period} --reason \"...\", then wip close {args.data_dir} --period {period}.")
    return 1
