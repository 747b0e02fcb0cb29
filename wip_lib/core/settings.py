"""A company: its settings (``company.yaml``) and its canonical tables.

Pure code receives a :class:`Company`; only :mod:`wip_lib.sources.readers` builds one from files
(``load_company``). Tests build one from DataFrames with :meth:`Company.from_tables`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import pandas as pd

from wip_lib.core import schema, yaml_text
from wip_lib.core.errors import InputError, Problem, file_system_problem
from wip_lib.core.periods import is_period
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
    # Percent complete rounded to 4 decimals before earned revenue (off: exact fractions).
    "round_pct_first": False,
    # Forecast: cost spent ahead of the schedule by more than this fraction raises a flag.
    "cost_curve_tolerance": 0.10,
    # The contract policies below: docs/policies.md (parsed and checked by normalise_policies).
    # Contract type per job (fixed_price, time_and_materials, cost_plus, gmp, letter_of_intent).
    "contract_types": {"default": "fixed_price", "jobs": {}},
    # A job with no signed contract at the period end: revenue = cost until priced, or the
    # amount of the contract out for signature as its estimated value.
    "unsigned_contracts": "revenue_equals_cost",
    # Pending change orders, per change order (ASC 606-10-32-11 constraint).
    "pending_change_orders": {"unpriced": "as_pending", "claims": "exclude", "change_orders": []},
    # Uninstalled materials (ASC 606-10-55-21, Example 19): none, file or pay_applications.
    "uninstalled_materials": "none",
    # Retainage release invoices in the ERP's AR: the amount holds the released retainage
    # (in_amount) or only the work billed on it (separate).
    "retainage_release": "in_amount",
    # Flags: underbillings above this fraction of the revised contract raise a flag.
    "underbilling_flag_pct": 0.05,
    # Flags: billings uncollected (net of retainage) this many days after their date.
    "aged_billing_days": 90,
}

# Exports that may never be header-only (no WIP without jobs and contracts; a budget snapshot
# always has lines, so an empty one is deleted rather than declared).
NEVER_EMPTY = ("jobs", "prime_contracts", "erp_jobs", "budget")
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


#: Budget views by how their Estimated Cost at Completion is built from the other columns:
#: ``standard`` (Procore's Standard view: ECAC = Projected Costs + Forecast To Complete) or
#: ``job_to_date`` (a view redefined so that ECAC = Job to Date Costs + Forecast To Complete).
BUDGET_FORECASTS = ("standard", "job_to_date")
#: Contract types (policy ``contract_types``) and what each recognises (docs/policies.md).
CONTRACT_TYPES = ("fixed_price", "time_and_materials", "cost_plus", "gmp", "letter_of_intent")
#: Contract types whose revenue is cost plus a fee or markup (``fee`` required).
FEE_TYPES = ("time_and_materials", "cost_plus", "gmp")
UNSIGNED_CONTRACTS = ("revenue_equals_cost", "contract_amount")
#: How contract types are spelled in exports and job-status files (lower case, ``-``/``_`` read
#: as spaces) -> the policy's type.
CONTRACT_TYPE_NAMES = {
    **{k: "fixed_price" for k in ("fixed price", "lump sum", "stipulated sum", "fixed")},
    **{k: "time_and_materials" for k in ("time and materials", "time & materials", "t&m",
                                         "t & m", "tm")},
    **{k: "cost_plus" for k in ("cost plus", "cost plus fee", "cost plus percentage",
                                "cost reimbursable")},
    **{k: "gmp" for k in ("gmp", "guaranteed maximum price", "cost plus gmp",
                          "cost plus with gmp")},
    **{k: "letter_of_intent" for k in ("letter of intent", "loi")},
    **{t.replace("_", " "): t for t in CONTRACT_TYPES},
}


def contract_type_of(text: pd.Series) -> pd.Series:
    """Contract type texts (``"Cost Plus"``, ``"T&M"``, ``"gmp"``) as the policy's types; blank
    stays blank, an unknown spelling is <NA>."""
    norm = (text.astype("string").fillna("").str.casefold()
            .str.replace(r"[-_]+", " ", regex=True).str.replace(r"\s+", " ", regex=True)
            .str.strip())
    return norm.map(lambda v: "" if v == "" else CONTRACT_TYPE_NAMES.get(v)).astype("string")
#: Treatments of one pending change order (policy ``pending_change_orders``).
CO_TREATMENTS = ("exclude", "include", "include_amount", "include_percent", "cost_only")
#: Categories of pending change orders: priced pending, unpriced, claims.
CO_CATEGORIES = ("pending", "unpriced", "claim")
CATEGORY_DEFAULTS = ("as_pending", "include", "exclude")
UNINSTALLED_SOURCES = ("none", "file", "pay_applications")
RETAINAGE_RELEASE = ("in_amount", "separate")


#: Marks a policies mapping :func:`normalise_policies` has already normalised (amounts are then
#: cents, not dollars): never a key of company.yaml.
NORMALISED = "_normalised"


def _fraction(value: Any) -> Decimal | None:
    """A fraction as an exact Decimal (``0.08`` -> ``Decimal('0.08')``), or None when not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        d = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    return d if d.is_finite() else None


def _cents(value: Any) -> int | None:
    """A money amount in dollars (``2500000``, ``2500000.00``, ``"2,500,000.00"``) to cents, or
    None when it is not one (more than two decimals included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        d = Decimal(str(value).replace(",", "").replace("$", "").strip())
    except ArithmeticError:
        return None
    if not d.is_finite() or d != d.quantize(Decimal("0.01")):
        return None
    return int(d * 100)


def normalise_policies(raw: Mapping[str, Any] | None, file: str = "company.yaml") -> dict:
    """Every policy with its default filled in, checked, and in the form the code reads.

    Money amounts become integer cents, fractions exact ``Decimal``; job numbers must be quoted
    text (YAML reads ``00553`` unquoted as a number). Raises :class:`InputError` listing every bad
    value (``company.yaml``, the key, the value, the fix). The rules each policy drives:
    docs/policies.md. Idempotent: a normalised mapping comes back unchanged.
    """
    raw = dict(raw or {})
    if raw.get(NORMALISED):
        return raw
    problems: list[Problem] = []

    def bad(key: str, value: Any, message: str, fix: str) -> None:
        problems.append(Problem(file, message, fix, column=f"policies.{key}", value=value))

    out = {**DEFAULT_POLICIES, **raw}
    for key in ("include_pending_co_revenue", "net_loss_provision", "round_pct_first"):
        if not isinstance(out[key], bool):
            bad(key, out[key], f"{key} must be true or false", f"write `{key}: true` or false")
    for key, lo, hi in (("start_threshold", 0, 1), ("fade_threshold_points", 0, 1),
                        ("cost_curve_tolerance", 0, 1), ("underbilling_flag_pct", 0, 1)):
        v = out[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v < hi:
            bad(key, v, f"{key} must be a fraction from 0 to below 1",
                f"write it as a decimal, e.g. `{key}: 0.10` for 10%")
    v = out["stale_forecast_periods"]
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        bad("stale_forecast_periods", v, "stale_forecast_periods must be a whole number >= 0",
            "write the number of periods, e.g. `stale_forecast_periods: 3`")
    v = out["aged_billing_days"]
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        bad("aged_billing_days", v, "aged_billing_days must be a whole number of days >= 0",
            "write the number of days, e.g. `aged_billing_days: 90`")

    # -- contract types
    ct = out["contract_types"]
    if isinstance(ct, str):
        ct = {"default": ct}
    if not isinstance(ct, Mapping):
        bad("contract_types", ct, "contract_types must be a mapping",
            "write `contract_types: {default: fixed_price, jobs: {'00553': {type: cost_plus, "
            "fee: 0.08}}}`")
        ct = {}
    default_type = ct.get("default", "fixed_price")
    if default_type not in CONTRACT_TYPES or default_type == "letter_of_intent":
        bad("contract_types.default", default_type, "the default contract type is not one of "
            + ", ".join(t for t in CONTRACT_TYPES if t != "letter_of_intent"),
            "set it per job for cost-plus, T&M, GMP or letter-of-intent work")
    default_fee_raw = ct.get("default_fee")
    default_fee = None if default_fee_raw is None else _fraction(default_fee_raw)
    if default_fee_raw is not None and (default_fee is None or default_fee < 0):
        bad("contract_types.default_fee", default_fee_raw, "default_fee must be a fraction of "
            "cost (0 or more)", "write e.g. `default_fee: 0.08` for 8% on cost")
    jobs: dict[str, dict] = {}
    raw_jobs = ct.get("jobs") or {}
    if not isinstance(raw_jobs, Mapping):
        bad("contract_types.jobs", raw_jobs, "contract_types.jobs must map job numbers to types",
            "write `jobs: {'00553': {type: letter_of_intent, estimated_contract: 2500000}}`")
        raw_jobs = {}
    for job, spec in raw_jobs.items():
        where = f"contract_types.jobs.{job}"
        if not isinstance(job, str):
            bad(where, job, f"job number {job!r} is not text (YAML reads an unquoted 00553 as a "
                "number)", f"quote the job number: '{job}'")
            continue
        if isinstance(spec, str):
            spec = {"type": spec}
        if not isinstance(spec, Mapping):
            bad(where, spec, "a job's contract type must be a type or a mapping",
                "write `{type: cost_plus, fee: 0.08}`")
            continue
        extra = sorted(set(spec) - {"type", "fee", "markup", "estimated_contract"})
        if extra:
            bad(where, extra[0], f"unknown key {extra[0]!r}",
                "use type, fee (or markup) and estimated_contract")
        kind = spec.get("type")
        if kind not in CONTRACT_TYPES:
            bad(where + ".type", kind, "contract type is not one of " + ", ".join(CONTRACT_TYPES),
                "write one of them, e.g. `type: cost_plus`")
            continue
        fee_raw = spec.get("fee", spec.get("markup"))
        fee = None
        if kind in FEE_TYPES:
            fee = _fraction(0 if fee_raw is None and kind == "gmp" else fee_raw)
            if fee is None or fee < 0 or fee >= 10:
                bad(where + ".fee", fee_raw, f"a {kind} contract needs its fee or markup as a "
                    "fraction of cost (0 to below 10)", "write e.g. `fee: 0.08` for 8% on cost")
                continue
        elif fee_raw is not None:
            bad(where + ".fee", fee_raw, f"a {kind} contract takes no fee",
                "remove the fee, or change the type to cost_plus, time_and_materials or gmp")
        est_raw = spec.get("estimated_contract")
        est = None
        if est_raw is not None:
            est = _cents(est_raw)
            if kind != "letter_of_intent":
                bad(where + ".estimated_contract", est_raw, "only a letter_of_intent job takes an "
                    "estimated contract value", "remove it, or set `type: letter_of_intent`")
                continue
            if est is None or est <= 0:
                bad(where + ".estimated_contract", est_raw, "the estimated contract value must be "
                    "an amount above zero", "write it in dollars, e.g. `estimated_contract: "
                    "2500000.00`")
                continue
        jobs[job] = {"type": kind, "fee": None if fee is None else str(fee),
                     "estimated_contract": est}
    out["contract_types"] = {"default": default_type,
                             "default_fee": None if default_fee is None else str(default_fee),
                             "jobs": jobs}
    if default_type in FEE_TYPES and default_fee is None:
        bad("contract_types.default_fee", default_fee_raw, f"a {default_type} default needs "
            "default_fee as a fraction of cost", "write e.g. `default_fee: 0.08`")

    if out["unsigned_contracts"] not in UNSIGNED_CONTRACTS:
        bad("unsigned_contracts", out["unsigned_contracts"],
            "unsigned_contracts is not one of " + ", ".join(UNSIGNED_CONTRACTS),
            "write revenue_equals_cost (revenue = cost until priced) or contract_amount")

    # -- pending change orders
    pco = out["pending_change_orders"]
    if not isinstance(pco, Mapping):
        bad("pending_change_orders", pco, "pending_change_orders must be a mapping",
            "write `pending_change_orders: {unpriced: as_pending, claims: exclude, "
            "change_orders: [...]}`")
        pco = {}
    norm_pco: dict[str, Any] = {}
    for cat, default in (("unpriced", "as_pending"), ("claims", "exclude")):
        v = pco.get(cat, default)
        if v not in CATEGORY_DEFAULTS:
            bad(f"pending_change_orders.{cat}", v, f"{cat} is not one of "
                + ", ".join(CATEGORY_DEFAULTS), "as_pending follows include_pending_co_revenue")
        norm_pco[cat] = v
    extra = sorted(set(pco) - {"unpriced", "claims", "change_orders"})
    if extra:
        bad("pending_change_orders", extra[0], f"unknown key {extra[0]!r}",
            "use unpriced, claims and change_orders")
    entries = []
    listed = pco.get("change_orders") or []
    if not isinstance(listed, list):
        bad("pending_change_orders.change_orders", listed, "change_orders must be a list",
            "write one `- {job: '00328', change_order: '004', treatment: include_percent, "
            "percent: 0.5}` per change order")
        listed = []
    for i, e in enumerate(listed, start=1):
        where = f"pending_change_orders.change_orders[{i}]"
        if not isinstance(e, Mapping):
            bad(where, e, "each change order entry must be a mapping",
                "write `{job: '00328', change_order: '004', treatment: exclude}`")
            continue
        unknown = sorted(set(e) - {"job", "contract", "change_order", "treatment", "amount",
                                   "percent", "estimated_cost", "category"})
        if unknown:
            bad(where, unknown[0], f"unknown key {unknown[0]!r}", "use job, contract, "
                "change_order, treatment, amount, percent, estimated_cost and category")
        keys = {}
        for k in ("job", "contract", "change_order"):
            v = e.get(k)
            if v is None and k == "contract":
                keys[k] = None
                continue
            if not isinstance(v, str) or not v.strip():
                bad(f"{where}.{k}", v, f"{k} must be given as quoted text",
                    f"write e.g. `{k}: '{'00328' if k == 'job' else '004'}'`")
                keys = None
                break
            keys[k] = v.strip()
        if keys is None:
            continue
        category = e.get("category")
        if category is not None and category not in CO_CATEGORIES:
            bad(f"{where}.category", category, "category is not one of "
                + ", ".join(CO_CATEGORIES), "write pending, unpriced or claim")
            continue
        treatment = e.get("treatment")
        if treatment is None and category is not None:
            treatment = None  # a category alone: the category's default treatment applies
        elif treatment not in CO_TREATMENTS:
            bad(f"{where}.treatment", treatment, "treatment is not one of "
                + ", ".join(CO_TREATMENTS), "write e.g. `treatment: include_percent`")
            continue
        amount = percent = None
        if treatment == "include_amount":
            amount = _cents(e.get("amount"))
            if amount is None:
                bad(f"{where}.amount", e.get("amount"), "include_amount needs the constrained "
                    "amount", "write it in dollars, e.g. `amount: 25000.00`")
                continue
        elif e.get("amount") is not None:
            bad(f"{where}.amount", e.get("amount"), "only include_amount takes an amount",
                "remove it, or write `treatment: include_amount`")
            continue
        if treatment == "include_percent":
            percent = _fraction(e.get("percent"))
            if percent is None or not 0 <= percent <= 1:
                bad(f"{where}.percent", e.get("percent"), "include_percent needs the share "
                    "included, a fraction from 0 to 1", "write e.g. `percent: 0.5` for half")
                continue
        elif e.get("percent") is not None:
            bad(f"{where}.percent", e.get("percent"), "only include_percent takes a percent",
                "remove it, or write `treatment: include_percent`")
            continue
        cost = None
        if e.get("estimated_cost") is not None:
            cost = _cents(e.get("estimated_cost"))
            if cost is None or cost < 0:
                bad(f"{where}.estimated_cost", e.get("estimated_cost"), "estimated_cost must be "
                    "an amount of zero or more", "write it in dollars, e.g. "
                    "`estimated_cost: 18000.00`")
                continue
        elif treatment == "cost_only":
            bad(f"{where}.estimated_cost", None, "cost_only needs the estimated cost of the "
                "change work", "write e.g. `estimated_cost: 18000.00`")
            continue
        entries.append({**keys, "treatment": treatment, "category": category,
                        "amount": amount, "percent": None if percent is None else str(percent),
                        "estimated_cost": cost})
    norm_pco["change_orders"] = entries
    out["pending_change_orders"] = norm_pco

    if out["uninstalled_materials"] not in UNINSTALLED_SOURCES:
        bad("uninstalled_materials", out["uninstalled_materials"], "uninstalled_materials is "
            "not one of " + ", ".join(UNINSTALLED_SOURCES), "write none, file "
            "(uninstalled_materials.csv) or pay_applications (Materials Presently Stored)")
    if out["retainage_release"] not in RETAINAGE_RELEASE:
        bad("retainage_release", out["retainage_release"], "retainage_release is not one of "
            + ", ".join(RETAINAGE_RELEASE), "write in_amount (the release invoice's amount is "
            "the released retainage) or separate")
    if problems:
        raise InputError(problems)
    out[NORMALISED] = True
    return out


def policies_of(settings: "Settings") -> dict:
    """The settings' policies, normalised (:func:`normalise_policies`)."""
    return normalise_policies(settings.policies)


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
    #: Canonical tables whose export the user says truly has no rows this month (``empty_exports:``
    #: in company.yaml): a header-only export of one of them is read as none without a word.
    empty_exports: tuple[str, ...] = ()
    #: How the company's Procore budget view defines its forecast columns
    #: (:data:`BUDGET_FORECASTS`; :mod:`wip_lib.sources.procore_forecast`).
    budget_forecast: str = "standard"
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
        if not is_period(period):
            problems.append(Problem(file, "current_period is not a month", "write it as YYYY-MM, "
                                    "e.g. `current_period: 2026-10`", column="current_period",
                                    value=data.get("current_period")))
        fye = data.get("fiscal_year_end_month", 12)
        if not isinstance(fye, int) or not 1 <= fye <= 12:
            problems.append(Problem(file, "fiscal_year_end_month must be 1 to 12",
                                    "write the month number, e.g. 12 for December",
                                    column="fiscal_year_end_month", value=fye))
        accounts = {**DEFAULT_GL_ACCOUNTS, **(data.get("gl_accounts") or {})}
        raw_policies = data.get("policies") or {}
        policies = dict(DEFAULT_POLICIES)
        unknown = sorted(set(raw_policies) - set(DEFAULT_POLICIES)) \
            if isinstance(raw_policies, Mapping) else []
        if unknown:
            problems.append(Problem(file, f"unknown policy {unknown[0]!r}",
                                    f"use one of {', '.join(sorted(DEFAULT_POLICIES))}",
                                    column="policies", value=unknown[0]))
        elif not isinstance(raw_policies, Mapping):
            problems.append(Problem(file, "policies must be key: value settings",
                                    "see docs/policies.md", column="policies"))
        else:
            try:
                policies = normalise_policies(raw_policies, file)
            except InputError as exc:
                problems += exc.problems
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
        empty = data.get("empty_exports") or []
        if isinstance(empty, str):
            empty = [empty]
        allowed = sorted(set(schema.TABLES) - set(NEVER_EMPTY))
        for t in (empty if isinstance(empty, list) else [empty]):
            if str(t) not in allowed:
                problems.append(Problem(file, f"empty_exports names {t!r}, which cannot be "
                                        "declared empty", "list canonical table names (see "
                                        f"docs/data-model.md) other than {', '.join(NEVER_EMPTY)}"
                                        f", e.g. `empty_exports: [erp_job_cost]`",
                                        column="empty_exports", value=str(t)))
        forecast_rule = str(data.get("budget_forecast", "standard"))
        if forecast_rule not in BUDGET_FORECASTS:
            problems.append(Problem(file, f"unknown budget_forecast {forecast_rule!r}",
                                    "use " + " or ".join(BUDGET_FORECASTS) + " (see "
                                    "docs/procore-forecast.md)", column="budget_forecast",
                                    value=forecast_rule))
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
            empty_exports=tuple(str(t) for t in empty),
            budget_forecast=forecast_rule,
            billing=MappingProxyType(billing),
        )

    @classmethod
    def load(cls, path: Path) -> "Settings":
        file = str(path)
        if not path.exists():
            raise InputError([Problem(file, "company settings file not found",
                                      "create company.yaml (see data/sample/company.yaml)")])
        try:
            data = yaml_text.load(path.read_text(encoding="utf-8-sig")) or {}
        except OSError as exc:  # a folder named company.yaml, no permission, ...
            raise InputError([file_system_problem(exc, file)]) from None
        except UnicodeDecodeError:
            raise InputError([Problem(file, "not UTF-8 text", "save company.yaml as UTF-8")]) \
                from None
        except yaml_text.YAMLError as exc:
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


#: What an ERP's exports carry that a rule depends on: fact -> (canonical table, column, what it
#: means). Each ERP profile declares them (``facts:`` in ``wip_lib/sources/profiles/*.yaml``, with
#: the source; :func:`wip_lib.sources.readers.erp.profile_facts`); the rules that read them:
#: :mod:`wip_lib.sources.commitment_invoicing` and :func:`wip_lib.accounting.flags.billing_flags`.
ERP_FACTS: Mapping[str, tuple[str, str, str]] = MappingProxyType({
    "job_cost_has_commitment": ("erp_job_cost", "commitment_number",
                                "job-cost rows name the commitment they were invoiced against"),
    "commitments_have_invoiced": ("erp_commitments", "invoiced",
                                  "the commitments export carries each one's invoiced to date"),
    "ar_has_collections": ("erp_ar_billings", "amount_paid",
                           "AR billings carry the amount collected on each"),
})


@dataclass(frozen=True, slots=True)
class Company:
    """Settings plus every canonical table (empty, with the right columns, when not supplied)."""

    settings: Settings
    tables: Mapping[str, pd.DataFrame]
    root: Path | None = None
    #: The controller's ETC overrides of every period (``overrides/YYYY-MM.csv``, one frame with a
    #: ``period`` column), read with the folder; ``None``: no overrides.
    overrides: pd.DataFrame | None = None
    #: What the ERP's exports carry (:data:`ERP_FACTS` -> bool), from the ERP profile the folder
    #: was read with; a fact not given holds, as in the default profile (Sage 300 CRE), so a
    #: company built from tables carries every fact unless told otherwise.
    erp_facts: Mapping[str, bool] = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def carries(self, fact: str) -> bool:
        """Whether the ERP's exports carry ``fact`` (a key of :data:`ERP_FACTS`)."""
        if fact not in ERP_FACTS:
            raise KeyError(f"not an ERP fact: {fact!r}")
        return bool(self.erp_facts.get(fact, True))

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
                    root: Path | None = None, overrides: pd.DataFrame | None = None,
                    erp_facts: Mapping[str, bool] | None = None) -> "Company":
        unknown = set(tables) - set(schema.TABLES)
        if unknown:
            raise KeyError(f"not canonical tables: {sorted(unknown)}")
        unknown = set(erp_facts or {}) - set(ERP_FACTS)
        if unknown:
            raise KeyError(f"not ERP facts: {sorted(unknown)}")
        full = {name: tables[name] if name in tables else t.empty()
                for name, t in schema.TABLES.items()}
        return cls(settings, MappingProxyType(full), root, overrides,
                   MappingProxyType(dict(erp_facts or {})))
