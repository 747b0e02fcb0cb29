"""How each sheet prints: paper, scale, the columns of each page, repeated titles, the print area.

A surety or a bank prints the workbook as it comes, so every sheet carries a page set-up that
needs no touching: landscape; letter when the sheet fits one letter page wide at
:data:`TARGET_SCALE` or more, tabloid otherwise; the columns split into pages *between blocks*
(the CPA blocks of the schedule never straddle two pages; a block wider than a page is the only
one cut, between columns); the title columns (job, job name) and the header rows repeated on
every page; pages printed across, then down; an explicit scale (``fitToPage`` off, so the manual
column breaks hold), never below :data:`MIN_SCALE`.

The plan (:func:`plan_pages`), for a sheet whose printed columns have widths ``w_1 .. w_n``
(Excel character units), title columns ``1 .. t`` and blocks ``g_1 .. g_m`` (column spans that
stay together):

- width of a column at 100 %: ``w x`` :data:`POINTS_PER_UNIT` points; a page holding blocks
  ``g_i .. g_j`` is ``W(i, j) = title width + width of the blocks``;
- printable width ``P`` = paper width (landscape) less the left and right margins
  (:data:`SIDE_MARGIN` inches each): letter 734.4 pt, tabloid 1,166.4 pt;
- one page wide on letter when ``W <= P_letter x 100 / TARGET_SCALE``, else on tabloid when that
  holds for ``P_tabloid``; else tabloid, with the fewest pages ``k`` such that every page holds at
  ``TARGET_SCALE`` (``W(page) <= P_tabloid x 100 / TARGET_SCALE``; contiguous blocks, greedy, which
  is the fewest), the ``k`` pages chosen to make the widest page as narrow as possible;
- scale = ``min(100, floor(P x 100 / widest page))``, so the widest page fills the paper.

:data:`POINTS_PER_UNIT` is 7 pt, the width LibreOffice gives a character unit when the workbook's
Calibri is not installed and DejaVu Sans stands in (measured: a 17-unit column prints 119 pt wide);
Excel with Calibri gives 5.25 pt (7 px). Planning with the wider of the two means the pages hold in
either program (in Excel with some room to spare on the right).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

LETTER, TABLOID = 1, 3  # OOXML paper sizes: 8.5 x 11 in, 11 x 17 in
PAPER_NAMES = {LETTER: "letter", TABLOID: "tabloid"}
#: Long side of each paper (landscape width), inches.
PAPER_LONG_SIDE = {LETTER: 11.0, TABLOID: 17.0}
SIDE_MARGIN = 0.4  # inches, left and right
TOP_MARGIN = 0.75  # inches, top and bottom (the page header and footer sit within)
HEADER_MARGIN = 0.3
#: Points per Excel column-width unit at 100 % (the wider of Excel/Calibri and LibreOffice/DejaVu).
POINTS_PER_UNIT = 7.0
#: Width of a column whose width is not set (Excel's default 8.43 characters, stored 9.140625).
DEFAULT_WIDTH = 9.140625
MIN_SCALE = 60
TARGET_SCALE = 70
MAX_SCALE = 100
LAST_ROW_INDEX = 1048575  # a column break runs down every row


def printable_width(paper: int) -> float:
    """Points across a landscape page of ``paper`` inside the side margins."""
    return (PAPER_LONG_SIDE[paper] - 2 * SIDE_MARGIN) * 72


@dataclass(frozen=True)
class PagePlan:
    """Paper, scale, and the column span (1-based, inclusive) of each page across.

    ``title_cols`` columns print on every page (as the first columns of the first page)."""

    paper: int
    scale: int
    pages: tuple[tuple[int, int], ...]
    title_cols: int

    @property
    def breaks(self) -> tuple[int, ...]:
        """The last column of every page but the last (a manual break after each)."""
        return tuple(end for _, end in self.pages[:-1])


def _scale(paper: int, width_pt: float) -> int:
    return min(MAX_SCALE, math.floor(printable_width(paper) * 100 / width_pt)) if width_pt else \
        MAX_SCALE


def plan_pages(widths: Sequence[float], groups: Sequence[tuple[int, int]],
               title_cols: int = 0) -> PagePlan:
    """The page plan of columns ``1 .. len(widths)`` (rule in the module docstring).

    ``widths``: each printed column's width in Excel units; ``groups``: the blocks, as 1-based
    inclusive column spans covering ``title_cols + 1 .. n`` in order."""
    n = len(widths)
    pts = [w * POINTS_PER_UNIT for w in widths]
    title = sum(pts[:title_cols])
    total = sum(pts)
    for paper in (LETTER, TABLOID):
        if total <= printable_width(paper) * 100 / TARGET_SCALE:
            return PagePlan(paper, _scale(paper, total), ((1, n),), title_cols)
    cap = printable_width(TABLOID) * 100 / TARGET_SCALE

    def width(a: int, b: int) -> float:
        return sum(pts[a - 1:b])

    units: list[tuple[int, int]] = []
    for a, b in groups:
        if title + width(a, b) <= cap:
            units.append((a, b))
        else:  # a block wider than a page: cut between its columns
            units += [(c, c) for c in range(a, b + 1)]
    # The fewest pages: fill each page with whole blocks while they fit (greedy).
    k, used = 1, title
    for a, b in units:
        w = width(a, b)
        if used + w > cap and used > title:
            k, used = k + 1, title
        used += w
    k = min(k, len(units))
    # The k contiguous pages whose widest is narrowest (units are few: plain dynamic programming).
    m = len(units)
    prefix = [0.0]
    for a, b in units:
        prefix.append(prefix[-1] + width(a, b))
    inf = float("inf")
    best = [[inf] * (m + 1) for _ in range(k + 1)]
    cut = [[0] * (m + 1) for _ in range(k + 1)]
    best[0][0] = 0.0
    for p in range(1, k + 1):
        for j in range(1, m + 1):
            for i in range(p - 1, j):
                w = max(best[p - 1][i], title + prefix[j] - prefix[i])
                if w < best[p][j]:
                    best[p][j], cut[p][j] = w, i
    bounds, j = [], m
    for p in range(k, 0, -1):
        i = cut[p][j]
        bounds.append((i, j))
        j = i
    bounds.reverse()
    pages = tuple((1 if i == 0 else units[i][0], units[j - 1][1]) for i, j in bounds)
    return PagePlan(TABLOID, _scale(TABLOID, best[k][m]), pages, title_cols)


def column_widths(ws: Worksheet, last_col: int) -> list[float]:
    """Widths of columns ``1 .. last_col`` as set on the sheet (Excel's default when unset)."""
    out = []
    for c in range(1, last_col + 1):
        dim = ws.column_dimensions.get(get_column_letter(c))
        out.append(dim.width if dim is not None and dim.width else DEFAULT_WIDTH)
    return out


def block_groups(blocks: Sequence[str], title_cols: int) -> list[tuple[int, int]]:
    """Column spans after the title columns: consecutive columns of one named block together; a
    column outside any block (``""``) alone."""
    groups: list[tuple[int, int]] = []
    for c in range(title_cols + 1, len(blocks) + 1):
        name = blocks[c - 1]
        if groups and name and blocks[groups[-1][1] - 1] == name and groups[-1][1] == c - 1:
            groups[-1] = (groups[-1][0], c)
        else:
            groups.append((c, c))
    return groups


def apply_plan(ws: Worksheet, plan: PagePlan, *, last_row: int, title_rows: tuple[int, int]
               ) -> None:
    """Write ``plan`` into the sheet's page set-up: paper, landscape, explicit scale
    (``fitToPage`` off), print area ``A1`` to the last planned column and ``last_row``, the title
    rows and columns, a manual column break after each page, pages across then down."""
    last_col = plan.pages[-1][1]
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = plan.paper
    ws.page_setup.scale = plan.scale
    ws.page_setup.fitToWidth = None
    ws.page_setup.fitToHeight = None
    ws.page_setup.pageOrder = "overThenDown"
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_margins.left = ws.page_margins.right = SIDE_MARGIN
    ws.page_margins.top = ws.page_margins.bottom = TOP_MARGIN
    ws.page_margins.header = ws.page_margins.footer = HEADER_MARGIN
    ws.print_area = f"A1:{get_column_letter(last_col)}{max(last_row, title_rows[1])}"
    ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    if plan.title_cols:
        ws.print_title_cols = f"A:{get_column_letter(plan.title_cols)}"
    for end in plan.breaks:
        ws.col_breaks.append(Break(id=end, min=0, max=LAST_ROW_INDEX, man=True))


__all__ = ["LETTER", "TABLOID", "MIN_SCALE", "TARGET_SCALE", "POINTS_PER_UNIT", "PagePlan",
           "plan_pages", "printable_width", "column_widths", "block_groups", "apply_plan"]
