"""The contract of a job at the end of a period ``P`` (``E`` = the last day of ``P``): which prime
contracts and prime change orders make it, which pending change orders count in revenue, and the
contract's type. Policies: ``company.yaml`` (:func:`wip_lib.core.settings.normalise_policies`;
docs/policies.md).

Signed contracts
----------------
- A prime contract is **signed at E** when its ``status`` is not Draft or Out For Signature
  (trimmed, any case) and, where the export carries its execution date (``executed_date``:
  Procore's execution date or signed contract received date), that date is on or before ``E``.
  Without an execution date the status as exported decides. A contract signed at ``E`` counts at
  ``E`` and after.
- A prime change order counts only on a contract signed at ``E`` (same ``job_id`` and
  ``contract_number``).
- **Approved at E**: ``status_family`` is ``approved`` and ``approved_date <= E`` (a change order
  without an approved date counts as approved in every period).
- **Pending at E**: raised by ``E`` (``created_date <= E``, or no created date) and either
  ``status_family`` is ``pending``, or it is ``approved`` with ``approved_date > E`` (approved
  later: at ``E`` it was still pending). Excluded change orders (draft, no charge, rejected,
  void) never count.

Pending change orders: categories and treatment (ASC 606-10-32-11, 606-10-25-10/11)
------------------------------------------------------------------------------------
Each pending change order falls in one category: a **claim** (set per change order in the policy,
or a status whose name holds "claim"), **unpriced** (base status Pricing / Not Pricing, or an
amount of 0), else **pending** (priced, awaiting approval). Its treatment is the one set for it
in ``pending_change_orders.change_orders`` (matched on job, change order and, when given, contract
number), else the category's default: priced pending ones are included at their amount when
``include_pending_co_revenue`` is true and excluded otherwise; unpriced ones follow
``pending_change_orders.unpriced`` (``as_pending`` = as priced ones), claims
``pending_change_orders.claims`` (default ``exclude``). The revenue a treatment includes:
``exclude`` and ``cost_only`` 0, ``include`` the amount, ``include_amount`` the constrained amount
given, ``include_percent`` ``round_half_up(amount * percent)``. An ``estimated_cost`` given for a
change order is the cost of its work still to come, added to the job's estimated cost to complete
(``change_orders_pending_cost``) while it is pending.

Per job (money in int64 cents):

- ``contract_original`` = sum of ``original_amount`` of the contracts signed at ``E``;
- ``change_orders_approved`` = sum of the change orders approved at ``E``;
- ``change_orders_pending`` / ``change_orders_unpriced`` / ``change_orders_claims`` = the amounts
  of the pending change orders of each category (together Procore's pending change orders);
- ``change_orders_pending_included`` = the revenue the treatments include (in ``TP``);
- ``change_orders_pending_cost`` = the estimated cost of pending change-order work added to ETC;
- ``contract_revised = contract_original + change_orders_approved`` (``TP`` adds
  ``change_orders_pending_included``).

A job appears in :func:`contract_by_period` once it has a signed contract.

Contract terms (:func:`contract_terms`, every job)
--------------------------------------------------
- ``contract_type``: the job's entry in ``contract_types.jobs``, else
  ``contract_types.default`` (Procore's prime contract carries no contract type: neither its
  export's standard columns nor its API fields name one).
  A job without a signed contract at ``E`` works under a letter of intent
  (``letter_of_intent``) unless it is time-and-materials or cost-plus (whose revenue needs no
  price); a ``letter_of_intent`` job with a signed contract is fixed price from then on.
- ``fee_pct``: the fee or markup on cost of a time-and-materials, cost-plus or GMP job (its entry,
  else ``contract_types.default_fee``, required with a cost-plus default).
- ``contract_estimated``: for a letter-of-intent job, its ``estimated_contract``; else, under
  ``unsigned_contracts: contract_amount``, the amount of its contracts not signed at ``E`` (when
  above 0); else empty: revenue = cost until priced.
"""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from wip_lib.core.errors import InputError, Problem
from wip_lib.core.money import round_half_up_div
from wip_lib.core.periods import check_period
from wip_lib.core.settings import FEE_TYPES, policies_of

#: Prime contract statuses that keep a contract out of the job's contract (lower case).
NOT_COUNTED = ("draft", "out for signature")
#: Base statuses of change orders whose price is not agreed (category ``unpriced``).
UNPRICED_STATUSES = ("pricing", "not_pricing", "not pricing", "pending - pricing",
                     "pending - not pricing")

COLUMNS = ["job_id", "period", "contract_original", "change_orders_approved",
           "change_orders_pending", "change_orders_unpriced", "change_orders_claims",
           "change_orders_pending_included", "change_orders_pending_cost", "contract_revised"]
TERMS = ["contract_signed", "contract_type", "fee_pct", "contract_estimated"]

def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip()


def _ends(periods: Sequence[str]) -> np.ndarray:
    return np.array([pd.Period(p, freq="M").end_time.normalize() for p in periods],
                    dtype="datetime64[ns]")[None, :]


def _contracts(company) -> pd.DataFrame:
    pc = company["prime_contracts"]
    return pc.assign(job_id=_text(pc["job_id"]), contract_number=_text(pc["contract_number"]))


def _signed_at(pc: pd.DataFrame, ends: np.ndarray) -> np.ndarray:
    """Contract (row) x period end (column): signed at that period end (module rule)."""
    status_ok = ~_text(pc["status"]).str.lower().isin(NOT_COUNTED).to_numpy(bool)
    if "executed_date" in pc.columns:
        executed = pd.to_datetime(pc["executed_date"]).to_numpy(dtype="datetime64[ns]")[:, None]
    else:
        executed = np.full((len(pc), 1), np.datetime64("NaT"), dtype="datetime64[ns]")
    return status_ok[:, None] & (np.isnat(executed) | (executed <= ends))


def counted_contracts(company) -> pd.DataFrame:
    """The prime contracts whose status counts (not Draft / Out For Signature), keys trimmed; an
    execution date may still put a contract's start after a given period (:func:`_signed_at`)."""
    pc = _contracts(company)
    return pc[~_text(pc["status"]).str.lower().isin(NOT_COUNTED).to_numpy(bool)]


def _co_treatment(company, co: pd.DataFrame) -> pd.DataFrame:
    """Per change order: its category, the revenue its treatment includes while pending, and
    the estimated cost of its work added to ETC (module rule)."""
    pol = policies_of(company.settings)
    pco = pol["pending_change_orders"]
    labels = {str(k).casefold(): str(v) for k, v in dict(company.settings.status_labels).items()}
    status = _text(co["status"])
    base = status.map(lambda v: labels.get(v.casefold(), v)).astype("string").str.casefold()
    amount = co["amount"].astype("int64").to_numpy()
    category = np.where(base.str.contains("claim").to_numpy(bool), "claim",
                        np.where(base.isin(UNPRICED_STATUSES).to_numpy(bool) | (amount == 0),
                                 "unpriced", "pending")).astype(object)
    entry_of = np.full(len(co), -1)
    problems = []
    job, num, cno = (_text(co[c]).to_numpy(dtype=object) for c in
                     ("job_id", "contract_number", "co_number"))
    for i, e in enumerate(pco["change_orders"]):  # a handful of policy entries, not rows
        hit = (job == e["job"]) & (cno == e["change_order"])
        if e.get("contract") is not None:
            hit &= num == e["contract"]
        where = (f"job {e['job']}" + (f" contract {e['contract']}" if e.get("contract") else "")
                 + f" change order {e['change_order']}")
        if hit.sum() == 0:
            problems.append(Problem(
                "company.yaml", f"pending_change_orders names {where}, which is not among the "
                "job's prime change orders", "correct the job, contract or change order number "
                "(as Procore shows them, leading zeros kept), or remove the entry",
                column=f"policies.pending_change_orders.change_orders[{i + 1}]"))
            continue
        if hit.sum() > 1:
            problems.append(Problem(
                "company.yaml", f"pending_change_orders names {where}, which is on more than one "
                "prime contract", "add `contract:` with the contract number",
                column=f"policies.pending_change_orders.change_orders[{i + 1}]"))
            continue
        entry_of[hit] = i
        if e.get("category"):
            category[hit] = e["category"]
    if problems:
        raise InputError(problems)
    default = {"pending": "include" if pol["include_pending_co_revenue"] else "exclude"}
    for cat, key in (("unpriced", "unpriced"), ("claim", "claims")):
        v = pco[key]
        default[cat] = default["pending"] if v == "as_pending" else v
    treatment = pd.Series(category).map(default).to_numpy(dtype=object)
    included = np.where(treatment == "include", amount, 0).astype(np.int64)
    cost = np.zeros(len(co), dtype=np.int64)
    for i, e in enumerate(pco["change_orders"]):  # the policy's entries: a handful
        hit = entry_of == i
        if not hit.any():
            continue
        t = e.get("treatment") or default[e.get("category") or category[hit][0]]
        treatment[hit] = t
        if t == "include":
            included[hit] = amount[hit]
        elif t == "include_amount":
            included[hit] = int(e["amount"])
        elif t == "include_percent":
            num_, den_ = _ratio(e["percent"])
            included[hit] = round_half_up_div(amount[hit].astype(object) * num_,
                                              np.full(int(hit.sum()), den_, dtype=object)
                                              ).astype(np.int64)
        else:  # exclude, cost_only
            included[hit] = 0
        cost[hit] = int(e.get("estimated_cost") or 0)
    return pd.DataFrame({"category": category, "treatment": treatment, "included": included,
                         "pending_cost": cost}, index=co.index)


def _ratio(text: str) -> tuple[int, int]:
    """An exact decimal text (``'0.125'``) as a fraction ``(1, 8)``."""
    f = Fraction(Decimal(str(text)))
    return f.numerator, f.denominator


def contract_by_period(company, periods: Sequence[str]) -> pd.DataFrame:
    """The contract of every job with a signed contract at the end of each of ``periods``: one
    row per job and period, columns :data:`COLUMNS` (rule in the module docstring).

    Vectorised as contracts x period ends and change orders x period ends matrices: each is
    tested against every period end at once, then summed per job."""
    periods = sorted({check_period(p) for p in periods})
    ends = _ends(periods)
    pc = _contracts(company)
    signed = _signed_at(pc, ends)
    jobs = pd.Index(sorted(set(pc["job_id"])), dtype=object)
    pj = jobs.get_indexer(pc["job_id"])
    n_sig = np.zeros((len(jobs), len(periods)), dtype=np.int64)
    np.add.at(n_sig, pj, signed.astype(np.int64))
    orig = np.zeros((len(jobs), len(periods)), dtype=np.int64)
    np.add.at(orig, pj, np.where(signed, pc["original_amount"].astype("int64").to_numpy()[:, None],
                                 0))

    co = company["prime_change_orders"]
    co = co.assign(job_id=_text(co["job_id"]), contract_number=_text(co["contract_number"]),
                   co_number=_text(co["co_number"])).reset_index(drop=True)
    terms = _co_treatment(company, co)
    keyed = pc[["job_id", "contract_number"]].reset_index(drop=True).assign(
        _pc=np.arange(len(pc))).drop_duplicates(["job_id", "contract_number"])
    m = co.assign(_co=np.arange(len(co))).merge(keyed, on=["job_id", "contract_number"],
                                                how="inner")
    terms = terms.iloc[m["_co"].to_numpy(dtype=np.int64)].reset_index(drop=True)
    family = _text(m["status_family"]).str.lower().to_numpy(dtype=object)
    on_signed = signed[m["_pc"].to_numpy(dtype=np.int64)]
    approved_at = pd.to_datetime(m["approved_date"]).to_numpy(dtype="datetime64[ns]")[:, None]
    created = pd.to_datetime(m["created_date"]).to_numpy(dtype="datetime64[ns]")[:, None]
    # The rule, change order (row) by period end (column):
    counts = np.isin(family, ["approved", "pending"])[:, None] & on_signed
    approved = counts & (family == "approved")[:, None] & (np.isnat(approved_at)
                                                           | (approved_at <= ends))
    pending = counts & (np.isnat(created) | (created <= ends)) & ~approved

    job = jobs.get_indexer(m["job_id"])
    amount = m["amount"].astype("int64").to_numpy()[:, None]
    cat = terms["category"].to_numpy(dtype=object)[:, None]
    by_job = {"contract_original": orig}
    for name, mask, value in (
            ("change_orders_approved", approved, amount),
            ("change_orders_pending", pending & (cat == "pending"), amount),
            ("change_orders_unpriced", pending & (cat == "unpriced"), amount),
            ("change_orders_claims", pending & (cat == "claim"), amount),
            ("change_orders_pending_included", pending,
             terms["included"].to_numpy(dtype=np.int64)[:, None]),
            ("change_orders_pending_cost", pending,
             terms["pending_cost"].to_numpy(dtype=np.int64)[:, None])):
        mat = np.zeros((len(jobs), len(periods)), dtype=np.int64)
        np.add.at(mat, job, np.where(mask, value, 0))
        by_job[name] = mat
    has = (n_sig > 0).T.ravel()  # period-major: rows by period, then job
    out = pd.DataFrame({
        "job_id": pd.array(np.tile(jobs.to_numpy(dtype=object), len(periods)), dtype="string"),
        "period": pd.array(np.repeat(np.array(periods, dtype=object), len(jobs)),
                           dtype="string"),
        **{k: v.T.ravel() for k, v in by_job.items()},
    })
    out["contract_revised"] = out["contract_original"] + out["change_orders_approved"]
    return out[COLUMNS][has].reset_index(drop=True)


def contract_terms(company, periods: Sequence[str]) -> pd.DataFrame:
    """Every job (of ``jobs`` or with a prime contract) at each of ``periods``: the columns of
    :func:`contract_by_period` (0 where no contract is signed) and :data:`TERMS` (rules in the
    module docstring). One row per job and period."""
    periods = sorted({check_period(p) for p in periods})
    pol = policies_of(company.settings)
    ct = pol["contract_types"]
    pc = _contracts(company)
    ids = sorted(set(_text(company["jobs"]["job_id"])) | set(pc["job_id"]))
    grid = pd.DataFrame({"job_id": pd.array(np.repeat(np.array(ids, dtype=object), len(periods)),
                                            dtype="string"),
                         "period": pd.array(np.tile(np.array(periods, dtype=object), len(ids)),
                                            dtype="string")})
    signed_part = contract_by_period(company, periods)
    out = grid.merge(signed_part, on=["job_id", "period"], how="left")
    out["contract_signed"] = out["contract_original"].notna().to_numpy(bool)
    for c in COLUMNS[2:]:
        out[c] = out[c].fillna(0).astype("int64")

    job = out["job_id"].astype(object)
    setting = {j: v for j, v in ct["jobs"].items()}
    base = job.map(lambda j: setting[j]["type"] if j in setting else ct["default"]).to_numpy(
        dtype=object)
    signed = out["contract_signed"].to_numpy(bool)
    kind = np.where(~signed & ~np.isin(base, ["cost_plus", "time_and_materials"]),
                    "letter_of_intent", base)
    kind = np.where(signed & (kind == "letter_of_intent"), "fixed_price", kind).astype(object)
    out["contract_type"] = pd.array(kind, dtype="string")

    fee = job.map(lambda j: setting.get(j, {}).get("fee")).astype(object)
    default_fee = ct.get("default_fee")
    default_fee = None if default_fee in (None, "None") else default_fee
    needs = np.isin(kind, FEE_TYPES)
    missing = needs & fee.isna().to_numpy(bool)  # a cost-plus default: its default_fee
    fee = fee.where(~missing, default_fee).where(needs, None)
    out["fee_pct"] = pd.array(fee.to_numpy(dtype=object), dtype="string")

    est = job.map(lambda j: setting.get(j, {}).get("estimated_contract")).astype("Float64")
    loi = kind == "letter_of_intent"
    if pol["unsigned_contracts"] == "contract_amount" and loi.any():
        ends = _ends(periods)
        unsigned = ~_signed_at(pc, ends)
        amounts = pd.DataFrame(np.where(unsigned, pc["original_amount"].astype("int64")
                                        .to_numpy()[:, None], 0), columns=periods)
        amounts["job_id"] = pc["job_id"].to_numpy()
        by = amounts.groupby("job_id").sum().stack()
        key = pd.MultiIndex.from_arrays([out["job_id"].astype(object),
                                         out["period"].astype(object)])
        proc = pd.Series(by.reindex(key).to_numpy(), index=out.index).astype("Float64")
        est = est.fillna(proc.where(proc > 0))
    out["contract_estimated"] = est.where(loi).round().astype("Int64")
    return out[[*COLUMNS, *TERMS]].sort_values(["period", "job_id"], kind="stable").reset_index(
        drop=True)


#: Procore project stages that mean the job is finished.
COMPLETE_STAGES = ("complete", "completed", "closed")


def completed_at(stage: pd.Series, completion_date: pd.Series, period_end: pd.Series) -> pd.Series:
    """A job is **complete** at a period end when its Procore stage is complete (or completed,
    closed) and its completion date is on or before that period end: its contract is then final
    (``ER = TP``) and it moves to the completed-contracts schedule."""
    done_at = pd.to_datetime(completion_date)
    finished = _text(stage).str.lower().isin(COMPLETE_STAGES)
    return (finished & done_at.notna() & (done_at <= pd.to_datetime(period_end))).astype(bool)


def contract_sum_at(company, documents: pd.DataFrame) -> pd.Series:
    """The contract sum to date of each document (a pay application): ``documents`` holds
    ``job_id``, ``contract_number`` and ``period_end``; the result, aligned with it, is the
    contract's ``original_amount`` plus its change orders approved at ``period_end`` (the rule
    above, per contract instead of per job; 0 for a contract that does not count)."""
    docs = pd.DataFrame({"job_id": _text(documents["job_id"]).to_numpy(),
                         "contract_number": _text(documents["contract_number"]).to_numpy(),
                         "_end": pd.to_datetime(documents["period_end"]).to_numpy(),
                         "_i": np.arange(len(documents))})
    pc = counted_contracts(company)
    orig = pc.groupby(["job_id", "contract_number"])["original_amount"].sum()
    got = docs.merge(orig.rename("_orig").reset_index(), on=["job_id", "contract_number"],
                     how="left")["_orig"]
    counted = got.notna().to_numpy(bool)
    base = got.fillna(0).astype("int64").to_numpy()
    total = base + approved_changes_at(
        docs.rename(columns={"contract_number": "contract"})[["job_id", "contract", "_end"]],
        company["prime_change_orders"], "contract_number")
    total = np.where(counted, total, 0)
    return pd.Series(total, index=documents.index, dtype="int64")


def approved_changes_at(docs: pd.DataFrame, change_orders: pd.DataFrame,
                        number: str) -> np.ndarray:
    """Per row of ``docs`` (``job_id``, ``contract``, ``_end``), the sum of the contract's change
    orders approved by ``_end`` (approved family; a blank approval date counts): what is added to
    the original sum for the contract sum to date of a pay application, for a prime contract
    (``number="contract_number"``) and a commitment (``"commitment_number"``) alike."""
    co = pd.DataFrame({"job_id": _text(change_orders["job_id"]),
                       "contract": _text(change_orders[number]),
                       "amount": change_orders["amount"].astype("int64"),
                       "approved_date": pd.to_datetime(change_orders["approved_date"]),
                       "family": _text(change_orders["status_family"]).str.lower()})
    co = co[(co["family"] == "approved").to_numpy(bool)]
    pairs = docs.assign(_i=np.arange(len(docs))).merge(co, on=["job_id", "contract"],
                                                       how="inner")
    counts = pairs["approved_date"].isna() | (pairs["approved_date"] <= pairs["_end"])
    added = pairs[counts.to_numpy(bool)].groupby("_i")["amount"].sum()
    return added.reindex(np.arange(len(docs)), fill_value=0).to_numpy(dtype="int64")
