"""Month-end close: freeze a period's figures in the company's period store, reopen it with a
reason, and check a closed period against today's data.

A close computes the period once (:func:`wip_lib.close.period.compute_period`, with the prior period's
figures taken from the store) and writes, in **one transaction**
(:meth:`~wip_lib.close.store.PeriodStore.close_period`):

============== ==========================================================================
artefact       what it holds (one row per ...)
============== ==========================================================================
schedule       job of the period: recognition figures, period and year-to-date amounts,
               fade, over/under billings, ``prior_source`` (all jobs, completed ones too)
completed      completed contract of the fiscal year (completed-contracts schedule)
etc_used       forecast row (job, cost code, cost type): every estimate method, the ETC used,
               its source and, for an overridden row, the override's who / when / why / amount
overrides      override row as read from ``overrides/YYYY-MM.csv`` (superseded ones too)
override_audit override beside the PM forecast it replaced (``applied`` / ``superseded``)
findings       reconciliation finding (Procore vs ERP)
tieout         job of the reconciliation tie-out summary
journal        line of the WIP journal entry
totals         one row: the period's totals, its prior source and notes
job_cost       ERP job-cost row of the period itself (job, period, document, amount), so a
               later change to a closed month names its documents
billings       ERP AR billing row of the period itself (job, period, invoice, amount billed)
inputs         input file below the company folder: path, size, SHA-256
============== ==========================================================================

Rules (enforced by the store): the first close of a company may be any period, then periods close
in order; a closed period is refused until it is reopened (``wip reopen`` with a reason, logged
with who and when); reopening keeps the old close as history.

Where the store lives: ``store_path`` in ``company.yaml`` (relative to the company folder, or
absolute), else ``DATA_DIR/wip_store.duckdb``; ``--store`` on the command line wins over both.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from wip_lib.core.errors import PeriodError
from wip_lib.close.store import (DEFAULT_FILENAME, Close, PeriodStore, changed_inputs,
                                 current_user, fingerprint_inputs, open_store, store_path)
from wip_lib.core.periods import check_period, next_period, periods_between

ARTEFACTS = ("schedule", "completed", "etc_used", "overrides", "override_audit", "findings",
             "tieout", "journal", "totals", "job_cost", "billings", "inputs")
#: Keys that identify a row of an artefact, for reporting differences on a re-run.
ROW_KEYS = {
    "schedule": ["job_id"],
    "completed": ["job_id"],
    "etc_used": ["job_id", "cost_code", "cost_type"],
    "tieout": ["job_id"],
}


# -- input files ------------------------------------------------------------------------
def fingerprints(root: Path | str, store: PeriodStore | None = None) -> pd.DataFrame:
    """SHA-256 of every input file of the company (the store file itself left out)."""
    exclude = [DEFAULT_FILENAME]
    if store is not None:
        exclude.append(store.path.name)
    return fingerprint_inputs(Path(root), exclude=tuple(dict.fromkeys(exclude)))


def first_period(company) -> str:
    """The earliest month the company's data covers (job starts and every dated table)."""
    months = []
    starts = pd.to_datetime(company["jobs"]["start_date"]).dropna()
    if len(starts):
        months.append(str(starts.min().to_period("M")))
    for t in company.tables.values():
        if "period" in t.columns and len(t):
            p = t["period"].astype("string").dropna()
            p = p[p.str.fullmatch(r"\d{4}-\d{2}")]
            if len(p):
                months.append(str(p.min()))
    if not months:
        raise PeriodError("the company folder holds no dated data, so there is no history to "
                          "close; give --from YYYY-MM")
    return min(months)


def _no_inputs() -> pd.DataFrame:
    return pd.DataFrame({"file": pd.Series(dtype="string"), "bytes": pd.Series(dtype="int64"),
                         "sha256": pd.Series(dtype="string")})


# -- what a close freezes -------------------------------------------------------------------
def etc_used(forecast: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """The forecast rows (the ETC used by cost code) with, where a controller override set the
    row, the override in force: ``override_who, override_when, override_why, override_amount``
    and ``override_scope`` (the job / code / type it was written for; blank = all). Which
    override set a row: :func:`wip_lib.accounting.overrides.set_by`."""
    from wip_lib.accounting.overrides import set_by

    fc = forecast.reset_index(drop=True).copy()
    cols = {"override_who": "string", "override_when": "datetime64[us]",
            "override_why": "string", "override_amount": "Int64", "override_scope": "string"}
    for c, t in cols.items():
        fc[c] = pd.Series(pd.NA if t != "datetime64[us]" else pd.NaT, index=fc.index, dtype=t)
    if overrides is None or len(overrides) == 0 or len(fc) == 0:
        return fc
    by = set_by(fc, overrides)
    at = np.flatnonzero(by["etc_amount"].notna().to_numpy(bool))
    src = by.iloc[at].reset_index(drop=True)
    fc.loc[at, "override_who"] = src["who"].astype("string").to_numpy()
    fc.loc[at, "override_when"] = pd.to_datetime(src["when"]).astype("datetime64[us]").to_numpy()
    fc.loc[at, "override_why"] = src["why"].astype("string").to_numpy()
    fc.loc[at, "override_amount"] = src["etc_amount"].astype("int64").to_numpy()
    scope = ("job " + src["job_id"].astype("string") + " / code "
             + src["cost_code"].replace("", "(all)") + " / type "
             + src["cost_type"].replace("", "(all)"))
    fc.loc[at, "override_scope"] = scope.to_numpy()
    return fc.astype(cols)


def period_totals(result) -> pd.DataFrame:
    """One row: the period's totals (:meth:`PeriodSchedule.totals`) and where its prior came
    from."""
    s = result.wip
    row = {"period": result.period, "company": result.company_name,
           "jobs": len(s.schedule), "jobs_in_progress": len(s.in_progress),
           "jobs_completed": len(s.completed), **s.totals(),
           "journal_debits": int(s.journal["debit"].sum()) if len(s.journal) else 0,
           "journal_lines": len(s.journal),
           "findings": len(result.findings),
           "prior_source": s.prior_source, "notes": "\n".join(s.notes)}
    df = pd.DataFrame([row])
    for c in ("period", "company", "prior_source", "notes"):
        df[c] = df[c].astype("string")
    return df


def artefacts(result, inputs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What a close freezes, by artefact name (see the module docstring)."""
    from wip_lib.accounting.overrides import audit_trail

    return {
        "schedule": result.wip.schedule,
        "completed": result.wip.completed,
        "etc_used": etc_used(result.forecast, result.overrides),
        "overrides": result.overrides,
        "override_audit": audit_trail(result.overrides, result.forecast),
        "findings": result.findings,
        "tieout": result.tieout,
        "journal": result.wip.journal,
        "totals": period_totals(result),
        **result.period_rows,
        "inputs": inputs,
    }


# -- close, reopen --------------------------------------------------------------------------
@dataclass
class ClosedPeriod:
    close: Close
    result: object  # wip_lib.close.period.PeriodResult
    rows: dict[str, int]
    seconds: float

    @property
    def period(self) -> str:
        return self.close.period


def input_changes(store: PeriodStore, period: str, root: Path | str,
                  current: pd.DataFrame | None = None) -> pd.DataFrame:
    """Input files ``added``, ``removed`` or ``changed`` since ``period`` was closed (empty when
    none, or when the period is not closed)."""
    closed = store.load(period, "inputs")
    if closed is None or closed.empty or "sha256" not in closed.columns:
        return pd.DataFrame({"file": pd.Series(dtype="string"),
                             "change": pd.Series(dtype="string")})
    if current is None:
        current = fingerprints(root, store)
    return changed_inputs(closed, current).astype("string")


def describe_changes(changes: pd.DataFrame, period: str, limit: int = 10) -> str:
    n = len(changes)
    items = [f"{r.file} ({r.change})" for r in changes.head(limit).itertuples()]
    more = f" and {n - limit} more" if n > limit else ""
    return (f"{n} input file{'s' if n != 1 else ''} changed since {period} was closed: "
            + ", ".join(items) + more)


def refuse_if_closed(store: PeriodStore, period: str, root: Path | str | None = None) -> None:
    """Raise :class:`PeriodError` when ``period`` cannot be closed now, before anything is
    computed. For a closed period the message also says which input files changed since."""
    try:
        store.check_can_close(period, root)
    except PeriodError as exc:
        if root is not None and store.is_closed(period):
            changes = input_changes(store, period, root)
            if len(changes):
                raise PeriodError(f"{exc}\nNote: {describe_changes(changes, period)}.") from None
        raise


def close_period(company, period: str, store: PeriodStore, *, who: str | None = None,
                 inputs: pd.DataFrame | None = None) -> ClosedPeriod:
    """Compute ``period`` and freeze it in ``store`` in one transaction.

    ``inputs`` (the fingerprints) default to the files below ``company.root`` now."""
    from wip_lib.close.period import compute_period

    started = time.perf_counter()
    period = check_period(period)
    refuse_if_closed(store, period, company.root)
    if inputs is None:
        inputs = fingerprints(company.root, store) if company.root is not None else _no_inputs()
    result = compute_period(company, period, store=store)
    frames = artefacts(result, inputs)
    close = store.close_period(period, frames, who=who or current_user())
    return ClosedPeriod(close, result, {k: len(v) for k, v in frames.items()},
                        time.perf_counter() - started)


def freeze(store: PeriodStore, result, inputs: pd.DataFrame, *, who: str | None = None) -> Close:
    """Write an already computed :class:`~wip_lib.close.period.PeriodResult` as the close of its
    period (one transaction). :func:`close_period` is compute + freeze."""
    return store.close_period(result.period, artefacts(result, inputs), who=who or current_user())


def close_through(company, through: str, store: PeriodStore, *, first: str | None = None,
                  who: str | None = None,
                  progress: Callable[[int, int, str, ClosedPeriod | None], None] | None = None
                  ) -> list[ClosedPeriod]:
    """Close every period from ``first`` to ``through`` in order, one transaction each.

    ``first`` defaults to the month after the latest closed period, or, for a company with no
    close yet, the earliest month of its data. Periods already closed are skipped. A failure
    stops the run; the periods closed before it stay closed. ``progress(i, n, period, closed)``
    is called after each period (``closed`` None for a skipped one)."""

    through = check_period(through)
    latest = store.latest_closed()
    if first is None:
        first = next_period(latest) if latest else first_period(company)
    first = check_period(first)
    if first > through:
        return []
    periods = periods_between(first, through)
    inputs = fingerprints(company.root, store) if company.root is not None else None
    done = []
    for i, p in enumerate(periods, start=1):
        if store.is_closed(p):
            if progress:
                progress(i, len(periods), p, None)
            continue
        c = close_period(company, p, store, who=who, inputs=inputs)
        done.append(c)
        if progress:
            progress(i, len(periods), p, c)
    return done


def reopen_period(store: PeriodStore, period: str, reason: str, *,
                  who: str | None = None) -> Close:
    """Reopen the latest closed period with a reason; the close stays in the store as history."""

    return store.reopen(check_period(period), reason, who=who or current_user())


# -- a closed period against today's data ----------------------------------------------------
@dataclass
class Verification:
    period: str
    close: Close
    changed_files: pd.DataFrame
    differences: pd.DataFrame     # artefact, row, column, closed, now
    result: object = field(repr=False, default=None)

    @property
    def identical(self) -> bool:
        return self.differences.empty


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    x = a.astype(object).reset_index(drop=True)
    y = b.astype(object).reset_index(drop=True)
    xn, yn = x.isna().to_numpy(bool), y.isna().to_numpy(bool)
    eq = xn & yn
    both = ~xn & ~yn
    eq[both] = [bool(p == q) for p, q in zip(x[both], y[both])]
    return eq


def _row_labels(df: pd.DataFrame, keys: list[str]) -> pd.Index:
    label = df[keys[0]].astype("string").fillna("")
    for k in keys[1:]:
        label = label + " / " + df[k].astype("string").fillna("")
    return pd.Index(label.astype(object), dtype=object)


def compare_frames(name: str, closed: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Figure-by-figure differences between a closed artefact and its recomputation."""
    cols = ["artefact", "row", "column", "closed", "now"]
    out: list[tuple] = []
    closed = closed.reset_index(drop=True)
    now = now.reset_index(drop=True)
    for c in closed.columns.difference(now.columns):
        out.append((name, "", c, "column", "(gone)"))
    for c in now.columns.difference(closed.columns):
        out.append((name, "", c, "(none)", "column"))
    common = [c for c in closed.columns if c in now.columns]
    keys = [k for k in ROW_KEYS.get(name, []) if k in common]
    if keys and not closed.duplicated(keys).any() and not now.duplicated(keys).any():
        left = closed.set_index(_row_labels(closed, keys))
        right = now.set_index(_row_labels(now, keys))
        for k in left.index.difference(right.index):
            out.append((name, k, "", "row", "(gone)"))
        for k in right.index.difference(left.index):
            out.append((name, k, "", "(none)", "row"))
        both = left.index.intersection(right.index, sort=False)
        left, right = left.loc[both], right.loc[both]
        labels = list(both)
    elif len(closed) == len(now):
        left, right, labels = closed, now, [str(i + 1) for i in range(len(closed))]
    else:
        out.append((name, "", "", f"{len(closed)} rows", f"{len(now)} rows"))
        return pd.DataFrame(out, columns=cols).astype("string")
    for c in common:
        if c in keys:
            continue
        same = _same(left[c], right[c])
        for i in np.flatnonzero(~same):
            out.append((name, labels[i], c, str(left[c].iloc[i]), str(right[c].iloc[i])))
    return pd.DataFrame(out, columns=cols).astype("string")


def verify_period(company, period: str, store: PeriodStore) -> Verification:
    """Re-run the month-end of a closed ``period`` and compare it, figure by figure, with what
    was closed; also list the input files changed since the close."""
    from wip_lib.close.period import compute_period

    period = check_period(period)
    close = store.active_close(period)
    if close is None:
        raise PeriodError(f"{period} is not closed, so there is nothing to compare with; close "
                          f"it with: wip close DATA_DIR --period {period}")
    if company.root is not None:
        current = fingerprints(company.root, store)
        changes = input_changes(store, period, company.root, current)
    else:  # a company built from tables: no files to compare
        current = store.load(period, "inputs")
        changes = pd.DataFrame({"file": pd.Series(dtype="string"),
                                "change": pd.Series(dtype="string")})
    result = compute_period(company, period, store=store)
    now = artefacts(result, current)
    # An artefact the close did not freeze (a store written by an older version) has nothing
    # to compare with.
    closed = {name: store.load(period, name) for name in now if name != "inputs"}
    diffs = [compare_frames(name, closed[name], frame) for name, frame in now.items()
             if name != "inputs" and closed[name] is not None]
    diffs = pd.concat(diffs, ignore_index=True)
    return Verification(period, close, changes, diffs, result)
