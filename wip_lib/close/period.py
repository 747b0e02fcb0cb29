"""The period computed once: schedule, forecast and flags, reconciliation, journal entry.

:func:`compute_period` is what the month-end batch, ``wip excel``, ``wip close`` and the notebooks
call; each then shows or stores the same :class:`PeriodResult`, so every report of a period shows
the same figures. :func:`wip_lib.reports.csvfiles.write_period_reports` writes its CSVs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from wip_lib.accounting import flags as flagmod
from wip_lib.accounting import forecast as fc
from wip_lib.accounting.schedule import PeriodSchedule, wip_schedule
from wip_lib.core.periods import check_period

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
    from wip_lib.accounting.overrides import audit_trail
    from wip_lib.reconcile import reconcile

    period = check_period(period or company.settings.current_period)
    overrides = company.overrides_for(period)
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
