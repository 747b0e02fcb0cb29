"""The Procore REST connector against a fake Procore on loopback (a real HTTP server).

The fake answers with payloads shaped as Procore publishes them: every object carries the fields
of the published API spec's model (or of real sandbox output) and no others, each builder below
citing its source (tags as in ``../shared/domain/procore-checked.md``: [spec] Procore's published
spec through weigandconstruction/procore_python_sdk ``docs/<Model>.md``, [doc] Procore's developer
documentation, [real] sandbox output captured in rogers-obrien-rad/ProPyCore, [old] older
Procore docs through MAD.API.Procore). It serves them from a small generated company: every list
paged (Link and Total headers, Total only, or neither; Link URLs without the ``project_id`` the
request carried, as in Procore's example), a 429 with a reset, a 503 retried, a token revoked and
one that expires, a 403, budget detail columns without the calculated ones, a snapshot of another
budget view, a company on Budget Changes, a sub job, a project without a time zone.
Pulling it must give the canonical tables that reading the same company's exports gives, to the
cent and dtype for dtype, and the same month-end. A fake clock shared by server and client makes
every wait instant.
"""
from __future__ import annotations

import json
import shutil
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pandas as pd
import pytest

from wip_lib.core import schema
from wip_lib.cli.main import main
from wip_lib.core.settings import Settings
from wip_lib.sources.procore_api import (Credentials, CredentialsError, FolderState, NotFound,
                                 PermissionDenied, ProcoreClient, PullSpec, ResponseShapeError,
                                 ServerError, frozen_budgets, pull, write_pull)
from wip_lib.sources.procore_api.budget import resolve_columns, snapshot_period
from wip_lib.sources.readers.erp import load_profile
from wip_lib.sources.readers.procore import read_procore
from wip_lib.sample.generate import SampleSpec, company_settings, generate
from wip_lib.sources.export_writer import write_company_yaml, write_erp_table, write_procore_table

CID = 4242
CLIENT_ID = "wip-test-client-0123456789"
SECRET = "s3cr3t-never-print-7f2a9c"
V = "/rest/v1.0"
PERIOD = "2026-10"
TZ = "Pacific Time (US & Canada)"
COMPANY_TZ = "America/Los_Angeles"  # the company's zone, for the project Procore gives none
TYPE_NAMES = {"L": "Labor", "M": "Materials", "E": "Equipment", "O": "Other", "S": "Subcontracts"}
TENANT_LABEL = "Approved - Signed"  # a tenant's relabel of the base status "approved"
# Detail-row keys: the view's display names, one misspelt as a tenant typed it [real].
DISPLAY = {"approved_cos": "Approved COs", "revised_budget": "Revised Budget",
           "pending_budget_changes": "Pending Budget Changes",
           "projected_budget": "Projected Budget", "committed_costs": "Commited Costs",  # sic
           "direct_costs": "Direct Costs", "job_to_date_costs": "Job to Date Costs",
           "pending_cost_changes": "Pending Cost Changes", "projected_costs": "Projected Costs",
           "estimated_cost_at_completion": "Estimated Cost at Completion",
           "projected_over_under": "Projected over Under"}
# Calculated columns of the Standard view: budget_detail_columns never lists them [real
# snippets/budgets.ipynb cell 20; support "About the Procore Standard Budget View"].
CALCULATED = {"revised_budget", "projected_budget", "projected_costs",
              "estimated_cost_at_completion", "projected_over_under"}
# The change order status enum holds base values only [spec procore_sdk/models/default1.py].
CO_ENUM = {"approved": "approved", "pricing": "pricing", "draft": "draft", "rejected": "rejected",
           "pending": "pending", "void": "void", "no charge": "no_charge"}


# -- the company, as canonical tables -----------------------------------------------------------

def company_tables() -> dict[str, pd.DataFrame]:
    tables, _, _ = generate(SampleSpec(n_jobs=3, history_start="2026-08", n_completed=1,
                                       codes_per_job=(4, 6), current=PERIOD))
    # What the API cannot say in a documented shape, or says differently from the exports:
    tables["prime_contracts"]["retainage_rule"] = "flat"  # kept from the folder, see folder.py
    dc = tables["direct_costs"]
    ids = {k: str(700000 + i) for i, k in enumerate(dc["direct_cost_id"].unique())}
    dc["direct_cost_id"] = dc["direct_cost_id"].map(ids).astype("string")
    # Fields absent from the spec's models read as the data model's defaults: erp_status on
    # projects, prime contracts, change orders, commitments and pay apps; erp_status dates;
    # a requisition's approved date and payment status (procore-checked.md section C).
    for name in ("jobs", "prime_contracts", "prime_change_orders", "commitments",
                 "commitment_change_orders", "owner_invoices"):
        tables[name]["erp_status"] = pd.Series("not_integrated", index=tables[name].index,
                                               dtype="string")
    for name in ("prime_change_orders", "commitments", "commitment_change_orders",
                 "subcontractor_invoices", "owner_invoices"):
        tables[name]["erp_status_date"] = pd.Series(pd.NaT, index=tables[name].index,
                                                    dtype="datetime64[us]")
    si = tables["subcontractor_invoices"]
    si["approved_date"] = pd.Series(pd.NaT, index=si.index, dtype="datetime64[us]")
    si["payment_status"] = pd.Series("unpaid", index=si.index, dtype="string")
    # change order statuses: the API's enum values (base statuses)
    for name in ("prime_change_orders", "commitment_change_orders"):
        t = tables[name]
        t["status"] = t["status"].str.casefold().map(CO_ENUM).astype("string")
    # a sub job on the last job's first budget code (every period)
    b = tables["budget"]
    last = tables["jobs"]["job_id"].iloc[-1]
    code = b.loc[b["job_id"] == last, "cost_code"].iloc[0]
    b.loc[(b["job_id"] == last) & (b["cost_code"] == code), "sub_job"] = "01"
    return tables


def write_exports(root: Path, tables: dict[str, pd.DataFrame], erp: bool = False) -> None:
    settings = company_settings(SampleSpec(current=PERIOD))
    write_company_yaml(root, {**settings, "status_labels": {TENANT_LABEL: "approved"},
                              "time_zone": COMPANY_TZ})
    for name, df in tables.items():
        if schema.get(name).system == "procore":
            write_procore_table(root, name, df)
    if erp:
        write_erp_parts(root, tables)


def write_erp_parts(root: Path, tables: dict[str, pd.DataFrame]) -> None:
    profile = load_profile("sage300")
    for name, df in tables.items():
        if schema.get(name).system == "erp":
            write_erp_table(root, name, df, profile)
    write_procore_table(root, "cost_code_crosswalk", tables["cost_code_crosswalk"])


def canonical(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    df = tables[name].drop(columns=["_file", "_row"], errors="ignore")
    key = list(schema.get(name).key)
    return df.sort_values(key, kind="stable").reset_index(drop=True)


# -- the same company, as Procore's API would answer ----------------------------------------------

def money(cents) -> str:
    """Money as Procore's JSON carries it: a decimal string, "30000.00" [real budgets.ipynb]."""
    c = int(cents)
    return f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}"


def day(ts) -> str | None:
    return None if pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def stamp(ts, next_day_utc: bool = False) -> str | None:
    """A UTC timestamp whose Pacific calendar date is ``ts``'s date (Procore's timestamps are
    UTC [doc])."""
    if pd.isna(ts):
        return None
    t = pd.Timestamp(ts)
    return (f"{t + pd.Timedelta(days=1):%Y-%m-%d}T03:15:00Z" if next_day_utc
            else f"{t:%Y-%m-%d}T19:00:00Z")


def pct(rate: float) -> str:
    return f"{rate * 100:.2f}"


def blank(v) -> str | None:
    return None if pd.isna(v) or v == "" else str(v)


def build_api(tables: dict[str, pd.DataFrame]) -> dict[tuple[str, str | None], object]:
    """(path, project id or None) -> JSON payload, each shaped as its cited model."""
    r: dict[tuple[str, str | None], object] = {}
    jobs = tables["jobs"]
    pid = dict(zip(jobs["job_id"], jobs["procore_project_id"].astype(int)))
    seq = iter(range(10_000, 10**7))
    # [spec Company.md]
    r[(f"{V}/companies", None)] = [{"id": 17, "name": "Another GC", "is_active": True},
                                   {"id": CID, "name": "Harbor Ridge Builders, Inc.",
                                    "is_active": True}]
    # [spec Project1.md; real snippets/projects.ipynb: Rails time_zone, erp_integrated,
    # accounting_project_number; no erp_status]. The second project has no time zone.
    r[(f"{V}/projects", None)] = [{
        "id": pid[j.job_id], "project_number": j.job_id, "name": j.job_name,
        "display_name": f"{j.job_id} - {j.job_name}", "active": j.status != "inactive",
        "time_zone": None if k == 1 else TZ,
        "project_stage": {"id": 3, "name": "Completed" if j.status == "complete"
                          else "Course of Construction"},
        "stage": "Completed" if j.status == "complete" else "Course of Construction",
        "start_date": day(j.start_date), "completion_date": day(j.completion_date),
        "projected_finish_date": day(j.completion_date), "erp_integrated": True,
        "accounting_project_number": j.job_id, "origin_id": None}
        for k, j in enumerate(jobs.itertuples())] + [
        {"id": 999001, "project_number": "", "name": "Bid project", "display_name": "Bid project",
         "active": False, "time_zone": TZ, "project_stage": {"id": 5, "name": "Not Awarded"},
         "stage": "Not Awarded"}]
    # [spec RestV10VendorsGet200ResponseInner.md]
    r[(f"{V}/vendors", None)] = [{"id": int(v.procore_vendor_id), "name": v.vendor_name,
                                  "company": v.vendor_name, "origin_id": v.erp_vendor_id,
                                  "origin_code": v.erp_vendor_id, "is_active": bool(v.is_active),
                                  "synced_to_erp": True}
                                 for v in tables["procore_vendors"].itertuples()]
    # [spec LineItemType1.md]
    r[(f"{V}/line_item_types", None)] = [{"id": i, "code": c, "name": n, "base_type": n,
                                          "origin_id": None, "origin_data": None}
                                         for i, (c, n) in enumerate(TYPE_NAMES.items(), 1)]
    # [spec RestV10ChangeOrderStatusesGet200ResponseInner.md: id, name, mapped_to_status,
    # show_in_select]
    r[(f"{V}/change_order/statuses", None)] = [
        {"id": i, "name": s.title(), "mapped_to_status": s, "show_in_select": True}
        for i, s in enumerate(("approved", "pending", "draft", "void"), 1)] + [
        {"id": 9, "name": TENANT_LABEL, "mapped_to_status": "approved", "show_in_select": True}]
    for j in jobs.itertuples():
        p = str(pid[j.job_id])
        # [old ProjectRole.cs: id, name, role, user_id; the spec's ProjectRole.md has role,
        # user_id; ProPyCore reads name with a "(Company)" suffix]
        r[(f"{V}/project_roles", p)] = [
            {"id": 1, "role": "Superintendent", "name": "Sam Field", "user_id": 501},
            {"id": 2, "role": "Project Manager", "name": j.project_manager, "user_id": 502}]
        pc = tables["prime_contracts"][lambda d: d.job_id == j.job_id]
        pc_id = {n: next(seq) for n in pc["contract_number"]}
        # [spec RestV10PrimeContractsGet200ResponseInner.md: no pending change orders in the
        # list; vendor {id, name, company} (…InnerContractor.md)]
        r[(f"{V}/prime_contracts", p)] = [{
            "id": pc_id[c.contract_number], "number": c.contract_number, "title": c.title,
            "status": c.status, "executed": bool(c.executed),
            "vendor": {"id": 90, "name": c.owner, "company": c.owner},
            "grand_total": money(c.original_amount),
            "approved_change_orders": money(c.approved_change_orders),
            "revised_contract": money(c.original_amount + c.approved_change_orders),
            "retainage_percent": pct(c.retainage_percent), "origin_id": blank(c.origin_id)}
            for c in pc.itertuples()]
        for c in pc.itertuples():
            # [spec RestV10PrimeContractGet200Response.md: the show call's
            # pending_change_orders_amount]
            r[(f"{V}/prime_contract/{pc_id[c.contract_number]}", p)] = {
                "id": pc_id[c.contract_number], "number": c.contract_number,
                "pending_change_orders_amount": money(c.pending_change_orders)}
        # [spec ConstructionFinancialsChangeOrdersPrimeChangeOrdersApi.md, Default1.md: status
        # enum, contract_id, grand_total, created_at, reviewed_at ("Approved date"), due_date]
        r[(f"{V}/projects/{p}/prime_change_orders", None)] = [{
            "id": next(seq), "number": co.co_number, "title": co.title, "status": co.status,
            "contract_id": pc_id[co.contract_number], "grand_total": money(co.amount),
            "created_at": stamp(co.created_date), "due_date": None, "executed": False,
            # reviewed (approved or not): the approved date is only the approved ones'
            "reviewed_at": stamp(co.approved_date if pd.notna(co.approved_date)
                                 else co.created_date, next_day_utc=True),
            "origin_id": blank(co.origin_id)}
            for co in tables["prime_change_orders"][lambda d: d.job_id == j.job_id].itertuples()]
        _budget(r, tables["budget"][lambda d: d.job_id == j.job_id], p, seq,
                budget_changes=j.Index == 1)
        cm = tables["commitments"][lambda d: d.job_id == j.job_id]
        cm_id = {n: next(seq) for n in cm["commitment_number"]}
        lines = tables["commitment_lines"][lambda d: d.job_id == j.job_id]
        cco = tables["commitment_change_orders"][lambda d: d.job_id == j.job_id]
        appr = cco[cco["status"] == "approved"].groupby(["commitment_number", "cost_code",
                                                         "cost_type"])["amount"].sum()
        for kind, ctype in (("work_order_contracts", "subcontract"),
                            ("purchase_order_contracts", "purchase_order")):
            # [spec RestV10WorkOrderContractsGet200ResponseInner.md: vendor {id, company}; no
            # erp_status; contract_date; tap-procore reads the same amounts]
            r[(f"{V}/{kind}", p)] = [{
                "id": cm_id[c.commitment_number], "number": c.commitment_number,
                "title": c.title, "status": c.status, "executed": bool(c.executed),
                "vendor": {"id": 80, "company": c.vendor_name},
                "grand_total": money(c.original_amount),
                "approved_change_orders": money(c.approved_change_orders),
                "pending_change_orders": money(c.pending_change_orders),
                "draft_change_orders_amount": money(c.draft_change_orders),
                "revised_contract": money(c.revised_amount),
                "total_requisitions_amount": money(c.invoiced),
                "total_payments": money(c.payments_issued),
                "remaining_balance_outstanding": money(c.remaining_balance),
                "retainage_percent": pct(c.retainage_percent),
                "contract_date": day(c.approved_date), "approval_letter_date": None,
                "origin_id": blank(c.origin_id), "updated_at": "2026-10-20T16:00:00Z"}
                for c in cm[cm["commitment_type"] == ctype].itertuples()]
            for c in cm[cm["commitment_type"] == ctype].itertuples():
                sov = []
                for ln in lines[lines.commitment_number == c.commitment_number].itertuples():
                    co = appr.get((c.commitment_number, ln.cost_code, ln.cost_type), 0)
                    # [spec …WorkOrderContractLineItemsGet200ResponseInner.md, LineItemType.md,
                    # …LineItemsInnerWbsCode.md]
                    sov.append({"id": next(seq), "position": int(ln.line_number),
                                "description": ln.description, "amount": money(ln.amount - co),
                                "wbs_code": {"id": next(seq),
                                             "flat_code": f"{ln.cost_code_raw}.{ln.cost_type}"},
                                "cost_code": {"id": next(seq), "full_code": ln.cost_code_raw},
                                "line_item_type": {"id": 1, "code": ln.cost_type,
                                                   "name": TYPE_NAMES.get(ln.cost_type)}})
                r[(f"{V}/{kind}/{cm_id[c.commitment_number]}/line_items", p)] = sov
        cco_json = []
        for co in cco.itertuples():
            # [spec RestV10ProjectsProjectIdCommitmentChangeOrdersGet200Response.md: no
            # line_items on the list or the show call]
            obj = {"id": next(seq), "number": co.co_number, "title": co.title,
                   "status": co.status, "contract_id": cm_id[co.commitment_number],
                   "grand_total": money(co.amount), "created_at": stamp(co.created_date),
                   "reviewed_at": stamp(co.approved_date, next_day_utc=True), "due_date": None,
                   "origin_id": blank(co.origin_id)}
            cco_json.append(obj)
            r[(f"{V}/projects/{p}/commitment_change_orders/{obj['id']}", None)] = dict(obj)
            # [spec; doc tutorials/tutorial_change_orders.md: the lines are on the change order
            # package, GET /change_order_packages/{id} -> line_items[]]
            r[(f"{V}/change_order_packages/{obj['id']}", p)] = {
                "id": obj["id"], "number": co.co_number, "title": co.title,
                "line_items": [{"id": next(seq), "amount": money(co.amount),
                                "description": co.title,
                                "cost_code": {"id": next(seq), "full_code": co.cost_code_raw},
                                "line_item_type": {"id": 1, "code": co.cost_type,
                                                   "name": TYPE_NAMES.get(co.cost_type)}}]}
        r[(f"{V}/projects/{p}/commitment_change_orders", None)] = cco_json
        dc = tables["direct_costs"][lambda d: d.job_id == j.job_id]
        heads = dc.drop_duplicates("direct_cost_id")
        # [spec RestV11ProjectsProjectIdDirectCostsGet200ResponseInner.md: vendor is a string,
        # with vendor_name and vendor_id]
        r[(f"{V}/projects/{p}/direct_costs", None)] = [{
            "id": int(h.direct_cost_id), "direct_cost_type": h.direct_cost_type,
            "status": h.status, "direct_cost_date": day(h.direct_cost_date),
            "vendor": blank(h.vendor_name), "vendor_name": blank(h.vendor_name),
            "vendor_id": 70 if h.vendor_name else None,
            "invoice_number": blank(h.invoice_number), "description": None,
            "origin_id": blank(h.origin_id)} for h in heads.itertuples()]
        # [spec RestV10ProjectsProjectIdDirectCostsLineItemsGet200ResponseInner.md: the parent is
        # holder {id, holder_type} (ArrayOfPotentialChangeOrderLineItemsErrorsInnerAllOfHolder.md)]
        r[(f"{V}/projects/{p}/direct_costs/line_items", None)] = [{
            "id": next(seq), "holder": {"id": int(x.direct_cost_id), "holder_type": "DirectCost"},
            "position": int(x.line_number), "description": x.description,
            "amount": money(x.amount), "cost_code": {"id": next(seq), "full_code": x.cost_code_raw},
            "line_item_type": {"id": 1, "code": x.cost_type}} for x in dc.itertuples()]
        si = tables["subcontractor_invoices"][lambda d: d.job_id == j.job_id]
        periods = sorted(set(zip(si["period_start"], si["period_end"])))
        bp_id = {pe: 300 + i for i, pe in enumerate(periods)}
        # [spec ConstructionFinancialsCommitmentsBillingPeriodsApi.md: the project's billing
        # periods live at /projects/{id}/billing_periods]
        r[(f"{V}/projects/{p}/billing_periods", None)] = [
            {"id": i, "start_date": day(s), "end_date": day(e), "due_date": day(e)}
            for (s, e), i in bp_id.items()]
        # [spec RestV10RequisitionsGet200ResponseInner.md, …Summary.md; doc
        # tutorials/tutorial_requisitions.md: requisition_start / requisition_end, vendor_name;
        # no approved_at, payment_status or this-period G702 figures]
        r[(f"{V}/requisitions", p)] = [{
            "id": next(seq), "commitment_id": cm_id[x.commitment_number],
            "number": int(x.application_number), "invoice_number": x.invoice_number,
            "billing_date": day(x.billing_date), "period_id": bp_id[(x.period_start, x.period_end)],
            # one requisition says its period only through period_id (the billing periods)
            "requisition_start": None if k == 0 else day(x.period_start),
            "requisition_end": None if k == 0 else day(x.period_end),
            "status": x.status, "erp_status": x.erp_status, "origin_id": blank(x.origin_id),
            "vendor_name": x.vendor_name, "payment_date": None, "submitted_at": None,
            "summary": {"total_completed_and_stored_to_date": money(x.total_completed_to_date),
                        "total_retainage": money(x.retainage_to_date),
                        "current_payment_due": money(x.amount_due)}}
            for k, x in enumerate(si.itertuples())]
        oi = tables["owner_invoices"][lambda d: d.job_id == j.job_id]
        # [spec RestV10PaymentApplicationsGet200ResponseInner.md, …AllOfContract.md (contract
        # {id, type, title}), …AllOfG702.md: G702 to-date totals]
        r[(f"{V}/payment_applications", p)] = [{
            "id": next(seq), "contract": {"id": pc_id[x.contract_number], "type": "PrimeContract",
                                          "title": "Prime Contract"},
            "number": int(x.application_number), "invoice_number": x.invoice_number,
            "billing_date": day(x.billing_date), "period_start": day(x.period_start),
            "period_end": day(x.period_end), "status": x.status, "origin_id": blank(x.origin_id),
            "g702": {"total_completed_and_stored_to_date": money(x.total_completed_to_date),
                     "total_retainage": money(x.retainage_to_date),
                     "current_payment_due": money(x.amount_due)}} for x in oi.itertuples()]
        codes = tables["budget"][lambda d: d.job_id == j.job_id].drop_duplicates("cost_code")
        # [spec CoreCostCodesSubJobsCostCodesApi.md]
        r[(f"{V}/cost_codes", p)] = [{"id": next(seq), "full_code": c.cost_code_raw,
                                      "name": c.description} for c in codes.itertuples()]
    return r


def _budget(r: dict, budget: pd.DataFrame, p: str, seq, budget_changes: bool = False) -> None:
    """Budget views, columns, snapshots and detail rows of one project."""
    vid = 7700 + int(p) % 100
    # [spec RestV10BudgetViewsGet200ResponseInner.md; real view names]
    r[(f"{V}/budget_views", p)] = [{"id": vid - 1, "name": "Buyout view"},
                                   {"id": vid, "name": "Procore Standard Budget View"}]
    # [spec …BudgetDetailColumnsGet200ResponseInner.md; real: ids such as "3141780", only
    # standard and source columns]
    shown = {c: n for c, n in DISPLAY.items() if c not in CALCULATED}
    if budget_changes:
        shown["budget_changes"] = "Budget Changes"
    r[(f"{V}/budget_views/{vid}/budget_detail_columns", p)] = [
        {"id": str(3141780 + k), "name": name} for k, name in enumerate(
            [*shown.values(), "Unit of Measure"], 1)]

    def rows(b: pd.DataFrame) -> list[dict]:
        """[real snippets/budgets.ipynb: display-name keys with string amounts, budget_forecast
        {amount, notes}, wbs_code {flat_code, description "Name.Labor"}, category "Labor",
        cost_code "CODE - Name"; spec detail-row model: biller, biller_id, biller_type]"""
        out = []
        for x in b.itertuples():
            sub = x.sub_job != ""
            flat = f"{x.sub_job + '.' if sub else ''}{x.cost_code_raw}.{x.cost_type}"
            kind = TYPE_NAMES.get(x.cost_type, x.cost_type)
            row = {"id": next(seq), "cost_code": f"{x.cost_code_raw} - {x.description}",
                   "category": kind,
                   "wbs_code": {"id": next(seq), "flat_code": flat,
                                "description": f"{x.description}.{kind}"},
                   "biller": f"{x.sub_job} - East Wing" if sub else "Harbor Ridge project",
                   "biller_id": 77 if sub else int(p),
                   "biller_type": "SubJob" if sub else "Project",
                   "original_budget_amount": money(x.original_budget),
                   "budget_modifications": money(0 if budget_changes else x.budget_modifications),
                   "budget_forecast": {"amount": money(x.forecast_to_complete), "notes": ""},
                   "Unit of Measure": "ls"}
            row.update({name: money(getattr(x, c)) for c, name in DISPLAY.items()})
            if budget_changes:
                row["Budget Changes"] = money(x.budget_modifications)
            out.append(row)
        return out

    snaps = []
    for k, (period, b) in enumerate(sorted(budget.groupby("period"), key=lambda g: g[0])):
        if period == PERIOD:
            r[(f"{V}/budget_views/{vid}/detail_rows", p)] = rows(b)  # the open month: live
            continue
        sid = next(seq)
        end = pd.Period(period, freq="M").end_time
        view = {"id": vid, "name": "Procore Standard Budget View"}
        # [spec RestV10BudgetViewSnapshotsGet200ResponseInner.md: id, name, created_at,
        # budget_view {id}]
        if k == 1:  # no period in the name: taken on the 2nd of the next month
            snaps.append({"id": sid, "name": "Close", "budget_view": view, "created_at":
                          f"{end + pd.Timedelta(days=2):%Y-%m-%d}T01:00:00Z"})
        else:
            snaps.append({"id": sid, "name": f"{period} month-end", "budget_view": view,
                          "created_at": f"{end:%Y-%m-%d}T23:30:00Z"})
        r[(f"{V}/budget_view_snapshots/{sid}/detail_rows", p)] = rows(b)
        if k == 0:  # an earlier, superseded snapshot of the same month: must lose
            old = next(seq)
            snaps.insert(0, {"id": old, "name": f"{period} draft", "budget_view": view,
                             "created_at": f"{end - pd.Timedelta(days=3):%Y-%m-%d}T12:00:00Z"})
            r[(f"{V}/budget_view_snapshots/{old}/detail_rows", p)] = rows(
                b.assign(forecast_to_complete=0))
            # a later snapshot of the same month, of another view: must never stand in
            other = next(seq)
            snaps.append({"id": other, "name": f"{period} month-end",
                          "budget_view": {"id": vid - 1, "name": "Buyout view"},
                          "created_at": f"{end + pd.Timedelta(days=1):%Y-%m-%d}T12:00:00Z"})
            r[(f"{V}/budget_view_snapshots/{other}/detail_rows", p)] = rows(
                b.assign(forecast_to_complete=123_456_00))
    nxt = next(seq)  # a snapshot after the period pulled: ignored
    snaps.append({"id": nxt, "name": "2026-11 month-end", "created_at": "2026-11-30T23:00:00Z",
                  "budget_view": {"id": vid, "name": "Procore Standard Budget View"}})
    r[(f"{V}/budget_view_snapshots/{nxt}/detail_rows", p)] = []
    r[(f"{V}/budget_view_snapshots", p)] = snaps


# -- the fake server -------------------------------------------------------------------------------

@dataclass
class FakeClock:
    now: float = 1_790_000_000.0
    slept: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Faults:
    rate_limit_at: dict[int, float] = field(default_factory=dict)  # API call # -> reset after
    # API call # -> (seconds to the reset, X-Rate-Limit-Limit) of a 429
    spike_at: dict[int, tuple[float, int]] = field(default_factory=dict)
    retry_after_503: dict[int, int] = field(default_factory=dict)  # API call # -> Retry-After
    no_paging: set[str] = field(default_factory=set)  # paths answered whole, whatever the page
    unavailable_at: set[int] = field(default_factory=set)  # API call # -> 503 once
    revoke_at: int | None = None  # API call # at which live tokens are revoked
    forbid: set[str] = field(default_factory=set)  # paths answered 403
    replace: dict[str, object] = field(default_factory=dict)  # path -> payload to serve instead
    token_ttl: float = 3600.0


class FakeProcore:
    def __init__(self, api: dict, clock: FakeClock, faults: Faults | None = None):
        self.api, self.clock, self.faults = api, clock, faults or Faults()
        self.tokens: dict[str, float] = {}
        self.calls = 0
        self.token_calls = 0
        self.unauthorized = 0
        self.log: list[tuple[str, dict, dict]] = []
        self.server = HTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    def __enter__(self) -> "FakeProcore":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: object, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                fake.token_calls += 1
                if (form.get("grant_type") != ["client_credentials"]
                        or form.get("client_id") != [CLIENT_ID]
                        or form.get("client_secret") != [SECRET]):
                    return self._send(401, {"error": "invalid_client",
                                            "error_description": "Client authentication failed"})
                token = f"tok-{fake.token_calls}-abcdef123456"
                fake.tokens[token] = fake.clock.time() + fake.faults.token_ttl
                self._send(200, {"access_token": token, "token_type": "bearer",
                                 "expires_in": int(fake.faults.token_ttl),
                                 "created_at": int(fake.clock.time())})

            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.log.append((url.path, query, dict(self.headers)))
                fake.calls += 1
                n, f = fake.calls, fake.faults
                reset = int(fake.clock.time()) + 600
                rate = {"X-Rate-Limit-Limit": "3600", "X-Rate-Limit-Remaining": "3000",
                        "X-Rate-Limit-Reset": str(reset)}
                if f.revoke_at is not None and n >= f.revoke_at:
                    fake.tokens.clear()
                    f.revoke_at = None
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if fake.tokens.get(token, 0) <= fake.clock.time():
                    fake.unauthorized += 1
                    return self._send(401, {"errors": "401 Unauthorized"}, rate)
                if self.headers.get("Procore-Company-Id") != str(CID):
                    return self._send(403, {"errors": "wrong company"}, rate)
                if n in f.rate_limit_at:
                    wait = f.rate_limit_at.pop(n)
                    return self._send(429, {"errors": "rate limited"}, {
                        **rate, "X-Rate-Limit-Remaining": "0",
                        "X-Rate-Limit-Reset": str(int(fake.clock.time() + wait))})
                if n in f.spike_at:
                    wait, limit = f.spike_at.pop(n)
                    return self._send(429, {"errors": "rate limited"}, {
                        "X-Rate-Limit-Limit": str(limit), "X-Rate-Limit-Remaining": "0",
                        "X-Rate-Limit-Reset": str(int(fake.clock.time() + wait))})
                if n in f.unavailable_at:
                    f.unavailable_at.discard(n)
                    return self._send(503, {"errors": "Service Unavailable"}, rate)
                if n in f.retry_after_503:
                    return self._send(503, {"errors": "Service Unavailable"},
                                      {**rate, "Retry-After": str(f.retry_after_503.pop(n))})
                if url.path in f.forbid:
                    return self._send(403, {"errors": "You do not have access to this tool"},
                                      rate)
                project = query.get("project_id")
                key = (url.path, project) if (url.path, project) in fake.api else (url.path, None)
                if url.path == f"{V}/projects" and query.get("filters[by_status]") != "All":
                    # "Return a list of active Projects" unless filters[by_status] says otherwise
                    # [spec CorePortfolioProjectsApi.md]
                    body = [x for x in fake.api[key] if x.get("active")]
                    return self._send(200, body, {**rate, "Total": str(len(body))})
                if url.path in f.replace:
                    body = f.replace[url.path]
                elif key in fake.api:
                    body = fake.api[key]
                else:
                    return self._send(404, {"errors": "404 Not Found"}, rate)
                if not isinstance(body, list) or url.path in f.no_paging:
                    return self._send(200, body, rate)
                page, per = int(query.get("page", 1)), int(query.get("per_page", 100))
                items = body[(page - 1) * per: page * per]
                headers = {**rate, "Per-Page": str(per)}
                if not url.path.endswith("line_item_types"):  # that one sends neither header
                    headers["Total"] = str(len(body))
                last = max(1, -(-len(body) // per))
                if not url.path.endswith(("/vendors", "line_item_types")):
                    def link(pg: int) -> str:
                        # Procore's example Link URLs leave out the project_id the request
                        # carried [doc plan_your_app/pagination.md]
                        q = {k: v for k, v in query.items() if k != "project_id"}
                        return f"<{fake.base}{url.path}?{urlencode({**q, 'page': pg})}>"
                    rels = [f'{link(last)}; rel="last"']
                    if page < last:
                        rels.insert(0, f'{link(page + 1)}; rel="next"')
                    headers["Link"] = ", ".join(rels)
                self._send(200, items, headers)

        return Handler


def make_client(fake: FakeProcore, clock: FakeClock, **kw) -> ProcoreClient:
    return ProcoreClient(CID, Credentials(CLIENT_ID, kw.pop("secret", SECRET)),
                         api_base=fake.base, login_base=fake.base, sleep=clock.sleep,
                         clock=clock.time, **{"per_page": 4, **kw})


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def company(tmp_path_factory):
    tables = company_tables()
    exports = tmp_path_factory.mktemp("exports")
    write_exports(exports, tables)
    settings = Settings.load(exports / "company.yaml")
    expected, problems, _ = read_procore(exports, settings)
    assert not [p for p in problems if p.severity == "error"], problems
    return tables, expected, build_api(tables)


@pytest.fixture(scope="module")
def pulled(company, tmp_path_factory):
    """One pull through every fault: 429s (one resets past the token's life), a 503, a revoked
    token, pages of four."""
    tables, expected, api = company
    clock = FakeClock()
    faults = Faults(rate_limit_at={3: 45.0, 40: 3650.0}, unavailable_at={7}, revoke_at=25)
    steps = []
    with FakeProcore(api, clock, faults) as fake:
        client = make_client(fake, clock)
        result = pull(client, PullSpec(str(CID), PERIOD, timezone=COMPANY_TZ),
                      progress=lambda d, t, label: steps.append((d, t, label)))
    out = tmp_path_factory.mktemp("pulled")
    started = pd.Timestamp("2026-11-02T08:00:00Z").to_pydatetime()
    write_pull(out, result, str(CID), started)
    back, problems, _ = read_procore(out, Settings.load(out / "company.yaml"))
    assert not [p for p in problems if p.severity == "error"], problems
    return result, out, fake, client, clock, steps, back


# -- tests -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["jobs", "prime_contracts", "prime_change_orders", "budget",
                                  "commitments", "commitment_lines", "commitment_change_orders",
                                  "direct_costs", "subcontractor_invoices", "owner_invoices",
                                  "procore_vendors"])
def test_pulled_tables_equal_reading_the_exports(company, pulled, name):
    _, expected, _ = company
    result, *_, back = pulled
    want = canonical(expected, name)
    assert len(want), name
    pd.testing.assert_frame_equal(canonical(result.tables, name), want, check_dtype=True)
    # ... and the folder the pull wrote reads back the same through the export readers.
    pd.testing.assert_frame_equal(canonical(back, name), want, check_dtype=True)


def test_the_pull_went_through_every_fault_and_page(pulled):
    result, out, fake, client, clock, steps, _ = pulled
    # 429s: slept until each reset (+1 s), on the fake clock
    assert 46.0 in clock.slept and 3651.0 in clock.slept
    assert 1.0 in clock.slept  # the 503's backoff, then the retry succeeded
    # one token at the start, one after the revocation (401), one when the long wait outlived it
    assert client.tokens_fetched == 3 and fake.unauthorized == 1
    assert all(h.get("Procore-Company-Id") == str(CID) for _, _, h in fake.log)
    paths = [p for p, _, _ in fake.log]
    assert paths.count(f"{V}/vendors") > 1 and paths.count(f"{V}/line_item_types") > 1
    pages = [q.get("page") for p, q, _ in fake.log if p.endswith("detail_rows")]
    assert "2" in pages  # budget detail rows spanned pages
    assert steps[-1][0] == steps[-1][1] == 5 + 11 * 3  # the progress bar reached its total
    assert any("Commited Costs" in w for w in result.warnings)  # the misspelt column, accepted
    assert sorted(result.live_budgets) == [(j, PERIOD) for j in sorted(result.tables["jobs"]
                                                                       ["job_id"])]


def test_the_pulled_folder_validates_with_its_erp_exports(company, pulled, tmp_path, capsys):
    tables, _, _ = company
    _, out, *_ = pulled
    folder = tmp_path / "co"
    shutil.copytree(out, folder)
    write_erp_parts(folder, tables)
    assert main(["validate", str(folder)]) == 0
    assert "OK: the company folder is valid." in capsys.readouterr().out


def test_cli_pull_prints_no_secret(company, tmp_path, monkeypatch, capsys):
    tables, expected, api = company
    job = str(tables["jobs"]["job_id"].iloc[-1])
    clock = FakeClock()
    with FakeProcore(api, clock) as fake:
        monkeypatch.setenv("PROCORE_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("PROCORE_CLIENT_SECRET", SECRET)
        monkeypatch.setenv("PROCORE_API_BASE", fake.base)
        monkeypatch.setenv("PROCORE_LOGIN_BASE", fake.base)
        code = main(["pull-procore", "--company", str(CID), "--projects", job,
                     "--period", PERIOD, "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    text = captured.out + captured.err
    assert SECRET not in text and "tok-" not in text
    assert "Pulled 1 project(s)" in captured.out
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert (tmp_path / "procore" / "budget" / job / f"{PERIOD}.csv") in files
    for f in files:
        assert SECRET not in f.read_text(encoding="utf-8", errors="ignore")


def test_incremental_pull_of_one_project_keeps_the_rest(company, pulled, tmp_path):
    tables, expected, api = company
    result, out, *_ = pulled
    folder = tmp_path / "co"
    shutil.copytree(out, folder)
    # a controller set a sliding retainage rule the API cannot express: the pull keeps it
    pc_file = folder / "procore" / "prime_contracts.csv"
    pc = pd.read_csv(pc_file, dtype=str, keep_default_na=False)
    pc.loc[0, "Retainage Rule"] = "sliding:10>5@50"
    pc.to_csv(pc_file, index=False)
    state = FolderState.load(folder)
    assert state.company_id == str(CID) and state.pulled_at is not None
    frozen = frozen_budgets(folder, state)
    assert frozen and all(p < PERIOD for _, p in frozen)
    job = str(tables["jobs"]["job_id"].iloc[0])
    clock = FakeClock()
    with FakeProcore(api, clock) as fake:
        client = make_client(fake, clock)
        spec = PullSpec(str(CID), PERIOD, projects=(job,), since=state.pulled_at,
                        frozen_budgets=frozen)
        again = pull(client, spec)
        write_pull(folder, again, str(CID), state.pulled_at)
    paths = [p for p, _, _ in fake.log]
    assert not any("budget_view_snapshots/" in p for p in paths)  # frozen months not refetched
    assert not any(p.endswith("/line_items") and "contracts/" in p for p in paths)  # unchanged
    vendors = [q for p, q, _ in fake.log if p == f"{V}/vendors"]
    assert all("filters[updated_at]" in q for q in vendors)
    back, problems, _ = read_procore(folder, Settings.load(folder / "company.yaml"))
    assert not [p for p in problems if p.severity == "error"]
    for name in ("jobs", "budget", "commitments", "commitment_lines", "procore_vendors",
                 "prime_change_orders", "owner_invoices"):
        pd.testing.assert_frame_equal(canonical(back, name), canonical(expected, name))
    assert back["prime_contracts"]["retainage_rule"].iloc[0] == "sliding:10>5@50"


def test_403_says_which_tool_and_that_the_app_may_not_be_connected(company):
    _, _, api = company
    clock = FakeClock()
    pid = api[(f"{V}/projects", None)][0]["id"]
    path = f"{V}/projects/{pid}/direct_costs"
    with FakeProcore(api, clock, Faults(forbid={path})) as fake:
        with pytest.raises(PermissionDenied) as err:
            pull(make_client(fake, clock, per_page=100), PullSpec(str(CID), PERIOD))
    msg = str(err.value)
    assert path in msg and "Direct Costs" in msg and "not connected" in msg
    assert "You do not have access to this tool" in msg and SECRET not in msg


def test_a_company_the_app_is_not_connected_to(company):
    _, _, api = company
    clock = FakeClock()
    with FakeProcore(api, clock) as fake:
        with pytest.raises(PermissionDenied, match="sees only these companies: 17"):
            pull(make_client(fake, clock), PullSpec("555", PERIOD))


def test_wrong_secret_is_a_credentials_error_that_shows_no_secret(company):
    _, _, api = company
    clock = FakeClock()
    wrong = "wrong-secret-abcdef-000111"
    with FakeProcore(api, clock) as fake:
        with pytest.raises(CredentialsError) as err:
            make_client(fake, clock, secret=wrong).get(f"{V}/companies")
    msg = str(err.value)
    assert "PROCORE_CLIENT_SECRET" in msg and wrong not in msg and CLIENT_ID not in msg
    assert CLIENT_ID[-4:] in msg


def test_missing_credentials_name_the_variable_not_the_value():
    with pytest.raises(CredentialsError, match="PROCORE_CLIENT_SECRET not set"):
        Credentials.from_env({"PROCORE_CLIENT_ID": CLIENT_ID})
    creds = Credentials(CLIENT_ID, SECRET)
    assert SECRET not in repr(creds) and SECRET not in str(creds)
    client = ProcoreClient(CID, creds, api_base="http://127.0.0.1:9")
    assert SECRET not in repr(client) and CLIENT_ID not in repr(client)


def test_unknown_project_and_unknown_path_are_not_found(company):
    _, _, api = company
    clock = FakeClock()
    with FakeProcore(api, clock) as fake:
        with pytest.raises(NotFound, match="project\\(s\\) 31337 not found"):
            pull(make_client(fake, clock), PullSpec(str(CID), PERIOD, projects=("31337",)))
        with pytest.raises(NotFound, match="404"):
            make_client(fake, clock).get(f"{V}/projects/1/nothing_here")


def test_unexpected_shapes_are_clear_errors(company):
    _, _, api = company
    clock = FakeClock()
    with FakeProcore(api, clock, Faults(replace={f"{V}/vendors": {"data": []}})) as fake:
        with pytest.raises(ResponseShapeError, match="dict where a list of objects"):
            pull(make_client(fake, clock), PullSpec(str(CID), PERIOD))
    bad = [{"id": 1, "name": "X", "origin_id": "V1", "is_active": "perhaps"}]
    one = (str(api[(f"{V}/projects", None)][0]["id"]),)
    with FakeProcore(api, clock, Faults(replace={f"{V}/vendors": bad})) as fake:
        with pytest.raises(ResponseShapeError, match="record 1, field is_active"):
            pull(make_client(fake, clock, per_page=100), PullSpec(str(CID), PERIOD, one))


def test_5xx_retried_with_backoff_then_given_up(company):
    _, _, api = company
    clock = FakeClock()
    with FakeProcore(api, clock, Faults(unavailable_at={1, 2, 3})) as fake:
        client = make_client(fake, clock, max_retries=2)
        with pytest.raises(ServerError, match="HTTP 503"):
            client.get(f"{V}/companies")
    assert clock.slept == [1.0, 2.0]


def test_budget_columns_resolve_aliases_and_misspellings():
    cols = [{"id": "a", "name": "Revised  budget"}, {"id": "b", "name": "Commited Costs"},
            {"id": "c", "name": "Forecast to Complete"}, {"id": "d", "name": "JTD Costs"},
            {"id": "e", "name": "Direct Cost"}]
    got = resolve_columns("Standard", cols)
    assert got.columns["revised_budget"] == ("Revised  budget", "a")
    assert got.columns["committed_costs"][0] == "Commited Costs"
    assert got.columns["job_to_date_costs"][0] == "JTD Costs"
    assert got.columns["direct_costs"][0] == "Direct Cost"
    assert set(got.guessed) == {"committed_costs", "direct_costs"}
    # budget_detail_columns leaves calculated columns (Revised Budget...) out [real]: a view whose
    # list lacks one is a hint to complete from the rows, never a refusal
    hint = resolve_columns("Buyout", [{"id": "x", "name": "Committed Costs"}])
    assert "revised_budget" not in hint.columns


def test_snapshot_periods():
    assert snapshot_period("2026-09 month-end", "2026-10-02") == "2026-09"
    assert snapshot_period("September 2026 close", None) == "2026-09"
    assert snapshot_period("Close", "2026-10-02") == "2026-09"
    assert snapshot_period("Close", "2026-09-30") == "2026-09"
    assert snapshot_period("Close", None) is None


# -- each mismatch of procore-checked.md, against the spec-shaped fake -----------------------------

def variant(api: dict, key: tuple[str, str | None], edit) -> dict:
    """A copy of the fake's payloads with one answer changed by ``edit`` (a deep copy of it)."""
    out = dict(api)
    out[key] = edit(json.loads(json.dumps(api[key])))
    return out


def project_ids(api: dict) -> list[str]:
    return [str(x["id"]) for x in api[(f"{V}/projects", None)] if x.get("project_number")]


def test_every_documented_field_was_read_where_procore_puts_it(company, pulled):
    """The equality of the tables above proves each read (procore-checked.md section G): direct
    cost lines joined by ``holder.id`` and vendors read from the ``vendor`` string; owner invoices
    tied by ``contract.id``; requisition periods from ``requisition_start``/``requisition_end``
    and, for one, the billing period at ``/projects/{id}/billing_periods``; commitment change
    orders coded from their package's lines; budgets with calculated columns absent from
    ``budget_detail_columns``, a Budget Changes company and a sub job given as ``biller``; prime
    contracts' pending change orders from the show call. Here: that the requests went there."""
    result, out, fake, *_ = pulled
    paths = [p for p, _, _ in fake.log]
    queries = {p: q for p, q, _ in fake.log}
    ids = project_ids(company[2])
    assert all(f"{V}/projects/{i}/billing_periods" in paths for i in ids)
    assert f"{V}/billing_periods" not in paths
    assert any(p.startswith(f"{V}/change_order_packages/") for p in paths)
    assert not any("/commitment_change_orders/" in p for p in paths)  # no show calls
    assert any(p.startswith(f"{V}/prime_contract/") for p in paths)
    assert queries[f"{V}/projects"].get("filters[by_status]") == "All"
    rows = [q for p, q, _ in fake.log if p.endswith("/detail_rows")]
    assert rows and all(q.get("budget_row_type") == "all" for q in rows)
    assert not any("filters[budget_view_id]" in q for p, q, _ in fake.log)  # not a documented one
    # Link URLs without project_id: the second page was still asked for the same project
    second = [q for p, q, _ in fake.log if p.endswith("/detail_rows") and q.get("page") == "2"]
    assert second and all(q.get("project_id") for q in second)
    # the sub job came as biller "01 - East Wing" on a SubJob row
    budget = result.tables["budget"]
    assert set(budget.loc[budget["sub_job"] != "", "sub_job"]) == {"01"}
    # descriptions without the ".Labor" Procore appends in wbs_code.description
    assert not budget["description"].str.contains(r"\.(?:Labor|Materials|Subcontracts)$").any()


def test_a_snapshot_of_another_view_never_stands_in(company, pulled):
    result, *_ = pulled
    # the Buyout view's later snapshot of 2026-08 carried FTC 123,456.00 on every line
    assert not (result.tables["budget"]["forecast_to_complete"] == 123_456_00).any()
    assert sum("snapshot(s) of other views" in w for w in result.warnings) == 3


def test_status_labels_come_from_mapped_to_status(pulled, tmp_path):
    result, out, *_ = pulled
    assert result.status_labels == {TENANT_LABEL: "approved"}
    assert Settings.load(out / "company.yaml").status_labels == {TENANT_LABEL: "approved"}


def test_received_and_closed_purchase_orders_are_not_committed(company):
    """A PO Received is a pending cost change, a Closed one is not in the budget; Partially
    Received is committed [support "What are the default commitment statuses in Procore?"]."""
    tables, _, api = company
    p = project_ids(api)[0]
    key = (f"{V}/purchase_order_contracts", p)
    statuses = ["Received", "Closed", "Partially Received"]

    def edit(pos):
        assert len(pos) >= 1
        for k, po in enumerate(pos):
            po["status"] = statuses[k % 3]
        return pos

    api2 = variant(api, key, edit)
    clock = FakeClock()
    with FakeProcore(api2, clock) as fake:
        result = pull(make_client(fake, clock, per_page=100),
                      PullSpec(str(CID), PERIOD, projects=(p,), timezone=COMPANY_TZ))
    com = result.tables["commitments"]
    fam = dict(zip(com["status"], com["status_family"]))
    want = {"Received": "pending", "Closed": "excluded", "Partially Received": "committed"}
    assert {s: fam[s] for s in fam if s in want} == {s: want[s] for s in fam if s in want}


def test_inactive_projects_are_found_and_named_when_not_pulled(company):
    """``/projects`` lists only active projects without ``filters[by_status]=All`` [spec]; an
    inactive job can be named, and the default pull says which it left out."""
    tables, _, api = company
    job = str(tables["jobs"]["job_id"].iloc[-1])
    api2 = variant(api, (f"{V}/projects", None), lambda ps: [
        {**x, "active": False} if x.get("project_number") == job else x for x in ps])
    clock = FakeClock()
    with FakeProcore(api2, clock) as fake:
        named = pull(make_client(fake, clock, per_page=100),
                     PullSpec(str(CID), PERIOD, projects=(job,), timezone=COMPANY_TZ))
        assert list(named.tables["jobs"]["job_id"]) == [job]
        assert named.tables["jobs"]["status"].iloc[0] in ("inactive", "complete")
        default = pull(make_client(fake, clock, per_page=100),
                       PullSpec(str(CID), PERIOD, timezone=COMPANY_TZ))
    assert job not in set(default.tables["jobs"]["job_id"])
    assert any(f"2 inactive project(s) not pulled ({job}, Bid project)" in w
               for w in default.warnings)


def test_a_change_order_approved_at_830_pm_on_october_31_in_denver_is_october(company):
    """8:30 pm MDT on Oct 31 is 02:30 UTC on Nov 1 [doc: Procore timestamps are UTC]; the
    project's time zone (Rails name, as the API gives it [real projects.ipynb]) makes it Oct 31;
    a project without one takes the company's, and without either it is read in UTC, said."""
    tables, _, api = company
    p = project_ids(api)[0]
    key = (f"{V}/projects/{p}/prime_change_orders", None)
    late = variant(api, key, lambda cos: [{**cos[0], "status": "approved",
                                           "reviewed_at": "2026-11-01T02:30:00Z"}])

    def approved(zone_name: str | None, company_tz: str | None) -> tuple[str, list[str]]:
        api2 = variant(late, (f"{V}/projects", None), lambda ps: [
            {**x, "time_zone": zone_name} if str(x["id"]) == p else x for x in ps])
        clock = FakeClock()
        with FakeProcore(api2, clock) as fake:
            got = pull(make_client(fake, clock, per_page=100),
                       PullSpec(str(CID), PERIOD, projects=(p,), timezone=company_tz))
        co = got.tables["prime_change_orders"]
        return f"{co['approved_date'].iloc[0]:%Y-%m-%d}", got.warnings

    assert approved("Mountain Time (US & Canada)", None)[0] == "2026-10-31"
    assert approved("Mountain Time (US & Canada)", "UTC")[0] == "2026-10-31"  # the project's wins
    assert approved(None, "America/Denver")[0] == "2026-10-31"  # the company's
    day_, warnings = approved(None, None)
    assert day_ == "2026-11-01" and any("read as UTC dates" in w for w in warnings)


def test_503_retry_after_is_waited_out(company):
    """Under heavy load Procore answers 503 with Retry-After, the seconds to wait [doc
    plan_your_app/rate_limiting.md]."""
    _, _, api = company
    clock = FakeClock()
    with FakeProcore(api, clock, Faults(retry_after_503={1: 30})) as fake:
        body = make_client(fake, clock).get(f"{V}/companies")
    assert clock.slept == [30.0] and body[1]["id"] == CID


def test_the_10_second_spike_limit_waits_seconds_not_an_hour(company):
    """Two limits since Jan 2026, hourly and a 10-second spike one; the headers report whichever
    is closer (example limit 25) [doc plan_your_app/rate_limiting.md]."""
    _, _, api = company
    clock = FakeClock()
    with FakeProcore(api, clock, Faults(spike_at={1: (10.0, 25)})) as fake:
        make_client(fake, clock).get(f"{V}/companies")
    assert clock.slept == [11.0]  # until the reset, + 1 s


def test_per_page_is_at_most_2000(company, tmp_path, capsys):
    """"We recommend keeping per_page at or below 2,000" [doc plan_your_app/pagination.md]."""
    _, _, api = company
    clock = FakeClock()
    with FakeProcore(api, clock) as fake:
        make_client(fake, clock, per_page=10_000).list(f"{V}/vendors", {"company_id": CID})
    assert {q["per_page"] for p, q, _ in fake.log} == {"2000"}
    assert main(["pull-procore", "--company", str(CID), "--period", PERIOD, "--out",
                 str(tmp_path), "--per-page", "5000"]) != 0
    assert "page size out of range" in capsys.readouterr().err


def test_a_list_that_does_not_page_is_read_once(company):
    """Procore's spec lists no paging for the change order lists [spec
    ConstructionFinancialsChangeOrdersPrimeChangeOrdersApi.md]: an endpoint that answers every
    page alike ends after the first."""
    _, _, api = company
    clock = FakeClock()
    same = [{"id": k, "number": f"{k:03d}"} for k in range(1, 5)]
    path = f"{V}/projects/1/prime_change_orders"
    with FakeProcore(api, clock, Faults(replace={path: same}, no_paging={path})) as fake:
        got = make_client(fake, clock, per_page=4).list(path)
    assert got == same
    assert [q.get("page") for p, q, _ in fake.log] == ["1", "2"]


def test_month_end_of_the_pulled_folder_equals_the_exports_to_the_cent(company, tmp_path,
                                                                      monkeypatch, capsys):
    """``wip pull-procore`` into a company folder (its company.yaml and ERP exports in place)
    writes a folder that ``wip validate`` accepts, and the month-end computed from it equals the
    one computed from the equivalent Procore exports, figure for figure."""
    from wip_lib.close.period import compute_period
    from wip_lib.sources.readers import load_company

    tables, _, api = company
    exports, pulled_dir = tmp_path / "exports", tmp_path / "pulled"
    write_exports(exports, tables, erp=True)
    pulled_dir.mkdir()
    shutil.copyfile(exports / "company.yaml", pulled_dir / "company.yaml")
    write_erp_parts(pulled_dir, tables)
    clock = FakeClock()
    with FakeProcore(api, clock) as fake:
        monkeypatch.setenv("PROCORE_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("PROCORE_CLIENT_SECRET", SECRET)
        monkeypatch.setenv("PROCORE_API_BASE", fake.base)
        monkeypatch.setenv("PROCORE_LOGIN_BASE", fake.base)
        assert main(["pull-procore", "--company", str(CID), "--period", PERIOD,
                     "--out", str(pulled_dir)]) == 0
    assert main(["validate", str(pulled_dir)]) == 0
    assert "OK: the company folder is valid." in capsys.readouterr().out
    want = compute_period(load_company(exports), PERIOD)
    got = compute_period(load_company(pulled_dir), PERIOD)
    assert len(want.wip.schedule) == len(tables["jobs"])
    key = ["job_id"]
    pd.testing.assert_frame_equal(got.wip.schedule.sort_values(key).reset_index(drop=True),
                                  want.wip.schedule.sort_values(key).reset_index(drop=True))
    assert got.wip.totals() == want.wip.totals()
    pd.testing.assert_frame_equal(got.wip.journal.reset_index(drop=True),
                                  want.wip.journal.reset_index(drop=True))
