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


def test_each_notebooks_copy_of_a_loaded_bundle_uses_the_index_built_once(sample_bundle_dir,
                                                                          monkeypatch):
    # A warm kernel loads the saved bundle again for every dashboard: each load hands out new
    # shallow copies of the same frames, and the index of a table must be found, not rebuilt
    # (rebuilding it for each dashboard cost more than comparing every row).
    monkeypatch.setattr(bundles, "INDEXED_ROWS", 0)
    monkeypatch.setattr(bundles, "_BY_JOB", {})
    builds = []
    groupby = pd.DataFrame.groupby
    monkeypatch.setattr(pd.DataFrame, "groupby",
                        lambda self, *a, **k: builds.append(len(self)) or groupby(self, *a, **k))
    first = bundles.load(sample_bundle_dir)
    job = first.job_ids[0]
    expected = _mask(first["history"], job)
    for _ in range(3):
        b = bundles.load(sample_bundle_dir)
        pd.testing.assert_frame_equal(bundles.job_rows(b["history"], job), expected)
        pd.testing.assert_frame_equal(bundles.job_rows(b["history"].copy(deep=False), job),
                                      expected)
    assert builds == [len(first["history"])]


def test_a_bundle_read_in_row_groups_is_loaded_as_one_array_a_column(tmp_path):
    # Arrow's take joins a chunked column's chunks on every call: the loader joins them once.
    import pyarrow as pa

    frame = pd.DataFrame({
        "job_id": pd.array(["00123", None, "7"] * 4, dtype="string"),
        "code": pd.array(["03-300", "01-100", None] * 4, dtype="str"),
        "cents": range(12),
        "qty": pd.array([1, None, 3] * 4, dtype="int64[pyarrow]")})
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, row_group_size=5)
    read = pd.read_parquet(path)
    assert read["job_id"].array.__arrow_array__().num_chunks == 3  # what the loader is given
    joined = bundles.one_chunk(read)
    pd.testing.assert_frame_equal(joined, frame)
    for name in ("job_id", "code", "qty"):
        assert isinstance(joined[name].array.__arrow_array__(), pa.ChunkedArray)
        assert joined[name].array.__arrow_array__().num_chunks == 1, name
    assert bundles.one_chunk(joined) is joined  # nothing to join: the frame as it is


def test_a_job_written_in_one_run_of_rows_is_a_slice_sharing_the_tables_data(monkeypatch):
    # Every table of the bundle is written job by job: a dashboard's rows of a job are then a
    # view of the table, not a copy of each of its columns. A job whose rows are not one run
    # is taken row by row, as before.
    import numpy as np

    monkeypatch.setattr(bundles, "INDEXED_ROWS", 0)
    frame = pd.DataFrame({"job_id": pd.array(["1", "1", "2", "2", "2", "1"], dtype="string"),
                          "cents": range(6)}, index=range(10, 16))
    run = bundles.job_rows(frame, "2")
    pd.testing.assert_frame_equal(run, _mask(frame, "2"))
    assert np.shares_memory(run["cents"].to_numpy(), frame["cents"].to_numpy())
    split = bundles.job_rows(frame, "1")
    pd.testing.assert_frame_equal(split, _mask(frame, "1"))
    assert split["cents"].tolist() == [0, 1, 5]
    assert not np.shares_memory(split["cents"].to_numpy(), frame["cents"].to_numpy())
