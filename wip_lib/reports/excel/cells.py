"""Cell helpers shared by every sheet of the Excel WIP workbook (one module per sheet beside this).

Inputs (contract amounts, cost to date, cost to complete, billings, prior-period closed figures)
are written as values (:func:`write_value`, grey-shaded by :func:`shade_inputs`); every derived
figure is an Excel formula over those cells, so a CPA can click any number and see where it comes
from. A formula cell is registered as a :class:`Check` with the Python figure it must equal; a test
recalculates the workbook in LibreOffice and compares every one to the cent.

Untrusted text (job, vendor and cost-code names, descriptions from Procore or the ERP) is always
written as a string cell (:func:`set_text`): ``=cmd|' /C calc'!A0`` stays text, never a formula.

Columns are described by :class:`Col` with a formula template naming other columns in braces
(``"={cost_to_date}+{est_cost_to_complete}"``) that is resolved to cell references per row;
names that are not columns of the sheet come from per-row or absolute references the sheet passes
in (cells of another sheet, found through :mod:`wip_lib.reports.excel.layout`).
"""
from __future__ import annotations

import math
import re
from array import array
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Sequence

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE, BUILTIN_FORMATS_REVERSE
from openpyxl.formatting.rule import FormulaRule
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from wip_lib.reports.excel.saving import save_workbook

ACCOUNTING = '_(* #,##0.00_);_(* (#,##0.00);_(* "-"??_);_(@_)'
PERCENT = "0.0%"
PERCENT_FINE = "0.000000%"
PERCENT2 = "0.00%"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm:ss"
YES_NO = '"Yes";"Yes";"No"'
HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
BLOCK_FILL = PatternFill("solid", fgColor="DCE6F2")
LOSS_FILL = PatternFill("solid", fgColor="F8D7DA")
UNDER_FILL = PatternFill("solid", fgColor="FFF3CD")
INPUT_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="9AA5B1")
_REF = re.compile(r"\{([a-z_0-9]+)\}")


@dataclass(frozen=True, slots=True)
class Col:
    key: str
    header: str
    kind: str  # "text", "money", "pct", "pct_fine", "int"
    formula: str | None = None  # template; None: an input value from the DataFrame
    total: bool = False  # summed in the totals row
    block: str = ""
    #: Column of the record holding the Python figure this cell must equal (default: ``key``).
    expect: str | None = None
    width: float | None = None
    #: Template for the totals-row cell instead of ``SUM`` (e.g. a ratio of two totals).
    total_formula: str | None = None


_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")
EXCEL_TEXT_LIMIT = 32_767  # characters a cell holds (Excel's limit; openpyxl cuts longer text)
MAX_ROWS = 1_048_576  # rows a sheet holds (Excel's limit)
TRUNCATED_SHOWN = 20
REPLACEMENT = "\ufffd"  # shown in place of a control character a workbook cannot hold  # truncated cells listed one by one when the workbook is saved


@dataclass(frozen=True, slots=True)
class Truncation:
    """A text cut to Excel's limit: where, and how long it was."""
    sheet: str
    cell: str
    row: int
    column: str  # the column's header where the writer knows it, else its letter
    length: int

    def __str__(self) -> str:
        return (f"sheet '{self.sheet}', cell {self.cell} (row {self.row}, column "
                f"'{self.column}'): text of {self.length:,} characters cut to Excel's limit of "
                f"{EXCEL_TEXT_LIMIT:,}")


def truncations(wb: Workbook) -> list[Truncation]:
    """The cells whose text was cut to Excel's limit while ``wb`` was built."""
    return list(getattr(wb, "_wip_truncated", []))


def set_text(cell, value, column: str | None = None) -> None:
    """A string cell that no spreadsheet will evaluate, whatever it starts with.

    The cell is typed as a string (``t="s"``), so ``=HYPERLINK(...)`` is stored as text, and text
    starting with ``= + - @`` also gets Excel's quote prefix (shown as ``'=...``), so editing the
    cell in Excel later does not turn it into a formula either. Text longer than Excel's 32,767
    characters is cut to the limit and the cut recorded (:func:`truncations`; :func:`save` warns),
    never cut without a word. A control character the file format cannot hold (an export's
    vertical tab, say) is shown as U+FFFD and counted (:func:`save` warns), not an error.
    """
    if type(value) is str:
        text = value
    else:
        text = "" if value is None or pd.isna(value) else str(value)
    if len(text) > EXCEL_TEXT_LIMIT:
        ws = cell.parent
        wb = ws.parent
        cut = getattr(wb, "_wip_truncated", None)
        if cut is None:
            cut = wb._wip_truncated = []
        cut.append(Truncation(ws.title, cell.coordinate, cell.row,
                              column or cell.column_letter, len(text)))
        text = text[:EXCEL_TEXT_LIMIT]
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, text)
        wb = cell.parent.parent
        wb._wip_replaced = getattr(wb, "_wip_replaced", 0) + 1
    # what ``cell.value = text`` then ``data_type = "s"`` leave, without openpyxl's type checks
    cell._value = text
    cell.data_type = "s"
    if text.startswith(_DANGEROUS):
        own_style(cell)
        cell.quotePrefix = True


#: The number format of each kind of column (text and others have none).
_FORMATS = {"money": ACCOUNTING, "pct": PERCENT, "pct2": PERCENT2, "pct_fine": PERCENT_FINE,
            "date": DATE, "bool": YES_NO, "datetime": DATETIME}


def apply_format(cell, kind: str) -> None:
    fmt = _FORMATS.get(kind)
    if fmt is not None:
        own_style(cell)
        cell.number_format = fmt


class SharedStyle(StyleArray):
    """A cell style held by many cells at once: one per distinct style in a workbook
    (:func:`shared_style`), where each cell used to hold its own copy (about 1 GB of the
    workbook's memory at 2,000 jobs: 8.7 million cells, a 36-byte array each and its object).

    Changing it in place would restyle every cell that holds it, so it refuses to change
    (``TypeError``): a cell to be restyled gets its own copy first (:func:`own_style`), or a
    shared style of the new look (:func:`restyled`)."""

    __slots__ = ()

    def __setitem__(self, key, value):
        raise TypeError("this cell style is shared by many cells and cannot change in place; "
                        "give the cell its own copy first (wip_lib.reports.excel.cells.own_style)")


def shared_style(wb: Workbook, style) -> SharedStyle:
    """The workbook's one :class:`SharedStyle` equal to ``style`` (any sequence of the nine
    style ids)."""
    pool = wb.__dict__.setdefault("_wip_styles", {})
    key = tuple(style)
    found = pool.get(key)
    if found is None:
        found = pool[key] = _NEW_ARRAY(SharedStyle, "i", key)
    return found


def restyled(wb: Workbook, style, **ids: int) -> SharedStyle:
    """The shared style equal to ``style`` (None: openpyxl's default) with ``ids`` changed
    (e.g. ``fillId=3``)."""
    new = StyleArray() if not style else StyleArray(style)
    for name, value in ids.items():
        setattr(new, name, value)
    return shared_style(wb, new)


def own_style(cell) -> None:
    """Give ``cell`` its own copy of a shared style, so openpyxl's style setters
    (``cell.font = ...``) change this cell alone."""
    if type(cell._style) is SharedStyle:
        cell._style = StyleArray(cell._style)


def title_rows(ws: Worksheet, company: str, title: str, period_end: date) -> None:
    set_text(ws.cell(1, 1), company)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    set_text(ws.cell(2, 1), title)
    ws.cell(2, 1).font = Font(bold=True, size=12)
    set_text(ws.cell(3, 1), f"As of {period_end:%B} {period_end.day}, {period_end.year}")


def print_setup(ws: Worksheet, *, company: str, period: str, prepared: date,
                freeze: str | None, sheet_title: str | None = None) -> None:
    """Page header: company | sheet title and period | prepared date; footer: page x of y;
    panes frozen at ``freeze``. Header text is escaped (``&`` is a header code). The pages
    themselves (paper, scale, breaks, titles) are planned by :mod:`.printing`."""
    if freeze:
        ws.freeze_panes = freeze
    ws.oddHeader.left.text = company.replace("&", "&&")
    center = f"{sheet_title} - {period}" if sheet_title else f"WIP schedule {period}"
    ws.oddHeader.center.text = center.replace("&", "&&")
    ws.oddHeader.right.text = f"Prepared {prepared.isoformat()}"
    ws.oddFooter.right.text = "Page &P of &N"


def highlight_rows(ws: Worksheet, first: int, last: int, ncols: int, condition: str,
                   fill: PatternFill) -> None:
    """Conditional format: ``condition`` is a formula on the first row (e.g. ``$R7>0``)."""
    if last < first:
        return
    rng = f"A{first}:{get_column_letter(ncols)}{last}"
    ws.conditional_formatting.add(rng, FormulaRule(formula=[condition], fill=fill))


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def save(wb: Workbook, path: Path) -> Path:
    """Save with fixed document properties and fixed zip timestamps, so the same inputs give the
    same bytes (no run-dependent value anywhere in the file).

    Every text cut to Excel's limit while the workbook was built or written (rows made as it is
    written, :func:`later_rows`) is reported on stderr, once it is written, as a ``warning:``
    line naming the workbook, sheet, cell, row and column (the full text stays in the CSV
    reports)."""
    import io
    import sys
    from datetime import datetime

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fixed = datetime(2000, 1, 1)
    wb.properties.creator = "WIP Workbook"
    wb.properties.lastModifiedBy = "WIP Workbook"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    out = io.BytesIO()
    save_workbook(wb, out)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(out.getbuffer())  # not getvalue(): a second copy of the file
    tmp.replace(path)
    # Warned once written: rows made as the file is written (later_rows) may be cut too.
    cut = truncations(wb)
    for t in cut[:TRUNCATED_SHOWN]:
        print(f"warning: {path.name}, {t}; the full text is in the CSV reports", file=sys.stderr)
    if len(cut) > TRUNCATED_SHOWN:
        print(f"warning: {path.name}: {len(cut) - TRUNCATED_SHOWN} more cell(s) cut to Excel's "
              f"limit of {EXCEL_TEXT_LIMIT:,} characters", file=sys.stderr)
    replaced = getattr(wb, "_wip_replaced", 0)
    if replaced:
        print(f"warning: {path.name}: {replaced} cell(s) held control characters a workbook "
              f"cannot store, shown as {REPLACEMENT}; the full text is in the CSV reports",
              file=sys.stderr)
    return path


# --- tables with expected figures ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Check:
    """A formula cell and the Python figure it must equal after recalculation.

    ``kind``: ``money`` (``expected`` in int cents; the cell holds dollars), ``ratio`` (a float
    fraction), ``int`` (a count). ``expected`` None: the formula must give an empty cell ("").
    """
    sheet: str
    cell: str
    kind: str
    expected: int | float | None
    label: str = ""


#: Whether the sheets being written keep their checks: not while :func:`unchecked` runs (a
#: workbook that is only saved, as the month-end's: 2.4 million checks at 2,000 jobs).
_KEEP_CHECKS: ContextVar[bool] = ContextVar("wip_excel_keep_checks", default=True)


class _Dropped(list):
    """A sheet's checks while :func:`unchecked` runs: none kept."""

    __slots__ = ()

    def append(self, item) -> None:
        pass

    def extend(self, items) -> None:
        pass

    def __iadd__(self, items):
        return self


def check_list() -> list[Check]:
    """An empty list for a sheet's :class:`Check` s (one that keeps none inside
    :func:`unchecked`)."""
    return [] if _KEEP_CHECKS.get() else _Dropped()


@contextmanager
def unchecked():
    """Write sheets without keeping their checks (the workbook is saved, not verified)."""
    token = _KEEP_CHECKS.set(False)
    try:
        yield
    finally:
        _KEEP_CHECKS.reset(token)


def saving_only() -> bool:
    """Whether the sheets being written are only saved (inside :func:`unchecked`): nobody reads
    their cells back, so the largest can be made as the file is written (:func:`later_rows`)."""
    return not _KEEP_CHECKS.get()


def later_rows(ws: Worksheet, first: int, last: int, make, cols: Sequence[Col] = ()) -> None:
    """Rows ``first:last`` of ``ws`` made when the sheet is saved, not now: ``make()`` writes
    them (the cells it would write now) just before the sheet's writer reaches row ``first``,
    and they are let go once written (:mod:`.saving`). The cost-to-complete sheet of 2,000 jobs
    holds 8.7 million cells, about 2 GB as openpyxl objects; made a job at a time as the file is
    written, it holds one job's.

    ``cols`` are the columns :func:`write_records` will write there: their number formats join
    the workbook now, in the order that call would add them, so the saved file has the bytes it
    would have had with the rows made now (``tests/test_excel_saving.py``). Nothing may read or
    write a cell of these rows before the sheet is saved."""
    styles = _FormatStyles(ws)
    for c in cols:
        if c.kind not in _DATE_KINDS:
            styles.proto(c.kind)
    ws.__dict__.setdefault("_wip_later", []).append((first, last, make))


def input_fill(ws: Worksheet) -> int:
    """The index of :data:`INPUT_FILL` in the workbook's fills (added on first use)."""
    return ws.parent._fills.add(INPUT_FILL)


BOLD = Font(bold=True)
TOTAL_BORDER = Border(top=THIN, bottom=Side(style="double", color="1F3A5F"))
_CHECK_KIND = {"money": "money", "pct": "ratio", "pct2": "ratio", "pct_fine": "ratio",
               "int": "int", "count": "int"}


def is_missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def expected_value(kind: str, v):
    """A Python figure as a :class:`Check` expects it (cents stay int, NA becomes None)."""
    if is_missing(v):
        return None
    k = _CHECK_KIND.get(kind, kind)
    if k in ("money", "int"):
        return int(v)
    return float(v)


def write_header(ws: Worksheet, cols: Sequence[Col], *, block_row: int | None, head_row: int,
                 first_col: int = 1) -> None:
    """Block headers (merged over their columns) on ``block_row`` and column headers below."""
    if block_row is not None:
        i = 0
        while i < len(cols):
            j = i
            while j + 1 < len(cols) and cols[j + 1].block == cols[i].block:
                j += 1
            if cols[i].block:
                c0, c1 = first_col + i, first_col + j
                if c1 > c0:
                    ws.merge_cells(start_row=block_row, start_column=c0, end_row=block_row,
                                   end_column=c1)
                cell = ws.cell(block_row, c0)
                set_text(cell, cols[i].block)
                cell.font = Font(bold=True, color="1F3A5F")
                cell.fill = BLOCK_FILL
                cell.alignment = Alignment(horizontal="center")
            i = j + 1
    for k, c in enumerate(cols):
        cell = ws.cell(head_row, first_col + k)
        set_text(cell, c.header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws.row_dimensions[head_row].height = 45
    for k, c in enumerate(cols):
        if c.width is not None:
            width = c.width
        elif c.kind == "text":
            width = 14
        else:
            width = 17 if c.kind == "money" else max(9, min(14, len(c.header) + 2))
        ws.column_dimensions[get_column_letter(first_col + k)].width = width


def column_letters(cols: Sequence[Col], first_col: int = 1) -> dict[str, str]:
    return {c.key: get_column_letter(first_col + i) for i, c in enumerate(cols)}


def _resolve(template: str, row: int, letters: dict[str, str], extra: dict[str, str]) -> str:
    return _fill(_template(template), row, letters, extra, template)


def _number(kind: str, v, money_in_cents: bool):
    """A money, int or count input as the cell holds it: dollars from int cents."""
    if kind == "money":
        return int(v) / 100 if money_in_cents else float(v)
    return int(v)


def write_value(cell, kind: str, v, money_in_cents: bool = True, column: str | None = None
                ) -> None:
    """An input value: text stays text, money from int cents (``cents / 100``), NA is blank.
    ``column`` (the header) names the column if the text has to be cut to Excel's limit."""
    if kind == "text":
        set_text(cell, v, column)
    elif is_missing(v):
        cell.value = None
    elif kind in ("money", "int", "count"):
        cell.value = _number(kind, v, money_in_cents)
    elif kind == "date":
        cell.value = pd.Timestamp(v).date()
    elif kind == "datetime":  # to the second, as the audit trail records it
        cell.value = pd.Timestamp(v).to_pydatetime().replace(microsecond=0, tzinfo=None)
    elif kind == "bool":
        cell.value = bool(v)
    else:
        cell.value = float(v)
    apply_format(cell, kind)


def write_records(ws: Worksheet, records: Sequence[dict], cols: Sequence[Col], *, first_row: int,
                  checks: list[Check] | None = None, refs=None,
                  settings_refs: dict[str, str] | None = None, first_col: int = 1,
                  money_in_cents: bool = True) -> int:
    """One row per record from ``first_row``; returns the last row written (first_row - 1 when
    there are none).

    A column with a ``formula`` template gets the template resolved per row: ``{key}`` is the
    cell of that column on the same row; other names come from ``refs(i, record)`` (per-row
    references, e.g. the same job on another sheet) or ``settings_refs`` (absolute cells). Its
    expected Python figure (``record[col.expect or col.key]``) is appended to ``checks``.
    ``record["_values"]`` (a set of keys) writes those formula columns as plain values on that
    row (e.g. a job the other sheet does not hold); ``record["_skip"]`` leaves keys blank.

    The cells are the ones :func:`write_value`, :func:`apply_format` and a plain ``cell.value =
    formula`` would make, built directly (this writes most of the workbook's cells: the cost to
    complete sheet alone has 8.7 million at 2,000 jobs); ``tests/test_excel_saving.py`` checks the
    sheet is the same.
    """
    letters = column_letters(cols, first_col)
    if type(checks) is _Dropped:
        checks = None  # not even made
    settings_refs = settings_refs or {}
    style_of = _FormatStyles(ws)
    cells = ws._cells
    title = ws.title
    # A column's style is made on its first cell, so number formats join the workbook in the
    # order openpyxl's setters would add them. Dates go through write_value: binding a date
    # first adds openpyxl's own date format, as the plain path does.
    protos: list = [_UNSET] * len(cols)
    compiled = [_compile(c.formula, letters) if c.formula else None for c in cols]
    plan = [(k, first_col + k, letters[c.key], c, _template(c.formula) if c.formula else None,
             _CHECK_KIND.get(c.kind)) for k, c in enumerate(cols)]
    if first_row + len(records) - 1 > MAX_ROWS:
        raise ValueError(f"{len(records):,} rows from row {first_row:,} do not fit on a sheet "
                         f"(Excel's limit is {MAX_ROWS:,} rows)")
    r = first_row - 1
    for i, rec in enumerate(records):
        r = first_row + i
        extra = dict(settings_refs)
        if refs is not None:
            extra.update(refs(i, rec) or {})
        as_values = rec.get("_values", ())
        skip = rec.get("_skip", ())
        for k, col, letter, c, template, check_kind in plan:
            kind = c.kind
            proto = protos[k]
            if proto is _UNSET:
                proto = protos[k] = None if kind in _DATE_KINDS else style_of.proto(kind)
            cell = cells.get((r, col))
            if cell is None:
                cell = cells[(r, col)] = _new_cell(ws, r, col, proto)
            elif proto is not None:
                style_of.apply(cell, kind)
            if c.key in skip:
                if proto is None:
                    style_of.apply(cell, kind)
                continue
            if template is not None and c.key not in as_values:
                text = (compiled[k].format(r) if not extra and compiled[k] is not None
                        else _fill(template, r, letters, extra, c.formula))
                if len(text) > 1 and text[0] == "=":
                    cell._value = text
                    cell.data_type = "f"
                else:  # a reference that is a value, not a formula: as openpyxl types it
                    cell.value = text
                if proto is None:
                    style_of.apply(cell, kind)
                if checks is not None:
                    checks.append(Check(title, f"{letter}{r}", check_kind,
                                        expected_value(kind, rec.get(c.expect or c.key)),
                                        c.header))
            elif kind in ("money", "int", "count"):
                v = rec.get(c.key)
                if v is None or v is pd.NA or v != v:
                    cell._value = None
                else:
                    cell._value = _number(kind, v, money_in_cents)
                cell.data_type = "n"
            else:
                write_value(cell, kind, rec.get(c.key), money_in_cents, c.header)
    ws._current_row = max(ws._current_row, r)
    return r


_UNSET = object()
_DATE_KINDS = ("date", "datetime")


class _FormatStyles:
    """A fresh style for a cell of ``kind`` holding only its number format, as
    :func:`apply_format` sets it (formats registered with the workbook in first-use order)."""

    def __init__(self, ws: Worksheet):
        self._wb = ws.parent
        self._ids: dict[str, int | None] = {}

    def proto(self, kind: str) -> SharedStyle | None:
        """The shared style holding only ``kind``'s number format (None: the kind has none)."""
        fmt_id = self._id(kind)
        if fmt_id is None:
            return None
        return restyled(self._wb, None, numFmtId=fmt_id)

    def apply(self, cell, kind: str) -> None:
        fmt_id = self._id(kind)
        if fmt_id is not None:
            cell._style = restyled(self._wb, cell._style, numFmtId=fmt_id)

    def _id(self, kind: str) -> int | None:
        try:
            return self._ids[kind]
        except KeyError:
            fmt = _FORMATS.get(kind)
            if fmt is None:
                fmt_id = None
            elif fmt in BUILTIN_FORMATS_REVERSE:
                fmt_id = BUILTIN_FORMATS_REVERSE[fmt]
            else:
                fmt_id = self._wb._number_formats.add(fmt) + BUILTIN_FORMATS_MAX_SIZE
            self._ids[kind] = fmt_id
            return fmt_id


def _template(formula: str) -> tuple[str, ...]:
    """A formula template split into literal text and names, alternating (``_REF.split``)."""
    return tuple(_REF.split(formula))


def _compile(template: str, letters: dict[str, str]) -> str | None:
    """``template`` as a format string of the row alone (``"=MAX(G{0}-H{0},0)"``) when every
    name in it is a column; None when it names a reference from elsewhere."""
    out = []
    for i, part in enumerate(_REF.split(template)):
        if not i % 2:
            out.append(part.replace("{", "{{").replace("}", "}}"))
        elif part in letters:
            out.append(f"{letters[part]}{{0}}")
        else:
            return None
    return "".join(out)


def _new_cell(ws: Worksheet, row: int, column: int, style: SharedStyle | None) -> Cell:
    """An empty cell holding the shared ``style``: what ``Cell(ws, row=..., column=...,
    style_array=style)`` makes, without its argument handling (most of a cell's cost at 8.7
    million cells) and without a copy of the style. Checked against openpyxl's own by
    ``tests/test_excel_saving.py``."""
    cell = _NEW(Cell)
    cell.parent = ws
    cell._style = style
    cell.row = row
    cell.column = column
    cell._value = None
    cell._hyperlink = None
    cell.data_type = "n"
    cell._comment = None
    return cell


_NEW = object.__new__
_NEW_ARRAY = array.__new__  # StyleArray(style) without its Python-level __new__


def _fill(parts: tuple[str, ...], row: int, letters: dict[str, str], extra: dict[str, str],
          template: str) -> str:
    """:func:`_resolve` on a template already split by :func:`_template`."""
    out = []
    for i, part in enumerate(parts):
        if not i % 2:
            out.append(part)
        elif part in extra:
            out.append(extra[part])
        elif part in letters:
            out.append(f"{letters[part]}{row}")
        else:
            raise KeyError(f"formula {template!r} names {part!r}, which is neither a column nor "
                           "a reference")
    return "".join(out)


def write_totals(ws: Worksheet, cols: Sequence[Col], records: Sequence[dict], *, row: int,
                 first: int, last: int, checks: list[Check] | None = None,
                 label: str = "Total", func: str = "SUM", first_col: int = 1,
                 expected: dict | None = None, label_key: str | None = None) -> None:
    """Totals row: ``=SUM(first:last)`` (or ``SUBTOTAL(9, ...)``) for columns with ``total``,
    ``total_formula`` templates resolved on this row. Expected values: the sum of the records'
    figures, or ``expected[key]`` when given (required for ``total_formula`` columns)."""
    letters = column_letters(cols, first_col)
    expected = expected or {}
    label_col = first_col + ([c.key for c in cols].index(label_key) if label_key else 0)
    set_text(ws.cell(row, label_col), label)
    for k, c in enumerate(cols):
        cell = ws.cell(row, first_col + k)
        formula = None
        if c.total_formula:
            formula = _resolve(c.total_formula, row, letters, {})
        elif c.total and last >= first:
            rng = f"{letters[c.key]}{first}:{letters[c.key]}{last}"
            formula = f"=SUBTOTAL(9,{rng})" if func == "SUBTOTAL" else f"=SUM({rng})"
        if formula:
            cell.value = formula
            if checks is not None:
                if c.key in expected:
                    want = expected[c.key]
                else:
                    name = c.expect or c.key
                    vals = [rec.get(name) for rec in records
                            if c.key not in rec.get("_skip", ())]
                    want = sum(int(v) for v in vals if not is_missing(v))
                checks.append(Check(ws.title, cell.coordinate, _CHECK_KIND[c.kind],
                                    expected_value(c.kind, want), f"{label} {c.header}"))
        cell.font = BOLD
        cell.border = TOTAL_BORDER
        apply_format(cell, c.kind)


def shade_inputs(ws: Worksheet, cols: Sequence[Col], first: int, last: int, *,
                 skip_rows: Sequence[int] = ()) -> None:
    """Input (value) money/percent cells of rows ``first:last`` get a light grey fill, so inputs
    and formulas differ at a glance; ``skip_rows`` (e.g. subtotal rows) keep theirs."""
    skip = set(skip_rows)
    # The fill's index in the workbook's fills, found once: ``cell.fill = INPUT_FILL`` hashes
    # the fill object for every cell, most of the time this took at thousands of jobs.
    wb = ws.parent
    fill_id = input_fill(ws)
    cells = ws._cells
    for k, c in enumerate(cols, start=1):
        if c.formula is None and c.kind != "text":
            shaded: dict = {}  # a column's cells share a few styles: each restyled once
            for r in range(first, last + 1):
                if r not in skip:
                    cell = cells.get((r, k)) or ws.cell(r, k)
                    key = tuple(cell._style) if cell._style else None
                    style = shaded.get(key)
                    if style is None:
                        style = shaded[key] = restyled(wb, cell._style, fillId=fill_id)
                    cell._style = style


LINE_HEIGHT = 15  # points per line of 11 pt text


def paragraph(ws: Worksheet, row: int, first_col: int, last_col: int, text: str) -> None:
    """Text that wraps within columns ``first_col:last_col`` (merged) instead of running past the
    printed page: the row is made tall enough for its lines (one per that many characters as the
    columns are wide, counting a character as a width unit)."""
    cell = ws.cell(row, first_col)
    set_text(cell, text)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if last_col > first_col:
        ws.merge_cells(start_row=row, start_column=first_col, end_row=row, end_column=last_col)
    width = sum(ws.column_dimensions[get_column_letter(c)].width or 9
                for c in range(first_col, last_col + 1))
    lines = max(1, math.ceil(len(str(cell.value)) / max(width - 2, 1)))
    ws.row_dimensions[row].height = LINE_HEIGHT * lines


def note(ws: Worksheet, row: int, text: str) -> None:
    """A grey italic line of explanation in column A (a legend or "nothing this period")."""
    cell = ws.cell(row, 1)
    set_text(cell, text)
    cell.font = Font(italic=True, color="555555")


def records(df: pd.DataFrame) -> list[dict]:
    """The rows of ``df`` as dicts, in order (what :func:`write_records` writes)."""
    return [dict(r) for r in df.to_dict("records")]
