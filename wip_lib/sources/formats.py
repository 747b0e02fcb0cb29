"""Where a company folder keeps each export, and the headers each export carries.

This is the contract between the exports a user downloads (and the sample generator writes) and
the readers. For every Procore export: the file, the canonical table it fills, and for each
canonical column the headers that mean it, en-US first (the header the generator writes), then
the other locales and views. ERP exports are described by profiles (``wip_lib/sources/profiles/*.yaml``).

Company folder layout::

    company.yaml                      name, fiscal year end, current period, ERP profile, GL accounts,
                                      policies, materiality
    procore/projects.csv              -> jobs
    procore/prime_contracts.csv       -> prime_contracts
    procore/prime_contract_lines.csv  -> prime_contract_lines (the prime contract's schedule of
                                         values; optional, for progress billing)
    procore/prime_change_orders.csv   -> prime_change_orders
    procore/budget/JOB/YYYY-MM.csv    -> budget (one export of the schedule's budget view per job
                                         per month-end snapshot, a totals row last); a file named
                                         ``YYYY-MM VIEW NAME.csv`` is a snapshot of that view, read
                                         only when it is ``company.yaml: budget_view``
    procore/commitments.csv           -> commitments
    procore/commitment_lines.csv      -> commitment_lines
    procore/commitment_change_orders.csv -> commitment_change_orders
    procore/direct_costs.csv          -> direct_costs
    procore/subcontractor_invoices.csv -> subcontractor_invoices (one row per invoice; optional)
    procore/subcontractor_invoices/JOB/CONTRACT/APPLICATION.csv
                                      -> subcontractor_invoice_lines (+ the invoice): Procore's
                                         per-invoice CSV, its G703 schedule of values
    procore/owner_invoices.csv        -> owner_invoices (one row per pay application; optional)
    procore/owner_invoices/JOB/CONTRACT/APPLICATION.csv
                                      -> owner_invoice_lines (+ the pay application), the same
    procore/vendors.csv               -> procore_vendors
    erp/...                           files named by the ERP profile (Sage 300 CRE by default)
    crosswalk.csv                     -> cost_code_crosswalk (optional)
    uninstalled_materials.csv         -> uninstalled_materials (optional; policy
                                         uninstalled_materials: file)
    answer_key.csv                    planted situations (sample company only)

Company-wide Procore exports carry the project in a ``Project Number`` column. Any export may be
``.csv`` or ``.xlsx`` (same stem).

Which headers are Procore's own (sources in ``../shared/domain/procore-checked.md``, section E):
the Standard budget view exports ``Sub Job, Division, Cost Code, Cost Type`` (or, in the newer
layout, one ``Description`` column holding the budget code and its description) and
``Pending Budget`` (en-CA) / ``Pending Budget Changes`` (en-GB); companies on Budget Changes have a
``Budget Changes`` column where others have ``Budget Modifications``. The Contracts tab of
Commitments has ``Payments Received`` (every locale) and ``Invoiced`` (en-GB ``Issued``, en-AU
``Progress Claimd`` as Procore spells it). Change order tables have ``Date Initiated`` and
``Review Date``. Subcontractor and owner invoices have no list CSV (the list exports to PDF); each
invoice exports its own CSV, the AIA G703 schedule of values (:data:`G703`). The tier columns
``Cost Code Tier 1..3`` and ``Budget Code`` of today's files stay readable. Dates in Procore exports follow ``company.yaml: procore_locale``
(en-US ``MM/DD/YYYY``; en-GB and en-AU ``DD/MM/YYYY``); ISO ``YYYY-MM-DD`` is always accepted.
"""
from __future__ import annotations

from dataclasses import dataclass

PROJECT = ["Project Number", "Project #", "Job Number", "Job #", "Project No."]
ERP = {
    "erp_status": ["ERP Status", "Accounting Status", "Sync Status"],
    "erp_status_date": ["ERP Status Date", "ERP Status Updated"],
    "origin_id": ["Origin ID", "Origin Id", "ERP ID"],
}
# Procore's default cost types, name -> code [data-shapes.md "Cost codes and cost types"]; a
# company's own come from /line_item_types in the API.
PROCORE_COST_TYPES = {"equipment": "E", "labor": "L", "materials": "M", "other": "O",
                      "owner cost": "OC", "commitment": "S", "subcontract": "S",
                      "professional services": "SVC"}

# Columns of Procore's change order tables the workbook does not read [support "View a Prime
# Contract's Change Orders"].
CO_TABLE_EXTRA = ("Revision", "Due Date", "Designated Reviewer", "PCOs")

#: AIA G703 (continuation sheet) columns of Procore's per-invoice CSV export, canonical line column
#: -> headers. Matched by header text, never by column letter: words in brackets ("(D+E)") and a
#: leading column letter ("G. ") are ignored, so "Total Completed and Stored to Date (D+E+F)"
#: reads as ``total_completed_to_date``.
G703 = {
    "item_number": ["Item No.", "Item No", "Item #", "Item", "No."],
    "budget_code": ["Budget Code", "Cost Code"],
    "description": ["Description of Work", "Description", "Description of work"],
    "scheduled_value": ["Scheduled Value", "Scheduled Values"],
    "from_previous_application": ["From Previous Application",
                                  "Work Completed From Previous Application",
                                  "Work Completed: From Previous Application",
                                  "Previous Application", "From Previous Claim"],
    "this_period": ["This Period", "Work Completed This Period", "Work Completed: This Period",
                    "This Claim"],
    "materials_stored": ["Materials Presently Stored", "Materials Presently Stored not in D or E",
                         "Materials Stored"],
    "total_completed_to_date": ["Total Completed and Stored to Date",
                                "Total Completed & Stored to Date",
                                "Total Completed and Stored To Date"],
    "balance_to_finish": ["Balance to Finish", "Balance To Finish"],
    "retainage": ["Retainage", "Retention", "Retainage to Date", "Retention to Date"],
}
#: G703 columns read but not kept: the percent complete (G / C) is derived.
G703_DERIVED = ("%", "% Complete", "Percent Complete", "G/C", "% G/C", "G/C %")


@dataclass(frozen=True, slots=True)
class ExportFormat:
    table: str
    path: str  # relative to the company folder, without extension; JOB/PERIOD are placeholders
    headers: dict[str, list[str]]  # canonical column -> accepted headers (first: en-US, written)
    # Headers Procore writes that the workbook does not need (read without a warning).
    ignored: tuple[str, ...] = ()


#: The totals of a pay application (subcontractor invoice or owner invoice), as Procore's lists
#: label them per locale.
PAY_APP_TOTALS = {
    "work_completed_this_period": ["Work Completed This Period", "Progress Claimed This Period"],
    "total_completed_to_date": ["Total Completed and Stored to Date", "Progress Claimed",
                                "Progress Claimed to Date", "Total Completed & Stored to Date"],
    "retainage_this_period": ["Retainage This Period", "Retention This Period"],
    "retainage_to_date": ["Total Retainage", "Retainage to Date", "Retention to Date",
                          "Total Retention"],
    "amount_due": ["Current Payment Due", "Amount Due", "Amount Payable"],
}


PROCORE_EXPORTS: dict[str, ExportFormat] = {
    "jobs": ExportFormat("jobs", "procore/projects", {
        "job_id": PROJECT,
        "job_name": ["Name", "Project Name", "Job Name"],
        "status": ["Stage", "Status", "Project Stage"],
        "start_date": ["Start Date", "Construction Start Date"],
        "completion_date": ["Completion Date", "Actual Completion Date", "Projected Finish Date"],
        "customer": ["Owner", "Owner/Client", "Client"],
        "project_manager": ["Project Manager", "PM"],
        "procore_project_id": ["Project ID", "Procore ID"],
        "erp_status": ERP["erp_status"],
        # not a canonical column: the project's own time zone for its Procore timestamps
        "time_zone": ["Time Zone", "Timezone", "Project Time Zone"],
    }),
    "prime_contracts": ExportFormat("prime_contracts", "procore/prime_contracts", {
        "job_id": PROJECT,
        "contract_number": ["#", "Contract #", "Number", "Head Contract #"],
        "owner": ["Owner/Client", "Client", "Owner"],
        "title": ["Title"],
        "status": ["Status"],
        "executed": ["Executed"],
        "original_amount": ["Original Contract Amount", "Original Contract Sum",
                            "Original Head Contract Amount", "Original Contract Value"],
        "approved_change_orders": ["Approved Change Orders", "Approved Variations"],
        "pending_change_orders": ["Pending Change Orders", "Pending Variations"],
        "retainage_percent": ["Retainage %", "Retention %", "Retainage Percent"],
        "retainage_rule": ["Retainage Rule", "Retention Rule"],
        "executed_date": ["Execution Date", "Executed Date", "Signed Contract Received Date",
                          "Date Executed"],
        **{k: ERP[k] for k in ("erp_status", "origin_id")},
    }),
    "prime_contract_lines": ExportFormat("prime_contract_lines", "procore/prime_contract_lines", {
        "job_id": PROJECT,
        "contract_number": ["Contract #", "Prime Contract #", "Head Contract #"],
        "line_number": ["Line #", "Line", "Item #", "Item No."],
        "cost_code": ["Cost Code", "Budget Code"],
        "cost_type": ["Cost Type", "Category"],
        "description": ["Description", "Description of Work"],
        "amount": ["Scheduled Value", "Amount"],
    }),
    "prime_change_orders": ExportFormat("prime_change_orders", "procore/prime_change_orders", {
        "job_id": PROJECT,
        "contract_number": ["Contract #", "Prime Contract #", "Head Contract #"],
        "co_number": ["Change Order #", "CO #", "Variation #", "Number"],
        "title": ["Title"],
        "status": ["Status"],
        "amount": ["Amount", "Grand Total", "Total Amount"],
        "created_date": ["Created Date", "Date Created", "Date Initiated"],
        "approved_date": ["Approved Date", "Date Approved", "Reviewed At", "Review Date"],
        **ERP,
    }, ignored=CO_TABLE_EXTRA),
    "budget": ExportFormat("budget", "procore/budget/JOB/PERIOD", {
        "sub_job": ["Sub Job", "Sub-Job"],
        "cost_code_tier_1": ["Cost Code Tier 1"],
        "cost_code_tier_2": ["Cost Code Tier 2"],
        "cost_code_tier_3": ["Cost Code Tier 3"],
        # the Standard view's own code columns (not canonical: the reader derives the cost code)
        "division": ["Division"],
        "standard_cost_code": ["Cost Code"],
        "cost_type": ["Cost Type", "Category"],
        "budget_code": ["Budget Code"],
        "description": ["Budget Code Description", "Description"],
        "original_budget": ["Original Budget Amount", "Original Budget"],
        "budget_modifications": ["Budget Modifications", "Budget Modification", "Budget Changes"],
        "approved_cos": ["Approved COs", "Approved Change Orders", "Approved Variations"],
        "revised_budget": ["Revised Budget", "Current Budget"],
        "pending_budget_changes": ["Pending Budget Changes", "Pending Variations",
                                   "Pending Budget"],
        "projected_budget": ["Projected Budget"],
        "committed_costs": ["Committed Costs", "Committed Cost"],
        "direct_costs": ["Direct Costs"],
        "job_to_date_costs": ["Job to Date Costs", "Job To Date Cost", "JTD Costs"],
        "pending_cost_changes": ["Pending Cost Changes"],
        "projected_costs": ["Projected Costs"],
        "forecast_to_complete": ["Forecast To Complete", "Forecast to Complete", "Cost to Complete"],
        "estimated_cost_at_completion": ["Estimated Cost at Completion", "Estimated Cost At Completion",
                                         "EAC"],
        "projected_over_under": ["Projected over Under", "Projected Over/Under", "Projected Over Under"],
    }),
    "commitments": ExportFormat("commitments", "procore/commitments", {
        "job_id": PROJECT,
        "commitment_number": ["#", "Contract #", "Number"],
        "commitment_type": ["Type", "Contract Type"],
        "vendor_name": ["Contract Company", "Company", "Vendor"],
        "title": ["Title"],
        "status": ["Status"],
        "executed": ["Executed"],
        "original_amount": ["Original Contract Amount", "Original Contract Sum"],
        "approved_change_orders": ["Approved Change Orders", "Approved Variations"],
        "revised_amount": ["Revised Contract Amount", "Revised Contract Sum"],
        "pending_change_orders": ["Pending Change Orders", "Pending Variations"],
        "draft_change_orders": ["Draft Change Orders", "Draft Variations"],
        "invoiced": ["Invoiced", "Progress Claimed", "Billed to Date", "Issued",
                     "Progress Claimd"],
        "payments_issued": ["Payments Issued", "Payments Made", "Payments Received"],
        "remaining_balance": ["Remaining Balance Outstanding", "Remaining Balance"],
        "retainage_percent": ["Retainage %", "Retention %"],
        "retainage_rule": ["Retainage Rule", "Retention Rule"],
        "approved_date": ["Approved Date", "Date Approved"],
        **ERP,
    }, ignored=("% Paid", "Private", "Attachments")),
    "commitment_lines": ExportFormat("commitment_lines", "procore/commitment_lines", {
        "job_id": PROJECT,
        "commitment_number": ["Contract #", "Commitment #"],
        "line_number": ["Line #", "Line", "Item #"],
        "cost_code": ["Cost Code", "Budget Code"],
        "cost_type": ["Cost Type", "Category"],
        "description": ["Description"],
        "amount": ["Amount", "Scheduled Value"],
    }),
    "commitment_change_orders": ExportFormat(
        "commitment_change_orders", "procore/commitment_change_orders", {
            "job_id": PROJECT,
            "commitment_number": ["Contract #", "Commitment #"],
            "co_number": ["Change Order #", "CO #", "Variation #", "Number"],
            "title": ["Title"],
            "status": ["Status"],
            "cost_code": ["Cost Code", "Budget Code"],
            "cost_type": ["Cost Type", "Category"],
            "amount": ["Amount", "Grand Total"],
            "created_date": ["Created Date", "Date Created", "Date Initiated"],
            "approved_date": ["Approved Date", "Date Approved", "Reviewed At", "Review Date"],
            **ERP,
        }, ignored=CO_TABLE_EXTRA),
    "direct_costs": ExportFormat("direct_costs", "procore/direct_costs", {
        "job_id": PROJECT,
        "direct_cost_id": ["Direct Cost ID", "ID"],
        "line_number": ["Line #", "Line"],
        "direct_cost_type": ["Type", "Direct Cost Type"],
        "status": ["Status"],
        "direct_cost_date": ["Date", "Direct Cost Date"],
        "vendor_name": ["Vendor", "Company"],
        "invoice_number": ["Invoice #", "Invoice Number"],
        "description": ["Description"],
        "cost_code": ["Cost Code", "Budget Code"],
        "cost_type": ["Cost Type", "Category"],
        "amount": ["Amount", "Line Amount"],
        "origin_id": ERP["origin_id"],
    }),
    "subcontractor_invoices": ExportFormat("subcontractor_invoices", "procore/subcontractor_invoices", {
        "job_id": PROJECT,
        "commitment_number": ["Contract #", "Commitment #"],
        "vendor_name": ["Contract Company", "Vendor", "Company"],
        "invoice_number": ["Invoice #", "Invoice Number"],
        "application_number": ["Application #", "Requisition #", "Pay App #", "Claim #"],
        "billing_date": ["Billing Date", "Invoice Date", "Claim Date"],
        "period_start": ["Period Start", "Billing Period Start"],
        "period_end": ["Period End", "Billing Period End"],
        "status": ["Status"],
        "approved_date": ["Approved Date", "Date Approved"],
        **PAY_APP_TOTALS,
        "payment_status": ["Payment Status", "Paid Status"],
        **ERP,
    }),
    "owner_invoices": ExportFormat("owner_invoices", "procore/owner_invoices", {
        "job_id": PROJECT,
        "contract_number": ["Contract #", "Prime Contract #", "Head Contract #"],
        "invoice_number": ["Invoice #", "Invoice Number"],
        "application_number": ["Application #", "Pay App #", "Claim #"],
        "billing_date": ["Billing Date", "Invoice Date", "Claim Date"],
        "period_start": ["Period Start", "Billing Period Start"],
        "period_end": ["Period End", "Billing Period End"],
        "status": ["Status"],
        **PAY_APP_TOTALS,
        "materials_stored": ["Materials Presently Stored", "Stored Materials",
                             "Materials Stored"],
        **ERP,
    }),
    # One CSV per invoice (Procore's "Export a Subcontractor Invoice" / "Export an Owner
    # Invoice"): the path names job, contract and application; the rows are the G703 lines.
    "subcontractor_invoice_lines": ExportFormat(
        "subcontractor_invoice_lines", "procore/subcontractor_invoices/JOB/CONTRACT/APPLICATION",
        G703, ignored=G703_DERIVED),
    "owner_invoice_lines": ExportFormat(
        "owner_invoice_lines", "procore/owner_invoices/JOB/CONTRACT/APPLICATION", G703,
        ignored=G703_DERIVED),
    "procore_vendors": ExportFormat("procore_vendors", "procore/vendors", {
        "vendor_name": ["Company", "Name", "Company Name"],
        "procore_vendor_id": ["Company ID", "ID"],
        "erp_vendor_id": ["ERP Vendor ID", "Origin ID", "Vendor ID"],
        "is_active": ["Active", "Is Active"],
    }),
}

UNINSTALLED = ExportFormat("uninstalled_materials", "uninstalled_materials", {
    "job_id": ["job_id", "Job", "Project Number"],
    "period": ["period", "Period"],
    "amount": ["amount", "Amount", "Uninstalled Materials"],
    "description": ["description", "Description"],
})

CROSSWALK = ExportFormat("cost_code_crosswalk", "crosswalk", {
    "procore_cost_code": ["procore_cost_code", "Procore Cost Code"],
    "erp_cost_code": ["erp_cost_code", "ERP Cost Code"],
    "job_id": ["job_id", "Job", "Project Number"],
})

# Change-order and commitment status families (Procore base statuses; tenants relabel through
# company.yaml: status_labels). Commitments follow where Procore's Standard budget view puts them
# [support "What are the default commitment statuses in Procore?"]: Approved, Complete and
# Partially Received are Committed Costs; Out for Signature, Processing, Submitted and a PO
# Received are Pending Cost Changes; a Closed PO, Draft, Out for Bid, Terminated and Void are not
# in the budget. The API's snake_case spellings read the same.
CO_STATUS_FAMILY = {
    "approved": "approved",
    **{s: "pending" for s in ("pending", "pricing", "not_pricing", "revised", "proceeding",
                              "not_proceeding", "pending_billable", "pending - in review",
                              "pending - revised", "pending - pricing", "pending - proceeding",
                              "pending - not proceeding", "pending - not pricing")},
    **{s: "excluded" for s in ("draft", "no_charge", "no charge", "rejected", "void")},
}
COMMITMENT_STATUS_FAMILY = {
    **{s: "committed" for s in ("approved", "complete", "partially received",
                                "partially_received")},
    **{s: "pending" for s in ("out for signature", "out_for_signature", "processing",
                              "submitted", "received")},
    **{s: "excluded" for s in ("draft", "out for bid", "out_for_bid", "terminated", "void",
                               "closed")},
}
