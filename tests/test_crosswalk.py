"""The ERP-to-Procore cost-code crosswalk (wip_lib.core.codes), one rule for every reader.

Crosswalk, in file order (blank job = every job):
  procore   erp    job
  02-220    0220          two Procore codes share ERP 0220, the higher one written first
  02-210    0220
  04-400    0400
  04-420    0400   2      job 2 has its own rows for 0400, again the higher first
  04-410    0400   2
  05-500    0500   3      written for job 3 only

Before the rule was in one place these disagreed: ``codes.erp_to_procore`` took the first row in
file order (02-220 for 0220; 04-420 for job 2's 0400), the forecast took the lowest code (02-210,
04-410), the reconciliation compared the group 02-210+02-220 in total.

Worked by hand: the Procore code that receives ERP cost (the lowest in force) and the key the
reconciliation compares on (every code in force, joined by "+").
"""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_forecast import table

from wip_lib.core import codes
from wip_lib.core.settings import Company, Settings

CROSSWALK = [("02-220", "0220", ""), ("02-210", "0220", ""), ("04-400", "0400", ""),
             ("04-420", "0400", "2"), ("04-410", "0400", "2"), ("05-500", "0500", "3")]

CASES = [  # job, ERP code, Procore code receiving the cost, reconciliation key
    ("1", "0220", "02-210", "02-210+02-220"),  # many to one: the lowest receives the cost
    ("2", "0220", "02-210", "02-210+02-220"),
    ("1", "0400", "04-400", "04-400"),         # the blank-job row
    ("2", "0400", "04-410", "04-410+04-420"),  # job 2's own rows beat the blank-job row
    ("1", "0500", "0500", "0500"),             # 05-500 is job 3's only: none in force for job 1
    ("3", "0500", "05-500", "05-500"),
    ("1", "0999", "0999", "0999"),             # no crosswalk row: the code itself
]


def crosswalk() -> pd.DataFrame:
    return table("cost_code_crosswalk", [
        {"procore_cost_code": p, "erp_cost_code": e, "job_id": j} for p, e, j in CROSSWALK])


def job_cost() -> pd.DataFrame:
    return table("erp_job_cost", [
        {"job_id": j, "cost_code": e, "cost_code_raw": e, "cost_type": "L", "source": "AP",
         "transaction_date": "2026-10-15", "accounting_date": "2026-10-15", "period": "2026-10",
         "amount": (i + 1) * 100_00, "row_id": f"r{i}"} for i, (j, e, _, _) in enumerate(CASES)])


def company() -> Company:
    return Company.from_tables(Settings(name="T", current_period="2026-10"),
                               {"cost_code_crosswalk": crosswalk(), "erp_job_cost": job_cost()})


def test_the_code_that_receives_the_cost():
    jc = job_cost()
    got = codes.erp_to_procore(crosswalk(), jc)
    assert got.tolist() == [receiver for _, _, receiver, _ in CASES]
    assert got.index.equals(jc.index)


def test_blanks_around_codes_and_jobs_do_not_matter():
    cw = crosswalk().astype("string")
    cw = cw.assign(procore_cost_code=" " + cw["procore_cost_code"] + " ",
                   erp_cost_code=cw["erp_cost_code"] + " ", job_id=" " + cw["job_id"])
    assert codes.erp_to_procore(cw, job_cost()).tolist() == [r for _, _, r, _ in CASES]


def test_pairs_in_force():
    pairs = codes.crosswalk_pairs(crosswalk(), ["1", "2"])
    got = set(map(tuple, pairs[["job_id", "erp_cost_code", "procore_cost_code"]].to_numpy()))
    assert got == {("1", "0220", "02-210"), ("1", "0220", "02-220"), ("1", "0400", "04-400"),
                   ("2", "0220", "02-210"), ("2", "0220", "02-220"), ("2", "0400", "04-410"),
                   ("2", "0400", "04-420"), ("3", "0220", "02-210"), ("3", "0220", "02-220"),
                   ("3", "0400", "04-400"), ("3", "0500", "05-500")}


@pytest.mark.parametrize("job, erp, receiver, key", CASES)
def test_forecast_and_reconciliation_agree(job, erp, receiver, key):
    """The forecast books the ERP cost on the receiving code; the reconciliation compares it on
    a key whose group holds that code."""
    from wip_lib.accounting.forecast import erp_cost_history
    from wip_lib.reconcile.core import erp_key, make_context

    c = company()
    i = next(i for i, (j, e, _, _) in enumerate(CASES) if (j, e) == (job, erp))
    h = erp_cost_history(c, "2026-10")
    booked = h[(h["job_id"] == job) & (h["amount"] == (i + 1) * 100_00)]
    assert booked["cost_code"].tolist() == [receiver]
    ctx = make_context(c, "2026-10")
    jc = job_cost().iloc[[i]]
    assert erp_key(ctx, jc).tolist() == [key]
    assert receiver in key.split("+")


_CELL = st.sampled_from(["", " ", "001", " 001", "002", "01-100", "01-200 ", "X"])


@given(st.lists(st.tuples(_CELL, _CELL, _CELL), max_size=6),
       st.lists(st.sampled_from(["001", " 002", "003", ""]), max_size=3))
def test_pairs_in_force_are_the_rule_and_nothing_else(rows, jobs):
    """Whatever the crosswalk: its job-specific rows, and each general row (no job) for every
    job asked about or named by the crosswalk unless that job has its own row for the ERP code;
    trimmed, once each, sorted."""
    cw = pd.DataFrame(rows or None, columns=["job_id", "erp_cost_code", "procore_cost_code"],
                      dtype="string")
    got = [tuple(r) for r in codes.crosswalk_pairs(cw, jobs).itertuples(index=False)]
    trimmed = [tuple(c.strip() for c in r) for r in rows]
    specific = {r for r in trimmed if r[0]}
    own = {(j, e) for j, e, _ in specific}
    every = {j.strip() for j in jobs if j.strip()} | {r[0] for r in specific}
    want = specific | {(j, e, p) for g, e, p in trimmed if not g for j in every
                       if (j, e) not in own}
    assert got == sorted(want)
