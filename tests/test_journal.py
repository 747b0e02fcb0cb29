"""The monthly WIP journal entry: changes against GL balances, per the reference's debit/credit
table, balanced per job and in total; the ERP import CSV."""
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wip_lib.accounting.journal import (
    UnbalancedEntry,
    assert_balanced,
    summarise_by_account,
    wip_journal_entry,
)
from wip_lib.accounting.recognition import recognize
from wip_lib.core.errors import InputError
from wip_lib.core.settings import DEFAULT_GL_ACCOUNTS as ACCOUNTS
from wip_lib.reports.csvfiles import to_import_csv

D = 100
UNDER, OVER, REV, LOSS_COST, ACCRUED = "1250", "2150", "4050", "5950", "2160"


def schedule(*rows):
    """rows: (job_id, TP, CTD, ETC, B) in dollars."""
    return recognize(pd.DataFrame({
        "job_id": pd.Series([r[0] for r in rows], dtype="string"),
        "contract_original": [r[1] * D for r in rows],
        "cost_to_date": [r[2] * D for r in rows],
        "est_cost_to_complete": pd.array([r[3] * D for r in rows], dtype="Int64"),
        "billed_to_date": [r[4] * D for r in rows]}))


def gl(*rows):
    """rows: (period, account, job_id, balance dollars; debit positive)."""
    return pd.DataFrame({"period": [r[0] for r in rows], "account": [r[1] for r in rows],
                         "job_id": [r[2] for r in rows], "balance": [r[3] * D for r in rows]})


def lines(entry):
    return {(r.job_id, r.account, r.debit // D, r.credit // D) for r in entry.itertuples()}


# (case, GL balance before, schedule row) -> expected (account, debit, credit) lines in dollars
TABLE = [
    ("underbillings increase", [("2026-09", UNDER, "A", 10_000)],
     ("A", 1_000_000, 450_000, 350_000, 500_000),          # under 62,500
     {(UNDER, 52_500, 0), (REV, 0, 52_500)}),
    ("underbillings decrease", [("2026-09", UNDER, "A", 80_000)],
     ("A", 1_000_000, 450_000, 350_000, 500_000),
     {(REV, 17_500, 0), (UNDER, 0, 17_500)}),
    ("overbillings increase", [("2026-09", OVER, "A", -10_000)],
     ("A", 1_000_000, 450_000, 350_000, 600_000),          # over 37,500
     {(REV, 27_500, 0), (OVER, 0, 27_500)}),
    ("overbillings decrease", [("2026-09", OVER, "A", -50_000)],
     ("A", 1_000_000, 450_000, 350_000, 600_000),
     {(OVER, 12_500, 0), (REV, 0, 12_500)}),
    ("loss provision increase", [("2026-09", OVER, "A", -57_272.73)],
     ("A", 500_000, 300_000, 250_000, 330_000),            # provision 22,727.27
     {(LOSS_COST, 22_727.27, 0), (ACCRUED, 0, 22_727.27)}),
    ("loss provision decrease",
     [("2026-09", OVER, "A", -57_272.73), ("2026-09", ACCRUED, "A", -30_000)],
     ("A", 500_000, 300_000, 250_000, 330_000),
     {(ACCRUED, 7_272.73, 0), (LOSS_COST, 0, 7_272.73)}),
    ("under to over in one month", [("2026-09", UNDER, "A", 5_000)],
     ("A", 1_000_000, 450_000, 350_000, 600_000),
     {(UNDER, 0, 5_000), (REV, 5_000, 0), (REV, 37_500, 0), (OVER, 0, 37_500)}),
    ("closed job taken to zero", [("2026-09", UNDER, "Z", 1_234.56)],
     ("A", 1_000_000, 450_000, 350_000, 562_500),          # exactly billed
     {(UNDER, 0, 1_234.56), (REV, 1_234.56, 0)}),
]


@pytest.mark.parametrize("case,balances,row,expected", TABLE, ids=[t[0] for t in TABLE])
def test_entry_follows_the_reference_table(case, balances, row, expected):
    entry = wip_journal_entry(schedule(row), gl(*balances), ACCOUNTS, "2026-10")
    got = {(r.account, r.debit / D, r.credit / D) for r in entry.itertuples()}
    assert got == {(a, float(d), float(c)) for a, d, c in expected}
    assert_balanced(entry)
    assert (entry["period"] == "2026-10").all()
    assert list(entry.columns) == ["period", "job_id", "account", "account_name", "debit",
                                   "credit", "memo"]


def test_no_change_no_lines_and_latest_balance_used():
    s = schedule(("A", 1_000_000, 450_000, 350_000, 600_000))
    balances = gl(("2026-08", OVER, "A", -1), ("2026-09", OVER, "A", -37_500),
                  ("2026-11", OVER, "A", -99))  # a later period is ignored
    entry = wip_journal_entry(s, balances, ACCOUNTS, "2026-10")
    assert entry.empty


def test_memo_and_summary():
    s = schedule(("A", 1_000_000, 450_000, 350_000, 600_000),
                 ("B", 1_000_000, 450_000, 350_000, 500_000))
    entry = wip_journal_entry(s, None, ACCOUNTS, "2026-10")
    assert entry["memo"].iloc[0] == "WIP 2026-10 job A: overbillings increase"
    summary = summarise_by_account(entry).set_index("account")
    assert summary.loc[REV, "net"] == (62_500 - 37_500) * -D
    assert summary.loc[UNDER, "net"] == 62_500 * D and summary.loc[OVER, "net"] == -37_500 * D
    assert summary["net"].sum() == 0


def test_net_loss_provision_keeps_the_provision_in_cost_of_revenue():
    """Surety view (issue #18 item 4; the old expectation ran the loss through revenue, which
    broke the tie of the schedule's period revenue to the GL). TP 500,000, CTD 300,000, ETC
    250,000, B 330,000: ER = 500,000 x 300/550 = 272,727.27, provision = 22,727.27, net over
    = 330,000 - 272,727.27 + 22,727.27 = 80,000. The over/under account carries the net 80,000;
    revenue moves by the gross over/under 57,272.73 (= 80,000 - 22,727.27) and the provision
    22,727.27 goes to cost of revenue, as in the gross view."""
    s = schedule(("A", 500_000, 300_000, 250_000, 330_000))
    entry = wip_journal_entry(s, None, ACCOUNTS, "2026-10", net_loss_provision=True)
    cents = {(r.account, r.debit, r.credit) for r in entry.itertuples()}
    assert cents == {(OVER, 0, 8_000_000), (REV, 8_000_000, 0),
                     (LOSS_COST, 2_272_727, 0), (REV, 0, 2_272_727)}
    net = summarise_by_account(entry).set_index("account")["net"]
    assert net[REV] == 5_727_273 and net[LOSS_COST] == 2_272_727 and net[OVER] == -8_000_000
    gross = summarise_by_account(wip_journal_entry(s, None, ACCOUNTS, "2026-10")).set_index(
        "account")["net"]
    assert net[REV] == gross[REV] and net[LOSS_COST] == gross[LOSS_COST]


def test_gl_without_job_detail_is_an_input_error():
    s = schedule(("A", 1_000_000, 450_000, 350_000, 600_000))
    with pytest.raises(InputError, match="no job"):
        wip_journal_entry(s, gl(("2026-09", OVER, None, -5)), ACCOUNTS, "2026-10")


def test_assert_balanced_raises():
    bad = pd.DataFrame({"debit": [100, 0], "credit": [0, 99]})
    with pytest.raises(UnbalancedEntry, match="does not balance"):
        assert_balanced(bad)


def test_import_csv(tmp_path):
    s = schedule(("007", 500_000, 300_000, 250_000, 330_000))
    entry = wip_journal_entry(s, None, ACCOUNTS, "2026-10")
    text = to_import_csv(entry, tmp_path / "je.csv").read_text()
    assert text.splitlines() == [
        "Date,Account,Job,Debit,Credit,Description",
        "2026-10-31,2150,007,0.00,57272.73,WIP 2026-10 job 007: overbillings increase",
        "2026-10-31,4050,007,57272.73,0.00,WIP 2026-10 job 007: overbillings increase",
        "2026-10-31,2160,007,0.00,22727.27,WIP 2026-10 job 007: loss provision increase",
        "2026-10-31,5950,007,22727.27,0.00,WIP 2026-10 job 007: loss provision increase",
    ]


money = st.integers(0, 10**11)


# Fifty entries of up to twenty jobs: an entry costs about the same for one job as for twenty.
@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(money, money, st.none() | st.integers(-10**9, 10**11), money,
                          st.integers(-10**10, 10**10), st.integers(-10**10, 0),
                          st.integers(-10**10, 0)), min_size=1, max_size=20))
def test_entry_balances_and_lands_on_target(rows):
    s = recognize(pd.DataFrame({
        "job_id": pd.Series([f"J{i}" for i in range(len(rows))], dtype="string"),
        "contract_original": [r[0] for r in rows], "cost_to_date": [r[1] for r in rows],
        "est_cost_to_complete": pd.array([r[2] for r in rows], dtype="Int64"),
        "billed_to_date": [r[3] for r in rows]}))
    balances = pd.DataFrame(
        [("2026-09", UNDER, f"J{i}", r[4]) for i, r in enumerate(rows)]
        + [("2026-09", OVER, f"J{i}", r[5]) for i, r in enumerate(rows)]
        + [("2026-09", ACCRUED, f"J{i}", r[6]) for i, r in enumerate(rows)],
        columns=["period", "account", "job_id", "balance"])
    entry = wip_journal_entry(s, balances, ACCOUNTS, "2026-10")
    assert_balanced(entry)
    assert (entry["debit"] >= 0).all() and (entry["credit"] >= 0).all()
    per_job = entry.groupby("job_id")[["debit", "credit"]].sum()
    assert (per_job["debit"] == per_job["credit"]).all()
    # Posting the entry lands every WIP account on its target balance.
    posted = pd.concat([balances, entry.assign(balance=entry["debit"] - entry["credit"])
                        [["period", "account", "job_id", "balance"]]])
    after = posted.groupby(["account", "job_id"])["balance"].sum()
    for i, r in s.reset_index(drop=True).iterrows():
        assert after.get((UNDER, r["job_id"]), 0) == r["underbillings"]
        assert after.get((OVER, r["job_id"]), 0) == -r["overbillings"]
        assert after.get((ACCRUED, r["job_id"]), 0) == -r["loss_provision"]
