"""Pull a Procore company's projects into the canonical tables (see :mod:`wip_lib.core.schema`).

What is pulled, per project (``/rest/v1.0`` endpoints; tables in brackets; every endpoint and
field with its public source in ``docs/procore-connector.md``):

- ``/projects?filters[by_status]=All`` [jobs] (without the filter Procore lists only active
  projects), ``/project_roles`` (the Project Manager), ``/prime_contracts`` and each one's
  ``/prime_contract/{id}`` (pending change orders, only on the show call) [prime_contracts],
  ``/projects/{id}/prime_change_orders`` [prime_change_orders];
- ``/budget_views`` -> the chosen view's ``budget_detail_columns`` (a hint) and ``detail_rows``
  (live) and ``/budget_view_snapshots`` (those of that view only, by ``budget_view.id``) ->
  ``detail_rows`` (month-end freezes), both with ``budget_row_type=all`` [budget];
  ``/cost_codes`` for descriptions;
- ``/work_order_contracts`` and ``/purchase_order_contracts`` [commitments], each one's
  ``line_items`` [commitment_lines], ``/projects/{id}/commitment_change_orders`` with each change
  order's lines from ``/change_order_packages/{id}`` [commitment_change_orders];
- ``/projects/{id}/direct_costs`` and ``/direct_costs/line_items`` (a line's direct cost is its
  ``holder.id``) [direct_costs];
- ``/requisitions`` (period ``requisition_start`` / ``requisition_end``, else the billing period
  from ``/projects/{id}/billing_periods``) [subcontractor_invoices], ``/payment_applications``
  (contract ``contract.id``) [owner_invoices];

and company-wide ``/companies`` (the app must see the company), ``/vendors`` [procore_vendors],
``/line_item_types`` (cost type names -> codes) and ``/change_order/statuses`` (a tenant's status
labels, ``name`` -> ``mapped_to_status``, for the approved / pending / excluded families).

Rules:

- Projects: every active project (or those named); inactive ones only when named or with
  ``include_inactive``, and the pull lists those it left out.
- Time zone: a project's own ``time_zone`` (Rails or IANA name), else ``PullSpec.timezone`` (the
  company's, ``company.yaml: time_zone``), else UTC with a warning.
- Budget: the view is ``PullSpec.budget_view`` (name or id; default the one whose name contains
  "Standard", else the first). Snapshots freeze periods up to ``period``; only snapshots whose
  ``budget_view.id`` is that view's count (another view's snapshot never stands in; the others
  are counted in a warning); the live view gives ``period`` itself when no snapshot of it exists
  yet (the open month). Later snapshots are ignored.
- Everything else is pulled whole, as an export would hold it: the workbook computes "as of the
  period end" from the dates (approved, billed...), not the pull.
- Job number = the project number (the project id when Procore has none, with a warning). Job
  status: ``complete`` when the project stage is one of :data:`COMPLETE_STAGES`, ``inactive`` when
  the project is not active, else ``active``. Customer = the owner on the project's first prime
  contract.
- A commitment line's amount is its schedule-of-values amount plus the approved change orders on
  the same commitment, cost code and cost type (the data model's "original + approved COs");
  approved amounts on a code the schedule does not hold become a line of their own.
- A change order's approved date is its ``reviewed_at`` when its status family is approved. A
  commitment change order's cost code and type are its package's first line item's.
- Direct costs: the vendor is the header's ``vendor`` (a string, or ``vendor_name``).
- Incremental (``since``): budget periods already frozen in the folder are not fetched again, the
  schedule-of-values lines of commitments unchanged since (``updated_at``) are kept from the folder,
  and vendors and prime change orders are asked only for records updated since
  (``filters[updated_at]``), merged by key into what the folder holds. Records deleted in Procore
  leave the folder only on a full pull.
- Optional endpoints (project roles, cost codes, cost types, status labels, billing periods)
  refused with 403/404 become warnings; the rest stop the pull with a typed error.
- Pages are flattened as they arrive and each table's text is converted once, at the end, through
  :func:`~.frames.to_table` (per column, not per row or page). A pull either returns every table
  or raises: a half-pulled company is never handed on to be written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import numpy as np
import pandas as pd

from wip_lib.core import schema
from wip_lib.core.grouping import aggregate
from wip_lib.sources.formats import CO_STATUS_FAMILY, COMMITMENT_STATUS_FAMILY
from wip_lib.sources.procore_api.budget import (
    budget_text,
    detail_rows,
    resolve_columns,
    snapshot_period,
)
from wip_lib.sources.procore_api.client import ProcoreClient
from wip_lib.sources.procore_api.errors import NotFound, PermissionDenied, ResponseShapeError
from wip_lib.sources.procore_api.frames import (
    code_and_type,
    concat_text,
    cost_type_codes,
    first_text,
    flatten,
    local_dates,
    percent_text,
    pick,
    text,
    text_frame,
    to_table,
    zone,
)
from wip_lib.sources.readers.procore import status_family, this_period, view_key

V = "/rest/v1.0"
COMPLETE_STAGES = frozenset({"complete", "completed", "closed", "closeout", "warranty"})
COMPANY_STEPS = ("company", "projects", "vendors", "cost types", "status labels")
PROJECT_STEPS = ("project directory", "prime contracts", "prime change orders", "cost codes",
                 "billing periods", "budget", "commitments", "commitment change orders",
                 "direct costs", "subcontractor invoices", "owner invoices")
ROW_TYPE = {"budget_row_type": "all"}  # budgeted and unbudgeted rows, live and frozen alike
ERP_DATE = ("erp_status_updated_at", "erp_status_date")
TABLES = ("jobs", "prime_contracts", "prime_change_orders", "budget", "commitments",
          "commitment_lines", "commitment_change_orders", "direct_costs",
          "subcontractor_invoices", "owner_invoices", "procore_vendors")
# G702 totals: canonical column -> field names under summary (requisitions) / g702 (pay apps).
G702 = {"work_completed_this_period": ("work_completed_this_period",),
        "total_completed_to_date": ("total_completed_and_stored_to_date",),
        "retainage_this_period": ("retainage_this_period", "total_retainage_this_period"),
        "retainage_to_date": ("total_retainage",),
        "amount_due": ("current_payment_due",)}
THIS_PERIOD = {"work_completed_this_period": "total_completed_to_date",
               "retainage_this_period": "retainage_to_date"}
G702_BLOCK = ("summary", "g702")  # requisitions: the list names it summary, the example g702

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class PullSpec:
    """What to pull. ``projects``: Procore project ids or project numbers (empty: every active
    project the service account sees, and the inactive ones too with ``include_inactive``).
    ``timezone``: the company's zone, for projects without their own. ``frozen_budgets``: (job,
    period) budget snapshots the folder already holds, skipped when ``since`` is set."""

    company_id: str
    period: str
    projects: tuple[str, ...] = ()
    budget_view: str | None = None
    timezone: str | None = None
    since: datetime | None = None
    frozen_budgets: frozenset[tuple[str, str]] = frozenset()
    include_inactive: bool = False


@dataclass(frozen=True)
class Project:
    id: int
    job_id: str
    name: str
    tz: str


@dataclass
class PullResult:
    company_name: str
    period: str
    projects: list[Project]
    tables: dict[str, pd.DataFrame]
    warnings: list[str] = field(default_factory=list)
    status_labels: dict[str, str] = field(default_factory=dict)
    live_budgets: list[tuple[str, str]] = field(default_factory=list)
    kept_lines: set[tuple[str, str]] = field(default_factory=set)
    partial: frozenset[str] = frozenset()
    budget_view: str | None = None  # the view asked for (None: the Standard view)
    time_zone: str | None = None  # the company's zone the pull used for projects without one


def _const(value: object, index: pd.Index) -> pd.Series:
    return pd.Series(value, index=index, dtype="string")


def _opt(cols: dict, name: str, flat: pd.DataFrame, paths) -> None:
    """Add an optional column only when Procore sent the field (else the data model's default)."""
    s = pick(flat, paths)
    if s is not None:
        cols[name] = text(s, flat.index)


def _lookup(keys: pd.Series, mapping: pd.Series) -> pd.Series:
    """``keys`` (ids as text) looked up in ``mapping`` (index: ids as text); '' when absent."""
    return keys.map(mapping).astype("string").fillna("")


def _id_map(flat: pd.DataFrame, values: pd.Series) -> pd.Series:
    ids = first_text(flat, ("id",))
    out = pd.Series(values.to_numpy(), index=ids.to_numpy())
    return out[~out.index.duplicated()]


class Puller:
    """One pull: the client, the spec, the text of each table gathered page by page, the warnings
    and the progress reported. Text is converted to typed tables once per table at the end."""

    def __init__(self, client: ProcoreClient, spec: PullSpec, progress: Progress | None = None):
        self.c = client
        self.spec = spec
        self.progress = progress
        self.warnings: list[str] = []
        self.done = 0
        self.total = len(COMPANY_STEPS)
        self.types: dict[str, str] = cost_type_codes([])
        self.labels: dict[str, str] = {}
        self.kept_lines: set[tuple[str, str]] = set()
        self.parts: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
        # pages gathered flat and turned into text once (one per snapshot / commitment)
        self.budget_pages: list[pd.DataFrame] = []
        self.sov_pages: list[pd.DataFrame] = []
        self.descriptions: dict[tuple[str, str], str] = {}
        since = pd.Timestamp(spec.since) if spec.since else None
        if since is not None and since.tzinfo is None:
            since = since.tz_localize("UTC")  # a naive time is taken as UTC
        self.since_ts = since
        self.since = (since.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
                      if since is not None else None)

    # -- plumbing -------------------------------------------------------------------------------

    def step(self, label: str) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total, label)

    def soft(self, what: str, fn: Callable[[], list[dict]]) -> list[dict]:
        """An optional endpoint: a refusal becomes a warning and an empty answer."""
        try:
            return fn()
        except (PermissionDenied, NotFound) as exc:
            self.warnings.append(f"{what} not read ({type(exc).__name__}: {exc})")
            return []

    def updated_since(self) -> dict[str, str]:
        if not self.since:
            return {}
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"filters[updated_at]": f"{self.since}...{now}"}

    def dates(self, flat: pd.DataFrame, paths, tz: str) -> pd.Series:
        return local_dates(first_text(flat, paths), tz)

    def add(self, table: str, cols: dict[str, pd.Series], endpoint: str, flat: pd.DataFrame
            ) -> None:
        self.parts[table].append(text_frame(cols, endpoint, flat.get("id")))

    def erp(self, cols: dict, flat: pd.DataFrame, tz: str) -> None:
        _opt(cols, "erp_status", flat, ("erp_status",))
        if pick(flat, ERP_DATE) is not None:
            cols["erp_status_date"] = self.dates(flat, ERP_DATE, tz)
        _opt(cols, "origin_id", flat, ("origin_id",))

    # -- company --------------------------------------------------------------------------------

    def company(self) -> str:
        flat = flatten(self.c.list(f"{V}/companies"))
        ids = first_text(flat, ("id",))
        hit = flat[(ids == self.spec.company_id).to_numpy()] if len(flat) else flat
        if hit.empty:
            seen = ", ".join(f"{i} ({n})" for i, n in zip(ids, first_text(flat, ("name",))))
            raise PermissionDenied(f"{V}/companies", self.spec.company_id,
                                   f"the app sees only these companies: {seen or 'none'}")
        self.step("company")
        return str(first_text(hit, ("name",)).iloc[0])

    def projects(self) -> tuple[list[Project], pd.DataFrame]:
        flat = flatten(self.c.list(f"{V}/projects", {"company_id": self.spec.company_id,
                                                     "filters[by_status]": "All"}))
        if flat.empty:
            raise NotFound(f"company {self.spec.company_id} shows this app no projects: add the "
                           "service account to each project's Directory.", f"{V}/projects")
        ids = first_text(flat, ("id",))
        numbers = first_text(flat, ("project_number",)).str.strip()
        if self.spec.projects:
            want = [str(p).strip() for p in self.spec.projects]
            chosen = (ids.isin(want) | numbers.isin(want)).to_numpy()
            found = set(ids[chosen]) | set(numbers[chosen])
            missing = [p for p in want if p not in found]
            if missing:
                raise NotFound(f"project(s) {', '.join(missing)} not found among the "
                               f"{len(flat)} projects company {self.spec.company_id} shows this "
                               "app (give Procore project ids or project numbers; the service "
                               "account must be on each project's Directory).", f"{V}/projects")
        else:
            active = (first_text(flat, ("active",)).str.casefold() != "false").to_numpy()
            chosen = active | self.spec.include_inactive
            if (~chosen).any():
                left = first_text(flat, ("project_number",)).str.strip()
                left = left.mask(left == "", first_text(flat, ("name", "id")))[~chosen]
                more = ", ..." if len(left) > 10 else ""
                self.warnings.append(f"{int((~chosen).sum())} inactive project(s) not pulled "
                                     f"({', '.join(left.head(10))}{more}); name them with --projects, or pass --include-inactive, "
                                     "when one finished in the year being closed")
        flat = flat[chosen].reset_index(drop=True)
        ids = first_text(flat, ("id",))
        numbers = first_text(flat, ("project_number",)).str.strip()
        if (numbers == "").any():
            self.warnings.append(f"{int((numbers == '').sum())} project(s) have no project "
                                 "number; their Procore id is used as the job number")
        job_ids = numbers.mask(numbers == "", ids)
        out = []
        company_tz = zone(self.spec.timezone)
        for pid, job, name, tzname in zip(ids, job_ids, first_text(flat, ("name", "display_name")),
                                          first_text(flat, ("time_zone",))):
            tz = zone(tzname) or company_tz
            if tz is None:
                tz = "UTC"
                self.warnings.append(f"project {pid}: time zone {tzname or '(none)'!r} not known "
                                     "and no company time zone; timestamps read as UTC dates "
                                     "(set time_zone in company.yaml or use --timezone)")
            elif tzname and zone(tzname) is None:
                self.warnings.append(f"project {pid}: time zone {tzname!r} not known; the "
                                     f"company's ({tz}) is used")
            out.append(Project(int(pid), str(job), str(name), tz))
        self.total += len(PROJECT_STEPS) * len(out)
        self.step("projects")
        return out, flat.assign(_job_id=job_ids.to_numpy())

    def vendors(self) -> None:
        ep = f"{V}/vendors"
        flat = flatten(self.c.list(ep, {"company_id": self.spec.company_id,
                                        **self.updated_since()}))
        if len(flat):
            cols = {"vendor_name": first_text(flat, ("name", "company")),
                    "procore_vendor_id": first_text(flat, ("id",))}
            _opt(cols, "erp_vendor_id", flat, ("origin_id",))
            _opt(cols, "is_active", flat, ("is_active", "active"))
            self.add("procore_vendors", cols, ep, flat)
        self.step("vendors")

    def settings(self) -> None:
        types = self.soft("cost types", lambda: self.c.list(
            f"{V}/line_item_types", {"company_id": self.spec.company_id}))
        self.types = cost_type_codes(types)
        self.step("cost types")
        flat = flatten(self.soft("change order status labels", lambda: self.c.list(
            f"{V}/change_order/statuses", {"company_id": self.spec.company_id})))
        if len(flat):
            label = first_text(flat, ("name", "label")).str.strip()
            base = first_text(flat, ("mapped_to_status", "status", "base_status")).str.strip()
            keep = ((label != "") & (base != "")
                    & (label.str.casefold() != base.str.casefold())).to_numpy()
            self.labels = dict(zip(label[keep], base[keep]))
        self.step("status labels")

    # -- one project ----------------------------------------------------------------------------

    def project_manager(self, p: Project) -> str:
        roles = flatten(self.soft(f"project {p.id} directory roles", lambda: self.c.list(
            f"{V}/project_roles", {"project_id": p.id})))
        self.step(f"{p.job_id}: project directory")
        if roles.empty:
            return ""
        role = first_text(roles, ("role",)).str.strip().str.casefold()
        names = first_text(roles, ("name", "user.name", "contact.name"))
        names = names[((role == "project manager") & (names.str.strip() != "")).to_numpy()]
        return str(names.iloc[0]) if len(names) else ""

    def prime_contracts(self, p: Project) -> tuple[pd.Series, str]:
        """Adds the project's prime contracts; returns (id -> contract number, owner)."""
        ep = f"{V}/prime_contracts"
        flat = flatten(self.c.list(ep, {"project_id": p.id}))
        self.step(f"{p.job_id}: prime contracts")
        if flat.empty:
            return pd.Series(dtype="string"), ""
        i = flat.index
        number = first_text(flat, ("number",))
        owner = first_text(flat, ("vendor.company", "vendor.name", "owner.name"))
        cols = {"job_id": _const(p.job_id, i), "contract_number": number,
                "title": first_text(flat, ("title",)), "owner": owner,
                "status": first_text(flat, ("status",)),
                "executed": first_text(flat, ("executed",)),
                "original_amount": first_text(flat, ("grand_total", "original_contract_amount")),
                "approved_change_orders": first_text(flat, ("approved_change_orders",
                                                            "approved_change_orders_amount")),
                "pending_change_orders": self.pending_prime(p, flat),
                "retainage_percent": percent_text(first_text(flat, ("retainage_percent",))),
                # Signed on: the contract counts from this date (accounting/contract.py).
                "executed_date": self.dates(flat, ("execution_date",
                                                   "signed_contract_received_date"), p.tz)}
        self.erp(cols, flat, p.tz)
        cols.pop("erp_status_date", None)  # not a prime contract column
        self.add("prime_contracts", cols, ep, flat)
        first_owner = owner.iloc[int(np.argsort(number.to_numpy(), kind="stable")[0])]
        return _id_map(flat, number), str(first_owner)

    def pending_prime(self, p: Project, flat: pd.DataFrame) -> pd.Series:
        """Pending change orders of each prime contract: the list carries none, so one show call
        (``GET /prime_contract/{id}``, ``pending_change_orders_amount``) per contract."""
        listed = pick(flat, ("pending_change_orders", "pending_change_orders_amount"))
        if listed is not None:
            return text(listed, flat.index)
        out = []
        for cid in first_text(flat, ("id",)):
            show = self.soft(f"prime contract {cid} (pending change orders)", lambda: [
                self.c.get(f"{V}/prime_contract/{cid}", {"project_id": p.id})])
            one = show[0] if show and isinstance(show[0], dict) else {}
            out.append(one.get("pending_change_orders_amount"))
        return text(pd.Series(out, index=flat.index, dtype=object), flat.index)

    def prime_change_orders(self, p: Project, contracts: pd.Series) -> None:
        ep = f"{V}/projects/{p.id}/prime_change_orders"
        flat = flatten(self.c.list(ep, self.updated_since()))
        if len(flat):
            contract = first_text(flat, ("contract_id", "prime_contract_id", "contract.id"))
            self.change_orders("prime_change_orders", flat, p, ep,
                               {"contract_number": _lookup(contract, contracts)})
        self.step(f"{p.job_id}: prime change orders")

    def change_orders(self, table: str, flat: pd.DataFrame, p: Project, ep: str,
                      extra: dict[str, pd.Series]) -> None:
        status = first_text(flat, ("status",))
        approved = status_family(status, CO_STATUS_FAMILY, self.labels) == "approved"
        reviewed = self.dates(flat, ("reviewed_at", "approved_at", "approved_date"), p.tz)
        cols = {"job_id": _const(p.job_id, flat.index), **extra,
                "co_number": first_text(flat, ("number",)),
                "title": first_text(flat, ("title",)), "status": status,
                "amount": first_text(flat, ("grand_total", "amount")),
                "created_date": self.dates(flat, ("created_at", "created_date"), p.tz),
                "approved_date": reviewed.where(approved.fillna(False).to_numpy(), "")}
        self.erp(cols, flat, p.tz)
        self.add(table, cols, ep, flat)

    def cost_codes(self, p: Project) -> None:
        """The project's cost code names, for budget lines Procore sends without one."""
        flat = flatten(self.soft(f"project {p.id} cost codes", lambda: self.c.list(
            f"{V}/cost_codes", {"project_id": p.id})))
        self.step(f"{p.job_id}: cost codes")
        if len(flat):
            codes = first_text(flat, ("full_code", "code")).str.strip()
            self.descriptions.update(zip(((p.job_id, c) for c in codes),
                                         first_text(flat, ("name",))))

    def billing_periods(self, p: Project) -> pd.DataFrame:
        flat = flatten(self.soft(f"project {p.id} billing periods", lambda: self.c.list(
            f"{V}/projects/{p.id}/billing_periods")))
        self.step(f"{p.job_id}: billing periods")
        ids = first_text(flat, ("id",)) if len(flat) else pd.Series(dtype="string")
        return pd.DataFrame({"start": first_text(flat, ("start_date",)).to_numpy(),
                             "end": first_text(flat, ("end_date",)).to_numpy()},
                            index=ids.to_numpy()) if len(flat) else \
            pd.DataFrame({"start": pd.Series(dtype="string"), "end": pd.Series(dtype="string")})

    def budget(self, p: Project) -> bool:
        """Adds the project's budget lines; True when the live view stood for the period."""
        views = flatten(self.c.list(f"{V}/budget_views", {"project_id": p.id}))
        if views.empty:
            self.warnings.append(f"project {p.job_id}: no budget view; no budget pulled")
            self.step(f"{p.job_id}: budget")
            return False
        ids, names = first_text(views, ("id",)), first_text(views, ("name",))
        want = self.spec.budget_view
        if want:
            hit = ((ids == str(want).strip()) | (names.map(view_key) == view_key(want))).to_numpy()
            if not hit.any():
                raise NotFound(f"project {p.job_id} has no budget view {want!r} (views: "
                               f"{', '.join(names)})", f"{V}/budget_views")
        else:
            hit = names.str.casefold().str.contains("standard").to_numpy()
        k = int(np.flatnonzero(hit)[0]) if hit.any() else 0
        vid, vname = ids.iloc[k], names.iloc[k]
        cols = resolve_columns(vname, self.c.list(f"{V}/budget_views/{vid}/budget_detail_columns",
                                                  {"project_id": p.id}))
        self.warnings += [f"project {p.job_id}: {n}" for n in cols.notes()]
        snaps = flatten(self.c.list(f"{V}/budget_view_snapshots", {"project_id": p.id}))
        periods: set[str] = set()
        if len(snaps):
            of_view = (first_text(snaps, ("budget_view.id", "budget_view_id")) == vid).to_numpy()
            if (~of_view).any():
                self.warnings.append(f"project {p.job_id}: {int((~of_view).sum())} budget "
                                     f"snapshot(s) of other views (or of no view) left out; the "
                                     f"schedule reads view '{vname}'")
            snaps = snaps[of_view].reset_index(drop=True)
        if len(snaps):
            created = self.dates(snaps, ("created_at",), p.tz)
            snaps = snaps.assign(
                _period=[snapshot_period(n, c) for n, c in zip(first_text(snaps, ("name",)),
                                                               created)],
                _created=first_text(snaps, ("created_at",)).to_numpy())
            snaps = snaps[snaps["_period"].notna() & (snaps["_period"] <= self.spec.period)]
            snaps = snaps.sort_values("_created", kind="stable").drop_duplicates("_period",
                                                                                 keep="last")
            periods = set(snaps["_period"])
            for sid, period in zip(first_text(snaps, ("id",)), snaps["_period"]):
                if self.spec.since and (p.job_id, period) in self.spec.frozen_budgets:
                    continue
                ep = f"{V}/budget_view_snapshots/{sid}/detail_rows"
                self.budget_pages.append(detail_rows(
                    self.c.list(ep, {"project_id": p.id, **ROW_TYPE}), cols, p.job_id, period,
                    ep, self.warnings))
        live = self.spec.period not in periods
        if live:
            ep = f"{V}/budget_views/{vid}/detail_rows"
            self.budget_pages.append(detail_rows(
                self.c.list(ep, {"project_id": p.id, **ROW_TYPE}), cols, p.job_id,
                self.spec.period, ep, self.warnings))
        self.step(f"{p.job_id}: budget")
        return live

    def commitments(self, p: Project) -> pd.DataFrame:
        """Adds the project's commitments and their SOV lines; returns id -> number / vendor."""
        maps = []
        for kind, ctype in (("work_order_contracts", "subcontract"),
                            ("purchase_order_contracts", "purchase_order")):
            ep = f"{V}/{kind}"
            flat = flatten(self.c.list(ep, {"project_id": p.id}))
            if flat.empty:
                continue
            i = flat.index
            number = first_text(flat, ("number",))
            vendor = first_text(flat, ("vendor.company", "vendor.name"))
            cols = {"job_id": _const(p.job_id, i), "commitment_number": number,
                    "commitment_type": _const(ctype, i), "vendor_name": vendor,
                    "title": first_text(flat, ("title",)),
                    "status": first_text(flat, ("status",)),
                    "executed": first_text(flat, ("executed",)),
                    "original_amount": first_text(flat, ("grand_total",)),
                    "approved_change_orders": first_text(flat, ("approved_change_orders",)),
                    "revised_amount": first_text(flat, ("revised_contract",
                                                        "revised_contract_amount")),
                    "pending_change_orders": first_text(flat, ("pending_change_orders",)),
                    "draft_change_orders": first_text(flat, ("draft_change_orders_amount",
                                                             "draft_change_orders")),
                    "invoiced": first_text(flat, ("total_requisitions_amount",)),
                    "payments_issued": first_text(flat, ("total_payments",)),
                    "remaining_balance": first_text(flat, ("remaining_balance_outstanding",)),
                    "retainage_percent": percent_text(first_text(flat, ("retainage_percent",))),
                    "approved_date": self.dates(flat, ("approved_at", "approval_letter_date",
                                                       "contract_date"), p.tz)}
            self.erp(cols, flat, p.tz)
            self.add("commitments", cols, ep, flat)
            ids = first_text(flat, ("id",))
            updated = pd.to_datetime(first_text(flat, ("updated_at",)).replace("", None),
                                     utc=True, errors="coerce", format="ISO8601")
            unchanged = (updated <= self.since_ts).fillna(False).to_numpy() \
                if self.since_ts is not None else np.zeros(len(flat), dtype=bool)
            self.kept_lines |= {(p.job_id, str(n)) for n in number[unchanged]}
            for cid, num in zip(ids[~unchanged], number[~unchanged]):
                lep = f"{V}/{kind}/{cid}/line_items"
                flat_lines = flatten(self.c.list(lep, {"project_id": p.id}))
                self.sov_pages.append(flat_lines.assign(_job_id=p.job_id, _number=str(num),
                                                        _endpoint=lep))
            maps.append(pd.DataFrame({"number": number.to_numpy(), "vendor": vendor.to_numpy()},
                                     index=ids.to_numpy()))
        self.step(f"{p.job_id}: commitments")
        return pd.concat(maps) if maps else pd.DataFrame({"number": [], "vendor": []},
                                                         dtype="string")

    def sov_lines(self) -> None:
        """Every commitment's schedule-of-values lines, gathered flat, as text at once."""
        pages = [f for f in self.sov_pages if len(f)]
        if not pages:
            return
        flat = pd.concat(pages, ignore_index=True)
        code, kind = code_and_type(flat, self.types)
        line = first_text(flat, ("position", "line_number", "number"))
        seq = flat.groupby(["_job_id", "_number"], sort=False).cumcount() + 1
        line = line.mask(line == "", seq.astype(str))
        cols = {"job_id": flat["_job_id"].astype("string"),
                "commitment_number": flat["_number"].astype("string"),
                "line_number": line, "cost_code": code, "cost_type": kind,
                "description": first_text(flat, ("description",)),
                "amount": first_text(flat, ("amount", "total_amount"))}
        self.parts["commitment_lines"].append(text_frame(cols, flat["_endpoint"], flat.get("id")))

    def commitment_change_orders(self, p: Project, commitments: pd.DataFrame) -> None:
        ep = f"{V}/projects/{p.id}/commitment_change_orders"
        recs = self.c.list(ep)
        flat = flatten(recs)
        if len(flat):
            firsts = (list(flat["line_items"].astype(object).str[0])
                      if "line_items" in flat.columns else [None] * len(flat))
            for k in [k for k, v in enumerate(firsts) if not isinstance(v, dict)]:
                # Neither the list nor the show call carries the lines: the change order is a
                # change order package, whose show call does.
                show = self.c.get(f"{V}/change_order_packages/{recs[k]['id']}",
                                  {"project_id": p.id})
                items = show.get("line_items") if isinstance(show, dict) else None
                firsts[k] = items[0] if isinstance(items, list) and items else {}
                if not firsts[k]:
                    self.warnings.append(f"{ep}: change order {recs[k].get('number')} has no "
                                         "line items; its cost code is left blank")
            lines = flatten([v if isinstance(v, dict) else {} for v in firsts])
            lines.index = flat.index
            code, kind = code_and_type(lines, self.types)
            contract = first_text(flat, ("contract_id", "commitment_id", "contract.id"))
            self.change_orders("commitment_change_orders", flat, p, ep, {
                "commitment_number": _lookup(contract, commitments["number"]),
                "cost_code": code, "cost_type": kind})
        self.step(f"{p.job_id}: commitment change orders")

    def direct_costs(self, p: Project) -> None:
        ep = f"{V}/projects/{p.id}/direct_costs"
        heads = flatten(self.c.list(ep))
        lep = f"{ep}/line_items"
        lines = flatten(self.c.list(lep))
        self.step(f"{p.job_id}: direct costs")
        if lines.empty:
            return
        owner = first_text(lines, ("holder.id", "direct_cost_id", "holder_id", "direct_cost.id"))
        hid = first_text(heads, ("id",)) if len(heads) else pd.Series(dtype="string")
        orphan = ~owner.isin(hid)
        if orphan.any():
            raise ResponseShapeError(f"{lep}: {int(orphan.sum())} line item(s) whose direct cost "
                                     "is not in the direct cost list", lep)
        head = pd.DataFrame({
            "type": first_text(heads, ("direct_cost_type",)).to_numpy(),
            "status": first_text(heads, ("status",)).to_numpy(),
            "date": self.dates(heads, ("direct_cost_date", "date"), p.tz).to_numpy(),
            "vendor": first_text(heads, ("vendor", "vendor_name", "vendor.company",
                                         "vendor.name")).to_numpy(),
            "invoice": first_text(heads, ("invoice_number",)).to_numpy(),
            "description": first_text(heads, ("description",)).to_numpy(),
            "origin": first_text(heads, ("origin_id",)).to_numpy()}, index=hid.to_numpy())
        h = head[~head.index.duplicated()].reindex(owner.to_numpy())
        h.index = lines.index
        code, kind = code_and_type(lines, self.types)
        line = first_text(lines, ("position", "line_number"))
        seq = lines.groupby(owner.to_numpy()).cumcount() + 1
        line = line.mask(line == "", seq.astype(str))
        desc = first_text(lines, ("description",))
        cols = {"job_id": _const(p.job_id, lines.index), "direct_cost_id": owner,
                "line_number": line, "direct_cost_type": h["type"], "status": h["status"],
                "direct_cost_date": h["date"], "vendor_name": h["vendor"],
                "invoice_number": h["invoice"],
                "description": desc.mask(desc == "", h["description"]),
                "cost_code": code, "cost_type": kind,
                "amount": first_text(lines, ("amount",)), "origin_id": h["origin"]}
        self.add("direct_costs", cols, lep, lines)

    def billing(self, table: str, flat: pd.DataFrame, p: Project, ep: str,
                g702: tuple[str, ...], extra: dict[str, pd.Series],
                periods: pd.DataFrame | None) -> None:
        """Requisitions and payment applications; G702 totals under the blocks ``g702`` names
        (requisitions: ``summary``, else ``g702``; pay apps: ``g702``). A this-period figure
        Procore does not send is derived from the to-date ones."""
        i = flat.index
        start = self.dates(flat, ("period_start", "requisition_start", "period.start_date"), p.tz)
        end = self.dates(flat, ("period_end", "requisition_end", "period.end_date"), p.tz)
        if periods is not None and len(periods):
            pid = first_text(flat, ("period_id", "billing_period_id"))
            start = start.mask(start == "", _lookup(pid, periods["start"]))
            end = end.mask(end == "", _lookup(pid, periods["end"]))
        cols = {"job_id": _const(p.job_id, i), **extra,
                "invoice_number": first_text(flat, ("invoice_number",)),
                "application_number": first_text(flat, ("number", "application_number")),
                "billing_date": self.dates(flat, ("billing_date", "invoice_date"), p.tz),
                "period_start": start, "period_end": end,
                "status": first_text(flat, ("status",))}
        for col, keys in G702.items():
            s = pick(flat, [f"{b}.{k}" for b in g702 for k in keys] + list(keys))
            cols[col] = text(s, i)
            if col in THIS_PERIOD:
                cols[f"_derive_{col}"] = pd.Series(s is None, index=i)
        if table == "subcontractor_invoices":
            cols["approved_date"] = self.dates(flat, ("approved_at", "approved_date"), p.tz)
            _opt(cols, "payment_status", flat, ("payment_status",))
        self.erp(cols, flat, p.tz)
        self.add(table, cols, ep, flat)

    def requisitions(self, p: Project, commitments: pd.DataFrame, periods: pd.DataFrame) -> None:
        ep = f"{V}/requisitions"
        flat = flatten(self.c.list(ep, {"project_id": p.id}))
        if len(flat):
            cid = first_text(flat, ("commitment_id", "contract_id", "commitment.id"))
            vendor = first_text(flat, ("vendor_name", "vendor.company", "vendor.name"))
            vendor = vendor.mask(vendor == "", _lookup(cid, commitments["vendor"]))
            self.billing("subcontractor_invoices", flat, p, ep, G702_BLOCK, {
                "commitment_number": _lookup(cid, commitments["number"]),
                "vendor_name": vendor}, periods)
        self.step(f"{p.job_id}: subcontractor invoices")

    def payment_applications(self, p: Project, contracts: pd.Series) -> None:
        ep = f"{V}/payment_applications"
        flat = flatten(self.c.list(ep, {"project_id": p.id}))
        if len(flat):
            cid = first_text(flat, ("contract.id", "prime_contract_id", "contract_id",
                                    "prime_contract.id"))
            self.billing("owner_invoices", flat, p, ep, ("g702",),
                         {"contract_number": _lookup(cid, contracts)}, None)
        self.step(f"{p.job_id}: owner invoices")

    def jobs(self, flat: pd.DataFrame, owners: list[str], pms: list[str]) -> None:
        i = flat.index
        stage = first_text(flat, ("project_stage.name", "stage", "project_stage")).str.strip()
        active = first_text(flat, ("active",)).str.casefold()
        status = np.where(stage.str.casefold().isin(COMPLETE_STAGES), "complete",
                          np.where(active == "false", "inactive", "active"))
        cols = {"job_id": flat["_job_id"].astype("string"),
                "job_name": first_text(flat, ("name", "display_name")),
                "status": pd.Series(status, index=i, dtype="string"),
                "start_date": local_dates(first_text(flat, ("start_date", "actual_start_date")),
                                          None),
                "completion_date": local_dates(first_text(flat, ("completion_date",
                                                                 "projected_finish_date")), None),
                "customer": pd.Series(owners, index=i, dtype="string"),
                "project_manager": pd.Series(pms, index=i, dtype="string"),
                "procore_project_id": first_text(flat, ("id",))}
        _opt(cols, "erp_status", flat, ("erp_status",))
        self.add("jobs", cols, f"{V}/projects", flat)

    # -- the whole pull -------------------------------------------------------------------------

    def run(self) -> PullResult:
        name = self.company()
        projects, pflat = self.projects()
        self.vendors()
        self.settings()
        owners, pms, live = [], [], []
        for p in projects:
            pms.append(self.project_manager(p))
            contracts, owner = self.prime_contracts(p)
            owners.append(owner)
            self.prime_change_orders(p, contracts)
            self.cost_codes(p)
            periods = self.billing_periods(p)
            if self.budget(p):
                live.append((p.job_id, self.spec.period))
            cmap = self.commitments(p)
            self.commitment_change_orders(p, cmap)
            self.direct_costs(p)
            self.requisitions(p, cmap, periods)
            self.payment_applications(p, contracts)
        self.jobs(pflat, owners, pms)
        budget = [f for f in self.budget_pages if len(f)]
        if budget:
            self.parts["budget"].append(budget_text(pd.concat(budget, ignore_index=True),
                                                    self.types, self.descriptions,
                                                    self.warnings))
        self.sov_lines()
        tables = self.finish()
        partial = frozenset({"procore_vendors", "prime_change_orders"}) if self.since \
            else frozenset()
        return PullResult(name, self.spec.period, projects, tables, self.warnings,
                          dict(self.labels), live, self.kept_lines, partial,
                          self.spec.budget_view, zone(self.spec.timezone))

    def finish(self) -> dict[str, pd.DataFrame]:
        """Each table's text converted once, then the figures that need typed values."""
        tables: dict[str, pd.DataFrame] = {}
        for t in TABLES:
            raw = concat_text(t, self.parts[t])
            frame = to_table(t, raw, self.warnings)
            for col, to_date in THIS_PERIOD.items():
                flag = f"_derive_{col}"
                if flag in raw.columns and raw[flag].fillna(False).astype(bool).any():
                    contract = ("commitment_number" if t == "subcontractor_invoices"
                                else "contract_number")
                    derived = this_period(frame, contract, frame[to_date])
                    mask = raw[flag].fillna(False).astype(bool).to_numpy()
                    frame[col] = np.where(mask, derived.to_numpy(), frame[col].to_numpy())
            if "status_family" in frame.columns and len(frame):
                families = COMMITMENT_STATUS_FAMILY if t == "commitments" else CO_STATUS_FAMILY
                frame["status_family"] = status_family(frame["status"], families, self.labels)
                unknown = frame.loc[frame["status_family"].isna(), "status"].unique()
                if len(unknown):
                    self.warnings.append(f"{t}: status(es) {', '.join(map(repr, unknown))} not "
                                         "recognised; map them under status_labels in "
                                         "company.yaml")
            tables[t] = frame
        tables["commitment_lines"] = _with_approved_cos(
            tables["commitment_lines"], tables["commitment_change_orders"], self.kept_lines)
        for t, df in tables.items():
            if len(df):
                tables[t] = df.sort_values(list(schema.get(t).key), kind="stable") \
                    .reset_index(drop=True)
        return tables


def _with_approved_cos(lines: pd.DataFrame, cco: pd.DataFrame,
                       kept: set[tuple[str, str]]) -> pd.DataFrame:
    """SOV lines plus approved change orders (see the module rules); lines kept from the folder
    (``kept``) already hold theirs."""
    keys = ["job_id", "commitment_number", "cost_code", "cost_type"]
    appr = cco[cco["status_family"] == "approved"] if len(cco) else cco
    if len(kept) and len(appr):
        pair = pd.MultiIndex.from_arrays([appr["job_id"], appr["commitment_number"]])
        appr = appr[~pair.isin(list(kept))]
    if appr.empty:
        return lines
    add = aggregate(appr, keys, sort=True, amount=("amount", "sum"),
                    cost_code_raw=("cost_code_raw", "first")).reset_index()
    first = lines.sort_values("line_number", kind="stable").drop_duplicates(keys)
    hit = first.reset_index().merge(add[[*keys, "amount"]], on=keys, how="inner",
                                    suffixes=("", "_co"))
    out = lines.copy()
    out.loc[hit["index"].to_numpy(), "amount"] += hit["amount_co"].to_numpy()
    rest = add.merge(first[keys], on=keys, how="left", indicator=True)
    rest = rest[rest["_merge"] == "left_only"].drop(columns="_merge")
    if rest.empty:
        return out
    last = lines.groupby(["job_id", "commitment_number"])["line_number"].max()
    base = pd.Series(rest.set_index(["job_id", "commitment_number"]).index.map(last),
                     index=rest.index).fillna(0).astype("int64")
    table = schema.get("commitment_lines")
    rest = rest.assign(line_number=base + rest.groupby(["job_id", "commitment_number"])
                       .cumcount() + 1, description="Approved change orders")
    extra = rest.astype({c.name: c.dtype for c in table.columns})[table.names]
    return pd.concat([out, extra], ignore_index=True)


def pull(client: ProcoreClient, spec: PullSpec, progress: Progress | None = None) -> PullResult:
    """Pull ``spec`` through ``client``; see the module rules."""
    return Puller(client, spec, progress).run()
