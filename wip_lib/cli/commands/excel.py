"""``wip excel DATA_DIR --period YYYY-MM --out DIR``: the period's WIP workbook with live formulas.

Computes the period once (:func:`wip_lib.close.period.compute_period`, the figures every report shows)
and writes ``DIR/wip_schedule.xlsx`` (:func:`wip_lib.reports.excel.workbook.write_wip_workbook`). Prior-period
figures come from the company's period store (``store_path:`` in company.yaml, else
``DATA_DIR/wip_store.duckdb``; ``--store`` names another) when the prior period is closed there.
"""
from __future__ import annotations

from pathlib import Path

from wip_lib.core.errors import PeriodError


def register(sub) -> None:
    p = sub.add_parser(
        "excel", help="write the WIP workbook (wip_schedule.xlsx) with live formulas",
        description="Compute the period and write DIR/wip_schedule.xlsx: contracts in progress "
        "(CPA four-block layout), completed contracts, fade and gain, over/under billings and "
        "the WIP journal entry, cost to complete with flags, reconciliation findings and "
        "tie-out. Derived figures are Excel formulas over the input values.")
    p.add_argument("data_dir", metavar="DATA_DIR", type=Path,
                   help="company folder (holds company.yaml)")
    p.add_argument("--period", metavar="YYYY-MM",
                   help="period to report (default: the company's current period)")
    p.add_argument("--out", metavar="DIR", type=Path, required=True,
                   help="folder for wip_schedule.xlsx (created if needed)")
    p.add_argument("--store", metavar="FILE", type=Path,
                   help="period store with the closed prior periods (default: the company's: "
                   "store_path in company.yaml, else DATA_DIR/wip_store.duckdb)")
    p.set_defaults(func=run)


def run(args) -> int:
    from wip_lib.close.period import compute_period
    from wip_lib.close.store import PeriodStore
    from wip_lib.core.money import report_amount
    from wip_lib.reports.excel.workbook import write_wip_workbook
    from wip_lib.sources.readers import load_company

    company = load_company(args.data_dir)
    if args.store is not None:
        if not Path(args.store).is_file():
            raise PeriodError(f"--store {args.store}: no period store there; give the store file "
                              "wip close wrote, or leave --store out to use the company's")
        with PeriodStore(args.store, read_only=True) as store:
            result = compute_period(company, args.period, store=store)
    else:
        result = compute_period(company, args.period)
    path = write_wip_workbook(result, Path(args.out), settings=company.settings)
    totals = result.wip.totals()
    print(f"wip excel: {result.company_name}, period {result.period}: "
          f"{len(result.wip.in_progress)} contracts in progress, "
          f"{len(result.wip.completed)} completed this year -> {path}")
    print(f"  revenue for the period {report_amount(totals['revenue_period'])}; underbillings "
          f"{report_amount(totals['underbillings'])}; overbillings "
          f"{report_amount(totals['overbillings'])}")
    for note in result.wip.notes:
        print(f"  {note}")
    return 0
