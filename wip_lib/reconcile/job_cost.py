"""Job cost: Procore's job-to-date cost (budget snapshot) against the ERP's booked cost.

Every ERP job-cost transaction through the period falls in exactly one bucket:

- ``matched``: its code (through the crosswalk) is a line of the job's Procore budget; compared in
  total per job and code by :func:`job_cost`;
- ``default`` / ``inactive`` / ``unmapped``: posted to a catch-all code, an inactive code, or a code
  with no line in the Procore budget; reported by :func:`unmapped_cost_code`.

So the two checks' differences add up to Procore's total minus the ERP's total for each job, which
:func:`wip_lib.reconcile.tieout.tie_out` proves.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from wip_lib.core.errors import Problem
from wip_lib.core.grouping import aggregate
from wip_lib.reconcile.core import (
    ReconContext,
    erp_key,
    findings,
    join_values,
    money_text,
    procore_key,
    register,
)
from wip_lib.reconcile.frames import outer
from wip_lib.sources.budget_snapshot import snapshot_rows


def budget_at_period(ctx: ReconContext) -> pd.DataFrame:
    """Each job's latest budget snapshot taken at or before the period (normally the period's;
    rule: :mod:`wip_lib.sources.budget_snapshot`)."""
    return ctx.cached("budget_at_period", lambda: _budget_at_period(ctx))


def _budget_at_period(ctx: ReconContext) -> pd.DataFrame:
    b = ctx.table("budget")
    b = b.iloc[np.flatnonzero(snapshot_rows(b, ctx.period))]  # rows copied once
    return b.assign(key=procore_key(ctx, b))


def erp_cost_in_scope(ctx: ReconContext) -> pd.DataFrame:
    jc = ctx.table("erp_job_cost")
    scope = (jc["period"] <= ctx.period).to_numpy(bool)
    return jc if scope.all() else jc.loc[scope]  # at the current period: every row, no copy


def default_codes(ctx: ReconContext) -> set[str]:
    codes = ctx.table("erp_cost_codes")
    out = set(codes.loc[codes["is_default"].fillna(False).astype(bool), "cost_code"].dropna())
    out |= {str(c).strip() for c in ctx.company.settings.default_cost_codes}
    return out


def classify_erp_cost(ctx: ReconContext) -> pd.DataFrame:
    """ERP job cost through the period with its comparison ``key`` and ``bucket``."""
    return ctx.cached("classify_erp_cost", lambda: _classify_erp_cost(ctx))


def _classify_erp_cost(ctx: ReconContext) -> pd.DataFrame:
    jc = erp_cost_in_scope(ctx)
    key = erp_key(ctx, jc)
    budget = budget_at_period(ctx)
    lines = budget[["job_id", "key"]].drop_duplicates().assign(_in_budget=True)
    # Membership joined on the two key columns only (not every column of millions of rows).
    hit = pd.DataFrame({"job_id": jc["job_id"].array, "key": key.array}).merge(
        lines, on=["job_id", "key"], how="left")["_in_budget"]
    jc = jc.reset_index(drop=True).assign(key=key.array)
    in_budget = pd.Series(hit.fillna(False).astype(bool).to_numpy(), index=jc.index)
    codes = ctx.table("erp_cost_codes")
    inactive = set(codes.loc[~codes["is_active"].fillna(True).astype(bool), "cost_code"].dropna())
    is_default = (jc["cost_code"].isin(default_codes(ctx))
                  | jc["cost_code_raw"].str.strip().isin(default_codes(ctx))).fillna(False)
    is_inactive = jc["cost_code"].isin(inactive).fillna(False)
    bucket = pd.Series("unmapped", index=jc.index, dtype="string")
    bucket = bucket.mask(is_inactive.astype(bool), "inactive").mask(is_default.astype(bool), "default")
    bucket = bucket.mask(in_budget, "matched")
    # A catch-all or inactive code that does have a budget line still ties; flagged separately.
    flag = pd.Series("", index=jc.index, dtype="string")
    flag = flag.mask(is_inactive.astype(bool), "inactive").mask(is_default.astype(bool), "default")
    return jc.assign(bucket=bucket, code_flag=flag)


def _code_reference(ctx: ReconContext, g: pd.DataFrame) -> pd.Series:
    """``99-999 Unassigned``: the ERP code with its description from the ERP code master."""
    codes = ctx.table("erp_cost_codes").drop_duplicates("cost_code")[["cost_code", "description"]]
    d = g[["cost_code"]].merge(codes, on="cost_code", how="left")["description"]
    d = pd.Series(d.fillna("").to_numpy(), index=g.index, dtype="string").str.strip()
    return (g["cost_code"] + " " + d).str.strip()


@register("job_cost", affects_job_cost=True)
def job_cost(ctx: ReconContext):
    """Procore job-to-date cost by job and cost code vs ERP job cost through the period end."""
    budget = budget_at_period(ctx)
    problems: list[Problem] = []
    p = aggregate(budget, ["job_id", "key"], as_index=False,
                  procore_amount=("job_to_date_costs", "sum"), snapshot=("period", "first"))
    jc = classify_erp_cost(ctx)
    matched = jc.loc[(jc["bucket"] == "matched").to_numpy(), ["job_id", "key", "cost_code",
                                                               "amount"]]
    e = aggregate(matched, ["job_id", "key"], as_index=False, erp_amount=("amount", "sum"),
                  rows=("amount", "size"))
    # The ERP codes behind each key, sorted and joined: the key itself wherever every row's own
    # code is the key (no crosswalk); joined from the rows only for the other keys.
    e["erp_codes"] = e["key"].astype("string")
    odd = (matched["cost_code"] != matched["key"]).fillna(True).to_numpy(bool)
    if odd.any():
        groups = matched.loc[odd, ["job_id", "key"]].drop_duplicates()
        joined = join_values(matched.merge(groups, on=["job_id", "key"]), ["job_id", "key"],
                             "cost_code").rename(columns={"cost_code": "_joined"})
        e = e.merge(joined, on=["job_id", "key"], how="left")
        e["erp_codes"] = e.pop("_joined").fillna(e["erp_codes"])
    m = outer(p, e, ["job_id", "key"], indicator=False)
    m["procore_amount"] = m["procore_amount"].fillna(0).astype("int64")
    m["erp_amount"] = m["erp_amount"].fillna(0).astype("int64")
    m = m.loc[m["procore_amount"] != m["erp_amount"]].copy()
    if m.empty:
        return findings(ctx, "job_cost", m), problems
    diff = m["procore_amount"] - m["erp_amount"]
    short = diff < 0
    gap = money_text(diff.abs())
    m["cost_code"] = m["key"]
    m["reference"] = ("ERP " + m["erp_codes"].fillna("").astype("string")).where(
        m["erp_codes"].notna() & (m["erp_codes"] != m["key"]), "")
    stale = m["snapshot"].notna() & (m["snapshot"] != ctx.period)
    m["action"] = (
        ("Procore's job-to-date cost is " + gap + " below the ERP's: re-sync job cost from the "
         "ERP to Procore (the budget snapshot predates these postings) and confirm the ERP "
         "entries are coded to this line.")
        .where(short,
               "Procore shows " + gap + " more job-to-date cost than the ERP booked through "
               + ctx.period + ": look for ERP reversals or recodes after the last sync, then "
               "re-sync job cost to Procore."))
    m["detail"] = ("Procore budget snapshot " + m["snapshot"].fillna("(none)").astype("string")
                   + " job-to-date " + money_text(m["procore_amount"]) + "; ERP "
                   + money_text(m["erp_amount"]) + " in "
                   + m["rows"].fillna(0).astype("int64").astype("string")
                   + " transaction(s) through " + ctx.period)
    m["detail"] = m["detail"].mask(stale, m["detail"] + " (no snapshot for " + ctx.period
                                   + "; latest used)")
    return findings(ctx, "job_cost", m), problems


@register("unmapped_cost_code", affects_job_cost=True)
def unmapped_cost_code(ctx: ReconContext):
    """ERP cost on codes with no Procore budget line, on catch-all codes or on inactive codes."""
    jc = classify_erp_cost(ctx)
    out = []
    # 1. Cost that does not reach any Procore budget line: it is missing from Procore's JTD.
    un = jc.loc[jc["bucket"] != "matched"]
    if len(un):
        g = aggregate(un, ["job_id", "cost_code", "bucket"], as_index=False,
                      erp_amount=("amount", "sum"), rows=("amount", "size"),
                      raw=("cost_code_raw", "first"), key=("key", "first"))
        g["procore_amount"] = 0
        g["reference"] = _code_reference(ctx, g)
        why = g["bucket"].map({
            "default": "is a catch-all (default) code",
            "inactive": "is inactive in the ERP",
            "unmapped": "has no line in the Procore budget"}).astype("string")
        mapped = g["key"] != g["cost_code"]
        why = why.mask((g["bucket"] == "unmapped") & mapped,
                       "maps through the crosswalk to " + g["key"]
                       + ", which has no line in the Procore budget")
        g["action"] = ("Recode " + money_text(g["erp_amount"]) + " of ERP cost from "
                       + g["cost_code"] + " to the right budget line (journal entry in the ERP), "
                       "or add the code to the crosswalk or the Procore budget.")
        g["detail"] = ("ERP code " + g["cost_code"] + " " + why + "; "
                       + g["rows"].astype("int64").astype("string") + " transaction(s) through "
                       + ctx.period)
        out.append(findings(ctx, "unmapped_cost_code", g, severity="error"))
    # 2. Catch-all / inactive codes that do have a budget line: they tie, but should be recoded.
    fl = jc.loc[(jc["bucket"] == "matched") & (jc["code_flag"] != "")]
    if len(fl):
        g = aggregate(fl, ["job_id", "cost_code", "code_flag"], as_index=False,
                      amount=("amount", "sum"), rows=("amount", "size"),
                      raw=("cost_code_raw", "first"))
        g["reference"] = _code_reference(ctx, g)
        g["erp_amount"] = g["amount"]
        g["action"] = ("Move " + money_text(g["amount"]) + " posted to the "
                       + g["code_flag"] + " code " + g["cost_code"]
                       + " to the specific cost codes it belongs to, in both systems.")
        g["detail"] = ("ERP code " + g["cost_code"] + " is " + g["code_flag"] + "; it has a "
                       "Procore budget line so totals tie; " + g["rows"].astype("int64")
                       .astype("string") + " transaction(s)")
        out.append(findings(ctx, "unmapped_cost_code", g, severity="warning",
                            exposure=g["amount"]))
    if not out:
        return findings(ctx, "unmapped_cost_code", None), []
    return pd.concat(out, ignore_index=True), []
