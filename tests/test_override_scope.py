"""Which override sets a forecast row: one rule (wip_lib.accounting.overrides), read by the close.

Job 100's forecast rows (see test_forecast): 01-100 L, 02-200 S, 03-300 M, 04-400 E, 09-999 O;
job 200: 05-500 L. Overrides of all four scopes at once (dollars):
  O4  100 / 01-100 / L      50,000   code and type: the most specific
  O2  100 / 03-300 / (all)  25,000   code
  O3  100 / (all)  / S       6,000   type
  O1  100 / (all)  / (all) 100,000   whole job
The most specific override whose scope holds a row sets it:
  01-100 L -> O4 50,000; 03-300 M -> O2 25,000; 02-200 S -> O3 6,000; 04-400 E and 09-999 O -> O1,
  which spreads 100,000 - (50,000 + 25,000 + 6,000) = 19,000 over them: their PM forecasts are
  zero, so pro rata to etc_committed (04-400: 10,000 of uncommitted budget; 09-999: none, no
  budget line): 19,000 and 0. Job 200 is in no override's scope.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_forecast import D, make_company

from wip_lib.accounting.forecast import SOURCE_OVERRIDE, SOURCE_PM, cost_to_complete
from wip_lib.accounting.overrides import apply_overrides, set_by
from wip_lib.close.close import etc_used

OVERRIDES = [("100", "01-100", "L", 50_000), ("100", "03-300", "", 25_000),
             ("100", "", "S", 6_000), ("100", "", "", 100_000)]

EXPECTED = [  # job, code, type: the scope of the override that set it, its amount, ETC used
    ("100", "01-100", "L", "job 100 / code 01-100 / type L", 50_000, 50_000),
    ("100", "02-200", "S", "job 100 / code (all) / type S", 6_000, 6_000),
    ("100", "03-300", "M", "job 100 / code 03-300 / type (all)", 25_000, 25_000),
    ("100", "04-400", "E", "job 100 / code (all) / type (all)", 100_000, 19_000),
    ("100", "09-999", "O", "job 100 / code (all) / type (all)", 100_000, 0),
    ("200", "05-500", "L", None, None, 10_000),
]


def overrides() -> pd.DataFrame:
    return pd.DataFrame({
        "job_id": [r[0] for r in OVERRIDES], "cost_code": [r[1] for r in OVERRIDES],
        "cost_type": [r[2] for r in OVERRIDES],
        "etc_amount": pd.Series([r[3] * D for r in OVERRIDES], dtype="int64"),
        "who": ["cfo"] * 4, "when": pd.to_datetime(["2026-11-02"] * 4).astype("datetime64[us]"),
        "why": [f"O{i}" for i in (4, 2, 3, 1)]})


@pytest.fixture(scope="module")
def applied():
    fc = cost_to_complete(make_company(), "2026-10", overrides().iloc[0:0])
    return fc, apply_overrides(fc, overrides())


@pytest.mark.parametrize("job, code, ctype, scope, amount, etc", EXPECTED)
def test_most_specific_override_in_scope_sets_the_row(applied, job, code, ctype, scope, amount,
                                                      etc):
    fc, out = applied
    at = lambda df: ((df["job_id"] == job) & (df["cost_code"] == code)  # noqa: E731
                     & (df["cost_type"] == ctype)).to_numpy(bool)
    row = out[at(out)].iloc[0]
    assert row["etc_used"] == etc * D
    assert row["etc_source"] == (SOURCE_PM if scope is None else SOURCE_OVERRIDE)
    closed = etc_used(out, overrides())
    c = closed[at(closed)].iloc[0]
    if scope is None:
        assert pd.isna(c["override_scope"]) and pd.isna(c["override_amount"])
    else:
        assert (c["override_scope"], c["override_amount"]) == (scope, amount * D)
    # the same override whether asked of the forecast before or after it was applied
    for frame in (fc, out):
        by = set_by(frame, overrides()).iloc[np.flatnonzero(at(frame))[0]]
        assert (pd.isna(by["etc_amount"]) if amount is None else by["etc_amount"] == amount * D)
