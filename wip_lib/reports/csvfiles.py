"""Report CSVs: money as plain decimal text, untrusted text neutralised, deterministic bytes.

A controller opens these in Excel. A vendor called ``=HYPERLINK(...)`` or ``@SUM(...)`` would run
as a formula there (CSV injection), so text cells starting with ``= + - @`` or a tab/carriage
return get a leading apostrophe, which Excel shows as text (OWASP's advice). Money columns are
written from integer cents as ``-1234.56`` and are never touched by that rule.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from wip_lib.core.money import cents_to_text

_DANGEROUS = r"^[=+\-@\t\r]"


def neutralise(text: pd.Series) -> pd.Series:
    s = text.astype("string")
    return s.mask(s.str.contains(_DANGEROUS, regex=True).fillna(False), "'" + s)


def to_report_frame(df: pd.DataFrame, money: Iterable[str] = (), *, decimals: dict | None = None,
                    keep: Iterable[str] = ()) -> pd.DataFrame:
    """Money columns (int cents) -> dollars text; other text columns neutralised.

    ``decimals`` maps float columns to the number of decimals to print (e.g. pct_complete: 6).
    ``keep`` lists text columns written as they are (codes we generated ourselves).
    """
    out = df.copy()
    money = set(money)
    keep = set(keep)
    for col in out.columns:
        if col in money:
            out[col] = cents_to_text(out[col].astype("Int64"))
        elif decimals and col in decimals:
            out[col] = out[col].map(lambda v, d=decimals[col]: "" if pd.isna(v) else f"{v:.{d}f}")
        elif col in keep:
            continue
        elif pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            out[col] = neutralise(out[col])
        elif pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def write_report_csv(df: pd.DataFrame, path: Path, money: Iterable[str] = (), **kwargs) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_report_frame(df, money, **kwargs).to_csv(path, index=False, lineterminator="\n")
    return path
