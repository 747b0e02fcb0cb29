"""Reading one export file into typed columns, collecting every problem on the way.

The steps are the same for every source: read the file as text (UTF-8, UTF-8 with a BOM, or
Windows-1252; CSV or XLSX), find each canonical column among the headers through its aliases,
set aside a trailing totals row after checking it against the sum of the lines, then convert each
column by its kind (money to cents, dates by the locale's formats, flags, rates, codes). Nothing is
dropped silently: a row with a bad value is reported and counted, and the caller's report shows
rows in = rows accepted + rows reported (+ totals and blank rows, each counted).
"""
from __future__ import annotations

import csv
import difflib
import functools
import io
import re
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from wip_lib.core import codes, schema
from wip_lib.core.arrow_strings import (
    cast_or_none,
    dictionary_codes,
    keep_bytes,
    large_text,
    offsets_and_bytes,
    one_array,
    sizes_and_edges,
)
from wip_lib.core.errors import Problem, file_system_problem
from wip_lib.core.money import cents_of_text, report_amount
from wip_lib.core.periods import PERIOD_PATTERN

# Cells are read as Arrow large_string: what pandas' string dtype holds, so none is cast again.
TEXT = pa.large_string()
MAX_LISTED = 20  # problems listed per file and column; the rest are summed up in one line
NEAR_MISS = 0.8  # difflib ratio from which an unknown header is taken for a misspelt known one

DATE_FORMATS = {
    "en-US": ["%m/%d/%Y", "%m/%d/%y"],
    "en-GB": ["%d/%m/%Y", "%d/%m/%y"],
    "en-AU": ["%d/%m/%Y", "%d/%m/%y"],
    "en-CA": ["%Y-%m-%d", "%m/%d/%Y"],
}
ALWAYS_DATE = ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y%m%d"]
TOTALS = re.compile(r"^\s*(grand\s+)?totals?\s*:?\s*$", re.IGNORECASE)
TRUE = {"true", "yes", "y", "1", "x", "t", "executed", "active"}
FALSE = {"false", "no", "n", "0", "", "f", "inactive"}


@dataclass
class FileReport:
    """What happened to one file: the control counts of ``wip validate``."""

    file: str
    table: str
    rows_in: int = 0
    rows_accepted: int = 0
    rows_reported: int = 0
    rows_totals: int = 0  # totals rows set aside (in a report CSV also its group and subtotal rows)
    rows_blank: int = 0
    rows_excluded: int = 0  # rows that are not this table's (e.g. estimate lines in a cost export)
    encoding: str = "utf-8"
    unrecognised: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)  # why rows were excluded -> rows
    columns_found: dict[str, str] = field(default_factory=dict)  # profile column -> header
    columns_missing: list[str] = field(default_factory=list)  # profile columns not in the file

    def ties(self) -> bool:
        return self.rows_in == (self.rows_accepted + self.rows_reported + self.rows_totals
                                + self.rows_blank + self.rows_excluded)

    @property
    def data_rows(self) -> int:
        """Rows that hold data of this table (not blank, not a totals row, not another table's)."""
        return self.rows_in - self.rows_blank - self.rows_totals - self.rows_excluded


def no_rows(report: FileReport, table: str, problems: list[Problem], *, required: bool,
            declared: tuple[str, ...] = (), what: str = "", never_empty: tuple[str, ...] = ()
            ) -> Problem | None:
    """The problem of an export read with a header but no rows of data, or None.

    Rule: an export that is there but holds no rows is an error when the export is required (a
    failed or filtered export would otherwise read as "no activity": every job at cost 0), and a
    warning when it is optional, unless ``company.yaml`` lists its table under ``empty_exports``
    (the user says the month truly had none). Tables in ``never_empty`` (projects, prime
    contracts, the ERP job master, budget snapshots) cannot be declared empty. A file that
    already has an error (empty file, header problem) gets no second problem."""
    if report.data_rows or any(p.severity == "error" and p.file == report.file
                               for p in problems):
        return None
    if table in declared:
        return None
    what = what or table.replace("_", " ")
    if table == "budget":
        return Problem(report.file, "the budget snapshot has a header but no lines",
                       "export the job's budget again at that month end (every job has budget "
                       "lines), or delete the file if no snapshot was taken that month")
    if table in never_empty:
        return Problem(report.file, "the export has a header but no rows",
                       f"export it again with the company's {what} included")
    declare = f"add `empty_exports: [{table}]` to company.yaml"
    if required:
        return Problem(report.file, "the export has a header but no rows",
                       f"export it again with the company's {what} included; if there truly "
                       f"are none yet, {declare}")
    return Problem(report.file, "the export has a header but no rows: read as none",
                   f"export it again if it should hold {what}; if there truly are none, "
                   f"{declare} (or remove the file)", severity="warning")


class Collector:
    """Problems for one file, at most MAX_LISTED listed per column and message."""

    def __init__(self, file: str, row_files: pd.Series | None = None):
        self.file = file
        # Several files read as one frame (the budget snapshots) name each row's own file.
        self.row_files = row_files
        self.problems: list[Problem] = []
        self._counts: dict[tuple, int] = {}

    def add(self, message: str, fix: str, *, row=None, column=None, value=None,
            severity: str = "error", file: str | None = None) -> None:
        key = (column, message, severity)
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        if n <= MAX_LISTED:
            self.problems.append(Problem(file or self.file, message, fix, row, column, value,
                                         severity))

    def rows(self, mask: pd.Series, rows: pd.Series | np.ndarray, values: pd.Series,
             message: str, fix: str, column: str, severity: str = "error") -> None:
        """One problem per flagged row (listing capped), vectorised selection."""
        m = mask if isinstance(mask, np.ndarray) else mask.to_numpy(dtype=bool)
        if not m.any():
            return
        idx = np.flatnonzero(m)
        for i in idx[:MAX_LISTED]:
            # the converter passes a column's Arrow array, with no Series built around it
            v = (values[int(i)].as_py() if isinstance(values, (pa.Array, pa.ChunkedArray))
                 else values.iloc[i])
            f = None if self.row_files is None else str(self.row_files.iloc[i])
            row = rows[i] if isinstance(rows, np.ndarray) else rows.iloc[i]
            self.add(message, fix, row=int(row), column=column,
                     value=None if pd.isna(v) else str(v), severity=severity, file=f)
        extra = len(idx) - MAX_LISTED
        if extra > 0:
            self.problems.append(Problem(self.file, f"{message}: {extra} more row(s) not listed",
                                         fix, None, column, None, severity))

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


# -- reading text -------------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"  # UTF-8's byte order mark, which Excel writes at the head of a CSV


def _decode_probe(data: bytes) -> str:
    if data.startswith(_BOM):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # Excel's "Unicode text" and some ERPs; the BOM says which byte order
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def _empty(path: Path, out: Collector) -> bool:
    if path.stat().st_size:
        return False
    out.add("the file is empty", "export it again from the source system; an export always has "
            "a header row")
    return True


def file_error(exc: OSError, out: Collector) -> None:
    """Record a file-system error (a folder where the file should be, no permission, ...) as a
    problem of the file being read."""
    p = file_system_problem(exc, out.file)
    out.add(p.message, p.fix)


def read_text_arrow(path: Path, out: Collector) -> tuple[pa.Table, list[str], str] | None:
    """A CSV file's cells as Arrow text columns (named ``"0"``, ``"1"``, ...), its header names
    (trimmed, BOM removed) and the encoding read; None (a problem recorded) when it is empty or
    unreadable. Every column is text: types are ours to decide (leading zeros, money formats)."""
    try:
        return _read_text_arrow(path, out)
    except OSError as exc:
        file_error(exc, out)
        return None


def _read_text_arrow(path: Path, out: Collector) -> tuple[pa.Table, list[str], str] | None:
    if _empty(path, out):
        return None
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    encoding = _decode_probe(head)
    whole = len(head) < HEAD_BYTES  # the whole file is in hand: parsed from memory
    try:
        try:
            table = _pa_read(path, encoding, head, whole)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if encoding in ("cp1252", "utf-16") or "utf" not in str(exc).lower():
                raise
            encoding = "cp1252"  # not UTF-8 after the first MiB: the Windows code page
            table = _pa_read(path, encoding, head, whole)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        row, why = _bad_row(path, encoding)
        if row is not None:
            out.add(f"the row cannot be read: {why}", "mend the row (a cell may be cut short or "
                    "a quote left open) or export the file again", row=row)
        else:
            out.add(f"not a readable CSV file ({str(exc).splitlines()[0]})",
                    "save it as CSV (comma separated, UTF-8) or XLSX and try again")
        return None
    table, names = _numbered(table)
    if encoding == "cp1252":
        out.add("read as Windows-1252 (not UTF-8)", "nothing to do; saving as UTF-8 avoids "
                "surprises with accented vendor names", severity="warning")
    return table, names, encoding


def _numbered(table: pa.Table) -> tuple[pa.Table, list[str]]:
    """The table with its columns named ``"0"``, ``"1"``, ... and its header names as read
    (trimmed, BOM removed)."""
    names = [str(n).lstrip("\ufeff").strip() for n in table.column_names]
    return table.rename_columns([str(i) for i in range(table.num_columns)]), names


BATCH_FILES = 1024  # small files parsed in one pyarrow call (a budget snapshot: ~30 KB)


def read_texts_arrow(paths: list[Path], outs: list[Collector], threads: int = 4
                     ) -> list[tuple[pa.Table, list[str], str] | None]:
    """:func:`read_text_arrow` of many small CSV files: the same result for each file, for a
    fraction of the cost. A budget snapshot of a hundred lines costs pyarrow about as much to
    set up as to parse, so the files of one header row are parsed together: each file's rows
    (after its header) are joined, parsed in one call, and cut back into files by their line
    counts.

    That cut is sound when every row is one line. A file the batch cannot vouch for byte by byte
    (empty, not UTF-8, a lone carriage return, a header broken over lines, a header naming a
    column twice) is read alone; so is every file of a batch whose parse fails (a row with the
    wrong number of cells) or gives fewer rows than lines (a value holding a line break: a row
    never takes less than a line, so equal totals mean every file's rows are its lines). Read
    alone, :func:`read_text_arrow` says what is wrong, as it always has. ``outs``: each file's
    collector; ``threads``: the files read alone are read on that many threads (pyarrow's
    reads release the GIL)."""
    results: list = [None] * len(paths)
    alone: list[int] = []
    for start in range(0, len(paths), BATCH_FILES):
        groups: dict[bytes, list[tuple[int, bytes, int, str]]] = {}
        for i in range(start, min(start + BATCH_FILES, len(paths))):
            try:
                # One by one: a thread pool costs more than reading a 30 KB file.
                cut = _body(paths[i].read_bytes())
            except OSError:
                cut = None  # read alone, which reports the error
            if cut is None:
                alone.append(i)
            else:
                head, body, lines, encoding = cut
                groups.setdefault(head, []).append((i, body, lines, encoding))
        for head, files in groups.items():
            if not _parse_batch(head, files, results):
                alone += [i for i, *_ in files]
    alone.sort()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for i, got in zip(alone, pool.map(lambda i: read_text_arrow(paths[i], outs[i]), alone)):
            results[i] = got
    return results


def _body(data: bytes) -> tuple[bytes, memoryview | bytes, int, str] | None:
    """A file's header line, its rows' bytes (each line ended), their line count and its
    encoding; None when the bytes alone cannot vouch that each line is one row of a UTF-8 CSV."""
    if not data:
        return None
    encoding, at = "utf-8", 0
    if data.startswith(_BOM):
        encoding, at = "utf-8-sig", len(_BOM)
    nl = data.find(b"\n", at)
    if nl < 0:
        return None
    head = data[at:nl - 1] if data[nl - 1:nl] == b"\r" and nl > at else data[at:nl]
    # A quote left open in the header carries it onto the next line; a lone CR is a line
    # break to pyarrow that counting LFs would not see.
    if head.count(b'"') % 2 or b"\r" in head:
        return None
    if b"\r" in data and (data.endswith(b"\r")
                          or data.count(b"\r", nl) != data.count(b"\r\n", nl)):
        return None
    lines = data.count(b"\n", nl + 1)
    body: memoryview | bytes = memoryview(data)[nl + 1:]
    if len(body) and not data.endswith(b"\n"):
        body, lines = bytes(body) + b"\n", lines + 1
    return head, body, lines, encoding


def _parse_batch(head: bytes, files: list[tuple[int, bytes, int, str]], results: list) -> bool:
    """Parse the files of one header row at once into ``results``; False when the batch cannot
    be cut back into its files (they are then read alone)."""
    raw_names = _header(head + b"\n", "utf-8")
    if not raw_names or len(set(raw_names)) != len(raw_names):
        return False
    source = pa.BufferReader(b"".join([head, b"\n", *(body for _, body, _, _ in files)]))
    try:
        table = pacsv.read_csv(source, read_options=_read_options("utf-8"),
                               parse_options=_PARSE,
                               convert_options=_convert_options(tuple(raw_names)))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return False
    if table.num_rows != sum(n for _, _, n, _ in files) or table.column_names != raw_names \
            or any(t != TEXT for t in table.schema.types):
        return False
    table, names = _numbered(table)
    offset = 0
    for i, _, n, encoding in files:
        results[i] = (table.slice(offset, n), names, encoding)
        offset += n
    return True


def _bad_row(path: Path, encoding: str) -> tuple[int | None, str]:
    """The first row (header = 1, as a spreadsheet counts records) whose cells do not line up
    with the header, and what is wrong with it; ``(None, "")`` when every row lines up."""
    try:
        text = path.read_text(encoding="utf-8-sig" if encoding.startswith("utf-8") else encoding)
    except (UnicodeDecodeError, LookupError):
        return None, ""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    width = None
    row = 0
    try:
        for row, cells in enumerate(reader, start=1):
            if width is None:
                width = len(cells)
            elif cells and len(cells) != width:
                return row, (f"it has {len(cells)} cell(s) where the header has {width}")
    except csv.Error as exc:
        return row + 1, f"{exc}"
    return None, ""


def read_text_table(path: Path, rel: str, out: Collector) -> tuple[pd.DataFrame, str] | None:
    """All cells as text (string dtype, '' for blank), with ``_row`` (header = row 1).

    Returns None (with a problem recorded) for an empty or unreadable file.
    """
    if path.suffix.lower() == ".xlsx":
        try:
            if _empty(path, out):
                return None
            df = _read_xlsx(path, out)  # None (a problem recorded) for a damaged/empty workbook
        except OSError as exc:
            file_error(exc, out)
            return None
        return None if df is None else (df, "xlsx")
    got = read_text_arrow(path, out)
    if got is None:
        return None
    table, names, encoding = got
    df = text_frame(table)
    df.columns = ["_row", *names]
    return df, encoding


def read_text_columns(path: Path, rel: str, out: Collector
                      ) -> tuple[pa.Table, list[str], str] | None:
    """:func:`read_text_arrow` of a CSV or an XLSX workbook: its cells as Arrow text columns
    named ``"0"``, ``"1"``, ... (no missing cell), its header names and the encoding read
    (``xlsx`` for a workbook); None (a problem recorded) for an empty or unreadable file."""
    if path.suffix.lower() != ".xlsx":
        return read_text_arrow(path, out)
    got = read_text_table(path, rel, out)
    if got is None:
        return None
    df = got[0]
    names = [str(h) for h in df.columns[1:]]
    table = pa.table({str(i): pa.array(df.iloc[:, i + 1].fillna("").astype(schema.STRING).array,
                                       TEXT) for i in range(len(names))})
    return table, names, "xlsx"


def first_columns(names: list[str]) -> dict[str, int]:
    """Each header's column position: its first, where a header names two or more columns (a
    spreadsheet allows it; :func:`repeated_headers` reports it where the reader takes it)."""
    at: dict[str, int] = {}
    for i, h in enumerate(names):
        at.setdefault(h, i)
    return at


def repeated_headers(names: list[str], used, out: Collector, row: int = 1,
                     file: str | None = None) -> bool:
    """A header the reader takes that names two or more columns (a spreadsheet allows it; an
    export edited by hand can have it): which column holds the figures cannot be told, so it
    is an error naming the columns by their letters. A repeated header nobody takes is
    ignored with the others. True when there is such an error. ``row``: the header's row in
    the file (a report's header is below its title rows)."""
    where: dict[str, list[int]] = {}
    for i, h in enumerate(names):
        where.setdefault(h, []).append(i)
    bad = False
    for h, cols in where.items():
        if len(cols) > 1 and h in used:
            letters = [_letter(i) for i in cols]
            out.add(f"the header '{h}' names {len(cols)} columns ({', '.join(letters)}): "
                    "which one holds the figures cannot be told",
                    "rename or delete all but one of them, so that each header names one "
                    "column, and read the file again", row=row, column=h, file=file)
            bad = True
    return bad


def _letter(i: int) -> str:
    """A spreadsheet's letters for the column at position ``i`` (0 -> A, 26 -> AA)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def text_frame(table: pa.Table, rows: np.ndarray | None = None) -> pd.DataFrame:
    """A table of Arrow text columns as a pandas frame of text (the columns shared, not
    copied), with ``_row`` first: a row's number in its file (``rows``; by default the header
    being row 1 and every row after it there), put in Arrow (a pandas insert copies the frame's
    list of blocks, a millisecond)."""
    if rows is None:
        rows = np.arange(2, table.num_rows + 2, dtype="int64")
    return table.add_column(0, "_row", pa.array(rows)).to_pandas(types_mapper=_text_dtype)


def _text_dtype(t: pa.DataType):  # a types mapper for to_pandas: Arrow text as pandas text
    return schema.STRING if t == TEXT else None


# -- report CSVs ----------------------------------------------------------------------------------

REPORT_TOTAL = re.compile(r"^\s*(?:grand\s+)?total\b", re.IGNORECASE)
INDENT = "(indent {})"
HEADER_SCAN = 40  # lines searched for the header row of a report


def _header_line(lines: list[list[str]], wanted: set[str]) -> int | None:
    """Index of the first of ``lines`` holding the most wanted headers (at least two, or all of
    them when fewer are wanted)."""
    best, at = 0, None
    for i, cells in enumerate(lines):  # the first few lines only (title rows, then the header)
        n = len({_norm_header(c) for c in cells} & wanted)
        if n > best:
            best, at = n, i
    return at if best >= min(2, len(wanted)) else None


def read_report_table(path: Path, rel: str, out: Collector, wanted: set[str]
                      ) -> tuple[pd.DataFrame, str, int] | None:
    """A report export (QuickBooks and the like) as a plain table: the title rows above the
    header skipped, the blank-headed indent columns folded into ``(group)`` (the group names,
    level by level, joined with ``:`` and carried down to the rows under them), and the group
    header rows and the ``Total ...`` rows set aside. ``wanted`` holds the normalised headers
    the profile looks for (to find the header row). Returns ``(frame, encoding, layout_rows)``
    with ``_row`` the line as a spreadsheet shows it, or None (a problem recorded)."""
    if _empty(path, out):
        return None
    if path.suffix.lower() == ".xlsx":
        grid = _read_xlsx(path, out, header=False)
        if grid is None:
            return None
        encoding = "xlsx"
        lines = grid.head(HEADER_SCAN).drop(columns="_row").to_numpy(dtype=object).tolist()
    else:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
        encoding = _decode_probe(head)
        text = head.decode(encoding if encoding != "utf-8-sig" else "utf-8-sig", errors="replace")
        lines = list(csv.reader(io.StringIO(text, newline="")))[:HEADER_SCAN]
        grid = None
    h = _header_line(lines, wanted)
    if h is None:
        out.add("no header row found in the first lines of the report", "export the report "
                "with its column headers (QuickBooks: Excel > Create New Worksheet, or CSV)",
                row=1)
        return None
    header = [str(c).strip() for c in lines[h]]
    lead = 0
    while lead < len(header) and header[lead] == "":
        lead += 1
    names = [INDENT.format(i) if i < lead else (c or f"(blank {i})") for i, c in
             enumerate(header)]
    if repeated_headers(names, {n for n in names if _norm_header(n) in wanted}, out,
                        row=h + 1):
        return None
    seen: set[str] = set()
    for i, n in enumerate(names):  # a repeated header nobody takes: told apart by its letter
        names[i] = n if n not in seen else f"{n} ({_letter(i)})"
        seen.add(n)
    if grid is None:
        try:
            # index_col=False: a row with trailing delimiters past the header (QuickBooks
            # pads group rows) keeps its cells in place instead of becoming an index.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                df = pd.read_csv(path, header=None, skiprows=h + 1, names=names,
                                 dtype="string", keep_default_na=False, skip_blank_lines=False,
                                 index_col=False, encoding="utf-8-sig"
                                 if encoding.startswith("utf") else encoding)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            out.add(f"not a readable report CSV ({str(exc).splitlines()[0]})",
                    "export the report again as CSV; a row has more cells than the header")
            return None
        df = df.fillna("").astype("string")
        df.insert(0, "_row", np.arange(h + 2, h + 2 + len(df), dtype="int64"))
    else:
        body = grid[grid["_row"] > h + 1]
        cells = body.drop(columns="_row").iloc[:, :len(names)]
        df = pd.DataFrame(cells.to_numpy(), columns=names, dtype="string")
        df.insert(0, "_row", body["_row"].to_numpy(dtype="int64"))
    named = [n for n in names[lead:] if not n.startswith("(blank ")]
    spacer = [n for n in names[lead:] if n.startswith("(blank ")]
    df = df.drop(columns=[c for c in spacer if (df[c].str.strip() == "").all()])
    indent = [INDENT.format(i) for i in range(lead)]
    data_blank = np.ones(len(df), dtype=bool)
    for c in named:
        data_blank &= (df[c].str.strip() == "").to_numpy(dtype=bool)
    first = pd.Series("", index=df.index, dtype="string")
    for c in reversed([*indent, *named]):  # the first non-blank cell of each row
        v = df[c].str.strip()
        first = v.mask(v == "", first)
    total = first.str.contains(REPORT_TOTAL).fillna(False).to_numpy(dtype=bool)
    group_row = data_blank & ~total & (first != "").to_numpy(dtype=bool)
    levels = []
    for i, c in enumerate(indent):
        v = df[c].str.strip()
        here = group_row & (v != "").to_numpy(dtype=bool)
        shallower = np.zeros(len(df), dtype=bool)
        for c2 in indent[:i]:
            shallower |= group_row & (df[c2].str.strip() != "").to_numpy(dtype=bool)
        # A group's name runs down to its rows; a group of an outer level ends it.
        lvl = v.where(here).mask(shallower & ~here, "").ffill().fillna("")
        levels.append(lvl)
    group = pd.Series("", index=df.index, dtype="string")
    for lvl in levels:
        group = group.mask(lvl != "", (group + ":" + lvl).str.lstrip(":"))
    df["(group)"] = group.astype("string")
    drop = total | group_row
    layout_rows = int(drop.sum())
    df = take_rows(df.drop(columns=indent), ~drop, consume=True)
    return df, encoding, layout_rows


def _header(head: bytes, encoding: str) -> list[str] | None:
    """The header row's names read from the file's first bytes (None when they do not hold it)."""
    if b"\n" not in head and b"\r" not in head:
        return None
    # The first line alone, unless a quote is left open in it (a header cell holding a line
    # break): decoding and scanning the whole head (up to a MiB) cost more than the parse of a
    # small export.
    nl = head.find(b"\n")
    if nl >= 0 and encoding != "utf-16" and b"\r" not in head[:nl - 1] \
            and not head.count(b'"', 0, nl) % 2:
        head = head[:nl + 1]
    try:
        text = head.decode("utf-8-sig" if encoding.startswith("utf") else encoding)
    except UnicodeDecodeError:  # the 1 MiB cut a character in two, or the probe was wrong
        return None
    try:
        return next(csv.reader(io.StringIO(text, newline="")))
    except (StopIteration, csv.Error):
        return None


HEAD_BYTES = 1 << 20  # read first: the encoding probe and the header; a smaller file whole
_PARSE = pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False)


@functools.lru_cache(maxsize=64)
def _read_options(encoding: str) -> pacsv.ReadOptions:
    return pacsv.ReadOptions(encoding="utf8" if encoding == "utf-8-sig" else encoding,
                             block_size=1 << 24)


@functools.lru_cache(maxsize=256)
def _convert_options(names: tuple[str, ...]) -> pacsv.ConvertOptions:
    """Every column as text; built once per distinct header row (thousands of budget snapshots
    share a few)."""
    return pacsv.ConvertOptions(column_types={n: TEXT for n in names},
                                strings_can_be_null=False, quoted_strings_can_be_null=False)


def _pa_read(path: Path, encoding: str, head: bytes | None = None,
             whole: bool = False) -> pa.Table:
    """The file's cells as Arrow text. ``head``: its first bytes, already read (``whole``: all of
    them), so a small file is parsed from memory, not opened a second time."""
    read = _read_options(encoding)
    # The header from the bytes already read (no second open of the file for it); pyarrow's own
    # reading of it where those bytes cannot tell.
    names = _header(head, encoding) if head is not None else None
    if names is None:
        probe = pacsv.open_csv(path, read_options=read, parse_options=_PARSE)
        names = probe.schema.names
        probe.close()
    source = pa.BufferReader(head) if whole and head is not None else path
    table = pacsv.read_csv(source, read_options=read, parse_options=_PARSE,
                           convert_options=_convert_options(tuple(names)))
    if head is not None and any(t != TEXT for t in table.schema.types):
        return _pa_read(path, encoding, None)  # the header was told wrongly: pyarrow's reading
    return table


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, pd.Timestamp) or hasattr(v, "isoformat"):
        s = v.isoformat()
        return s[:10] if s.endswith("T00:00:00") or len(s) == 10 else s.replace("T", " ")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_xlsx(path: Path, out: Collector, header: bool = True) -> pd.DataFrame | None:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError:
        raise  # the file system's own error: the caller names the path
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        out.add(f"not a readable XLSX workbook ({exc})", "open it in Excel and save it again as .xlsx")
        return None
    ws = wb.worksheets[0]
    rows = [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
    wb.close()
    if not rows:
        out.add("the workbook's first sheet is empty", "export it again from the source system")
        return None
    if not header:  # every row as cells "0", "1", ... (a report: the header is found later)
        width = max(len(r) for r in rows)
        grid = pd.DataFrame([(r + [""] * width)[:width] for r in rows],
                            columns=[str(i) for i in range(width)], dtype="string")
        grid.insert(0, "_row", np.arange(1, len(grid) + 1, dtype="int64"))
        return grid
    header = [h.strip() for h in rows[0]]
    width = len(header)
    body = [(r + [""] * width)[:width] for r in rows[1:]]
    df = pd.DataFrame(body, columns=header, dtype="string") if body else pd.DataFrame(
        {h: pd.Series(dtype="string") for h in header})
    df.insert(0, "_row", np.arange(2, len(df) + 2, dtype="int64"))
    return df


def take_rows(df: pd.DataFrame, mask: np.ndarray, *, consume: bool = False) -> pd.DataFrame:
    """The rows of ``df`` where ``mask`` is true, index kept. Text columns (Arrow-backed) are
    filtered by Arrow, which copies runs of kept rows at once: twice pandas' row-by-row take on a
    multi-million-row export.

    ``consume=True`` empties ``df`` of :data:`CONSUME_ROWS` rows or more as its columns are
    taken (for a caller that replaces it): each column is let go once its rows are copied, so a
    multi-million-row export is held about once, not twice (at 2,000 jobs the ERP cost export's
    text is about a gigabyte)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.all():
        return df
    keep = pa.array(mask)
    index = df.index[mask]
    # A column deleted from a frame rebuilds its list of blocks: worth it for the memory of a
    # large export, not on a small one (a dozen deletes cost more than the take).
    consume = consume and len(df) >= CONSUME_ROWS
    cols = {}
    for c in list(df.columns):
        v = df[c].array
        if isinstance(v, pd.arrays.ArrowStringArray):
            cols[c] = pd.arrays.ArrowStringArray(pc.filter(pa.array(v), keep))
        else:
            cols[c] = v[mask]
        if consume:
            del v
            del df[c]
    return pd.DataFrame(cols, index=index)


#: Rows from which :func:`take_rows` lets each column go as soon as its rows are copied.
CONSUME_ROWS = 100_000


# -- headers ------------------------------------------------------------------------------------

def _norm_header(h: str) -> str:
    return re.sub(r"[\s_]+", " ", str(h)).strip().casefold()


def resolve_headers(present: list[str], spec: dict[str, list[str]], required: set[str],
                    out: Collector, source: str) -> dict[str, str]:
    """Canonical column -> header in the file. Missing required columns are problems (at row 1,
    the header row) with the nearest header in the file as a suggestion; a header nobody asked
    for that is a near miss of an optional column (:func:`_near_miss`) is a problem naming both
    spellings; other headers nobody asked for are left to the caller (a warning)."""
    by_norm = {_norm_header(h): h for h in present if h != "_row"}
    found: dict[str, str] = {}
    for canon, aliases in spec.items():
        for a in aliases:
            h = by_norm.get(_norm_header(a))
            if h is not None:
                found[canon] = h
                break
    used = set(found.values())
    leftovers = [h for h in present if h != "_row" and h not in used]
    for canon in spec:
        if canon in found:
            continue
        if canon not in required:
            # An optional column left out reads as its default (0 for money): a header nobody
            # asked for that is a near miss of one of its spellings is a typo, not an extra
            # column, so it is an error naming both spellings rather than a quiet $0.
            near = _near_miss(spec[canon], leftovers)
            if near is not None:
                guess, expected = near
                out.add(f"column '{guess}' is not a header this export has; it looks like a "
                        f"misspelling of '{expected}', which would otherwise be read as absent "
                        "(0 or blank on every row)", f"rename the header '{guess}' to "
                        f"'{expected}'", row=1, column=guess, value=guess)
                leftovers.remove(guess)
            continue
        expected = spec[canon][0]
        near = difflib.get_close_matches(_norm_header(expected),
                                         [_norm_header(h) for h in leftovers], n=1, cutoff=0.6)
        if near:
            guess = next(h for h in leftovers if _norm_header(h) == near[0])
            out.add(f"required column '{expected}' is missing; '{guess}' looks like a misspelling "
                    f"of it", f"rename the header '{guess}' to '{expected}'", row=1,
                    column=expected, value=guess)
        else:
            out.add(f"required column '{expected}' is missing",
                    f"export the {source} with the column '{expected}' (also accepted: "
                    f"{', '.join(spec[canon][1:]) or 'none'})", row=1, column=expected)
    return found


def _near_miss(aliases: list[str], leftovers: list[str]) -> tuple[str, str] | None:
    """``(header, alias)``: the leftover header closest to any spelling of a column, when it is
    a near miss (difflib ratio at least ``NEAR_MISS``: one letter dropped, added, changed or two
    swapped in a header of six letters or more), else None."""
    best = None
    norm = {_norm_header(h): h for h in leftovers}
    for alias in aliases:
        for n in difflib.get_close_matches(_norm_header(alias), list(norm), n=1,
                                           cutoff=NEAR_MISS):
            ratio = difflib.SequenceMatcher(None, _norm_header(alias), n).ratio()
            if best is None or ratio > best[0]:
                best = (ratio, norm[n], alias)
    return None if best is None else (best[1], best[2])


# -- totals row ---------------------------------------------------------------------------------

def blank_in(columns: Mapping[str, pa.Array | pa.ChunkedArray], n: int,
             skip: tuple[str, ...] = ()) -> np.ndarray:
    """Which of ``n`` rows of text columns (no missing cells; by name) are blank: every cell,
    bar the bookkeeping columns (``_...``) and those in ``skip``, blank once trimmed."""
    cells = [c for c in columns if not str(c).startswith("_") and c not in skip]
    if not cells:
        return np.zeros(n, dtype=bool)
    blank = np.ones(n, dtype=bool)
    for c in cells:  # column by column, stopping once no row can be blank
        blank &= trim(columns[c])[1]
        if not blank.any():
            break
    return blank


def empty_cells(values: pd.Series | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Which cells of a column are empty text or missing (not trimmed: a cell of spaces is not
    empty), by Arrow's comparison on the column's own array (pandas' costs several times as much
    on an export's column)."""
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else values.array
    if isinstance(arr, pd.arrays.ArrowStringArray):
        arr = arr._pa_array
    if isinstance(arr, (pa.Array, pa.ChunkedArray)):
        return pc.fill_null(pc.equal(arr, ""), True).to_numpy(zero_copy_only=False)
    return (values == "").to_numpy(dtype=bool, na_value=True)


def totals_row(df: pd.DataFrame) -> bool:
    """True when the last row is a totals row (first non-blank cell Total/Totals/Grand Total)."""
    if df.empty:
        return False
    # The last row's cells only (not a copy of the frame without the bookkeeping columns).
    return is_totals([v for k, v in zip(df.columns, df.iloc[-1].tolist())
                      if not str(k).startswith("_")])


def is_totals(cells: list) -> bool:
    """True when ``cells`` (one row, in column order) are a totals row: the first non-blank cell
    is Total, Totals or Grand Total."""
    first = next((v for v in cells if str(v).strip()), "")
    return bool(TOTALS.match(str(first)))


def split_totals(columns: list[pa.Array | pa.ChunkedArray], names: list[str],
                 money_headers: list[str], row: int, out: Collector) -> bool:
    """Whether the last row of ``columns`` (text, no missing cell; ``names`` their headers, in
    order) is a totals row (first non-blank cell 'Total', 'Totals', 'Grand Total'), to be set
    aside; if so, each of its money cells (``money_headers``; a header's first column) is
    checked against the sum of the lines above it. ``row``: its row number in the file."""
    n = len(columns[0]) if columns else 0
    if not n:
        return False
    last = [c[n - 1].as_py() for c in columns]  # the last row's cells, not a copy of the rows
    if not is_totals(last):
        return False
    at = first_columns(names)
    for h in money_headers:
        total_cell = str(last[at[h]]).strip()
        if not total_cell:
            continue
        total, _, bad_t = cents_of_text(pa.array([total_cell], TEXT))
        lines, _, bad_l = cents_of_text(one_array(columns[at[h]].slice(0, n - 1)))
        if bad_t[0] or bad_l.any():
            continue  # the line problems are reported by the column conversion
        s = int(lines.sum())
        if int(total[0]) != s:
            totals_differ(out, total_cell, s, row, h)
    return True


def totals_differ(out: Collector, cell: str, lines: int, row: int, column: str,
                  file: str | None = None) -> None:
    """Report a totals row's money cell (``cell``, as written) that is not the sum of the
    lines above it (``lines``, in cents; shown as report text without the dollar sign)."""
    out.add(f"the totals row says {cell} but the lines above it sum to "
            f"{report_amount(lines).replace('$', '')}", "export the file again; a line is "
            "missing or was edited after the export", row=row, column=column, value=cell,
            file=file)


# -- conversion by kind -------------------------------------------------------------------------

def parse_dates(text: pd.Series, locale: str, extra_formats: list[str] | None = None
                ) -> tuple[pd.Series, pd.Series]:
    """Dates by the profile's formats, then the locale's, then ISO: ``(dates, bad)``
    (:func:`dates_of_text`; a missing cell is blank)."""
    dates, bad = dates_of_text(one_array(text.astype("string").array), locale, extra_formats)
    return (pd.Series(dates, index=text.index, dtype="datetime64[us]"),
            pd.Series(bad, index=text.index))


def dates_of_text(arr: pa.Array | pa.ChunkedArray, locale: str,
                  extra_formats: list[str] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The dates of a text array, by the profile's formats, then the locale's, then ISO:
    ``(dates, bad)``, numpy ``datetime64[us]`` (NaT where blank or bad) and which cells were
    neither blank nor a date. A null is blank.

    Parsed once per distinct text (millions of job-cost rows carry a few hundred dates)."""
    distinct, codes = dictionary_codes(arr)  # one slot more, for a null: blank
    u = pc.utf8_trim_whitespace(distinct)
    s = None
    result = np.full(len(u) + 1, np.datetime64("NaT"), dtype="datetime64[us]")
    formats = [*(extra_formats or []), *DATE_FORMATS.get(locale, DATE_FORMATS["en-US"]),
               *ALWAYS_DATE]
    given = np.append(pc.binary_length(u).to_numpy(zero_copy_only=False) > 0, False)
    todo = given.copy()
    for fmt in dict.fromkeys(formats):
        if not todo.any():
            break
        at = np.flatnonzero(todo)
        parsed = _exact_dates(u.take(pa.array(at)), fmt)
        rest = np.isnat(parsed)
        if rest.any():  # what the format's exact form does not cover, by pandas' parser
            if s is None:
                s = pd.Series(pd.arrays.ArrowStringArray(u))
            parsed[rest] = pd.to_datetime(s.iloc[at[rest]], format=fmt, errors="coerce").to_numpy(
                dtype="datetime64[us]")
        ok = ~np.isnat(parsed)
        result[at[ok]] = parsed[ok]
        todo[at[ok]] = False
    return result[codes], (given & np.isnat(result))[codes]


_EXACT_YEARS = (np.datetime64("1900-01-01", "us"), np.datetime64("2200-01-01", "us"))


def _exact_dates(text: pa.Array, fmt: str) -> np.ndarray:
    """The cells of ``text`` that are a date written exactly as ``fmt`` writes it (zero-padded,
    a valid day of its month, a year from 1900 to 2199), by Arrow's parser; NaT for every other
    cell, which the caller reads with pandas' parser. A cell Arrow parses and writes back as the
    same text is one pandas reads as the same date: the two agree on every cell taken here."""
    try:
        parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
        same = pc.fill_null(pc.equal(pc.strftime(parsed, format=fmt), text), False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]")
    out = parsed.to_numpy(zero_copy_only=False).astype("datetime64[us]")
    keep = same.to_numpy(zero_copy_only=False) & (out >= _EXACT_YEARS[0]) & (
        out < _EXACT_YEARS[1])
    out[~keep] = np.datetime64("NaT")
    return out


def month_text(dates: pd.Series) -> pd.Series:
    """``YYYY-MM`` of each date (NA where the date is missing), formatted once per month."""
    # Each distinct date's month (numpy's calendar conversion costs more per value than the
    # numbering), the dates numbered by Arrow's hashing of them as integers (a few times as
    # fast as pandas' factorize), spread by Arrow's take (a text per row built in Python costs
    # more still).
    values = dates.to_numpy(dtype="datetime64[us]")
    enc = pc.dictionary_encode(pa.array(values.view(np.int64), mask=np.isnat(values)))
    uniques = enc.dictionary.to_numpy().view("datetime64[us]")
    text = pa.array(np.datetime_as_string(uniques.astype("datetime64[M]"), unit="M").tolist(),
                    pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(text.take(enc.indices)), index=dates.index,
                     dtype="string")


def parse_flags(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Yes/no cells (:data:`TRUE`, :data:`FALSE`; case and surrounding spaces ignored, a
    missing cell is blank, which is no): ``(values, bad)``, ``<NA>`` where not a flag."""
    values, bad = flags_of_text(one_array(text.astype("string").array))
    return pd.Series(values, index=text.index), pd.Series(bad, index=text.index)


_TRUE = pa.array(sorted(TRUE), type=pa.large_string())
_FALSE = pa.array(sorted(FALSE), type=pa.large_string())


def flags_of_text(arr: pa.Array | pa.ChunkedArray
                  ) -> tuple[pd.arrays.BooleanArray, np.ndarray]:
    """:func:`parse_flags` of a text array: a boolean array (``<NA>`` where the cell is not a
    flag) and which cells are not."""
    arr = pc.fill_null(arr, "")
    if pc.all(pc.string_is_ascii(arr)).as_py() is False:
        # Python's casefold for the rest (Arrow has none); for ASCII it is Arrow's lower-case
        words = pa.array([v.casefold() for v in pc.utf8_trim_whitespace(arr).to_pylist()],
                         type=pa.large_string())
    else:
        words = pc.ascii_lower(pc.utf8_trim_whitespace(arr))
    yes = pc.is_in(words, value_set=_TRUE).to_numpy(zero_copy_only=False)
    no = pc.is_in(words, value_set=_FALSE).to_numpy(zero_copy_only=False)
    unknown = ~(yes | no)
    return pd.arrays.BooleanArray(~no, unknown), unknown


def rates_of_text(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """The rates of a text array (no nulls), as fractions: ``(rates, bad)``, float64 (NaN where
    not a number) and which cells are not a percentage from 0% to 100%.

    Rule: ``10%`` and ``0.10`` are a tenth; a number above 1 without ``%`` is a percentage too
    ("10" in a retainage column means 10%); a blank cell is 0. A column of digits, ``.``, ``-``
    and one trailing ``%`` per cell is parsed by Arrow's float parser (the same doubles as
    pandas' on every decimal text), any other by pandas."""
    t = one_array(trim(one_array(arr))[0])
    off, data = offsets_and_bytes(t)
    size = np.diff(off)
    is_pct = data == 37
    pct = num = None
    if (((data >= 48) & (data <= 57)) | (data == 46) | (data == 45) | is_pct).all():
        body = t
        if is_pct.any():
            seen = np.concatenate(([0], np.cumsum(is_pct, dtype=np.int64)))
            count = seen[off[1:]] - seen[off[:-1]]
            pct = (count == 1) & (size > 0) & (data[np.maximum(off[1:] - 1, 0)] == 37)
            if ((count > 1) | ((count == 1) & ~pct)).any():
                body = None  # "%" inside a number or twice: pandas' reading below
            else:
                body, size = keep_bytes(off, data, ~is_pct)
        else:
            pct = np.zeros(len(t), dtype=bool)
        values = None if body is None else cast_or_none(body, size == 0, pa.float64())
        if values is not None:
            num = np.where(size == 0, 0.0, values.to_numpy(zero_copy_only=False))
    if num is None:
        s = _series(t)
        pct = s.str.endswith("%").to_numpy(dtype=bool)
        num = pd.to_numeric(s.str.rstrip("%").str.strip().replace("", "0"),
                            errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    num = np.where(pct | (num > 1), num / 100, num)  # "10" in a % column means 10%
    return num, np.isnan(num) | (num < 0) | (num > 1)


#: Digits a whole number may have: 19 can pass int64's range, and a value must never wrap.
MAX_INT_DIGITS = 18


def parse_ints(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole numbers (``-?digits``, at most :data:`MAX_INT_DIGITS` digits, spaces around
    allowed; blank: ``<NA>``): ``(values, bad)`` (:func:`ints_of_text` of a Series)."""
    values, bad = ints_of_text(one_array(text.astype(schema.STRING).array))
    return pd.Series(values, index=text.index), pd.Series(bad, index=text.index)


def ints_of_text(arr: pa.Array) -> tuple[pd.arrays.IntegerArray, np.ndarray]:
    """:func:`parse_ints` of an Arrow text array: ``(values, bad)``. A column of digits and
    ``-`` only is cast by Arrow's integer parser, which takes exactly ``-?digits`` of them (``5-``
    or ``--5`` fail it: the column is then read by the pattern)."""
    fast = _plain_ints(arr)
    if fast is not None:
        return fast
    s = _series(arr).fillna("").str.strip()
    ok = (s.str.fullmatch(rf"-?\d{{1,{MAX_INT_DIGITS}}}") | (s == "")).fillna(False)
    num = pd.to_numeric(s.where(ok & (s != "")), errors="coerce").astype("Int64")
    return num.array, ~ok.to_numpy(dtype=bool)


def _plain_ints(arr: pa.Array) -> tuple[pd.arrays.IntegerArray, np.ndarray] | None:
    """:func:`ints_of_text` of a column whose cells are empty or digits with a leading ``-``, at
    most :data:`MAX_INT_DIGITS` characters; None for any other column."""
    off, data = offsets_and_bytes(arr)
    size = np.diff(off)
    if len(arr) == 0 or size.max(initial=0) > MAX_INT_DIGITS or not (
            ((data >= 48) & (data <= 57)) | (data == 45)).all():
        return None
    missing = arr.is_null().to_numpy(zero_copy_only=False) | (size == 0)
    values = cast_or_none(arr, missing, pa.int64())
    if values is None:
        return None
    return (pd.arrays.IntegerArray(pc.fill_null(values, 0).to_numpy(), missing),
            np.zeros(len(arr), dtype=bool))


def floats_of_text(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Plain numbers of a text array (no nulls): thousands commas allowed, blank = 0; NaN where
    the text is not one. Arrow's parser where every value is plain, pandas' where some are not
    (the same doubles on a decimal text)."""
    clean = pc.replace_substring(one_array(arr), ",", "")
    clean = pc.if_else(pc.equal(clean, ""), "0", clean)
    try:
        return pc.cast(clean, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(_series(one_array(clean)), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan)


def _text(values: pd.Series) -> pd.Series:
    """A column as text (string dtype, '' for a missing cell); the column itself when it already
    is (as read from a CSV), not a copy."""
    if values.dtype == schema.STRING and values.array._pa_array.null_count == 0:
        return values
    return values.astype("string").fillna("")


def _trimmed(text: pd.Series) -> pd.Series:
    """``text`` without leading and trailing whitespace (:func:`_trimmed_blank`)."""
    return _trimmed_blank(text)[0]


def _trimmed_blank(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``text`` (a column of :func:`_text`: no missing cells) without leading and trailing
    whitespace, and which of its cells are blank once trimmed (:func:`trim`); the column itself
    when nothing is cut."""
    arr = one_array(text.array)
    cut, blank = trim(arr)
    return (text if cut is arr else pd.Series(pd.arrays.ArrowStringArray(cut),
                                              index=text.index)), blank


def trim(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array | pa.ChunkedArray, np.ndarray]:
    """A text array (no nulls) without leading and trailing whitespace (Arrow's Unicode trim),
    and which of its cells are blank once trimmed.

    The array itself where no cell has any (most exports), so a column of millions of cells is
    not held twice while the table is converted: a trim only removes characters, so the same
    total length means nothing was cut. And where no cell's first or last byte can be
    whitespace (:func:`~wip_lib.core.arrow_strings.sizes_and_edges`: most columns), no trim at
    all: the blanks are the empty cells."""
    if isinstance(arr, pa.ChunkedArray):  # chunk by chunk: a large column is not copied whole
        parts = [trim(c) for c in arr.chunks]
        blank = (np.concatenate([b for _, b in parts]) if parts
                 else np.zeros(0, dtype=bool))
        if all(cut is c for (cut, _), c in zip(parts, arr.chunks)):
            return arr, blank
        return pa.chunked_array([cut for cut, _ in parts], type=arr.type), blank
    size, edge = sizes_and_edges(arr)
    if edge is None:  # no cell starts or ends with a space: no trim
        return arr, size == 0
    cut = pc.utf8_trim_whitespace(arr)
    after = pc.binary_length(cut).to_numpy(zero_copy_only=False)
    return (arr if int(after.sum()) == int(size.sum()) else cut), after == 0


KIND_FIX = {
    "money": "write an amount such as 1234.56, $1,234.56 or (1,234.56) for a negative",
    "date": "write the date as {fmt} or YYYY-MM-DD",
    "flag": "write Yes or No",
    "rate": "write a percentage such as 10% or 0.10",
    "int": f"write a whole number of at most {MAX_INT_DIGITS} digits",
    "float": "write a number",
    "period": "write the period as YYYY-MM",
}


PERIOD_TEXT = f"^(?:{PERIOD_PATTERN})$"  # the whole cell, in Arrow's RE2


def convert(raw: pd.DataFrame | pa.Table, table: schema.Table, colmap: dict[str, str],
            out: Collector, locale: str = "en-US", date_formats: list[str] | None = None,
            defaults: dict[str, object] | None = None, labels: dict[str, str] | None = None,
            extra: dict[str, object] | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Typed canonical columns from text columns (a frame, or an Arrow table of text columns
    and ``_row``, whose rows are numbered from 0). Returns (frame, bad_row_mask).

    ``labels`` names a column in messages when ``colmap`` points at renamed (canonical) columns:
    the user should read the header their file has. ``extra``: columns (arrays as long as
    ``raw``) put after the table's, in the one frame built (an insert later costs more).

    Each column is worked as one Arrow array and its masks as numpy arrays, and the frame is
    built once from the typed arrays: a pandas Series for each step of each column cost more
    than the steps on a small export (a company's read converts about two hundred columns)."""
    if isinstance(raw, pa.Table):
        n, rows, index = raw.num_rows, raw.column("_row").to_numpy(), pd.RangeIndex(raw.num_rows)
        column = raw.column
    else:
        n, rows, index = len(raw), raw["_row"], raw.index
        column = raw.__getitem__
    bad = np.zeros(n, dtype=bool)
    cols: dict[str, object] = {}
    fmt_hint = {"en-US": "MM/DD/YYYY"}.get(locale, "DD/MM/YYYY")
    # A small table's money columns, and its date columns, each parsed as one array.
    taken = lambda kind: [c.name for c in table.columns  # noqa: E731
                          if c.kind == kind and colmap.get(c.name) is not None]
    fetch = lambda name: column(colmap[name])  # noqa: E731
    together = {**_parsed_together(lambda a: cents_of_text(a)[::2], taken("money"), fetch, n),
                **_parsed_together(lambda a: dates_of_text(a, locale, date_formats),
                                   taken("date"), fetch, n)}
    for c in table.columns:
        header = colmap.get(c.name)
        if header is None:
            if not (c.name.endswith("_raw") or c.name in (defaults or {})):
                cols[c.name] = _filled(c, c.default, n)
            continue
        text = text_array(column(header))
        if c.kind not in _KEPT_AS_TEXT:
            # Parsed into numbers or dates: one array, a copy let go once the column is parsed
            # (the parsers run a third faster on it than chunk by chunk at 2,000 jobs). A text
            # column keeps the export's chunks: the frame shares them, not a second copy.
            text = one_array(text)
        header = (labels or {}).get(c.name, header)
        fix = KIND_FIX.get(c.kind, "").format(fmt=fmt_hint)
        t, blank = trim(text)  # once per column: a trim of millions of cells is not free
        if c.kind == "money":
            val, b = together[c.name] if c.name in together else cents_of_text(text)[::2]
            missing = blank & c.required
            out.rows(b, rows, text, "not an amount of money", fix, header)
            out.rows(missing & ~b, rows, text, "the amount is blank", "enter the amount (0 if "
                     "none)", header)
            bad |= b | missing
        elif c.kind == "date":
            val, b = (together[c.name] if c.name in together
                      else dates_of_text(text, locale, date_formats))
            out.rows(b, rows, text, "not a date", fix, header)
            missing = blank & c.required
            out.rows(missing, rows, text, "the date is blank", "enter the date", header)
            bad |= b | missing
        elif c.kind == "flag":
            val, b = flags_of_text(text)
            out.rows(b, rows, text, "not a yes/no value", fix, header)
            bad |= b
            if c.default is not None:
                val = val.fillna(bool(c.default))
        elif c.kind == "rate":
            val, b = rates_of_text(text)
            out.rows(b, rows, text, "not a percentage between 0% and 100%", fix, header)
            bad |= b
        elif c.kind == "int":
            val, b = ints_of_text(text)
            out.rows(b, rows, text, "not a whole number", fix, header)
            missing = blank & c.required
            out.rows(missing & ~b, rows, text, "the number is blank", "enter the number", header)
            bad |= b | missing
        elif c.kind == "float":
            val = floats_of_text(text)
            b = np.isnan(val)
            out.rows(b, rows, text, "not a number", fix, header)
            bad |= b
            val = np.where(b, 0.0, val)
        elif c.kind == "period":
            b = ~pc.fill_null(pc.match_substring_regex(t, PERIOD_TEXT), False).to_numpy(
                zero_copy_only=False)
            out.rows(b, rows, text, "not a period", fix, header)
            bad |= b
            val = t
        elif c.kind == "code":
            missing = blank & c.required
            out.rows(missing, rows, text, "the code is blank", "fill in the code", header)
            bad |= missing
            if c.name.endswith("cost_code") or c.name in ("cost_code",):
                if f"{c.name}_raw" in table.names:
                    cols[f"{c.name}_raw"] = pd.arrays.ArrowStringArray(text)
                val = codes.normalise_array(text)
            elif c.name == "cost_type":
                val = pc.utf8_upper(t)
            else:
                if f"{c.name}_raw" in table.names:
                    cols[f"{c.name}_raw"] = pd.arrays.ArrowStringArray(text)
                val = t
        else:  # text
            missing = blank & c.required
            out.rows(missing, rows, text, "the value is blank", "fill it in", header)
            bad |= missing
            val = t
        cols[c.name] = pd.arrays.ArrowStringArray(val) if isinstance(
            val, (pa.Array, pa.ChunkedArray)) else val
    for name, value in (defaults or {}).items():
        cols[name] = _filled(table.column(name), value, n)
    frame = pd.DataFrame({**{c: cols[c] for c in table.names if c in cols}, **(extra or {})},
                         index=index, copy=False)
    return frame, pd.Series(bad, index=index)


#: A table's money columns, and its date columns, are parsed as one array each up to this many
#: cells: a column of a small export costs the parser's dozen kernels more than its cells (the
#: commitments export's eight money columns of 600 amounts: 3.2 ms one by one, 1.3 ms
#: together). A larger table's cells outweigh that, and a joined copy of its text would cost
#: memory for nothing.
TOGETHER_CELLS = 100_000


def _parsed_together(parse, names: list[str], column, n: int) -> dict[str, tuple]:
    """``parse`` (a parser of one text array that reads each value by itself, returning arrays
    as long as its input: :func:`~wip_lib.core.money.cents_of_text`, :func:`dates_of_text`) of
    several columns of one table (``column`` gives a name's text column, ``n`` cells each),
    worked as one array: each column's share of each result. Nothing when there is one column
    or the table is large (:data:`TOGETHER_CELLS`): then each column is parsed alone, to the
    same result."""
    if len(names) < 2 or not n or n * len(names) > TOGETHER_CELLS:
        return {}
    parsed = parse(pa.concat_arrays([large_text(one_array(text_array(column(name))))
                                     for name in names]))
    return {name: tuple(r[i * n:(i + 1) * n] for r in parsed) for i, name in enumerate(names)}


def text_cells(value: str | None, n: int) -> pa.Array:
    """``n`` Arrow text cells of ``value`` (null where None), built by Arrow, not from a list."""
    cells = pa.nulls(n, TEXT)
    return cells if value is None else pc.fill_null(cells, value)


_KEPT_AS_TEXT = ("text", "code", "period")


def text_array(values: pd.Series | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A column (of a frame, or an Arrow table's text column) as Arrow text with no nulls
    (:func:`_text`: '' for a missing cell): the column's own array where it already is one (as
    read from a CSV)."""
    if isinstance(values, pa.ChunkedArray):
        data = pc.fill_null(values, "") if values.null_count else values
    else:
        arr = values.array
        if not isinstance(arr, pd.arrays.ArrowStringArray) or arr._pa_array.null_count:
            return one_array(_text(values).array)
        data = arr._pa_array
    # A large export's column is in chunks (parsed block by block): kept so, not copied into
    # one array while the table that holds it is alive.
    return data.chunk(0) if data.num_chunks == 1 else data


def _series(arr: pa.Array) -> pd.Series:
    """An Arrow text array as a string Series, for the parsers of a few rare columns."""
    return pd.Series(pd.arrays.ArrowStringArray(arr))


def _filled(c: schema.Column, value, n: int):
    """``n`` cells of ``value`` in column ``c``'s type (a missing value when None; 0 cents for
    money with no value)."""
    # The common columns' arrays built as they are: a Series of a dtype given by name costs a
    # look-up in pandas' registry and a Series each time (a few dozen columns a read).
    if c.kind == "money" and isinstance(value, (int, type(None))):
        return np.full(n, value or 0, dtype="int64")
    if c.dtype == "string" and isinstance(value, (str, type(None))):
        return pd.arrays.ArrowStringArray(text_cells(value, n))
    if c.kind == "flag" and isinstance(value, (bool, type(None))):
        return pd.arrays.BooleanArray(np.full(n, bool(value)), np.full(n, value is None))
    return pd.Series(pd.NA if value is None and c.dtype not in ("datetime64[us]", "float64")
                     else value, index=pd.RangeIndex(n), dtype=c.dtype).array
