"""What notebooks and report pages show: money tables, key figures and page shells rendered from
the Jinja2 templates in ``templates/``, and plotly figures that work in JupyterLab and in the
offline HTML reports.

Escaping: every page is rendered by the one environment built here (:func:`environment`), with
autoescape on for ``.html`` templates, so any ``{{ value }}`` is escaped unless a template marks
it ``|safe`` (only the page bodies that nbconvert rendered from our own notebooks). The one
fragment built without a template is the money table (:func:`html_table`: a dashboard writes a
dozen, thousands of cells, and Jinja's per-cell lookups were a tenth of a dashboard's time); it
escapes every text it writes itself. Text that came from Procore or the ERP (job, vendor and
cost-code names, descriptions, flag messages) is therefore escaped by one function,
:func:`escape`, and a vendor called ``<script>`` prints as text. Jinja (or the table) decides
*when* to escape; :func:`escape` decides *how*: the standard library's ``html.escape`` with
``quote=True`` (``"`` -> ``&quot;``, ``'`` -> ``&#x27;``), the entities these pages have always
used (MarkupSafe's own would write ``&#34;``/``&#39;``; a browser reads both the same).

Money arrives as int64 cents and is shown in dollars with thousands separators, negatives in
parentheses as accountants read them; templates use the same functions as filters ``dollars``
and ``percent``.
"""
from __future__ import annotations

import html
from functools import cache
from typing import Iterable, Sequence

import pandas as pd
from jinja2 import (Environment, PackageLoader, StrictUndefined, pass_eval_context,
                    select_autoescape)
from markupsafe import Markup


def dollars(cents: int | float | None, *, whole: bool = False) -> str:
    """``123456`` -> ``1,234.56``; negatives ``(1,234.56)``; missing -> empty."""
    if cents is None or pd.isna(cents):
        return ""
    c = int(cents)
    if whole:
        # Reports may show whole dollars; rounding half-up from exact cents.
        d = (abs(c) + 50) // 100
        text = f"{d:,}"
    else:
        text = f"{abs(c) // 100:,}.{abs(c) % 100:02d}"
    return f"({text})" if c < 0 else text


def percent(x: float | None, digits: int = 1) -> str:
    if x is None or pd.isna(x):
        return ""
    return f"{x * 100:.{digits}f}%"


def escape(value) -> str:
    """A value as HTML text: ``None`` -> empty; markup (anything with ``__html__``) as it is;
    anything else ``html.escape(str(value), quote=True)`` (see the module docstring)."""
    if value is None:
        return ""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value), quote=True)


@pass_eval_context
def _escaped(eval_ctx, value):
    """The environment's finalize hook, applied to every ``{{ value }}``: ``None`` -> empty; where
    autoescape is on, :func:`escape`; elsewhere the value is left to Jinja."""
    if value is None:
        return ""
    if eval_ctx.autoescape and not hasattr(value, "__html__"):
        return Markup(escape(value))
    return value


@cache
def environment() -> Environment:
    """The one Jinja2 environment of the reports: templates from ``wip_lib/reports/templates``,
    autoescape for ``.html``, undefined names an error (a typo in a template fails its test
    instead of printing nothing), filters ``dollars`` and ``percent``."""
    env = Environment(loader=PackageLoader("wip_lib.reports", "templates"),
                      autoescape=select_autoescape(["html"]), finalize=_escaped,
                      undefined=StrictUndefined)
    env.filters["dollars"] = dollars
    env.filters["percent"] = percent
    return env


def render(template: str, **context) -> str:
    """``templates/<template>`` rendered with ``context`` (text escaped, see above)."""
    return environment().get_template(template).render(**context)


#: Column labels in the controller's words (a column not listed reads as its name, capitalised).
LABELS = {
    "job_id": "Job", "job_name": "Name", "status": "Status", "project_manager": "PM",
    "customer": "Owner", "start_date": "Start", "completion_date": "Completion",
    "contract_original": "Original contract", "contract_revised": "Contract",
    "change_orders_approved": "Approved COs", "change_orders_pending": "Pending COs",
    "est_cost_original": "Bid cost", "est_total_cost": "Est. total cost",
    "est_gross_profit": "Est. gross profit", "est_gp_pct": "Est. margin",
    "cost_to_date": "Cost to date", "est_cost_to_complete": "Cost to complete",
    "pct_complete": "% complete", "pct_billed": "% billed", "earned_revenue": "Earned revenue",
    "gross_profit_to_date": "GP to date", "loss_provision": "Loss provision",
    "billed_to_date": "Billed to date", "underbillings": "Underbillings",
    "overbillings": "Overbillings", "backlog": "Backlog", "revenue_period": "Revenue",
    "cost_period": "Cost", "gross_profit_period": "Gross profit", "fade": "Fade (-) / gain",
    "fade_vs_bid": "vs bid", "revenue_ytd": "Revenue YTD", "gross_profit_ytd": "GP YTD",
    "flag": "Flags", "flag_reason": "Why flagged", "rank": "Rank", "total_impact": "At stake",
    "flag_count": "Flags", "flags": "Flag types", "explanation": "Explanation",
    "cost_code": "Cost code", "cost_type": "Type", "description": "Description",
    "revised_budget": "Revised budget", "committed": "Committed", "pm_forecast": "PM forecast",
    "etc_used": "ETC used", "eac_used": "EAC used", "variance_used": "Over (under) budget",
    "etc_source": "ETC source", "dollar_impact": "Impact", "message": "Message",
    "check": "Check", "reference": "Document", "procore_amount": "Procore", "erp_amount": "ERP",
    "difference": "Difference", "severity": "Severity", "action": "Action",
    "days_waiting": "Days waiting", "detail": "Detail", "procore_total": "Procore total",
    "erp_total": "ERP total", "variance": "Variance", "explained": "Explained",
    "unexplained": "Unexplained", "findings": "Findings", "errors": "Errors",
    "warnings": "Warnings", "info": "Info", "account": "Account", "account_name": "Account name",
    "debit": "Debit", "credit": "Credit", "net": "Net", "final_contract": "Final contract",
    "total_cost": "Total cost", "total_gross_profit": "Total GP",
    "revenue_prior_years": "Revenue prior years", "revenue_this_year": "Revenue this year",
    "cost_prior_years": "Cost prior years", "cost_this_year": "Cost this year",
    "gp_prior_years": "GP prior years", "gp_this_year": "GP this year",
    "est_gross_profit_last": "Est. GP last reported", "fade_at_close": "Fade at close",
    "figure": "Figure", "prior": "Prior period", "current": "This period", "change": "Change",
    "source": "Source", "who": "Who", "when": "When", "why": "Why", "override": "Override",
    "period": "Period", "jobs": "Jobs", "over_under": "Over (under) billed", "before": "Schedule", "after": "What-if", "memo": "Memo",
}

#: Columns of long text: they wrap (class ``w``) instead of widening the table.
WRAP = {"job_name", "description", "message", "action", "detail", "explanation", "flags",
        "flag_reason", "why", "source", "reference", "memo", "account_name", "customer"}


def label(column: str) -> str:
    """The human label of a column (:data:`LABELS`), else its name with spaces, capitalised."""
    return LABELS.get(column) or column.replace("_", " ").capitalize()


def date_text(value) -> str:
    """A date as ``2026-06-26`` (never ``00:00:00``); a time of day other than midnight is
    kept to the second (``2026-10-31 16:05:00``); missing -> empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    ts = pd.Timestamp(value)
    if ts.tz is None and ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.isoformat(sep=" ", timespec="seconds")


def _is_date(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series.dtype)


def _cell(value, *, kind: str, whole_dollars: bool) -> dict:
    """One table cell: its text and class (``neg`` for a negative amount; ``t`` for text,
    left-aligned; ``t w`` for long text that wraps; none for numbers, right-aligned)."""
    if kind == "money":
        neg = value is not None and not pd.isna(value) and value < 0
        return {"text": dollars(value, whole=whole_dollars), "cls": "neg" if neg else ""}
    if kind == "pct":
        return {"text": percent(value), "cls": ""}
    if kind == "date":
        return {"text": date_text(value), "cls": ""}
    missing = value is None or (not isinstance(value, str) and pd.isna(value))
    text = "" if missing else str(value)
    return {"text": text, "cls": {"text": "t", "wrap": "t w"}.get(kind, "")}


def _kinds(df: pd.DataFrame, money, pct) -> dict[str, str]:
    """Each column's kind: money, pct, date, number, text or wrap (long text)."""
    out = {}
    for col in df.columns:
        s = df[col]
        if col in money:
            out[col] = "money"
        elif col in pct:
            out[col] = "pct"
        elif _is_date(s):
            out[col] = "date"
        elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            out[col] = "number"
        else:
            out[col] = "wrap" if col in WRAP else "text"
    return out


def table_rows(df: pd.DataFrame, *, money: Iterable[str] = (), pct: Iterable[str] = (),
               whole_dollars: bool = False) -> list[list[str]]:
    """The table's cell texts, formatted as the HTML table shows them (money in dollars,
    percent, dates without a time of day): what a key table's plain-text form holds."""
    return [[c["text"] for c in row] for row in _table_cells(df, money, pct, whole_dollars)]


def _table_cells(df: pd.DataFrame, money: Iterable[str], pct: Iterable[str], whole_dollars: bool,
                 max_rows: int | None = None) -> list[list[dict]]:
    """Each cell's text and class (:func:`_cell`), row by row (the first ``max_rows``)."""
    kinds = list(_kinds(df, set(money), set(pct)).values())
    rows = df if max_rows is None else df.head(max_rows)
    return [[_cell(v, kind=k, whole_dollars=whole_dollars) for k, v in zip(kinds, rec)]
            for rec in rows.itertuples(index=False)]


def html_table(df: pd.DataFrame, *, money: Iterable[str] = (), pct: Iterable[str] = (),
               whole_dollars: bool = False, total_row: bool = False,
               highlight: pd.Series | None = None, labels: dict[str, str] | None = None,
               max_rows: int | None = None, groups: Sequence[tuple[str, int]] | None = None,
               links: dict[str, str] | None = None, sticky: bool = False,
               cells: list[list[dict]] | None = None) -> str:
    """An HTML table (:func:`_table_markup`) with every cell escaped; ``money`` columns in
    cents, ``pct`` as fractions, dates as dates; headers are :func:`label` unless ``labels``
    says otherwise; text columns left-aligned, long text (:data:`WRAP`) wrapping.

    ``total_row`` sums the money columns (exact integer cents) into a last row.
    ``highlight`` is a boolean Series aligned with ``df``: those rows are marked with class flag.
    ``groups``: a header row above the labels, ``(group label, number of columns)`` in order.
    ``links``: column -> URL pattern with ``{}`` for the cell's text (a drill-down link).
    ``sticky``: the first column stays in view when the table scrolls sideways.
    ``cells``: the table's :func:`_table_cells` with these ``money``, ``pct`` and
    ``whole_dollars`` when the caller has them already (:func:`show_table`).
    """
    money = [m for m in money if m in df.columns]
    pct = [p for p in pct if p in df.columns]
    labels = labels or {}
    links = links or {}
    kinds = _kinds(df, set(money), set(pct))
    index = df.index if max_rows is None else df.index[:max_rows]
    flags = highlight.reindex(index).fillna(False) if highlight is not None else None
    if cells is None:
        cells = _table_cells(df, money, pct, whole_dollars, max_rows)
    hrefs = [links.get(col) for col in df.columns]
    flagged = [False] * len(cells) if flags is None else flags.astype(bool).tolist()
    body = []
    for flag, row in zip(flagged, cells):
        for pattern, cell in zip(hrefs, row):
            cell["href"] = pattern.format(cell["text"]) if pattern and cell["text"] else None
        body.append({"flag": flag, "cells": row})
    total = None
    if total_row and len(df):
        total = [dollars(int(df[col].fillna(0).astype("int64").sum()), whole=whole_dollars)
                 if col in money else ("Total" if i == 0 else "")
                 for i, col in enumerate(df.columns)]
    hidden = len(df) - max_rows if max_rows is not None and len(df) > max_rows else 0
    head = [{"text": labels.get(c) or label(c),
             "cls": "t" if kinds[c] in ("text", "wrap") else ""} for c in df.columns]
    return _table_markup(head, body, total, hidden, list(groups or []), sticky)


def _table_markup(head: list[dict], rows: list[dict], total: list[str] | None, hidden: int,
                  groups: list[tuple[str, int]], sticky: bool) -> str:
    """The table's HTML: ``head`` [{text, cls}]; ``groups`` [(label, span)] above the head or
    empty; ``rows`` [{flag, cells: [{text, cls, href}]}]; ``total`` the total row's texts or
    None; ``hidden`` rows left out by max_rows; ``sticky``: the first column stays in view.
    Every text, class and link through :func:`escape`."""
    e = escape

    def cls(c: str) -> str:
        return f' class="{e(c)}"' if c else ""

    def td(c: dict) -> str:
        text = e(c["text"])
        if c["href"]:
            text = f'<a href="{e(c["href"])}">{text}</a>'
        return f"<td{cls(c['cls'])}>{text}</td>"

    out = [f'<div class="tbl"><table{cls("sticky" if sticky else "")}><thead>']
    if groups:
        out.append('<tr class="groups">' + "".join(
            f'<th colspan="{e(span)}">{e(g)}</th>' for g, span in groups) + "</tr>")
    out.append("<tr>" + "".join(f"<th{cls(h['cls'])}>{e(h['text'])}</th>" for h in head)
               + "</tr></thead><tbody>")
    out.extend(f"<tr{cls('flag' if r['flag'] else '')}>" + "".join(map(td, r["cells"]))
               + "</tr>" for r in rows)
    if total is not None:
        out.append('<tr class="total">' + "".join(f"<td>{e(t)}</td>" for t in total) + "</tr>")
    out.append("</tbody></table></div>")
    if hidden:
        out.append(f"<p>{e(hidden)} more rows not shown.</p>")
    return "".join(out)


def plain_table(df: pd.DataFrame, *, money: Iterable[str] = (), pct: Iterable[str] = (),
                whole_dollars: bool = False, labels: dict[str, str] | None = None,
                cells: list[list[dict]] | None = None) -> str:
    """The table as plain text (``text/plain`` of a key table: what nbval compares), with the
    same formats and labels as :func:`html_table` (``cells``: as there, every row)."""
    labels = labels or {}
    if df.empty:
        return "(no rows)"
    cols = [labels.get(c) or label(c) for c in df.columns]
    if cells is None:
        cells = _table_cells(df, money, pct, whole_dollars)
    return fixed_width(cols, [[c["text"] for c in row] for row in cells])


#: Control characters written as escapes, as pandas' ``to_string`` writes them.
_ESCAPES = str.maketrans({"\t": r"\t", "\n": r"\n", "\r": r"\r"})


def fixed_width(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Text cells as ``pd.DataFrame(rows, columns=header).to_string(index=False)`` lays them out
    (each column right-aligned to its widest text, one space between columns, tabs and line
    breaks escaped), without pandas' formatting machinery: a dashboard writes a dozen tables and
    this was a third of their cost."""
    header = [h.translate(_ESCAPES) for h in header]
    rows = [[v.translate(_ESCAPES) for v in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    return "\n".join(" ".join(v.rjust(w) for v, w in zip(line, widths))
                     for line in [header, *rows])


def show_table(df: pd.DataFrame, **kwargs) -> None:
    """Display the table: HTML for pages and JupyterLab, plain text beside it (the form nbval
    compares in the cells it checks)."""
    from IPython.display import display

    plain = {k: kwargs[k] for k in ("money", "pct", "whole_dollars", "labels") if k in kwargs}
    # Each cell formatted once for both forms (the HTML's are the first max_rows of them).
    cells = _table_cells(df, kwargs.get("money", ()), kwargs.get("pct", ()),
                         kwargs.get("whole_dollars", False))
    shown = kwargs.get("max_rows")
    display({"text/html": html_table(df, **kwargs, cells=cells if shown is None else
                                     cells[:shown]),
             "text/plain": plain_table(df, **plain, cells=cells)}, raw=True)


def figure_bundle(fig) -> dict:
    """A display bundle: plotly's own mimetype for JupyterLab (JSON-safe), HTML (plotly.js not
    inlined) for the offline reports, which load plotly.js once from their assets folder. The
    ``text/plain`` part is plain text (front ends escape it themselves).

    The figure is turned into a dict once (plotly deep-copies it and encodes its arrays each
    time) and both forms are written from that dict, as plotly writes them from the figure."""
    import json

    import plotly.io as pio

    fig_dict = fig.to_dict()
    html = pio.to_html(fig_dict, validate=False, full_html=False, include_plotlyjs=False,
                       config={"displaylogo": False, "responsive": True})
    return {
        # after to_html: to_json drops the traces' uids from the dict it is given
        "application/vnd.plotly.v1+json": json.loads(pio.to_json(fig_dict, validate=False)),
        "text/html": html,
        "text/plain": f"<Figure: {fig.layout.title.text or ''}>",
    }


def show_figure(fig) -> None:
    from IPython.display import display

    display(figure_bundle(fig), raw=True)


def headline(items: Sequence[tuple[str, str]]) -> str:
    """Key figures as a small two-row table (label, value), escaped (``templates/headline.html``)."""
    return render("headline.html", items=list(items))


def notes(items: Sequence[str]) -> str:
    """Short notes as paragraphs, escaped (``templates/notes.html``): e.g. where the prior
    period's figures came from."""
    return render("notes.html", notes=list(items))
