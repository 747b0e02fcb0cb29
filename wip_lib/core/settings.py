"""A company: its settings (``company.yaml``) and its canonical tables.

Pure code receives a :class:`Company`; only :mod:`wip_lib.sources.readers` builds one from files
(``load_company``). Tests build one from DataFrames with :meth:`Company.from_tables`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import pandas as pd
import yaml

from wip_lib.core import schema
from wip_lib.core.errors import InputError, Problem
from wip_lib.core.time_zones import zone

GL_ACCOUNT_ROLES = ("underbillings", "overbillings", "revenue_over_under", "loss_provision_cost",
                    "accrued_loss")

DEFAULT_GL_ACCOUNTS = {
    "underbillings": {"number": "1250", "name": "Costs and estimated earnings in excess of billings"},
    "overbillings": {"number": "2150", "name": "Billings in excess of costs and estimated earnings"},
    "revenue_over_under": {"number": "4050", "name": "Contract revenue - over/under billings"},
    "loss_provision_cost": {"number": "5950", "name": "Cost of revenue - provision for losses"},
    "accrued_loss": {"number": "2160", "name": "Accrued loss on contracts"},
}

DEFAULT_POLICIES: dict[str, Any] = {
    # ASC 606 variable consideration: unapproved change-order revenue is left out unless a
    # company's policy includes a constrained estimate.
    "include_pending_co_revenue": False,
    # Start-of-job threshold: below this percent complete, revenue = cost (zero margin). 0 = off.
    "start_threshold": 0.0,
    # Surety view: net the loss provision into over/under billings.
    "net_loss_provision": False,
    # Forecast: periods a PM forecast may sit unchanged while cost rises before it is stale.
    "stale_forecast_periods": 3,
    # Forecast: margin fade (points) since the prior period or the bid that raises a flag.
    "fade_threshold_points": 0.03,
}

#: Progress billing and pay-app review (``company.yaml: billing``; docs/billing.md).
DEFAULT_BILLING: dict[str, Any] = {
    # The progress the draft G703 bills: "procore" (the Procore owner invoice's own figures) or
    # "wip" (percent complete per cost code from the WIP model's cost to date / estimated cost).
    "progress": "procore",
    # A G703 line is front-loaded when its work billed to date is ahead of its cost progress by
    # more than this many points (0.10 = 10 percentage points).
    "front_loading_points": 0.10,
}
BILLING_PROGRESS = ("procore", "wip")

DEFAULT_MATERIALITY = {
    "amount_cents": 100_000,  # $1,000: reconciliation differences below this are informational
    "pct": 0.005,
}


@dataclass(frozen=True, slots=True)
class Settings:
    name: str
    current_period: str  # YYYY-MM, the open period
    fiscal_year_end_month: int = 12
    procore_locale: str = "en-US"
    erp_profile: str = "sage300"
    gl_accounts: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType(DEFAULT_GL_ACCOUNTS))
    policies: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType(DEFAULT_POLICIES))
    materiality: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType(DEFAULT_MATERIALITY))
    default_cost_codes: tuple[str, ...] = ()
    status_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: The company's time zone (IANA, or the Rails name Procore shows): Procore's UTC timestamps
    #: become dates there, unless the project names its own (``wip_lib.core.time_zones``).
    time_zone: str | None = None
    #: The budget view the schedule reads (name or Procore id; None: the Procore Standard Budget
    #: View). A snapshot of another view never stands in for it.
    budget_view: str | None = None
    #: Progress billing settings (:data:`DEFAULT_BILLING` for what is left out).
    billing: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType(DEFAULT_BILLING))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], file: str = "company.yaml") -> "Settings":
        problems: list[Problem] = []
        name = data.get("name")
        period = str(data.get("current_period", ""))
        if not name:
            problems.append(Problem(file, "the company has no name", "add `name: Your Company`",
                                    column="name"))
        if not pd.Series([period]).str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").iloc[0]:
            problems.append(Problem(file, "current_period is not a month", "write it as YYYY-MM, "
                                    "e.g. `current_period: 2026-10`", column="current_period",
                                    value=data.get("current_period")))
        fye = data.get("fiscal_year_end_month", 12)
        if not isinstance(fye, int) or not 1 <= fye <= 12:
            problems.append(Problem(file, "fiscal_year_end_month must be 1 to 12",
                                    "write the month number, e.g. 12 for December",
                                    column="fiscal_year_end_month", value=fye))
        accounts = {**DEFAULT_GL_ACCOUNTS, **(data.get("gl_accounts") or {})}
        policies = {**DEFAULT_POLICIES, **(data.get("policies") or {})}
        unknown = sorted(set(data.get("policies") or {}) - set(DEFAULT_POLICIES))
        if unknown:
            problems.append(Problem(file, f"unknown policy {unknown[0]!r}",
                                    f"use one of {', '.join(sorted(DEFAULT_POLICIES))}",
                                    column="policies", value=unknown[0]))
        tz = data.get("time_zone")
        if tz is not None and zone(str(tz)) is None:
            problems.append(Problem(file, "time_zone is not a known time zone",
                                    "write an IANA name such as `time_zone: America/Denver` (or "
                                    "the name Procore shows, e.g. Mountain Time (US & Canada))",
                                    column="time_zone", value=tz))
        view = data.get("budget_view")
        if view is not None and not str(view).strip():
            problems.append(Problem(file, "budget_view is blank", "write the budget view's name "
                                    "or Procore id, or leave the setting out for the Procore "
                                    "Standard Budget View", column="budget_view", value=view))
        billing = _billing(data.get("billing"), file, problems)
        if problems:
            raise InputError(problems)
        erp = data.get("erp") or {}
        return cls(
            name=str(name),
            current_period=period,
            fiscal_year_end_month=fye,
            procore_locale=str(data.get("procore_locale", "en-US")),
            erp_profile=str(erp.get("profile", "sage300")),
            gl_accounts=MappingProxyType(accounts),
            policies=MappingProxyType(policies),
            materiality=MappingProxyType({**DEFAULT_MATERIALITY, **(data.get("materiality") or {})}),
            default_cost_codes=tuple(str(c) for c in data.get("default_cost_codes", ()) or ()),
            status_labels=MappingProxyType(dict(data.get("status_labels") or {})),
            time_zone=zone(str(tz)) if tz is not None else None,
            budget_view=str(view).strip() if view is not None else None,
            billing=MappingProxyType(billing),
        )

    @classmethod
    def load(cls, path: Path) -> "Settings":
        file = str(path)
        if not path.exists():
            raise InputError([Problem(file, "company settings file not found",
                                      "create company.yaml (see data/sample/company.yaml)")])
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        except yaml.YAMLError as exc:
            raise InputError([Problem(file, f"not valid YAML: {exc}".replace("\n", " "),
                                      "fix the YAML syntax at the line shown")]) from None
        if not isinstance(data, dict):
            raise InputError([Problem(file, "expected key: value settings",
                                      "see data/sample/company.yaml")])
        return cls.from_mapping(data, file)

    def __reduce__(self):
        # Read-only mapping proxies do not pickle; results travel to worker processes.
        plain = {f: (dict(getattr(self, f)) if isinstance(getattr(self, f), MappingProxyType)
                     else getattr(self, f)) for f in self.__dataclass_fields__}
        return (_settings_from_plain, (plain,))

    def fiscal_year_start(self, period: str) -> str:
        """First period (YYYY-MM) of the fiscal year that holds ``period``."""
        p = pd.Period(period, freq="M")
        start_month = self.fiscal_year_end_month % 12 + 1
        year = p.year if p.month >= start_month else p.year - 1
        return f"{year:04d}-{start_month:02d}"


def _billing(given: Any, file: str, problems: list[Problem]) -> dict[str, Any]:
    """``company.yaml: billing`` merged over :data:`DEFAULT_BILLING`; a bad value is a problem."""
    if given is None:
        return dict(DEFAULT_BILLING)
    if not isinstance(given, dict):
        problems.append(Problem(file, "billing must be key: value settings",
                                "write e.g. `billing: {progress: procore}`", column="billing"))
        return dict(DEFAULT_BILLING)
    out = {**DEFAULT_BILLING, **given}
    unknown = sorted(set(given) - set(DEFAULT_BILLING))
    if unknown:
        problems.append(Problem(file, f"unknown billing setting {unknown[0]!r}",
                                f"use one of {', '.join(sorted(DEFAULT_BILLING))}",
                                column="billing", value=unknown[0]))
    if str(out["progress"]).strip().lower() not in BILLING_PROGRESS:
        problems.append(Problem(file, "billing progress must be procore or wip",
                                "write `progress: procore` (the Procore owner invoice's figures) "
                                "or `progress: wip` (percent complete per cost code)",
                                column="billing.progress", value=out["progress"]))
    out["progress"] = str(out["progress"]).strip().lower()
    points = out["front_loading_points"]
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 <= points <= 1:
        problems.append(Problem(file, "front_loading_points must be a fraction from 0 to 1",
                                "write e.g. `front_loading_points: 0.10` for 10 points",
                                column="billing.front_loading_points", value=points))
    return out


def _settings_from_plain(plain: dict) -> Settings:
    return Settings(**{k: MappingProxyType(v) if isinstance(v, dict) else v
                       for k, v in plain.items()})


@dataclass(frozen=True, slots=True)
class Company:
    """Settings plus every canonical table (empty, with the right columns, when not supplied)."""

    settings: Settings
    tables: Mapping[str, pd.DataFrame]
    root: Path | None = None
    #: The controller's ETC overrides of every period (``overrides/YYYY-MM.csv``, one frame with a
    #: ``period`` column), read with the folder; ``None``: no overrides.
    overrides: pd.DataFrame | None = None

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def overrides_for(self, period: str) -> pd.DataFrame:
        """The overrides of ``period`` (an empty frame when there are none)."""
        ov = self.overrides
        if ov is None or ov.empty:
            return pd.DataFrame({"job_id": pd.Series(dtype="string"),
                                 "cost_code": pd.Series(dtype="string"),
                                 "cost_type": pd.Series(dtype="string"),
                                 "etc_amount": pd.Series(dtype="int64")})
        return ov[(ov["period"] == period).to_numpy(dtype=bool)].drop(
            columns="period").reset_index(drop=True)

    @classmethod
    def from_tables(cls, settings: Settings, tables: Mapping[str, pd.DataFrame],
                    root: Path | None = None, overrides: pd.DataFrame | None = None) -> "Company":
        unknown = set(tables) - set(schema.TABLES)
        if unknown:
            raise KeyError(f"not canonical tables: {sorted(unknown)}")
        full = {name: tables.get(name, t.empty()) for name, t in schema.TABLES.items()}
        return cls(settings, MappingProxyType(full), root, overrides)
