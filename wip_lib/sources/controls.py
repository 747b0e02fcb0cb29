"""Control totals: row counts and dollar totals per source file, the figures that tie in to out.

Readers tag every row with provenance columns ``_file`` (path relative to the company folder, with
``/`` separators) and ``_row`` (1-based row as a spreadsheet shows it, header = 1). The sample
generator computes the same totals from the tables it holds in memory before writing them, and
``wip validate`` from the tables it read back: the two must agree to the cent. :func:`compare`
says where they do not, with advice that fits a missing file as well as an edited row.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core import schema
from wip_lib.core.errors import Problem
from wip_lib.core.money import cents_to_text

COLUMNS = ["file", "table", "measure", "value"]


def control_totals(df: pd.DataFrame, table: str, file_column: str = "_file") -> pd.DataFrame:
    """Long table ``file, table, measure, value``: ``rows`` then each money column's total.

    Money totals are sums of integer cents, shown as dollars text (``"1234.56"``).
    """
    t = schema.get(table)
    absent = set(t.absent(df))  # optional money an export does not carry: nothing to total
    money = [c.name for c in t.columns if c.kind == "money" and c.name in df.columns
             and c.name not in absent]
    if df.empty:
        return pd.DataFrame(columns=COLUMNS).astype("string")
    g = df.groupby(file_column, sort=True)
    rows = g.size().rename("rows").to_frame()
    sums = g[money].sum() if money else pd.DataFrame(index=rows.index)
    parts = [pd.DataFrame({"file": rows.index, "table": table, "measure": "rows",
                           "value": rows["rows"].astype("string").to_numpy()})]
    for col in money:
        parts.append(pd.DataFrame({"file": sums.index, "table": table, "measure": col,
                                   "value": cents_to_text(sums[col].astype("int64")).to_numpy()}))
    out = pd.concat(parts, ignore_index=True)
    order = {m: i for i, m in enumerate(["rows", *money])}
    out = out.assign(_o=out["measure"].map(order)).sort_values(["file", "_o"]).drop(columns="_o")
    return out.reset_index(drop=True).astype("string")


def compare(expected: pd.DataFrame, read: pd.DataFrame, files_read: set[str] | None = None,
            source: str = "control_totals.csv") -> list[Problem]:
    """Problems where the totals ``read`` differ from the ``expected`` control totals (both in
    the long ``file, table, measure, value`` form), with the advice that fits each case:

    - a file the expected totals list that was not read at all: the file is missing (one
      problem for the file, naming it, not one per figure);
    - a file read but holding none of its rows: its rows are gone (an export cut to its header);
    - a file read that the expected totals do not list: a file that was not there when the
      totals were taken;
    - a row count that differs: rows were added or removed;
    - otherwise a money figure that differs: a row was edited (or added or removed with its
      amount in the same file).

    ``files_read``: the files the readers opened (``FileReport.file``); without it a file that
    lost every figure counts as missing.
    """
    want = expected.astype("string")
    got = read.astype("string")
    m = want.merge(got, on=["file", "table", "measure"], how="outer",
                   suffixes=("_expected", "_read"), indicator=True)
    bad = m[(m["_merge"] != "both") | (m["value_expected"] != m["value_read"])]
    if bad.empty:
        return []
    files_read = set(files_read or ())
    read_files = set(got["file"])
    expected_files = set(want["file"])
    problems: list[Problem] = []
    done: set[str] = set()
    for r in bad.itertuples():
        f = str(r.file)
        if f in done:
            continue
        rows = want[(want["file"] == f) & (want["measure"] == "rows")]["value"]
        n = f"{rows.iloc[0]} rows" if len(rows) else "its rows"
        if f in expected_files and f not in read_files:
            done.add(f)
            if f in files_read:
                problems.append(Problem(f, f"the file holds none of the {n} {source} lists "
                                        "for it", "export it again with its rows (it was cut to "
                                        "its header or every row was set aside)"))
            else:
                problems.append(Problem(f, f"the file is missing: {source} lists it with {n}",
                                        f"put the export back at {f} (export it again from the "
                                        "source system for that month)"))
            continue
        if f in read_files and f not in expected_files:
            done.add(f)
            problems.append(Problem(f, f"a file {source} does not list", "remove it if it does "
                                    "not belong to the company folder; otherwise take the control "
                                    "totals again"))
            continue
        ve = r.value_expected if pd.notna(r.value_expected) else "(none)"
        vr = r.value_read if pd.notna(r.value_read) else "(none)"
        if r.measure == "rows":
            done.add(f)  # the money totals of a file that lost or gained rows differ with them
            problems = [p for p in problems if f"control total differs for {f} " not in p.message]
            money = int(((bad["file"] == f) & (bad["measure"] != "rows")).sum())
            also = f" (and {money} money total(s) with them)" if money else ""
            problems.append(Problem(source, f"control total differs for {f} rows: expected {ve},"
                                    f" read {vr}{also}", "a row was added or removed since the "
                                    "totals were taken: export the file again, or find the row"))
        else:
            problems.append(Problem(source, f"control total differs for {f} {r.measure}: "
                                    f"expected {ve}, read {vr}", "find the row that was edited, "
                                    "added or removed since the totals were taken"))
    return problems
