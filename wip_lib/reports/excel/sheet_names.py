"""The names of the workbook's sheets, in one place, and their order in the workbook.

A formula on one sheet names another sheet by these constants (see :mod:`.layout`), so renaming a
sheet here renames every reference to it.
"""
from __future__ import annotations

CONTRACTS_IN_PROGRESS = "Contracts in progress"
COMPLETED_CONTRACTS = "Completed contracts"
FADE_AND_GAIN = "Fade and gain"
OVER_UNDER_BILLINGS = "Over-under billings"
JOURNAL_ENTRY = "Journal entry"
COST_TO_COMPLETE = "Cost to complete"
OVERRIDE_LOG = "Override log"
RECONCILIATION_FINDINGS = "Reconciliation findings"
TIE_OUT = "Tie-out"
RETENTION = "Retention held"
NOTES_AND_POLICIES = "Notes and policies"

#: The sheets, as the tabs appear in the workbook.
SHEET_ORDER = (CONTRACTS_IN_PROGRESS, COMPLETED_CONTRACTS, FADE_AND_GAIN, OVER_UNDER_BILLINGS,
               JOURNAL_ENTRY, COST_TO_COMPLETE, OVERRIDE_LOG, RECONCILIATION_FINDINGS, TIE_OUT,
               RETENTION, NOTES_AND_POLICIES)
