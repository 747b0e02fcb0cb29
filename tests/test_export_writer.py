"""The export writer's CSV files are the bytes pandas' ``DataFrame.to_csv`` writes for the same
cells (the writer lays out thousands of budget snapshots and G703s without a frame per file), on
awkward text: quotes, commas, line breaks, tabs, leading blanks, a cell alone on its row, CJK and
formula-looking text (written as text: a CSV has no formulas until a spreadsheet opens it)."""
from __future__ import annotations

import pandas as pd

from wip_lib.sources.export_writer import _cells, _write_rows

AWKWARD = ['Acme "Best" Steel', "Smith, Jones & Co.", "line one\nline two", "tab\there",
           "  leading blanks", "trailing blanks  ", "", "東京建設", "=SUM(A1:A9)", "'quoted'",
           "cr\rhere", '"', ",", "plain"]


def _pandas(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def test_rows_are_written_as_pandas_writes_them(tmp_path):
    frame = pd.DataFrame({"Description": pd.Series(AWKWARD, dtype="string"),
                          "Vendor": pd.Series(AWKWARD[::-1], dtype="string"),
                          "Amount": pd.Series([f"${i},000.0{i % 10}" for i in range(len(AWKWARD))],
                                              dtype="string")})
    frame.loc[3, "Vendor"] = pd.NA  # a missing cell is blank
    path = tmp_path / "a" / "b.csv"
    _write_rows(path, [list(frame.columns), *_cells(frame).tolist()])
    assert path.read_bytes() == _pandas(frame)


def test_a_row_of_one_blank_cell_and_a_head_above(tmp_path):
    frame = pd.DataFrame({"Only": pd.Series(["", "x", ""], dtype="string")})
    path = tmp_path / "one.csv"
    _write_rows(path, [["Label", "Value"], ["A", "1"], [], ["Only"], *_cells(frame).tolist()])
    assert path.read_bytes() == b"Label,Value\nA,1\n\n" + _pandas(frame)
