"""Controller overrides of the estimate to complete: how an override sets the ETC used.

The file and its rows: :mod:`wip_lib.sources.overrides_file`.

How an override sets ``etc_used`` (exactly: the overridden rows add up to the override)
-------------------------------------------------------------------------------------------
Overrides are applied from the most specific to the broadest: code + type, then code (all types),
then type (all codes), then whole job. An override's *scope* is the job's forecast rows matching its
code and type. Rows already set by a more specific override keep their value and count toward the
broader override; the remainder ``etc_amount - (etc_used of those rows)`` is spread over the other
rows of the scope pro rata to their PM forecast (``pm_forecast``, negatives as 0); when those are
all zero, pro rata to ``etc_committed``; when those are zero too, equally. Shares are rounded by
cumulative half-up rounding, so they add up to the remainder to the cent. A remainder below zero,
or a non-zero remainder with no row left to take it, cannot be honoured and is an input problem.
``pm_forecast`` is never changed, so the PM's figure stays beside the override.

The override that *set* a row is thus the most specific one whose scope holds it; the close
records it beside the row (:func:`set_by`, computed by the same passes as :func:`apply_overrides`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from wip_lib.accounting.forecast_table import KEYS, SOURCE_OVERRIDE, finish
from wip_lib.core.errors import InputError, Problem
from wip_lib.core.money import allocate, cents_to_text
from wip_lib.sources.overrides_file import scope, validate_overrides


def _fmt_money(cents: int) -> str:
    return f"{'-' if cents < 0 else ''}${abs(int(cents)) // 100:,}.{abs(int(cents)) % 100:02d}"


def _normalise(overrides: pd.DataFrame) -> pd.DataFrame:
    ov = overrides.copy()
    for c in KEYS:
        ov[c] = ov[c].astype("string").fillna("").str.strip()
    ov["etc_amount"] = pd.to_numeric(ov["etc_amount"]).astype("int64")
    if "_file" not in ov:
        ov["_file"] = "overrides"
    if "_row" not in ov:
        ov["_row"] = pd.NA
    return ov


def effective(overrides: pd.DataFrame) -> pd.DataFrame:
    """The overrides in force: the last row for each job_id, cost_code, cost_type."""
    return _normalise(overrides).drop_duplicates(KEYS, keep="last").reset_index(drop=True)


def _apply(fc: pd.DataFrame, overrides: pd.DataFrame) -> tuple[np.ndarray, np.ndarray,
                                                                pd.DataFrame]:
    """The rule of the module docstring over forecast rows ``fc`` (positional index):
    ``(etc_used, setter, ov)`` where ``setter[i]`` is the position in ``ov`` (the overrides in
    force, :func:`effective`) of the override that set row ``i``, -1 for a row none set.
    Raises :class:`InputError` for an override that cannot be honoured exactly."""
    ov = effective(overrides)
    unknown = validate_overrides(ov, fc)
    if unknown:
        raise InputError(unknown)
    ov["_level"] = (ov["cost_code"] != "").astype(int) * 2 + (ov["cost_type"] != "").astype(int)
    pairs = scope(ov, fc).merge(ov[["_level", "etc_amount"]], left_on="_ov", right_index=True)
    etc = fc["etc_used"].astype("int64").to_numpy().copy()
    setter = np.full(len(fc), -1, dtype=np.int64)
    problems: list[Problem] = []
    pm = fc["pm_forecast"].clip(lower=0).to_numpy()
    com = fc["etc_committed"].clip(lower=0).to_numpy()
    for level in (3, 2, 1, 0):  # four passes, most specific first; each pass is vectorised
        p = pairs[pairs["_level"] == level].copy()
        if p.empty:
            continue
        p["_claimed"] = setter[p["_fc"]] >= 0
        p["_etc_claimed"] = np.where(p["_claimed"], etc[p["_fc"]], 0)
        g = p.groupby("_ov")
        remainder = p["etc_amount"] - g["_etc_claimed"].transform("sum")
        free_count = (~p["_claimed"].astype(bool)).groupby(p["_ov"]).transform("sum")
        bad_ov = p.loc[(remainder < 0) | ((free_count == 0) & (remainder != 0)), "_ov"].unique()
        for i in bad_ov:
            r = ov.iloc[i]
            taken = int(p.loc[p["_ov"] == i, "_etc_claimed"].sum())
            problems.append(Problem(
                str(r["_file"]), f"override of {_fmt_money(r['etc_amount'])} for job {r['job_id']}"
                f" is less than the {_fmt_money(taken)} set by more specific overrides in it"
                if taken > r["etc_amount"] else
                f"override of {_fmt_money(r['etc_amount'])} for job {r['job_id']} has no row "
                "left to take it", "make the broader override at least the sum of the code "
                "overrides inside it, or remove one of them",
                row=None if pd.isna(r["_row"]) else int(r["_row"]), column="etc_amount",
                value=cents_to_text(pd.Series([r["etc_amount"]])).iloc[0]))
        free = p[~p["_claimed"].astype(bool) & ~p["_ov"].isin(bad_ov)].copy()
        if free.empty:
            continue
        free["_remainder"] = (free["etc_amount"]
                              - free["_ov"].map(p.groupby("_ov")["_etc_claimed"].sum()))
        free["_pm"] = pm[free["_fc"]]
        free["_com"] = com[free["_fc"]]
        gf = free.groupby("_ov")
        use_pm = gf["_pm"].transform("sum") > 0
        use_com = gf["_com"].transform("sum") > 0
        free["_w"] = np.where(use_pm, free["_pm"], np.where(use_com, free["_com"], 1))
        free = free.sort_values(["_ov", "_fc"], kind="stable")
        share = allocate(free["_remainder"], free["_w"], free["_ov"])
        etc[free["_fc"].to_numpy()] = share.to_numpy()
        setter[free["_fc"].to_numpy()] = free["_ov"].to_numpy()
    if problems:
        raise InputError(problems)
    return etc, setter, ov


def apply_overrides(forecast_df: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """Set ``etc_used``/``etc_source`` from controller overrides (rule in the module docstring);
    ``pm_forecast`` is kept as it was. Raises :class:`InputError` for an override that cannot be
    honoured exactly."""
    fc = forecast_df.reset_index(drop=True).copy()
    if overrides is None or len(overrides) == 0:
        return fc
    etc, setter, _ = _apply(fc, overrides)
    fc["etc_used"] = etc
    fc["etc_source"] = fc["etc_source"].astype("string").mask(setter >= 0, SOURCE_OVERRIDE)
    return finish(fc)


def set_by(forecast_df: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """For each row of ``forecast_df`` (in order), the override in force that set its ETC used by
    the rule of the module docstring (the most specific override whose scope holds the row):
    the override's columns (``job_id, cost_code, cost_type, etc_amount, who, when, why``, ...),
    all ``<NA>`` for a row no override set. Applying the overrides again to a forecast they were
    applied to sets the same rows, so ``forecast_df`` may be either."""
    fc = forecast_df.reset_index(drop=True)
    _, setter, ov = _apply(fc, overrides)
    ov = ov.drop(columns="_level").astype({"etc_amount": "Int64"})
    return ov.reindex(setter).reset_index(drop=True)


def _when_text(ov: pd.DataFrame) -> pd.Series:
    """Each override's timestamp as written (``when_text``), else its ``when`` to the second."""
    stamp = pd.to_datetime(ov["when"]).dt.strftime("%Y-%m-%dT%H:%M:%S").astype("string")
    if "when_text" in ov.columns:
        written = ov["when_text"].astype("string").str.strip()
        stamp = written.where(written.fillna("") != "", stamp)
    return stamp.astype("string").reset_index(drop=True)


def audit_trail(overrides: pd.DataFrame, forecast_df: pd.DataFrame) -> pd.DataFrame:
    """Every override row (superseded ones too) beside the PM's forecast of the same scope:
    ``who, when, why, job_id, cost_code, cost_type, pm_forecast, override, difference, status,
    file, row`` with ``when`` the timestamp as written (to the second, with its UTC offset when
    the row has one), ``difference = override - pm_forecast`` (positive: the controller expects
    more cost than the PM) and ``status`` 'applied' or 'superseded'."""
    cols = ["who", "when", "why", "job_id", "cost_code", "cost_type", "pm_forecast", "override",
            "difference", "status", "file", "row"]
    if overrides is None or len(overrides) == 0:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("pm_forecast", "override",
                                                                 "difference") else "string")
                             for c in cols})
    ov = _normalise(overrides).reset_index(drop=True)
    pairs = scope(ov, forecast_df)
    pm = forecast_df["pm_forecast"].astype("int64").reset_index(drop=True)
    scope_pm = pm.iloc[pairs["_fc"]].groupby(pairs["_ov"].to_numpy()).sum()
    out = pd.DataFrame({
        "who": ov["who"].astype("string"), "when": _when_text(ov),
        "why": ov["why"].astype("string"),
        "job_id": ov["job_id"], "cost_code": ov["cost_code"], "cost_type": ov["cost_type"],
        "pm_forecast": scope_pm.reindex(range(len(ov)), fill_value=0).astype("int64").to_numpy(),
        "override": ov["etc_amount"].astype("int64"),
    })
    out["difference"] = out["override"] - out["pm_forecast"]
    last = ~ov.duplicated(KEYS, keep="last")
    out["status"] = pd.Series(np.where(last, "applied", "superseded"), dtype="string")
    out["file"] = ov["_file"].astype("string")
    out["row"] = ov["_row"].astype("Int64")
    return out[cols]


