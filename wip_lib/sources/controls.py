"""Control totals: row counts and dollar totals per source file, the figures that tie in to out.

Readers tag every row with provenance columns ``_file`` (path relative to the company folder, with
``/`` separators) and ``_row`` (1-based row as a spreadsheet shows it, header = 1). The sample
generator computes the same totals from the tables it holds in memory before writing them, and
``wip validate`` from the tables it read back: the two must agree to the cent.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core import schema
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
