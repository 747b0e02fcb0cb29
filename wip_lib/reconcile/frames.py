"""Merges the checks share, safe on empty inputs.

pandas 3 with pyarrow-backed strings cannot build an outer merge's key columns when both sides
are empty (``ArrowInvalid: cannot construct ChunkedArray from empty vector and omitted type``),
which happens in every month before a company's first change order or owner invoice.
"""
from __future__ import annotations

import pandas as pd


def outer(left: pd.DataFrame, right: pd.DataFrame, on: list[str] | str, *,
          indicator: bool = True) -> pd.DataFrame:
    """``left.merge(right, on=on, how="outer", indicator=indicator)``, also when both are
    empty."""
    on = [on] if isinstance(on, str) else list(on)
    if len(left) or len(right):
        return left.merge(right, on=on, how="outer", indicator=indicator)
    keys = {c: "object" for c in on}
    m = left.astype(keys).merge(right.astype(keys), on=on, how="outer", indicator=indicator)
    return m.astype({c: "string" for c in on})
