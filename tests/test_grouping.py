"""``core.grouping.aggregate`` returns what pandas' named aggregation returns, frame for frame
(values, dtypes, index, column order), for the shapes the period's rules use: one key or
several, sorted or in order of appearance, keys as columns or as the index, missing keys kept or
dropped, sums of cents, first / min / max of text and dates, sizes, counts of distinct values,
``any``, a callable, and empty input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wip_lib.core.grouping import aggregate


def _rows() -> pd.DataFrame:
    return pd.DataFrame({
        "job_id": pd.Series(["00104", "00007", "00104", "00007", None, "00104", "00210"],
                            dtype="string"),
        "ref": pd.Series(["INV-2", "INV-1", "INV-2", "INV-9", "INV-1", None, "INV-3"],
                         dtype="str"),
        "amount": np.array([125_000, -4_550, 1, 0, 99, 250_000_00, 7], dtype="int64"),
        "vendor": pd.Series(["Acme", None, "Acme Steel", "Bolt", "Bolt", "Crane", None],
                            dtype="string"),
        "date": pd.to_datetime(["2026-10-03", "2026-09-30", None, "2026-10-31", "2026-08-01",
                                "2026-10-01", None]).astype("datetime64[us]"),
        "flag": np.array([True, False, False, False, True, False, False]),
    })


SPEC = dict(total=("amount", "sum"), vendor=("vendor", "first"), first_date=("date", "min"),
            last_date=("date", "max"), n=("amount", "size"), vendors=("vendor", "nunique"),
            any_flag=("flag", "any"), refs=("ref", lambda s: ", ".join(sorted(set(s.dropna())))))

CASES = [
    ("one key", "job_id", {}),
    ("one key in a list", ["job_id"], {}),
    ("two keys", ["job_id", "ref"], {}),
    ("keys as columns", ["job_id", "ref"], {"as_index": False}),
    ("in order of appearance", ["job_id", "ref"], {"sort": False, "as_index": False}),
    ("missing keys kept", ["job_id", "ref"], {"dropna": False, "as_index": False}),
    ("missing keys kept, unsorted", "job_id", {"dropna": False, "sort": False}),
]


@pytest.mark.parametrize("label,by,kw", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("rows", ["all", "none", "one"])
def test_aggregate_equals_pandas_named_aggregation(label, by, kw, rows):
    df = _rows()
    df = df.iloc[:0] if rows == "none" else df.iloc[:1] if rows == "one" else df
    spec = SPEC if rows != "none" else {k: v for k, v in SPEC.items() if k != "refs"}
    expected = df.groupby(by, **kw).agg(**spec)
    pd.testing.assert_frame_equal(aggregate(df, by, **kw, **spec), expected)


SUMS = dict(total=("amount", "sum"), flagged=("flag", "sum"), again=("amount", "sum"),
            n=("amount", "size"), vendor=("vendor", "first"))


@pytest.mark.parametrize("label,by,kw", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("rows", ["all", "none", "one"])
def test_several_sums_equal_pandas(label, by, kw, rows):
    """Several sums (cents, a yes/no count, one column summed under two names) beside a size and
    a first: the frame is pandas' named aggregation's, column for column."""
    df = _rows()
    df = df.iloc[:0] if rows == "none" else df.iloc[:1] if rows == "one" else df
    pd.testing.assert_frame_equal(aggregate(df, by, **kw, **SUMS),
                                  df.groupby(by, **kw).agg(**SUMS))


def test_aggregate_works_the_sums_by_hand():
    """Job 00104: 125,000 + 1 + 250,000,00 cents (its INV-2 rows: 125,001); 00007: -4,550."""
    got = aggregate(_rows(), ["job_id", "ref"], as_index=False, total=("amount", "sum"),
                    rows=("amount", "size"))
    assert got.to_dict("list") == {
        "job_id": ["00007", "00007", "00104", "00210"],
        "ref": ["INV-1", "INV-9", "INV-2", "INV-3"],
        "total": [-4_550, 0, 125_001, 7], "rows": [1, 1, 2, 1]}
    by_job = aggregate(_rows(), "job_id", total=("amount", "sum"))["total"]
    assert by_job.to_dict() == {"00007": -4_550, "00104": 25_125_001, "00210": 7}


def test_aggregate_needs_an_output():
    with pytest.raises(TypeError, match="at least one output"):
        aggregate(_rows(), "job_id")
