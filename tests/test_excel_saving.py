"""Saving the workbook fast changes no byte: :mod:`wip_lib.reports.excel.saving` writes what
openpyxl's own ``save`` writes, and :func:`~wip_lib.reports.excel.cells.write_records` makes the
cells openpyxl's public API makes (value, type, number format), on the sample's workbook and on
cells chosen to be awkward."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.comments import Comment
from openpyxl.styles import Font

from wip_lib.reports.excel import cells as xl
from wip_lib.reports.excel import saving
from wip_lib.reports.excel.cells import Check, Col
from wip_lib.reports.excel.cost_to_complete import COLUMNS as COST_COLUMNS
from wip_lib.reports.excel.workbook import build_wip_workbook

ROOT = Path(__file__).resolve().parents[1]
# openpyxl stamps the "modified" date with the time of saving; ours keeps the workbook's own
STAMPED = "docProps/core.xml"


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _openpyxl_bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _our_bytes(wb) -> bytes:
    buf = io.BytesIO()
    saving.save_workbook(wb, buf)
    return buf.getvalue()


def _assert_same_entries(theirs: bytes, ours: bytes) -> None:
    a, b = _entries(theirs), _entries(ours)
    assert list(a) == list(b)
    for name in a:
        if name != STAMPED:
            assert a[name] == b[name], name


@pytest.fixture(scope="module")
def sample_result(sample_period):
    return sample_period


def test_the_sample_workbook_is_saved_as_openpyxl_saves_it(sample_result):
    theirs = _openpyxl_bytes(build_wip_workbook(sample_result).workbook)
    ours = _our_bytes(build_wip_workbook(sample_result).workbook)
    _assert_same_entries(theirs, ours)
    sheets = [n for n in _entries(ours) if n.startswith("xl/worksheets/sheet")]
    assert len(sheets) == 11


def _awkward():
    wb = openpyxl.Workbook()
    ws = wb.active
    values = [" lead", "trail ", "a&b<c>\"q'", "=cmd|' /C calc'!A0", "\tTab", "x\ny", 1.1,
              0.1 + 0.2, 10**17, -0.0, True, False, None, "", date(2026, 1, 2),
              datetime(2026, 1, 2, 3, 4, 5), '=SUM(A1:A2)&"<>"', float("nan"), float("inf"),
              "#N/A", "=", "Ünïcødé ✓"]
    for i, v in enumerate(values, start=1):
        ws.cell(i, 1).value = v
        ws.cell(i, 2).font = Font(bold=True)  # a styled empty cell
    ws.cell(3, 3).value = "link"
    ws.cell(3, 3).hyperlink = "http://example.org/?a=1&b=2"
    ws.cell(5, 5).value = "noted"
    ws.cell(5, 5).comment = Comment("a note", "controller")
    ws.cell(6, 1).quotePrefix = True
    ws.row_dimensions[4].height = 30
    ws.row_dimensions[40].height = 30  # a row with a height and no cells
    ws.cell(30, 2).value = 1  # written after rows 31+ would be: cells out of order
    ws.cell(2, 30).value = "far right"
    second = wb.create_sheet("Empty")
    second.sheet_properties.tabColor = "1F3A5F"
    return wb


def test_awkward_cells_are_saved_as_openpyxl_saves_them():
    _assert_same_entries(_openpyxl_bytes(_awkward()), _our_bytes(_awkward()))


def test_every_entry_is_dated_2000_01_01():
    with zipfile.ZipFile(io.BytesIO(_our_bytes(_awkward()))) as z:
        assert {i.date_time for i in z.infolist()} == {saving.ZIP_DATE}


COLS = (
    Col("at", "At", "datetime"),  # first: its format would be added before the others'
    Col("job_id", "Job", "text"),
    Col("amount", "Amount", "money", total=True),
    Col("other", "Other", "money"),
    Col("count", "Count", "int"),
    Col("ratio", "Ratio", "pct"),
    Col("fine", "Fine", "pct_fine"),
    Col("when", "When", "date"),
    Col("flag", "Flag", "bool"),
    Col("sum", "Sum", "money", "={amount}+{other}", expect="want"),
    Col("tie", "Tie", "money", "={amount}-{elsewhere}"),
    Col("given", "Given", "money", "{literal}"),
)
RECORDS = [
    {"at": datetime(2026, 10, 31, 17, 5, 9), "job_id": "00123", "amount": 12345, "other": -5, "count": 3, "ratio": 0.25, "fine": 1 / 3,
     "when": date(2026, 10, 31), "flag": True, "want": 12340, "tie": 100, "given": 7},
    {"at": None, "job_id": "=1+1", "amount": None, "other": pd.NA, "count": None, "ratio": float("nan"),
     "fine": None, "when": None, "flag": False, "want": None, "tie": None, "given": None,
     "_skip": {"tie"}},
    {"at": pd.Timestamp("2026-11-02 08:00:00.5"), "job_id": " 0042 ", "amount": 0, "other": 1, "count": 0, "ratio": 0.0, "fine": 0.0,
     "when": pd.Timestamp("2026-01-31"), "flag": None, "want": 1, "sum": 1, "tie": 5, "given": 9,
     "_values": {"sum"}},
]


def _refs(i, rec):
    return {"elsewhere": f"'Other sheet'!C{10 + i}", "literal": "12.5" if i else "=1"}


def _reference_records(ws, records, cols, first_row, refs):
    """The plain openpyxl way: ``ws.cell``, ``cell.value =`` and ``cell.number_format =``."""
    letters = xl.column_letters(cols)
    for i, rec in enumerate(records):
        r = first_row + i
        extra = refs(i, rec)
        for k, c in enumerate(cols, start=1):
            cell = ws.cell(r, k)
            if c.key in rec.get("_skip", ()):
                xl.apply_format(cell, c.kind)
            elif c.formula and c.key not in rec.get("_values", ()):
                cell.value = xl._resolve(c.formula, r, letters, extra)
                xl.apply_format(cell, c.kind)
            else:
                xl.write_value(cell, c.kind, rec.get(c.key))


def test_write_records_makes_the_cells_openpyxl_makes():
    plain, fast = xl.new_workbook(), xl.new_workbook()
    _reference_records(plain.create_sheet("T"), RECORDS, COLS, 7, _refs)
    checks: list[Check] = []
    last = xl.write_records(fast.create_sheet("T"), RECORDS, COLS, first_row=7, checks=checks,
                            refs=_refs)
    assert last == 9
    _assert_same_entries(_openpyxl_bytes(plain), _openpyxl_bytes(fast))
    ws = fast["T"]
    assert ws["J7"].value == "=C7+D7" and ws["J7"].data_type == "f"
    assert ws["K7"].value == "=C7-'Other sheet'!C10"
    assert ws["K8"].value is None and ws["K8"].number_format == xl.ACCOUNTING  # skipped
    assert ws["J9"].value == 0.01 and ws["J9"].data_type == "n"  # written as a value
    assert ws["L8"].value == "12.5" and ws["L8"].data_type == "s"  # a reference, not a formula
    assert ws["B8"].value == "=1+1" and ws["B8"].data_type == "s" and ws["B8"].quotePrefix
    assert ws["C7"].value == 123.45 and ws["C8"].value is None
    assert [(c.cell, c.expected) for c in checks if c.label == "Sum"] == [("J7", 12340),
                                                                        ("J8", None)]
    assert [(c.cell, c.expected) for c in checks if c.label == "Tie"] == [("K7", 100),
                                                                        ("K9", 5)]


def test_rows_past_excels_limit_are_an_error_naming_it():
    ws = xl.new_workbook().create_sheet("T")
    with pytest.raises(ValueError, match="1,048,576 rows"):
        xl.write_records(ws, RECORDS, COLS, first_row=xl.MAX_ROWS - 1)


def test_a_control_character_is_shown_as_the_replacement_character(tmp_path, capsys):
    wb = xl.new_workbook()
    ws = wb.create_sheet("T")
    xl.set_text(ws.cell(1, 1), "Acme\x0bSupply\x00")
    xl.set_text(ws.cell(2, 1), "plain")
    path = xl.save(wb, tmp_path / "t.xlsx")
    err = capsys.readouterr().err
    assert "t.xlsx: 1 cell(s) held control characters" in err
    back = openpyxl.load_workbook(path)["T"]
    assert back["A1"].value == "Acme\ufffdSupply\ufffd"
    assert back["A2"].value == "plain"


def test_cells_of_a_column_share_one_style_and_a_change_gives_one_cell_its_own():
    wb = xl.new_workbook()
    ws = wb.create_sheet("T")
    xl.write_records(ws, RECORDS, COLS, first_row=7, refs=_refs)
    xl.shade_inputs(ws, COLS, 7, 9)
    money = [ws.cell(r, 3)._style for r in (7, 8, 9)]  # an input money column, shaded
    assert money[0] is money[1] is money[2] and type(money[0]) is xl.SharedStyle
    with pytest.raises(TypeError, match="shared by many cells"):
        money[0].fontId = 1  # in place, it would restyle the whole column
    xl.own_style(ws.cell(8, 3))
    ws.cell(8, 3).font = Font(bold=True)
    assert ws.cell(8, 3).font.b and not ws.cell(7, 3).font.b and not ws.cell(9, 3).font.b
    assert ws.cell(7, 3).number_format == ws.cell(8, 3).number_format == xl.ACCOUNTING
    assert ws.cell(7, 3).fill.fgColor.rgb == ws.cell(8, 3).fill.fgColor.rgb == "00F2F2F2"
    xl.apply_format(ws.cell(9, 3), "pct")  # openpyxl's setter, through a copy
    assert ws.cell(9, 3).number_format == xl.PERCENT
    assert ws.cell(7, 3).number_format == xl.ACCOUNTING


def test_a_workbook_only_saved_keeps_no_checks_and_the_same_cells(sample_result):
    checked = build_wip_workbook(sample_result)
    with xl.unchecked():
        saved = build_wip_workbook(sample_result)
    assert len(checked.checks) > 1000 and saved.checks == []
    assert type(xl.check_list()) is list  # kept again after it
    # The cost codes' rows are not cells until the file is written, and are let go after it.
    sheet = "Cost to complete"
    jobs_rows = len(sample_result.forecast)
    held = len(saved.workbook[sheet]._cells)
    assert len(checked.workbook[sheet]._cells) - held == jobs_rows * len(COST_COLUMNS)
    first = _our_bytes(saved.workbook)
    assert len(saved.workbook[sheet]._cells) == held
    _assert_same_entries(_our_bytes(checked.workbook), first)


def _rows_now_and_later(later: bool):
    """A sheet with cells above, beside and below rows 4-9, a height on row 6 and a text cut to
    Excel's limit in row 5; rows 4-9 written now or as the file is written."""
    wb = xl.new_workbook()
    ws = wb.create_sheet("Rows")
    cols = [Col("code", "Code", "text"), Col("amount", "Amount", "money"),
            Col("twice", "Twice", "money", "={amount}*2")]
    xl.write_header(ws, cols, block_row=None, head_row=3)
    recs = [{"code": f"0{i}-100", "amount": 1234 * i, "twice": 2468 * i} for i in range(6)]
    recs[1]["code"] = "x" * (xl.EXCEL_TEXT_LIMIT + 5)
    ws.row_dimensions[6].height = 30

    def make():
        xl.write_records(ws, recs, cols, first_row=4)
        xl.shade_inputs(ws, cols, 4, 9)

    if later:
        xl.later_rows(ws, 4, 9, make, cols)
    else:
        make()
    xl.set_text(ws.cell(10, 1), "after")
    ws.cell(12, 2).value = 5
    return wb


def test_rows_made_as_the_file_is_written_give_the_same_bytes(tmp_path, capsys):
    now, later = _rows_now_and_later(False), _rows_now_and_later(True)
    assert not any(4 <= r <= 9 for r, _ in later["Rows"]._cells)
    _assert_same_entries(_our_bytes(now), _our_bytes(later))
    assert not any(4 <= r <= 9 for r, _ in later["Rows"]._cells)  # let go once written
    xl.save(_rows_now_and_later(True), tmp_path / "later.xlsx")
    err = capsys.readouterr().err
    assert "later.xlsx, sheet 'Rows', cell A5 (row 5, column 'Code'): text of 32,772" in err
    back = openpyxl.load_workbook(tmp_path / "later.xlsx")["Rows"]
    assert back["A4"].value == "00-100" and back["C9"].value == "=B9*2"
    assert back["B9"].value == 61.7 and back["A10"].value == "after"


def test_rows_made_outside_their_block_are_refused():
    wb = xl.new_workbook()
    ws = wb.create_sheet("Rows")
    xl.later_rows(ws, 4, 5, lambda: ws.cell(7, 1, "stray"))
    with pytest.raises(ValueError, match=r"rows 4-5 made a cell outside them \(\(7, 1\)\)"):
        _our_bytes(wb)
