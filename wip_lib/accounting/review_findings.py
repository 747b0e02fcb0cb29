"""The findings frame of the billing review and the pay-app review (one shape for both).

Each check of :mod:`wip_lib.accounting.progress_billing` and :mod:`wip_lib.accounting.payapp_review`
returns ``(findings, problems)`` as the reconciliation checks do; a finding names the document
and line, what the rule expects, what the document says, the difference and what to do:

- ``job_id``, ``reference`` (the invoice # of the pay application), ``line`` (the G703 item
  number, or the G702 line, blank for the whole document), ``check``;
- ``expected``, ``actual`` (int cents, <NA> when the finding has no amount) and
  ``difference = actual - expected``;
- ``severity``: the check's own (``error`` or ``warning``) when material, else ``info``;
  ``action``; ``cost_code``, ``contract``, ``application_number`` and ``detail``.

Materiality is the reconciliation's (``company.yaml: materiality``): a finding whose amount at
stake (``|difference|`` unless the check gives another) is below
``max(amount_cents, pct * max(|expected|, |actual|))`` is ``info``.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from wip_lib.core.settings import DEFAULT_MATERIALITY

FINDING_COLUMNS = ["job_id", "reference", "line", "check", "expected", "actual", "difference",
                   "severity", "action", "cost_code", "contract", "application_number", "detail"]
MONEY = ["expected", "actual", "difference"]
SEVERITIES = ("error", "warning", "info")
_TEXT = ["job_id", "reference", "line", "check", "severity", "action", "cost_code", "contract",
         "detail"]


def empty() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype="string") for c in FINDING_COLUMNS})
    for c in MONEY:
        df[c] = pd.Series(dtype="Int64")
    df["application_number"] = pd.Series(dtype="Int64")
    return df[FINDING_COLUMNS]


def finish(check: str, df: pd.DataFrame | None, materiality: Mapping | None = None, *,
           severity: str | pd.Series = "error",
           exposure: pd.Series | None = None) -> pd.DataFrame:
    """A check's rows as findings: typed columns, ``difference = actual - expected``, severity
    (``info`` below materiality). ``df`` holds job_id, reference, action and any of the other
    columns; ``exposure`` is the amount at stake (default ``|difference|``)."""
    if df is None or len(df) == 0:
        return empty()
    m = {**DEFAULT_MATERIALITY, **dict(materiality or {})}
    out = pd.DataFrame(index=df.index)
    for c in _TEXT:
        out[c] = (df[c].astype("string") if c in df.columns
                  else pd.Series("", index=df.index, dtype="string")).fillna("")
    out["check"] = check
    for c in ("expected", "actual"):
        out[c] = (df[c] if c in df.columns else pd.Series(pd.NA, index=df.index)).astype("Int64")
    out["difference"] = (out["actual"] - out["expected"]).astype("Int64")
    out["application_number"] = (df["application_number"] if "application_number" in df.columns
                                 else pd.Series(pd.NA, index=df.index)).astype("Int64")
    base = (severity if isinstance(severity, pd.Series)
            else pd.Series(severity, index=df.index)).astype("string")
    larger = pd.concat([out["expected"].abs(), out["actual"].abs()], axis=1).max(axis=1)
    at_stake = (out["difference"].abs() if exposure is None
                else pd.Series(exposure, index=df.index).astype("Int64").abs())
    threshold = np.maximum(int(m["amount_cents"]),
                           float(m["pct"]) * larger.fillna(0).astype("float64").to_numpy())
    immaterial = (at_stake.astype("float64") < threshold).fillna(False).astype(bool)
    out["severity"] = base.mask(immaterial, "info")
    return out[FINDING_COLUMNS].reset_index(drop=True)


def stack(frames: list[pd.DataFrame], order: list[str]) -> pd.DataFrame:
    """Findings of several checks in one frame: by severity, then check (in ``order``), job,
    reference and line."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty()
    df = pd.concat(frames, ignore_index=True)
    rank = df["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).astype("Int64")
    at = df["check"].map({c: i for i, c in enumerate(order)}).astype("Int64")
    df = df.assign(_s=rank, _c=at).sort_values(
        ["_s", "_c", "job_id", "reference", "application_number", "line"], kind="stable")
    return df.drop(columns=["_s", "_c"]).reset_index(drop=True)
