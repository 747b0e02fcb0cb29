"""The reconciliation engine: context, findings frame and the check registry.

Every check is a small pure function ``check(ctx) -> (findings, problems)`` registered with
:func:`register`; :func:`run_checks` runs them all in order and stacks their findings, like
beancount's plugins. Adding a check is writing one function in one module of this package.

Conventions shared by every check
---------------------------------
- Money is int64 cents; ``procore_amount``/``erp_amount``/``difference`` are nullable ``Int64``
  (a finding about a name has no amount). ``difference`` is always ``procore - erp``.
- Scope: only items dated on or before the period end count (``ctx.in_scope``); an approval in
  Procore after the period end is a timing item, never a finding.
- Materiality: a finding whose amount at stake is below
  ``max(materiality.amount_cents, materiality.pct * max(|procore|, |erp|))`` is ``info``.
  Findings about names or states with no amount keep the severity their check gave them.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wip_lib.core import schema
from wip_lib.core.codes import crosswalk_pairs
from wip_lib.core.errors import Problem
from wip_lib.core.grouping import aggregate
from wip_lib.core.money import report_text
from wip_lib.core.periods import period_end

FINDING_COLUMNS = ["check", "job_id", "cost_code", "reference", "procore_amount", "erp_amount",
                   "difference", "severity", "action", "days_waiting", "detail"]
MONEY_COLUMNS = ["procore_amount", "erp_amount", "difference"]
SEVERITIES = ("error", "warning", "info")
_TEXT = ["check", "job_id", "cost_code", "reference", "severity", "action", "detail"]


# --------------------------------------------------------------------------------------- context

@dataclass(frozen=True, eq=False)
class ReconContext:
    """What every check sees: the company, the period and the rules of the comparison."""

    company: object  # wip_lib.core.settings.Company
    period: str  # YYYY-MM
    period_end: pd.Timestamp
    materiality: Mapping[str, object]
    # ERP code -> Procore comparison key, per job: job_id, erp_cost_code, key (see crosswalk_map)
    crosswalk: pd.DataFrame = field(repr=False)
    # Procore code -> comparison key, per job: job_id, procore_cost_code, key
    procore_keys: pd.DataFrame = field(repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    def table(self, name: str) -> pd.DataFrame:
        """A canonical table, typed and with defaults filled (computed once per context)."""
        return self.cached(("table", name), lambda: table(self.company, name))

    def cached(self, key, build: Callable[[], object]):
        """A derived frame computed once per context (checks share it; copy-on-write keeps it
        safe from their edits)."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def in_scope(self, dates: pd.Series) -> pd.Series:
        """True where a date is on or before the period end (or missing: nothing to exclude)."""
        d = pd.to_datetime(dates)
        return (d.isna() | (d <= self.period_end)).astype(bool)

    def days_waiting(self, dates: pd.Series) -> pd.Series:
        """Whole days from ``dates`` to the period end (never negative); <NA> without a date."""
        d = pd.to_datetime(dates)
        days = (self.period_end - d).dt.days
        return days.clip(lower=0).astype("Int64")

    @property
    def amount_threshold(self) -> int:
        return int(self.materiality.get("amount_cents", 100_000))

    @property
    def pct_threshold(self) -> float:
        return float(self.materiality.get("pct", 0.0))


def make_context(company, period: str) -> ReconContext:
    end = period_end(period)
    crosswalk, procore_keys = crosswalk_map(company)
    return ReconContext(company=company, period=period, period_end=end,
                        materiality=dict(company.settings.materiality), crosswalk=crosswalk,
                        procore_keys=procore_keys)


# ------------------------------------------------------------------------------------ the tables

def table(company, name: str) -> pd.DataFrame:
    """A canonical table with every schema column present (defaults filled) and typed.

    Readers already deliver this; tables built by hand in tests may leave optional columns out.
    """
    t = schema.get(name)
    df = company[name]
    missing = [c for c in t.columns if c.name not in df.columns]
    if missing or len(df) == 0:
        df = df.copy()
    for c in missing:
        df[c.name] = pd.Series([c.default] * len(df), index=df.index, dtype=object)
    for c in t.columns:
        col = df[c.name]
        try:
            if c.kind in ("text", "code", "period"):
                if not pd.api.types.is_string_dtype(col) or col.dtype == object:
                    df[c.name] = col.astype("string")
                if c.default is not None and df[c.name].hasnans:
                    df[c.name] = df[c.name].fillna(str(c.default))
            elif c.kind == "money":
                if col.dtype != "int64":
                    df[c.name] = col.fillna(c.default if c.default is not None else 0).astype("int64")
            elif c.kind == "date":
                if not pd.api.types.is_datetime64_any_dtype(col):
                    df[c.name] = pd.to_datetime(col)
            elif c.kind == "flag":
                if col.dtype != "boolean":
                    df[c.name] = col.astype("boolean")
                if c.default is not None:
                    df[c.name] = df[c.name].fillna(bool(c.default))
            elif c.kind == "rate" or c.kind == "float":
                if col.dtype != "float64":
                    df[c.name] = col.astype("float64")
            elif c.kind == "int":
                if col.dtype != "Int64":
                    df[c.name] = col.astype("Int64")
        except (TypeError, ValueError):  # leave it; the check will report what it cannot use
            pass
    for c in ("job_id",):
        if c in df.columns:
            df[c] = df[c].str.strip()
    return df


def crosswalk_map(company) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The effective crosswalk per job, as comparison keys.

    Returns ``(erp, procore)``: ``erp`` maps (job_id, erp_cost_code) to a comparison key and
    ``procore`` maps (job_id, procore_cost_code) to the same key. The pairs in force are those of
    the crosswalk rule (:func:`wip_lib.core.codes.crosswalk_pairs`: a job-specific row overrides
    the company-wide rows for that ERP code). Where one ERP code stands for several Procore codes
    the key is those codes joined by ``+`` and the Procore side is compared in total.
    """
    cw = table(company, "cost_code_crosswalk")
    empty_e = pd.DataFrame({"job_id": pd.Series(dtype="string"),
                            "erp_cost_code": pd.Series(dtype="string"),
                            "key": pd.Series(dtype="string")})
    empty_p = empty_e.rename(columns={"erp_cost_code": "procore_cost_code"})
    if cw.empty:
        return empty_e, empty_p
    jobs = pd.concat([(company[n]["job_id"].astype("string").drop_duplicates().str.strip()
                       if "job_id" in company[n].columns else table(company, n)["job_id"])
                      for n in ("budget", "erp_job_cost", "jobs", "erp_jobs")])
    eff = crosswalk_pairs(cw, jobs.dropna().unique())
    keys = (join_values(eff, ["job_id", "erp_cost_code"], "procore_cost_code", "+")
            .rename(columns={"procore_cost_code": "key"})
            .sort_values(["job_id", "erp_cost_code"]).reset_index(drop=True))
    erp = keys.astype({"key": "string"})
    procore = (eff.merge(keys, on=["job_id", "erp_cost_code"])
               .sort_values(["job_id", "procore_cost_code", "key"])
               .drop_duplicates(["job_id", "procore_cost_code"])[["job_id", "procore_cost_code",
                                                                  "key"]]
               .astype({"key": "string"}).reset_index(drop=True))
    return erp.reset_index(drop=True), procore


def _mapped_key(df: pd.DataFrame, code: str, keys: pd.DataFrame, key_code: str) -> pd.Series:
    """``keys.key`` where (job_id, code) is in ``keys``, else the code itself. Only rows whose code
    the crosswalk names at all are joined (a few percent of millions of job-cost rows)."""
    out = df[code].astype("string").rename(None)
    named = df[code].isin(keys[key_code].unique()).fillna(False).to_numpy(bool)
    if named.any():
        sub = df.loc[named, ["job_id", code]]
        m = sub.merge(keys, left_on=["job_id", code], right_on=["job_id", key_code], how="left")
        out = out.copy()
        out.iloc[np.flatnonzero(named)] = m["key"].fillna(m[code]).astype("string").to_numpy()
    return out


def erp_key(ctx: ReconContext, df: pd.DataFrame, code: str = "cost_code") -> pd.Series:
    """The comparison key of ERP rows: the crosswalk's Procore code(s), else the code itself."""
    return _mapped_key(df, code, ctx.crosswalk, "erp_cost_code")


def procore_key(ctx: ReconContext, df: pd.DataFrame, code: str = "cost_code") -> pd.Series:
    """The comparison key of Procore rows (a crosswalk group key, else the code itself)."""
    return _mapped_key(df, code, ctx.procore_keys, "procore_cost_code")


# ------------------------------------------------------------------------------------ formatting

def money_text(cents: pd.Series) -> pd.Series:
    """Cents to report text (``$1,234.56`` / ``-$1,234.56``): :func:`wip_lib.core.money.report_text`."""
    return report_text(cents)


def join_values(df: pd.DataFrame, keys: list[str], column: str, sep: str = ", ") -> pd.DataFrame:
    """One row per group of ``keys`` with ``column`` = ``sep.join(sorted(set(values)))`` of the
    group's non-missing values ("" when it has none).

    Vectorised: nearly every group holds a single distinct value and needs no Python call; only
    groups with several values are joined one by one (a lambda per group cost 1 ms a group, 25 s
    for a 500,000-line company's job-cost check)."""
    g = aggregate(df[[*keys, column]], keys, sort=False, as_index=False, _lo=(column, "min"),
                  _hi=(column, "max"))
    out = g[keys].assign(**{column: g["_lo"].astype("string")})
    several = (g["_lo"] != g["_hi"]).fillna(False).to_numpy(bool)
    if several.any():
        rows = df[[*keys, column]].merge(g.loc[several, keys], on=keys)
        joined = (rows.dropna().drop_duplicates().sort_values([*keys, column], kind="stable")
                  .groupby(keys, sort=False)[column].agg(sep.join))
        at = pd.MultiIndex.from_frame(g.loc[several, keys]) if len(keys) > 1 else \
            pd.Index(g.loc[several, keys[0]])
        out.loc[several, column] = joined.reindex(at).to_numpy()
    out[column] = out[column].fillna("")
    return out.reset_index(drop=True)


def per_distinct(fn: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    """Apply a text normalisation once per distinct value (names and document numbers repeat
    across millions of rows) and spread the results back; missing values are read as ""."""
    def wrapper(values: pd.Series) -> pd.Series:
        s = pd.Series(values).astype("string").fillna("")
        codes, uniques = pd.factorize(s)
        if len(uniques) == len(s):
            return fn(s)
        out = fn(pd.Series(uniques, dtype="string")).astype("string").take(codes)
        out.index = s.index
        return out
    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


@per_distinct
def norm_name(names: pd.Series) -> pd.Series:
    """Vendor / job names compared across systems: case, punctuation and legal suffixes ignored."""
    s = names.astype("string").fillna("").str.lower()
    s = s.str.replace("&", " and ", regex=False)
    s = s.str.replace(r"[^\w\s]", " ", regex=True)
    s = s.str.replace(r"\b(the|inc|incorporated|llc|l l c|ltd|limited|co|corp|corporation|company"
                      r"|pty|plc|lp|llp)\b", " ", regex=True)
    return s.str.replace(r"\s+", " ", regex=True).str.strip()


def norm_doc(numbers: pd.Series) -> pd.Series:
    """Document numbers compared across systems: trimmed, upper case, inner spaces removed.

    ASCII numbers with no whitespace (nearly all) only need upper-casing, done by a pyarrow
    kernel; the others go through the general rule once per distinct value."""
    s = pd.Series(numbers).astype("string").fillna("")
    arr = pa.array(s)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    plain = pc.and_(pc.string_is_ascii(arr),
                    pc.invert(pc.match_substring_regex(arr, "[\t\n\v\f\r\x1c-\x1f ]")))
    plain = plain.to_numpy(zero_copy_only=False)
    out = s.str.upper()
    if not plain.all():
        rest = np.flatnonzero(~plain)
        out = out.copy()
        out.iloc[rest] = _norm_doc_general(s.iloc[rest]).to_numpy()
    return out


@per_distinct
def _norm_doc_general(numbers: pd.Series) -> pd.Series:
    return numbers.astype("string").fillna("").str.strip().str.upper().str.replace(r"\s+", "",
                                                                                   regex=True)


# -------------------------------------------------------------------------------------- findings

def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows and every column typed (a shallow copy of one frame made
    once: under copy-on-write a caller's edits never reach it)."""
    return _empty_findings().copy(deep=False)


@functools.cache
def _empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c in (*MONEY_COLUMNS, "days_waiting")
                                      else "string") for c in FINDING_COLUMNS})


def findings(ctx: ReconContext, check: str, df: pd.DataFrame, *, severity: str | pd.Series = "error",
             exposure: pd.Series | None = None) -> pd.DataFrame:
    """Finish a check's findings: typed columns, ``difference = procore - erp``, severity.

    ``df`` holds job_id, reference, action and detail (text) and any of cost_code,
    procore_amount, erp_amount, days_waiting. ``severity`` is the severity when material;
    ``exposure`` is the amount at stake for materiality (default: ``|difference|``, else the
    larger of the two amounts).
    """
    if df is None or len(df) == 0:
        return empty_findings()
    index = df.index

    def text(c: str) -> pd.Series:
        return (df[c].astype("string").fillna("") if c in df.columns
                else pd.Series("", index=index, dtype="string"))

    def whole(c: str) -> pd.Series:
        return (df[c] if c in df.columns else pd.Series(pd.NA, index=index)).astype("Int64")

    procore, erp = whole("procore_amount"), whole("erp_amount")
    difference = (procore - erp).astype("Int64")
    base = (severity if isinstance(severity, pd.Series)
            else pd.Series(severity, index=index)).astype("string")
    # the larger of the two amounts, either when the other is missing
    p_abs, e_abs = procore.abs(), erp.abs()
    larger = p_abs.mask(p_abs.isna() | (e_abs > p_abs).fillna(False), e_abs)
    if exposure is None:
        exposure = difference.abs().fillna(larger)
    exposure = pd.Series(exposure, index=index).astype("Int64").abs()
    threshold = np.maximum(ctx.amount_threshold,
                           (ctx.pct_threshold * larger.fillna(0).astype("float64")).to_numpy())
    immaterial = (exposure.astype("float64") < threshold).fillna(False).astype(bool)
    # One frame from the columns' arrays, in order (a column at a time was most of the cost).
    columns = {"check": pd.Series(check, index=index, dtype="string"), "job_id": text("job_id"),
               "cost_code": text("cost_code"), "reference": text("reference"),
               "procore_amount": procore, "erp_amount": erp, "difference": difference,
               "severity": base.mask(immaterial, "info"), "action": text("action"),
               "days_waiting": whole("days_waiting"), "detail": text("detail")}
    return pd.DataFrame({c: columns[c].array for c in FINDING_COLUMNS})


def sort_findings(df: pd.DataFrame) -> pd.DataFrame:
    order = {name: i for i, name in enumerate(c.name for c in CHECKS)}
    rank = df["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).astype("Int64")
    keyed = df.assign(_s=rank, _c=df["check"].map(order).astype("Int64"))
    keyed = keyed.sort_values(["_s", "_c", "job_id", "cost_code", "reference"], kind="stable")
    return keyed.drop(columns=["_s", "_c"]).reset_index(drop=True)


# -------------------------------------------------------------------------------------- registry

CheckFn = Callable[[ReconContext], "tuple[pd.DataFrame, list[Problem]]"]


@dataclass(frozen=True)
class Check:
    name: str
    func: CheckFn
    affects_job_cost: bool = False  # its differences explain Procore vs ERP job-to-date cost
    doc: str = ""


CHECKS: list[Check] = []


def register(name: str, *, affects_job_cost: bool = False) -> Callable[[CheckFn], CheckFn]:
    """Decorator: add a check to :data:`CHECKS` (replacing one of the same name)."""
    def deco(func: CheckFn) -> CheckFn:
        entry = Check(name, func, affects_job_cost, (func.__doc__ or "").strip().split("\n")[0])
        for i, c in enumerate(CHECKS):
            if c.name == name:
                CHECKS[i] = entry
                break
        else:
            CHECKS.append(entry)
        return func
    return deco


def job_cost_checks() -> list[str]:
    return [c.name for c in CHECKS if c.affects_job_cost]


def run_checks(ctx: ReconContext, names: list[str] | None = None
               ) -> tuple[pd.DataFrame, list[Problem]]:
    """Run the registered checks (or those named) and stack their findings, sorted."""
    frames = [empty_findings()]
    problems: list[Problem] = []
    for c in CHECKS:
        if names is not None and c.name not in names:
            continue
        found, errs = c.func(ctx)
        if found is not None and len(found):
            frames.append(found)
        problems.extend(errs or [])
    out = pd.concat(frames, ignore_index=True)
    out = out.astype({c: "Int64" for c in MONEY_COLUMNS + ["days_waiting"]})
    return sort_findings(out), problems
