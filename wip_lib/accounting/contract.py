"""Contract inclusion: which prime contracts and prime change orders make a job's contract at the
end of a period ``P`` (``E`` = the last day of ``P``).

Rule
----
- A prime contract **counts** unless its ``status`` is Draft or Out For Signature (trimmed, any
  case). A contract's own dates play no part: a counted contract counts in every period.
- A prime change order counts only on a counted contract (same ``job_id`` and
  ``contract_number``).
- **Approved at E**: ``status_family`` is ``approved`` and ``approved_date <= E`` (a change order
  without an approved date counts as approved in every period).
- **Pending at E**: raised by ``E`` (``created_date <= E``, or no created date) and either
  ``status_family`` is ``pending``, or it is ``approved`` with ``approved_date > E`` (approved
  later: at ``E`` it was still pending). Excluded change orders (draft, no charge, rejected,
  void) never count.

Per job (money in int64 cents):

- ``contract_original`` = sum of ``original_amount`` of the counted contracts;
- ``change_orders_approved`` / ``change_orders_pending`` = sum of ``amount`` of the change orders
  approved / pending at ``E``;
- ``contract_revised = contract_original + change_orders_approved`` (the ``TP`` of recognition;
  pending change orders enter ``TP`` only under the ``include_pending_co_revenue`` policy).

A job appears once it has a counted contract. :func:`contract_by_period` applies the rule to one
or several periods at once (each change order against each period end, vectorised).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from wip_lib.core.periods import check_period

#: Prime contract statuses that keep a contract out of the job's contract (lower case).
NOT_COUNTED = ("draft", "out for signature")

COLUMNS = ["job_id", "period", "contract_original", "change_orders_approved",
           "change_orders_pending", "contract_revised"]


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip()


def counted_contracts(company) -> pd.DataFrame:
    """The prime contracts that count (status not Draft / Out For Signature), keys trimmed."""
    pc = company["prime_contracts"]
    pc = pc.assign(job_id=_text(pc["job_id"]), contract_number=_text(pc["contract_number"]))
    return pc[~_text(pc["status"]).str.lower().isin(NOT_COUNTED).to_numpy(bool)]


def contract_by_period(company, periods: Sequence[str]) -> pd.DataFrame:
    """The contract of every job with a counted prime contract at the end of each of ``periods``:
    one row per job and period, columns :data:`COLUMNS` (rule in the module docstring).

    Vectorised as change orders x period ends matrices: each change order is tested against every
    period end at once, then summed per job."""
    periods = sorted({check_period(p) for p in periods})
    pc = counted_contracts(company)
    orig = pc.groupby("job_id", sort=True)["original_amount"].sum().astype("int64")

    co = company["prime_change_orders"]
    co = co.assign(job_id=_text(co["job_id"]), contract_number=_text(co["contract_number"]))
    co = co.merge(pc[["job_id", "contract_number"]].drop_duplicates(),
                  on=["job_id", "contract_number"], how="inner")
    family = _text(co["status_family"]).str.lower().to_numpy(dtype=object)
    counts = np.isin(family, ["approved", "pending"])  # excluded change orders never count
    co, family = co[counts], family[counts]
    ends = np.array([pd.Period(p, freq="M").end_time.normalize() for p in periods],
                    dtype="datetime64[ns]")[None, :]
    approved_at = pd.to_datetime(co["approved_date"]).to_numpy(dtype="datetime64[ns]")[:, None]
    created = pd.to_datetime(co["created_date"]).to_numpy(dtype="datetime64[ns]")[:, None]
    # The rule, change order (row) by period end (column):
    approved = (family == "approved")[:, None] & (np.isnat(approved_at) | (approved_at <= ends))
    raised = np.isnat(created) | (created <= ends)
    pending = raised & ~approved

    job = orig.index.get_indexer(co["job_id"])
    amount = co["amount"].astype("int64").to_numpy()[:, None]
    by_job = {}
    for name, mask in (("change_orders_approved", approved), ("change_orders_pending", pending)):
        m = np.zeros((len(orig), len(periods)), dtype=np.int64)
        np.add.at(m, job, np.where(mask, amount, 0))
        by_job[name] = m.T.ravel()  # period-major: rows by period, then job
    out = pd.DataFrame({
        "job_id": pd.array(np.tile(orig.index.to_numpy(dtype=object), len(periods)),
                           dtype="string"),
        "period": pd.array(np.repeat(np.array(periods, dtype=object), len(orig)),
                           dtype="string"),
        "contract_original": np.tile(orig.to_numpy(dtype=np.int64), len(periods)),
        **by_job,
    })
    out["contract_revised"] = out["contract_original"] + out["change_orders_approved"]
    return out[COLUMNS]


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
    co = company["prime_change_orders"]
    co = pd.DataFrame({"job_id": _text(co["job_id"]), "contract_number":
                       _text(co["contract_number"]), "amount": co["amount"].astype("int64"),
                       "approved_date": pd.to_datetime(co["approved_date"]),
                       "family": _text(co["status_family"]).str.lower()})
    co = co[(co["family"] == "approved").to_numpy(bool)]
    pairs = docs.merge(co, on=["job_id", "contract_number"], how="inner")
    counts = pairs["approved_date"].isna() | (pairs["approved_date"] <= pairs["_end"])
    added = pairs[counts.to_numpy(bool)].groupby("_i")["amount"].sum()
    total = base + added.reindex(np.arange(len(documents)), fill_value=0).to_numpy(dtype="int64")
    total = np.where(counted, total, 0)
    return pd.Series(total, index=documents.index, dtype="int64")
