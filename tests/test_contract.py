"""Contract inclusion (wip_lib.accounting.contract), worked by hand.

Job J (dollars):
  contract  status               original   counts?
  1         Approved             100,000    yes
  2         Draft                 50,000    no
  3         " out for SIGNATURE"  40,000    no (trimmed, any case)
  4         Complete              10,000    yes                    -> contract_original 110,000
Change orders on contract 1:
  co  family    created     approved    amount
  A   approved  2026-08-10  2026-09-15   1,000
  B   approved  2026-09-20  2026-11-03   2,000   (approved after October: pending at 2026-10)
  C   pending   2026-10-01  -            4,000
  D   excluded  2026-08-01  -            8,000   (never counts)
  E   approved  -           -           16,000   (no dates: approved in every period)
  F   pending   2026-11-02  -           32,000   (raised after October)
  G   approved  2026-10-31  2026-10-31     128   (on the period's last day: in October)
Contract 2 (Draft) carries an approved CO of 64,000 that never counts. Job K has only a Draft
contract, so it has no contract at all.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_forecast import table

from wip_lib.accounting.contract import contract_by_period
from wip_lib.core.settings import Company, Settings

D = 100
ROOT = Path(__file__).resolve().parents[1]


def contract_at(company: Company, period: str) -> pd.DataFrame:
    return contract_by_period(company, [period]).drop(columns="period")


def company() -> Company:
    contracts = [("J", "1", "Approved", 100_000), ("J", "2", "Draft", 50_000),
                 ("J", "3", " out for SIGNATURE", 40_000), ("J", "4", "Complete", 10_000),
                 ("K", "1", "Draft", 70_000)]
    cos = [("1", "A", "approved", "2026-08-10", "2026-09-15", 1_000),
           ("1", "B", "approved", "2026-09-20", "2026-11-03", 2_000),
           ("1", "C", "pending", "2026-10-01", None, 4_000),
           ("1", "D", "excluded", "2026-08-01", None, 8_000),
           ("1", "E", "approved", None, None, 16_000),
           ("1", "F", "pending", "2026-11-02", None, 32_000),
           ("1", "G", "approved", "2026-10-31", "2026-10-31", 128),
           ("2", "H", "approved", "2026-07-01", "2026-08-01", 64_000)]
    return Company.from_tables(Settings(name="T", current_period="2026-10"), {
        "prime_contracts": table("prime_contracts", [
            {"job_id": j, "contract_number": n, "status": s, "original_amount": a * D}
            for j, n, s, a in contracts]),
        "prime_change_orders": table("prime_change_orders", [
            {"job_id": "J", "contract_number": n, "co_number": co, "status": fam.title(),
             "status_family": fam, "created_date": made, "approved_date": appr, "amount": a * D}
            for n, co, fam, made, appr, a in cos]),
    })


@pytest.mark.parametrize("period, approved, pending", [
    ("2026-08", 16_000, 1_000),            # E; A raised, not yet approved
    ("2026-09", 17_000, 2_000),            # E + A; B raised
    ("2026-10", 17_128, 6_000),            # E + A + G; B (approved in November) + C
    ("2026-11", 19_128, 36_000),           # E + A + G + B; C + F
])
def test_contract_at_each_period_end(period, approved, pending):
    got = contract_at(company(), period)
    assert got["job_id"].tolist() == ["J"]  # K: a Draft contract only
    r = got.iloc[0]
    assert (r["contract_original"], r["change_orders_approved"], r["change_orders_pending"],
            r["contract_revised"]) == (110_000 * D, approved * D, pending * D,
                                       (110_000 + approved) * D)


def test_all_periods_at_once_is_each_period():
    periods = ["2026-08", "2026-09", "2026-10", "2026-11"]
    many = contract_by_period(company(), periods)
    assert many["period"].tolist() == periods
    for p in periods:
        one = contract_at(company(), p)
        pd.testing.assert_frame_equal(
            many.loc[many["period"] == p].drop(columns="period").reset_index(drop=True), one)


@pytest.fixture(scope="module")
def sample(sample_company):
    return sample_company


def test_schedule_and_job_flags_read_the_one_rule(sample):
    """The WIP schedule's TP and the job flags' revised contract are the rule's figures."""
    from wip_lib.accounting.forecast import job_summary
    from wip_lib.accounting.schedule import job_inputs

    rule = contract_at(sample, "2026-10").set_index("job_id")
    inputs = job_inputs(sample, "2026-10").set_index("job_id")
    have = inputs.index.intersection(rule.index)
    assert len(have) > 20
    for c in ("contract_original", "change_orders_approved", "change_orders_pending"):
        assert (inputs.loc[have, c] == rule.loc[have, c]).all()
    summary = job_summary(sample, "2026-10").set_index("job_id")
    both = summary.index.intersection(rule.index)
    assert len(both) > 20
    assert (summary.loc[both, "contract_revised"] == rule.loc[both, "contract_revised"]).all()
