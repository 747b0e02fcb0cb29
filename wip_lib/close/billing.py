"""Progress billing and the pay-app review of a period: the one place that puts their parts
together (the commands ``wip billing`` and ``wip payapps`` and the month-end call these).

- :func:`compute_billing`: the computed period (:func:`wip_lib.close.period.compute_period`,
  for the WIP model's cost progress) -> the draft G702/G703 of every job and prime contract
  (:func:`wip_lib.accounting.progress_billing.draft`, with the progress measure of
  ``company.yaml: billing: progress``) and the review of the owner pay applications billed in
  the period (:func:`~wip_lib.accounting.progress_billing.owner_review`), plus
  ``missing_from_ar``: a pay application billed to the owner in the period that ERP AR does not
  hold, as the reconciliation's ``owner_invoices`` check finds it (the rule lives there).
- :func:`compute_payapps`: the subcontractor pay-app review
  (:func:`wip_lib.accounting.payapp_review.payapp_review`) with the company's lien waiver log
  (``lien_waivers.csv``, read here when the company has a folder).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from wip_lib.accounting import payapp_review as pr
from wip_lib.accounting import progress_billing as pb
from wip_lib.accounting import review_findings as rf
from wip_lib.core.errors import Problem
from wip_lib.core.periods import check_period, period_end
from wip_lib.reconcile.contract import owner_invoices
from wip_lib.reconcile.core import make_context
from wip_lib.sources.lien_waivers import read_lien_waivers


@dataclass
class BillingResult:
    company_name: str
    period: str
    progress: str
    drafts: list[pb.Draft]
    review: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    job_names: dict[str, str] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)


def missing_from_ar(company, period: str, findings: pd.DataFrame | None = None
                    ) -> pd.DataFrame:
    """Owner pay applications billed in ``period`` that ERP AR does not hold through it, as
    findings of the billing review (found by the reconciliation's ``owner_invoices`` check:
    its rows of ``findings``, the period's reconciliation, when the caller has it, else the
    check run here)."""
    if findings is None:
        found, _ = owner_invoices(make_context(company, period))
    else:
        found = findings[(findings["check"] == "owner_invoices").to_numpy(bool)]
    apps = pb.applications(company["owner_invoices"], "contract_number")
    start = pd.Period(period, freq="M").start_time
    billed = pd.to_datetime(apps["billing_date"])
    mine = apps[((billed >= start) & (billed <= period_end(period))).to_numpy(bool)]
    miss = found[found["days_waiting"].notna().to_numpy(bool)
                 & (found["erp_amount"] == 0).fillna(False).to_numpy(bool)]
    miss = miss.merge(mine[["job_id", "contract", "application_number", "invoice_number",
                            "reference"]], left_on=["job_id", "reference"],
                      right_on=["job_id", "invoice_number"], suffixes=("_f", ""))
    if miss.empty:
        return rf.empty()
    f = pd.DataFrame({"job_id": miss["job_id"], "reference": miss["reference"],
                      "contract": miss["contract"],
                      "application_number": miss["application_number"],
                      "line": "", "expected": miss["procore_amount"], "actual": 0,
                      "action": miss["action"], "detail": miss["detail"]})
    return rf.finish("missing_from_ar", f, company.settings.materiality,
                     exposure=miss["procore_amount"])


def compute_billing(company, period: str | None = None, result=None) -> BillingResult:
    """The period's drafts and owner billing review (module docstring). ``result``: the
    computed period when the caller has it (else computed here)."""
    from wip_lib.close.period import compute_period

    period = check_period(period or company.settings.current_period)
    if result is None:
        result = compute_period(company, period)
    codes, jobs = pb.cost_progress(result.forecast, result.schedule)
    progress = str(company.settings.billing.get("progress", "procore"))
    drafts, problems = pb.draft(company, period, progress, codes, jobs)
    review, more = pb.owner_review(company, period, codes, jobs)
    review = rf.stack([review, missing_from_ar(company, period, result.findings)],
                      pb.OWNER_CHECKS_ORDER)
    j = company["jobs"]
    names = dict(zip(j["job_id"].astype(str).str.strip(), j["job_name"].astype(str)))
    pc = company["prime_contracts"]
    owners = {(str(a).strip(), str(b).strip()): str(o) for a, b, o in
              zip(pc["job_id"], pc["contract_number"], pc["owner"].fillna(""))}
    return BillingResult(company.settings.name, period, progress, drafts, review,
                         problems + more, names, owners)


def compute_payapps(company, period: str | None = None,
                    waivers: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """The subcontractor pay-app review of ``period`` with the company's lien waiver log
    (``waivers`` when given, else ``lien_waivers.csv`` of the company's folder)."""
    period = check_period(period or company.settings.current_period)
    problems: list[Problem] = []
    if waivers is None and company.root is not None:
        waivers, problems = read_lien_waivers(company.root, company.settings.procore_locale)
    found, more = pr.payapp_review(company, period, waivers)
    return found, problems + more
