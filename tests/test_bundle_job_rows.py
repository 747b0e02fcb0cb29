"""``bundle.job_rows``: a job's rows of a table, the same as comparing every row, whether found
through the index kept for large tables or not, and never through a stale index."""
from __future__ import annotations

import pandas as pd
import pytest

from wip_lib.close import bundle as bundles


def _mask(frame: pd.DataFrame, job_id: str) -> pd.DataFrame:
    return frame[frame["job_id"] == job_id]


@pytest.fixture()
def big(monkeypatch):
    monkeypatch.setattr(bundles, "INDEXED_ROWS", 5)  # every table below goes through the index
    jobs = pd.array(["00123", "00042", None, "00123", "7", "00042", "00123", "00999"],
                    dtype="string")
    return pd.DataFrame({"job_id": jobs, "cents": range(8)}, index=range(100, 108))


@pytest.mark.parametrize("job", ["00123", "00042", "7", "00999", "123", "nope"])
def test_the_same_rows_as_comparing_every_row(big, job):
    got = bundles.job_rows(big, job)
    pd.testing.assert_frame_equal(got, _mask(big, job))
    assert got["cents"].tolist() == [i for i, j in enumerate(big["job_id"])
                                     if j is not pd.NA and j == job]


def test_a_changed_table_is_indexed_again(big):
    assert bundles.job_rows(big, "00123")["cents"].tolist() == [0, 3, 6]
    shallow = big.copy(deep=False)  # what each notebook's bundle holds: the same column
    assert bundles.job_rows(shallow, "00123")["cents"].tolist() == [0, 3, 6]
    renumbered = big.assign(job_id=big["job_id"].replace("00123", "00124"))
    assert bundles.job_rows(renumbered, "00123").empty
    assert bundles.job_rows(renumbered, "00124")["cents"].tolist() == [0, 3, 6]
    sorted_ = big.sort_values("cents", ascending=False)
    assert bundles.job_rows(sorted_, "00123")["cents"].tolist() == [6, 3, 0]
    edited = big.copy(deep=False)
    edited.loc[100, "job_id"] = "00042"  # copy-on-write: a new array for the edited copy
    assert bundles.job_rows(edited, "00123")["cents"].tolist() == [3, 6]
    assert bundles.job_rows(big, "00123")["cents"].tolist() == [0, 3, 6]


def test_every_job_of_the_sample_bundle(sample_bundle_dir, monkeypatch):
    monkeypatch.setattr(bundles, "INDEXED_ROWS", 0)
    b = bundles.load(sample_bundle_dir)
    for name in ("history", "budget_history", "forecast", "flags", "findings", "retention"):
        frame = b[name]
        for job in b.job_ids:
            pd.testing.assert_frame_equal(bundles.job_rows(frame, job), _mask(frame, job))
