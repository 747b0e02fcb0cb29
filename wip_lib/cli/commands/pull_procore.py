"""``wip pull-procore --company ID --projects 123,456 --period YYYY-MM --out DATA_DIR``.

Pulls the projects' Procore data through the REST API into the company folder ``DATA_DIR`` (the
same files a user would download, so ``wip validate DATA_DIR`` reads them), with a progress bar.
Credentials come from ``PROCORE_CLIENT_ID`` / ``PROCORE_CLIENT_SECRET`` and are never printed.
``--incremental`` reuses what an earlier pull left in the folder (frozen budget snapshots,
unchanged commitments' lines, vendors and prime change orders by ``updated_at``), asking for what
changed since ten minutes before that pull began (clocks differ; a record read twice is merged).
Setup and permissions: ``docs/procore-connector.md``.
"""
from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from wip_lib.core.errors import InputError, Problem

SKEW = timedelta(minutes=10)


def register(sub) -> None:
    p = sub.add_parser("pull-procore", help="pull projects from Procore's API into a company "
                       "folder (credentials from PROCORE_CLIENT_ID / PROCORE_CLIENT_SECRET)")
    p.add_argument("--company", required=True, help="Procore company id")
    p.add_argument("--projects", default="", help="comma-separated Procore project ids or "
                   "project numbers (default: every active project the app can see)")
    p.add_argument("--period", required=True, help="month-end period YYYY-MM: budget snapshots "
                   "up to it; the live budget stands for it while it has no snapshot")
    p.add_argument("--out", type=Path, required=True, help="company folder to write (merged "
                   "with what it holds)")
    p.add_argument("--budget-view", help="budget view name or id (default: company.yaml's "
                   "budget_view in --out, else the Procore Standard Budget View)")
    p.add_argument("--include-inactive", action="store_true", help="pull inactive projects "
                   "too (default: active ones, and inactive ones named in --projects)")
    p.add_argument("--incremental", action="store_true", help="fetch only what changed since "
                   "the folder's last pull")
    p.add_argument("--timezone", help="the company's time zone (IANA), for projects Procore "
                   "gives none (default: company.yaml's time_zone in --out; each project's own "
                   "zone always wins)")
    p.add_argument("--per-page", type=int, default=100, help="page size asked of Procore "
                   "(default 100, at most 2,000 as Procore recommends)")
    p.set_defaults(func=run)


def run(args) -> int:
    from tqdm import tqdm

    from wip_lib.core.periods import is_period
    from wip_lib.sources.procore_api import (
        FolderState,
        ProcoreClient,
        PullSpec,
        frozen_budgets,
        pull,
        write_pull,
    )
    from wip_lib.sources.procore_api.frames import zone

    period = str(args.period).strip()
    if not is_period(period):
        raise InputError([Problem("--period", "not a period", "write it as YYYY-MM, e.g. "
                                  "2026-10", value=args.period)])
    if args.timezone and zone(args.timezone) is None:
        raise InputError([Problem("--timezone", "unknown time zone", "use an IANA name such as "
                                  "America/Los_Angeles", value=args.timezone)])
    if not 1 <= args.per_page <= 2000:
        raise InputError([Problem("--per-page", "page size out of range", "give 1 to 2000 "
                                  "(Procore recommends at most 2,000)", value=args.per_page)])
    out: Path = args.out
    company = str(args.company).strip()
    if not company.isdigit():
        raise InputError([Problem("--company", "not a Procore company id", "give the number in "
                                  "the company's Procore URLs (.../companies/1234/...)",
                                  value=args.company)])
    state = FolderState.load(out)
    budget_view, time_zone = args.budget_view, args.timezone
    if (out / "company.yaml").is_file():
        from wip_lib.core.settings import Settings

        settings = Settings.load(out / "company.yaml")
        budget_view = budget_view or settings.budget_view
        time_zone = time_zone or settings.time_zone
    since = None
    if args.incremental:
        if state.company_id not in (None, company):
            raise InputError([Problem(str(out), f"the folder was pulled from company "
                                      f"{state.company_id}, not {company}",
                                      "pull into another folder")])
        # ten minutes' overlap: a clock a little ahead of Procore's must not miss an update
        since = state.pulled_at - SKEW if state.pulled_at else None
        if since is None:
            print("No earlier pull recorded in the folder: pulling everything.", file=sys.stderr)
    spec = PullSpec(company_id=company, period=period,
                    projects=tuple(p for p in (s.strip() for s in args.projects.split(",")) if p),
                    budget_view=budget_view, timezone=time_zone, since=since,
                    frozen_budgets=frozen_budgets(out, state, budget_view) if since
                    else frozenset(), include_inactive=args.include_inactive)
    client = ProcoreClient(company, per_page=args.per_page)
    started = datetime.now(timezone.utc)
    with tqdm(total=1, unit="step", desc="Procore", file=sys.stderr, disable=None,
              leave=False) as bar:
        def progress(done: int, total: int, label: str) -> None:
            bar.total = total
            bar.set_postfix_str(label[:40])
            bar.update(done - bar.n)

        result = pull(client, spec, progress)
    paths, notes = write_pull(out, result, company, started)
    print(f"Pulled {len(result.projects)} project(s) of {result.company_name} for {period} "
          f"({client.requests_made} requests, {client.waited:.0f} s waited for Procore):")
    for name, df in result.tables.items():
        print(f"  {name:26} {len(df):7d} rows")
    for w in [*result.warnings, *notes]:
        print(f"warning: {w}")
    print(f"Wrote {len(paths)} files to {out}. Add the ERP exports (see README) and run "
          f"`wip validate {out}`.")
    return 0
