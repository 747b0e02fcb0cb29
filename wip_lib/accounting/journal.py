"""The monthly WIP journal entry: move revenue from billed to earned, per job, against the
balances already in the GL (no reversal-and-rebook).

Rule (ASC 606-10-45-1/3 contract asset and liability presentation; ASC 605-35-45-2 accrued loss):
per job the target balances are

- underbillings (contract asset)      = ``underbillings``  (debit balance, ``+``)
- overbillings (contract liability)   = ``overbillings``   (credit balance, ``-``)
- accrued loss on contracts            = ``loss_provision`` (credit balance, ``-``)

and the entry line for each is ``change = target - current GL balance`` (debit positive). The
offset of a change in underbillings or overbillings goes to revenue - over/under billings, the
offset of a change in the accrued loss to cost of revenue - provision for losses:

=========================  =======================================  ========================
change                     debit                                    credit
=========================  =======================================  ========================
underbillings increase     Underbillings                            Revenue - over/under
underbillings decrease     Revenue - over/under                     Underbillings
overbillings increase      Revenue - over/under                     Overbillings
overbillings decrease      Overbillings                             Revenue - over/under
loss provision increase    Cost of revenue - provision for losses   Accrued loss on contracts
loss provision decrease    Accrued loss on contracts                Cost of revenue - provision
=========================  =======================================  ========================

Every change is a two-line pair, so the entry balances by construction (checked anyway).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from wip_lib.core.errors import InputError, Problem

ENTRY_COLUMNS = ("period", "job_id", "account", "account_name", "debit", "credit", "memo")

# role -> (sign of the target balance, offset role, words for an increase)
_TARGETS = (
    ("underbillings", +1, "revenue_over_under", "underbillings"),
    ("overbillings", -1, "revenue_over_under", "overbillings"),
    ("accrued_loss", -1, "loss_provision_cost", "loss provision"),
)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({
        "period": pd.Series(dtype="string"), "job_id": pd.Series(dtype="string"),
        "account": pd.Series(dtype="string"), "account_name": pd.Series(dtype="string"),
        "debit": pd.Series(dtype="int64"), "credit": pd.Series(dtype="int64"),
        "memo": pd.Series(dtype="string")})


def _current_balances(gl: pd.DataFrame | None, period: str, accounts: Mapping) -> pd.DataFrame:
    """Latest GL balance on or before ``period`` per (account, job) for the three WIP accounts."""
    cols = ["account", "job_id", "balance"]
    if gl is None or gl.empty:
        return pd.DataFrame({"account": pd.Series(dtype="string"),
                             "job_id": pd.Series(dtype="string"),
                             "balance": pd.Series(dtype="int64")})
    missing = [c for c in ("period", "account", "job_id", "balance") if c not in gl.columns]
    if missing:
        raise InputError([Problem("gl_balances", f"column {c!r} is missing",
                                  "export GL balances with period, account, job_id and balance",
                                  column=c) for c in missing])
    wanted = {str(accounts[r]["number"]) for r, *_ in _TARGETS}
    g = gl.assign(account=gl["account"].astype("string").str.strip(),
                  job_id=gl["job_id"].astype("string").str.strip(),
                  period=gl["period"].astype("string"))
    g = g[g["account"].isin(wanted) & (g["period"] <= period)]
    no_job = g["job_id"].isna() | (g["job_id"] == "")
    if no_job.any():
        first = g[no_job].iloc[0]
        raise InputError([Problem("gl_balances", "a WIP account balance has no job",
                                  "export the WIP accounts with job detail (per job subledger)",
                                  column="job_id", value=str(first["account"]))])
    latest = g.groupby(["account", "job_id"])["period"].transform("max")
    g = g[g["period"] == latest]
    g = g.groupby(["account", "job_id"], as_index=False)["balance"].sum()
    g["balance"] = g["balance"].astype("int64")
    return g[cols]


def wip_journal_entry(schedule: pd.DataFrame, gl_balances: pd.DataFrame | None,
                      accounts: Mapping[str, Mapping[str, str]], period: str, *,
                      net_loss_provision: bool = False) -> pd.DataFrame:
    """The WIP entry for ``period``: per job and WIP account, ``target - current GL balance``.

    Targets: underbillings ``+under``, overbillings ``-over``, accrued loss ``-provision``
    (debit positive). With ``net_loss_provision`` (surety view) the targets are the net columns
    (``underbillings_net``, ``overbillings_net``) and the accrued loss target is 0: the loss then
    runs through revenue - over/under, the "revenue reduced by the loss" convention. GL balances
    (columns period, account, job_id, balance; debit positive) are the latest on or before
    ``period``; a job in the GL but not in the schedule (closed) is taken to zero.
    Returns rows period, job_id, account, account_name, debit, credit (cents, >= 0), memo.
    """
    missing_roles = [r for r in ("underbillings", "overbillings", "revenue_over_under",
                                 "loss_provision_cost", "accrued_loss") if r not in accounts]
    if missing_roles:
        raise InputError([Problem("company.yaml", f"GL account for {r!r} is not set",
                                  f"add gl_accounts: {r}: {{number: ..., name: ...}}",
                                  column="gl_accounts") for r in missing_roles])
    under_col, over_col = (("underbillings_net", "overbillings_net") if net_loss_provision
                           else ("underbillings", "overbillings"))
    jobs = schedule["job_id"].astype("string")
    if jobs.duplicated().any():
        raise ValueError(f"schedule holds job {jobs[jobs.duplicated()].iloc[0]!r} twice")
    zero = np.zeros(len(schedule), dtype="int64")
    targets = {
        "underbillings": schedule[under_col].to_numpy(dtype="int64"),
        "overbillings": -schedule[over_col].to_numpy(dtype="int64"),
        "accrued_loss": zero if net_loss_provision
        else -schedule["loss_provision"].to_numpy(dtype="int64"),
    }
    current = _current_balances(gl_balances, period, accounts)
    frames = []
    for role, sign, offset, words in _TARGETS:
        number = str(accounts[role]["number"])
        tgt = pd.DataFrame({"job_id": jobs.to_numpy(), "target": targets[role]})
        cur = current[current["account"] == number][["job_id", "balance"]]
        both = tgt.merge(cur, on="job_id", how="outer")
        both["target"] = both["target"].fillna(0).astype("int64")
        both["balance"] = both["balance"].fillna(0).astype("int64")
        both["change"] = both["target"] - both["balance"]
        both = both[both["change"] != 0]
        if both.empty:
            continue
        change = both["change"].to_numpy(dtype="int64")
        # Increase of the natural balance: debit for an asset (sign +), credit for a credit one.
        increase = np.sign(change) == sign
        what = np.where(increase, f"{words} increase", f"{words} decrease")
        memo = (f"WIP {period} job " + both["job_id"].astype("string") + ": "
                + pd.Series(what, index=both.index, dtype="string"))
        debit = np.where(change > 0, change, 0)
        credit = np.where(change < 0, -change, 0)
        for acct_role, d, c in ((role, debit, credit), (offset, credit, debit)):
            frames.append(pd.DataFrame({
                "period": period, "job_id": both["job_id"].to_numpy(),
                "account": str(accounts[acct_role]["number"]),
                "account_name": str(accounts[acct_role]["name"]),
                "debit": d, "credit": c, "memo": memo.to_numpy(),
                "_order": _ROLE_ORDER[role] * 2 + (acct_role != role)}))
    if not frames:
        return _empty()
    entry = pd.concat(frames, ignore_index=True)
    entry = entry.sort_values(["job_id", "_order"], kind="stable").drop(columns="_order")
    entry = entry.reset_index(drop=True)
    for c in ("period", "job_id", "account", "account_name", "memo"):
        entry[c] = entry[c].astype("string")
    for c in ("debit", "credit"):
        entry[c] = entry[c].astype("int64")
    assert_balanced(entry)
    return entry[list(ENTRY_COLUMNS)]


_ROLE_ORDER = {role: i for i, (role, *_rest) in enumerate(_TARGETS)}


def summarise_by_account(entry: pd.DataFrame) -> pd.DataFrame:
    """Totals per account: debit, credit and ``net = debit - credit`` (what posts to the GL)."""
    out = (entry.groupby(["account", "account_name"], as_index=False, sort=True)
           [["debit", "credit"]].sum())
    out["debit"] = out["debit"].astype("int64")
    out["credit"] = out["credit"].astype("int64")
    out["net"] = out["debit"] - out["credit"]
    return out


class UnbalancedEntry(AssertionError):
    """Debits and credits of a journal entry differ (a bug, never a user mistake)."""


def assert_balanced(entry: pd.DataFrame) -> None:
    """Double entry: ``sum(debit) == sum(credit)`` and no negative amounts; raises otherwise."""
    debit = int(entry["debit"].astype("int64").sum())
    credit = int(entry["credit"].astype("int64").sum())
    if (entry["debit"] < 0).any() or (entry["credit"] < 0).any():
        raise UnbalancedEntry("journal entry has a negative debit or credit")
    if debit != credit:
        raise UnbalancedEntry(f"journal entry does not balance: debits {debit} cents, "
                              f"credits {credit} cents")
