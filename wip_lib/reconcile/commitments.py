"""Commitments (subcontracts, POs) and their change orders: Procore against the ERP, both ways.

Commitments originate in Procore and cross to the ERP on approval. The commitment check compares,
for commitments approved in Procore by the period end: approved and missing in the ERP, original
amounts, states, commitments in the ERP only, and invoiced to date. The change-order check compares
approved change orders per commitment, so one missing change order is reported once.

Invoiced to date is compared per commitment both systems hold, at the period end by the rule of
:mod:`wip_lib.sources.commitment_invoicing` (Procore: the latest approved requisition's G702 line
4; the ERP: its commitment's invoiced, or its AP invoices on the commitment where the ERP's
commitments export carries no invoiced to date; each cut off at the period end). It is reported where the
two differ by more than the subcontractor-invoice findings on the commitment explain
(:func:`wip_lib.reconcile.payables.invoice_differences`), with the unexplained part as the amount
at stake, so one missing invoice is reported once, by the invoice check.

Change orders and the period end (timing): a change order approved after the period end may
already be in the ERP or not, additions and deducts (negative amounts) alike, so the ERP may hold
the change orders approved by the period end plus any of the later ones. Where it holds exactly
such a figure there is no finding; otherwise Procore's side is the such figure nearest to the
ERP's (the fewest later change orders on a tie) and the difference to it is reported.
A commitment approved after the period end is a timing item as a whole: neither it nor its change
orders are compared.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.core.grouping import aggregate
from wip_lib.reconcile.core import ReconContext, findings, money_text, register
from wip_lib.reconcile.payables import invoice_differences
from wip_lib.sources.commitment_invoicing import erp_invoiced, procore_invoiced

_KEY = ["job_id", "commitment_number"]
_CLOSED_IN_PROCORE = {"complete", "closed", "terminated", "void", "received"}


def _commitments(ctx: ReconContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    p = ctx.table("commitments")
    p = p.assign(commitment_number=p["commitment_number"].str.strip())
    e = ctx.table("erp_commitments")
    e = e.assign(commitment_number=e["commitment_number"].str.strip())
    return p, e


def _approved_cos(ctx: ReconContext) -> pd.DataFrame:
    co = ctx.table("commitment_change_orders")
    co = co.assign(commitment_number=co["commitment_number"].str.strip())
    co = co.loc[co["status_family"] == "approved"]
    return co.assign(_in=ctx.in_scope(co["approved_date"]))


@register("commitments")
def commitments(ctx: ReconContext):
    """Approved Procore commitments missing in the ERP, amount or state mismatches, ERP-only."""
    p, e = _commitments(ctx)
    cos = _approved_cos(ctx)
    later = (cos.loc[~cos["_in"]].groupby(_KEY)["amount"].sum().rename("_later").reset_index())
    p = p.merge(later, on=_KEY, how="left")
    # Procore's amount as at the period end: change orders approved afterwards taken out.
    p["_at_end"] = p["revised_amount"] - p["_later"].fillna(0).astype("int64")
    m = p.merge(e, on=_KEY, how="outer", suffixes=("", "_erp"), indicator=True)
    p_committed = m["_merge"].isin(["left_only", "both"]) & (m["status_family"] == "committed") \
        & ctx.in_scope(m["approved_date"])
    p_committed = p_committed.fillna(False).astype(bool)
    out = []

    # 1. Approved in Procore by the period end, not in the ERP.
    miss = m.loc[p_committed & (m["_merge"] == "left_only")].copy()
    if len(miss):
        miss["procore_amount"] = miss["_at_end"]
        miss["erp_amount"] = 0
        miss["reference"] = miss["commitment_number"]
        miss["days_waiting"] = ctx.days_waiting(miss["approved_date"])
        miss["action"] = ("Export " + miss["commitment_type"].str.replace("_", " ") + " "
                          + miss["commitment_number"] + " (" + miss["vendor_name"]
                          + ") to the ERP: check Procore's ERP sync queue and accept it there.")
        miss["detail"] = ("Approved in Procore (" + miss["status"] + ", ERP sync state "
                          + miss["erp_status"] + ") for " + money_text(miss["_at_end"])
                          + "; the ERP has no commitment with this number")
        out.append(findings(ctx, "commitments", miss))

    both = m.loc[m["_merge"] == "both"].copy()
    # 2. Original amounts differ (change orders are compared by the next check).
    amt = both.loc[p_committed.loc[both.index]
                   & (both["original_amount"] != both["original_amount_erp"])].copy()
    if len(amt):
        amt["procore_amount"] = amt["original_amount"]
        amt["erp_amount"] = amt["original_amount_erp"]
        amt["reference"] = amt["commitment_number"]
        amt["action"] = ("Correct the original amount of " + amt["commitment_number"]
                         + " in the ERP to Procore's " + money_text(amt["original_amount"])
                         + " (Procore owns commitments), or fix Procore if the ERP is right.")
        amt["detail"] = ("Original amount: Procore " + money_text(amt["original_amount"])
                         + ", ERP " + money_text(amt["original_amount_erp"])
                         + "; vendor " + amt["vendor_name"])
        out.append(findings(ctx, "commitments", amt))

    # 3. States disagree.
    pstat = both["status"].str.strip().str.lower()
    erp_closed = both["status_erp"].str.strip().str.lower() == "closed"
    in_committed = p_committed.loc[both.index]
    closed_early = in_committed & erp_closed & ~pstat.isin(_CLOSED_IN_PROCORE)
    open_void = (both["status_family"] == "excluded") & ~erp_closed
    open_pending = (both["status_family"] == "pending") & ~erp_closed
    st = both.loc[(closed_early | open_void | open_pending).fillna(False).astype(bool)].copy()
    if len(st):
        ce = closed_early.loc[st.index]
        ov = open_void.loc[st.index]
        st["procore_amount"] = st["_at_end"]
        st["erp_amount"] = st["revised_amount_erp"]
        st["reference"] = st["commitment_number"]
        st["action"] = ("Close " + st["commitment_number"] + " in Procore or reopen it in the ERP "
                        "so both show the same state.")
        st["action"] = st["action"].mask(ov, "Close " + st["commitment_number"]
                                         + " in the ERP: Procore shows it " + st["status"] + ".")
        st["action"] = st["action"].mask(~ce & ~ov, "Approve " + st["commitment_number"]
                                         + " in Procore or remove it from the ERP: only approved "
                                         "commitments belong in the ERP.")
        st["detail"] = ("Procore status " + st["status"] + ", ERP status " + st["status_erp"])
        out.append(findings(ctx, "commitments", st, severity="warning",
                            exposure=st[["_at_end", "revised_amount_erp"]].abs().max(axis=1)))

    # 4. In the ERP with no Procore counterpart at all.
    eo = m.loc[m["_merge"] == "right_only"].copy()
    if len(eo):
        eo["procore_amount"] = 0
        eo["erp_amount"] = eo["revised_amount_erp"]
        eo["reference"] = eo["commitment_number"]
        eo["action"] = ("Create " + eo["commitment_number"] + " (" + eo["vendor_name_erp"]
                        + ") in Procore, where commitments originate, or close it in the ERP.")
        eo["detail"] = ("ERP " + eo["commitment_type_erp"].str.replace("_", " ") + " "
                        + eo["status_erp"] + " for " + money_text(eo["revised_amount_erp"])
                        + "; no Procore commitment with this number")
        out.append(findings(ctx, "commitments", eo))

    # 5. Invoiced to date (module docstring), both ways.
    inv = _invoiced_to_date(ctx, both.loc[p_committed.loc[both.index], _KEY + ["vendor_name"]])
    if len(inv):
        inv["procore_amount"] = inv["p_end"]
        inv["erp_amount"] = inv["e_end"]
        inv["reference"] = inv["commitment_number"] + " invoiced to date"
        inv["action"] = ("Invoiced to date on " + inv["commitment_number"] + " differs by "
                         + money_text(inv["residual"].abs()) + " beyond the invoice findings: "
                         "compare Procore's requisitions with the ERP's AP and commitment history "
                         "for it, and correct the system that is wrong.")
        inv["detail"] = ("Invoiced to date at " + str(ctx.period_end.date()) + ": Procore "
                         + money_text(inv["p_end"]) + " (" + inv["basis"] + "), ERP "
                         + money_text(inv["e_end"]) + "; invoice findings explain "
                         + money_text(inv["explained"]) + "; vendor " + inv["vendor_name"])
        out.append(findings(ctx, "commitments", inv, exposure=inv["residual"]))
    if not out:
        return findings(ctx, "commitments", None), []
    return pd.concat(out, ignore_index=True), []


def _invoiced_to_date(ctx: ReconContext, pairs: pd.DataFrame) -> pd.DataFrame:
    """For the commitments in ``pairs`` (job_id, commitment_number, vendor_name): Procore's and
    the ERP's invoiced to date at the period end (:mod:`wip_lib.sources.commitment_invoicing`)
    where they differ by more than the invoice findings explain: ``p_end, e_end, explained,
    residual, basis``."""
    if pairs.empty:
        return pairs.iloc[0:0]
    ap = ctx.table("erp_ap_invoices")
    p = procore_invoiced(ctx.table("commitments"), ctx.table("subcontractor_invoices"), ap,
                         ctx.period).rename(columns={"invoiced": "p_end"})[[*_KEY, "p_end",
                                                                            "basis"]]
    e = erp_invoiced(ctx.table("erp_commitments"), ap, ctx.period,
                     has_invoiced=ctx.company.carries("commitments_have_invoiced")).rename(
        columns={"invoiced": "e_end"})
    m = (pairs.merge(p, on=_KEY, how="left").merge(e, on=_KEY, how="left")
         .merge(invoice_differences(ctx), on=_KEY, how="left"))
    for c in ("p_end", "e_end", "explained"):
        m[c] = m[c].fillna(0).astype("int64")
    m["basis"] = m["basis"].fillna("").astype("string")
    m["residual"] = (m["p_end"] - m["e_end"]) - m["explained"]
    return m.loc[(m["p_end"] != m["e_end"]) & (m["residual"] != 0)].copy()


@register("commitment_change_orders")
def commitment_change_orders(ctx: ReconContext):
    """Approved commitment change orders vs the ERP commitment's approved change orders."""
    p, e = _commitments(ctx)
    cos = _approved_cos(ctx)
    if cos.empty and e.empty:
        return findings(ctx, "commitment_change_orders", None), []
    per = aggregate(cos.assign(_in_amt=cos["amount"].where(cos["_in"], 0)), _KEY, as_index=False,
                    p_in=("_in_amt", "sum"), p_all=("amount", "sum"))
    # Only commitments both systems hold (a commitment missing altogether is the other check's),
    # approved by the period end (one approved later is a timing item with its change orders).
    live = p.loc[(p["status_family"] == "committed")
                 & ctx.in_scope(p["approved_date"]).to_numpy(bool), _KEY]
    m = e[_KEY + ["approved_change_orders", "vendor_name"]].merge(live, on=_KEY)
    m = m.merge(per, on=_KEY, how="left")
    for c in ("p_in", "p_all"):
        m[c] = m[c].fillna(0).astype("int64")
    erp = m["approved_change_orders"]
    # The ERP may already hold change orders approved after the period end (additions or
    # deducts): Procore's figure is the one the ERP could hold nearest to its own.
    m["procore_amount"] = _nearest_timing(m, cos.loc[~cos["_in"]])
    m["erp_amount"] = erp
    m = m.loc[m["procore_amount"] != m["erp_amount"]].copy()
    if m.empty:
        return findings(ctx, "commitment_change_orders", None), []
    named = _name_missing_cos(cos.loc[cos["_in"]], m)
    latest = aggregate(cos.loc[cos["_in"]], _KEY, as_index=False, latest=("approved_date", "max"))
    m = m.merge(named, on=_KEY, how="left").merge(latest, on=_KEY, how="left")
    short = m["procore_amount"] > m["erp_amount"]
    # Approved in Procore, missing in the ERP: additions (short) or deducts (the ERP holds more).
    missing = short | m["cos"].notna()
    m["reference"] = (m["commitment_number"] + "/" + m["cos"].fillna("").astype("string"))
    m["reference"] = m["reference"].str.rstrip("/")
    m["cost_code"] = m["codes"].fillna("").astype("string")
    m["days_waiting"] = ctx.days_waiting(m["first"].fillna(m["latest"])).where(missing, pd.NA)
    gap = money_text((m["procore_amount"] - m["erp_amount"]).abs())
    m["action"] = ("Post " + gap + " of approved change orders ("
                   + m["cos"].fillna("see Procore").astype("string") + ") to "
                   + m["commitment_number"] + " in the ERP.")
    m["action"] = m["action"].mask(~short, "The ERP holds " + gap + " more approved change orders "
                                   "on " + m["commitment_number"] + " than Procore has approved: "
                                   "reverse them in the ERP or approve them in Procore.")
    m["action"] = m["action"].mask(~short & m["cos"].notna(),
                                   "Post the approved deduct change order(s) "
                                   + m["cos"].fillna("").astype("string") + " (-" + gap + ") to "
                                   + m["commitment_number"] + " in the ERP.")
    m["detail"] = ("Approved change orders: Procore " + money_text(m["p_in"]) + " by "
                   + str(ctx.period_end.date()) + " (" + money_text(m["p_all"])
                   + " to date), ERP " + money_text(m["erp_amount"]) + "; vendor "
                   + m["vendor_name"])
    return findings(ctx, "commitment_change_orders", m), []


#: Beyond this many change orders approved after the period end on one commitment, the figures
#: the ERP could hold are bounded by [in-period + later deducts, in-period + later additions].
MAX_LATER_COS = 12


def _nearest_timing(m: pd.DataFrame, later: pd.DataFrame) -> pd.Series:
    """Per commitment of ``m`` (p_in, approved_change_orders): of the figures the ERP may hold at
    the period end, ``p_in`` plus any subset of the change orders approved after it (``later``),
    the one nearest to the ERP's (the fewest later change orders on a tie). Only commitments whose
    ERP figure is not ``p_in`` and that have later change orders are looked at one by one (a few
    in a month); with more than :data:`MAX_LATER_COS` the ERP's figure is clipped to the bounds."""
    out = m["p_in"].copy()
    erp = m["approved_change_orders"]
    amounts = later.groupby(_KEY)["amount"].agg(list)
    look = m.loc[(erp != m["p_in"]).to_numpy(bool), _KEY]
    look = look.loc[pd.MultiIndex.from_frame(look).isin(amounts.index)] if len(look) else look
    for i, job, number in look.itertuples():
        extra = [int(a) for a in amounts.loc[(job, number)]]
        target = int(erp.loc[i]) - int(m.at[i, "p_in"])
        if len(extra) > MAX_LATER_COS:
            lo = sum(a for a in extra if a < 0)
            hi = sum(a for a in extra if a > 0)
            best = min(max(target, lo), hi)
        else:
            sums = {0: 0}  # subset sum -> fewest change orders giving it
            for a in extra:
                for total, n in list(sums.items()):
                    if total + a not in sums or sums[total + a] > n + 1:
                        sums[total + a] = n + 1
            best = min(sums, key=lambda v: (abs(v - target), sums[v]))
        out.loc[i] = int(m.at[i, "p_in"]) + best
    return out.astype("int64")


def _name_missing_cos(cos: pd.DataFrame, m: pd.DataFrame) -> pd.DataFrame:
    """The change orders each short commitment most likely lacks in the ERP.

    In order of preference: the approvals Procore shows as not synced, when they add up to the
    shortfall; else a single change order of exactly the shortfall; else the latest approvals
    whose amounts add up to it. Returns job_id, commitment_number, cos, codes, first.
    """
    c = cos.merge(m[_KEY + ["procore_amount", "erp_amount"]], on=_KEY)
    c = c.assign(_short=c["procore_amount"] - c["erp_amount"],
                 _unsynced=~c["erp_status"].fillna("").isin(["synced", "not_integrated"]))
    uns = c.loc[c["_unsynced"]]
    uns_sum = uns.groupby(_KEY)["amount"].transform("sum")
    pick_a = uns.loc[uns_sum == uns["_short"]].assign(_pref=0)
    pick_b = c.loc[c["amount"] == c["_short"]].assign(_pref=1)
    c = c.sort_values(_KEY + ["approved_date", "co_number"], ascending=[True, True, False, False],
                      na_position="last")
    c["_tail"] = c.groupby(_KEY)["amount"].cumsum()
    c["_rank"] = c.groupby(_KEY).cumcount()
    cut = c.loc[c["_tail"] == c["_short"]].groupby(_KEY)["_rank"].min().rename("_cut")
    c = c.merge(cut.reset_index(), on=_KEY, how="left")
    pick_c = c.loc[c["_rank"] <= c["_cut"]].assign(_pref=2)
    picks = pd.concat([pick_a, pick_b, pick_c], ignore_index=True)
    if picks.empty:
        return pd.DataFrame(columns=_KEY + ["cos", "codes", "first"])
    best = picks.groupby(_KEY)["_pref"].transform("min")
    picks = picks.loc[picks["_pref"] == best]
    # A single-CO preference may match several COs of the same amount: keep the latest.
    single = picks["_pref"] == 1
    latest_single = picks.loc[single].sort_values("approved_date").drop_duplicates(_KEY, keep="last")
    picks = pd.concat([picks.loc[~single], latest_single]).sort_values(_KEY + ["co_number"])
    return aggregate(picks, _KEY, as_index=False, cos=("co_number", lambda s: ", ".join(s)),
                     codes=("cost_code", lambda s: ", ".join(sorted(set(s.dropna())))),
                     first=("approved_date", "min"))
