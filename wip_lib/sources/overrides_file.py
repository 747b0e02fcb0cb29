"""Controller overrides of the estimate to complete, kept as editable files in the company folder.

File: ``overrides/YYYY-MM.csv`` (one per period) with the headers

    job_id, cost_code, cost_type, etc_amount, who, when, why

- ``cost_code`` blank: the override covers the whole job; ``cost_type`` blank: all cost types (of
  that code, or of the whole job when the code is blank too).
- ``etc_amount``: the cost still to come, as money text (``12,345.67``, ``$12,345.67``); 0 or more.
- ``who`` and ``why`` are required (an override without a reason is not auditable); ``when`` is an
  ISO date-time, to the second, with its UTC offset when known (``2026-10-31T16:05:00-04:00``;
  ``wip override`` and the explorer write it so). The frame's ``when`` is the wall-clock time as
  written (offset set aside, so rows with and without one compare); ``when_text`` keeps the
  timestamp exactly as written, offset included, for the audit trail.
- Rows are an append-only log: a later row for the same job_id, cost_code, cost_type supersedes an
  earlier one (the audit trail still shows both).

The file's rows are read with the company folder (:func:`read_all_overrides`, every period's file)
so a bad row stops every command the same way, and applied by
:func:`wip_lib.accounting.overrides.apply_overrides`.
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
from wip_lib.core.money import cents_to_text, decimal_to_cents, parse_cents
from wip_lib.core.periods import check_period
from wip_lib.core.schema import COST_LINE

KEYS = COST_LINE
HEADERS = ["job_id", "cost_code", "cost_type", "etc_amount", "who", "when", "why"]
REQUIRED_TEXT = ("job_id", "who", "why")
#: An ISO date-time with a UTC offset: (the date-time as written, its offset).
OFFSET = r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})$"


def override_path(root: Path, period: str) -> Path:
    return Path(root) / "overrides" / f"{check_period(period)}.csv"


def empty() -> pd.DataFrame:
    return pd.DataFrame({
        "job_id": pd.Series(dtype="string"), "cost_code": pd.Series(dtype="string"),
        "cost_type": pd.Series(dtype="string"), "etc_amount": pd.Series(dtype="int64"),
        "who": pd.Series(dtype="string"), "when": pd.Series(dtype="datetime64[us]"),
        "why": pd.Series(dtype="string"), "when_text": pd.Series(dtype="string"),
        "_file": pd.Series(dtype="string"),
        "_row": pd.Series(dtype="int64"),
    })


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
    parts = df["when"].str.extract(OFFSET)
    wall = parts[0].where(parts[0].notna(), df["when"])
    when = pd.to_datetime(wall, format="ISO8601", errors="coerce")
    report(when.isna() & (df["when"] != ""), "when", "when is not an ISO date-time",
           "write it as 2026-10-31T16:05:00")
    report(df["when"] == "", "when", "when is blank", "enter when the override was made, "
           "e.g. 2026-10-31T16:05:00")
    df["etc_amount"] = cents.fillna(0).astype("int64")
    df["when_text"] = df["when"].astype("string")
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
    covered = scope(ov, k)["_ov"].unique()
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


def scope(ov: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """An override's scope: a blank cost code or cost type covers every code or type of the
    job. Pairs (override position ``_ov``, forecast position ``_fc``) where the row is in scope."""
    o = ov[KEYS].astype("string").fillna("").reset_index(drop=True)
    o["_ov"] = np.arange(len(o))
    f = forecast[KEYS].astype("string").reset_index(drop=True)
    f["_fc"] = np.arange(len(f))
    m = o.merge(f, on="job_id", suffixes=("", "_f"))
    keep = (((m["cost_code"] == "") | (m["cost_code"] == m["cost_code_f"]))
            & ((m["cost_type"] == "") | (m["cost_type"] == m["cost_type_f"])))
    return m.loc[keep.astype(bool), ["_ov", "_fc"]]


def read_all_overrides(root: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Every period's ``overrides/YYYY-MM.csv`` under ``root`` as one frame with a ``period``
    column, and the problems of all of them. A file in ``overrides/`` whose name is not a period
    is a problem (it would otherwise be ignored without a word)."""
    folder = Path(root) / "overrides"
    frames, problems = [empty().assign(period=pd.Series(dtype="string"))], []
    if not folder.is_dir():
        return frames[0], problems
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        period = path.stem
        try:
            check_period(period)
        except Exception:
            problems.append(Problem(f"overrides/{path.name}", "not an overrides file name: "
                                    "overrides are kept one file per period",
                                    "name the file after its period, e.g. overrides/2026-10.csv, "
                                    "or move it out of overrides/"))
            continue
        if path.suffix.lower() != ".csv":
            problems.append(Problem(f"overrides/{path.name}", "overrides must be a CSV file",
                                    f"save it as overrides/{period}.csv"))
            continue
        df, probs = read_overrides(root, period)
        frames.append(df.assign(period=pd.Series(period, index=df.index, dtype="string")))
        problems += probs
    return pd.concat(frames, ignore_index=True), problems


def money_text(amount) -> str:
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
    number/Decimal of dollars), who, why, and optionally when (default: now, to the second, with
    the machine's UTC offset).
    """
    path = override_path(root, period)
    rel = f"overrides/{period}.csv"
    values = {h: str(row.get(h, "") or "").strip() for h in HEADERS}
    missing = [c for c in REQUIRED_TEXT if not values[c]]
    if missing:
        raise InputError([Problem(rel, f"{c} is blank", "fill it in before saving", column=c)
                          for c in missing])
    values["etc_amount"] = money_text(row.get("etc_amount", ""))
    when = row.get("when") or datetime.now().astimezone().replace(microsecond=0)
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
