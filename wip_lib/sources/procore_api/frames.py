"""Procore JSON pages -> text frames -> typed canonical tables, column by column (no per-row
Python).

Rules:

- Each page is flattened with :func:`pandas.json_normalize` (``vendor.company``,
  ``wbs_code.flat_code``...). A canonical column is taken from a list of JSON paths: the first
  non-null value wins, so a field Procore renamed or moved can be listed beside the old one.
- Every value becomes text first (:func:`text_frame`); the pages of a table are gathered and go
  once through the same conversion the export readers use
  (:func:`wip_lib.sources.readers.tabular.convert`): money text to exact integer cents with
  :func:`wip_lib.core.money.parse_cents` (JSON numbers arrive as ``Decimal``, never floats), codes
  normalised with their raw twin kept, dates, flags, rates and whole numbers by kind. So a table
  pulled from the API and the same table read from an export are equal, dtype for dtype.
- A value that is present but not of its kind (``"abc"`` as money) is a
  :class:`~.errors.ResponseShapeError` naming the endpoint, record and field. A blank where the data
  model requires a value is kept (blank text, 0 for money) and reported as a warning: ``wip
  validate`` then points at the row in the written file, as it would for an export.
- Timestamps (``created_at``, ``reviewed_at``...) are UTC in Procore; they become the calendar date
  in the project's time zone (else the company's), so a change order approved on the evening of
  the 31st stays in its month (:mod:`wip_lib.core.time_zones`).
"""
from __future__ import annotations

import dataclasses
import difflib
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from wip_lib.core import schema
from wip_lib.core.time_zones import local_dates, zone  # noqa: F401  (the pull's time zone rule)
from wip_lib.sources.formats import PROCORE_COST_TYPES
from wip_lib.sources.procore_api.errors import ResponseShapeError
from wip_lib.sources.readers.tabular import Collector, convert

Paths = Sequence[str]
Fields = Mapping[str, Paths]

# Procore's default cost types (name -> code); a company's own come from /line_item_types.
DEFAULT_COST_TYPES = PROCORE_COST_TYPES


def flatten(records: list[dict]) -> pd.DataFrame:
    """Nested JSON records as one flat frame. Integer fields with gaps (which pandas would make
    floats) come back as nullable integers, so ``5000104`` never reads ``5000104.0``."""
    if not records:
        return pd.DataFrame(index=pd.RangeIndex(0))
    flat = pd.json_normalize(records)
    for c in flat.columns:
        s = flat[c]
        if s.dtype == "float64":
            finite = s.dropna()
            if (finite == np.floor(finite)).all():
                flat[c] = s.astype("Int64")
    return flat


def pick(flat: pd.DataFrame, paths: Paths) -> pd.Series | None:
    """The first non-null value among ``paths``, row by row; None when no path is present."""
    out: pd.Series | None = None
    for p in paths:
        if p not in flat.columns:
            continue
        s = flat[p].astype(object)
        out = s if out is None else out.where(out.notna(), s)
    return out


def text(s: pd.Series | None, index: pd.Index) -> pd.Series:
    """Values as text (string dtype), '' for null (a JSON true reads ``True``, which the flag
    parser takes casefolded)."""
    if s is None:
        return pd.Series("", index=index, dtype="string")
    return s.astype("string").fillna("")


def first_text(flat: pd.DataFrame, paths: Paths) -> pd.Series:
    return text(pick(flat, paths), flat.index)


def percent_text(values: pd.Series) -> pd.Series:
    """Procore percentages (``"10.0"`` for 10%) as ``10.0%`` so the rate parser reads 0.10."""
    s = values.astype("string").fillna("").str.strip()
    return s.mask(s != "", s + "%")


def cost_type_codes(types: list[dict]) -> dict[str, str]:
    """casefolded name or code -> cost type code, from /line_item_types plus Procore's defaults."""
    out = dict(DEFAULT_COST_TYPES)
    for t in types:
        code = str(t.get("code") or "").strip()
        if not code:
            continue
        out[code.casefold()] = code
        if t.get("name"):
            out[str(t["name"]).strip().casefold()] = code
    return out


def code_and_type(flat: pd.DataFrame, types: Mapping[str, str], sub_job: pd.Series | None = None,
                  wbs: Paths = ("wbs_code.flat_code",),
                  codes: Paths = ("cost_code.full_code", "cost_code"),
                  kinds: Paths = ("line_item_type.code", "category.code", "cost_type.code",
                                  "line_item_type.name", "category.name", "category",
                                  "cost_type")) -> tuple[pd.Series, pd.Series]:
    """(cost code as Procore writes it, cost type code) for budget and line-item records.

    The cost type is the line item type / category, named or coded, mapped to its code; failing
    that, the last part of the budget code. The cost code is the budget code
    (``[SUBJOB.]03-300.L``) without its sub job and cost type, as the export reader takes it;
    without a budget code, the cost code's full code (``03-300 - Concrete`` reads ``03-300``).
    """
    idx = flat.index
    flat_code = first_text(flat, wbs).str.strip()
    kind = first_text(flat, kinds).str.strip()
    mapped = kind.str.casefold().map(dict(types)).astype("string")
    kind = mapped.where(mapped.notna(), kind)
    dotted = flat_code.str.contains(".", regex=False)
    last = flat_code.str.rsplit(".", n=1).str[-1].astype("string")
    kind = kind.mask((kind == "") & dotted, last)
    suffix = dotted & (kind != "") & (last.str.upper() == kind.str.upper())
    code = flat_code.mask(suffix, flat_code.str.rsplit(".", n=1).str[0])
    if sub_job is not None:
        sub = sub_job.astype("string").fillna("").str.strip()
        first = code.str.split(".", n=1).str[0]
        prefix = (sub != "") & code.str.contains(".", regex=False) & (first == sub)
        code = code.mask(prefix, code.str.split(".", n=1).str[1])
    plain = first_text(flat, codes).str.split(" - ", n=1).str[0].str.strip().astype("string")
    code = code.mask(code == "", plain)
    return code.astype("string").reindex(idx), kind.astype("string").reindex(idx)


@lru_cache(maxsize=None)
def _relaxed(name: str) -> schema.Table:
    """The table with every column optional: the API's blanks are reported, not refused."""
    t = schema.get(name)
    return dataclasses.replace(t, columns=tuple(dataclasses.replace(c, required=False)
                                                for c in t.columns))


def text_frame(columns: Mapping[str, pd.Series], endpoint: str | pd.Series,
               ids: pd.Series | None = None) -> pd.DataFrame:
    """Canonical columns as text, with ``_endpoint`` and ``_id`` (the Procore record id) kept for
    messages. Columns whose name starts with ``_`` are the caller's own flags."""
    n = len(next(iter(columns.values()))) if columns else 0
    out = pd.DataFrame({k: (v.astype("string").fillna("").to_numpy() if not k.startswith("_")
                            else v.to_numpy()) for k, v in columns.items()},
                       index=pd.RangeIndex(n))
    out["_endpoint"] = endpoint if isinstance(endpoint, str) else endpoint.to_numpy()
    out["_id"] = (ids.astype("string").fillna("?").to_numpy() if ids is not None
                  else pd.Series(np.arange(1, n + 1)).astype(str).to_numpy())
    return out


def _default_text(c: schema.Column) -> str:
    if c.default is None or c.kind == "money":
        return ""
    if isinstance(c.default, bool):
        return "true" if c.default else "false"
    return str(c.default)


def concat_text(name: str, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Text frames of one table from several pages or projects as one; a column one part lacks
    takes the data model's default there (as a missing export column would)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["_endpoint", "_id"])
    table = schema.get(name)
    cols = [c for c in table.columns if any(c.name in p.columns for p in parts)]
    filled = []
    for p in parts:
        missing = {c.name: _default_text(c) for c in cols if c.name not in p.columns}
        filled.append(p.assign(**missing) if missing else p)
    return pd.concat(filled, ignore_index=True)


def to_table(name: str, raw: pd.DataFrame, warnings: list[str] | None = None) -> pd.DataFrame:
    """A text frame (see :func:`text_frame`) -> the typed canonical table ``name``, every column
    in schema order. Columns not given take the data model's default. Converted in one go, as the
    export reader converts a file: the cost is per column, not per page."""
    table = schema.get(name)
    if raw.empty:
        return table.empty()
    raw = raw.reset_index(drop=True)
    n = len(raw)
    given = [c for c in table.names if c in raw.columns]
    work = raw[given].astype("string").fillna("")
    work.insert(0, "_row", np.arange(1, n + 1, dtype="int64"))
    out = Collector("Procore")
    frame, _ = convert(work, _relaxed(name), {c: c for c in given}, out, "en-US",
                       date_formats=["%Y-%m-%d"])  # dates arrive ISO: try that first
    if out.problems:
        ep, ids = raw["_endpoint"].to_numpy(), raw["_id"].to_numpy()
        lines = [f"GET {ep[p.row - 1]} record {ids[p.row - 1]}, field {p.column}: {p.message} "
                 f"(value {p.value!r})" if p.row else f"{p.column}: {p.message}"
                 for p in out.problems[:10]]
        raise ResponseShapeError("Procore answered with values the workbook cannot read as the "
                                 "data model says: " + "; ".join(lines), str(ep[0]))
    if warnings is not None:
        for c in table.columns:
            if not c.required or c.name in ("status_family", "cost_code_raw"):
                continue
            blank = (work[c.name].str.strip() == "") if c.name in work.columns \
                else pd.Series(True, index=work.index)
            for ep, k in raw.loc[blank.to_numpy(), "_endpoint"].value_counts().items():
                what = "read as 0" if c.kind == "money" else "left blank; wip validate will " \
                    "list the rows"
                warnings.append(f"{ep}: {k} record(s) without {c.name} ({what})")
    for c in table.columns:  # every column, schema order, schema dtype
        if c.name not in frame.columns:
            frame[c.name] = pd.Series(pd.NA if c.default is None else c.default,
                                      index=frame.index).astype(c.dtype)
    return frame[table.names].reset_index(drop=True)


def norm_name(h: str) -> str:
    """A header or display name for matching: blanks and underscores folded, case ignored."""
    return " ".join(str(h).replace("_", " ").split()).casefold()


def match_names(names: Sequence[str], spec: Mapping[str, Sequence[str]], cutoff: float = 0.85
                ) -> tuple[dict[str, str], dict[str, str]]:
    """Canonical column -> one of ``names``: exact alias matches first (the header alias map),
    then the closest remaining name by :mod:`difflib` ratio at or above ``cutoff``, each name used
    once, best pairs first. Returns ``(matches, guessed)``; ``guessed`` holds the close matches so
    the caller can say which misspelling it accepted."""
    by_norm: dict[str, str] = {}
    for n in names:
        by_norm.setdefault(norm_name(n), n)
    found: dict[str, str] = {}
    used: set[str] = set()
    for canon, aliases in spec.items():
        for a in aliases:
            hit = by_norm.get(norm_name(a))
            if hit is not None and hit not in used:
                found[canon] = hit
                used.add(hit)
                break
    left = [n for n in names if n not in used]
    pairs = []
    for canon, aliases in spec.items():
        if canon in found:
            continue
        for n in left:
            score = max(difflib.SequenceMatcher(None, norm_name(a), norm_name(n)).ratio()
                        for a in aliases)
            if score >= cutoff:
                pairs.append((score, canon, n))
    guessed: dict[str, str] = {}
    for score, canon, n in sorted(pairs, key=lambda p: -p[0]):
        if canon in found or n in used:
            continue
        found[canon] = guessed[canon] = n
        used.add(n)
    return found, guessed
