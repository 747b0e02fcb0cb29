"""``wip reopen DATA_DIR --period YYYY-MM --reason "..."``: reopen the latest closed period.

Who reopens is ``WIP_USER`` if set, else the login name; who, when and why go to the store's
audit log. The reopened close stays in the store as history; ``wip close`` closes it again.
"""
from __future__ import annotations

from pathlib import Path

from wip_lib.core.errors import PeriodError


def register(sub) -> None:
    p = sub.add_parser("reopen", help="reopen a closed period (with a reason, logged)",
                       description="Reopen the latest closed period so that it can be closed "
                       "again. The reason, who (WIP_USER or the login name) and when are logged; "
                       "the figures of the reopened close are kept as history.")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="company folder")
    p.add_argument("--period", metavar="YYYY-MM", required=True, help="the period to reopen")
    p.add_argument("--reason", required=True, help="why the period is reopened (required)")
    p.add_argument("--store", type=Path, metavar="FILE", help="the store file (default: "
                   "store_path in company.yaml, else DATA_DIR/wip_store.duckdb)")
    p.set_defaults(func=run)


def run(args) -> int:
    from wip_lib.cli.commands.close import company_root
    from wip_lib.close import close as closing
    from wip_lib.close.store import open_store, store_path
    from wip_lib.core.periods import check_period

    root = company_root(args.data_dir)
    period = check_period(args.period)
    path = store_path(root, args.store)
    if not path.exists():
        raise PeriodError(f"no period store at {path}: nothing is closed, so there is nothing "
                          "to reopen")
    with open_store(root, args.store) as store:
        c = closing.reopen_period(store, period, args.reason)
        log = store.audit().iloc[-1]
    print(f"Reopened {period} by {log['who']} at {log['happened_at']}: {args.reason.strip()}")
    print(f"  The close it replaces (close {c.close_id}, closed {c.closed_at} by {c.closed_by}) "
          "stays in the store as history.")
    print(f"  Close it again with: wip close {args.data_dir} --period {period}")
    return 0
