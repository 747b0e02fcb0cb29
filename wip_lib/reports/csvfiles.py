"""Report CSVs: money as plain decimal text, untrusted text neutralised, deterministic bytes.

A controller opens these in Excel. A vendor called ``=HYPERLINK(...)`` or ``@SUM(...)`` would run
as a formula there (CSV injection), so text cells starting with ``= + - @`` or a tab/carriage
return get a leading apostrophe, which Excel shows as text (OWASP's advice). Money columns are
written from integer cents as ``-1234.56`` and are never touched by that rule.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from wip_lib.accounting.forecast_table import MONEY_COLUMNS as FORECAST_MONEY
from wip_lib.accounting.journal import assert_balanced
from wip_lib.core.money import cents_to_text

_DANGEROUS = r"^[=+\-@\t\r]"


def neutralise(text: pd.Series) -> pd.Series:
    s = text.astype("string")
    return s.mask(s.str.contains(_DANGEROUS, regex=True).fillna(False), "'" + s)


def to_report_frame(df: pd.DataFrame, money: Iterable[str] = (), *, decimals: dict | None = None,
                    keep: Iterable[str] = ()) -> pd.DataFrame:
    """Money columns (int cents) -> dollars text; other text columns neutralised.

    ``decimals`` maps float columns to the number of decimals to print (e.g. pct_complete: 6).
    ``keep`` lists text columns written as they are (codes we generated ourselves).
    """
    out = df.copy()
    money = set(money)
    keep = set(keep)
    for col in out.columns:
        if col in money:
            out[col] = cents_to_text(out[col].astype("Int64"))
        elif decimals and col in decimals:
            out[col] = out[col].map(lambda v, d=decimals[col]: "" if pd.isna(v) else f"{v:.{d}f}")
        elif col in keep:
            continue
        elif pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            out[col] = neutralise(out[col])
        elif pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def write_report_csv(df: pd.DataFrame, path: Path, money: Iterable[str] = (), **kwargs) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_report_frame(df, money, **kwargs).to_csv(path, index=False, lineterminator="\n")
    return path


#: Money and ratio columns of a WIP schedule, for its CSV.
SCHEDULE_MONEY = (
    "contract_original", "contract_estimated", "change_orders_approved", "change_orders_pending",
    "change_orders_unpriced", "change_orders_claims", "change_orders_pending_included",
    "change_orders_pending_cost", "retainage_payable", "contract_revised", "est_cost_original", "est_total_cost", "est_gross_profit",
    "cost_to_date", "est_cost_to_complete", "uninstalled_materials", "earned_revenue",
    "gross_profit_to_date", "loss_provision", "cost_of_revenue_to_date", "billed_to_date",
    "retainage_receivable", "underbillings", "overbillings", "underbillings_net",
    "overbillings_net", "underbillings_gross", "overbillings_gross", "backlog",
    "remaining_gross_profit", "revenue_period", "cost_period", "gross_profit_period", "fade",
    "fade_vs_bid", "gp_new_work", "gp_revision")
DECIMALS = {"pct_complete": 8, "est_gp_pct": 6, "est_gp_pct_prior": 6, "fade_points": 6,
            "fade_vs_bid_points": 6}


def write_schedule(schedule: pd.DataFrame, out_dir: Path | str) -> Path:
    """Write ``out_dir/wip_schedule.csv``: money as exact 2-decimal text, ratios as fractions."""
    money = [c for c in SCHEDULE_MONEY if c in schedule.columns]
    return write_report_csv(schedule, Path(out_dir) / "wip_schedule.csv", money=money,
                            decimals=DECIMALS, keep=("flag", "flag_reason", "period_end",
                                                     "status"))


def to_import_csv(entry: pd.DataFrame, path: Path | str) -> Path:
    """Write an ERP-importable journal: Date (period end, YYYY-MM-DD), Account, Job, Debit, Credit
    (exact 2-decimal text), Description. Checks the entry balances first."""
    assert_balanced(entry)
    period = entry["period"].astype("string")
    ends = pd.PeriodIndex(period.to_numpy(dtype=object), freq="M").to_timestamp(how="end")
    date = pd.Series(ends.strftime("%Y-%m-%d"), index=entry.index, dtype="string")
    out = pd.DataFrame({
        "Date": date,
        "Account": neutralise(entry["account"]),
        "Job": neutralise(entry["job_id"]),
        "Debit": cents_to_text(entry["debit"].astype("Int64")),
        "Credit": cents_to_text(entry["credit"].astype("Int64")),
        "Description": neutralise(entry["memo"]),
    })
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, lineterminator="\n")
    return path


SCHEDULE_EXTRA_MONEY = ("revenue_ytd", "cost_ytd", "gross_profit_ytd", "fade_ytd",
                        "est_gross_profit_bid")
COMPLETED_MONEY = ("final_contract", "total_cost", "total_gross_profit", "revenue_prior_years",
                   "revenue_this_year", "cost_prior_years", "cost_this_year", "gp_prior_years",
                   "gp_this_year", "billed_to_date", "underbillings", "overbillings",
                   "retainage_receivable", "retainage_payable", "est_gross_profit_last",
                   "fade_at_close")
RECON_MONEY = ["procore_amount", "erp_amount", "difference"]
SUMMARY_MONEY = ["procore_total", "erp_total", "variance", "explained", "unexplained"]


def write_period_reports(result, out: Path) -> dict[str, Path]:
    """The month-end CSVs of a computed period (:class:`wip_lib.close.period.PeriodResult`)."""
    out.mkdir(parents=True, exist_ok=True)
    s = result.wip
    money = [c for c in (*SCHEDULE_MONEY, *SCHEDULE_EXTRA_MONEY) if c in s.schedule.columns]
    dec = {**DECIMALS, **{c: 6 for c in s.schedule.columns if c.endswith(("_pct", "_points",
                                                                            "_pct_prior"))}}
    files = {
        "wip_schedule": write_report_csv(s.in_progress.drop(columns=["period_end"]),
                                         out / "wip_schedule.csv", money=money, decimals=dec),
        "completed_contracts": write_report_csv(
            s.completed, out / "completed_contracts.csv",
            money=[c for c in COMPLETED_MONEY if c in s.completed.columns]),
        "forecast": write_report_csv(result.forecast, out / "forecast.csv",
                                     money=FORECAST_MONEY, decimals={"time_elapsed": 6},
                                     keep=["etc_source"]),
        "overrun_flags": write_report_csv(result.flags, out / "overrun_flags.csv",
                                          money=["dollar_impact"]),
        "risk_ranking": write_report_csv(result.ranking, out / "risk_ranking.csv",
                                         money=["total_impact"]),
        "reconciliation": write_report_csv(result.findings, out / "reconciliation.csv",
                                           money=RECON_MONEY, keep=["check", "severity"]),
        "reconciliation_summary": write_report_csv(result.tieout,
                                                   out / "reconciliation_summary.csv",
                                                   money=SUMMARY_MONEY),
        "journal_entry": to_import_csv(s.journal, out / "journal_entry.csv"),
    }
    if len(result.override_audit):
        files["override_audit"] = write_report_csv(
            result.override_audit, out / "override_audit.csv",
            money=["pm_forecast", "override", "difference"])
    return files
