"""The owner side: prime change orders and owner invoices (pay apps) against the ERP contract and AR.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core.grouping import aggregate
from wip_lib.reconcile.core import ReconContext, findings, money_text, norm_doc, register
from wip_lib.reconcile.frames import outer

# Owner invoices Procore exports to ERP AR once approved.
BILLED_STATUSES = {"approved", "approved_as_noted", "pending_owner_approval", "paid", "submitted"}
NOT_BILLED_STATUSES = {"draft", "revise_and_resubmit", "void", "rejected"}


@register("prime_change_orders")
def prime_change_orders(ctx: ReconContext):
    """Prime change orders approved in Procore by the period end vs the ERP contract's COs."""
    p = ctx.table("prime_change_orders")
    p = p.assign(co_number=p["co_number"].str.strip(), _co=norm_doc(p["co_number"]))
    e = ctx.table("erp_contract_change_orders")
    e = e.assign(_co=norm_doc(e["co_number"]))
    approved = p.loc[(p["status_family"] == "approved") & ctx.in_scope(p["approved_date"])]
    pa = aggregate(approved, ["job_id", "_co"], as_index=False, co_number=("co_number", "first"),
                   procore_amount=("amount", "sum"), approved_date=("approved_date", "min"),
                   status=("status", "first"), erp_status=("erp_status", "first"),
                   title=("title", "first"))
    e_in = e.loc[e["period"] <= ctx.period]
    ea = aggregate(e_in, ["job_id", "_co"], as_index=False, erp_co=("co_number", "first"),
                   erp_amount=("amount", "sum"), posted=("posted_date", "min"))
    later = aggregate(e.loc[e["period"] > ctx.period], ["job_id", "_co"], as_index=False,
                      later_period=("period", "min"), later_amount=("amount", "sum"))
    m = outer(pa, ea, ["job_id", "_co"])
    out = []

    miss = m.loc[m["_merge"] == "left_only"].merge(later, on=["job_id", "_co"], how="left")
    if len(miss):
        booked_later = miss["later_period"].notna()
        miss["erp_amount"] = 0
        miss["reference"] = miss["co_number"]
        miss["days_waiting"] = ctx.days_waiting(miss["approved_date"])
        miss["action"] = ("Book change order " + miss["co_number"] + " ("
                          + money_text(miss["procore_amount"]) + ") to the job's contract in the "
                          "ERP for " + ctx.period + ": it was approved in Procore on "
                          + miss["approved_date"].dt.strftime("%Y-%m-%d").fillna("?") + ".")
        miss["action"] = miss["action"].mask(
            booked_later, "Change order " + miss["co_number"] + " was approved in Procore by "
            + ctx.period + " but booked in the ERP in " + miss["later_period"].fillna("")
            + ": move it to " + ctx.period + " or accrue the contract revenue.")
        miss["detail"] = ("Procore " + miss["status"] + " '" + miss["title"].fillna("")
                          + "', ERP sync state " + miss["erp_status"].fillna(""))
        sev = pd.Series("error", index=miss.index).mask(booked_later, "warning")
        out.append(findings(ctx, "prime_change_orders", miss, severity=sev))

    both = m.loc[(m["_merge"] == "both") & (m["procore_amount"] != m["erp_amount"])].copy()
    if len(both):
        both["reference"] = both["co_number"]
        both["action"] = ("Correct change order " + both["co_number"] + " in the ERP to Procore's "
                          + money_text(both["procore_amount"]) + ".")
        both["detail"] = ("Procore " + money_text(both["procore_amount"]) + ", ERP "
                          + money_text(both["erp_amount"]) + " booked "
                          + both["posted"].dt.strftime("%Y-%m-%d").fillna(""))
        out.append(findings(ctx, "prime_change_orders", both))

    eo = m.loc[m["_merge"] == "right_only"].copy()
    if len(eo):
        anyp = aggregate(p, ["job_id", "_co"], as_index=False, p_status=("status", "first"),
                         p_family=("status_family", "first"), p_approved=("approved_date", "max"))
        eo = eo.merge(anyp, on=["job_id", "_co"], how="left")
        eo["procore_amount"] = 0
        eo["reference"] = eo["erp_co"]
        eo["action"] = ("Reverse change order " + eo["erp_co"] + " in the ERP, or approve it in "
                        "Procore: the ERP booked it but Procore has no approved change order "
                        "with this number by " + ctx.period + ".")
        eo["detail"] = ("ERP booked " + money_text(eo["erp_amount"]) + " on "
                        + eo["posted"].dt.strftime("%Y-%m-%d").fillna("") + "; Procore: "
                        + eo["p_status"].fillna("no such change order").astype("string"))
        late = eo["p_family"].eq("approved").fillna(False).astype(bool)
        eo["detail"] = eo["detail"].mask(late, eo["detail"] + " (approved "
                                         + eo["p_approved"].dt.strftime("%Y-%m-%d").fillna("")
                                         + ", after the period end)")
        out.append(findings(ctx, "prime_change_orders", eo, severity="warning"))
    if not out:
        return findings(ctx, "prime_change_orders", None), []
    return pd.concat(out, ignore_index=True), []


@register("owner_invoices")
def owner_invoices(ctx: ReconContext):
    """Procore owner invoices (pay apps) vs ERP AR billings, per invoice and billed to date."""
    p = ctx.table("owner_invoices")
    p = p.assign(_inv=norm_doc(p["invoice_number"]), _st=p["status"].str.strip().str.lower())
    p = p.assign(_billed=p["_st"].isin(BILLED_STATUSES))
    p = p.loc[ctx.in_scope(p["billing_date"])]
    e = ctx.table("erp_ar_billings")
    e = e.assign(_inv=norm_doc(e["invoice_number"]))
    e_in = e.loc[e["period"] <= ctx.period]
    billed = p.loc[p["_st"].isin(BILLED_STATUSES)]
    known = p.loc[~p["_st"].isin(NOT_BILLED_STATUSES) | p["_st"].isin(BILLED_STATUSES)]
    pa = aggregate(known, ["job_id", "_inv"], as_index=False,
                   invoice_number=("invoice_number", "first"),
                   procore_amount=("work_completed_this_period", "sum"),
                   billing_date=("billing_date", "min"), status=("status", "first"),
                   billed=("_billed", "any"))
    ea = aggregate(e_in, ["job_id", "_inv"], as_index=False,
                   erp_invoice=("invoice_number", "first"), erp_amount=("amount_billed", "sum"),
                   invoice_date=("invoice_date", "min"))
    m = outer(pa, ea, ["job_id", "_inv"])
    out = []

    miss = m.loc[(m["_merge"] == "left_only") & m["billed"].fillna(False).astype(bool)].copy()
    if len(miss):
        miss["erp_amount"] = 0
        miss["reference"] = miss["invoice_number"]
        miss["days_waiting"] = ctx.days_waiting(miss["billing_date"])
        miss["action"] = ("Book owner invoice " + miss["invoice_number"] + " ("
                          + money_text(miss["procore_amount"]) + " gross) to ERP AR for "
                          + ctx.period + ".")
        miss["detail"] = ("Procore pay app " + miss["status"] + ", billed "
                          + miss["billing_date"].dt.strftime("%Y-%m-%d").fillna("")
                          + "; not in ERP AR through " + ctx.period)
        out.append(findings(ctx, "owner_invoices", miss))

    amt = m.loc[(m["_merge"] == "both") & (m["procore_amount"] != m["erp_amount"])].copy()
    if len(amt):
        amt["reference"] = amt["invoice_number"]
        amt["action"] = ("Correct AR invoice " + amt["invoice_number"] + " in the ERP to the pay "
                         "app's " + money_text(amt["procore_amount"]) + " gross, or revise the "
                         "pay app in Procore.")
        amt["detail"] = ("Gross billing: Procore " + money_text(amt["procore_amount"]) + ", ERP "
                         + money_text(amt["erp_amount"]))
        out.append(findings(ctx, "owner_invoices", amt))

    eo = m.loc[m["_merge"] == "right_only"].copy()
    if len(eo):
        eo["procore_amount"] = 0
        eo["reference"] = eo["erp_invoice"]
        eo["action"] = ("Find the pay app for ERP AR invoice " + eo["erp_invoice"] + " in Procore "
                        "(or create it there), or reverse the AR invoice.")
        eo["detail"] = ("ERP AR " + money_text(eo["erp_amount"]) + " dated "
                        + eo["invoice_date"].dt.strftime("%Y-%m-%d").fillna("")
                        + "; no Procore pay app with this invoice number by " + ctx.period)
        out.append(findings(ctx, "owner_invoices", eo))

    # Billed to date per job: Procore's latest G702 line 4 vs the ERP's billings to date; only the
    # part the invoice findings above do not already explain.
    latest = (billed.sort_values(["job_id", "contract_number", "billing_date",
                                  "application_number"])
              .groupby(["job_id", "contract_number"], as_index=False).last())
    ptd = aggregate(latest, "job_id", as_index=False, p_td=("total_completed_to_date", "sum"))
    etd = aggregate(e_in, "job_id", as_index=False, e_td=("amount_billed", "sum"))
    td = outer(ptd, etd, "job_id", indicator=False).fillna({"p_td": 0, "e_td": 0})
    found = pd.concat(out) if out else findings(ctx, "owner_invoices", None)
    explained = (found.groupby("job_id", as_index=False)["difference"].sum()
                 .rename(columns={"difference": "explained"}))
    td = td.merge(explained, on="job_id", how="left")
    td["explained"] = td["explained"].fillna(0).astype("int64")
    td["residual"] = (td["p_td"] - td["e_td"]).astype("int64") - td["explained"]
    td = td.loc[td["residual"] != 0].copy()
    if len(td):
        td["procore_amount"] = td["residual"]
        td["erp_amount"] = 0
        td["reference"] = "billed to date"
        td["action"] = ("Billed to date differs by " + money_text(td["residual"]) + " beyond the "
                        "invoice differences: compare Procore's latest G702 (line 4) with the "
                        "ERP's AR history for the job.")
        td["detail"] = ("Billed to date: Procore " + money_text(td["p_td"].astype("int64"))
                        + " (latest pay app), ERP " + money_text(td["e_td"].astype("int64"))
                        + "; invoice findings explain " + money_text(td["explained"]))
        out.append(findings(ctx, "owner_invoices", td))
    if not out:
        return findings(ctx, "owner_invoices", None), []
    return pd.concat(out, ignore_index=True), []
