"""The canonical tables every calculation reads: one place, readable by a controller.

Readers (Procore exports, ERP exports, Procore's API) produce these tables; recognition, forecast,
reconciliation and the journal entry read only these. ``docs/data-model.md`` is generated from this
module (``wip schema --markdown``) and a test keeps the two in step.

Conventions
-----------
- ``money``: ``int64`` whole cents (``123456`` is $1,234.56). Never a float.
- ``text`` / ``code``: pandas' string dtype. Job numbers and cost codes stay strings ("00123",
  "03-300"); ``code`` columns hold the normalised code and a ``*_raw`` twin keeps it as exported.
- ``date``: ``datetime64``, no time of day. ``period``: accounting period as text ``YYYY-MM``.
- ``rate``: ``float64`` fraction (0.10 is 10%); ``int``: nullable ``Int64``; ``flag``: ``boolean``.
- ``status_family`` columns are derived by the readers from the raw status (kept beside it).
- Provenance: every row a reader produces also carries ``_file`` (path relative to the company
  folder, ``/`` separators) and ``_row`` (1-based row as a spreadsheet shows it; header = 1), so any
  figure can be traced to its source line. Tables built in memory may omit them. The export
  readers' ``_file`` is a categorical: a few names over millions of lines (as text, the job-cost
  export's file name on 5 million rows was 191 MB).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

#: The text kinds' pandas dtype, as an object: a dtype given by name ("string") is looked up in
#: pandas' registry of dtypes on every call (tens of microseconds, a few hundred times a read).
STRING = pd.StringDtype()

KINDS = {
    "text": "string",
    "code": "string",
    "money": "int64",
    "date": "datetime64[us]",
    "period": "string",
    "rate": "float64",
    "int": "Int64",
    "float": "float64",
    "flag": "boolean",
}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str
    doc: str
    required: bool = True  # False: may be absent from an export; filled with the default
    default: object = None

    @property
    def dtype(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    system: str  # "procore", "erp" or "company"
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    checks: tuple[str, ...] = field(default=())  # constraints in words, enforced by validate

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def empty(self) -> pd.DataFrame:
        """No rows, every column with its dtype: built once per table, then copied (a reader
        asks for one per missing or unusable export)."""
        proto = _EMPTY.get(self)
        if proto is None:
            proto = _EMPTY[self] = pd.DataFrame({c.name: pd.Series(dtype=c.dtype)
                                                 for c in self.columns})
        return proto.copy()

    def absent(self, df: pd.DataFrame) -> list[str]:
        """Optional columns without a default (``default=None``) that ``df`` leaves empty (every
        value missing; for money, every value 0): columns an export need not carry, so they are
        neither written nor counted in control totals. Text columns always are (an empty text
        cell and a missing column read differently)."""
        out = []
        for c in self.columns:
            if (c.required or c.default is not None or c.name not in df.columns or df.empty
                    or c.kind in ("text", "code", "period")):
                continue
            v = df[c.name]
            if (v.fillna(0) == 0).all() if c.kind == "money" else v.isna().all():
                out.append(c.name)
        return out


_EMPTY: dict[Table, pd.DataFrame] = {}


def C(name: str, kind: str, doc: str, required: bool = True, default: object = None) -> Column:
    return Column(name, kind, doc, required, default)


ERP_STATUS = C(
    "erp_status", "text",
    "Procore's ERP sync state: not_in_erp, ready_to_export, exporting, failed_to_export, rejected, "
    "invalid, synced, not_integrated", required=False, default="not_integrated")
ERP_STATUS_DATE = C("erp_status_date", "date", "when the ERP sync state last changed", required=False)
ORIGIN_ID = C("origin_id", "text", "ERP key of the object when it came from or went to the ERP",
              required=False)

#: A budget line, the grain of the forecast and of controller overrides (Procore codes).
COST_LINE = ["job_id", "cost_code", "cost_type"]

TABLES: dict[str, Table] = {}


def _t(table: Table) -> Table:
    TABLES[table.name] = table
    return table


JOBS = _t(Table(
    "jobs", "procore", "Procore projects, one per job.",
    (
        C("job_id", "code", "job number, as text (leading zeros kept)"),
        C("job_name", "text", "project name"),
        C("status", "text", "active, complete or inactive"),
        C("start_date", "date", "construction start"),
        C("completion_date", "date", "actual completion, or the scheduled one while active",
          required=False),
        C("customer", "text", "owner / client", required=False, default=""),
        C("project_manager", "text", "PM responsible for the forecast", required=False, default=""),
        C("procore_project_id", "int", "Procore's numeric project id", required=False),
        ERP_STATUS,
    ),
    key=("job_id",),
))

PRIME_CONTRACTS = _t(Table(
    "prime_contracts", "procore", "Prime (owner) contracts; a job may hold several.",
    (
        C("job_id", "code", "job number"),
        C("contract_number", "text", "Procore's contract #"),
        C("title", "text", "contract title", required=False, default=""),
        C("owner", "text", "owner / client", required=False, default=""),
        C("status", "text", "Draft, Out For Signature, Approved, Complete, Terminated"),
        C("executed", "flag", "signed by both parties", required=False, default=False),
        C("original_amount", "money", "original contract sum"),
        C("approved_change_orders", "money", "Procore's total of approved prime COs",
          required=False, default=0),
        C("pending_change_orders", "money", "Procore's total of pending prime COs",
          required=False, default=0),
        C("retainage_percent", "rate", "retainage withheld on billings (0.10 = 10%)",
          required=False, default=0.0),
        C("retainage_rule", "text", "flat, or sliding:10>5@50 (10% until 50% complete, then 5%)",
          required=False, default="flat"),
        C("executed_date", "date", "date signed (Procore execution date or signed contract "
          "received date): the contract counts from it (blank: as its status says)",
          required=False),
        ERP_STATUS, ORIGIN_ID,
    ),
    key=("job_id", "contract_number"),
    checks=("original_amount >= 0",),
))

PRIME_CONTRACT_LINES = _t(Table(
    "prime_contract_lines", "procore",
    "Schedule of values of each prime contract (the owner's SOV, by budget code): the lines of "
    "the original contract sum. Approved prime change orders are billed as lines of their own "
    "(the G703's change order lines), so they are not in these amounts.",
    (
        C("job_id", "code", "job number"),
        C("contract_number", "text", "prime contract"),
        C("line_number", "int", "SOV line (the G703's item no.)"),
        C("cost_code", "code", "normalised cost code the line bills", required=False,
          default=""),
        C("cost_code_raw", "text", "cost code as exported", required=False, default=""),
        C("cost_type", "code", "cost type", required=False, default=""),
        C("description", "text", "description of work", required=False, default=""),
        C("amount", "money", "scheduled value of the line"),
    ),
    key=("job_id", "contract_number", "line_number"),
))

PRIME_CHANGE_ORDERS = _t(Table(
    "prime_change_orders", "procore", "Change orders on prime contracts (owner change orders).",
    (
        C("job_id", "code", "job number"),
        C("contract_number", "text", "prime contract the CO amends"),
        C("co_number", "text", "change order #"),
        C("title", "text", "description", required=False, default=""),
        C("status", "text", "status as the tenant labels it"),
        C("status_family", "text", "approved, pending or excluded (draft, no_charge, rejected, void)"),
        C("amount", "money", "grand total (negative for deducts)"),
        C("created_date", "date", "created", required=False),
        C("approved_date", "date", "reviewed_at when approved", required=False),
        ERP_STATUS, ERP_STATUS_DATE, ORIGIN_ID,
    ),
    key=("job_id", "contract_number", "co_number"),
))

BUDGET = _t(Table(
    "budget", "procore",
    "Budget lines by job, cost code and cost type, one set per monthly snapshot (Procore budget "
    "view snapshots taken at each period end; the latest one is the live budget). Standard view "
    "arithmetic: revised = original + modifications + approved COs; projected budget = revised + "
    "pending budget changes; projected costs = committed + direct + pending cost changes; "
    "estimated cost at completion = projected costs + forecast to complete.",
    (
        C("job_id", "code", "job number"),
        C("period", "period", "snapshot period (YYYY-MM); taken at that month's end"),
        C("sub_job", "text", "Procore sub job (Sage 300 CRE extra)", required=False, default=""),
        C("cost_code", "code", "normalised cost code"),
        C("cost_code_raw", "text", "cost code as exported"),
        C("cost_type", "code", "cost type (L, M, E, S, O, ...)"),
        C("description", "text", "budget code description", required=False, default=""),
        C("original_budget", "money", "original budget amount"),
        C("budget_modifications", "money", "budget modifications", required=False, default=0),
        C("approved_cos", "money", "approved change orders", required=False, default=0),
        C("revised_budget", "money", "revised budget"),
        C("pending_budget_changes", "money", "pending budget changes", required=False, default=0),
        C("projected_budget", "money", "projected budget", required=False, default=0),
        C("committed_costs", "money", "committed costs", required=False, default=0),
        C("direct_costs", "money", "direct costs", required=False, default=0),
        C("job_to_date_costs", "money", "job-to-date cost as synced from the ERP",
          required=False, default=0),
        C("pending_cost_changes", "money", "pending cost changes", required=False, default=0),
        C("projected_costs", "money", "projected costs", required=False, default=0),
        C("forecast_to_complete", "money", "PM's forecast to complete (the ETC)"),
        C("estimated_cost_at_completion", "money", "estimated cost at completion",
          required=False, default=0),
        C("projected_over_under", "money", "projected budget - estimated cost at completion",
          required=False, default=0),
    ),
    key=("job_id", "period", "sub_job", "cost_code", "cost_type"),
))

COMMITMENTS = _t(Table(
    "commitments", "procore", "Subcontracts and purchase orders.",
    (
        C("job_id", "code", "job number"),
        C("commitment_number", "text", "contract #, e.g. SC-0012 or PO-0040"),
        C("commitment_type", "text", "subcontract or purchase_order"),
        C("vendor_name", "text", "contract company"),
        C("title", "text", "title", required=False, default=""),
        C("status", "text", "Draft, Out For Bid, Out For Signature, Approved, Complete, Terminated, "
          "Void; POs: Processing, Submitted, Partially Received, Received, Closed"),
        C("status_family", "text", "committed, pending or excluded"),
        C("executed", "flag", "signed", required=False, default=False),
        C("original_amount", "money", "original contract amount"),
        C("approved_change_orders", "money", "approved COs", required=False, default=0),
        C("revised_amount", "money", "revised contract amount"),
        C("pending_change_orders", "money", "pending COs", required=False, default=0),
        C("draft_change_orders", "money", "draft COs", required=False, default=0),
        C("invoiced", "money", "invoiced to date", required=False, default=0),
        C("payments_issued", "money", "payments issued", required=False, default=0),
        C("remaining_balance", "money", "remaining balance outstanding", required=False, default=0),
        C("retainage_percent", "rate", "retainage withheld", required=False, default=0.0),
        C("retainage_rule", "text", "flat, or sliding:10>5@50 (10% until 50% complete, then 5%)",
          required=False, default="flat"),
        C("approved_date", "date", "date the commitment was approved", required=False),
        ERP_STATUS, ERP_STATUS_DATE, ORIGIN_ID,
    ),
    key=("job_id", "commitment_number"),
    checks=("original_amount >= 0",),
))

COMMITMENT_LINES = _t(Table(
    "commitment_lines", "procore", "Schedule of values of each commitment, by cost code.",
    (
        C("job_id", "code", "job number"),
        C("commitment_number", "text", "commitment"),
        C("line_number", "int", "SOV line"),
        C("cost_code", "code", "normalised cost code"),
        C("cost_code_raw", "text", "cost code as exported"),
        C("cost_type", "code", "cost type"),
        C("description", "text", "line description", required=False, default=""),
        C("amount", "money", "scheduled value of the line (original + approved COs)"),
    ),
    key=("job_id", "commitment_number", "line_number"),
))

COMMITMENT_CHANGE_ORDERS = _t(Table(
    "commitment_change_orders", "procore", "Change orders on subcontracts and purchase orders.",
    (
        C("job_id", "code", "job number"),
        C("commitment_number", "text", "commitment the CO amends"),
        C("co_number", "text", "change order #"),
        C("title", "text", "description", required=False, default=""),
        C("status", "text", "status as the tenant labels it"),
        C("status_family", "text", "approved, pending or excluded"),
        C("cost_code", "code", "normalised cost code"),
        C("cost_code_raw", "text", "cost code as exported"),
        C("cost_type", "code", "cost type"),
        C("amount", "money", "grand total"),
        C("created_date", "date", "created", required=False),
        C("approved_date", "date", "reviewed_at when approved", required=False),
        ERP_STATUS, ERP_STATUS_DATE, ORIGIN_ID,
    ),
    key=("job_id", "commitment_number", "co_number"),
))

DIRECT_COSTS = _t(Table(
    "direct_costs", "procore", "Procore direct cost line items (invoices, expenses, payroll).",
    (
        C("job_id", "code", "job number"),
        C("direct_cost_id", "text", "Procore direct cost id"),
        C("line_number", "int", "line within the direct cost"),
        C("direct_cost_type", "text", "invoice, expense or payroll"),
        C("status", "text", "draft, pending, revise_and_resubmit, approved"),
        C("direct_cost_date", "date", "date of the cost"),
        C("vendor_name", "text", "vendor", required=False, default=""),
        C("invoice_number", "text", "vendor's invoice #", required=False, default=""),
        C("description", "text", "description", required=False, default=""),
        C("cost_code", "code", "normalised cost code"),
        C("cost_code_raw", "text", "cost code as exported"),
        C("cost_type", "code", "cost type"),
        C("amount", "money", "line amount"),
        ORIGIN_ID,
    ),
    key=("job_id", "direct_cost_id", "line_number"),
))

SUBCONTRACTOR_INVOICES = _t(Table(
    "subcontractor_invoices", "procore", "Requisitions: subcontractor pay applications (G702 totals).",
    (
        C("job_id", "code", "job number"),
        C("commitment_number", "text", "subcontract billed"),
        C("vendor_name", "text", "subcontractor"),
        C("invoice_number", "text", "subcontractor's invoice #"),
        C("application_number", "int", "pay application #"),
        C("billing_date", "date", "billing date"),
        C("period_start", "date", "billing period start", required=False),
        C("period_end", "date", "billing period end"),
        C("status", "text", "draft, under_review, revise_and_resubmit, approved, approved_as_noted, "
          "pending_owner_approval"),
        C("approved_date", "date", "date approved", required=False),
        C("work_completed_this_period", "money", "G702: work completed this period (incl. stored)"),
        C("total_completed_to_date", "money", "G702 line 4: total completed and stored to date"),
        C("retainage_this_period", "money", "retainage withheld this period", required=False, default=0),
        C("retainage_to_date", "money", "G702 line 5: total retainage", required=False, default=0),
        C("amount_due", "money", "G702 line 8: current payment due"),
        C("payment_status", "text", "unpaid, partially_paid or paid as Procore shows it",
          required=False, default="unpaid"),
        ERP_STATUS, ERP_STATUS_DATE, ORIGIN_ID,
    ),
    key=("job_id", "commitment_number", "application_number"),
))

OWNER_INVOICES = _t(Table(
    "owner_invoices", "procore", "Payment applications to the owner (AIA G702 totals).",
    (
        C("job_id", "code", "job number"),
        C("contract_number", "text", "prime contract billed"),
        C("invoice_number", "text", "invoice #"),
        C("application_number", "int", "pay application #"),
        C("billing_date", "date", "billing date"),
        C("period_start", "date", "billing period start", required=False),
        C("period_end", "date", "billing period end"),
        C("status", "text", "draft, under_review, approved, ..."),
        C("work_completed_this_period", "money", "work completed this period (incl. stored)"),
        C("total_completed_to_date", "money", "G702 line 4: billed to date, gross of retainage"),
        C("retainage_this_period", "money", "retainage this period", required=False, default=0),
        C("retainage_to_date", "money", "G702 line 5: total retainage", required=False, default=0),
        C("amount_due", "money", "G702 line 8: current payment due"),
        C("materials_stored", "money", "G703 column F: materials presently stored (on site, not "
          "yet installed)", required=False),
        ERP_STATUS, ERP_STATUS_DATE, ORIGIN_ID,
    ),
    key=("job_id", "contract_number", "application_number"),
))

def _g703(contract: str, what: str) -> tuple[Column, ...]:
    return (
        C("job_id", "code", "job number (from the folder the file is in)"),
        C(contract, "text", f"{what} billed (from the folder the file is in)"),
        C("application_number", "int", "pay application # (the file's name)"),
        C("line_number", "int", "line's position in the file (1 = first line)"),
        C("item_number", "text", "G703 column A: item no.", required=False, default=""),
        C("budget_code", "text", "the line's budget code as exported ([SUBJOB.]CODE.TYPE), when "
          "the export has one", required=False, default=""),
        C("description", "text", "G703 column B: description of work", required=False,
          default=""),
        C("scheduled_value", "money", "G703 column C: scheduled value"),
        C("from_previous_application", "money", "G703 column D: work completed from previous "
          "application (D + E of the previous one)", required=False, default=0),
        C("this_period", "money", "G703 column E: work completed this period",
          required=False, default=0),
        C("materials_stored", "money", "G703 column F: materials presently stored (not in D or "
          "E)", required=False, default=0),
        C("total_completed_to_date", "money", "G703 column G: total completed and stored to date "
          "(D + E + F)"),
        C("balance_to_finish", "money", "G703 column H: balance to finish (C - G)",
          required=False, default=0),
        C("retainage", "money", "G703 column I: retainage to date on the line",
          required=False, default=0),
    )


SUBCONTRACTOR_INVOICE_LINES = _t(Table(
    "subcontractor_invoice_lines", "procore",
    "G703 schedule of values of each subcontractor invoice (Procore exports one CSV per invoice). "
    "Each line: G = D + E + F and H = C - G; the invoice's G702 totals are the sums of its lines.",
    _g703("commitment_number", "subcontract"),
    key=("job_id", "commitment_number", "application_number", "line_number"),
))

OWNER_INVOICE_LINES = _t(Table(
    "owner_invoice_lines", "procore",
    "G703 schedule of values of each owner invoice (payment application; one CSV per invoice). "
    "Each line: G = D + E + F and H = C - G; the pay application's G702 totals are the sums of "
    "its lines.",
    _g703("contract_number", "prime contract"),
    key=("job_id", "contract_number", "application_number", "line_number"),
))

PROCORE_VENDORS = _t(Table(
    "procore_vendors", "procore", "Procore company directory entries used as vendors.",
    (
        C("vendor_name", "text", "company name"),
        C("procore_vendor_id", "int", "Procore company id", required=False),
        C("erp_vendor_id", "text", "linked ERP vendor id (origin_id)", required=False, default=""),
        C("is_active", "flag", "active in the directory", required=False, default=True),
    ),
    key=("vendor_name",),
))

ERP_JOBS = _t(Table(
    "erp_jobs", "erp", "Jobs in the ERP with their booked contract amounts.",
    (
        C("job_id", "code", "job number (normalised: trimmed)"),
        C("job_id_raw", "text", "job number as exported (space padded in some ERPs)"),
        C("job_name", "text", "job name", required=False, default=""),
        C("status", "text", "open or closed", required=False, default="open"),
        C("original_contract", "money", "original contract amount booked"),
        C("approved_change_orders", "money", "change orders booked to the contract",
          required=False, default=0),
        C("revised_contract", "money", "contract amount as the ERP holds it"),
    ),
    key=("job_id",),
))

ERP_CONTRACT_CHANGE_ORDERS = _t(Table(
    "erp_contract_change_orders", "erp", "Prime change orders as booked to the ERP contract.",
    (
        C("job_id", "code", "job number"),
        C("co_number", "text", "change order # (Procore's number when it came from Procore)"),
        C("amount", "money", "amount booked"),
        C("posted_date", "date", "date booked"),
        C("period", "period", "accounting period"),
    ),
    key=("job_id", "co_number"),
))

ERP_JOB_COST = _t(Table(
    "erp_job_cost", "erp", "Job-cost transactions: the booked cost (cost to date).",
    (
        C("job_id", "code", "job number"),
        C("sub_job", "text", "extra / sub job", required=False, default=""),
        C("cost_code", "code", "normalised cost code, in the ERP's own code"),
        C("cost_code_raw", "text", "cost code as exported"),
        C("cost_type", "code", "cost type / category"),
        C("source", "text", "AP, PR, JC, EQ (or GL, other)"),
        C("transaction_date", "date", "date of the cost"),
        C("accounting_date", "date", "date posted to the books"),
        C("period", "period", "accounting period (YYYY-MM) the cost belongs to"),
        C("vendor_name", "text", "vendor (AP)", required=False, default=""),
        C("document_number", "text", "invoice / timecard / entry #", required=False, default=""),
        C("description", "text", "description", required=False, default=""),
        C("amount", "money", "cost amount"),
        C("hours", "float", "hours (PR, EQ)", required=False, default=0.0),
        C("commitment_number", "text", "subcontract or PO charged (AP)", required=False, default=""),
        C("row_id", "text", "stable id of the transaction (file:row if the export has none)",
          required=False, default=""),
    ),
    key=("row_id",),
))

ERP_AR_BILLINGS = _t(Table(
    "erp_ar_billings", "erp", "Progress billings booked to AR (billed to date, gross of retainage).",
    (
        C("job_id", "code", "job number"),
        C("invoice_number", "text", "AR invoice #"),
        C("invoice_date", "date", "invoice date"),
        C("period", "period", "accounting period"),
        C("amount_billed", "money", "gross billing (before retainage)"),
        C("retainage", "money", "retainage withheld on it", required=False, default=0),
        C("amount_paid", "money", "cash received against it", required=False, default=0),
        C("description", "text", "description", required=False, default=""),
    ),
    key=("job_id", "invoice_number"),
))

ERP_AP_INVOICES = _t(Table(
    "erp_ap_invoices", "erp", "Vendor invoices in AP, with payment state.",
    (
        C("job_id", "code", "job number"),
        C("vendor_name", "text", "vendor"),
        C("invoice_number", "text", "vendor's invoice #"),
        C("commitment_number", "text", "subcontract or PO", required=False, default=""),
        C("invoice_date", "date", "invoice date"),
        C("period", "period", "accounting period"),
        C("amount", "money", "gross invoice amount"),
        C("retainage_held", "money", "retainage held", required=False, default=0),
        C("amount_paid", "money", "paid to date", required=False, default=0),
        C("paid_date", "date", "date of the last payment", required=False),
    ),
    key=("job_id", "vendor_name", "invoice_number"),
))

ERP_VENDORS = _t(Table(
    "erp_vendors", "erp", "The ERP vendor master.",
    (
        C("vendor_id", "text", "ERP vendor id"),
        C("vendor_name", "text", "vendor name"),
        C("status", "text", "active or inactive", required=False, default="active"),
    ),
    key=("vendor_id",),
))

ERP_COMMITMENTS = _t(Table(
    "erp_commitments", "erp", "Open subcontracts and POs in the ERP.",
    (
        C("job_id", "code", "job number"),
        C("commitment_number", "text", "commitment #"),
        C("commitment_type", "text", "subcontract or purchase_order"),
        C("vendor_name", "text", "vendor"),
        C("status", "text", "open or closed", required=False, default="open"),
        C("original_amount", "money", "original amount"),
        C("approved_change_orders", "money", "change orders booked", required=False, default=0),
        C("revised_amount", "money", "revised amount"),
        C("invoiced", "money", "invoiced to date", required=False, default=0),
    ),
    key=("job_id", "commitment_number"),
))

ERP_COST_CODES = _t(Table(
    "erp_cost_codes", "erp", "The ERP's cost code master (phases).",
    (
        C("cost_code", "code", "normalised code"),
        C("cost_code_raw", "text", "code as exported"),
        C("description", "text", "description", required=False, default=""),
        C("is_active", "flag", "active", required=False, default=True),
        C("is_default", "flag", "a catch-all code (e.g. 99-999 Unassigned)", required=False,
          default=False),
    ),
    key=("cost_code",),
))

GL_BALANCES = _t(Table(
    "gl_balances", "erp", "Balances of the WIP accounts at each closed period end, by job.",
    (
        C("period", "period", "period (YYYY-MM)"),
        C("account", "text", "account number"),
        C("account_name", "text", "account name", required=False, default=""),
        C("job_id", "code", "job (WIP accounts are kept by job)"),
        C("balance", "money", "balance, debit positive"),
    ),
    key=("period", "account", "job_id"),
))

COST_CODE_CROSSWALK = _t(Table(
    "cost_code_crosswalk", "company",
    "Procore cost code to ERP cost code, where the two systems differ (explicit, never guessed).",
    (
        C("procore_cost_code", "code", "normalised Procore code"),
        C("erp_cost_code", "code", "normalised ERP code"),
        C("job_id", "code", "only for this job (blank: every job)", required=False, default=""),
    ),
    key=("job_id", "procore_cost_code"),
))

UNINSTALLED_MATERIALS = _t(Table(
    "uninstalled_materials", "company",
    "Materials on site and not yet installed whose control has passed to the owner, at cost, per "
    "job and period end (uninstalled_materials.csv; read under the uninstalled_materials: file "
    "policy). They are excluded from percent complete and recognised at zero margin.",
    (
        C("job_id", "code", "job number"),
        C("period", "period", "period end (YYYY-MM) the balance is at"),
        C("amount", "money", "cost of the uninstalled materials at that period end"),
        C("description", "text", "what and where", required=False, default=""),
    ),
    key=("job_id", "period"),
    checks=("amount >= 0",),
))


def get(name: str) -> Table:
    return TABLES[name]


def to_markdown() -> str:
    """The data model as a page a controller can read (docs/data-model.md)."""
    out = [
        "# Data model",
        "",
        "Generated from `wip_lib/core/schema.py` by `wip schema --markdown`; do not edit by hand.",
        "",
        (__doc__ or "").split("Conventions\n-----------\n", 1)[-1].strip(),
        "",
    ]
    for system, title in (("procore", "Procore"), ("erp", "ERP"), ("company", "Company settings")):
        out += [f"## {title}", ""]
        for t in TABLES.values():
            if t.system != system:
                continue
            out += [f"### `{t.name}`", "", t.doc, "", f"Key: {', '.join(t.key) or '(none)'}", ""]
            if t.checks:
                out += [f"Constraints: {'; '.join(t.checks)}", ""]
            out += ["| column | kind | required | meaning |", "|---|---|---|---|"]
            for c in t.columns:
                req = "yes" if c.required else f"no (default {c.default!r})"
                out.append(f"| `{c.name}` | {c.kind} | {req} | {c.doc} |")
            out.append("")
    return "\n".join(out)
