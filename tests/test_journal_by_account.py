"""The WIP entry when the GL keeps the WIP accounts by account only (no job): worked per job as
the change against the closed prior period's schedule, the account totals tied to the GL.

Worked example (dollars; debit positive; 1250 underbillings, 2150 overbillings, 2160 accrued
loss, 4050 revenue - over/under, 5950 cost - provision for losses):

| job | prior (2026-09) schedule | current (2026-10) schedule |
|---|---|---|
| A | underbilled 10,000 | underbilled 12,000 |
| B | overbilled 5,000 | overbilled 2,000 |
| C | overbilled 1,000, loss provision 2,000 | (completed: not in progress) |
| D | complete at 2026-09, underbilled 700 (kept until billed) | - (billed: settled) |
| E | - | underbilled 3,000 |

GL at 2026-09, by account: 1250 = 10,500, 2150 = -6,000, 2160 = -2,000.

A completed job keeps its contract asset or liability until billed (ASC 606-10-45-3), so the
prior schedule's targets count D's 700 too (issue #18, case 3).

Entry, per job (target - prior target): A 1250 Dr 2,000 / 4050 Cr; B 2150 Dr 3,000 / 4050 Cr;
C 2150 Dr 1,000 / 4050 Cr and 2160 Dr 2,000 / 5950 Cr; D 4050 Dr 700 / 1250 Cr; E 1250 Dr
3,000 / 4050 Cr.
Tie: 1250 GL 10,500 vs prior 10,000 (A) + 700 (D) -> difference -200; 2150 -6,000 vs -(5,000 +
1,000) -> 0; 2160 -2,000 vs -2,000 -> 0.
"""
from __future__ import annotations

import pandas as pd

from wip_lib.accounting.journal import assert_balanced, gl_tie, gl_tie_notes, wip_journal_entry
from wip_lib.core.settings import DEFAULT_GL_ACCOUNTS as ACCOUNTS

D = 100
UNDER, OVER, REV, LOSS_COST, ACCRUED = "1250", "2150", "4050", "5950", "2160"


def sched(rows):
    """rows: (job, status, under, over, provision) in dollars."""
    return pd.DataFrame({
        "job_id": pd.Series([r[0] for r in rows], dtype="string"),
        "status": pd.Series([r[1] for r in rows], dtype="string"),
        "underbillings": [r[2] * D for r in rows], "overbillings": [r[3] * D for r in rows],
        "loss_provision": [r[4] * D for r in rows],
        "underbillings_net": [r[2] * D for r in rows],
        "overbillings_net": [(r[3] + r[4]) * D for r in rows]})


PRIOR = sched([("A", "open", 10_000, 0, 0), ("B", "open", 0, 5_000, 0),
               ("C", "open", 0, 1_000, 2_000), ("D", "complete", 700, 0, 0)])
CURRENT = sched([("A", "open", 12_000, 0, 0), ("B", "open", 0, 2_000, 0),
                 ("E", "open", 3_000, 0, 0)])
GL = pd.DataFrame({"period": ["2026-08", "2026-09", "2026-09", "2026-09"],
                   "account": [UNDER, UNDER, OVER, ACCRUED],
                   "job_id": pd.Series(["", "", "", ""], dtype="string"),
                   "balance": [9_000 * D, 10_500 * D, -6_000 * D, -2_000 * D]})


def lines(entry):
    return {(r.job_id, r.account, r.debit // D, r.credit // D) for r in entry.itertuples()}


def test_entry_is_the_change_against_the_prior_schedule():
    entry = wip_journal_entry(CURRENT, GL, ACCOUNTS, "2026-10", prior=PRIOR)
    assert lines(entry) == {
        ("A", UNDER, 2_000, 0), ("A", REV, 0, 2_000),
        ("B", OVER, 3_000, 0), ("B", REV, 0, 3_000),
        ("C", OVER, 1_000, 0), ("C", REV, 0, 1_000),
        ("C", ACCRUED, 2_000, 0), ("C", LOSS_COST, 0, 2_000),
        ("D", UNDER, 0, 700), ("D", REV, 700, 0),
        ("E", UNDER, 3_000, 0), ("E", REV, 0, 3_000)}
    assert_balanced(entry)


def test_tie_reports_the_difference_by_account():
    tie = gl_tie(GL, PRIOR, ACCOUNTS, "2026-10").set_index("account")
    assert tie.loc[UNDER, ["gl_balance", "prior_schedule", "difference"]].tolist() == [
        10_500 * D, 10_700 * D, -200 * D]
    assert tie.loc[OVER, "difference"] == 0 and tie.loc[ACCRUED, "difference"] == 0
    assert tie.loc[UNDER, "gl_period"] == "2026-09"          # the latest on or before 2026-10
    notes = gl_tie_notes(gl_tie(GL, PRIOR, ACCOUNTS, "2026-10"), "closed period (store)")
    assert len(notes) == 3
    assert notes[0].startswith("GL account 1250 ")
    assert "difference -200.00 (to clear in the GL)" in notes[0]
    assert notes[1].endswith("difference 0.00.")


def test_posting_lands_each_account_on_the_current_targets_plus_the_difference():
    """GL after posting = sum of current targets + the unexplained difference."""
    entry = wip_journal_entry(CURRENT, GL, ACCOUNTS, "2026-10", prior=PRIOR)
    net = (entry["debit"] - entry["credit"]).groupby(entry["account"]).sum()
    tie = gl_tie(GL, PRIOR, ACCOUNTS, "2026-10").set_index("account")
    assert tie.loc[UNDER, "gl_balance"] + net[UNDER] == (12_000 + 3_000 - 200) * D
    assert tie.loc[OVER, "gl_balance"] + net[OVER] == -2_000 * D
    assert tie.loc[ACCRUED, "gl_balance"] + net[ACCRUED] == 0


def test_an_account_kept_by_job_beside_accounts_kept_by_account():
    """1250 by job (A's subledger 11,000): A's 1250 line works against the GL, 2150/2160
    against the prior schedule; only the by-account ones are in the tie."""
    gl = pd.concat([GL[GL["account"] != UNDER], pd.DataFrame({
        "period": ["2026-09"], "account": [UNDER], "job_id": pd.Series(["A"], dtype="string"),
        "balance": [11_000 * D]})], ignore_index=True)
    entry = wip_journal_entry(CURRENT, gl, ACCOUNTS, "2026-10", prior=PRIOR)
    assert ("A", UNDER, 1_000, 0) in lines(entry)     # 12,000 - 11,000 in the GL
    assert ("B", OVER, 3_000, 0) in lines(entry)
    assert sorted(gl_tie(gl, PRIOR, ACCOUNTS, "2026-10")["account"]) == [OVER, ACCRUED]


def test_gl_with_jobs_has_no_tie():
    gl = GL.assign(job_id=pd.Series(["A"] * 4, dtype="string"))
    assert gl_tie(gl, PRIOR, ACCOUNTS, "2026-10").empty


def test_net_loss_provision_policy_uses_the_net_columns():
    """Surety view: C's prior overbillings_net 3,000, target 0 -> 2150 Dr 3,000; no 2160 line
    for C (the accrued-loss target is 0 and so is the prior's)."""
    entry = wip_journal_entry(CURRENT, GL[GL["account"] != ACCRUED], ACCOUNTS, "2026-10",
                              prior=PRIOR, net_loss_provision=True)
    got = lines(entry)
    assert ("C", OVER, 3_000, 0) in got
    assert not any(j == "C" and a == ACCRUED for j, a, *_ in got)
