"""The subcontractor side: Procore requisitions against ERP AP, both ways, and their payment state.

- :func:`subcontractor_invoices`: requisitions approved in Procore by the period end against the
  AP invoices of the periods through it, matched by job and invoice number (compared as
  :func:`~wip_lib.reconcile.core.norm_doc` writes them). Procore to the ERP: approved and not in AP
  (an error; a warning when AP booked it in a later period), gross amount, retainage held. The ERP
  to Procore: an AP invoice on a subcontract with no requisition approved in Procore by the period
  end (an error when Procore has no requisition with that number at all, a warning when it has one
  not yet approved by then). AP invoices on purchase orders are not looked for in Procore:
  purchase orders are invoiced in the ERP.
- :func:`payments`: payment state both ways: paid in full in the ERP by the period end while
  Procore shows the requisition unpaid; shown paid in Procore while the ERP has paid nothing.
- :func:`invoice_differences`: per commitment, the differences the invoice findings report
  (``procore - erp``, retainage left out), which the commitment check's invoiced-to-date
  comparison does not report twice.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core.grouping import aggregate
from wip_lib.reconcile.core import ReconContext, findings, money_text, norm_doc, register
from wip_lib.reconcile.frames import outer

APPROVED_STATUSES = {"approved", "approved_as_noted"}
_KEY = ["job_id", "_inv"]


def _requisitions(ctx: ReconContext) -> pd.DataFrame:
    p = ctx.table("subcontractor_invoices")
    return p.assign(_inv=norm_doc(p["invoice_number"]),
                    commitment_number=p["commitment_number"].str.strip(),
                    _st=p["status"].str.strip().str.lower(),
                    _approved=p["approved_date"].fillna(p["billing_date"]))


def approved_requisitions(ctx: ReconContext) -> pd.DataFrame:
    """Requisitions approved in Procore by the period end (approval date, else billing date)."""
    p = _requisitions(ctx)
    return p.loc[p["_st"].isin(APPROVED_STATUSES) & ctx.in_scope(p["_approved"])]


def _commitment_code(ctx: ReconContext, df: pd.DataFrame) -> pd.Series:
    """The cost code of each row's commitment (from its schedule of values) when it has one."""
    lines = ctx.table("commitment_lines")
    one = aggregate(lines, ["job_id", "commitment_number"], as_index=False,
                    _codes=("cost_code", "nunique"), _code=("cost_code", "first"))
    one = one.loc[one["_codes"] == 1, ["job_id", "commitment_number", "_code"]]
    got = df[["job_id", "commitment"]].merge(one, left_on=["job_id", "commitment"],
                                             right_on=["job_id", "commitment_number"], how="left")
    return pd.Series(got["_code"].fillna("").to_numpy(), index=df.index, dtype="string")


def _ap(ctx: ReconContext) -> pd.DataFrame:
    e = ctx.table("erp_ap_invoices")
    return e.assign(_inv=norm_doc(e["invoice_number"]),
                    commitment_number=e["commitment_number"].fillna("").str.strip())


def subcontracts(ctx: ReconContext) -> pd.DataFrame:
    """``job_id, commitment_number`` of every subcontract either system holds."""
    rows = []
    for name in ("commitments", "erp_commitments"):
        t = ctx.table(name)
        sub = t["commitment_type"].fillna("").str.strip().str.lower() == "subcontract"
        rows.append(t.loc[sub, ["job_id", "commitment_number"]]
                    .assign(commitment_number=lambda d: d["commitment_number"].str.strip()))
    return pd.concat(rows, ignore_index=True).drop_duplicates().reset_index(drop=True)


def invoice_match(ctx: ReconContext) -> pd.DataFrame:
    """Approved requisitions (by the period end) and AP invoices (through the period) by job and
    invoice number, outer-joined: one row per invoice with ``gross``, ``retainage`` (Procore),
    ``e_gross``, ``e_retainage`` (ERP), ``commitment`` (Procore's, else AP's), ``_merge`` and
    ``later_period`` (the first later period AP booked it in). Computed once per context."""
    return ctx.cached("invoice_match", lambda: _invoice_match(ctx))


def _invoice_match(ctx: ReconContext) -> pd.DataFrame:
    p = approved_requisitions(ctx)
    e = _ap(ctx)
    e_in = e.loc[(e["period"] <= ctx.period).to_numpy(bool)]
    pa = aggregate(p, _KEY, as_index=False, invoice_number=("invoice_number", "first"),
                   vendor=("vendor_name", "first"), commitment=("commitment_number", "first"),
                   gross=("work_completed_this_period", "sum"),
                   retainage=("retainage_this_period", "sum"), approved=("_approved", "min"),
                   erp_status=("erp_status", "first"))
    ea = aggregate(e_in, _KEY, as_index=False, e_gross=("amount", "sum"),
                   e_retainage=("retainage_held", "sum"), e_vendor=("vendor_name", "first"),
                   e_invoice=("invoice_number", "first"),
                   e_commitment=("commitment_number", "first"), e_date=("invoice_date", "min"),
                   e_period=("period", "min"))
    later = aggregate(e.loc[(e["period"] > ctx.period).to_numpy(bool)], _KEY, as_index=False,
                      later_period=("period", "min"))
    m = outer(pa, ea, _KEY).merge(later, on=_KEY, how="left")
    m["commitment"] = m["commitment"].fillna(m["e_commitment"]).fillna("").astype("string")
    m["invoice_number"] = m["invoice_number"].fillna(m["e_invoice"]).astype("string")
    m["vendor"] = m["vendor"].fillna(m["e_vendor"]).fillna("").astype("string")
    for c in ("gross", "retainage", "e_gross", "e_retainage"):
        m[c] = m[c].fillna(0).astype("int64")
    return m


def _erp_only(ctx: ReconContext, m: pd.DataFrame) -> pd.DataFrame:
    """AP invoices (through the period) on a subcontract with no requisition approved in Procore
    by the period end; ``p_status``/``p_approved`` describe a Procore requisition of that number
    when one exists."""
    eo = m.loc[m["_merge"] == "right_only"]
    eo = eo.merge(subcontracts(ctx).rename(columns={"commitment_number": "commitment"}),
                  on=["job_id", "commitment"])
    if eo.empty:
        return eo
    anyp = aggregate(_requisitions(ctx), _KEY, as_index=False, p_status=("status", "first"),
                     p_approved=("_approved", "max"))
    return eo.merge(anyp, on=_KEY, how="left")


def invoice_differences(ctx: ReconContext) -> pd.DataFrame:
    """``job_id, commitment_number, explained``: per commitment, the sum of the gross
    differences (``procore - erp``) that :func:`subcontractor_invoices` reports: approved in
    Procore and not in AP, gross amounts that differ, AP invoices on a subcontract that Procore
    has not approved."""
    m = invoice_match(ctx)
    diff = m.loc[(m["_merge"] == "left_only")
                 | ((m["_merge"] == "both") & (m["gross"] != m["e_gross"])),
                 ["job_id", "commitment", "gross", "e_gross"]]
    eo = _erp_only(ctx, m)
    parts = [diff, eo[["job_id", "commitment", "gross", "e_gross"]]] if len(eo) else [diff]
    d = pd.concat(parts, ignore_index=True)
    d = d.assign(explained=(d["gross"] - d["e_gross"]).astype("int64"))
    out = (d.groupby(["job_id", "commitment"], as_index=False)["explained"].sum()
           .rename(columns={"commitment": "commitment_number"}))
    out["explained"] = out["explained"].astype("int64")
    return out


@register("subcontractor_invoices")
def subcontractor_invoices(ctx: ReconContext):
    """Requisitions approved in Procore by the period end vs ERP AP, both ways: missing, amount,
    retainage, AP invoices on a subcontract with no approved requisition."""
    m = invoice_match(ctx)
    m = m.assign(reference=m["invoice_number"], cost_code=_commitment_code(ctx, m))
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

    # The ERP to Procore: AP invoices on a subcontract that Procore has not approved.
    eo = _erp_only(ctx, m)
    if len(eo):
        eo = eo.assign(cost_code=_commitment_code(ctx, eo))
        known = eo["p_status"].notna().to_numpy(bool)
        eo["reference"] = eo["invoice_number"]
        eo["procore_amount"] = 0
        eo["erp_amount"] = eo["e_gross"]
        eo["days_waiting"] = ctx.days_waiting(eo["e_date"])
        eo["action"] = ("Find " + eo["vendor"] + " invoice " + eo["invoice_number"] + " ("
                        + money_text(eo["e_gross"]) + ") on " + eo["commitment"] + " in Procore, "
                        "where subcontractor invoices originate, and approve it there, or reverse "
                        "it in ERP AP: Procore has no such requisition.")
        eo["action"] = eo["action"].mask(
            known, eo["vendor"] + " invoice " + eo["invoice_number"] + " was booked in ERP AP "
            "before Procore approved it: approve it in Procore or reverse it in AP until it is "
            "approved.")
        eo["detail"] = ("ERP AP " + money_text(eo["e_gross"]) + " on subcontract "
                        + eo["commitment"] + " in " + eo["e_period"].fillna("")
                        + "; no requisition approved in Procore by " + ctx.period)
        p_when = eo["p_approved"].dt.strftime("%Y-%m-%d").fillna("")
        eo["detail"] = eo["detail"].mask(
            known, eo["detail"] + " (Procore: " + eo["p_status"].fillna("").astype("string")
            + ", " + p_when + ")")
        sev = pd.Series("error", index=eo.index).mask(pd.Series(known, index=eo.index),
                                                      "warning")
        out.append(findings(ctx, "subcontractor_invoices", eo, severity=sev))
    if not out:
        return findings(ctx, "subcontractor_invoices", None), []
    return pd.concat(out, ignore_index=True), []


@register("payments")
def payments(ctx: ReconContext):
    """Payment state both ways: paid in full in the ERP by the period end but unpaid in Procore;
    paid in Procore with nothing paid in the ERP."""
    e = _ap(ctx)
    net = e["amount"] - e["retainage_held"]
    paid = e.loc[(e["amount_paid"] > 0) & (e["amount_paid"] >= net)
                 & e["paid_date"].notna() & ctx.in_scope(e["paid_date"])]
    ea = aggregate(paid, _KEY, as_index=False, erp_amount=("amount_paid", "sum"),
                   paid_date=("paid_date", "max"), e_vendor=("vendor_name", "first"))
    req = _requisitions(ctx)
    p = req.loc[req["payment_status"].str.strip().str.lower() == "unpaid"]
    pa = aggregate(p, _KEY, as_index=False, invoice_number=("invoice_number", "first"),
                   vendor=("vendor_name", "first"), commitment=("commitment_number", "first"))
    out = []
    m = pa.merge(ea, on=_KEY)
    if len(m):
        m["procore_amount"] = 0
        m["reference"] = m["invoice_number"]
        m["cost_code"] = _commitment_code(ctx, m)
        m["days_waiting"] = ctx.days_waiting(m["paid_date"])
        m["action"] = ("Record the payment of " + m["vendor"] + " invoice " + m["invoice_number"]
                       + " in Procore (or re-sync payments): the ERP paid "
                       + money_text(m["erp_amount"]) + " on "
                       + m["paid_date"].dt.strftime("%Y-%m-%d") + ".")
        m["detail"] = ("Procore payment status unpaid on " + m["commitment"] + "; ERP paid in "
                       "full net of retainage")
        out.append(findings(ctx, "payments", m, severity="warning"))

    # Procore to the ERP: shown paid in Procore, nothing paid on the AP invoice (AP invoices of
    # the periods through this one; the ERP's payments at any date, so a payment made after the
    # period end is a timing item, not a finding).
    shown = approved_requisitions(ctx)
    shown = shown.loc[shown["payment_status"].str.strip().str.lower() == "paid"]
    sa = aggregate(shown, _KEY, as_index=False, invoice_number=("invoice_number", "first"),
                   vendor=("vendor_name", "first"), commitment=("commitment_number", "first"),
                   due=("amount_due", "sum"), approved=("_approved", "min"))
    e_in = e.loc[(e["period"] <= ctx.period).to_numpy(bool)]
    unpaid = aggregate(e_in, _KEY, as_index=False, _paid=("amount_paid", "sum"))
    unpaid = unpaid.loc[unpaid["_paid"] == 0]
    r = sa.merge(unpaid, on=_KEY)
    if len(r):
        r["procore_amount"] = r["due"]
        r["erp_amount"] = 0
        r["reference"] = r["invoice_number"]
        r["cost_code"] = _commitment_code(ctx, r)
        r["action"] = ("Procore shows " + r["vendor"] + " invoice " + r["invoice_number"]
                       + " paid but ERP AP has paid nothing on it: record the payment in the ERP "
                       "if it was made, else correct Procore's payment status.")
        r["detail"] = ("Procore payment status paid on " + r["commitment"] + " ("
                       + money_text(r["due"]) + " due net of retainage); ERP AP paid $0.00")
        out.append(findings(ctx, "payments", r, severity="warning"))
    if not out:
        return findings(ctx, "payments", None), []
    return pd.concat(out, ignore_index=True), []
