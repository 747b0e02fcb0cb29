"""Money at the edges: text and spreadsheet cells to exact integer cents, and back.

Inside the workbook every amount is an ``int64`` count of cents. Parsing never goes through a float
for text input: ``"$1,234.56"`` is split into its digits, so ``0.1 + 0.2`` can never reach a total.
Accepted forms: ``1234.56``, ``$1,234.56``, ``-1,234.56``, ``(1,234.56)`` (accountants' negative),
``1,234.56-`` (trailing minus, as some ERPs print), ``USD 1234.56``, blanks (read as 0 where a
column allows it). More than two decimals are accepted only when the extra digits are zero
(``1234.5600``): a fraction of a cent is a question for the user, not something to round away.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_CLEAN = re.compile(r"[\s$€£,]|USD|AUD|GBP|CAD|EUR")
_NUMBER = re.compile(r"([0-9]*)(?:\.([0-9]*))?")
_EDGE_MINUS = re.compile(r"^-|-$")
_BLANK = frozenset({"", "-", "—"})


def _parse_one(raw: str) -> tuple[int | None, bool]:
    """One money text: ``(cents, bad)``; cents is None for a blank or a bad value."""
    text = raw.strip()
    if text in _BLANK:
        return None, False
    cleaned = _CLEAN.sub("", text)
    negative = ((text.startswith("(") and text.endswith(")")) or text.endswith("-")
                or cleaned.startswith("-"))
    m = _NUMBER.fullmatch(_EDGE_MINUS.sub("", cleaned.strip("()")))
    if m is None:
        return None, True
    integer, frac = m.group(1), m.group(2) or ""
    # Digits past the cent are allowed only when they are zeros; 15 digits of dollars at most.
    if not (integer or frac) or frac[2:].strip("0") or len(integer) > 15:
        return None, True
    magnitude = int((integer or "0") + frac[:2].ljust(2, "0"))
    return (-magnitude if negative else magnitude), False


# The shapes exports write (``1234.56``, ``-1234.56``, ``12``, ``$1,234.56``, ``-$1,234.56``,
# ``($1,234.56)``, ``(1,234.56)``; nothing around them) are parsed with pyarrow compute kernels,
# with no Python call per value: for these the result is exactly :func:`_parse_one`'s, and every
# other text goes through :func:`_parse_one`. (A 5-million-line job-cost export has millions of
# distinct amounts: one Python call each was most of the time ``wip validate`` took.)
_EXPORT_SHAPES = (r"^(?:-?[0-9]{1,15}(?:\.[0-9]{2})?"
                  r"|-?\$?[0-9][0-9,]*\.[0-9]{2}"
                  r"|\(\$?[0-9][0-9,]*\.[0-9]{2}\))$")


def _parse_export_shapes(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(done, cents)``: which values have one of the export shapes, and their cents."""
    arr = pa.array(text)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    digits = pc.replace_substring_regex(arr, r"[^0-9]", "")
    dotted = pc.fill_null(pc.match_substring(arr, "."), False)
    dollars = pc.subtract(pc.utf8_length(digits), pc.multiply(pc.cast(dotted, pa.int64()), 2))
    done = pc.and_(pc.fill_null(pc.match_substring_regex(arr, _EXPORT_SHAPES), False),
                   pc.fill_null(pc.less_equal(dollars, 15), False))  # 15 digits of dollars
    done_np = done.to_numpy(zero_copy_only=False)
    cents = np.zeros(len(arr), dtype=np.int64)
    if done_np.any():
        mag = pc.cast(pc.filter(digits, done), pa.int64()).to_numpy()
        mag = np.where(pc.filter(dotted, done).to_numpy(zero_copy_only=False), mag, mag * 100)
        neg = pc.or_(pc.starts_with(arr, "("), pc.starts_with(arr, "-"))
        cents[done_np] = np.where(pc.filter(neg, done).to_numpy(zero_copy_only=False), -mag, mag)
    return done_np, cents


def parse_cents(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse money text to integer cents.

    Returns ``(cents, bad)``: ``cents`` is ``Int64`` with ``<NA>`` for blanks and for bad values,
    ``bad`` is a boolean mask of values that were present but not money. Numeric input (cells read
    from XLSX) is rounded half-up to the cent once, which is exact for any value that was entered
    in cents. Text is parsed once per distinct value (exports repeat amounts, and a column of a
    small export costs no more than its few values).
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        as_float = values.astype("float64")
        scaled = as_float * 100.0
        cents = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5 + 1e-9)
        out = pd.Series(cents, index=values.index).astype("Int64")
        return out, pd.Series(False, index=values.index)

    text = values.astype("string")
    done, cents = _parse_export_shapes(text)
    missing = np.zeros(len(text), dtype=bool)
    bad = np.zeros(len(text), dtype=bool)
    rest = np.flatnonzero(~done)
    if len(rest):
        codes, uniques = pd.factorize(text.iloc[rest], use_na_sentinel=True)
        parsed = [_parse_one(str(u)) for u in uniques]
        # One slot more for NA (code -1): missing, not bad.
        cents_u = np.array([c or 0 for c, _ in parsed] + [0], dtype=np.int64)
        missing_u = np.array([c is None for c, _ in parsed] + [True], dtype=bool)
        bad_u = np.array([b for _, b in parsed] + [False], dtype=bool)
        cents[rest] = cents_u[codes]
        missing[rest] = missing_u[codes]
        bad[rest] = bad_u[codes]
    out = pd.Series(pd.arrays.IntegerArray(cents, missing), index=values.index)
    return out, pd.Series(bad, index=values.index)


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
