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

A job appears once it has a counted contract. :func:`contract_by_period` applies the rule to
several periods at once (each change order against each period end, vectorised);
:func:`contract_inputs` is the one-period view of it.
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
    one row per job and period, columns :data:`COLUMNS` (rule in the module docstring)."""
    periods = [check_period(p) for p in dict.fromkeys(periods)]
    pc = counted_contracts(company)
    orig = pc.groupby("job_id", sort=True)["original_amount"].sum().astype("int64")
    grid = pd.DataFrame({"job_id": pd.Series(orig.index, dtype="string")}).merge(
        pd.DataFrame({"period": pd.Series(periods, dtype="string")}), how="cross")
    grid["contract_original"] = grid["job_id"].map(orig).astype("int64")

    co = company["prime_change_orders"]
    co = co.assign(job_id=_text(co["job_id"]), contract_number=_text(co["contract_number"]))
    co = co.merge(pc[["job_id", "contract_number"]].drop_duplicates(),
                  on=["job_id", "contract_number"], how="inner")
    family = _text(co["status_family"]).str.lower()
    co = co[family.isin(["approved", "pending"]).to_numpy(bool)]
    # Each change order against each period end: the rule is read at every end at once.
    ends = pd.DataFrame({"period": pd.Series(periods, dtype="string"),
                         "_end": [pd.Period(p, freq="M").end_time.normalize() for p in periods]})
    x = pd.DataFrame({"job_id": co["job_id"].to_numpy(),
                      "_approved_family": (_text(co["status_family"]).str.lower()
                                           == "approved").to_numpy(bool),
                      "_approved": pd.to_datetime(co["approved_date"]).to_numpy(),
                      "_created": pd.to_datetime(co["created_date"]).to_numpy(),
                      "amount": co["amount"].astype("int64").to_numpy()}).merge(ends, how="cross")
    approved_by_end = x["_approved"].isna() | (x["_approved"] <= x["_end"])
    approved = x["_approved_family"] & approved_by_end
    raised = x["_created"].isna() | (x["_created"] <= x["_end"])
    pending = raised & ~approved
    x["change_orders_approved"] = np.where(approved.to_numpy(bool), x["amount"], 0)
    x["change_orders_pending"] = np.where(pending.to_numpy(bool), x["amount"], 0)
    sums = x.groupby(["job_id", "period"], as_index=False, sort=False)[
        ["change_orders_approved", "change_orders_pending"]].sum()
    out = grid.merge(sums.astype({"job_id": "string", "period": "string"}),
                     on=["job_id", "period"], how="left")
    for c in ("change_orders_approved", "change_orders_pending"):
        out[c] = out[c].fillna(0).astype("int64")
    out["contract_revised"] = out["contract_original"] + out["change_orders_approved"]
    return out[COLUMNS].sort_values(["period", "job_id"], kind="stable").reset_index(drop=True)


def contract_inputs(company, period: str) -> pd.DataFrame:
    """:func:`contract_by_period` at one period: ``job_id, contract_original,
    change_orders_approved, change_orders_pending, contract_revised``."""
    return contract_by_period(company, [period]).drop(columns="period")
