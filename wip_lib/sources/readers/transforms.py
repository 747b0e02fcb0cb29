"""The declared transforms of an ERP profile: each quirk of an export as data, read one way and
written the other, so a new ERP is a YAML file and not code.

Every transform works on a whole column at once (no loop over rows) and has its inverse beside it,
which the sample writer uses to put the canonical tables back into the ERP's shape. What a profile
may declare, per table (``wip_lib/sources/profiles/*.yaml``; docs/erp-profiles.md has examples):

Column transforms (``transforms: {column: [op, ...]}``, applied in order after reading the text;
the text as exported stays in the ``*_raw`` twin where the canonical table has one):

- ``{justify: right|left, width: N}``: a right-justified, space-padded key (Vista, Spectrum).
  Read: the padding is trimmed. Written: padded to ``width``.
- ``{mask: "##-###."}``: a masked key, ``#`` one character of the key and anything else a
  separator the mask inserts. Read: the value must fit the mask; the separators are removed.
  Written: the separators are put back (a value of another length is written as it is).
- ``{decimal: N}``: a number kept with N decimals, as Sage 100 Contractor keeps cost codes
  (``2010.000``). Read: a zero fraction is dropped (``2010.000`` -> ``2010``, ``2010.500`` ->
  ``2010.5``). Written: ``2010`` -> ``2010.000``.
- ``{zfill: N}``: leading zeros a numeric key could not keep (a Sage 100 code "can't begin with a
  zero"). Read: all-digit values shorter than N get zeros in front (``3300`` -> ``03300``).
  Written: leading zeros are dropped.
- ``{path: ":", take: last|first}``: a path such as QuickBooks' ``Customer:Job``. Read: the last
  (or first) part. Written: as given (a ``sample: format`` puts the parent back).
- ``{extract: REGEX}``: the first group of a regular expression (``^(\\S+)`` takes the job number
  from ``00123 Riverside Elementary``). A value that does not match is a problem.

Row conditions (``when``, used by ``exclude``, ``source_rules`` and ``release``):
``{column: C, in: [..]}``, ``{column: C, not_in: [..]}``, ``{column: C, matches: REGEX}``,
``{column: C, not_matches: REGEX}``, ``{column: C, blank: true}``, ``{column: C, nonblank: true}``
(nonblank: neither empty nor a number equal to zero), ``{column: C, zero: true}`` (an amount of
0.00 or blank), ``{all: [..]}``, ``{any: [..]}``. Values compare trimmed and case-blind.

Periods (``period:``): ``{date: C}`` the month of a date column; ``{fiscal_year: C|current,
fiscal_period: C}``; ``{fiscal: C, format: YYYYPP|PPYYYY|MM-YYYY|YYYY-MM}``. A fiscal period
``p`` of the fiscal year ``Y`` (named by the calendar year it ends in) is the calendar month
``(fye + p - 1) mod 12 + 1`` of year ``Y`` when that month is ``<= fye``, else ``Y - 1``, where
``fye`` is ``company.yaml``'s ``fiscal_year_end_month``. ``current`` is the fiscal year of the
company's current period (a file that holds only the current year, as Sage 100's ``lgract``).
"""
from __future__ import annotations

import re
import string
from typing import Callable

import numpy as np
import pandas as pd

from wip_lib.core.money import parse_cents

OPS = ("justify", "mask", "decimal", "zfill", "path", "extract")
CONDITIONS = ("in", "not_in", "matches", "not_matches", "blank", "nonblank", "zero")


class ProfileError(ValueError):
    """A profile that declares something this module does not know (a mistake in the YAML)."""


def _op_name(op) -> str:
    if isinstance(op, str):
        return op
    if isinstance(op, dict) and op:
        name = next(iter(op))
        if name in OPS:
            return name
    raise ProfileError(f"unknown transform {op!r}: use one of {', '.join(OPS)}")


def _mask_regex(mask: str) -> tuple[str, str]:
    """(regex the value must fit, the separator characters) of a ``#`` mask."""
    parts = "".join("." if ch == "#" else re.escape(ch) for ch in mask)
    return parts, "".join(sorted({ch for ch in mask if ch != "#"}))


def read_column(ops: list, text: pd.Series) -> tuple[pd.Series, pd.Series, str]:
    """Apply a column's transforms to its text (trimmed first). Returns ``(text, bad, why)``:
    ``bad`` marks values that do not fit (a mask, an extract), ``why`` says what they failed."""
    s = text.astype("string").fillna("").str.strip()
    bad = pd.Series(False, index=s.index)
    why = ""
    for op in ops or []:
        name = _op_name(op)
        arg = op[name] if isinstance(op, dict) else None
        filled = s != ""
        if name == "justify":
            continue  # the padding is gone with the trim
        if name == "mask":
            regex, seps = _mask_regex(str(arg))
            fits = s.str.fullmatch(regex).fillna(False) | ~filled
            bad |= ~fits
            why = why or f"does not fit the mask '{arg}'"
            s = s.str.replace(f"[{re.escape(seps)}]", "", regex=True) if seps else s
        elif name == "decimal":
            num = s.str.fullmatch(r"-?\d+(\.\d*)?").fillna(False)
            trimmed = s.str.replace(r"(\.\d*?)0+$", r"\1", regex=True).str.replace(
                r"\.$", "", regex=True)
            s = s.mask(num, trimmed)
        elif name == "zfill":
            digits = s.str.fullmatch(r"\d+").fillna(False)
            s = s.mask(digits, s.str.zfill(int(arg)))
        elif name == "path":
            sep = str(arg)
            take = op.get("take", "last")
            parts = s.str.split(sep, regex=False)
            s = (parts.str[-1] if take == "last" else parts.str[0]).astype("string").str.strip()
        elif name == "extract":
            got = s.str.extract(str(arg), expand=False)
            got = got.iloc[:, 0] if isinstance(got, pd.DataFrame) else got
            miss = got.isna() & filled
            bad |= miss
            why = why or f"does not match the pattern '{arg}'"
            s = got.astype("string").fillna(s).str.strip()
    return s.astype("string"), bad, why


def write_column(ops: list, text: pd.Series) -> pd.Series:
    """The inverse of :func:`read_column`: canonical text back to the export's form."""
    s = text.astype("string").fillna("")
    for op in reversed(ops or []):
        name = _op_name(op)
        arg = op[name] if isinstance(op, dict) else None
        filled = s != ""
        if name == "justify":
            width = int(op.get("width", 0))
            s = s.str.rjust(width) if arg == "right" else s.str.ljust(width)
        elif name == "mask":
            mask = str(arg)
            slots = mask.count("#")
            fits = s.str.len() == slots
            out = pd.Series("", index=s.index, dtype="string")
            k = 0
            for ch in mask:  # a loop over the mask's characters, not over rows
                if ch == "#":
                    out = out + s.str.slice(k, k + 1)
                    k += 1
                else:
                    out = out + ch
            s = s.mask(fits & filled, out)
        elif name == "decimal":
            places = int(arg)
            num = s.str.fullmatch(r"-?\d+").fillna(False)
            s = s.mask(num, s + "." + "0" * places) if places else s
        elif name == "zfill":
            digits = s.str.fullmatch(r"\d+").fillna(False)
            stripped = s.str.lstrip("0").mask(lambda x: x == "", "0")
            s = s.mask(digits, stripped)
    return s.astype("string")


def format_column(template: str, values: Callable[[str], pd.Series], index) -> pd.Series:
    """``"{customer}:{job_id} {job_name}"`` filled column-wise from ``values(field)``."""
    out = pd.Series("", index=index, dtype="string")
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        if literal:
            out = out + literal
        if field:
            out = out + values(field).astype("string").fillna("")
    return out


# -- row conditions -----------------------------------------------------------------------------

def condition(spec: dict, column: Callable[[str], pd.Series], n: int) -> np.ndarray:
    """Rows meeting a ``when`` condition (see the module docstring), as a boolean array."""
    if not isinstance(spec, dict) or not spec:
        raise ProfileError(f"a condition must be a mapping, not {spec!r}")
    if "all" in spec:
        out = np.ones(n, dtype=bool)
        for c in spec["all"]:
            out &= condition(c, column, n)
        return out
    if "any" in spec:
        out = np.zeros(n, dtype=bool)
        for c in spec["any"]:
            out |= condition(c, column, n)
        return out
    if "column" not in spec:
        raise ProfileError(f"condition {spec!r} names no column")
    s = column(spec["column"]).astype("string").fillna("").str.strip()
    folded = s.str.casefold()
    kinds = [k for k in CONDITIONS if k in spec]
    if len(kinds) != 1:
        raise ProfileError(f"condition {spec!r}: give exactly one of {', '.join(CONDITIONS)}")
    kind = kinds[0]
    arg = spec[kind]
    if kind in ("in", "not_in"):
        vals = {str(v).strip().casefold() for v in (arg if isinstance(arg, list) else [arg])}
        hit = folded.isin(vals).to_numpy(dtype=bool)
        return hit if kind == "in" else ~hit
    if kind in ("matches", "not_matches"):
        hit = s.str.contains(str(arg), regex=True).fillna(False).to_numpy(dtype=bool)
        return hit if kind == "matches" else ~hit
    blank = (s == "").to_numpy(dtype=bool)
    if kind == "blank":
        return blank if arg else ~blank
    cents, badc = parse_cents(s)
    zero = (cents.fillna(0) == 0).to_numpy(dtype=bool) & ~badc.to_numpy(dtype=bool)
    if kind == "zero":
        return zero if arg else ~zero
    nonblank = ~blank & ~zero  # "0" and "0.00" are as good as blank for an id or an amount
    return nonblank if arg else ~nonblank


def columns_of(spec) -> set[str]:
    """Every column a condition reads (to require them in the file)."""
    if isinstance(spec, dict):
        if "all" in spec or "any" in spec:
            return set().union(*(columns_of(c) for c in spec.get("all", spec.get("any", []))))
        return {spec["column"]} if "column" in spec else set()
    return set()


def first_value(spec: dict) -> str | None:
    """A value that meets the condition (for the writer): the first of ``in``."""
    if "in" in spec:
        arg = spec["in"]
        return str(arg[0] if isinstance(arg, list) else arg)
    if "all" in spec:
        return first_value(spec["all"][0])
    return None


# -- periods ------------------------------------------------------------------------------------

FISCAL_FORMATS = {
    "YYYYPP": r"(?P<y>\d{4})(?P<p>\d{2})",
    "PPYYYY": r"(?P<p>\d{2})(?P<y>\d{4})",
    "MM-YYYY": r"(?P<p>\d{1,2})[-/](?P<y>\d{4})",
    "YYYY-MM": r"(?P<y>\d{4})[-/](?P<p>\d{1,2})",
}


def fiscal_to_period(year: pd.Series, fperiod: pd.Series, fye: int
                     ) -> tuple[pd.Series, pd.Series]:
    """Calendar ``YYYY-MM`` of fiscal (year, period); ``bad`` where either is not a number or
    the period is outside 1-12. Year 2-digit values are read as 20YY."""
    y = pd.to_numeric(year.astype("string").str.strip(), errors="coerce")
    p = pd.to_numeric(fperiod.astype("string").str.strip(), errors="coerce")
    bad = (y.isna() | p.isna() | (p < 1) | (p > 12) | (p % 1 != 0)).to_numpy(dtype=bool)
    y = y.fillna(2000).astype("int64")
    y = np.where(y < 100, y + 2000, y)
    p = p.fillna(1).astype("int64").to_numpy()
    month = (fye + p - 1) % 12 + 1
    cal_year = np.where(month <= fye, y, y - 1) if fye != 12 else y
    text = pd.Series(cal_year, dtype="int64").astype("string").str.zfill(4) + "-" + pd.Series(
        month, dtype="int64").astype("string").str.zfill(2)
    text.index = year.index
    return text.mask(pd.Series(bad, index=year.index)), pd.Series(bad, index=year.index)


def period_to_fiscal(period: pd.Series, fye: int) -> tuple[pd.Series, pd.Series]:
    """The inverse: fiscal year (named by its end) and fiscal period 1-12 of ``YYYY-MM``."""
    s = period.astype("string")
    y = s.str.slice(0, 4).astype("int64")
    m = s.str.slice(5, 7).astype("int64")
    p = (m - fye - 1) % 12 + 1
    fy = y.where(m <= fye, y + 1)
    return fy, p


def parse_fiscal_text(text: pd.Series, fmt: str) -> tuple[pd.Series, pd.Series]:
    if fmt not in FISCAL_FORMATS:
        raise ProfileError(f"fiscal format {fmt!r}: use one of {', '.join(FISCAL_FORMATS)}")
    got = text.astype("string").str.strip().str.extract("^" + FISCAL_FORMATS[fmt] + "$")
    return got["y"].astype("string"), got["p"].astype("string")


def format_fiscal_text(year: pd.Series, fperiod: pd.Series, fmt: str) -> pd.Series:
    y = year.astype("string").str.zfill(4)
    p = fperiod.astype("string").str.zfill(2)
    return {"YYYYPP": y + p, "PPYYYY": p + y, "MM-YYYY": p + "-" + y,
            "YYYY-MM": y + "-" + p}[fmt]
