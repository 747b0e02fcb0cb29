"""Saving a workbook: each sheet's cells written as XML text, byte for byte what openpyxl writes
at a fraction of its cost, into a zip whose entries carry a fixed date (same inputs, same bytes).

openpyxl (3.1, without lxml) serialises every cell by building an ElementTree element and walking
it in pure Python: about 20 us a cell, 13 s of the 300-job workbook's 25 s and most of the time at
2,000 jobs (8.7 million cells). :func:`save_workbook` is openpyxl's own ``save_workbook`` with one
step swapped: a sheet's ``<sheetData>`` is written by :class:`_SheetWriter`, which formats the
common cells (numbers, booleans, inline strings, formulas, blanks) as text and hands any other
cell (a date, rich text, an array formula, a cell with a hyperlink) to openpyxl's own cell writer
in place. Styles are registered in the same order as openpyxl registers them, so the style ids
and the file's bytes are the same; ``tests/test_excel_saving.py`` compares them on every sheet of
the sample's workbook and on a sheet of awkward cells.

Where openpyxl writes through lxml (installed in the environment), its stream has no text hook and
the sheet is written by openpyxl as before.
"""
from __future__ import annotations

from openpyxl.cell._writer import write_cell
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter
from xml.etree.ElementTree import _escape_attrib, _escape_cdata  # what openpyxl's writer uses
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

_TYPE_ATTR = {"s": ' t="inlineStr"', "f": "", "n": ' t="n"', "b": ' t="b"', "e": ' t="e"',
              "d": ' t="d"'}
_PLAIN = (str, int, float)  # bool is an int


def _text_xml(value: str) -> str:
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and value != stripped else ""
    return f"<is><t{space}>{_escape_cdata(value)}</t></is>"


class _SheetWriter(WorksheetWriter):
    """openpyxl's sheet writer with the cells of ``<sheetData>`` written as text."""

    def rows(self):
        """openpyxl's ``rows``: the cells grouped by row, in row then column order (sorting the
        keys alone, not ``(key, cell)`` pairs, and skipping the sort when the cells were made in
        order, as the sheets make them). Rows to be made as the sheet is written
        (:func:`~wip_lib.reports.excel.cells.later_rows`) are made in their place, one block at
        a time, and let go once the writer has them."""
        cells = self.ws._cells
        keys = list(cells)
        if any(a > b for a, b in zip(keys, keys[1:])):
            keys.sort()
        rows: dict[int, list] = {}
        for key in keys:
            row = rows.get(key[0])
            if row is None:
                row = rows[key[0]] = []
            row.append(cells[key])
        for row in self.ws.row_dimensions.keys() - rows.keys():  # rows with a height only
            rows[row] = []
        made = sorted(rows.items())
        later = self.ws.__dict__.get("_wip_later")
        return self._with_later(made, sorted(later, key=lambda b: b[:2])) if later else made

    def _with_later(self, made: list, later: list):
        cells = self.ws._cells
        k = 0
        for first, last, make in later:
            while k < len(made) and made[k][0] < first:
                yield made[k]
                k += 1
            before = len(cells)
            make()
            # the block's cells are the last ones added (a dict keeps insertion order)
            new = [key for key, _ in zip(reversed(cells), range(len(cells) - before))]
            new.reverse()
            block: dict[int, list] = {}
            for key in sorted(new) if any(a > b for a, b in zip(new, new[1:])) else new:
                if not first <= key[0] <= last:
                    raise ValueError(f"sheet {self.ws.title!r}: rows {first}-{last} made a "
                                     f"cell outside them ({key})")
                block.setdefault(key[0], []).append(cells[key])
            while k < len(made) and made[k][0] <= last:  # a height set on a row of the block
                row_idx, row = made[k]
                block[row_idx] = sorted(block.get(row_idx, []) + row, key=lambda c: c.column)
                k += 1
            yield from sorted(block.items())
            for key in new:
                del cells[key]
        yield from made[k:]

    def write_rows(self):
        xf = self.xf.send(True)
        out = getattr(xf, "_file", None)  # et_xmlfile's write function; lxml has none
        if out is None:
            self.xf.send(None)
            return super().write_rows()
        ws = self.ws
        dims = ws.row_dimensions
        add_style = ws.parent._cell_styles.add
        letters: dict[int, str] = {}
        style_ids: dict[bytes, int] = {}
        with xf.element("sheetData"):
            for row_idx, row in self.rows():
                attrs = {"r": f"{row_idx}"}
                attrs.update(dims.get(row_idx, {}))
                r = str(row_idx)
                parts = ["<row", *(f' {k}="{_escape_attrib(v)}"' for k, v in attrs.items()),
                         ">"]
                for cell in row:
                    if cell._comment is not None:
                        ws._comments.append(CommentRecord.from_cell(cell))
                    value = cell._value
                    style = cell._style
                    styled = style is not None and any(style)
                    if value is None and not styled and cell._comment is None:
                        continue
                    kind = cell.data_type
                    if (cell._hyperlink is not None or kind == "d"
                            or not (value is None or type(value) in _PLAIN)):
                        out("".join(parts))
                        parts = []
                        write_cell(xf, ws, cell, styled)
                        continue
                    col = cell.column
                    letter = letters.get(col)
                    if letter is None:
                        letter = letters[col] = get_column_letter(col)
                    if styled:
                        # a style's id by its bytes: one hash in C instead of openpyxl's
                        # Python-level hash of each cell's style (registered on first sight,
                        # in openpyxl's order)
                        key = style.tobytes()
                        style_id = style_ids.get(key)
                        if style_id is None:
                            style_id = style_ids[key] = add_style(style)
                    head = (f'<c r="{letter}{r}" s="{style_id}"' if styled
                            else f'<c r="{letter}{r}"') + _TYPE_ATTR[kind]
                    if value is None or value == "":
                        parts.append(head + " />")
                    elif kind == "f":
                        parts.append(f"{head}><f>{_escape_cdata(value[1:])}</f><v /></c>")
                    elif kind == "s":
                        parts.append(f"{head}>{_text_xml(value)}</c>")
                    else:  # NaN and infinity are written as an empty value, as openpyxl does
                        text = safe_string(value)
                        parts.append(f"{head}><v>{_escape_cdata(text)}</v></c>" if text
                                     else f"{head}><v /></c>")
                parts.append("</row>")
                out("".join(parts))
        self.xf.send(None)


class _Writer(ExcelWriter):
    """openpyxl's workbook writer, its sheets written by :class:`_SheetWriter`."""

    def write_worksheet(self, ws):
        if self.workbook.write_only:
            return super().write_worksheet(ws)
        # the body of openpyxl 3.1's ExcelWriter.write_worksheet, with our sheet writer
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _SheetWriter(ws)
        writer.write()
        ws._rels = writer._rels
        self._archive.write(writer.out, ws.path[1:])
        self.manifest.append(ws)
        writer.cleanup()


ZIP_DATE = (2000, 1, 1, 0, 0, 0)


class _FixedZip(ZipFile):
    """A zip whose every entry is dated :data:`ZIP_DATE`, deflated, mode 0600."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        name = getattr(zinfo_or_arcname, "filename", zinfo_or_arcname)
        info = ZipInfo(name, date_time=ZIP_DATE)
        info.compress_type = ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        super().writestr(info, data)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as fh:
            self.writestr(arcname or filename, fh.read())


def save_workbook(wb, file) -> None:
    """Write ``wb`` to ``file`` (a path or a binary file object) as ``wb.save`` does, except that
    the document's dates are left as set on ``wb.properties`` and every zip entry is dated
    :data:`ZIP_DATE`."""
    with _FixedZip(file, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        _Writer(wb, archive).save()
