"""One computation of a period: the only function that computes a month, for every output.

:func:`compute_period` reads nothing but the loaded company and the company's period store, and
returns a :class:`PeriodResult`: the ETC used (PM forecast + controller overrides), the WIP
schedule with its period amounts, completed contracts and journal entry, the forecast flags and
risk ranking, the reconciliation, the job history and budget history the dashboards chart, and
where the prior figures came from. The month-end batch, ``wip excel``, ``wip forecast``,
``wip close``, the notebooks and the explorer all call it, so every output of a month shows the
same figures.

Where prior figures come from (the one place that decides)
----------------------------------------------------------
- The store is the company's (``store_path:`` in ``company.yaml``, else
  ``DATA_DIR/wip_store.duckdb``; :func:`wip_lib.close.store.store_path`), opened read-only when it
  exists, unless the caller passes one (``wip close`` passes the store it writes).
- The prior period (period amounts, fade, the journal's prior) and the last period of the previous
  fiscal year (year-to-date amounts): the closed figures when that period is closed in the store;
  otherwise recomputed as of that period from today's data, and said so (``prior_source``, the
  schedule's notes and every output that shows them).
- A closed period is never restated silently: when today's data give a closed prior period
  different figures (a late cost dated in a closed month, a change order approved back-dated), the
  difference is a finding (check ``closed_period_changed``, severity error) naming the period, the
  job, the amount, the figure and, for cost and billings, the documents that differ from what was
  frozen at the close: "reopen the period or book it in the current one".
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import pandas as pd

from wip_lib.accounting import flags as flagmod
from wip_lib.accounting import forecast as fc
from wip_lib.accounting.history import history_start, job_history
from wip_lib.accounting.overrides import audit_trail
from wip_lib.accounting.retainage import retention
from wip_lib.accounting.schedule import (
    PRIOR_ASOF,
    PRIOR_CLOSED,
    PeriodSchedule,
    Priors,
    last_open_figures,
    prior_periods,
    prior_periods_needed,
    recognise,
    recognise_all_periods,
    recognise_periods,
    wip_schedule,
)
from wip_lib.close.store import PeriodStore, store_path
from wip_lib.core import derived
from wip_lib.core.money import report_amount
from wip_lib.core.period_range import check_in_data
from wip_lib.core.periods import check_period, periods_between
from wip_lib.reconcile import reconcile
from wip_lib.reconcile.core import FINDING_COLUMNS

CLOSED_CHANGED = "closed_period_changed"

#: Schedule inputs compared between a closed period and today's data: column -> what it is.
CLOSED_FIGURES = {
    "cost_to_date": "cost",
    "billed_to_date": "billings",
    "contract_revised": "contract (approved change orders)",
    "est_cost_to_complete": "estimated cost to complete",
}

#: Source rows frozen with each close, so a later change names its documents:
#: artefact -> (canonical table, document column, amount column).
FROZEN_ROWS = {
    "job_cost": ("erp_job_cost", "document_number", "amount"),
    "billings": ("erp_ar_billings", "invoice_number", "amount_billed"),
}


@dataclass
class PeriodResult:
    company_name: str
    period: str
    wip: PeriodSchedule
    forecast: pd.DataFrame
    flags: pd.DataFrame
    ranking: pd.DataFrame
    jobs_summary: pd.DataFrame
    findings: pd.DataFrame
    tieout: pd.DataFrame
    overrides: pd.DataFrame
    override_audit: pd.DataFrame
    settings: object = None  # the company's Settings (policies, GL accounts) the figures used
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    budget_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    closed_changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The period's own cost and billing rows, frozen with a close (:func:`frozen_rows`).
    period_rows: dict = field(default_factory=dict)
    #: Facts of each job the reports show beside its figures (:func:`job_facts`).
    jobs: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Retention per job and commitment, both directions (:func:`~wip_lib.accounting.retainage.
    #: retention`).
    retention: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def schedule(self) -> pd.DataFrame:
        return self.wip.schedule

    @property
    def job_ids(self) -> list[str]:
        return [str(j) for j in self.wip.schedule["job_id"]]

    @property
    def prior_source(self) -> str:
        return self.wip.prior_source


def compute_period(company, period: str | None = None, *,
                   store: PeriodStore | None = None) -> PeriodResult:
    """Everything a month's outputs show for ``period`` (default: the company's current period).

    ``store``: the period store to take closed figures from; by default the company's own
    (module docstring), when it exists."""
    # The period must be one the data can report (not before its first month, not after the
    # company's current period): every command that computes a month is checked here.
    period = check_in_data(company, check_period(period or company.settings.current_period))
    with derived.scope():  # frames several rules derive alike, worked out once
        if store is not None:
            return _compute(company, period, store)
        with company_store(company) as own:
            return _compute(company, period, own)


@contextmanager
def company_store(company) -> Iterator[PeriodStore | None]:
    """The company's period store, read-only, or ``None`` when it has none yet."""
    path = store_path(company.root) if company.root is not None else None
    if path is None or not path.is_file():
        yield None
        return
    with PeriodStore(path, read_only=True) as store:
        yield store


def _compute(company, period: str, store: PeriodStore | None) -> PeriodResult:
    overrides = company.overrides_for(period)
    forecast = fc.cost_to_complete(company, period, overrides)
    # One recognition pass from today's data serves the period (with its forecast), the priors
    # not closed and the history: a pass costs about what one period's costs, whatever its span.
    first = history_start(company, period)
    as_of = recognise_all_periods(company, min(first, *prior_periods_needed(company, period)),
                                  period, forecasts={period: forecast})
    priors = prior_figures(company, period, store, as_of=as_of)
    wip = wip_schedule(company, period, priors=priors, forecast_df=forecast,
                       current=recognise_periods(company, [period], every=as_of)[period])
    # The job flags read the schedule's own figures (its contract, estimate, priors), so a
    # flag and the schedule never show two margins for one job.
    jobs = with_prior_estimates(fc.job_summary(company, period, forecast,
                                               schedule=wip.schedule), priors)
    budget_history = fc.budget_history(company, period)
    flags = flagmod.merge_flags(
        flagmod.overrun_flags(forecast, budget_history,
                              fc.erp_cost_history(company, period), jobs, company.settings,
                              change_orders=fc.approved_change_orders(company, period),
                              commitment_cost=fc.erp_cost_history(company, period,
                                                                  commitments_only=True)),
        flagmod.billing_flags(wip.schedule, company["erp_ar_billings"], period,
                              company.settings,
                              collections=company.carries("ar_has_collections")))
    ranking = flagmod.risk_ranking(flags)
    findings, tieout = reconcile(company, period)
    changes = closed_period_changes(company, period, priors, store)
    if len(changes):
        findings = pd.concat([changes, findings], ignore_index=True).astype(findings.dtypes)
        wip.notes.append(f"{len(changes)} difference(s) between closed periods and today's data: "
                         "see the reconciliation findings (check closed_period_changed).")
    audit = audit_trail(overrides, forecast) if len(overrides) else pd.DataFrame()
    history = job_history(company, period, first=first, store=store, as_of=as_of)
    return PeriodResult(company.settings.name, period, wip, forecast, flags, ranking, jobs,
                        findings, tieout, overrides, audit, company.settings, history,
                        budget_history, changes,
                        frozen_rows(company, period), job_facts(company),
                        retention(company, period))


# -- prior figures ----------------------------------------------------------------------------
def prior_figures(company, period: str, store: PeriodStore | None, *,
                  as_of: pd.DataFrame | None = None) -> Priors:
    """The prior period's and the previous fiscal year end's figures, and each job completed
    this fiscal year at its last period in progress (closed-job fade): closed where closed in
    ``store``, else recomputed as of the period from today's data, the periods not closed in
    one pass (:func:`~wip_lib.accounting.schedule.recognise_periods`): ``as_of`` when the
    caller made that pass already, over a span holding every period needed."""
    prior_period, fye_period = prior_periods(company, period)
    needed = prior_periods_needed(company, period)
    closed = {}
    for p in needed:
        frame = store.load(p, "schedule") if store is not None and store.is_closed(p) else None
        if frame is not None:
            closed[p] = frame
    recomputed = recognise_periods(company, [p for p in needed if p not in closed], every=as_of)

    def figures(p: str) -> tuple[pd.DataFrame, str]:
        return (closed[p], PRIOR_CLOSED) if p in closed else (recomputed[p], PRIOR_ASOF)

    prior, prior_source = figures(prior_period)
    fye, fye_source = figures(fye_period)
    last = last_open_figures(company, period, lambda p: figures(p)[0])
    return Priors(prior_period, prior, prior_source, fye_period, fye, fye_source, last)


def with_prior_estimates(jobs: pd.DataFrame, priors: Priors) -> pd.DataFrame:
    """The flags' prior estimate (margin fade) from the closed prior period when it is closed,
    so the fade flag and the schedule's fade measure against the same figures."""
    if priors.prior_source != PRIOR_CLOSED or jobs.empty:
        return jobs
    closed = priors.prior.set_index(priors.prior["job_id"].astype("string"))
    ids = jobs["job_id"].astype("string")
    known = ids.isin(closed.index).to_numpy(dtype=bool)
    out = jobs.copy()
    gp = ids.map(closed["est_gross_profit"]).astype("Int64")
    pct = ids.map(closed["est_gp_pct"]).astype("float64")
    out["prior_est_gross_profit"] = gp.where(known, out["prior_est_gross_profit"]).to_numpy()
    out["prior_est_gp_pct"] = pct.where(known, out["prior_est_gp_pct"]).to_numpy()
    return out


# -- closed periods against today's data ------------------------------------------------------
def closed_period_changes(company, period: str, priors: Priors,
                          store: PeriodStore | None) -> pd.DataFrame:
    """Findings for every figure of the closed prior period that today's data would change.

    Figures are cumulative, so a change dated in any earlier closed month shows in the prior
    period's figures. For cost and billings the documents are named by comparing today's rows
    of each closed month with the rows frozen at its close (:data:`FROZEN_ROWS`)."""
    if store is None or priors.prior_source != PRIOR_CLOSED:
        return _findings([])
    return closed_changes(company, priors.prior_period, priors.prior, store, book_in=period)


def closed_changes(company, closed_period: str, closed_schedule: pd.DataFrame,
                   store: PeriodStore, *, book_in: str) -> pd.DataFrame:
    """Findings for each figure of ``closed_schedule`` (closed ``closed_period``) that today's
    data change; ``book_in`` is the open period the action suggests instead of reopening."""
    closed = closed_schedule.set_index(closed_schedule["job_id"].astype("string"))
    now = recognise(company, closed_period)
    now = now.set_index(now["job_id"].astype("string"))
    jobs = closed.index.union(now.index)
    rows = []
    for column, what in CLOSED_FIGURES.items():
        if column not in closed.columns or column not in now.columns:
            continue
        a = closed[column].reindex(jobs).astype("Int64").fillna(0)
        b = now[column].reindex(jobs).astype("Int64").fillna(0)
        moved = (a != b).to_numpy(dtype=bool)
        for job in jobs[moved]:  # differences only: a handful, never one per transaction
            rows.append({"job_id": str(job), "figure": column, "what": what,
                         "closed": int(a[job]), "now": int(b[job])})
    if not rows:
        return _findings([])
    docs = _changed_documents(company, closed_period, store, {r["job_id"] for r in rows})
    out = []
    p, nxt = closed_period, book_in
    for r in rows:
        diff = r["now"] - r["closed"]
        refs = docs.get((r["job_id"], r["figure"]), "")
        where = f" (document{'s' if ', ' in refs else ''} {refs})" if refs else ""
        out.append({
            "check": CLOSED_CHANGED, "job_id": r["job_id"], "cost_code": "",
            "reference": refs, "procore_amount": pd.NA, "erp_amount": pd.NA,
            "difference": diff, "severity": "error",
            "action": f"reopen {p} (wip reopen) or book it in {nxt}",
            "days_waiting": pd.NA,
            "detail": f"closed {p} differs from today's data by {report_amount(diff)} of "
                      f"{r['what']} on job {r['job_id']}{where}: closed "
                      f"{report_amount(r['closed'])}, today {report_amount(r['now'])}; reopen "
                      f"{p} or book it in {nxt}"})
    return _findings(out)


def _findings(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    for c in ("procore_amount", "erp_amount", "difference", "days_waiting"):
        df[c] = df[c].astype("Int64")
    for c in ("check", "job_id", "cost_code", "reference", "severity", "action", "detail"):
        df[c] = df[c].astype("string")
    return df


def _changed_documents(company, through: str, store: PeriodStore,
                       jobs: set[str]) -> dict[tuple[str, str], str]:
    """``(job, figure) -> "DOC1, DOC2"``: documents whose amount in a closed month differs from
    what its close froze."""
    figure = {"job_cost": "cost_to_date", "billings": "billed_to_date"}
    out: dict[tuple[str, str], str] = {}
    for artefact, (table, doc, amount) in FROZEN_ROWS.items():
        rows = company[table]
        rows = rows[rows["job_id"].astype("string").isin(jobs).to_numpy(dtype=bool)]
        now = _by_document(rows, doc, amount, through)
        frozen = []
        for p in periods_between(str(now["period"].min()) if len(now) else through, through):
            if store.is_closed(p):
                f = store.load(p, artefact)
                if f is not None:
                    frozen.append(f[f["job_id"].astype("string").isin(jobs).to_numpy(dtype=bool)])
        if not frozen:
            continue
        was = _by_document(pd.concat(frozen, ignore_index=True), doc, amount, through)
        both = now.merge(was, on=["job_id", "period", doc], how="outer",
                         suffixes=("_now", "_was"))
        differs = both[f"{amount}_now"].fillna(0) != both[f"{amount}_was"].fillna(0)
        closed_months = {p for p in both["period"].unique() if store.is_closed(str(p))}
        hit = both[differs.to_numpy(dtype=bool)
                   & both["period"].isin(closed_months).to_numpy(dtype=bool)]
        for job, g in hit.groupby("job_id"):
            names = sorted(set(g[doc].astype(str)) - {""})
            out[(str(job), figure[artefact])] = ", ".join(names[:5]) + (
                f" and {len(names) - 5} more" if len(names) > 5 else "")
    return out


def _by_document(rows: pd.DataFrame, doc: str, amount: str, through: str) -> pd.DataFrame:
    r = rows[rows["period"].astype("string") <= through]
    keys = [r["job_id"].astype("string"), r["period"].astype("string"),
            r[doc].astype("string").fillna("")]
    out = r[amount].astype("int64").groupby(keys).sum().reset_index()
    out.columns = ["job_id", "period", doc, amount]
    return out


#: Job facts from Procore's projects the reports show (owner, PM, start and completion dates).
JOB_FACTS = ["job_id", "customer", "project_manager", "start_date", "completion_date"]


def job_facts(company) -> pd.DataFrame:
    """One row per job: :data:`JOB_FACTS` as the company's ``jobs`` table holds them (a column
    the table lacks is left out)."""
    jobs = company["jobs"]
    return jobs[[c for c in JOB_FACTS if c in jobs.columns]].reset_index(drop=True)


def frozen_rows(company, period: str) -> dict[str, pd.DataFrame]:
    """The period's own cost and billing rows, frozen with its close (:data:`FROZEN_ROWS`)."""
    out = {}
    for artefact, (table, doc, amount) in FROZEN_ROWS.items():
        t = company[table]
        t = t[(t["period"].astype("string") == period).to_numpy(dtype=bool)]
        out[artefact] = pd.DataFrame({
            "job_id": t["job_id"].astype("string"), "period": t["period"].astype("string"),
            doc: t[doc].astype("string").fillna(""),
            amount: t[amount].astype("int64")}).reset_index(drop=True)
    return out


__all__ = ["PeriodResult", "compute_period", "company_store", "prior_figures",
           "closed_period_changes", "closed_changes", "frozen_rows", "job_facts",
           "CLOSED_CHANGED"]
