"""The period computed once: schedule, forecast and flags, reconciliation, journal entry.

:func:`compute_period` is what the month-end batch, ``wip excel``, ``wip close`` and the notebooks
call; each then shows or stores the same :class:`PeriodResult`, so every report of a period shows
the same figures. :func:`write_reports` writes the CSV reports a month-end leaves behind.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from wip_lib.accounting import flags as flagmod
from wip_lib.accounting import forecast as fc
from wip_lib.reports.csvfiles import write_report_csv
from wip_lib.sources.job_status import DECIMALS, SCHEDULE_MONEY
from wip_lib.accounting.schedule import PeriodSchedule, wip_schedule

SCHEDULE_EXTRA_MONEY = ("revenue_ytd", "cost_ytd", "gross_profit_ytd", "fade_ytd",
                        "est_gross_profit_bid")
COMPLETED_MONEY = ("final_contract", "total_cost", "total_gross_profit", "revenue_prior_years",
                   "revenue_this_year", "cost_prior_years", "cost_this_year", "gp_prior_years",
                   "gp_this_year", "billed_to_date", "est_gross_profit_last", "fade_at_close")
RECON_MONEY = ["procore_amount", "erp_amount", "difference"]
SUMMARY_MONEY = ["procore_total", "erp_total", "variance", "explained", "unexplained"]


@dataclass
class PeriodResult:
    company_name: str
    period: str
    wip: PeriodSchedule
    forecast: pd.DataFrame
    flags: pd.DataFrame
    ranking: pd.DataFrame
    jobs_summary: pd.DataFrame
    findings: pd.DataFrame
    tieout: pd.DataFrame
    overrides: pd.DataFrame
    override_audit: pd.DataFrame
    settings: object = None  # the company's Settings (policies, GL accounts) the figures used

    @property
    def schedule(self) -> pd.DataFrame:
        return self.wip.schedule

    @property
    def job_ids(self) -> list[str]:
        return [str(j) for j in self.wip.schedule["job_id"]]


def compute_period(company, period: str | None = None, *, store=None) -> PeriodResult:
    """Everything the month-end reports for ``period`` (default: the company's open period)."""
    from wip_lib.accounting.overrides import audit_trail, empty as empty_overrides, read_overrides
    from wip_lib.reconcile import reconcile

    period = fc.check_period(period or company.settings.current_period)
    if company.root is not None:
        overrides, _ = read_overrides(company.root, period)
    else:
        overrides = empty_overrides()
    forecast = fc.cost_to_complete(company, period, overrides)
    wip = wip_schedule(company, period, store=store, forecast_df=forecast)
    jobs = fc.job_summary(company, period, forecast)
    flags = flagmod.overrun_flags(forecast, fc.budget_history(company, period),
                                  fc.erp_cost_history(company, period), jobs, company.settings)
    ranking = flagmod.risk_ranking(flags)
    findings, tieout = reconcile(company, period)
    audit = audit_trail(overrides, forecast) if len(overrides) else pd.DataFrame()
    return PeriodResult(company.settings.name, period, wip, forecast, flags, ranking, jobs,
                        findings, tieout, overrides, audit, company.settings)


def write_reports(result: PeriodResult, out: Path) -> dict[str, Path]:
    """The month-end CSVs: exact money text, formula-safe text (see :mod:`wip_lib.reports.csvfiles`)."""
    from wip_lib.accounting.journal import to_import_csv

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
                                     money=fc.MONEY_COLUMNS, decimals={"time_elapsed": 6},
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
