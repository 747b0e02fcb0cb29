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

The schedule passed in holds every job that carries a WIP balance: jobs in progress and completed
jobs, whose over/under (``B - final revenue``) stays a contract asset or liability until billed
or refunded (ASC 606-10-45-3); a job in the GL but not in the schedule is taken to zero.

Surety (net) view (``net_loss_provision``): the over/under accounts carry the net figures
``(B - ER) + provision`` and the accrued-loss target is 0, but the loss is still a cost: US
presentation puts the provision in cost of revenue (ASC 605-35-45-1). So the entry adds, per
job, the pair *cost of revenue - provision for losses* (debit) / *revenue - over/under billings*
(credit) for ``X = provision(t) - provision(t-1) + A``, where ``A`` is the accrued loss the GL
still holds for the job (the gross view's balance, taken to zero by the accrued-loss line with
its offset in cost of revenue) and ``provision(t-1)`` is the schedule's ``loss_provision_prior``.
The over/under accounts already carry ``provision(t-1) - A`` of the provision, so revenue moves
by the change in the gross over/under and cost of revenue by ``provision(t) - provision(t-1)``,
as in the gross view, also in the period a company switches views: both views post the
schedule's period revenue and cost.

GL balances kept by account only
--------------------------------
Most ERPs keep the three WIP accounts by account, not by job. For such an account (its balance
rows carry no job) the current balance of each job is the target of the closed prior period's
schedule (``prior``; every job it carries): the entry is then the change of each job's figure
since that schedule, ``change = target(t) - target(t-1)``, which is what the entry posts when
the prior period's entry was posted. The tie (:func:`gl_tie`) compares the account's balance in
the GL (latest on or before the period) with the sum of the prior targets,
``difference = GL balance - sum over jobs of target(t-1)``: anything else posted to the account,
or a prior entry not posted. Posting the entry lands the account on ``sum target(t) +
difference``; the difference is reported for the controller to clear, never spread over jobs.
Without ``prior`` a GL with no job detail cannot be worked per job and is refused.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from wip_lib.core.errors import InputError, Problem
from wip_lib.core.grouping import aggregate
from wip_lib.core.money import cents_to_text

ENTRY_COLUMNS = ("period", "job_id", "account", "account_name", "debit", "credit", "memo")
#: Memo words of the surety view's pair moving the provision's change from revenue to cost.
PROVISION_IN_COST = "loss provision in cost of revenue"

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


def _empty_balances() -> pd.DataFrame:
    return pd.DataFrame({"account": pd.Series(dtype="string"),
                         "job_id": pd.Series(dtype="string"),
                         "balance": pd.Series(dtype="int64")})


def _wip_gl(gl: pd.DataFrame | None, period: str, accounts: Mapping
            ) -> tuple[pd.DataFrame, set[str]]:
    """The three WIP accounts' GL rows on or before ``period`` (keys trimmed), and the accounts
    kept by account only (a balance row without a job)."""
    if gl is None or gl.empty:
        return pd.DataFrame(columns=["period", "account", "job_id", "balance"]), set()
    missing = [c for c in ("period", "account", "job_id", "balance") if c not in gl.columns]
    if missing:
        raise InputError([Problem("gl_balances", f"column {c!r} is missing",
                                  "export GL balances with period, account, job_id and balance",
                                  column=c) for c in missing])
    wanted = {str(accounts[r]["number"]) for r, *_ in _TARGETS}
    g = gl.assign(account=gl["account"].astype("string").str.strip(),
                  job_id=gl["job_id"].astype("string").str.strip().fillna(""),
                  period=gl["period"].astype("string"))
    g = g[g["account"].isin(wanted) & (g["period"] <= period)]
    by_account = set(g.loc[g["job_id"] == "", "account"].astype(str))
    return g, by_account


def prior_targets(prior: pd.DataFrame | None, accounts: Mapping, *,
                  net_loss_provision: bool = False) -> pd.DataFrame:
    """``account, job_id, balance``: each job's target balances in the prior period's schedule
    (what its posted entry left in the WIP accounts; a completed job keeps its over/under until
    billed, ASC 606-10-45-3, so every row of the schedule counts)."""
    if prior is None or prior.empty:
        return _empty_balances()
    p = prior
    under_col, over_col = (("underbillings_net", "overbillings_net") if net_loss_provision
                           else ("underbillings", "overbillings"))
    jobs = p["job_id"].astype("string").to_numpy()
    zero = np.zeros(len(p), dtype="int64")
    parts = []
    for role, values in (("underbillings", p[under_col].to_numpy(dtype="int64")),
                         ("overbillings", -p[over_col].to_numpy(dtype="int64")),
                         ("accrued_loss", zero if net_loss_provision
                          else -p["loss_provision"].to_numpy(dtype="int64"))):
        parts.append(pd.DataFrame({"account": str(accounts[role]["number"]), "job_id": jobs,
                                   "balance": values}))
    out = pd.concat(parts, ignore_index=True)
    for c in ("account", "job_id"):
        out[c] = out[c].astype("string")
    out["balance"] = out["balance"].astype("int64")
    return out


def _current_balances(gl: pd.DataFrame | None, period: str, accounts: Mapping,
                      prior: pd.DataFrame | None = None, net_loss_provision: bool = False
                      ) -> pd.DataFrame:
    """Current balance per (account, job) for the three WIP accounts: the latest GL balance on
    or before ``period``; for an account kept by account only, the prior schedule's targets."""
    cols = ["account", "job_id", "balance"]
    g, by_account = _wip_gl(gl, period, accounts)
    if g.empty:
        return _empty_balances()
    if by_account and prior is None:
        raise InputError([Problem("gl_balances", "a WIP account balance has no job",
                                  "export the WIP accounts with job detail (per job subledger), "
                                  "or work the entry against the prior period's schedule",
                                  column="job_id", value=sorted(by_account)[0])])
    g = g[~g["account"].isin(by_account)]
    latest = g.groupby(["account", "job_id"])["period"].transform("max")
    g = g[g["period"] == latest]
    g = g.groupby(["account", "job_id"], as_index=False)["balance"].sum()
    g["balance"] = g["balance"].astype("int64")
    if by_account:
        t = prior_targets(prior, accounts, net_loss_provision=net_loss_provision)
        g = pd.concat([g[cols], t[t["account"].isin(by_account)]], ignore_index=True)
    return g[cols]


TIE_COLUMNS = ("account", "account_name", "gl_period", "gl_balance", "prior_schedule",
               "difference")


def gl_tie(gl: pd.DataFrame | None, prior: pd.DataFrame | None, accounts: Mapping,
           period: str, *, net_loss_provision: bool = False) -> pd.DataFrame:
    """For each WIP account the GL keeps by account only: its balance (latest period on or
    before ``period``), the sum of the prior schedule's targets the entry was worked against,
    and ``difference = gl_balance - prior_schedule``. Empty when the GL keeps jobs."""
    g, by_account = _wip_gl(gl, period, accounts)
    if not by_account:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("gl_balance", "prior_schedule",
                                                                 "difference") else "string")
                             for c in TIE_COLUMNS})
    g = g[g["account"].isin(by_account)]
    latest = g.groupby("account")["period"].transform("max")
    g = g[g["period"] == latest]
    gl_sum = aggregate(g, "account", gl_period=("period", "first"), gl_balance=("balance", "sum"))
    t = prior_targets(prior, accounts, net_loss_provision=net_loss_provision)
    t_sum = t.groupby("account")["balance"].sum()
    names = {str(v["number"]): str(v["name"]) for v in accounts.values()}
    out = gl_sum.reset_index()
    out["account_name"] = out["account"].map(names).fillna("")
    out["gl_balance"] = out["gl_balance"].astype("int64")
    out["prior_schedule"] = out["account"].map(t_sum).fillna(0).astype("int64")
    out["difference"] = (out["gl_balance"] - out["prior_schedule"]).astype("int64")
    for c in ("account", "account_name", "gl_period"):
        out[c] = out[c].astype("string")
    return out[list(TIE_COLUMNS)].sort_values("account").reset_index(drop=True)


def gl_tie_notes(tie: pd.DataFrame, prior_source: str = "") -> list[str]:
    """One line per account kept by account only, for the period's notes."""
    out = []
    for r in tie.itertuples():  # three accounts at most
        out.append(f"GL account {r.account} {r.account_name} is kept by account only: the entry "
                   f"is worked per job against the prior period's schedule"
                   f"{f' ({prior_source})' if prior_source else ''}; GL balance "
                   f"{cents_to_text(pd.Series([r.gl_balance], dtype='Int64')).iloc[0]} at "
                   f"{r.gl_period}, prior schedule "
                   f"{cents_to_text(pd.Series([r.prior_schedule], dtype='Int64')).iloc[0]}, "
                   f"difference {cents_to_text(pd.Series([r.difference], dtype='Int64')).iloc[0]}"
                   + ("" if r.difference == 0 else " (to clear in the GL)") + ".")
    return out


def wip_journal_entry(schedule: pd.DataFrame, gl_balances: pd.DataFrame | None,
                      accounts: Mapping[str, Mapping[str, str]], period: str, *,
                      net_loss_provision: bool = False,
                      prior: pd.DataFrame | None = None) -> pd.DataFrame:
    """The WIP entry for ``period``: per job and WIP account, ``target - current GL balance``.

    Targets: underbillings ``+under``, overbillings ``-over``, accrued loss ``-provision``
    (debit positive). With ``net_loss_provision`` (surety view) the targets are the net columns
    (``underbillings_net``, ``overbillings_net``), the accrued loss target is 0, and
    ``loss_provision - loss_provision_prior + accrued loss still in the GL`` (prior 0 when the
    column is absent) is moved from revenue - over/under to cost of revenue - provision for
    losses (module docstring), so revenue and cost post as in the gross view. GL balances (columns period,
    account, job_id, balance; debit positive) are the latest on or before ``period``; a job in
    the GL but not in the schedule (closed) is taken to zero.
    ``prior`` (the closed prior period's schedule) is the per-job balance of any WIP account the GL
    keeps by account only (see the module docstring; :func:`gl_tie` reports the difference).
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
    current = _current_balances(gl_balances, period, accounts, prior, net_loss_provision)
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
    if net_loss_provision:
        provision_prior = (schedule["loss_provision_prior"].astype("Int64").fillna(0)
                 .to_numpy(dtype="int64") if "loss_provision_prior" in schedule.columns
                 else zero)
        accrued = current[current["account"] == str(accounts["accrued_loss"]["number"])]
        held = -jobs.map(accrued.set_index("job_id")["balance"]).astype("Int64").fillna(
            0).to_numpy(dtype="int64")
        change = schedule["loss_provision"].to_numpy(dtype="int64") - provision_prior + held
        moved = change != 0
        if moved.any():
            ch = change[moved]
            what = np.where(ch > 0, f"{PROVISION_IN_COST} increase",
                            f"{PROVISION_IN_COST} decrease")
            memo = (f"WIP {period} job " + jobs[moved].reset_index(drop=True) + ": "
                    + pd.Series(what, dtype="string"))
            for acct_role, d, c in (("loss_provision_cost", np.maximum(ch, 0),
                                     np.maximum(-ch, 0)),
                                    ("revenue_over_under", np.maximum(-ch, 0),
                                     np.maximum(ch, 0))):
                frames.append(pd.DataFrame({
                    "period": period, "job_id": jobs[moved].to_numpy(),
                    "account": str(accounts[acct_role]["number"]),
                    "account_name": str(accounts[acct_role]["name"]),
                    "debit": d, "credit": c, "memo": memo.to_numpy(),
                    "_order": 2 * len(_TARGETS) + (acct_role != "loss_provision_cost")}))
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
