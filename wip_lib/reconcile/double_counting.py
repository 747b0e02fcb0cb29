"""Double counting: ERP job cost that came back into Procore as direct costs.

With some connectors (Sage 300 CRE) ERP job-cost transactions return to Procore as Direct Costs;
they must be counted once. A Procore direct cost is flagged when its ``origin_id`` is an ERP
job-cost ``row_id``, or when a line has the same job, vendor, invoice number and amount as an ERP
AP cost transaction, or when the whole document's total equals the ERP's for that invoice.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core.grouping import aggregate
from wip_lib.reconcile.core import ReconContext, findings, money_text, norm_doc, norm_name, register

_DOC = ["job_id", "_vendor", "_inv"]


@register("double_counting")
def double_counting(ctx: ReconContext):
    """Procore direct costs that duplicate ERP job-cost transactions."""
    dc = ctx.table("direct_costs")
    dc = dc.loc[(dc["status"].str.strip().str.lower() != "draft")
                & ctx.in_scope(dc["direct_cost_date"])]
    if dc.empty:
        return findings(ctx, "double_counting", None), []
    dc = dc.assign(_vendor=norm_name(dc["vendor_name"]), _inv=norm_doc(dc["invoice_number"]),
                   _origin=dc["origin_id"].fillna("").str.strip())
    jc = ctx.table("erp_job_cost")
    # 1. origin_id is an ERP job-cost row (only rows some direct cost points at are looked at).
    origins = dc.loc[dc["_origin"] != "", "_origin"].unique()
    if len(origins):
        jrow = jc["row_id"].fillna("").str.strip()
        rows = (jc.loc[jrow.isin(origins).to_numpy(), ["amount"]].assign(_row=jrow)
                [["_row", "amount"]].drop_duplicates("_row"))
    else:
        rows = pd.DataFrame({"_row": pd.Series(dtype="string"),
                             "amount": pd.Series(dtype="int64")})
    by_origin = dc[["_origin"]].reset_index().merge(rows, left_on="_origin", right_on="_row")
    origin_hit = dc.index.isin(by_origin["index"])
    # 2. Same job, vendor, invoice number and amount as an ERP AP cost line (names and document
    #    numbers normalised on the AP rows only).
    #    Both matches join on the invoice number: only AP rows carrying an invoice number some
    #    direct cost has can match, so the rest (millions of rows) are set aside first.
    ap = jc.loc[(jc["source"].str.strip().str.upper() == "AP").to_numpy(),
                ["job_id", "vendor_name", "document_number", "amount"]]
    ap = ap.assign(_inv=norm_doc(ap["document_number"]))
    invs = dc.loc[dc["_inv"] != "", "_inv"].unique()
    ap = ap.loc[(ap["_inv"] != "").to_numpy() & ap["_inv"].isin(invs).to_numpy()]
    ap = ap.assign(_vendor=norm_name(ap["vendor_name"]))
    ap_lines = ap[_DOC + ["amount"]].drop_duplicates()
    by_line = (dc.loc[dc["_inv"] != "", _DOC + ["amount"]].reset_index()
               .merge(ap_lines, on=_DOC + ["amount"]))
    line_hit = dc.index.isin(by_line["index"])
    # 3. Same document total.
    ap_docs = ap.groupby(_DOC, as_index=False)["amount"].sum().rename(columns={"amount": "_e"})
    docs = (dc.loc[dc["_inv"] != ""].groupby(["job_id", "direct_cost_id"] + _DOC[1:],
                                               as_index=False)["amount"].sum()
            .merge(ap_docs, on=_DOC))
    docs = docs.loc[docs["amount"] == docs["_e"], ["job_id", "direct_cost_id"]]
    doc_hit = (dc[["job_id", "direct_cost_id"]].merge(docs.assign(_d=True), how="left")["_d"]
               .fillna(False).astype(bool).to_numpy())
    hit = dc.assign(_by_origin=origin_hit, _by_match=line_hit | doc_hit)
    hit = hit.loc[hit["_by_origin"] | hit["_by_match"]]
    if hit.empty:
        return findings(ctx, "double_counting", None), []
    g = aggregate(hit, ["job_id", "direct_cost_id"], as_index=False, amount=("amount", "sum"),
                  vendor=("vendor_name", "first"), invoice=("invoice_number", "first"),
                  origin=("_origin", "first"), by_origin=("_by_origin", "any"),
                  codes=("cost_code", lambda s: ", ".join(sorted(set(s.dropna())))),
                  dtype=("direct_cost_type", "first"))
    g["cost_code"] = g["codes"].where(~g["codes"].str.contains(",", regex=False), "")
    g["reference"] = g["invoice"].fillna("").str.strip()
    g["reference"] = g["reference"].mask(g["reference"] == "", g["direct_cost_id"])
    # The amount Procore counts twice; the ERP already holds it in job cost.
    g["procore_amount"] = g["amount"]
    g["erp_amount"] = 0
    how = pd.Series("same job, vendor, invoice number and amount as an ERP AP cost transaction",
                    index=g.index, dtype="string")
    how = how.mask(g["by_origin"], "origin_id " + g["origin"] + " is an ERP job-cost transaction")
    g["action"] = ("Delete or exclude Procore direct cost " + g["direct_cost_id"] + " ("
                   + g["vendor"].fillna("") + ", " + money_text(g["amount"]) + "): the cost is "
                   "already in ERP job cost and would be counted twice.")
    g["detail"] = ("Direct cost " + g["direct_cost_id"] + " (" + g["dtype"] + "): " + how + "; difference is the amount "
                   "counted twice")
    return findings(ctx, "double_counting", g, severity="error"), []
