"""The forecast table: one row per job, cost code and cost type (Procore codes), every ETC
method side by side (:mod:`wip_lib.accounting.forecast` builds it, :mod:`wip_lib.accounting.overrides`
sets the ETC used on it).

Line totals of the ETC used, for every row:

- ``eac_used = cost_to_date + etc_used``
- ``variance_used = revised_budget - eac_used`` (negative: an overrun)
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core.schema import COST_LINE

KEYS = COST_LINE
SOURCE_PM = "Procore forecast"
SOURCE_OVERRIDE = "controller override"
METHODS = ("remaining_budget", "committed", "pm", "trend")

MONEY_COLUMNS = [
    "revised_budget", "pending_budget_changes", "committed", "pending_cost_changes",
    "invoiced_against_commitments", "committed_remaining", "uncommitted_budget", "cost_to_date",
    "cost_last_3_periods", "projected_costs", "pm_forecast", "estimated_cost_at_completion",
    *[f"{p}_{m}" for m in METHODS for p in ("etc", "eac", "variance")],
    "etc_used", "eac_used", "variance_used",
]

COLUMNS = [
    *KEYS, "description", "budget_snapshot", "revised_budget", "pending_budget_changes",
    "committed", "pending_cost_changes", "invoiced_against_commitments", "committed_remaining",
    "uncommitted_budget", "cost_to_date", "cost_last_3_periods", "months_remaining",
    "time_elapsed", "projected_costs", "pm_forecast", "estimated_cost_at_completion",
    *[f"{p}_{m}" for m in METHODS for p in ("etc", "eac", "variance")],
    "etc_used", "etc_source", "eac_used", "variance_used",
]


def cents(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").fillna(0).astype("int64")


def finish(df: pd.DataFrame) -> pd.DataFrame:
    """Recompute ``eac_used``/``variance_used``, set dtypes, order columns and rows."""
    df = df.copy()
    df["etc_used"] = cents(df["etc_used"])
    df["eac_used"] = df["cost_to_date"] + df["etc_used"]
    df["variance_used"] = df["revised_budget"] - df["eac_used"]
    for c in MONEY_COLUMNS:
        df[c] = cents(df[c])
    for c in KEYS:
        df[c] = df[c].astype("string")
    df["etc_source"] = df["etc_source"].astype("string")
    return df[COLUMNS].sort_values(KEYS, kind="stable").reset_index(drop=True)
