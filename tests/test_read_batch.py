"""Many small files parsed in one call read exactly as each file read alone.

``read_texts_arrow`` joins the rows of the files that share a header row, parses them at once and
cuts the result back by each file's line count (the budget snapshots: thousands of files of a
hundred lines). Each case below is a file a controller's folder can hold; read in a batch beside
ordinary files, every file must come back as ``read_text_arrow`` reads it alone: the same cells,
header names and encoding, and the same problems, word for word. Where the bytes cannot vouch
that a line is a row (a value holding a line break, a lone carriage return, a short row), the
batch must notice and read the files alone, never shift a row into the next file.
"""
from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wip_lib.sources.readers.tabular import Collector, read_text_arrow, read_texts_arrow

HEADER = "Budget Code,Description,Original Budget Amount\n"
ROWS = '03-300.L,"Cast-in-place, walls",1200.00\n03-300.M,Concrete,"3,400.00"\n'

CASES = {
    "plain": (HEADER + ROWS).encode(),
    "no final line break": (HEADER + ROWS.rstrip("\n")).encode(),
    "header only": HEADER.encode(),
    "blank header line": ("\n" + ROWS).encode(),
    "header without a line break": HEADER.rstrip("\n").encode(),
    "BOM": b"\xef\xbb\xbf" + (HEADER + ROWS).encode(),
    "CRLF": (HEADER + ROWS).replace("\n", "\r\n").encode(),
    "lone CR": (HEADER + ROWS).replace("\n", "\r").encode(),
    "line break inside a value": (HEADER + '03-310.L,"two\nlines",5.00\n').encode(),
    "quote left open": (HEADER + '03-310.L,"open,5.00\n03-320.L,x,1.00\n').encode(),
    "short row": (HEADER + "03-310.L,5.00\n").encode(),
    "blank line": (HEADER + "03-310.L,a,5.00\n\n03-320.L,b,1.00\n").encode(),
    "Windows-1252": (HEADER + "03-310.L,Caf\xe9,5.00\n").encode("cp1252"),
    "UTF-16": (HEADER + ROWS).encode("utf-16"),
    "empty": b"",
    "header spaced and quoted": ('" Budget Code ",Description,Original Budget Amount\n' + ROWS)
    .encode(),
    "header naming a column twice": ("Budget Code,Budget Code,Amount\n" + ROWS).encode(),
    "other header": ("Cost Code,Amount\n" + "01-100,5.00\n" * 3).encode(),
    "accents": (HEADER + "03-310.L,Façade béton,5.00\n").encode(),
}


def _alone(path):
    out = Collector(path.name)
    return read_text_arrow(path, out), out.problems


def _same(got, want) -> None:
    if want is None:
        assert got is None
        return
    assert got is not None
    table, names, encoding = got
    assert (names, encoding) == (want[1], want[2])
    assert table.schema == want[0].schema
    assert table.to_pydict() == want[0].to_pydict()


def _batch_reads_as_alone(folder, contents: list[bytes]) -> list:
    """Write the files, read them in a batch, and check each against its reading alone."""
    paths = []
    for i, data in enumerate(contents):
        p = folder / f"{i:02d}.csv"
        p.write_bytes(data)
        paths.append(p)
    outs = [Collector(p.name) for p in paths]
    got = read_texts_arrow(paths, outs)
    for p, g, out in zip(paths, got, outs):
        want, problems = _alone(p)
        _same(g, want)
        assert out.problems == problems
    return got


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_file_in_a_batch_reads_as_it_reads_alone(case, tmp_path):
    # The case between ordinary files of the same header: a row must never cross into them.
    _batch_reads_as_alone(tmp_path, [CASES["plain"], CASES[case], CASES["plain"]])


def test_every_case_at_once_in_small_batches(tmp_path, monkeypatch):
    """All the cases together, cut into batches of 4 files: the rows of each file are its own."""
    import wip_lib.sources.readers.tabular as tabular

    monkeypatch.setattr(tabular, "BATCH_FILES", 4)
    got = _batch_reads_as_alone(tmp_path, [CASES[case] for case in sorted(CASES) * 2])
    # The ordinary files really were parsed together: some file's rows are a slice that starts
    # after another file's rows.
    assert any(g is not None and g[0].num_rows and g[0].column(0).chunk(0).offset > 0
               for g in got)


def test_a_missing_file_is_reported_as_alone(tmp_path):
    paths = [tmp_path / "a.csv", tmp_path / "gone.csv"]
    paths[0].write_bytes(CASES["plain"])
    outs = [Collector(p.name) for p in paths]
    got = read_texts_arrow(paths, outs)
    assert got[0][0].num_rows == 2 and got[1] is None
    assert outs[1].problems == _alone(paths[1])[1] and outs[1].problems


# -- a repeated key found by DuckDB on a large table: the rows pandas' duplicated marks ----------

@pytest.mark.parametrize("ids", [
    ["a", "b", "c"],                      # none repeats
    ["a", "b", "a", "c", "a", "b"],       # repeats, the first of each kept
    ["z", "a", "z", "z"],                 # the first row repeated twice later
    ["x", None, "y", None],               # a null: pandas' own rule
    ["00123", "123", "00123"],            # leading zeros count
])
def test_repeated_keys_are_the_rows_pandas_marks(ids, monkeypatch):
    import pandas as pd

    import wip_lib.sources.validate as rules

    monkeypatch.setattr(rules, "LARGE", 1)  # the DuckDB path, on a frame small enough to read
    df = pd.DataFrame({"row_id": pd.Series(ids, dtype="str"), "amount": range(len(ids))},
                      index=pd.RangeIndex(10, 10 + len(ids)))
    got = rules.repeated_keys(df, ["row_id"])
    pd.testing.assert_series_equal(got, df.duplicated(["row_id"], keep="first"))


@given(st.lists(st.tuples(st.sampled_from(["00123", "123", "A", ""]) | st.none(),
                          st.integers(0, 3) | st.none()), max_size=30))
def test_repeated_keys_of_several_columns_are_the_rows_pandas_marks(rows):
    """A key of text and a whole number, nulls among them (a null is one key, as pandas has
    it): the rows ``duplicated`` marks, on a table too small for DuckDB."""
    import pandas as pd

    import wip_lib.sources.validate as rules

    df = pd.DataFrame({"job_id": pd.Series([r[0] for r in rows], dtype="string"),
                       "line_number": pd.Series([r[1] for r in rows], dtype="Int64")},
                      index=pd.RangeIndex(5, 5 + len(rows)))
    for key in (["job_id"], ["line_number"], ["job_id", "line_number"]):
        pd.testing.assert_series_equal(rules.repeated_keys(df, key),
                                       df.duplicated(key, keep="first"))


_PAIR = st.tuples(st.sampled_from(["00101", "101", ""]) | st.none(),
                  st.sampled_from(["01-100", "01-100 ", "01-200", ""]) | st.none())


@given(st.lists(_PAIR, min_size=1, max_size=8), st.lists(_PAIR, max_size=8),
       st.lists(_PAIR, max_size=8))
def test_unknown_cost_codes_are_the_pairs_a_merge_with_the_budget_misses(budget, lines, cos):
    """A commitment line's or change order's (job, cost code) not among the budget's: the rows
    a left merge on the budget's pairs leaves unmatched (a missing value matching a missing
    one, as pandas merges), each reported at its own row."""
    import pandas as pd

    import wip_lib.sources.validate as rules

    def frame(rows):
        return pd.DataFrame({"job_id": pd.Series([r[0] for r in rows], dtype="string"),
                             "cost_code": pd.Series([r[1] for r in rows], dtype="string"),
                             "_file": "f.csv", "_row": range(2, len(rows) + 2)})

    tables = {"budget": frame(budget), "commitment_lines": frame(lines),
              "commitment_change_orders": frame(cos), "erp_cost_codes": pd.DataFrame(),
              "erp_job_cost": pd.DataFrame()}
    got = rules.unknown_cost_codes(tables, None)
    known = tables["budget"][["job_id", "cost_code"]].drop_duplicates().assign(_k=True)
    for name in ("commitment_lines", "commitment_change_orders"):
        df = tables[name]
        m = df[["job_id", "cost_code"]].merge(known, how="left", on=["job_id", "cost_code"])
        want = df["_row"][m["_k"].isna().to_numpy()].tolist()
        assert [p.row for p in got.get(name, ([], None))[0]] == want[:rules.MAX_LISTED], name


def test_repeated_keys_on_many_ids_equal_pandas(monkeypatch):
    import numpy as np
    import pandas as pd

    import wip_lib.sources.validate as rules

    monkeypatch.setattr(rules, "LARGE", 1000)
    rng = np.random.default_rng(7)
    ids = pd.Series([f"JCT{n:07d}" for n in rng.integers(0, 40_000, 50_000)], dtype="str")
    df = pd.DataFrame({"row_id": ids})
    want = df.duplicated(["row_id"], keep="first")
    assert want.sum() > 1000  # the case worth testing: many repeats
    pd.testing.assert_series_equal(rules.repeated_keys(df, ["row_id"]), want)


# -- any files at all: the batch reads each as it reads alone (Hypothesis) ----------------------

_CELL = st.text(alphabet=["a", "7", " ", ",", '"', "\n", "\r", "é", "-", "."], max_size=6)
_HEADERS = [["Budget Code", "Description", "Amount"], ["Budget Code", "Amount"], ['A "q"', "B"]]


@st.composite
def _csv_file(draw) -> bytes:
    """A CSV file as a program writes one (quoted where needed, LF or CRLF), or as a person
    leaves one (a raw line that may not line up, a BOM, no final line break)."""
    header = draw(st.sampled_from(_HEADERS))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 9)) == 0:
            buf.write(draw(_CELL) + "\n")  # a line by hand: any text at all
        else:
            writer.writerow([draw(_CELL) for _ in header])
    text = buf.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    data = text.encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if draw(st.integers(0, 5)) == 0 else data


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(_csv_file(), min_size=1, max_size=6))
def test_any_files_read_in_a_batch_as_alone(files, tmp_path_factory):
    _batch_reads_as_alone(tmp_path_factory.mktemp("any"), files)
