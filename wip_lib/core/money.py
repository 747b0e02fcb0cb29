"""Money at the edges: text and spreadsheet cells to exact integer cents, and back.

Inside the workbook every amount is an ``int64`` count of cents. Parsing never goes through a float
for text input: ``"$1,234.56"`` is split into its digits, so ``0.1 + 0.2`` can never reach a total.
Accepted forms: ``1234.56``, ``$1,234.56``, ``-1,234.56``, ``(1,234.56)`` (accountants' negative),
``1,234.56-`` (trailing minus, as some ERPs print), ``USD 1234.56``, blanks (read as 0 where a
column allows it). More than two decimals are accepted only when the extra digits are zero
(``1234.5600``): a fraction of a cent is a question for the user, not something to round away.
"""
from __future__ import annotations

import functools
import re
import sys
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wip_lib.core.arrow_strings import (
    cast_or_none,
    dictionary_codes,
    keep_bytes,
    offsets_and_bytes,
    one_array,
)

_CLEAN = re.compile(r"[\s$€£,]|USD|AUD|GBP|CAD|EUR")
_NUMBER = re.compile(r"([0-9]*)(?:\.([0-9]*))?")
_EDGE_MINUS = re.compile(r"^-|-$")
_BLANK = frozenset({"", "-", "—"})


@functools.lru_cache(maxsize=1 << 16)  # amounts repeat from file to file ("0.00", a retainage)
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


_CHUNK = 1 << 20  # strings per pass: bounds the byte-level temporaries


def _digit_integers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """For each non-null ASCII string, the integer its decimal digits spell with every other
    character skipped (``"($1,234.56)"`` -> 123456), and how many digits it has; 0 where it has
    none or more than 18 (callers reject those by the count).

    The digits are picked out of the strings' bytes with numpy and handed back to Arrow's integer
    parser as strings of digits only: a few passes over the buffer instead of a text replace per
    separator (five replaces cost more than everything else in reading a budget)."""
    values = np.zeros(len(arr), dtype=np.int64)
    counts = np.zeros(len(arr), dtype=np.int64)
    for lo in range(0, len(arr), _CHUNK):
        part = arr.slice(lo, _CHUNK)
        n = len(part)
        off, data = offsets_and_bytes(part)
        only, count = keep_bytes(off, data, (data >= 48) & (data <= 57))  # the digits
        ok = (count >= 1) & (count <= 18)
        if ok.all():
            values[lo:lo + n] = pc.cast(only, pa.int64()).to_numpy()
        elif ok.any():
            values[lo + np.flatnonzero(ok)] = pc.cast(pc.filter(only, pa.array(ok)),
                                                      pa.int64()).to_numpy()
        counts[lo:lo + n] = count
    return values, counts


#: What each byte is to :func:`_parse_plain`: kept (digits, "." and "-"), dropped ("$" and ","),
#: a parenthesis (dropped, the value negative) or any other (the column is not plain).
_KEPT, _DROPPED, _PAREN, _OTHER = 0, 1, 2, 3
_BYTE_KIND = np.full(256, _OTHER, dtype=np.uint8)
_BYTE_KIND[[*range(48, 58), 45, 46]] = _KEPT
_BYTE_KIND[[36, 44]] = _DROPPED
_BYTE_KIND[[40, 41]] = _PAREN

#: Characters a plain amount may have once ``$`` and ``,`` are dropped: 15 characters hold at
#: most 15 digits of dollars (the rule's limit), so the digits need no counting.
_PLAIN_WIDTH = 15
_DECIMAL = pa.decimal128(17, 2)  # 15 digits of dollars and the cents


def _parse_plain(arr: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """``(cents, missing)`` of a column whose values are all plain amounts (``1234.56``,
    ``-12``, ``.5``, ``1.2300``, ``$1,234.56``, ``-$1,234.56``, ``($1,234.56)``: how exports
    write money) or
    empty, by Arrow's decimal parser: about five times the shape-by-shape kernels; None when any
    value is anything else, and the caller parses the column shape by shape.

    Exactly :func:`_parse_one`'s result: only digits, ``.``, ``-``, ``$`` and ``,`` pass (so no
    exponent, ``+`` or space reaches the parser; a value in parentheses is negative and has no
    minus and no other parenthesis); ``$`` and ``,`` are dropped
    wherever they are, as the rule drops them; at most 15 characters remain, so no more than 15
    digits of dollars; the parser takes ``-?digits[.digits]`` and refuses anything else (``5-``,
    ``-``, ``.``, ``1.2.3``) and a fraction of a cent (``1.234``, while ``1.2300`` is 1.23). A
    value that was only ``$`` or ``,`` is bad by the rule, not blank: None."""
    if sys.byteorder != "little" or not (pa.types.is_string(arr.type)
                                         or pa.types.is_large_string(arr.type)):
        return None
    n = len(arr)
    off, data = offsets_and_bytes(arr)
    kind = _BYTE_KIND[data]  # one look-up per byte, not a comparison per kind of byte
    top = kind.max(initial=_KEPT)
    if top == _OTHER:
        return None
    size = np.diff(off)
    nulls = arr.is_null().to_numpy(zero_copy_only=False)
    negative = None
    dropped = kind >= _DROPPED if top >= _DROPPED else None
    if top == _PAREN:
        paren = kind == _PAREN
        # Accountants' negative: "(" first, ")" last, no other parenthesis and no minus (the
        # rule reads odder mixes its own way: the column is then parsed shape by shape).
        ends = np.concatenate(([0], np.cumsum(paren, dtype=np.int64)))
        negative = (ends[off[1:]] - ends[off[:-1]]) > 0
        cells = np.flatnonzero(negative)
        minus = np.concatenate(([0], np.cumsum(data == 45, dtype=np.int64)))
        if not ((ends[off[cells + 1]] - ends[off[cells]] == 2) & (data[off[cells]] == 40)
                & (data[off[cells + 1] - 1] == 41)
                & (minus[off[cells + 1]] == minus[off[cells]])).all():
            return None
    if dropped is not None:
        # the strings without them (nulls set again below, from ``nulls``)
        arr, kept = keep_bytes(off, data, ~dropped)
        if ((kept == 0) & (size > 0) & ~nulls).any():
            return None
        size = kept
    if size.max(initial=0) > _PLAIN_WIDTH:
        return None
    missing = nulls | (size == 0)
    dec = cast_or_none(arr, missing, _DECIMAL)
    if dec is None:
        return None
    # A decimal128 is its unscaled integer (the cents, at scale 2) in 16 little-endian bytes:
    # under 10**17 in magnitude, the low 8 are that integer as an int64.
    low = np.frombuffer(dec.buffers()[1], dtype=np.int64)[2 * dec.offset:2 * (dec.offset + n):2]
    if negative is not None:
        low = np.where(negative, -low, low)
    return np.where(missing, 0, low), missing


def _parse_export_shapes(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(done, cents)``: which values of a text array have one of the export shapes, and their
    cents.

    One regular expression decides the shape (ASCII only: digits, ``,.$()-``); within it the
    digits spell the cents (or the dollars, for a shape without a point), the sign is a leading
    minus or the parentheses."""
    done = pc.fill_null(pc.match_substring_regex(arr, _EXPORT_SHAPES), False)
    done_np = done.to_numpy(zero_copy_only=False)
    cents = np.zeros(len(arr), dtype=np.int64)
    if not done_np.any():
        return done_np, cents
    at = np.flatnonzero(done_np)
    sub = pc.filter(arr, done)
    negative = pc.or_(pc.starts_with(sub, "("), pc.starts_with(sub, "-")).to_numpy(
        zero_copy_only=False)
    dotted = pc.match_substring(sub, ".").to_numpy(zero_copy_only=False)
    mag, count = _digit_integers(sub)
    ok = count - 2 * dotted <= 15  # 15 digits of dollars at most; more is a question for the user
    done_np[at[~ok]] = False
    mag = np.where(dotted, mag, mag * 100)
    cents[at[ok]] = np.where(negative, -mag, mag)[ok]
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
    cents, missing, bad = cents_of_text(one_array(text.array))
    return (pd.Series(pd.arrays.IntegerArray(cents, missing), index=values.index),
            pd.Series(bad, index=values.index))


def cents_of_text(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`parse_cents` of an Arrow string array: ``(cents, missing, bad)`` as numpy arrays
    (``cents`` 0 where missing or bad; a null is missing, not bad). The readers convert a column
    with this, with no pandas Series built around it."""
    n = len(arr)
    if n <= _ONE_BY_ONE:
        return _parse_each(arr)
    if n >= _DISTINCT_FROM:
        # Budget columns repeat amounts ("$0.00" in most rows of several of them): parse each
        # distinct text once and spread the result, when a sample of the column says that is
        # well under one per row (encoding a column of distinct amounts costs as much as parsing).
        # A run of rows, not a spread: repeats sit together (one job's snapshots month after
        # month carry the same budget lines).
        mid = (n - _SAMPLE) // 2
        sample = pc.count_distinct(arr.slice(mid, _SAMPLE)).as_py()
        enc = dictionary_codes(arr) if sample <= _SAMPLE // 2 else None
        if enc is not None and len(enc[0]) <= n // 2:
            distinct, codes = enc
            cents_u, missing_u, bad_u = _parse_text(distinct)
            # One slot more for a null: missing, not bad.
            return (np.append(cents_u, 0)[codes], np.append(missing_u, True)[codes],
                    np.append(bad_u, False)[codes])
    return _parse_text(arr)


_DISTINCT_FROM = 10_000  # below this many values a column is parsed as it stands
_SAMPLE = 2_000  # values whose distinct count decides (a count of 10,000 took a millisecond a column)
#: Up to this many values a column is parsed value by value (:func:`_parse_one`, remembered per
#: text): the Arrow kernels' fixed cost is a millisecond a column, a small export's whole column.
_ONE_BY_ONE = 256


def _parse_each(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`cents_of_text` of a short array, one :func:`_parse_one` per value (a null:
    missing, not bad). The export shapes' kernels give exactly :func:`_parse_one`'s result, so
    the two ways agree on every text."""
    parsed = [(None, False) if v is None else _parse_one(v) for v in arr.to_pylist()]
    cents = np.fromiter((c or 0 for c, _ in parsed), dtype=np.int64, count=len(parsed))
    missing = np.fromiter((c is None for c, _ in parsed), dtype=bool, count=len(parsed))
    bad = np.fromiter((b for _, b in parsed), dtype=bool, count=len(parsed))
    return cents, missing, bad


def _parse_text(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cents, missing, bad)`` of a text array: plain amounts by Arrow's decimal parser
    (:func:`_parse_plain`), else the export shapes at once and any other text once per distinct
    value by :func:`_parse_one`."""
    arr = one_array(arr)
    plain = _parse_plain(arr)
    if plain is not None:
        return plain[0], plain[1], np.zeros(len(arr), dtype=bool)
    done, cents = _parse_export_shapes(arr)
    missing = np.zeros(len(arr), dtype=bool)
    bad = np.zeros(len(arr), dtype=bool)
    rest = np.flatnonzero(~done)
    if len(rest):
        distinct, codes = dictionary_codes(arr.take(pa.array(rest)))
        parsed = [_parse_one(u) for u in distinct.to_pylist()]  # one slot more below: a null
        cents_u = np.array([c or 0 for c, _ in parsed] + [0], dtype=np.int64)
        missing_u = np.array([c is None for c, _ in parsed] + [True], dtype=bool)
        bad_u = np.array([b for _, b in parsed] + [False], dtype=bool)
        cents[rest] = cents_u[codes]
        missing[rest] = missing_u[codes]
        bad[rest] = bad_u[codes]
    return cents, missing, bad


def cents_to_text(cents: pd.Series) -> pd.Series:
    """Integer cents to plain decimal text (``-1234.56``; ``<NA>`` -> ``""``), for CSV reports an
    ERP can import: the dollars, a point, the two digits of cents, a minus before a negative.

    Worked in Arrow's integer and string kernels, a few calls for the whole column (a file's
    control totals are dozens of short columns, a month-end's CSVs millions of amounts)."""
    arr = pa.array(cents.astype("Int64").array, type=pa.int64())
    mag = pc.abs(arr)
    dollars = pc.divide(mag, 100)  # integer division: truncates, and mag >= 0
    part = pc.utf8_lpad(pc.cast(pc.subtract(mag, pc.multiply(dollars, 100)), pa.string()), 2,
                        padding="0")
    text = pc.binary_join_element_wise(pc.cast(dollars, pa.string()), part, ".")
    text = pc.if_else(pc.less(arr, 0), pc.binary_join_element_wise("-", text, ""), text)
    return pd.Series(pd.array(pc.fill_null(text, ""), dtype="string"), index=cents.index,
                     name=cents.name)


def report_text(cents: pd.Series) -> pd.Series:
    """Cents to report text for people, in messages, findings and printed summaries:
    ``$1,234.56`` / ``-$1,234.56``, vectorised; <NA> stays empty."""
    c = pd.Series(cents).astype("Int64")
    # One Python format per amount: the thousands commas have no Arrow kernel, and pandas'
    # string steps cost a millisecond each on the few amounts of a message.
    text = ["" if v is None else f"{'-' if v < 0 else ''}${abs(v) // 100:,}.{abs(v) % 100:02d}"
            for v in c.to_numpy(dtype=object, na_value=None)]
    return pd.Series(text, index=c.index, dtype="string", name=c.name)


def report_amount(cents: int) -> str:
    """One amount as report text (:func:`report_text`): ``100000`` -> ``$1,000.00``."""
    return str(report_text(pd.Series([int(cents)])).iloc[0])


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


def allocate(total: pd.Series, weights: pd.Series, groups: list[pd.Series] | pd.Series) -> pd.Series:
    """Spread each group's ``total`` (the same value on every row of the group) over its rows in
    proportion to integer ``weights``, exactly: cumulative half-up rounding
    ``share_i = round(total * W_i / W) - round(total * W_(i-1) / W)`` with ``W_i`` the running sum,
    so the shares add back to ``total`` to the cent. Rows of a group whose weights sum to zero get 0.
    """
    w = weights.astype("int64")
    cum = w.groupby(groups, sort=False).cumsum()
    gsum = w.groupby(groups, sort=False).transform("sum")
    ok = (gsum != 0).to_numpy()
    out = np.zeros(len(w), dtype="int64")
    if ok.any():
        t = total.astype("int64").to_numpy()[ok].astype(object)
        c = cum.to_numpy()[ok].astype(object)
        p = (cum - w).to_numpy()[ok].astype(object)
        g = gsum.to_numpy()[ok].astype(object)
        out[ok] = (round_half_up_div(t * c, g) - round_half_up_div(t * p, g)).astype("int64")
    return pd.Series(out, index=w.index, dtype="int64")
