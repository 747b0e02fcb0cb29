"""Overrun risk flags on the cost-to-complete review, and a ranking of jobs by risk.

Every flag is a row ``job_id, cost_code, cost_type, flag, dollar_impact, message``: job-level flags
leave cost_code and cost_type blank; ``dollar_impact`` is int64 cents, never negative; the message
is a sentence a controller can act on. Flags (rule; impact):

- ``eac_over_budget`` (code): ``eac_used = cost_to_date + etc_used`` above ``revised_budget``;
  impact = ``eac_used - revised_budget``.
- ``commitment_over_budget`` (code): ``committed > revised_budget``; impact = the excess.
- ``impossible_forecast`` (code): the PM's estimate to complete is below committed remaining
  (``etc_pm < committed_remaining``, ``etc_pm`` = the line's estimated cost at completion less
  its cost to date): the subcontracts and POs alone will cost more than the PM expects; impact =
  ``committed_remaining - etc_pm``. Committed remaining is the forecast's, as at the period end,
  each commitment line's invoicing by the rule of :mod:`wip_lib.sources.commitment_invoicing`
  (the ERP's cost rows where they name the commitment, else Procore's requisitions).

Every flag is as at the period end: the forecast it reads counts commitments and change orders by
approval date and invoices by period, budget snapshots and cost run to the period, and the job
figures are the period's.
- ``stale_forecast`` (code): the PM's remaining estimate (the snapshot's estimated cost at
  completion less the line's ERP cost through the snapshot) unchanged over the latest run of at least
  N + 1 budget snapshots of the code (unchanged for N periods; N =
  ``settings.policies['stale_forecast_periods']``) while cost was booked (ERP cost in the periods
  after the run's first snapshot through the latest is above zero); impact = that cost, the growth
  in EAC the PM has not revisited since the forecast last moved. A finished line (the unchanged
  forecast is zero) whose late cost is a change order billed after completion is not stale: its
  cost in those periods on ERP rows that name a commitment, up to the line's commitment change
  orders approved from the run's first snapshot period through the period end, is left out of the
  cost (``change_orders``, ``commitment_cost``; flagged only when cost remains). Where the ERP's
  job-cost export does not name commitments (the profile's ``job_cost_has_commitment``), no row
  names one and no cost is set aside.
- ``cost_ahead_of_curve`` (job): percent of the job's revised budget spent
  (``sum cost_to_date / sum revised_budget``) exceeds the fraction of the schedule elapsed
  (``time_elapsed``, from jobs.start_date and completion_date) by more than the tolerance
  (``settings.policies['cost_curve_tolerance']``, default :data:`CURVE_TOLERANCE` = 10 points).
  Checked per job, not per code, because single codes are front- or back-loaded by nature.
  Impact = ``cost_to_date - revised_budget * time_elapsed`` (cost spent ahead of the straight-line
  curve). Jobs without dates or without budget are not checked.
- ``pending_changes_loss`` (job, needs ``jobs`` with contract_revised, est_total_cost): the job is
  profitable now (``contract_revised - est_total_cost > 0``) but
  ``contract_revised - (est_total_cost + pending_cost_changes) < 0`` with pending cost changes
  summed from the forecast; impact = the resulting loss. Also when the job is already at a loss
  (``contract_revised - est_total_cost <= 0``) and pending cost changes would deepen it; impact =
  the pending cost changes (the further loss).
- Estimate and contract conditions (job, from the schedule's recognition ``flag`` in ``jobs``;
  open jobs only): ``no_estimate`` (cost but no estimate: revenue = cost; impact = cost to
  date), ``zero_etc`` (an estimated cost to complete of 0 on an open job: the whole contract is
  earned; impact = ``contract_revised - cost_to_date``, the margin recognised on it),
  ``stale_snapshot`` (the estimate comes from a budget snapshot before the period; impact = ERP
  cost booked after that snapshot through the period) and ``letter_of_intent`` (no signed
  contract at the period end; impact = cost to date carried without a price).
- ``loss_job`` (job, needs ``jobs`` with contract_revised, est_total_cost): the estimate at
  completion is above the contract (ASC 605-35: the full loss is provided at once); impact =
  ``est_total_cost - contract_revised``, the anticipated loss.
- ``margin_fade`` (job, needs ``jobs`` with est_gp_pct, prior_est_gp_pct, bid_gp_pct,
  contract_revised): the estimated gross margin fell more than
  ``settings.policies['fade_threshold_points']`` since the prior period or since the bid; the larger
  fall in points is reported; impact = the gross profit dollars faded against that reference
  (``prior_est_gross_profit - est_gross_profit`` or ``bid_gross_profit - est_gross_profit`` when
  ``jobs`` carries them, else ``fall * contract_revised``). Missing references are skipped.

When ``jobs`` is None (or lacks the columns), the two job flags that need it are not raised.

Billing flags (:func:`billing_flags`, from the WIP schedule and ERP AR):

- ``underbilling`` (job): underbillings (earned revenue above billings to date) above
  ``settings.policies['underbilling_flag_pct']`` of the revised contract; impact = the
  underbillings, earned revenue not yet billed.
- ``aged_billing`` (job): progress billings of periods through the period, dated more than
  ``settings.policies['aged_billing_days']`` days before the period end, still uncollected net of
  retainage (``amount_billed - retainage - amount_paid``; retainage is due on completion); impact
  = that amount. Collections are as the AR export holds them (it carries no payment date).
  Where the ERP's AR export carries no collections (the ERP profile's ``ar_has_collections``
  false: Spectrum, QuickBooks, Acumatica as read here), every billing would look unpaid, so
  aged billings are not flagged.

The risk ranking (:func:`risk_ranking`) counts distinct dollars: overlapping impacts on one job
and cost code are counted once, the largest (rule in its docstring).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from wip_lib.core.codes import trimmed_text
from wip_lib.core.grouping import aggregate
from wip_lib.core.money import report_text
from wip_lib.core.periods import period_end

KEYS = ["job_id", "cost_code", "cost_type"]
FLAGS = ("loss_job", "eac_over_budget", "commitment_over_budget", "impossible_forecast", "stale_forecast",
         "cost_ahead_of_curve", "pending_changes_loss", "margin_fade", "no_estimate", "zero_etc",
         "stale_snapshot", "letter_of_intent", "underbilling", "aged_billing")
#: The job flags read from the schedule's recognition flags (module docstring).
ESTIMATE_FLAGS = ("no_estimate", "zero_etc", "stale_snapshot", "letter_of_intent")
#: Flags on billings, not on the estimate: their dollars are counted beside the estimate's.
BILLING_FLAGS = ("underbilling", "aged_billing")
CURVE_TOLERANCE = 0.10
UNDERBILLING_PCT = 0.05
AGED_BILLING_DAYS = 90
OUT_COLUMNS = [*KEYS, "flag", "dollar_impact", "message"]


def _pct(x: pd.Series) -> pd.Series:
    return (x.astype("float64") * 100).round(1).astype("string") + "%"


def _round_cents(x: pd.Series) -> pd.Series:
    x = x.astype("float64")
    return pd.Series(np.sign(x) * np.floor(np.abs(x) + 0.5), index=x.index).astype("int64")


def _where(df: pd.DataFrame) -> pd.Series:
    """'Job 101 cost code 03-300 (L)'."""
    return ("Job " + df["job_id"].astype("string") + " cost code "
            + df["cost_code"].astype("string") + " (" + df["cost_type"].astype("string") + ")")


def _frame(df: pd.DataFrame, flag: str, impact: pd.Series, message: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame({
        "job_id": df["job_id"].astype("string"),
        "cost_code": df["cost_code"].astype("string") if "cost_code" in df else "",
        "cost_type": df["cost_type"].astype("string") if "cost_type" in df else "",
        "flag": flag, "dollar_impact": impact.astype("int64"), "message": message,
    }, index=df.index)
    return out


def _code_flags(f: pd.DataFrame) -> list[pd.DataFrame]:
    out = []
    over = f[f["eac_used"] > f["revised_budget"]]
    impact = over["eac_used"] - over["revised_budget"]
    out.append(_frame(over, "eac_over_budget", impact,
                      _where(over) + ": estimated cost at completion " + report_text(over["eac_used"])
                      + " (" + report_text(over["cost_to_date"]) + " to date + " + report_text(over["etc_used"])
                      + " to complete, " + over["etc_source"].astype("string") + ") is "
                      + report_text(impact) + " over the revised budget of " + report_text(over["revised_budget"])
                      + ". Confirm the forecast with the PM and raise a budget change or change "
                      "order, or book the overrun."))
    com = f[f["committed"] > f["revised_budget"]]
    impact = com["committed"] - com["revised_budget"]
    out.append(_frame(com, "commitment_over_budget", impact,
                      _where(com) + ": commitments of " + report_text(com["committed"]) + " exceed the "
                      "revised budget of " + report_text(com["revised_budget"]) + " by " + report_text(impact)
                      + ". Move budget to this code or find the change order that funds it."))
    imp = f[f["etc_pm"] < f["committed_remaining"]]
    impact = imp["committed_remaining"] - imp["etc_pm"]
    out.append(_frame(imp, "impossible_forecast", impact,
                      _where(imp) + ": the PM's estimate to complete of " + report_text(imp["etc_pm"])
                      + " (estimated cost at completion less cost to date) is " + report_text(impact)
                      + " below the " + report_text(imp["committed_remaining"])
                      + " still to be invoiced on commitments. Ask the PM to raise the forecast "
                      "or confirm the commitments will close short."))
    return out


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its key and period columns as trimmed text."""
    df = df.copy()
    for c in [*KEYS, "period"]:
        df[c] = df[c].astype("string").fillna("").str.strip()
    return df


def _change_order_cost(span: pd.DataFrame, change_orders: pd.DataFrame | None,
                       commitment_cost: pd.DataFrame | None) -> pd.Series:
    """Per row of ``span`` (a finished line's run: KEYS, start, end, forecast 0), the cost of the
    run that is a change order billed after completion: ERP cost of the run's periods on rows
    naming a commitment, up to the line's commitment change orders approved from the run's first
    snapshot period on (never below zero); 0 for other rows."""
    out = pd.Series(0, index=span.index, dtype="int64")
    fin = span[(span["forecast"] == 0).to_numpy(bool)]
    if fin.empty or change_orders is None or commitment_cost is None:
        return out
    runs = fin[[*KEYS, "start", "end"]].reset_index()
    cc = runs.merge(_keyed(commitment_cost)[[*KEYS, "period", "amount"]], on=KEYS)
    cc = cc[((cc["period"] > cc["start"]) & (cc["period"] <= cc["end"])).to_numpy(bool)]
    co = runs.merge(_keyed(change_orders)[[*KEYS, "period", "amount"]], on=KEYS)
    co = co[(co["period"] >= co["start"]).to_numpy(bool)]
    billed = cc.groupby("index")["amount"].sum()
    approved = co.groupby("index")["amount"].sum()
    both = pd.concat([billed.rename("billed"), approved.rename("approved")], axis=1).fillna(0)
    cover = both[["billed", "approved"]].min(axis=1).clip(lower=0).astype("int64")
    out.loc[cover.index] = cover.to_numpy()
    return out


def _stale(f: pd.DataFrame, budget_history: pd.DataFrame, cost_history: pd.DataFrame,
           n: int, change_orders: pd.DataFrame | None = None,
           commitment_cost: pd.DataFrame | None = None) -> pd.DataFrame:
    if budget_history is None or cost_history is None or n < 1 or budget_history.empty:
        return pd.DataFrame(columns=OUT_COLUMNS)
    bh = budget_history[[*KEYS, "period", "estimated_cost_at_completion"]]
    bh = bh.assign(**{c: trimmed_text(bh[c]) for c in [*KEYS, "period"]})
    bh = bh.groupby([*KEYS, "period"], as_index=False, sort=True)[
        "estimated_cost_at_completion"].sum()
    # The PM's remaining estimate at each snapshot: ECAC less the line's ERP cost through the
    # snapshot's period. It staying put while cost is booked means the estimate at completion
    # only grew by the cost booked: nobody revisited it.
    # The cost lines' keys as text, once (millions of rows at 2,000 jobs: a second normalised
    # copy for the span's cost below was half a gigabyte at the month-end's peak).
    ch = cost_history[[*KEYS, "period", "amount"]]
    ch = ch.assign(**{c: trimmed_text(ch[c]) for c in [*KEYS, "period"]})
    cum = ch.groupby([*KEYS, "period"], as_index=False, sort=True)["amount"].sum()
    at = bh[[*KEYS, "period"]].assign(amount=0)
    cum = pd.concat([cum, at], ignore_index=True).groupby(
        [*KEYS, "period"], as_index=False, sort=True)["amount"].sum()
    cum["amount"] = cum.groupby(KEYS, sort=False)["amount"].cumsum()
    bh = bh.merge(cum, on=[*KEYS, "period"], how="left")
    bh["forecast_to_complete"] = (bh["estimated_cost_at_completion"]
                                  - bh["amount"].fillna(0).astype("int64"))
    # The latest run of identical forecasts per code: a new run starts wherever the value moves.
    moved = bh.groupby(KEYS, sort=False)["forecast_to_complete"].diff().fillna(1) != 0
    bh["run"] = moved.astype("int64").groupby([bh[k] for k in KEYS], sort=False).cumsum()
    last = bh[bh["run"] == bh.groupby(KEYS, sort=False)["run"].transform("max")]
    span = aggregate(last, KEYS, as_index=False, snapshots=("period", "size"),
                     start=("period", "min"), end=("period", "max"),
                     forecast=("forecast_to_complete", "first"))
    # The run must reach the latest snapshot of the job (a code dropped from the budget is not
    # a stale forecast) and span N periods after its first snapshot.
    latest = bh.groupby("job_id")["period"].max()
    span = span[(span["snapshots"] >= n + 1) & (span["end"] == span["job_id"].map(latest))]
    m = span.merge(ch, on=KEYS, how="inner")
    m = m[(m["period"] > m["start"]) & (m["period"] <= m["end"])]
    cost = aggregate(m, KEYS, as_index=False, span_cost=("amount", "sum"))
    s = span.merge(cost, on=KEYS, how="inner")
    s["span_cost"] = s["span_cost"] - _change_order_cost(s, change_orders, commitment_cost)
    s = s[s["span_cost"] > 0]
    s = s.merge(f[KEYS], on=KEYS, how="inner") if f is not None else s
    impact = s["span_cost"].astype("int64")
    return _frame(s, "stale_forecast", impact,
                  _where(s) + ": the PM's forecast to complete has stayed at "
                  + report_text(s["forecast"].astype("int64")) + " for "
                  + (s["snapshots"] - 1).astype("string") + " periods ("
                  + s["start"] + " to " + s["end"] + ") while " + report_text(impact)
                  + " of cost was booked. Ask the PM to re-forecast this code before the WIP "
                  "is finalised.")


def _curve(f: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    j = aggregate(f, "job_id", as_index=False, cost_to_date=("cost_to_date", "sum"),
                  revised_budget=("revised_budget", "sum"), time_elapsed=("time_elapsed", "max"))
    j = j[(j["revised_budget"] > 0) & j["time_elapsed"].notna()]
    spent = j["cost_to_date"] / j["revised_budget"]
    j = j[spent > j["time_elapsed"] + tolerance]
    spent = spent[j.index]
    impact = j["cost_to_date"] - _round_cents(j["revised_budget"] * j["time_elapsed"])
    j = j.assign(cost_code="", cost_type="")
    return _frame(j, "cost_ahead_of_curve", impact.clip(lower=0),
                  "Job " + j["job_id"].astype("string") + ": " + _pct(spent)
                  + " of the revised budget is spent (" + report_text(j["cost_to_date"]) + " of "
                  + report_text(j["revised_budget"]) + ") with " + _pct(j["time_elapsed"])
                  + " of the schedule elapsed, " + report_text(impact.clip(lower=0))
                  + " ahead of the curve. Check for overruns or front-loaded costs, and whether "
                  "the schedule dates are current.")


def _job_flags(f: pd.DataFrame, jobs: pd.DataFrame | None, fade: float) -> list[pd.DataFrame]:
    out: list[pd.DataFrame] = []
    if jobs is None or jobs.empty:
        return out
    jobs = jobs.assign(job_id=jobs["job_id"].astype("string").str.strip(), cost_code="",
                       cost_type="")
    if {"contract_revised", "est_total_cost"} <= set(jobs.columns):
        pend = aggregate(f, "job_id", as_index=False, pending=("pending_cost_changes", "sum"))
        j = jobs.merge(pend, on="job_id", how="left")
        j["pending"] = j["pending"].fillna(0).astype("int64")
        j = j[j["est_total_cost"].notna().to_numpy(bool)]
        contract = j["contract_revised"].astype("int64")
        est = j["est_total_cost"].astype("int64")
        gp_now = contract - est
        gp_after = contract - (est + j["pending"])
        hit = (gp_now > 0) & (gp_after < 0)
        deeper = (gp_now <= 0) & (j["pending"] > 0)
        jt, now_t, after_t = j[hit], gp_now[hit], gp_after[hit]
        out.append(_frame(jt, "pending_changes_loss", -after_t,
                          "Job " + jt["job_id"] + ": pending cost changes of "
                          + report_text(jt["pending"]) + " would turn the estimated profit of "
                          + report_text(now_t) + " into a loss of " + report_text(-after_t) + ". Get the matching "
                          "owner change orders approved, or provide for the loss if they will "
                          "not be."))
        jd, now_d, after_d = j[deeper], gp_now[deeper], gp_after[deeper]
        out.append(_frame(jd, "pending_changes_loss", jd["pending"],
                          "Job " + jd["job_id"] + ": pending cost changes of "
                          + report_text(jd["pending"]) + " would deepen the anticipated loss of "
                          + report_text(-now_d) + " to " + report_text(-after_d) + ". Get the matching owner "
                          "change orders approved, or provide for the further loss if they will "
                          "not be."))
        known = jobs[jobs["est_total_cost"].notna().to_numpy(bool)]
        loss = known[(known["est_total_cost"].astype("int64")
                      > known["contract_revised"].astype("int64")).to_numpy(bool)]
        amount = loss["est_total_cost"].astype("int64") - loss["contract_revised"].astype("int64")
        out.append(_frame(loss, "loss_job", amount,
                          "Job " + loss["job_id"] + ": estimated total cost "
                          + report_text(loss["est_total_cost"].astype("int64")) + " is above the contract "
                          + report_text(loss["contract_revised"].astype("int64")) + ", an anticipated "
                          "loss of " + report_text(amount) + ", provided for in full this period. "
                          "Confirm the estimate and pursue change orders or claims."))
    if {"est_gp_pct", "prior_est_gp_pct", "bid_gp_pct", "contract_revised"} <= set(jobs.columns):
        j = jobs.copy()
        est = j["est_gp_pct"].astype("float64")
        d_prior = (j["prior_est_gp_pct"].astype("float64") - est)
        d_bid = (j["bid_gp_pct"].astype("float64") - est)
        drop = pd.concat([d_prior, d_bid], axis=1).max(axis=1, skipna=True)
        use_prior = d_prior.fillna(-np.inf) >= d_bid.fillna(-np.inf)
        hit = (drop > fade + 1e-12).fillna(False).astype(bool)
        j, drop, use_prior, est = j[hit], drop[hit], use_prior[hit], est[hit]
        ref = np.where(use_prior, "the prior period", "the bid")
        ref_pct = est + drop
        impact = _round_cents(drop * j["contract_revised"].astype("float64")).clip(lower=0)
        if {"est_gross_profit", "prior_est_gross_profit", "bid_gross_profit"} <= set(j.columns):
            ref_gp = pd.Series(np.where(use_prior, j["prior_est_gross_profit"].astype("Float64"),
                                        j["bid_gross_profit"].astype("Float64")), index=j.index)
            dollars = (ref_gp - j["est_gross_profit"].astype("Float64")).round()
            impact = dollars.fillna(impact.astype("Float64")).astype("int64").clip(lower=0)
        out.append(_frame(j, "margin_fade", impact,
                          "Job " + j["job_id"] + ": estimated gross margin is " + _pct(est)
                          + ", down " + (drop * 100).round(1).astype("string") + " points from "
                          + _pct(ref_pct) + " at " + pd.Series(ref, index=j.index, dtype="string")
                          + ", " + report_text(impact) + " of profit faded. Review the cost to complete "
                          "and unbilled change orders with the PM."))
    return out


def _estimate_flags(jobs: pd.DataFrame | None, cost_history: pd.DataFrame | None
                    ) -> list[pd.DataFrame]:
    """The estimate and contract conditions of open jobs (module docstring), from the recognition
    flag codes the schedule carries in ``jobs["flag"]``."""
    need = {"flag", "status", "cost_to_date", "contract_revised"}
    if jobs is None or jobs.empty or not need <= set(jobs.columns):
        return []
    j = jobs.assign(job_id=jobs["job_id"].astype("string").str.strip(), cost_code="",
                    cost_type="")
    j = j[(j["status"].astype("string") != "complete").to_numpy(bool)]
    codes = j["flag"].astype("string").fillna("").str.split(";")
    has = {f: codes.map(lambda c, f=f: f in c).astype(bool) for f in ESTIMATE_FLAGS}
    out = []
    n = j[has["no_estimate"].to_numpy(bool)]
    out.append(_frame(n, "no_estimate", n["cost_to_date"].astype("int64"),
                      "Job " + n["job_id"] + ": " + report_text(n["cost_to_date"].astype("int64"))
                      + " of cost and no estimate to complete (no budget snapshot or override): "
                      "revenue is recognised equal to cost, at zero margin. Get the PM's "
                      "forecast into Procore or enter a controller override."))
    z = j[has["zero_etc"].to_numpy(bool)]
    margin = (z["contract_revised"].astype("int64") - z["cost_to_date"].astype("int64")).clip(
        lower=0)
    out.append(_frame(z, "zero_etc", margin,
                      "Job " + z["job_id"] + ": open with an estimated cost to complete of $0.00:"
                      " the job counts as 100% complete and its whole contract of "
                      + report_text(z["contract_revised"].astype("int64")) + " as earned, "
                      + report_text(margin) + " above cost. Confirm the job is finished, or enter the "
                      "cost still to come."))
    st_ = j[has["stale_snapshot"].to_numpy(bool)]
    since = pd.Series(0, index=st_.index, dtype="int64")
    if cost_history is not None and len(st_) and "estimate_period" in st_:
        ch = cost_history.assign(job_id=cost_history["job_id"].astype("string").str.strip(),
                                 period=cost_history["period"].astype("string"))
        m = ch.merge(st_[["job_id", "estimate_period", "period"]].rename(
            columns={"period": "_p"}), on="job_id", how="inner")
        m = m[(m["period"] > m["estimate_period"]) & (m["period"] <= m["_p"])]
        by = m.groupby("job_id")["amount"].sum()
        since = st_["job_id"].map(by).fillna(0).astype("int64").clip(lower=0)
    out.append(_frame(st_, "stale_snapshot", since,
                      "Job " + st_["job_id"] + ": the estimate comes from the budget snapshot of "
                      + st_.get("estimate_period", pd.Series("", index=st_.index)).astype(
                          "string").fillna("") + ", taken before the period; " + report_text(since)
                      + " of cost was booked since. Take the month-end snapshot in Procore (or "
                      "confirm the forecast) before the WIP is finalised."))
    loi = j[has["letter_of_intent"].to_numpy(bool)]
    out.append(_frame(loi, "letter_of_intent", loi["cost_to_date"].astype("int64"),
                      "Job " + loi["job_id"] + ": no signed contract at the period end (letter of"
                      " intent or unpriced work); " + report_text(loi["cost_to_date"].astype("int64"))
                      + " of cost is carried without a signed price. Get the contract signed, "
                      "or set an estimated contract value (company.yaml contract_types)."))
    return [o for o in out if len(o)]


def overrun_flags(forecast_df: pd.DataFrame, budget_history: pd.DataFrame | None,
                  cost_history: pd.DataFrame | None, jobs: pd.DataFrame | None,
                  settings, *, change_orders: pd.DataFrame | None = None,
                  commitment_cost: pd.DataFrame | None = None) -> pd.DataFrame:
    """All overrun flags (rules in the module docstring), sorted by job, flag, code, type.

    ``budget_history``: budget snapshots up to the period (job_id, period, cost_code, cost_type,
    forecast_to_complete; sub jobs are summed). ``cost_history``: ERP cost in Procore codes by
    job_id, cost_code, cost_type, period, amount (:func:`wip_lib.accounting.forecast.erp_cost_history`).
    ``change_orders`` (job_id, cost_code, cost_type, period approved, amount: commitment change
    orders approved by the period end) and ``commitment_cost`` (``cost_history`` of the ERP rows
    that name a commitment) tell a finished line's change order billed after completion from a
    stale forecast; without them no cost is set aside.
    """
    policies = settings.policies
    f = forecast_df
    parts = _code_flags(f)
    parts.append(_stale(f, budget_history, cost_history, int(policies["stale_forecast_periods"]),
                        change_orders, commitment_cost))
    parts.append(_curve(f, float(policies.get("cost_curve_tolerance", CURVE_TOLERANCE))))
    parts += _job_flags(f, jobs, float(policies["fade_threshold_points"]))
    parts += _estimate_flags(jobs, cost_history)
    return merge_flags(*parts)


def merge_flags(*parts: pd.DataFrame) -> pd.DataFrame:
    """Flag frames stacked in the flags' order: by job, flag (:data:`FLAGS`), code, type."""
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return pd.DataFrame({
            "job_id": pd.Series(dtype="string"), "cost_code": pd.Series(dtype="string"),
            "cost_type": pd.Series(dtype="string"), "flag": pd.Series(dtype="string"),
            "dollar_impact": pd.Series(dtype="int64"), "message": pd.Series(dtype="string")})
    out = pd.concat([p[OUT_COLUMNS] for p in parts], ignore_index=True)
    for c in ("job_id", "cost_code", "cost_type", "flag", "message"):
        out[c] = out[c].astype("string")
    out["dollar_impact"] = out["dollar_impact"].astype("int64").clip(lower=0)
    out["_order"] = out["flag"].map({f: i for i, f in enumerate(FLAGS)}).fillna(len(FLAGS))
    out = out.sort_values(["job_id", "_order", "cost_code", "cost_type"], kind="stable")
    return out[OUT_COLUMNS].reset_index(drop=True)


def billing_flags(schedule: pd.DataFrame, ar_billings: pd.DataFrame | None, period: str,
                  settings, *, collections: bool = True) -> pd.DataFrame:
    """The billing flags of the module docstring: ``underbilling`` from the WIP ``schedule``
    (job_id, contract_revised, underbillings) and ``aged_billing`` from ERP AR billings (job_id,
    invoice_date, period, amount_billed, retainage, amount_paid) at the end of ``period``, only
    when the AR export carries collections (``collections``)."""
    policies = settings.policies
    parts = []
    if schedule is not None and len(schedule):
        pct = float(policies.get("underbilling_flag_pct", UNDERBILLING_PCT))
        j = schedule.assign(job_id=schedule["job_id"].astype("string").str.strip(),
                            cost_code="", cost_type="")
        under = j["underbillings"].fillna(0).astype("int64")
        contract = j["contract_revised"].fillna(0).astype("int64")
        hit = ((under > 0) & (under.astype("float64") > pct * contract.astype("float64"))
               ).to_numpy(bool)
        j, under, contract = j[hit], under[hit], contract[hit]
        share = (under.astype("float64") / contract.astype("float64").where(contract > 0))
        parts.append(_frame(j, "underbilling", under,
                            "Job " + j["job_id"] + ": underbilled " + report_text(under) + " ("
                            + _pct(share).fillna("no contract") + " of the contract of "
                            + report_text(contract) + "): earned revenue not yet billed. Bill the work "
                            "done, or find the cost or estimate that overstates it, before the "
                            "asset is reported."))
    if collections and ar_billings is not None and len(ar_billings):
        days = int(policies.get("aged_billing_days", AGED_BILLING_DAYS))
        end = period_end(period)
        ar = ar_billings
        when = pd.to_datetime(ar["invoice_date"])
        old = ((ar["period"].astype("string") <= period).fillna(False).to_numpy(bool)
               & ((end - when).dt.days > days).fillna(False).to_numpy(bool))
        ar = ar[old]
        open_ = (ar["amount_billed"].astype("int64") - ar["retainage"].fillna(0).astype("int64")
                 - ar["amount_paid"].fillna(0).astype("int64"))
        open_ = open_.clip(lower=0)
        aged = pd.DataFrame({"job_id": ar["job_id"].astype("string").str.strip(),
                             "open": open_, "unpaid": (open_ > 0).astype("int64"),
                             "oldest": when[old].where(open_ > 0)})
        aged = aggregate(aged, "job_id", as_index=False, open=("open", "sum"),
                         oldest=("oldest", "min"), invoices=("unpaid", "sum"))
        aged = aged[aged["open"] > 0].assign(cost_code="", cost_type="")
        parts.append(_frame(aged, "aged_billing", aged["open"].astype("int64"),
                            "Job " + aged["job_id"] + ": " + report_text(aged["open"].astype("int64"))
                            + " billed on " + aged["invoices"].astype("string")
                            + " invoice(s) more than " + str(days) + " days before "
                            + str(end.date()) + " (oldest " + aged["oldest"].dt.strftime(
                                "%Y-%m-%d") + ") is still uncollected, net of retainage. Chase "
                            "the owner, and consider whether the billing is disputed."))
    return merge_flags(*parts)


def risk_ranking(flags_df: pd.DataFrame) -> pd.DataFrame:
    """Jobs by distinct dollars at risk: ``rank, job_id, total_impact, flag_count, flags,
    explanation``.

    ``total_impact`` counts each dollar once:

    - estimate (every flag but the billing flags): impacts on one job and cost code overlap (an
      over-committed code is usually also over its EAC, and its forecast impossible), so a code
      counts its largest impact; the job-level impacts (loss, fade, pending-change loss, cost ahead
      of the curve, the estimate conditions) are measured on the same estimate as its codes', so
      the estimate risk is the largest of each job-level impact and the sum over the job's codes
      of their largest impacts;
    - billings (:data:`BILLING_FLAGS`): the underbilling (earned, not billed) and aged billings
      (billed, not collected) are other dollars than each other and than the estimate's, so they
      are added.

    ``flags`` names the job's flag kinds (in :data:`FLAGS` order); the explanation also gives the
    plain sum of the flags' impacts, which counts overlapping dollars several times. Ranked by
    total impact, then flag count, then job number.
    """
    cols = ["rank", "job_id", "total_impact", "flag_count", "flags", "explanation"]
    if flags_df.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("rank", "total_impact",
                                                                 "flag_count") else "string")
                             for c in cols})
    f = flags_df.reset_index(drop=True).copy()
    f["cost_code"] = f["cost_code"].fillna("").astype("string")
    f["cost_type"] = f["cost_type"].fillna("").astype("string")
    f["_order"] = f["flag"].map({n: i for i, n in enumerate(FLAGS)}).fillna(len(FLAGS))
    names = (f.sort_values(["_order"], kind="stable").drop_duplicates(["job_id", "flag"])
             .groupby("job_id")["flag"].agg(", ".join))
    top = f.sort_values(["dollar_impact", "_order"], ascending=[False, True],
                        kind="stable").drop_duplicates("job_id").set_index("job_id")
    billing = f["flag"].isin(BILLING_FLAGS).to_numpy(bool)
    est = f[~billing]
    on_code = (est["cost_code"] != "").to_numpy(bool)
    codes = (est[on_code].groupby(["job_id", "cost_code", "cost_type"])["dollar_impact"].max()
             .groupby(level="job_id").sum())
    job_level = est[~on_code].groupby("job_id")["dollar_impact"].max()
    estimate = pd.concat([codes, job_level], axis=1).max(axis=1)
    bills = f[billing].groupby("job_id")["dollar_impact"].sum()
    j = aggregate(f, "job_id", flag_count=("flag", "size"), flagged=("dollar_impact", "sum"))
    j["total_impact"] = (estimate.reindex(j.index).fillna(0)
                         + bills.reindex(j.index).fillna(0)).astype("int64")
    j["flags"] = names
    j = j.join(top[["flag", "cost_code", "cost_type", "dollar_impact"]])
    j = j.reset_index().sort_values(["total_impact", "flag_count", "job_id"],
                                    ascending=[False, False, True], kind="stable")
    j["rank"] = np.arange(1, len(j) + 1)
    where = pd.Series(np.where(j["cost_code"].fillna("") != "",
                               " on cost code " + j["cost_code"].fillna("").astype(str) + " ("
                               + j["cost_type"].fillna("").astype(str) + ")", ""), index=j.index)
    overlap = pd.Series(np.where(j["flagged"] != j["total_impact"],
                                 " (distinct dollars; the flags' impacts add to "
                                 + report_text(j["flagged"]).astype(str) + " with overlaps)", ""),
                        index=j.index)
    j["explanation"] = ("Job " + j["job_id"].astype("string") + " has "
                        + j["flag_count"].astype("string") + " flag(s) ("
                        + j["flags"].astype("string") + ") with " + report_text(j["total_impact"])
                        + " at stake" + overlap + "; the largest is " + j["flag"].astype("string")
                        + where + " at " + report_text(j["dollar_impact"]) + ".")
    j["total_impact"] = j["total_impact"].astype("int64")
    j["flag_count"] = j["flag_count"].astype("int64")
    for c in ("job_id", "flags", "explanation"):
        j[c] = j[c].astype("string")
    return j[cols].reset_index(drop=True)
