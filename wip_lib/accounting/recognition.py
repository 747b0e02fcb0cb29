"""Revenue recognition per job at a period end: ASC 606 input method (cost-to-cost) with the
ASC 605-35 loss guidance, vectorised over jobs and exact to the cent.

Symbols (all money in int64 cents):

- ``TP``  transaction price = contract_original + change_orders_approved
  (+ change_orders_pending only when ``Policy.include_pending_co_revenue``)
- ``CTD`` cost to date; ``ETC`` estimated cost to complete; ``EAC = CTD + ETC``
- ``M``   uninstalled materials whose control passed to the owner (excluded from progress)
- ``B``   billed to date, gross of retainage

Rules implemented (and the formula each column follows):

- ``p = (CTD - M) / (EAC - M)`` (cost-to-cost, ASC 606-10-55-20/21), a fraction.
- ``ER = round_half_up((TP - M) * (CTD - M) / (EAC - M)) + M``: computed on Python integers,
  so ``TP * CTD`` never leaves exact arithmetic; ``M`` is recognised at zero margin.
- Loss contracts (``EAC > TP``), ASC 605-35-25-46/47: the full anticipated loss is recognised now.
  ``provision = (ER - CTD) - (TP - EAC)`` is taken from the *rounded* ``ER``, so
  ``GP to date = ER - CTD - provision == TP - EAC`` exactly, whatever ``p``; it equals
  ``(EAC - TP) * (1 - p)`` to within half a cent and is never negative.
- Over/under billing per job ``B - ER``: positive is an overbilling (contract liability), negative
  an underbilling (contract asset); never offset across jobs, so ``ER - B = under - over`` per job
  and the identity ``CTD + (ER - CTD) - B = under - over`` holds exactly over any set of jobs.
- Surety (net) view: ``over_under_net = (B - ER) + provision = B - ER'`` where
  ``ER' = CTD + TP - EAC`` is the "revenue reduced by the loss" convention.

Edge cases, as policy (never a division by zero, never a default of 100%):

- No estimate (``ETC`` missing): ``CTD = 0`` gives ``ER = 0``; ``CTD > 0`` gives ``ER = CTD``
  (zero margin) and flag ``no_estimate``. If ``CTD > TP`` a loss is already evident: ``EAC`` is
  taken as ``CTD`` (its floor) and the loss is recognised.
- ``CTD > EAC`` (a negative ``ETC``): the estimate is stale; ``EAC`` is raised to ``CTD``, ``p``
  becomes 100%, flag ``cost_over_estimate``, and the loss test runs on the raised ``EAC``.
- Start threshold: ``p < start_threshold`` and not a loss gives ``ER = CTD`` (zero margin), flag
  ``below_start_threshold``. Losses are never deferred.
- ``status == "complete"`` (optional column): the job is finished; ``EAC = CTD`` (final cost),
  ``p = 1``, ``ER = TP``, provision 0.
- ``round_pct_first``: ``p`` is rounded half-up to 4 decimals (a percent to 2 decimals) before
  ``ER = round_half_up((TP - M) * p) + M``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

import numpy as np
import pandas as pd

from wip_lib.core.errors import InputError, PolicyError, Problem
from wip_lib.core.money import cents_to_text, round_half_up_div

#: Decimal places of the fraction ``p`` when ``Policy.round_pct_first`` (56.25% = 0.5625).
PCT_ROUND_PLACES = 4

REQUIRED = ("job_id", "contract_original", "cost_to_date", "est_cost_to_complete",
            "billed_to_date")

FLAG_CODES = ("no_estimate", "cost_over_estimate", "below_start_threshold", "loss")


@dataclass(frozen=True)
class Policy:
    """Recognition policy choices (company.yaml ``policies``).

    - ``include_pending_co_revenue``: ASC 606-10-32-11 variable consideration; pending change-order
      revenue counts in ``TP`` only when a company includes a constrained estimate.
    - ``start_threshold``: fraction in ``[0, 1)``; below it, ``ER = CTD`` (zero margin). 0 = off.
    - ``net_loss_provision``: present the surety (net) view, ``(B - ER) + provision``, as the
      over/under billings in schedules and the journal entry.
    - ``round_pct_first``: round ``p`` to 4 decimals before multiplying by ``TP``.
    """

    include_pending_co_revenue: bool = False
    start_threshold: float = 0.0
    net_loss_provision: bool = False
    round_pct_first: bool = False

    def __post_init__(self) -> None:
        for name in ("include_pending_co_revenue", "net_loss_provision", "round_pct_first"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise PolicyError(f"policy {name} must be true or false, not {value!r}")
        t = self.start_threshold
        if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)):
            raise PolicyError(f"policy start_threshold must be a fraction such as 0.10, "
                              f"not {t!r}")
        if not (math.isfinite(float(t)) and 0.0 <= float(t) < 1.0):
            raise PolicyError(f"policy start_threshold must be at least 0 and below 1 "
                              f"(0.10 is 10% complete), not {t!r}")

    @classmethod
    def from_settings(cls, mapping: Mapping[str, Any] | None) -> "Policy":
        """Build from a settings mapping (e.g. ``Settings.policies``); keys that are not
        recognition policies (forecast settings) are ignored. Raises PolicyError on bad values."""
        mapping = mapping or {}
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in mapping.items() if k in names})


def _money(jobs: pd.DataFrame, col: str, default: int | None) -> pd.Series:
    """A money column as Int64 (missing column -> ``default``; blanks stay <NA>)."""
    if col not in jobs.columns:
        return pd.Series(pd.NA if default is None else default, index=jobs.index, dtype="Int64")
    return jobs[col].astype("Int64")


def _check(jobs: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in jobs.columns]
    if missing:
        raise InputError([Problem("jobs", f"required column {c!r} is missing",
                                  f"add the column {c}", column=c) for c in missing])
    problems = []
    rows = np.arange(len(jobs)) + 2
    for col in ("contract_original", "cost_to_date", "billed_to_date"):
        bad = jobs[col].isna().to_numpy()
        for r in rows[bad]:
            problems.append(Problem("jobs", f"{col} is blank", f"enter {col} (0 if none)",
                                    row=int(r), column=col))
    ctd = jobs["cost_to_date"].astype("Int64")
    m = _money(jobs, "uninstalled_materials", 0).fillna(0)
    neg = (ctd < 0).fillna(False).to_numpy()
    for r, v in zip(rows[neg], ctd[neg]):
        problems.append(Problem("jobs", "cost to date is negative", "check the job cost export",
                                row=int(r), column="cost_to_date", value=int(v)))
    bad_m = ((m < 0) | (m > ctd)).fillna(False).to_numpy()
    for r, v in zip(rows[bad_m], m[bad_m]):
        problems.append(Problem("jobs", "uninstalled materials must be between 0 and cost to date",
                                "enter the cost of materials on site not yet installed",
                                row=int(r), column="uninstalled_materials", value=int(v)))
    if problems:
        raise InputError(problems)


def _text(cents: np.ndarray) -> pd.Series:
    return cents_to_text(pd.Series(np.asarray(cents, dtype="int64"), dtype="Int64"))


def recognize(jobs: pd.DataFrame, policy: Policy = Policy()) -> pd.DataFrame:
    """Percent-complete recognition for every job (row) at one period end.

    Rule: ASC 606 input method (cost-to-cost) ``p = (CTD - M) / (EAC - M)``,
    ``ER = round_half_up((TP - M) * p) + M``; ASC 605-35 full anticipated loss
    ``provision = (ER - CTD) - (TP - EAC)`` when ``EAC > TP`` so that ``GP = TP - EAC`` exactly;
    over/under billing ``B - ER`` per job (see the module docstring for every edge policy).

    Returns the input columns plus: contract_revised, change_orders_pending_included,
    est_cost_to_complete (effective, >= 0; the given value is kept in est_cost_to_complete_given),
    est_total_cost, est_gross_profit, est_gp_pct, pct_complete, pct_num/pct_den (p as an exact
    fraction), earned_revenue, gross_profit_to_date, loss_provision, cost_of_revenue_to_date,
    over_under, underbillings, overbillings, over_under_net, underbillings_net, overbillings_net,
    backlog, remaining_gross_profit, est_gross_profit_bid/est_gp_pct_bid (when est_cost_original
    is given), flag and flag_reason. Rows need not have unique job_id (one row = one job-period).
    Optional money columns: change_orders_approved, change_orders_pending and
    uninstalled_materials are read as 0 when absent or blank; retainage_receivable and
    est_cost_original stay missing (<NA>).
    """
    _check(jobs)
    out = jobs.copy()
    idx = jobs.index
    n_rows = len(jobs)

    co = jobs["contract_original"].astype("Int64").to_numpy(dtype="int64")
    coa = _money(jobs, "change_orders_approved", 0).fillna(0).to_numpy(dtype="int64")
    pend = _money(jobs, "change_orders_pending", 0).fillna(0).to_numpy(dtype="int64")
    ctd = jobs["cost_to_date"].astype("Int64").to_numpy(dtype="int64")
    etc_in = jobs["est_cost_to_complete"].astype("Int64")
    m = _money(jobs, "uninstalled_materials", 0).fillna(0).to_numpy(dtype="int64")
    billed = jobs["billed_to_date"].astype("Int64").to_numpy(dtype="int64")
    if "status" in jobs.columns:
        complete = (jobs["status"].astype("string").str.strip().str.lower() == "complete")
        complete = complete.fillna(False).to_numpy(dtype=bool)
    else:
        complete = np.zeros(n_rows, dtype=bool)

    # Transaction price: TP = original + approved COs (+ pending COs where the policy allows).
    pend_incl = pend if policy.include_pending_co_revenue else np.zeros(n_rows, dtype="int64")
    tp = co + coa + pend_incl

    # Estimate at completion: EAC = CTD + max(ETC, 0); missing ETC -> no estimate.
    etc_na = etc_in.isna().to_numpy()
    etc = etc_in.fillna(0).to_numpy(dtype="int64")
    no_est = etc_na & ~complete
    over_est = ~etc_na & (etc < 0) & ~complete
    no_est_loss = no_est & (ctd > tp)  # a loss of at least CTD - TP is already evident
    eac = np.where(complete, ctd, ctd + np.maximum(etc, 0))
    eac = np.where(no_est_loss, ctd, eac)
    has_eac = ~no_est | no_est_loss
    eac = np.where(has_eac, eac, 0)
    loss = has_eac & (eac > tp)

    # Percent complete as an exact fraction pct_num / pct_den.
    num = ctd - m
    den = eac - m
    measurable = has_eac & (den > 0) & ~complete
    p_num = np.zeros(n_rows, dtype=object)
    p_den = np.ones(n_rows, dtype=object)
    if measurable.any():
        nm, dm = num[measurable].astype(object), den[measurable].astype(object)
        if policy.round_pct_first:
            scale = 10 ** PCT_ROUND_PLACES
            p_num[measurable] = round_half_up_div(nm * scale, dm)
            p_den[measurable] = scale
        else:
            p_num[measurable] = nm
            p_den[measurable] = dm
    p_num[complete] = 1
    p_den[complete] = 1

    # Earned revenue: ER = round_half_up((TP - M) * p) + M, in exact integers.
    er = ctd.astype(object).copy()  # no estimate / no measurable progress: ER = CTD (zero margin)
    if measurable.any():
        er[measurable] = round_half_up_div((tp - m)[measurable].astype(object) * p_num[measurable],
                                           p_den[measurable]) + m[measurable].astype(object)
    er[complete] = tp[complete].astype(object)
    er = er.astype("int64")

    pct = np.where(no_est & ~no_est_loss, np.nan,
                   p_num.astype("float64") / p_den.astype("float64"))

    # Start-of-job threshold (never for a loss, never for a finished job).
    below = (measurable & ~loss & (ctd > 0) & (policy.start_threshold > 0)
             & (pct < policy.start_threshold))
    er = np.where(below, ctd, er)

    # ASC 605-35: provision = (ER - CTD) - (TP - EAC) -> GP to date = TP - EAC exactly.
    provision = np.where(loss, (er - ctd) - (tp - eac), 0)
    # Only a rounded-first p can overshoot on a loss job; hold ER at CTD + TP - EAC then.
    short = provision < 0
    er = np.where(short, ctd + tp - eac, er)
    provision = np.where(short, 0, provision)

    gp = er - ctd - provision
    over_under = billed - er
    over_under_net = over_under + provision
    egp = tp - eac

    def nullable(values: np.ndarray, mask: np.ndarray) -> pd.Series:
        return pd.Series(values, index=idx, dtype="Int64").mask(mask)

    out["contract_revised"] = pd.Series(tp, index=idx, dtype="int64")
    out["change_orders_pending_included"] = pd.Series(pend_incl, index=idx, dtype="int64")
    if "change_orders_approved" not in out.columns:
        out["change_orders_approved"] = pd.Series(coa, index=idx, dtype="int64")
    if "uninstalled_materials" not in out.columns:
        out["uninstalled_materials"] = pd.Series(m, index=idx, dtype="int64")
    out["est_cost_to_complete_given"] = etc_in
    out["est_cost_to_complete"] = nullable(eac - ctd, ~has_eac)
    out["est_total_cost"] = nullable(eac, ~has_eac)
    out["est_gross_profit"] = nullable(egp, ~has_eac)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["est_gp_pct"] = pd.Series(np.where(has_eac & (tp != 0), egp / np.where(tp == 0, 1, tp),
                                               np.nan), index=idx, dtype="float64")
    out["pct_complete"] = pd.Series(pct, index=idx, dtype="float64")
    out["pct_num"] = pd.Series(p_num.astype("int64"), index=idx, dtype="int64")
    out["pct_den"] = pd.Series(p_den.astype("int64"), index=idx, dtype="int64")
    out["earned_revenue"] = pd.Series(er, index=idx, dtype="int64")
    out["gross_profit_to_date"] = pd.Series(gp, index=idx, dtype="int64")
    out["loss_provision"] = pd.Series(provision, index=idx, dtype="int64")
    out["cost_of_revenue_to_date"] = pd.Series(ctd + provision, index=idx, dtype="int64")
    out["over_under"] = pd.Series(over_under, index=idx, dtype="int64")
    out["underbillings"] = pd.Series(np.maximum(-over_under, 0), index=idx, dtype="int64")
    out["overbillings"] = pd.Series(np.maximum(over_under, 0), index=idx, dtype="int64")
    out["over_under_net"] = pd.Series(over_under_net, index=idx, dtype="int64")
    out["underbillings_net"] = pd.Series(np.maximum(-over_under_net, 0), index=idx, dtype="int64")
    out["overbillings_net"] = pd.Series(np.maximum(over_under_net, 0), index=idx, dtype="int64")
    out["backlog"] = pd.Series(tp - er, index=idx, dtype="int64")
    out["remaining_gross_profit"] = nullable(egp - gp, ~has_eac)
    if "est_cost_original" in jobs.columns:
        eco = jobs["est_cost_original"].astype("Int64")
        bid = pd.Series(co, index=idx, dtype="Int64") - eco
        out["est_gross_profit_bid"] = bid
        co_s = pd.Series(co, index=idx, dtype="float64")
        out["est_gp_pct_bid"] = (bid.astype("float64") / co_s.where(co_s != 0)).astype("float64")

    out["flag"], out["flag_reason"] = _flags(
        no_est=no_est & (ctd > 0), over_est=over_est, below=below, loss=loss & ~complete,
        ctd=ctd, tp=tp, eac=eac, etc=etc, pct=pct, provision=provision,
        threshold=policy.start_threshold, index=idx)
    return out


def _flags(*, no_est, over_est, below, loss, ctd, tp, eac, etc, pct, provision, threshold,
           index) -> tuple[pd.Series, pd.Series]:
    """Flag codes (``;``-joined) and one readable sentence per code, built column-wise over the
    flagged rows only."""
    codes = pd.Series("", index=index, dtype="string")
    reasons = codes.copy()
    masks = {"no_estimate": no_est, "cost_over_estimate": over_est,
             "below_start_threshold": below, "loss": loss}
    masks = {k: np.asarray(v, dtype=bool) for k, v in masks.items()}
    flagged = np.logical_or.reduce(list(masks.values()))
    if not flagged.any():
        return codes, reasons
    sub = index[flagged]

    def text(cents: np.ndarray) -> pd.Series:
        return pd.Series(_text(np.asarray(cents)[flagged]).to_numpy(), index=sub, dtype="string")

    ctd_t, tp_t, eac_t, etc_t = text(ctd), text(tp), text(eac), text(etc)
    loss_t, prov_t = text(np.asarray(eac) - np.asarray(tp)), text(provision)
    pct_t = pd.Series((np.round(np.asarray(pct, dtype=float)[flagged] * 100, 2)).astype(str),
                      index=sub, dtype="string") + "%"
    sentences = {
        "no_estimate": "No estimate to complete with cost to date " + ctd_t
        + ": revenue recognised equal to cost (zero margin) until an estimate is entered.",
        "cost_over_estimate": "Cost to date " + ctd_t + " is above the estimate (cost to "
        "complete given as " + etc_t + "): estimated total cost raised to cost to date and "
        "percent complete capped at 100%; update the estimate.",
        "below_start_threshold": "Percent complete " + pct_t + f" is below the {threshold:.2%} "
        "start threshold: revenue recognised equal to cost (zero margin).",
        "loss": "Anticipated loss of " + loss_t + " (estimated total cost " + eac_t
        + " above contract " + tp_t + ") recognised in full; loss provision " + prov_t
        + " for the remaining work.",
    }
    c = pd.Series("", index=sub, dtype="string")
    r = c.copy()
    for code in FLAG_CODES:
        mask = pd.Series(masks[code][flagged], index=sub)
        c = c.mask(mask, c.where(c == "", c + ";") + code)
        r = r.mask(mask, r.where(r == "", r + " ") + sentences[code])
    codes[sub] = c
    reasons[sub] = r
    return codes, reasons
