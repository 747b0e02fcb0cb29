"""Money at the edges: text and spreadsheet cells to exact integer cents, and back.

Inside the workbook every amount is an ``int64`` count of cents. Parsing never goes through a float
for text input: ``"$1,234.56"`` is split into its digits, so ``0.1 + 0.2`` can never reach a total.
Accepted forms: ``1234.56``, ``$1,234.56``, ``-1,234.56``, ``(1,234.56)`` (accountants' negative),
``1,234.56-`` (trailing minus, as some ERPs print), ``USD 1234.56``, blanks (read as 0 where a
column allows it). More than two decimals are accepted only when the extra digits are zero
(``1234.5600``): a fraction of a cent is a question for the user, not something to round away.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

_CLEAN = r"[\s$€£,]|USD|AUD|GBP|CAD|EUR"
_NUMBER = r"^(?P<int>\d*)(?:\.(?P<frac>\d*))?$"


def parse_cents(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse money text to integer cents, vectorised.

    Returns ``(cents, bad)``: ``cents`` is ``Int64`` with ``<NA>`` for blanks and for bad values,
    ``bad`` is a boolean mask of values that were present but not money. Numeric input (cells read
    from XLSX) is rounded half-up to the cent once, which is exact for any value that was entered
    in cents.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        as_float = values.astype("float64")
        scaled = as_float * 100.0
        cents = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5 + 1e-9)
        out = pd.Series(cents, index=values.index).astype("Int64")
        return out, pd.Series(False, index=values.index)

    text = values.astype("string").str.strip()
    blank = text.isna() | (text == "") | (text == "-") | (text == "—")
    negative_paren = text.str.startswith("(") & text.str.endswith(")")
    trailing_minus = text.str.endswith("-") & ~blank
    leading_minus = text.str.replace(_CLEAN, "", regex=True).str.startswith("-")
    body = (
        text.str.replace(_CLEAN, "", regex=True)
        .str.strip("()")
        .str.replace(r"^-|-$", "", regex=True)
        .str.replace(r"^\$", "", regex=True)
    )
    parts = body.str.extract(_NUMBER)
    integer = parts["int"]
    frac = parts["frac"].fillna("")
    ok = integer.notna() & ((integer.str.len() > 0) | (frac.str.len() > 0))
    # Digits past the cent are allowed only when they are zeros.
    ok &= frac.str.slice(2).fillna("").str.fullmatch(r"0*").fillna(False).astype(bool)
    ok &= integer.str.len().fillna(0) <= 15
    digits = integer.fillna("").str.cat(frac.str.slice(0, 2).str.pad(2, side="right", fillchar="0"))
    digits = digits.where(ok & ~blank, "0")
    magnitude = pd.to_numeric(digits.str.replace(r"^$", "0", regex=True)).astype("int64")
    sign = np.where((negative_paren | trailing_minus | leading_minus).fillna(False), -1, 1)
    cents = pd.Series(magnitude.to_numpy() * sign, index=values.index).astype("Int64")
    bad = (~ok & ~blank).fillna(False).astype(bool)
    cents = cents.mask(blank.fillna(False).astype(bool) | bad)
    return cents, bad


def cents_to_text(cents: pd.Series) -> pd.Series:
    """Integer cents to plain decimal text (``-1234.56``), for CSV reports an ERP can import."""
    c = cents.astype("Int64")
    neg = c < 0
    mag = c.abs()
    whole = (mag // 100).astype("string")
    part = (mag % 100).astype("string").str.pad(2, fillchar="0")
    text = whole.str.cat(part, sep=".")
    return text.mask(neg.fillna(False).astype(bool), "-" + text).fillna("")


def cents_to_decimal(cents: int) -> Decimal:
    """One amount as an exact Decimal in dollars."""
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def decimal_to_cents(amount: Decimal | str | int) -> int:
    """One exact amount in dollars to cents, rounding half-up (the convention for money)."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def round_half_up_div(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Exact ``round_half_up(numerator / denominator)`` over arrays of Python ints.

    Used where a money figure is a ratio of money figures (earned revenue = TP * CTD / EAC):
    numerators can pass int64's range (TP * CTD in cents reaches 1e20), so the arrays hold Python
    integers (``dtype=object``) and the division is exact. ``denominator`` must be non-zero.
    """
    num = np.asarray(numerator, dtype=object)
    den = np.asarray(denominator, dtype=object)
    sign = np.where((num < 0) != (den < 0), -1, 1)
    n = np.abs(num)
    d = np.abs(den)
    q = (2 * n + d) // (2 * d)
    return (q * sign).astype(object)
