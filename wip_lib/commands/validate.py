"""``wip validate DATA_DIR``: read a company folder, print per file its rows and control totals."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from wip_lib import schema
from wip_lib.controls import control_totals
from wip_lib.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("validate", help="check a company folder and print its control totals")
    p.add_argument("data_dir", type=Path, help="company folder (holds company.yaml)")
    p.add_argument("--totals-csv", type=Path, help="also write the control totals to this CSV")
    p.set_defaults(func=run)


def company_control_totals(company) -> pd.DataFrame:
    parts = [control_totals(company[name], name) for name in schema.TABLES
             if "_file" in company[name].columns and len(company[name])]
    return pd.concat(parts, ignore_index=True).sort_values(["file", "table"], kind="stable") \
        .reset_index(drop=True)


def print_report(result, out=sys.stdout) -> None:
    print(f"{'file':58} {'in':>7} {'accepted':>8} {'reported':>8} {'totals':>6} {'other':>6}",
          file=out)
    for r in sorted(result.reports, key=lambda r: r.file):
        other = r.rows_blank + r.rows_excluded
        print(f"{r.file:58} {r.rows_in:7d} {r.rows_accepted:8d} {r.rows_reported:8d} "
              f"{r.rows_totals:6d} {other:6d}", file=out)
    n_in = sum(r.rows_in for r in result.reports)
    n_ok = sum(r.rows_accepted for r in result.reports)
    n_bad = sum(r.rows_reported for r in result.reports)
    n_other = sum(r.rows_totals + r.rows_blank + r.rows_excluded for r in result.reports)
    print(f"{len(result.reports)} files: {n_in} rows in = {n_ok} accepted + {n_bad} reported + "
          f"{n_other} totals/blank/not-cost rows", file=out)


def run(args) -> int:
    from wip_lib.readers import read_company

    result = read_company(args.data_dir)
    print_report(result)
    warnings = [p for p in result.problems if p.severity != "error"]
    for p in warnings:
        print(f"warning: {p}")
    if not result.ok:
        raise InputError([p for p in result.problems if p.severity == "error"])
    totals = company_control_totals(result.company)
    money = totals[totals["measure"] != "rows"]
    print()
    print("Control totals (dollars) by file:")
    for (file, table), g in money.groupby(["file", "table"], sort=True):
        items = ", ".join(f"{m}={v}" for m, v in zip(g["measure"], g["value"]))
        print(f"  {file} [{table}]: {items}")
    if args.totals_csv:
        totals.to_csv(args.totals_csv, index=False, lineterminator="\n")
    print("OK: the company folder is valid.")
    return 0
