"""Master data: vendors and jobs present in one system only, duplicated, or drifting apart."""
from __future__ import annotations

import bisect
import difflib

import pandas as pd

from wip_lib.core.grouping import aggregate
from wip_lib.reconcile.core import ReconContext, findings, norm_name, register

NEAR_DUPLICATE_RATIO = 0.9


def similar_pairs(names: pd.Series, other: pd.Series | None = None,
                  ratio: float = NEAR_DUPLICATE_RATIO) -> pd.DataFrame:
    """Pairs of normalised names with a difflib ratio at or above ``ratio`` (not equal ones).

    Within ``names`` when ``other`` is None (i < j), else across. Length bounds and difflib's
    cheap upper bounds prune most pairs before the full ratio is computed.
    """
    a = pd.Series(names).dropna().astype(str).drop_duplicates()
    a = a.loc[a != ""]
    b = a if other is None else pd.Series(other).dropna().astype(str).drop_duplicates()
    b = b.loc[b != ""]
    rows = []
    bl = sorted(b.tolist(), key=len)
    blens = [len(x) for x in bl]
    for x in sorted(a.tolist()):
        lx = len(x)
        # ratio = 2M/(lx+ly) <= 2*min/(lx+ly): |ly| must lie within these bounds.
        lo = bisect.bisect_left(blens, lx * ratio / (2 - ratio))
        hi = bisect.bisect_right(blens, lx * (2 - ratio) / ratio)
        sm = difflib.SequenceMatcher(None, autojunk=False)
        sm.set_seq2(x)
        for y in bl[lo:hi]:
            if y == x or (other is None and y < x):
                continue
            sm.set_seq1(y)
            if sm.real_quick_ratio() < ratio or sm.quick_ratio() < ratio:
                continue
            r = sm.ratio()
            if r >= ratio:
                rows.append((x, y, r))
    return pd.DataFrame(rows, columns=["a", "b", "ratio"])


def _name_list(s: pd.Series) -> str:
    return "; ".join(sorted(set(s.dropna().astype(str))))


def _names_of(df: pd.DataFrame, keys: set) -> pd.Series:
    """Normalised name -> its vendors' names listed (:func:`_name_list`), for ``keys`` only."""
    rows = df.loc[df["_n"].isin(keys).to_numpy(dtype=bool)]
    return rows.groupby("_n")["vendor_name"].agg(_name_list)


@register("vendors")
def vendors(ctx: ReconContext):
    """Vendors in one system only, and near-duplicate vendor names."""
    pv = ctx.table("procore_vendors")
    ev = ctx.table("erp_vendors")
    pv = pv.assign(_n=norm_name(pv["vendor_name"]), _id=pv["erp_vendor_id"].fillna("").str.strip())
    ev = ev.assign(_n=norm_name(ev["vendor_name"]), _id=ev["vendor_id"].str.strip())
    out = []
    # Links: by the ERP vendor id Procore holds, else by the normalised name.
    by_id = pv.loc[pv["_id"] != ""].merge(ev[["_id", "vendor_name", "_n"]], on="_id",
                                           suffixes=("", "_erp"))
    p_linked = set(by_id["vendor_name"]) | set(pv.loc[pv["_n"].isin(set(ev["_n"])), "vendor_name"])
    e_linked = set(by_id["_id"]) | set(ev.loc[ev["_n"].isin(set(pv["_n"])), "_id"])

    # 1. Linked by id but the names have drifted apart.
    drift = by_id.loc[by_id["_n"] != by_id["_n_erp"]].copy()
    if len(drift):
        drift["reference"] = drift["vendor_name"]
        drift["action"] = ("Rename Procore vendor '" + drift["vendor_name"] + "' to the ERP's '"
                           + drift["vendor_name_erp"] + "' (the ERP owns the vendor master).")
        drift["detail"] = "Linked by ERP vendor id " + drift["_id"] + "; names differ"
        out.append(findings(ctx, "vendors", drift, severity="warning"))

    # 2. In one system only. ERP-only vendors matter when they are used on jobs.
    used = pd.concat([ctx.table(t)["vendor_name"].drop_duplicates()
                      for t in ("erp_ap_invoices", "erp_commitments", "erp_job_cost")])
    used_n = set(norm_name(used.loc[used.fillna("") != ""]))
    po = pv.loc[~pv["vendor_name"].isin(p_linked) & pv["is_active"].fillna(True).astype(bool)]
    po = po.assign(reference=po["vendor_name"],
                   action="Set up '" + po["vendor_name"] + "' in the ERP vendor master and link "
                   "it in Procore (vendors flow ERP to Procore), or merge it with the right ERP "
                   "vendor.",
                   detail=pd.Series("In the Procore directory only", index=po.index))
    eo = ev.loc[~ev["_id"].isin(e_linked) & (ev["status"].fillna("active").str.lower() != "inactive")]
    eo_used = eo["_n"].isin(used_n)
    eo = eo.assign(reference=eo["vendor_name"],
                   action="Sync ERP vendor '" + eo["vendor_name"] + "' (" + eo["_id"] + ") to the "
                   "Procore directory.",
                   detail=("In the ERP vendor master only (vendor id " + eo["_id"] + ")"))
    eo["detail"] = eo["detail"].mask(eo_used, eo["detail"] + "; used on jobs in the ERP")
    if len(po):
        out.append(findings(ctx, "vendors", po, severity="warning"))
    if len(eo):
        out.append(findings(ctx, "vendors", eo,
                            severity=pd.Series("info", index=eo.index).mask(eo_used, "warning")))

    # 3. Near-duplicate names: within each system, and across systems where not linked.
    for system, df in (("Procore", pv), ("ERP", ev)):
        # Names listed only for the names that need it (a Python join per group, for every
        # group, was most of this check's time).
        named = df.loc[df["_n"] != ""]
        size = named.groupby("_n")["vendor_name"].size()
        same = _names_of(named, set(size.index[(size > 1).to_numpy()]))
        pairs = similar_pairs(df["_n"])
        names = _names_of(df, set(pairs["a"]) | set(pairs["b"])) if len(pairs) else None
        near = pd.DataFrame({"reference": pd.concat([
            same,
            (pairs["a"].map(names) + "; " + pairs["b"].map(names)) if len(pairs)
            else pd.Series(dtype="string")], ignore_index=True)})
        if len(near):
            near["action"] = ("Merge the duplicate " + system + " vendors (" + near["reference"]
                              + ") into one record, then re-link their documents.")
            near["detail"] = system + " vendor names that normalise to the same or nearly the "\
                "same name (difflib ratio >= " + str(NEAR_DUPLICATE_RATIO) + ")"
            out.append(findings(ctx, "vendors", near, severity="warning"))
    po_n, eo_n = po["_n"], eo["_n"]
    cross = similar_pairs(po_n, eo_n)
    if len(cross):
        pn = _names_of(pv, set(cross["a"]))
        en = _names_of(ev, set(cross["b"]))
        near = pd.DataFrame({"reference": cross["a"].map(pn) + " / " + cross["b"].map(en)})
        near["action"] = ("Link Procore vendor '" + cross["a"].map(pn) + "' to ERP vendor '"
                          + cross["b"].map(en) + "' if they are the same company, and use the "
                          "ERP's name.")
        near["detail"] = "Procore and ERP names nearly match (ratio " + cross["ratio"].round(3)\
            .astype(str) + ") but are not linked"
        out.append(findings(ctx, "vendors", near, severity="warning"))
    if not out:
        return findings(ctx, "vendors", None), []
    return pd.concat(out, ignore_index=True), []


def _job_norm(ids: pd.Series) -> pd.Series:
    """Job numbers that differ only by padding, leading zeros or separators compare equal."""
    s = ids.astype("string").fillna("").str.strip().str.upper()
    s = s.str.replace(r"[\s\-_./]", "", regex=True).str.lstrip("0")
    return s


@register("jobs")
def jobs(ctx: ReconContext):
    """Jobs in one system only, or duplicated (same number, or numbers equal but for padding)."""
    pj = ctx.table("jobs")
    ej = ctx.table("erp_jobs")
    pj = pj.assign(_n=_job_norm(pj["job_id"]))
    ej = ej.assign(_n=_job_norm(ej["job_id"]))
    out = []
    for system, df in (("Procore", pj), ("ERP", ej)):
        # Only numbers held more than once are listed (a Python join per job was 2 s at 200
        # jobs): select them first, then name their ids.
        many = df.loc[df.groupby("_n")["job_id"].transform("size").to_numpy() > 1]
        dup = aggregate(many, "_n", as_index=False, size=("job_id", "size"),
                        ids=("job_id", _name_list), first=("job_id", "first"))
        dup = dup.loc[dup["size"] > 1]
        if len(dup):
            dup = dup.assign(job_id=dup["first"], reference=dup["ids"],
                             action="Merge or renumber the duplicate " + system + " jobs ("
                             + dup["ids"] + ") so each job appears once.",
                             detail=system + " holds " + dup["size"].astype(str)
                             + " jobs with this number")
            out.append(findings(ctx, "jobs", dup, severity="warning"))
    p1 = pj.drop_duplicates("_n")
    e1 = ej.drop_duplicates("_n")
    m = p1.merge(e1, on="_n", how="outer", suffixes=("", "_erp"), indicator=True)
    po = m.loc[m["_merge"] == "left_only"]
    active = ~po["status"].fillna("").str.lower().isin(["complete", "inactive"])
    po = po.assign(reference=po["job_name"],
                   action="Create job " + po["job_id"] + " in the ERP (or link the Procore "
                   "project to its ERP job) so its cost and billings can post.",
                   detail="Procore project " + po["status"].fillna("") + "; no ERP job")
    if len(po):
        out.append(findings(ctx, "jobs", po, severity=pd.Series("warning", index=po.index)
                            .where(active, "info")))
    eo = m.loc[m["_merge"] == "right_only"]
    open_ = eo["status_erp"].fillna("open").str.lower() != "closed"
    eo = eo.assign(job_id=eo["job_id_erp"], reference=eo["job_name_erp"].fillna(""),
                   action="Create the Procore project for ERP job " + eo["job_id_erp"]
                   + " (or close the ERP job if it is finished).",
                   detail="ERP job " + eo["status_erp"].fillna("open") + "; no Procore project")
    if len(eo):
        out.append(findings(ctx, "jobs", eo, severity=pd.Series("warning", index=eo.index)
                            .where(open_, "info")))
    fmt = m.loc[(m["_merge"] == "both") & (m["job_id"] != m["job_id_erp"])]
    if len(fmt):
        fmt = fmt.assign(reference=fmt["job_id"] + " / " + fmt["job_id_erp"],
                         action="Use the same job number in both systems (Procore "
                         + fmt["job_id"] + ", ERP " + fmt["job_id_erp"] + ") or map them.",
                         detail="Job numbers equal only after removing padding or leading zeros")
        out.append(findings(ctx, "jobs", fmt, severity="warning"))
    if not out:
        return findings(ctx, "jobs", None), []
    return pd.concat(out, ignore_index=True), []
