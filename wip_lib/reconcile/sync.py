"""ERP sync state: Procore objects waiting to cross to the ERP, or refused by it."""
from __future__ import annotations

import pandas as pd

from wip_lib.reconcile.core import ReconContext, findings, money_text, register

STUCK = {"ready_to_export": "warning", "failed_to_export": "error", "rejected": "error"}

# table -> (label, reference columns, amount column or None, scope date column or None)
SYNCED_OBJECTS = {
    "jobs": ("project", ["job_id"], None, None),
    "prime_contracts": ("prime contract", ["contract_number"], "original_amount", None),
    "prime_change_orders": ("prime change order", ["co_number"], "amount", "approved_date"),
    "commitments": ("commitment", ["commitment_number"], "revised_amount", "approved_date"),
    "commitment_change_orders": ("commitment change order", ["commitment_number", "co_number"],
                                 "amount", "approved_date"),
    "subcontractor_invoices": ("subcontractor invoice", ["invoice_number"],
                               "work_completed_this_period", "approved_date"),
    "owner_invoices": ("owner invoice", ["invoice_number"], "work_completed_this_period",
                       "billing_date"),
}


@register("sync_state")
def sync_state(ctx: ReconContext):
    """Procore objects ready to export, failed to export or rejected by the ERP."""
    out = []
    for name, (label, ref_cols, amount_col, date_col) in SYNCED_OBJECTS.items():
        t = ctx.table(name)
        st = t["erp_status"].fillna("").str.strip().str.lower()
        keep = st.isin(list(STUCK))
        if date_col:
            keep &= ctx.in_scope(t[date_col])
        t = t.loc[keep]
        if t.empty:
            continue
        st = st.loc[t.index]
        ref = t[ref_cols[0]].astype("string")
        for c in ref_cols[1:]:
            ref = ref + "/" + t[c].astype("string")
        since = (t["erp_status_date"] if "erp_status_date" in t.columns
                 else pd.Series(pd.NaT, index=t.index))
        f = pd.DataFrame({"job_id": t["job_id"], "reference": ref}, index=t.index)
        if amount_col:
            f["procore_amount"] = t[amount_col]
        f["days_waiting"] = ctx.days_waiting(since)
        state = st.str.replace("_", " ")
        f["action"] = ("Export " + label + " " + ref + " to the ERP: an accounting approver must "
                       "accept it in Procore's ERP integrations tool.")
        f["action"] = f["action"].mask(st != "ready_to_export",
                                       "Fix and re-send " + label + " " + ref + ": the ERP "
                                       + st.str.replace("_", " ").str.replace("failed to export",
                                                                              "export failed")
                                       + " it; read the error on Procore's ERP integrations "
                                       "tool, correct the record and export again.")
        days = f["days_waiting"].astype("string").fillna("?")
        f["detail"] = ("ERP sync state " + state + " for " + days + " day(s) at "
                       + ctx.period + " end")
        if amount_col:
            f["detail"] = f["detail"] + "; " + money_text(t[amount_col])
        out.append(findings(ctx, "sync_state", f, severity=st.map(STUCK).astype("string"),
                            exposure=(t[amount_col].abs() if amount_col else None)))
    if not out:
        return findings(ctx, "sync_state", None), []
    return pd.concat(out, ignore_index=True), []
