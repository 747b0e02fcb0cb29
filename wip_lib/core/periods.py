"""Accounting periods: a period is a calendar month written ``YYYY-MM``.

Every command, rule and report names a period this way, and these helpers are the only place that
parses one or moves between them:

- :func:`check_period`: the text is a month (``2026-10``), else :class:`PeriodError`.
- :func:`period_end`: the last day of the month, midnight (``2026-10-31 00:00``); an activity
  dated on that day belongs to the period.
- :func:`previous_period` / :func:`next_period`: one month back or forward.
- :func:`periods_between`: every month from ``first`` to ``last``, both included.
"""
from __future__ import annotations

import re

import pandas as pd

from wip_lib.core.errors import PeriodError

#: A period's text, the whole of it: a month, ``YYYY-MM``. ASCII digits only (``[0-9]``, not
#: ``\d``), so Python's ``re`` and Arrow's RE2 read it alike.
PERIOD_PATTERN = r"[0-9]{4}-(?:0[1-9]|1[0-2])"
_PERIOD = re.compile(PERIOD_PATTERN)


def is_period(text: object) -> bool:
    """``text`` is a period's text (:data:`PERIOD_PATTERN`, the whole of it)."""
    return isinstance(text, str) and _PERIOD.fullmatch(text) is not None


def check_period(period: str) -> str:
    """``period`` itself when it is a month written ``YYYY-MM``; else a :class:`PeriodError`
    naming the value and the form to use."""
    if not is_period(period):
        raise PeriodError(f"period {period!r} is not a month; write it as YYYY-MM, e.g. 2026-10")
    return period


def period_end(period: str) -> pd.Timestamp:
    """The period's last day at midnight: the cut-off date of the period."""
    return pd.Period(check_period(period), freq="M").end_time.normalize()


def previous_period(period: str) -> str:
    return str(pd.Period(check_period(period), freq="M") - 1)


def next_period(period: str) -> str:
    return str(pd.Period(check_period(period), freq="M") + 1)


def periods_between(first: str, last: str) -> list[str]:
    """Every period from ``first`` to ``last`` inclusive (empty when ``first`` is after ``last``)."""
    return [str(p) for p in pd.period_range(check_period(first), check_period(last), freq="M")]
