"""Subcontractor pay-app review: every subcontractor pay application billed in the period,
checked against its commitment before approval.

Symbols: ``S`` the commitment sum to date of an application = the commitment's
``original_amount`` + its change orders with ``status_family`` approved and ``approved_date`` on
or before the application's period end (no approved date: approved); line 4 / 5 / 8 the
application's G702 lines; ``G``, ``C`` its G703 columns.

Checks (each ``check(review) -> (findings, problems)``; findings as
:mod:`wip_lib.accounting.review_findings`):

- ``line_over_100``, ``does_not_foot``, ``stored_materials``, ``contract_sum`` and ``retainage``:
  the G703/G702 rules of :mod:`wip_lib.accounting.progress_billing` (one place for them), with
  the commitment as the contract: the commitment's Retainage % or retainage rule
  (``flat``/``sliding:A>B@P``, :mod:`wip_lib.accounting.retainage`) gives the rate, ``S`` the
  contract sum. So each line stays within its scheduled value and the schedule of values within
  the commitment and its approved change orders.
- ``over_commitment``: billed to date beyond the commitment: ``line 4 > S``; expected ``S``,
  actual line 4 (a pending or unwritten change order billed before it is approved).
- ``lien_waiver``: the waiver for the previous payment on file (``lien_waivers.csv``,
  :mod:`wip_lib.sources.lien_waivers`). The previous payment is the previous certified
  application's line 8. A waiver covers it when it is for the same job and commitment, its
  amount is at least the payment and: unconditional, its through date is on or after that
  application's period end; conditional, its through date is that period end (a conditional
  waiver through a later date is the one for a later payment), and only while Procore does not
  show the payment made (once paid, the waiver must be unconditional). No waiver: ``error`` (expected the payment,
  actual 0); a conditional one for a payment made: ``warning``; an amount short of the payment:
  ``error`` (actual the largest amount on file). A first application has no previous payment.
  Without a ``lien_waivers.csv`` the check is not run, and the review says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wip_lib.accounting import progress_billing as pb
from wip_lib.accounting import retainage as rt
from wip_lib.accounting import review_findings as rf
from wip_lib.accounting.contract import approved_changes_at
from wip_lib.core.errors import Problem
from wip_lib.core.money import report_text

ORDER = pb.OWNER_CHECKS_ORDER


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip()


def commitment_sum_at(company, documents: pd.DataFrame) -> pd.Series:
    """``S`` (module docstring) of each row of ``documents`` (``job_id``, ``contract``,
    ``period_end``), aligned with it; 0 for an unknown commitment."""
    docs = pd.DataFrame({"job_id": _text(documents["job_id"]).to_numpy(),
                         "contract": _text(documents["contract"]).to_numpy(),
                         "_end": pd.to_datetime(documents["period_end"]).to_numpy(),
                         "_i": np.arange(len(documents))})
    cm = company["commitments"]
    orig = pd.DataFrame({"job_id": _text(cm["job_id"]), "contract": _text(cm["commitment_number"]),
                         "_orig": cm["original_amount"].astype("int64")}).drop_duplicates(
        ["job_id", "contract"])
    base = docs.merge(orig, on=["job_id", "contract"], how="left")["_orig"].fillna(0).astype(
        "int64").to_numpy()
    added = approved_changes_at(docs[["job_id", "contract", "_end"]],
                                company["commitment_change_orders"], "commitment_number")
    return pd.Series(base + added, index=documents.index, dtype="int64")


@dataclass(frozen=True, eq=False)
class PayAppReview(pb.Review):
    """A :class:`~wip_lib.accounting.progress_billing.Review` of subcontractor applications,
    with every application (for the previous payments) and the lien waiver log."""

    all_apps: pd.DataFrame = field(default=None, repr=False)
    waivers: pd.DataFrame | None = field(default=None, repr=False)


def over_commitment(review: PayAppReview):
    """Billed to date beyond the commitment and its approved change orders."""
    a = review.apps
    bad = (a["total_completed_to_date"] > a["contract_sum"]).to_numpy(bool)
    b = a[bad]
    if b.empty:
        return rf.empty(), []
    f = pb._rows(b, line="G702 line 4", expected=b["contract_sum"],
                 actual=b["total_completed_to_date"])
    f["detail"] = ("Billed to date " + report_text(b["total_completed_to_date"]) + " on "
                   + b["contract"] + "; the commitment with its change orders approved by "
                   + pd.to_datetime(b["period_end"]).dt.strftime("%Y-%m-%d") + " is "
                   + report_text(b["contract_sum"]))
    f["action"] = ("Hold " + report_text(b["total_completed_to_date"] - b["contract_sum"])
                   + " of " + b["reference"] + " until a change order to " + b["contract"]
                   + " is approved, or have the subcontractor revise the pay application.")
    return rf.finish("over_commitment", f, review.materiality), []


def lien_waiver(review: PayAppReview):
    """The lien waiver for the previous payment on file (module rules)."""
    if review.waivers is None:
        return rf.empty(), [Problem("lien_waivers.csv", "no lien waiver log: lien waivers were "
                                    "not checked", "keep the waivers received in "
                                    "lien_waivers.csv (job_id, commitment, vendor, through_date, "
                                    "type, amount); see docs/billing.md", severity="warning")]
    a = review.apps.dropna(subset=["prev_application"])
    if a.empty:
        return rf.empty(), []
    keys = ["job_id", "contract", "application_number"]
    prev = review.all_apps[[*keys, "period_end", "amount_due", "payment_status"]].rename(
        columns={"application_number": "prev_application", "period_end": "prev_end",
                 "amount_due": "payment", "payment_status": "prev_paid"})
    a = a.astype({"prev_application": "int64"}).merge(
        prev, on=["job_id", "contract", "prev_application"], how="left")
    a["payment"] = a["payment"].fillna(0).astype("int64")
    a["_paid"] = _text(a["prev_paid"]).str.lower().eq("paid").to_numpy()
    a["_i"] = np.arange(len(a))
    w = review.waivers
    w = pd.DataFrame({"job_id": _text(w["job_id"]), "contract": _text(w["commitment_number"]),
                      "through": pd.to_datetime(w["through_date"]),
                      "type": _text(w["waiver_type"]).str.lower(),
                      "amount": w["amount"].astype("int64")})
    m = a[["_i", "job_id", "contract", "prev_end", "payment", "_paid"]].merge(
        w, on=["job_id", "contract"], how="inner")
    prev_end = pd.to_datetime(m["prev_end"]).dt.normalize()
    through = m["through"].dt.normalize()
    unconditional = (m["type"] == "unconditional") & (through >= prev_end)
    conditional = (m["type"] == "conditional") & (through == prev_end)
    right = unconditional | (conditional & ~m["_paid"].astype(bool))
    enough = m["amount"] >= m["payment"]
    ok = m[(right & enough).to_numpy(bool)]["_i"].unique()
    short = m[right.to_numpy(bool)].groupby("_i")["amount"].max()
    cond = m[(conditional & enough).to_numpy(bool)]["_i"].unique()
    out = []
    idx = np.arange(len(a))
    covered = np.isin(idx, ok)
    zero = (a["payment"] <= 0).to_numpy()
    is_short = np.isin(idx, short.index) & ~covered & ~zero
    only_cond = np.isin(idx, cond) & ~covered & ~is_short & ~zero
    missing = ~covered & ~is_short & ~only_cond & ~zero
    end = pd.to_datetime(a["prev_end"]).dt.strftime("%Y-%m-%d").fillna("?")
    what = ("the previous payment (application " + a["prev_application"].astype("string")
            + ", " + report_text(a["payment"]) + ", through " + end + ")")
    for mask, sev, actual, act, detail in (
            (missing, "error", pd.Series(0, index=a.index),
             "Get the lien waiver for " + what + " from " + a["vendor_name"].astype("string")
             + " before approving " + a["reference"] + ".",
             "No waiver in lien_waivers.csv for " + a["contract"] + " through " + end),
            (only_cond, "warning", pd.Series(0, index=a.index),
             "Get the unconditional lien waiver for " + what + ": it was paid, and only a "
             "conditional waiver is on file.",
             "Conditional waiver only; Procore shows application "
             + a["prev_application"].astype("string") + " paid"),
            (is_short, "error", pd.Series(a["_i"].map(short).fillna(0).astype("int64").to_numpy(),
                                          index=a.index),
             "Get a lien waiver covering " + what + ": the one on file is for less.",
             "Largest waiver on file through " + end + " covers less than the payment")):
        b = a[mask]
        if b.empty:
            continue
        f = pb._rows(b, line="previous payment", expected=b["payment"], actual=actual[b.index])
        f["action"] = act[b.index]
        f["detail"] = detail[b.index]
        out.append(rf.finish("lien_waiver", f, review.materiality, severity=sev,
                             exposure=b["payment"]))
    return (pd.concat(out, ignore_index=True) if out else rf.empty()), []


CHECKS = [pb.line_over_100, over_commitment, pb.retainage, pb.does_not_foot,
          pb.stored_materials, pb.contract_sum, lien_waiver]


def review_context(company, period: str, waivers: pd.DataFrame | None) -> PayAppReview:
    apps = pb.applications(company["subcontractor_invoices"], "commitment_number")
    lines = pb.g703_lines(company["subcontractor_invoice_lines"], "commitment_number")
    cm = company["commitments"]
    rules = pd.DataFrame({"job_id": _text(cm["job_id"]), "contract": _text(cm["commitment_number"]),
                          "retainage_rule": cm["retainage_rule"],
                          "retainage_percent": cm["retainage_percent"]})
    base = pb.prepare(period, "subcontractor", apps, lines,
                      lambda a: commitment_sum_at(company, a), rules,
                      company.settings.materiality)
    return PayAppReview(base.period, base.direction, base.apps, base.lines, base.materiality,
                        base.front_loading_points, None, apps, waivers)


def payapp_review(company, period: str, waivers: pd.DataFrame | None = None
                  ) -> tuple[pd.DataFrame, list[Problem]]:
    """Findings of every subcontractor pay application billed in ``period`` (module rules);
    ``waivers``: the lien waiver log (None: not kept, the check is skipped with a warning)."""
    review = review_context(company, period, waivers)
    found, problems = pb.run(review, CHECKS)
    cm = company["commitments"]
    problems += rt.rule_problems(cm, rt.parse_rules(cm["retainage_rule"],
                                                    cm["retainage_percent"]),
                                 "procore/commitments.csv")
    return found, problems
