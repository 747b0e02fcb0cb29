"""Controller overrides of the estimate to complete, kept as editable files in the company folder.

File: ``overrides/YYYY-MM.csv`` (one per period) with the headers

    job_id, cost_code, cost_type, etc_amount, who, when, why

- ``cost_code`` blank: the override covers the whole job; ``cost_type`` blank: all cost types (of
  that code, or of the whole job when the code is blank too).
- ``etc_amount``: the cost still to come, as money text (``12,345.67``, ``$12,345.67``); 0 or more.
- ``who`` and ``why`` are required (an override without a reason is not auditable); ``when`` is an
  ISO date-time (``2026-10-31T16:05:00``).
- Rows are an append-only log: a later row for the same job_id, cost_code, cost_type supersedes an
  earlier one (the audit trail still shows both).

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
"""
from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from wip_lib.core.errors import InputError, Problem
from wip_lib.accounting.forecast import KEYS, SOURCE_OVERRIDE, allocate, check_period, finish
from wip_lib.core.money import cents_to_text, decimal_to_cents, parse_cents

HEADERS = ["job_id", "cost_code", "cost_type", "etc_amount", "who", "when", "why"]
REQUIRED_TEXT = ("job_id", "who", "why")


def override_path(root: Path, period: str) -> Path:
    return Path(root) / "overrides" / f"{check_period(period)}.csv"


def empty() -> pd.DataFrame:
    return pd.DataFrame({
        "job_id": pd.Series(dtype="string"), "cost_code": pd.Series(dtype="string"),
        "cost_type": pd.Series(dtype="string"), "etc_amount": pd.Series(dtype="int64"),
        "who": pd.Series(dtype="string"), "when": pd.Series(dtype="datetime64[us]"),
        "why": pd.Series(dtype="string"), "_file": pd.Series(dtype="string"),
        "_row": pd.Series(dtype="int64"),
    })


def _fmt_money(cents: int) -> str:
    return f"{'-' if cents < 0 else ''}${abs(int(cents)) // 100:,}.{abs(int(cents)) % 100:02d}"


def read_overrides(root: Path, period: str,
                   known: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Read ``overrides/<period>.csv`` under ``root``: ``(overrides, problems)``.

    A missing file means no overrides. Rows with a problem are left out of the frame; each problem
    names the file, row (header = row 1), column, value and the fix. ``known`` (a forecast frame
    with job_id, cost_code, cost_type) also checks that each job, code and type exists.
    """
    path = override_path(root, period)
    rel = f"overrides/{period}.csv"
    if not path.exists():
        return empty(), []
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        return empty(), [Problem(rel, f"not a readable CSV: {exc}".replace("\n", " "),
                                 "save the file as CSV (UTF-8) with the headers "
                                 + ", ".join(HEADERS))]
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [h for h in HEADERS if h not in raw.columns]
    if missing:
        return empty(), [Problem(rel, f"missing column {m!r}", "add the header row: "
                                 + ",".join(HEADERS), column=m) for m in missing]
    df = pd.DataFrame({h: raw[h].astype("string").fillna("").str.strip() for h in HEADERS})
    df["_file"] = pd.Series(rel, index=df.index, dtype="string")
    df["_row"] = pd.Series(np.arange(len(df)) + 2, index=df.index, dtype="int64")
    problems: list[Problem] = []
    bad = pd.Series(False, index=df.index)

    def report(mask: pd.Series, column: str, message: str, fix: str) -> None:
        nonlocal bad
        for r, v in zip(df.loc[mask, "_row"], df.loc[mask, column]):
            problems.append(Problem(rel, message, fix, row=int(r), column=column, value=v))
        bad |= mask

    for col in REQUIRED_TEXT:
        report(df[col] == "", col, f"{col} is blank",
               {"job_id": "enter the job number the override is for",
                "who": "enter who made the override",
                "why": "write why the PM's forecast is overridden (required for the audit trail)"
                }[col])
    cents, bad_money = parse_cents(df["etc_amount"])
    report(df["etc_amount"] == "", "etc_amount", "etc_amount is blank",
           "enter the estimated cost to complete, e.g. 12,345.67")
    report(bad_money, "etc_amount", "etc_amount is not a money amount",
           "write the amount as 12345.67 or 12,345.67 (whole cents, no text)")
    report((cents < 0).fillna(False).astype(bool), "etc_amount", "etc_amount is negative",
           "enter the cost still to come, 0 or more")
    when = pd.to_datetime(df["when"], format="ISO8601", errors="coerce")
    report(when.isna() & (df["when"] != ""), "when", "when is not an ISO date-time",
           "write it as 2026-10-31T16:05:00")
    report(df["when"] == "", "when", "when is blank", "enter when the override was made, "
           "e.g. 2026-10-31T16:05:00")
    df["etc_amount"] = cents.fillna(0).astype("int64")
    df["when"] = when.astype("datetime64[us]")
    if known is not None:
        problems += validate_overrides(df[~bad], known)
        bad |= df["_row"].isin([p.row for p in problems])
    problems.sort(key=lambda p: (p.row or 0, HEADERS.index(p.column) if p.column in HEADERS else 9))
    return df[~bad].reset_index(drop=True), problems


def validate_overrides(overrides: pd.DataFrame, known: pd.DataFrame) -> list[Problem]:
    """Problems for overrides whose job, cost code or cost type is not in ``known`` (a forecast
    frame): every override must cover at least one forecast row."""
    if overrides.empty:
        return []
    ov = overrides.reset_index(drop=True)
    k = known[KEYS].astype("string")
    covered = _scope(ov, k)["_ov"].unique()
    out: list[Problem] = []
    files = ov["_file"] if "_file" in ov else pd.Series("overrides", index=ov.index)
    rows = ov["_row"] if "_row" in ov else pd.Series(pd.NA, index=ov.index)
    job_ok = ov["job_id"].isin(k["job_id"])
    code_ok = (ov["cost_code"] == "") | pd.Series(
        pd.MultiIndex.from_arrays([ov["job_id"], ov["cost_code"]]).isin(
            pd.MultiIndex.from_arrays([k["job_id"], k["cost_code"]])), index=ov.index)
    scope_ok = pd.Series(np.isin(np.arange(len(ov)), covered), index=ov.index)
    bad = ~(job_ok & code_ok & scope_ok)
    # reporting only: one problem per bad row
    for r, file, row, jok, cok in zip(ov.loc[bad, KEYS].itertuples(index=False), files[bad],
                                      rows[bad], job_ok[bad], code_ok[bad]):
        row = None if pd.isna(row) else int(row)
        if not jok:
            out.append(Problem(str(file), "unknown job", "use a job number that has a budget or "
                               "cost this period", row=row, column="job_id", value=r.job_id))
        elif not cok:
            out.append(Problem(str(file), f"job {r.job_id} has no cost code {r.cost_code}",
                               "use a cost code of the job's budget, or leave cost_code blank "
                               "for the whole job", row=row, column="cost_code", value=r.cost_code))
        else:
            out.append(Problem(str(file), f"job {r.job_id} has no cost type {r.cost_type}"
                               + (f" on cost code {r.cost_code}" if r.cost_code else ""),
                               "use a cost type of that code, or leave cost_type blank for all "
                               "types", row=row, column="cost_type", value=r.cost_type))
    return out


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


def _scope(ov: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """Pairs (override position ``_ov``, forecast position ``_fc``) where the row is in scope."""
    o = ov[KEYS].astype("string").fillna("").reset_index(drop=True)
    o["_ov"] = np.arange(len(o))
    f = forecast[KEYS].astype("string").reset_index(drop=True)
    f["_fc"] = np.arange(len(f))
    m = o.merge(f, on="job_id", suffixes=("", "_f"))
    keep = (((m["cost_code"] == "") | (m["cost_code"] == m["cost_code_f"]))
            & ((m["cost_type"] == "") | (m["cost_type"] == m["cost_type_f"])))
    return m.loc[keep.astype(bool), ["_ov", "_fc"]]


def effective(overrides: pd.DataFrame) -> pd.DataFrame:
    """The overrides in force: the last row for each job_id, cost_code, cost_type."""
    return _normalise(overrides).drop_duplicates(KEYS, keep="last").reset_index(drop=True)


def apply_overrides(forecast_df: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """Set ``etc_used``/``etc_source`` from controller overrides (rule in the module docstring);
    ``pm_forecast`` is kept as it was. Raises :class:`InputError` for an override that cannot be
    honoured exactly."""
    fc = forecast_df.reset_index(drop=True).copy()
    if overrides is None or len(overrides) == 0:
        return fc
    ov = effective(overrides)
    unknown = validate_overrides(ov, fc)
    if unknown:
        raise InputError(unknown)
    ov["_level"] = (ov["cost_code"] != "").astype(int) * 2 + (ov["cost_type"] != "").astype(int)
    pairs = _scope(ov, fc).merge(ov[["_level", "etc_amount"]], left_on="_ov", right_index=True)
    etc = fc["etc_used"].astype("int64").to_numpy().copy()
    claimed = np.zeros(len(fc), dtype=bool)
    problems: list[Problem] = []
    pm = fc["pm_forecast"].clip(lower=0).to_numpy()
    com = fc["etc_committed"].clip(lower=0).to_numpy()
    for level in (3, 2, 1, 0):  # four passes, most specific first; each pass is vectorised
        p = pairs[pairs["_level"] == level].copy()
        if p.empty:
            continue
        p["_claimed"] = claimed[p["_fc"]]
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
        claimed[free["_fc"].to_numpy()] = True
    if problems:
        raise InputError(problems)
    fc["etc_used"] = etc
    fc["etc_source"] = fc["etc_source"].astype("string").mask(claimed, SOURCE_OVERRIDE)
    return finish(fc)


def audit_trail(overrides: pd.DataFrame, forecast_df: pd.DataFrame) -> pd.DataFrame:
    """Every override row (superseded ones too) beside the PM's forecast of the same scope:
    ``who, when, why, job_id, cost_code, cost_type, pm_forecast, override, difference, status,
    file, row`` with ``difference = override - pm_forecast`` (positive: the controller expects
    more cost than the PM) and ``status`` 'applied' or 'superseded'."""
    cols = ["who", "when", "why", "job_id", "cost_code", "cost_type", "pm_forecast", "override",
            "difference", "status", "file", "row"]
    if overrides is None or len(overrides) == 0:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("pm_forecast", "override",
                                                                 "difference") else "string")
                             for c in cols})
    ov = _normalise(overrides).reset_index(drop=True)
    pairs = _scope(ov, forecast_df)
    pm = forecast_df["pm_forecast"].astype("int64").reset_index(drop=True)
    scope_pm = pm.iloc[pairs["_fc"]].groupby(pairs["_ov"].to_numpy()).sum()
    out = pd.DataFrame({
        "who": ov["who"].astype("string"), "when": ov["when"], "why": ov["why"].astype("string"),
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


def _money_text(amount) -> str:
    if isinstance(amount, str):
        cents, bad = parse_cents(pd.Series([amount], dtype="string"))
        if bool(bad.iloc[0]) or pd.isna(cents.iloc[0]):
            raise InputError([Problem("overrides", "etc_amount is not a money amount",
                                      "write it as 12345.67", column="etc_amount", value=amount)])
        value = int(cents.iloc[0])
    else:
        try:
            d = Decimal(str(amount))
        except InvalidOperation:
            raise InputError([Problem("overrides", "etc_amount is not a money amount",
                                      "write it as 12345.67", column="etc_amount",
                                      value=amount)]) from None
        if d != d.quantize(Decimal("0.01")):
            raise InputError([Problem("overrides", "etc_amount has a fraction of a cent",
                                      "round it to whole cents", column="etc_amount",
                                      value=amount)])
        value = decimal_to_cents(d)
    if value < 0:
        raise InputError([Problem("overrides", "etc_amount is negative",
                                  "enter the cost still to come, 0 or more", column="etc_amount",
                                  value=amount)])
    return cents_to_text(pd.Series([value])).iloc[0]


def write_override(root: Path, period: str, row: Mapping) -> Path:
    """Append one override to ``overrides/<period>.csv`` (created with its header if missing).

    ``row`` holds job_id, cost_code (optional), cost_type (optional), etc_amount (money text, or a
    number/Decimal of dollars), who, why, and optionally when (default: now, to the second).
    """
    path = override_path(root, period)
    rel = f"overrides/{period}.csv"
    values = {h: str(row.get(h, "") or "").strip() for h in HEADERS}
    missing = [c for c in REQUIRED_TEXT if not values[c]]
    if missing:
        raise InputError([Problem(rel, f"{c} is blank", "fill it in before saving", column=c)
                          for c in missing])
    values["etc_amount"] = _money_text(row.get("etc_amount", ""))
    when = row.get("when") or datetime.now().replace(microsecond=0)
    values["when"] = when.isoformat() if hasattr(when, "isoformat") else str(when)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    if not new:
        with open(path, "rb") as fh:
            fh.seek(-1, 2)
            needs_newline = fh.read(1) not in (b"\n", b"\r")
    with open(path, "a", encoding="utf-8", newline="") as fh:
        if not new and needs_newline:
            fh.write("\n")
        w = csv.writer(fh, lineterminator="\n")
        if new:
            w.writerow(HEADERS)
        w.writerow([values[h] for h in HEADERS])
    return path
