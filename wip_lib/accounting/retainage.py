"""Retainage: the rate withheld on each progress billing, and retention in both directions.

Symbols (money in int64 cents):

- ``C``      contract sum to date of the document billed: a prime contract's original sum plus
             the prime change orders approved by the application's period end, or a
             commitment's original amount plus its change orders approved by then.
- ``G_prev`` the previous application's total completed and stored to date (G702 line 4);
             0 for a first application.
- ``W``      work this period, stored materials included: ``G - G_prev``.

Rates (the rule every retainage figure of the workbook follows)
---------------------------------------------------------------
- A contract's rule is ``flat`` (its Retainage % on every billing; blank reads as flat) or
  ``sliding:A>B@P``: ``A`` percent until the work is ``P`` percent complete, then ``B`` percent
  (``sliding:10>5@50``: 10% until 50% complete, then 5%). Percents may carry decimals
  (``sliding:10>7.5@50``). A sliding rule's rates are its own; the Retainage % column is read
  only for a flat rule.
- "Complete" is measured on the billing documents themselves, as the owner's architect does:
  the step-down applies to an application when ``G_prev >= P% * C``, compared exactly in whole
  cents. It is prospective: the lower rate applies to billings from then on, and retainage
  already withheld stays held until it is released (a release is a document of its own).
- Retainage withheld this period ``= round_half_up(rate * W)`` (:func:`withheld`). Procore rounds
  retainage per G703 line, so an application's own figure may differ from this by up to one
  cent per line: within that tolerance (:func:`rounding_tolerance`) it follows the rule.

Retention (per job and per commitment, both directions), from the books (ERP AR and AP with
``period <= P``)
-----------------------------------------------------------------------------------------------
One rule per document row ``i`` (:func:`retainage_parts`; the WIP schedule's retainage
receivable and payable are its ``outstanding``), with ``r_i`` its retainage, ``b_i`` its gross
amount and ``paid_i`` the cash received or paid on it:

- ``withheld = max(r_i, 0)``; ``released = max(-r_i, 0)`` (a release invoice carries the retainage
  it bills for release as a negative retainage; it is not new billing);
- ``collected`` on the document that withheld it: ``clip(paid_i - (b_i - withheld), 0,
  withheld)`` (cash beyond the net amount settles its retainage, the way an ERP that marks
  retainage paid on the original invoice records it);
- collected on a release invoice: ``clip(paid_i - work_i, 0, released)`` with ``work_i = b_i -
  released`` (not below 0) when the release invoice's amount holds the released retainage
  (policy ``retainage_release: in_amount``), else ``b_i`` (``separate``);
- ``outstanding = withheld - released - collected`` (receivable = withheld - released and
  collected, ASC 606 contract asset until billed); ``released_unpaid = released - collected on
  release invoices`` (an ordinary receivable or payable now); ``collected_or_paid`` both
  collections, so ``withheld = outstanding + released_unpaid + collected_or_paid``.
- Billed to date counts ``b_i - released`` under ``in_amount`` (the released retainage was billed
  on the progress invoices), ``b_i`` under ``separate``.
- Procore's own figure is shown beside it (``procore_retained``): the total retainage (G702 line
  5) of the latest application billed by the period end, of each prime contract (owner
  applications billed to the owner) or each commitment (approved subcontractor applications).
- Completed jobs keep their rows until the retainage is collected or paid.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from wip_lib.core.errors import Problem
from wip_lib.core.grouping import aggregate
from wip_lib.core.money import round_half_up_div
from wip_lib.core.periods import check_period, period_end
from wip_lib.core.settings import policies_of

#: Rates are exact integers in parts per million (0.10 = 100_000 ppm).
PPM = 1_000_000
_SLIDING = re.compile(r"^sliding\s*:\s*(\d+(?:\.\d+)?)\s*%?\s*>\s*(\d+(?:\.\d+)?)\s*%?\s*@\s*"
                      r"(\d+(?:\.\d+)?)\s*%?$", re.IGNORECASE)
#: Owner applications that count as billed to the owner (as the reconciliation reads them).
BILLED_STATUSES = {"approved", "approved_as_noted", "pending_owner_approval", "paid", "submitted"}
APPROVED_STATUSES = {"approved", "approved_as_noted"}

RETENTION_COLUMNS = ["direction", "job_id", "contract", "party", "rate", "withheld", "released",
                     "collected_or_paid", "outstanding", "released_unpaid", "procore_retained"]
RETENTION_MONEY = ["withheld", "released", "collected_or_paid", "outstanding", "released_unpaid",
                   "procore_retained"]


def _ppm(percent_text: str) -> int:
    return int((Decimal(percent_text) * PPM / 100).to_integral_value())


def parse_rules(rule: pd.Series, percent: pd.Series) -> pd.DataFrame:
    """Each contract's rule as exact rates: ``rate_ppm`` (the starting rate), ``step_ppm`` (the
    rate after the step-down; the same for a flat rule), ``step_at_ppm`` (the completion that
    triggers it; <NA> for a flat rule) and ``understood`` (False: the text is neither ``flat``
    nor ``sliding:A>B@P``, or a percent is outside 0 to 100)."""
    text = rule.astype("string").fillna("").str.strip()
    pct = pd.to_numeric(percent, errors="coerce").astype("float64").fillna(0.0)
    flat_ppm = np.rint(pct.to_numpy() * PPM).astype("int64")
    out = pd.DataFrame({"rate_ppm": flat_ppm, "step_ppm": flat_ppm,
                        "step_at_ppm": pd.array([pd.NA] * len(text), dtype="Int64"),
                        "understood": True}, index=rule.index)
    flat = text.str.lower().isin(["", "flat"]).to_numpy(dtype=bool)
    bad = (flat & ((flat_ppm < 0) | (flat_ppm > PPM)))
    for text_value in pd.unique(text[~flat]):  # a handful of distinct rules per company
        at = (text == text_value).to_numpy(dtype=bool) & ~flat
        m = _SLIDING.match(str(text_value))
        try:
            a, b, p = (_ppm(m.group(i)) for i in (1, 2, 3)) if m else (None, None, None)
        except (InvalidOperation, ValueError):
            a = None
        if a is None or not all(0 <= v <= PPM for v in (a, b, p)):
            bad |= at
            continue
        out.loc[at, "rate_ppm"] = a
        out.loc[at, "step_ppm"] = b
        out.loc[at, "step_at_ppm"] = p
    out["understood"] = ~bad
    return out


def rule_problems(table: pd.DataFrame, rules: pd.DataFrame, what: str) -> list[Problem]:
    """A :class:`Problem` per row whose retainage rule is not understood (file, row, column)."""
    bad = table.loc[~rules["understood"].to_numpy(dtype=bool)]
    labels = table.attrs.get("labels") or {}
    out = []
    for r in bad.to_dict("records"):
        out.append(Problem(str(r.get("_file") or what), "retainage rule not understood",
                           "write flat, or sliding:A>B@P (e.g. sliding:10>5@50: 10% until 50% "
                           "complete, then 5%)", int(r["_row"]) if pd.notna(r.get("_row"))
                           else None, labels.get("retainage_rule", "Retainage Rule"),
                           r.get("retainage_rule")))
    return out


def application_rate(rules: pd.DataFrame, previous_g: pd.Series,
                     contract_sum: pd.Series) -> pd.Series:
    """The rate (ppm) in force for each application: the step rate when the rule has a step and
    ``G_prev * 1e6 >= step_at_ppm * C`` (exact), else the starting rate (module rules).
    ``rules``, ``previous_g`` and ``contract_sum`` are aligned row by row."""
    step_at = rules["step_at_ppm"]
    has_step = step_at.notna().to_numpy(dtype=bool)
    g = previous_g.astype("int64").to_numpy().astype(object)
    c = contract_sum.astype("int64").to_numpy().astype(object)
    at = step_at.fillna(0).astype("int64").to_numpy().astype(object)
    stepped = has_step & np.array(g * PPM >= at * c, dtype=bool) & (contract_sum.to_numpy() > 0)
    rate = np.where(stepped, rules["step_ppm"].to_numpy(), rules["rate_ppm"].to_numpy())
    return pd.Series(rate.astype("int64"), index=previous_g.index)


def withheld(work: pd.Series, rate_ppm: pd.Series) -> pd.Series:
    """Retainage withheld on ``work``: ``round_half_up(rate * work)``, exact."""
    w = work.astype("int64").to_numpy().astype(object)
    r = rate_ppm.astype("int64").to_numpy().astype(object)
    out = round_half_up_div(w * r, np.full(len(w), PPM, dtype=object))
    return pd.Series(np.asarray(out, dtype="int64"), index=work.index)


def rounding_tolerance(lines: pd.Series) -> pd.Series:
    """Cents an application's retainage may differ from :func:`withheld` by Procore's per-line
    rounding: one per G703 line, at least one."""
    return lines.fillna(0).astype("int64").clip(lower=1)


def rate_text(rules: pd.DataFrame, rule: pd.Series) -> pd.Series:
    """A rule in words for reports: ``10% flat`` or ``sliding:10>5@50``."""
    flat = rules["step_at_ppm"].isna()
    pct = (rules["rate_ppm"].astype("int64") / 10_000).map(lambda v: f"{v:g}%")
    return pct.where(~flat, pct + " flat").where(flat, rule.astype("string").str.strip()) \
        .astype("string")


# -- retention --------------------------------------------------------------------------------

def retainage_parts(gross: pd.Series, retainage: pd.Series, paid: pd.Series,
                    release: str = "in_amount") -> pd.DataFrame:
    """Per document row: ``withheld``, ``released``, ``collected_or_paid``, ``outstanding``,
    ``released_unpaid`` and ``billed`` (what it adds to billed to date), int64 cents (the
    retention rule of the module docstring; ``release``: ``in_amount`` or ``separate``)."""
    b = gross.astype("int64")
    r = retainage.astype("int64")
    cash = paid.astype("int64")
    held = r.clip(lower=0)
    released = (-r).clip(lower=0)
    direct = (cash - (b - held)).clip(lower=0).clip(upper=held)
    # in_amount: the release invoice's amount holds the released retainage (never below 0: an
    # export that writes the release with amount 0 bills no work either).
    work = (b - released).clip(lower=0).where(released > 0, b) if release == "in_amount" else b
    on_release = (cash - work).clip(lower=0).clip(upper=released).where(released > 0, 0)
    return pd.DataFrame({"withheld": held, "released": released,
                         "collected_or_paid": direct + on_release,
                         "outstanding": held - released - direct,
                         "released_unpaid": released - on_release,
                         "billed": work}, index=gross.index)


def _parts(frame: pd.DataFrame, gross: str, ret: str, paid: str,
           release: str = "in_amount") -> pd.DataFrame:
    return retainage_parts(frame[gross], frame[ret], frame[paid], release)[
        ["withheld", "released", "collected_or_paid", "outstanding", "released_unpaid"]]


def _latest(apps: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The latest application per ``keys`` (by application number, then billing date)."""
    order = apps.sort_values([*keys, "application_number", "billing_date"], kind="stable")
    return order.groupby(keys, as_index=False, sort=False).last()


def retention(company, period: str) -> pd.DataFrame:
    """Retention per job (receivable) and per job and commitment (payable) at ``period`` end
    (module rules): :data:`RETENTION_COLUMNS`, money in cents, one row per job or commitment
    with any retainage."""
    period = check_period(period)
    end = period_end(period)
    parts = []

    ar = company["erp_ar_billings"]
    ar = ar[ar["period"].astype("string") <= period]
    if len(ar):
        a = pd.concat([ar[["job_id"]].astype("string"),
                       _parts(ar, "amount_billed", "retainage", "amount_paid",
                              policies_of(company.settings)["retainage_release"])], axis=1)
        rec = a.groupby("job_id", as_index=False, sort=True).sum()
        rec["contract"] = ""
        parts.append(rec.assign(direction="receivable"))
    ap = company["erp_ap_invoices"]
    ap = ap[ap["period"].astype("string") <= period]
    if len(ap):
        commitment = ap["commitment_number"].astype("string").fillna("").str.strip()
        a = pd.concat([ap[["job_id"]].astype("string"), commitment.rename("contract"),
                       _parts(ap, "amount", "retainage_held", "amount_paid")], axis=1)
        pay = a.groupby(["job_id", "contract"], as_index=False, sort=True).sum()
        parts.append(pay.assign(direction="payable"))
    if not parts:
        return _retention_frame(pd.DataFrame(columns=RETENTION_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    out = out[(out[["withheld", "released"]] != 0).any(axis=1)].reset_index(drop=True)

    # Parties and rates from Procore's contracts, Procore's own retainage beside the books'.
    pc = company["prime_contracts"]
    pc_rules = parse_rules(pc["retainage_rule"], pc["retainage_percent"])
    owner = pd.DataFrame({"job_id": pc["job_id"].astype("string"),
                          "party": pc["owner"].astype("string").fillna(""),
                          "rate": rate_text(pc_rules, pc["retainage_rule"])})
    owner = aggregate(owner, "job_id", as_index=False, sort=False,
                      party=("party", lambda s: ", ".join(sorted(set(s) - {""}))),
                      rate=("rate", lambda s: ", ".join(sorted(set(s)))))
    cm = company["commitments"]
    cm_rules = parse_rules(cm["retainage_rule"], cm["retainage_percent"])
    vendor = pd.DataFrame({"job_id": cm["job_id"].astype("string"),
                           "contract": cm["commitment_number"].astype("string"),
                           "party": cm["vendor_name"].astype("string").fillna(""),
                           "rate": rate_text(cm_rules, cm["retainage_rule"])}
                          ).drop_duplicates(["job_id", "contract"])
    oi = company["owner_invoices"]
    oi = oi[oi["status"].astype("string").str.strip().str.lower().isin(BILLED_STATUSES)
            .fillna(False).to_numpy(dtype=bool) & (oi["billing_date"] <= end).to_numpy()]
    p_rec = (_latest(oi, ["job_id", "contract_number"]).groupby("job_id")["retainage_to_date"]
             .sum() if len(oi) else pd.Series(dtype="int64"))
    si = company["subcontractor_invoices"]
    approved = si["approved_date"].fillna(si["billing_date"])
    si = si[si["status"].astype("string").str.strip().str.lower().isin(APPROVED_STATUSES)
            .fillna(False).to_numpy(dtype=bool) & (approved <= end).to_numpy()]
    p_pay = (_latest(si, ["job_id", "commitment_number"]).set_index(
        ["job_id", "commitment_number"])["retainage_to_date"] if len(si)
        else pd.Series(dtype="int64"))

    rec = out["direction"] == "receivable"
    r = out[rec].merge(owner, on="job_id", how="left")
    r["procore_retained"] = r["job_id"].map(p_rec).fillna(0).astype("int64").to_numpy()
    p = out[~rec].merge(vendor, on=["job_id", "contract"], how="left")
    keys = pd.MultiIndex.from_frame(p[["job_id", "contract"]])
    p["procore_retained"] = p_pay.reindex(keys).fillna(0).astype("int64").to_numpy() \
        if len(p) else pd.Series(dtype="int64")
    both = pd.concat([r, p], ignore_index=True)
    both = both.sort_values(["direction", "job_id", "contract"], ascending=[False, True, True],
                            kind="stable")
    return _retention_frame(both)


def _retention_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reindex(columns=RETENTION_COLUMNS).reset_index(drop=True)
    for c in RETENTION_MONEY:
        out[c] = out[c].fillna(0).astype("int64")
    for c in ("direction", "job_id", "contract", "party", "rate"):
        out[c] = out[c].astype("string").fillna("")
    return out


def retention_by_job(retention_table: pd.DataFrame) -> pd.DataFrame:
    """Retention outstanding per job: ``receivable`` (from the owner), ``payable`` (to
    subcontractors and suppliers) and ``net = receivable - payable``."""
    t = retention_table
    if t.empty:
        return pd.DataFrame({"job_id": pd.Series(dtype="string"),
                             **{c: pd.Series(dtype="int64") for c in ("receivable", "payable",
                                                                      "net")}})
    by = t.pivot_table(index="job_id", columns="direction", values="outstanding",
                       aggfunc="sum", fill_value=0)
    out = pd.DataFrame({"job_id": by.index.astype("string"),
                        "receivable": by.get("receivable", pd.Series(0, index=by.index)),
                        "payable": by.get("payable", pd.Series(0, index=by.index))})
    out = out.reset_index(drop=True).astype({"receivable": "int64", "payable": "int64"})
    out["net"] = out["receivable"] - out["payable"]
    return out
