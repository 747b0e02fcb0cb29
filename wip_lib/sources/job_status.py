"""A job-status file (one row per job per period end) to the WIP schedule.

Read rules: headers are matched after trimming, lower-casing and turning spaces/punctuation into
``_``; extra columns are ignored; UTF-8 (with or without BOM) or Windows-1252 text; job_id stays
text (leading zeros kept); money through :func:`wip_lib.core.money.parse_cents`. Every bad value is a
:class:`~wip_lib.core.errors.Problem` naming the file, row (header = row 1), column, value and a fix;
all are collected and raised together as one :class:`~wip_lib.core.errors.InputError`.

Contract columns (optional): ``contract_type`` (fixed_price when blank; time_and_materials,
cost_plus, gmp, letter_of_intent, or the same words as spelt in exports), ``fee_pct`` (the fee or
markup on cost of the cost-plus types, ``0.08`` or ``8%``; required for them) and
``contract_estimated`` (a letter-of-intent job's estimated contract value). A revised contract
(``contract_original + change_orders_approved + change_orders_pending_included +
contract_estimated``) below zero is refused.

The schedule built from it: :mod:`wip_lib.accounting.status_schedule`.
"""
from __future__ import annotations

import difflib
import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from wip_lib.core.errors import InputError, Problem
from wip_lib.core.money import parse_cents
from wip_lib.core.settings import FEE_TYPES, contract_type_of

REQUIRED = ("job_id", "period_end", "contract_original", "cost_to_date", "billed_to_date")
ESTIMATES = ("est_cost_to_complete", "est_total_cost")
OPTIONAL = ("job_name", "change_orders_approved", "change_orders_pending_included",
            "est_cost_original", "uninstalled_materials", "retainage_receivable", "status",
            "contract_type", "fee_pct", "contract_estimated")
MONEY_REQUIRED = ("contract_original", "cost_to_date", "billed_to_date")
MONEY_ZERO = ("change_orders_approved", "change_orders_pending_included", "uninstalled_materials")
MONEY_NA = ("est_cost_original", "retainage_receivable", "est_cost_to_complete", "est_total_cost",
            "contract_estimated")
NON_NEGATIVE = ("contract_original", "cost_to_date", "billed_to_date", "uninstalled_materials",
                "retainage_receivable", "est_cost_original", "contract_estimated")
STATUSES = ("open", "complete")

def _is_decimal(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _norm(header: str) -> str:
    return "_".join("".join(ch.lower() if ch.isalnum() else " " for ch in header).split())


def _decode(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError([Problem(file, "the file is neither UTF-8 nor Windows-1252 text",
                                  "save it from Excel as 'CSV UTF-8 (Comma delimited)'")]) from None


def _header_problems(headers: list[str], file: str) -> list[Problem]:
    problems = []
    present = set(headers)
    unknown = [h for h in headers if h not in (*REQUIRED, *ESTIMATES, *OPTIONAL)]

    def suggestion(name: str) -> str:
        near = difflib.get_close_matches(name, unknown, n=1, cutoff=0.6)
        if near:
            return f"rename the column {near[0]!r} to {name!r} (the nearest header in the file)"
        return f"add a column {name!r} to the header row"

    for name in REQUIRED:
        if name not in present:
            problems.append(Problem(file, f"required column {name!r} is missing",
                                    suggestion(name), row=1, column=name))
    if not any(e in present for e in ESTIMATES):
        near = difflib.get_close_matches("est_cost_to_complete", unknown, n=1, cutoff=0.6) or \
            difflib.get_close_matches("est_total_cost", unknown, n=1, cutoff=0.6)
        fix = (f"rename the column {near[0]!r} to est_cost_to_complete or est_total_cost"
               if near else "add est_cost_to_complete or est_total_cost (or both)")
        problems.append(Problem(file, "no estimate column: est_cost_to_complete or "
                                "est_total_cost is required", fix, row=1,
                                column="est_cost_to_complete"))
    dup = sorted({h for h in headers if headers.count(h) > 1 and h})
    for h in dup:
        problems.append(Problem(file, f"column {h!r} appears more than once", "keep one of them",
                                row=1, column=h))
    return problems


def _rows_problems(mask: pd.Series, values: pd.Series, rows: pd.Series, file: str, column: str,
                   message: str, fix: str) -> list[Problem]:
    m = mask.fillna(False).to_numpy(dtype=bool)
    return [Problem(file, message, fix, row=int(r), column=column, value=v)
            for r, v in zip(rows.to_numpy()[m], values.to_numpy(dtype=object)[m])]


def read_job_status(path: Path | str) -> pd.DataFrame:
    """Read and check a job-status CSV; returns typed columns (money Int64 cents, period_end
    datetime64, job_id string) plus ``_row`` (spreadsheet row), or raises InputError listing every
    problem. ``est_cost_to_complete`` is derived from ``est_total_cost - cost_to_date`` when only
    the total is given; when both are given they must agree exactly."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise InputError([Problem(file, "file not found", "check the path")])
    text = _decode(path.read_bytes(), file)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                          skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise InputError([Problem(file, "the file is empty",
                                  "export the job status with a header row")]) from None
    except pd.errors.ParserError as exc:
        raise InputError([Problem(file, f"not a readable CSV: {exc}".replace("\n", " "),
                                  "check the quotes and the number of commas on that line")]
                         ) from None
    headers = [_norm(h) for h in raw.columns]
    problems = _header_problems(headers, file)
    if problems:
        raise InputError(problems)
    raw.columns = headers
    raw = raw[[c for c in raw.columns if c in (*REQUIRED, *ESTIMATES, *OPTIONAL)]]
    raw = raw.astype("string").apply(lambda s: s.str.strip())
    rows = pd.Series(np.arange(len(raw)) + 2, index=raw.index)
    blank_line = (raw.fillna("") == "").all(axis=1)
    raw, rows = raw[~blank_line], rows[~blank_line]
    if raw.empty:
        raise InputError([Problem(file, "the file has a header but no rows",
                                  "export at least one job")])

    out = pd.DataFrame(index=raw.index)
    out["_row"] = rows.astype("int64")
    out["job_id"] = raw["job_id"].astype("string")
    problems += _rows_problems(out["job_id"] == "", raw["job_id"], rows, file, "job_id",
                               "job_id is blank", "enter the job number")
    out["job_name"] = raw["job_name"] if "job_name" in raw else pd.Series("", index=raw.index,
                                                                          dtype="string")

    pe = raw["period_end"]
    dates = pd.to_datetime(pe.where(pe.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False)),
                           format="%Y-%m-%d", errors="coerce")
    problems += _rows_problems(dates.isna(), pe, rows, file, "period_end",
                               "period_end is not a date as YYYY-MM-DD",
                               "write the period end as YYYY-MM-DD, e.g. 2026-10-31")
    out["period_end"] = dates.astype("datetime64[us]")

    for col in (*MONEY_REQUIRED, *MONEY_ZERO, *MONEY_NA):
        if col not in raw.columns:
            out[col] = pd.Series(0 if col in MONEY_ZERO else pd.NA, index=raw.index,
                                 dtype="Int64")
            continue
        cents, bad = parse_cents(raw[col])
        problems += _rows_problems(bad, raw[col], rows, file, col, f"{col} is not an amount",
                                   "write the amount as 1234.56 or $1,234.56 (at most 2 decimals)")
        if col in MONEY_REQUIRED:
            problems += _rows_problems(cents.isna() & ~bad, raw[col], rows, file, col,
                                       f"{col} is blank", f"enter {col} (0 if none)")
        elif col in MONEY_ZERO:
            cents = cents.mask(cents.isna() & ~bad, 0)
        out[col] = cents
    for col in NON_NEGATIVE:
        problems += _rows_problems(out[col] < 0, raw[col] if col in raw else out[col], rows,
                                   file, col, f"{col} is negative",
                                   "enter a positive amount (a credit belongs in another column)")
    m_over = out["uninstalled_materials"] > out["cost_to_date"]
    shown = raw.get("uninstalled_materials", out["uninstalled_materials"])
    problems += _rows_problems(m_over, shown, rows, file, "uninstalled_materials",
                               "uninstalled materials exceed cost to date",
                               "uninstalled materials are part of cost to date; enter at most "
                               "cost_to_date")

    # Estimates: ETC and/or EAC; both given must agree: EAC = CTD + ETC.
    etc, eac, ctd = out["est_cost_to_complete"], out["est_total_cost"], out["cost_to_date"]
    both = etc.notna() & eac.notna() & ctd.notna()
    mismatch = both & (eac != ctd + etc)
    if mismatch.any():
        m = mismatch.fillna(False).to_numpy(dtype=bool)
        for r, v, c, e in zip(rows.to_numpy()[m], raw["est_total_cost"].to_numpy(dtype=object)[m],
                              ctd.to_numpy(dtype=object)[m], etc.to_numpy(dtype=object)[m]):
            problems.append(Problem(
                file, f"est_total_cost is not cost_to_date + est_cost_to_complete "
                f"({Decimal(int(c)) / 100:,.2f} + {Decimal(int(e)) / 100:,.2f} = "
                f"{Decimal(int(c) + int(e)) / 100:,.2f})",
                "correct one of the three amounts, or leave est_total_cost or "
                "est_cost_to_complete blank", row=int(r), column="est_total_cost", value=v))
    out["est_cost_to_complete"] = etc.where(etc.notna(), eac - ctd).astype("Int64")
    out = out.drop(columns="est_total_cost")

    # The contract: its type (docs/policies.md), a fee for the cost-plus types, and a revised
    # contract that is not negative (deducts above the contract are a mistake).
    kind = contract_type_of(raw["contract_type"]) if "contract_type" in raw.columns else \
        pd.Series("", index=raw.index, dtype="string")
    if "contract_type" in raw.columns:
        problems += _rows_problems(kind.isna(), raw["contract_type"], rows, file,
                                   "contract_type", "contract_type is not a contract type the "
                                   "WIP knows", "write fixed_price, time_and_materials, "
                                   "cost_plus, gmp or letter_of_intent (blank: fixed_price)")
    out["contract_type"] = kind.fillna("").mask(kind.fillna("") == "", "fixed_price")
    fee_text = raw["fee_pct"] if "fee_pct" in raw.columns else pd.Series(
        "", index=raw.index, dtype="string")
    pct = fee_text.fillna("").str.strip()
    is_pct = pct.str.endswith("%")
    number = pd.to_numeric(pct.str.rstrip("%").str.strip().where(pct != ""), errors="coerce")
    bad_fee = (pct != "") & (number.isna() | (number < 0))
    problems += _rows_problems(bad_fee, fee_text, rows, file, "fee_pct",
                               "fee_pct is not a fee or markup on cost",
                               "write it as a fraction (0.08) or a percent (8%)")
    needs_fee = out["contract_type"].isin(FEE_TYPES) & (pct == "")
    problems += _rows_problems(needs_fee, out["contract_type"], rows, file, "fee_pct",
                               "a time-and-materials, cost-plus or GMP contract needs its fee",
                               "enter fee_pct, the fee or markup on cost (0.08 or 8%)")
    fee_frac = pct.str.rstrip("%").str.strip()
    fee_frac = fee_frac.where(~is_pct, fee_frac.map(
        lambda v: str(Decimal(v) / 100) if v and _is_decimal(v) else v)).astype("string")
    out["fee_pct"] = fee_frac.where(~bad_fee & (pct != ""))
    tp = (out["contract_original"].fillna(0) + out["change_orders_approved"].fillna(0)
          + out["change_orders_pending_included"].fillna(0)
          + out["contract_estimated"].fillna(0))
    problems += _rows_problems(tp < 0, tp.map(lambda c: f"{Decimal(int(c)) / 100:,.2f}"), rows,
                               file, "change_orders_approved",
                               "the revised contract (contract_original + change orders) is "
                               "negative", "check the change orders: deducts cannot exceed "
                               "the contract")

    if "status" in raw.columns:
        status = raw["status"].str.lower().replace("", "open")
        problems += _rows_problems(~status.isin(STATUSES), raw["status"], rows, file, "status",
                                   "status is not open or complete",
                                   "write open, or complete for the final figures")
        out["status"] = status.astype("string")
    else:
        out["status"] = pd.Series("open", index=raw.index, dtype="string")

    key_ok = (out["job_id"] != "") & out["period_end"].notna()
    keyed = out[key_ok]
    dup = keyed.duplicated(["job_id", "period_end"], keep=False)
    if dup.any():
        first_row = keyed[dup].groupby(["job_id", "period_end"])["_row"].transform("min")
        later = keyed[dup]["_row"] != first_row
        for (_, r), f in zip(keyed[dup][later].iterrows(), first_row[later]):
            problems.append(Problem(
                file, f"job {r['job_id']} has period_end {r['period_end']:%Y-%m-%d} twice "
                f"(rows {int(f)} and {int(r['_row'])})",
                "keep one row per job per period end", row=int(r["_row"]), column="period_end",
                value=f"{r['period_end']:%Y-%m-%d}"))

    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.row or 0)))
    return out.reset_index(drop=True)
