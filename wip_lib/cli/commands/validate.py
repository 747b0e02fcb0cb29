"""``wip validate DATA_DIR``: read a company folder, print per file its rows and control totals.

Budget snapshots (one file per job and month) are summarised per job folder: how many snapshots,
rows in and out, and the totals of the latest snapshot. The full per-file control totals go to
``--totals-csv``. When the folder ships a ``control_totals.csv`` (the sample generator writes one),
the totals read are compared with it figure by figure.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wip_lib.core.errors import InputError, Problem, file_system_problem

if TYPE_CHECKING:  # imported by the command when it runs, not by ``wip --help``
    import pandas as pd

EXPECTED = "control_totals.csv"
# A budget snapshot has fifteen money columns; these are the ones a controller reads first.
BUDGET_SHOWN = ("revised_budget", "committed_costs", "job_to_date_costs", "forecast_to_complete",
                "estimated_cost_at_completion")


def register(sub) -> None:
    p = sub.add_parser("validate", help="check a company folder and print its control totals")
    p.add_argument("data_dir", type=Path, help="company folder (holds company.yaml)")
    p.add_argument("--totals-csv", type=Path, help="also write the per-file control totals here")
    p.set_defaults(func=run)


def company_control_totals(company) -> pd.DataFrame:
    import pandas as pd

    from wip_lib.core import schema
    from wip_lib.sources.controls import control_totals

    parts = [control_totals(company[name], name) for name in schema.TABLES
             if "_file" in company[name].columns and len(company[name])]
    return pd.concat(parts, ignore_index=True).sort_values(["file", "table"], kind="stable") \
        .reset_index(drop=True)


def _group(file: str) -> str:
    parts = file.split("/")
    if len(parts) == 4 and parts[:2] == ["procore", "budget"]:
        return "/".join(parts[:3]) + "/"
    return file


def _dollars(text: str) -> str:
    """A control total's text (``-1234.56``) with thousands separators, exactly (a Decimal: a
    float would round totals past 15 digits)."""
    from decimal import Decimal

    return f"{Decimal(text):,.2f}" if text not in ("", None) else ""


def print_report(result, totals: pd.DataFrame | None = None, out=None) -> None:
    out = out or sys.stdout  # looked up per call: a default bound at import goes stale
    reports = sorted(result.reports, key=lambda r: r.file)
    groups: dict[str, list] = {}
    for r in reports:
        groups.setdefault(_group(r.file), []).append(r)
    money = totals[totals["measure"] != "rows"] if totals is not None else None
    # Each file's totals found once (a company of 2,000 jobs has 10,000 snapshot files).
    by_file = dict(tuple(money.groupby("file", sort=False))) if money is not None else {}
    print(f"{'file':44} {'table':26} {'in':>6} {'accepted':>8} {'reported':>8} {'totals':>6} "
          f"{'other':>6}", file=out)
    for name, rs in groups.items():
        label = name if len(rs) == 1 else f"{name} ({len(rs)} snapshots {rs[0].file[-11:-4]}.."
        label = label if len(rs) == 1 else f"{label}{rs[-1].file[-11:-4]})"
        print(f"{label:44} {rs[0].table:26} {sum(r.rows_in for r in rs):6d} "
              f"{sum(r.rows_accepted for r in rs):8d} {sum(r.rows_reported for r in rs):8d} "
              f"{sum(r.rows_totals for r in rs):6d} "
              f"{sum(r.rows_blank + r.rows_excluded for r in rs):6d}", file=out)
        if money is not None:
            m = by_file.get(rs[-1].file, money.iloc[:0])
            if rs[0].table == "budget":
                m = m[m["measure"].isin(BUDGET_SHOWN)]
            if len(m):
                head = "latest: " if len(rs) > 1 else ""
                items = ", ".join(f"{k} {_dollars(v)}" for k, v in zip(m["measure"], m["value"]))
                print(f"    {head}{items}", file=out)
    n_in = sum(r.rows_in for r in reports)
    n_ok = sum(r.rows_accepted for r in reports)
    n_bad = sum(r.rows_reported for r in reports)
    n_other = sum(r.rows_totals + r.rows_blank + r.rows_excluded for r in reports)
    print(f"{len(reports)} files: {n_in} rows in = {n_ok} accepted + {n_bad} reported + "
          f"{n_other} totals/blank/not-cost rows", file=out)


def compare_expected(totals: "pd.DataFrame", path: Path, files_read=None) -> list[Problem]:
    """Each figure of an expected control-totals file against what was read
    (:func:`wip_lib.sources.controls.compare`: a missing file is named as missing)."""
    import pandas as pd

    from wip_lib.sources.controls import compare

    try:
        want = pd.read_csv(path, dtype="string", keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        if isinstance(exc, OSError):
            raise InputError([file_system_problem(exc, path.name)]) from None
        raise InputError([Problem(path.name, f"not a readable control totals file ({exc})"
                                  .replace("\n", " "), "take the control totals again (wip "
                                  "validate DATA_DIR --totals-csv control_totals.csv)")]) from None
    missing = [c for c in ("file", "table", "measure", "value") if c not in want.columns]
    if missing:
        raise InputError([Problem(path.name, f"required column '{missing[0]}' is missing",
                                  "take the control totals again (wip validate DATA_DIR "
                                  "--totals-csv control_totals.csv)", row=1, column=missing[0])])
    return compare(want, totals, files_read, source=path.name)


def run(args) -> int:
    from wip_lib.sources.readers import read_company

    result = read_company(args.data_dir)
    totals = company_control_totals(result.company) if result.ok else None
    print_report(result, totals)
    for p in result.problems:
        if p.severity != "error":
            print(f"warning: {p}")
    if not result.ok:
        raise InputError([p for p in result.problems if p.severity == "error"])
    if args.totals_csv:
        args.totals_csv.parent.mkdir(parents=True, exist_ok=True)
        totals.to_csv(args.totals_csv, index=False, lineterminator="\n")
    expected = args.data_dir / EXPECTED
    if expected.is_file():
        problems = compare_expected(totals, expected, {r.file for r in result.reports})
        if problems:
            raise InputError(problems)
        print(f"Control totals agree with {EXPECTED}: {len(totals)} figures, to the cent.")
    print("OK: the company folder is valid.")
    return 0
