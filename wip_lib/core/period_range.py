"""The months a company's data can report: from its first month of data to its current period.

Rule (checked once, here, for every command that takes ``--period``, ``--through`` or ``--from``):

- the *first month of data* is the earliest of the jobs' start dates and the ``period`` of every
  table that has one (budget snapshots, job cost, AR, AP, ERP change orders, GL balances);
- the *current period* is ``current_period`` in ``company.yaml`` (the open month);
- a period before the first month of data is an error: nothing had happened yet, and a report
  would be a blank schedule presented as a month-end;
- a period after the current period is an error: the exports hold nothing later, and a report
  would show the current period's figures under a later date ("As of June 30, 2027" with
  October's figures).

The period's own form (``YYYY-MM``) is checked before, by the period helpers; this module checks
it against the data.
"""
from __future__ import annotations

from wip_lib.core.errors import PeriodError


def first_job_month(company) -> str | None:
    """The month of the earliest job start date, or None when no job has one."""
    import pandas as pd  # here, not at import: the command line is built without pandas

    starts = pd.to_datetime(company["jobs"]["start_date"]).dropna()
    return str(starts.min().to_period("M")) if len(starts) else None


def first_data_period(company) -> str | None:
    """The earliest month the company's data covers (job starts and every dated table), or None
    when it holds no dated data."""
    months = []
    if getattr(company, "tables", None) is None:  # known by its settings only: no data to read
        return None
    first_job = first_job_month(company)
    if first_job is not None:
        months.append(first_job)
    for t in company.tables.values():
        if "period" in t.columns and len(t):
            p = t["period"].astype("string").dropna()
            p = p[p.str.fullmatch(r"\d{4}-\d{2}")]
            if len(p):
                months.append(str(p.min()))
    return min(months) if months else None


def check_in_data(company, period: str, *, option: str = "--period") -> str:
    """``period`` when the company's data can report it (rule in the module docstring), else
    :class:`PeriodError` saying which bound it breaks and the months that can be reported."""
    current = company.settings.current_period
    first = first_data_period(company)
    span = f"{first} to {current}" if first and first <= current else f"up to {current}"
    if period > current:
        raise PeriodError(
            f"{option} {period} is after the company's current period {current} (company.yaml, "
            f"current_period): the exports hold nothing later, so a report for {period} would "
            f"show {current}'s figures under a later date. Give a period from {span}, or move "
            "current_period forward in company.yaml once that month is open and exported.")
    if first is None and getattr(company, "tables", None) is None:
        return period  # a company known by its settings only: the current period bounds it
    if first is None:
        raise PeriodError(
            f"{option} {period}: the company folder holds no dated data (no job start date, "
            "budget snapshot or ERP transaction), so there is no period to report. Export the "
            "company's Procore projects and ERP transactions first.")
    if period < first:
        raise PeriodError(
            f"{option} {period} is before the company's first month of data {first} (the "
            f"earliest job start or dated export row): nothing had happened yet, so a report "
            f"would be empty. Give a period from {span}.")
    return period
