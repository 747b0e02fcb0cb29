"""A job-status file (one row per job per period end) to the WIP schedule.

Read rules: headers are matched after trimming, lower-casing and turning spaces/punctuation into
``_``; extra columns are ignored; UTF-8 (with or without BOM) or Windows-1252 text; job_id stays
text (leading zeros kept); money through :func:`wip_lib.core.money.parse_cents`. Every bad value is a
:class:`~wip_lib.core.errors.Problem` naming the file, row (header = row 1), column, value and a fix;
all are collected and raised together as one :class:`~wip_lib.core.errors.InputError`.

Schedule rules: each row is recognised by :func:`wip_lib.accounting.recognition.recognize` (ASC 606
cost-to-cost, ASC 605-35 losses); ``change_orders_pending_included`` is pending change-order
revenue the company has decided to include, so it is part of ``TP``. Period amounts are the
cumulative catch-up against the same job's previous period end in the file
(:func:`wip_lib.accounting.catch_up.catch_up`); the first period end of a job has prior zeros. A ``complete``
row is the final figures: ``ER = TP``, ``over/under = B - TP``, provision 0.
"""
from __future__ import annotations

import difflib
import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from wip_lib.reports.csvfiles import write_report_csv
from wip_lib.core.errors import InputError, Problem
from wip_lib.core.money import parse_cents
from wip_lib.accounting.catch_up import CARRIED, catch_up
from wip_lib.accounting.recognition import Policy, recognize

REQUIRED = ("job_id", "period_end", "contract_original", "cost_to_date", "billed_to_date")
ESTIMATES = ("est_cost_to_complete", "est_total_cost")
OPTIONAL = ("job_name", "change_orders_approved", "change_orders_pending_included",
            "est_cost_original", "uninstalled_materials", "retainage_receivable", "status")
MONEY_REQUIRED = ("contract_original", "cost_to_date", "billed_to_date")
MONEY_ZERO = ("change_orders_approved", "change_orders_pending_included", "uninstalled_materials")
MONEY_NA = ("est_cost_original", "retainage_receivable", "est_cost_to_complete", "est_total_cost")
NON_NEGATIVE = ("contract_original", "cost_to_date", "billed_to_date", "uninstalled_materials",
                "retainage_receivable", "est_cost_original")
STATUSES = ("open", "complete")

SCHEDULE_MONEY = (
    "contract_original", "change_orders_approved", "change_orders_pending_included",
    "contract_revised", "est_cost_original", "est_total_cost", "est_gross_profit",
    "cost_to_date", "est_cost_to_complete", "uninstalled_materials", "earned_revenue",
    "gross_profit_to_date", "loss_provision", "cost_of_revenue_to_date", "billed_to_date",
    "retainage_receivable", "underbillings", "overbillings", "underbillings_net",
    "overbillings_net", "underbillings_gross", "overbillings_gross", "backlog",
    "remaining_gross_profit", "revenue_period", "cost_period", "gross_profit_period", "fade",
    "fade_vs_bid", "gp_new_work", "gp_revision")
SCHEDULE_COLUMNS = (
    "job_id", "job_name", "period_end", "status",
    "contract_original", "change_orders_approved", "change_orders_pending_included",
    "contract_revised", "est_cost_original", "est_total_cost", "est_gross_profit", "est_gp_pct",
    "est_gp_pct_prior", "cost_to_date", "est_cost_to_complete", "uninstalled_materials",
    "pct_complete", "earned_revenue", "gross_profit_to_date", "loss_provision",
    "cost_of_revenue_to_date", "billed_to_date", "retainage_receivable",
    "underbillings", "overbillings", "UNDER_OTHER", "OVER_OTHER", "backlog",
    "remaining_gross_profit", "revenue_period", "cost_period", "gross_profit_period",
    "gp_new_work", "gp_revision", "fade", "fade_points", "fade_vs_bid", "fade_vs_bid_points",
    "flag", "flag_reason")
DECIMALS = {"pct_complete": 8, "est_gp_pct": 6, "est_gp_pct_prior": 6, "fade_points": 6,
            "fade_vs_bid_points": 6}


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


def build_schedule(status: pd.DataFrame, *, threshold: float = 0.0,
                   net_loss_provision: bool = False) -> pd.DataFrame:
    """The WIP schedule, one row per job-status row in input order.

    Recognition by :func:`recognize` (``change_orders_pending_included`` counts in ``TP``; a
    ``complete`` row gives ``ER = TP`` and provision 0), then the period catch-up against the same
    job's previous period end: ``revenue_period = ER(t) - ER(t-1)``, ``cost_period = ΔCTD +
    Δprovision``, ``gross_profit_period = revenue_period - cost_period``, ``fade = EGP(t) -
    EGP(t-1)``. With ``net_loss_provision`` the underbillings/overbillings columns are the surety
    view ``(B - ER) + provision`` (the gross ones follow as ``*_gross``); otherwise the gross ones
    lead and the net ones follow as ``*_net``.
    """
    policy = Policy(include_pending_co_revenue=True, start_threshold=threshold,
                    net_loss_provision=net_loss_provision)
    jobs = status.rename(columns={"change_orders_pending_included": "change_orders_pending"})
    rec = recognize(jobs, policy).drop(columns=["change_orders_pending"])

    # Prior figures: the same job's previous period end in the file (prior zeros for the first).
    ordered = rec.sort_values(["job_id", "period_end"], kind="stable")
    grouped = ordered.groupby("job_id", sort=False)
    exact = {c: ("float64" if c == "est_gp_pct" else "Int64") for c in CARRIED}
    prior = ordered[list(CARRIED)].astype(exact).groupby(ordered["job_id"], sort=False).shift(1)
    has_prior = grouped["period_end"].shift(1).notna().to_numpy(dtype=bool)
    sched = catch_up(ordered, prior, has_prior, "period").loc[rec.index]

    if net_loss_provision:
        sched["underbillings_gross"] = sched["underbillings"]
        sched["overbillings_gross"] = sched["overbillings"]
        sched["underbillings"] = sched["underbillings_net"]
        sched["overbillings"] = sched["overbillings_net"]
        other = ("underbillings_gross", "overbillings_gross")
    else:
        other = ("underbillings_net", "overbillings_net")
    cols = [{"UNDER_OTHER": other[0], "OVER_OTHER": other[1]}.get(c, c) for c in SCHEDULE_COLUMNS]
    sched["period_end"] = sched["period_end"].dt.strftime("%Y-%m-%d").astype("string")
    return sched[[c for c in cols if c in sched.columns]].reset_index(drop=True)


def write_schedule(schedule: pd.DataFrame, out_dir: Path | str) -> Path:
    """Write ``out_dir/wip_schedule.csv``: money as exact 2-decimal text, ratios as fractions."""
    money = [c for c in SCHEDULE_MONEY if c in schedule.columns]
    return write_report_csv(schedule, Path(out_dir) / "wip_schedule.csv", money=money,
                            decimals=DECIMALS, keep=("flag", "flag_reason", "period_end",
                                                     "status"))


def summary_lines(schedule: pd.DataFrame) -> list[str]:
    """Totals per period end: revenue, GP for the period, under/overbillings, loss provision."""
    totals = schedule.groupby("period_end", sort=True).agg(
        jobs=("job_id", "nunique"), revenue=("revenue_period", "sum"),
        gross_profit=("gross_profit_period", "sum"), underbillings=("underbillings", "sum"),
        overbillings=("overbillings", "sum"), loss_provision=("loss_provision", "sum"),
        flagged=("flag", lambda f: int((f != "").sum())))

    def d(c) -> str:
        return f"{Decimal(int(c)) / 100:,.2f}"

    head = (f"{'period_end':<10} {'jobs':>4} {'revenue':>16} {'gross profit':>15} "
            f"{'underbillings':>15} {'overbillings':>15} {'loss provision':>15} {'flagged':>7}")
    lines = [head]
    for pe, t in totals.iterrows():  # one line per period end (a handful), for display only
        lines.append(f"{pe:<10} {t['jobs']:>4} {d(t['revenue']):>16} {d(t['gross_profit']):>15} "
                     f"{d(t['underbillings']):>15} {d(t['overbillings']):>15} "
                     f"{d(t['loss_provision']):>15} {t['flagged']:>7}")
    return lines
