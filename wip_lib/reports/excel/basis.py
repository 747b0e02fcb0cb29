"""What every sheet shows beside the figures: the company, the period, and the policies the
figures were computed under, read from the company's settings (never inferred from the figures).

:func:`basis_of` reads them once into a frozen :class:`Basis`. The recognition policies are the
``policies`` of the :class:`wip_lib.core.settings.Settings` that
:func:`wip_lib.close.period.compute_period` computed the period with (``result.settings``); keys
a company leaves out take the defaults of :data:`wip_lib.core.settings.DEFAULT_POLICIES`, and
``round_pct_first`` is off unless set. The workbook's formulas follow these values; the tests
recalculate every formula and compare it with the Python figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from wip_lib.core.settings import DEFAULT_POLICIES

#: Underbillings above this share of the revised contract are highlighted (a presentation choice).
LARGE_UNDERBILLING = 0.05


@dataclass(frozen=True)
class Basis:
    """The company, the period and the policies a workbook is written under."""

    company: str
    period: str  # YYYY-MM
    period_end: date  # the "prepared" date in every page header (never today)
    include_pending_co_revenue: bool
    start_threshold: float  # fraction; 0 = off
    round_pct_first: bool
    net_loss_provision: bool  # surety view: the provision netted into over/under billings
    fade_threshold: float  # margin fade (points, as a fraction) that is highlighted
    gl_accounts: Mapping[str, str]  # GL account role -> account number

    @property
    def under_key(self) -> str:
        """The schedule column booked as underbillings (net of the provision in the surety view)."""
        return "underbillings_net" if self.net_loss_provision else "underbillings"

    @property
    def over_key(self) -> str:
        return "overbillings_net" if self.net_loss_provision else "overbillings"


def basis_of(result, settings=None) -> Basis:
    """The basis of ``result`` (a :class:`wip_lib.close.period.PeriodResult`): policies and GL
    accounts from ``settings``, else from ``result.settings`` (what ``compute_period`` used).

    Raises ValueError when neither is given: the workbook does not guess a policy from figures."""
    settings = settings if settings is not None else getattr(result, "settings", None)
    if settings is None:
        raise ValueError("the computed period carries no settings, so the recognition policies "
                         "its figures were computed under are unknown; pass settings= (the "
                         "company's settings) to write_wip_workbook")
    policies = {**DEFAULT_POLICIES, **dict(settings.policies or {})}
    accounts = {role: str(v["number"]) for role, v in (settings.gl_accounts or {}).items()}
    return Basis(
        company=str(result.company_name),
        period=str(result.period),
        period_end=pd.Period(result.period, freq="M").end_time.date(),
        include_pending_co_revenue=bool(policies["include_pending_co_revenue"]),
        start_threshold=float(policies["start_threshold"]),
        round_pct_first=bool(policies.get("round_pct_first", False)),
        net_loss_provision=bool(policies["net_loss_provision"]),
        fade_threshold=float(policies["fade_threshold_points"]),
        gl_accounts=MappingProxyType(accounts),
    )
