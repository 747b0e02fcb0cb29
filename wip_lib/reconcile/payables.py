"""The subcontractor side: Procore requisitions against ERP AP, and their payment state."""
from __future__ import annotations

import pandas as pd

from wip_lib.reconcile.core import ReconContext, findings, money_text, norm_doc, register

APPROVED_STATUSES = {"approved", "approved_as_noted"}
_KEY = ["job_id", "_inv"]


def _requisitions(ctx: ReconContext) -> pd.DataFrame:
    p = ctx.table("subcontractor_invoices")
    return p.assign(_inv=norm_doc(p["invoice_number"]),
                    _st=p["status"].str.strip().str.lower(),
                    _approved=p["approved_date"].fillna(p["billing_date"]))


def _commitment_code(ctx: ReconContext, df: pd.DataFrame) -> pd.Series:
    """The cost code of each row's commitment (from its schedule of values) when it has one."""
    lines = ctx.table("commitment_lines")
    one = (lines.groupby(["job_id", "commitment_number"], as_index=False)
           .agg(_codes=("cost_code", "nunique"), _code=("cost_code", "first")))
    one = one.loc[one["_codes"] == 1, ["job_id", "commitment_number", "_code"]]
    got = df[["job_id", "commitment"]].merge(one, left_on=["job_id", "commitment"],
                                             right_on=["job_id", "commitment_number"], how="left")
    return pd.Series(got["_code"].fillna("").to_numpy(), index=df.index, dtype="string")


def _ap(ctx: ReconContext) -> pd.DataFrame:
    e = ctx.table("erp_ap_invoices")
    return e.assign(_inv=norm_doc(e["invoice_number"]))


@register("subcontractor_invoices")
def subcontractor_invoices(ctx: ReconContext):
    """Requisitions approved in Procore by the period end vs ERP AP: missing, amount, retainage."""
    p = _requisitions(ctx)
    p = p.loc[p["_st"].isin(APPROVED_STATUSES) & ctx.in_scope(p["_approved"])]
    e = _ap(ctx)
    e_in = e.loc[e["period"] <= ctx.period]
    pa = (p.groupby(_KEY, as_index=False)
          .agg(invoice_number=("invoice_number", "first"), vendor=("vendor_name", "first"),
               commitment=("commitment_number", "first"),
               gross=("work_completed_this_period", "sum"),
               retainage=("retainage_this_period", "sum"), approved=("_approved", "min"),
               erp_status=("erp_status", "first")))
    ea = (e_in.groupby(_KEY, as_index=False)
          .agg(e_gross=("amount", "sum"), e_retainage=("retainage_held", "sum"),
               e_vendor=("vendor_name", "first")))
    later = (e.loc[e["period"] > ctx.period].groupby(_KEY, as_index=False)
             .agg(later_period=("period", "min")))
    m = pa.merge(ea, on=_KEY, how="left", indicator=True).merge(later, on=_KEY, how="left")
    m["reference"] = m["invoice_number"]
    m["cost_code"] = _commitment_code(ctx, m)
    out = []

    miss = m.loc[m["_merge"] == "left_only"].copy()
    if len(miss):
        booked_later = miss["later_period"].notna()
        miss["procore_amount"] = miss["gross"]
        miss["erp_amount"] = 0
        miss["days_waiting"] = ctx.days_waiting(miss["approved"])
        miss["action"] = ("Enter " + miss["vendor"] + " invoice " + miss["invoice_number"] + " ("
                          + money_text(miss["gross"]) + ", retainage "
                          + money_text(miss["retainage"]) + ") in ERP AP for " + ctx.period
                          + ", or accrue it.")
        miss["action"] = miss["action"].mask(
            booked_later, miss["vendor"] + " invoice " + miss["invoice_number"] + " was approved "
            "in Procore by " + ctx.period + " but entered in ERP AP in "
            + miss["later_period"].fillna("") + ": accrue it in " + ctx.period + ".")
        miss["detail"] = ("Approved in Procore "
                          + miss["approved"].dt.strftime("%Y-%m-%d").fillna("") + " on "
                          + miss["commitment"] + ", ERP sync state " + miss["erp_status"])
        sev = pd.Series("error", index=miss.index).mask(booked_later, "warning")
        out.append(findings(ctx, "subcontractor_invoices", miss, severity=sev))

    both = m.loc[m["_merge"] == "both"]
    amt = both.loc[both["gross"] != both["e_gross"]].copy()
    if len(amt):
        amt["procore_amount"] = amt["gross"]
        amt["erp_amount"] = amt["e_gross"]
        amt["action"] = ("Correct " + amt["vendor"] + " invoice " + amt["invoice_number"]
                         + " in ERP AP to the approved " + money_text(amt["gross"]) + " gross.")
        amt["detail"] = ("Gross amount: Procore " + money_text(amt["gross"]) + ", ERP "
                         + money_text(amt["e_gross"]) + " (" + amt["commitment"] + ")")
        out.append(findings(ctx, "subcontractor_invoices", amt))
    ret = both.loc[both["retainage"] != both["e_retainage"]].copy()
    if len(ret):
        ret["procore_amount"] = ret["retainage"]
        ret["erp_amount"] = ret["e_retainage"]
        ret["reference"] = ret["invoice_number"] + " retainage"
        ret["action"] = ("Correct the retainage held on " + ret["vendor"] + " invoice "
                         + ret["invoice_number"] + " in ERP AP to " + money_text(ret["retainage"])
                         + " (retainage payable).")
        ret["detail"] = ("Retainage held: Procore " + money_text(ret["retainage"]) + ", ERP "
                         + money_text(ret["e_retainage"]))
        out.append(findings(ctx, "subcontractor_invoices", ret))
    if not out:
        return findings(ctx, "subcontractor_invoices", None), []
    return pd.concat(out, ignore_index=True), []


@register("payments")
def payments(ctx: ReconContext):
    """ERP AP invoices paid by the period end whose Procore requisition still shows unpaid."""
    e = _ap(ctx)
    net = e["amount"] - e["retainage_held"]
    paid = e.loc[(e["amount_paid"] > 0) & (e["amount_paid"] >= net)
                 & e["paid_date"].notna() & ctx.in_scope(e["paid_date"])]
    ea = (paid.groupby(_KEY, as_index=False)
          .agg(erp_amount=("amount_paid", "sum"), paid_date=("paid_date", "max"),
               e_vendor=("vendor_name", "first")))
    p = _requisitions(ctx)
    p = p.loc[p["payment_status"].str.strip().str.lower() == "unpaid"]
    pa = (p.groupby(_KEY, as_index=False)
          .agg(invoice_number=("invoice_number", "first"), vendor=("vendor_name", "first"),
               commitment=("commitment_number", "first")))
    m = pa.merge(ea, on=_KEY)
    if m.empty:
        return findings(ctx, "payments", None), []
    m["procore_amount"] = 0
    m["reference"] = m["invoice_number"]
    m["cost_code"] = _commitment_code(ctx, m)
    m["days_waiting"] = ctx.days_waiting(m["paid_date"])
    m["action"] = ("Record the payment of " + m["vendor"] + " invoice " + m["invoice_number"]
                   + " in Procore (or re-sync payments): the ERP paid "
                   + money_text(m["erp_amount"]) + " on "
                   + m["paid_date"].dt.strftime("%Y-%m-%d") + ".")
    m["detail"] = ("Procore payment status unpaid on " + m["commitment"] + "; ERP paid in full "
                   "net of retainage")
    return findings(ctx, "payments", m, severity="warning"), []
