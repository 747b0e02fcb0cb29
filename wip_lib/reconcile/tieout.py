"""The tie-out: per job, Procore's job-to-date cost against the ERP's, explained by the findings,
and the coverage proof that every ERP job-cost transaction in scope is accounted for."""
from __future__ import annotations

import pandas as pd

from wip_lib.reconcile.core import ReconContext, job_cost_checks, make_context
from wip_lib.reconcile.job_cost import budget_at_period, classify_erp_cost

TIE_OUT_COLUMNS = ["job_id", "procore_total", "erp_total", "variance", "explained", "unexplained",
                   "findings", "errors", "warnings", "info"]
COVERAGE_COLUMNS = ["job_id", "erp_rows", "erp_amount", "matched_rows", "matched_amount",
                    "finding_rows", "finding_amount", "uncovered_rows", "uncovered_amount",
                    "foots"]


def _ctx(company, period) -> ReconContext:
    return period if isinstance(period, ReconContext) else make_context(company, period)


def tie_out(company, period, findings: pd.DataFrame) -> pd.DataFrame:
    """Per job: procore_total (Procore JTD cost), erp_total (ERP cost through the period),
    variance = procore - erp, explained (the job-cost findings' differences), unexplained, and the
    number of findings by severity. ``period`` is ``YYYY-MM`` (or a ReconContext)."""
    ctx = _ctx(company, period)
    budget = budget_at_period(ctx)
    p = budget.groupby("job_id")["job_to_date_costs"].sum().rename("procore_total")
    jc = ctx.table("erp_job_cost")
    e = jc.loc[jc["period"] <= ctx.period].groupby("job_id")["amount"].sum().rename("erp_total")
    f = findings.loc[findings["job_id"].fillna("") != ""]
    cost = f.loc[f["check"].isin(job_cost_checks())]
    explained = cost.groupby("job_id")["difference"].sum().rename("explained")
    counts = (pd.crosstab(f["job_id"], f["severity"]) if len(f)
              else pd.DataFrame(index=pd.Index([], name="job_id")))
    for s in ("error", "warning", "info"):
        if s not in counts.columns:
            counts[s] = 0
    counts = counts.rename(columns={"error": "errors", "warning": "warnings"})
    counts["findings"] = counts[["errors", "warnings", "info"]].sum(axis=1)
    jobs = pd.Index(sorted(set(p.index) | set(e.index) | set(ctx.table("jobs")["job_id"])
                           | set(ctx.table("erp_jobs")["job_id"]) | set(f["job_id"])),
                    name="job_id", dtype="string")
    out = pd.DataFrame(index=jobs)
    out["procore_total"] = p.reindex(jobs).fillna(0).astype("int64").to_numpy()
    out["erp_total"] = e.reindex(jobs).fillna(0).astype("int64").to_numpy()
    out["variance"] = out["procore_total"] - out["erp_total"]
    out["explained"] = explained.reindex(jobs).fillna(0).astype("int64").to_numpy()
    out["unexplained"] = out["variance"] - out["explained"]
    for c in ("findings", "errors", "warnings", "info"):
        out[c] = counts[c].reindex(jobs).fillna(0).astype("int64").to_numpy()
    return out.reset_index()[TIE_OUT_COLUMNS]


def coverage(company, period, findings: pd.DataFrame) -> pd.DataFrame:
    """Per job: every ERP job-cost transaction through the period is either matched to a Procore
    budget line or named by an ``unmapped_cost_code`` finding. Counts and dollars foot:
    ``matched + finding + uncovered == erp`` and ``foots`` is True when nothing is uncovered."""
    ctx = _ctx(company, period)
    jc = classify_erp_cost(ctx)
    named = findings.loc[(findings["check"] == "unmapped_cost_code")
                         & findings["difference"].notna(), ["job_id", "cost_code"]]
    named = named.drop_duplicates().assign(_named=True)
    jc = jc.merge(named, on=["job_id", "cost_code"], how="left")
    matched = (jc["bucket"] == "matched").to_numpy()
    in_finding = ~matched & jc["_named"].fillna(False).astype(bool).to_numpy()
    uncovered = ~matched & ~in_finding
    amt = jc["amount"]
    parts = pd.DataFrame({
        "job_id": jc["job_id"],
        "erp_rows": 1, "erp_amount": amt,
        "matched_rows": matched.astype("int64"), "matched_amount": amt.where(matched, 0),
        "finding_rows": in_finding.astype("int64"), "finding_amount": amt.where(in_finding, 0),
        "uncovered_rows": uncovered.astype("int64"), "uncovered_amount": amt.where(uncovered, 0),
    })
    out = parts.groupby("job_id", as_index=False).sum()
    for c in COVERAGE_COLUMNS[1:-1]:
        out[c] = out[c].astype("int64")
    out["foots"] = ((out["matched_rows"] + out["finding_rows"] + out["uncovered_rows"]
                     == out["erp_rows"])
                    & (out["matched_amount"] + out["finding_amount"] + out["uncovered_amount"]
                       == out["erp_amount"])
                    & (out["uncovered_rows"] == 0))
    return out[COVERAGE_COLUMNS]
