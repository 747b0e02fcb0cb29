"""What notebooks and report pages show: money tables, key figures and page shells rendered from
the Jinja2 templates in ``templates/``, and plotly figures that work in JupyterLab and in the
offline HTML reports.

Escaping: every page is rendered by the one environment built here (:func:`environment`), with
autoescape on for ``.html`` templates, so any ``{{ value }}`` is escaped unless a template marks
it ``|safe`` (only the page bodies that nbconvert rendered from our own notebooks). Text that
came from Procore or the ERP (job, vendor and cost-code names, descriptions, flag messages) is
therefore escaped in one place, and a vendor called ``<script>`` prints as text. Jinja decides
*when* to escape; :func:`_escaped` decides *how*: the standard library's ``html.escape`` with
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


@pass_eval_context
def _escaped(eval_ctx, value):
    """The environment's finalize hook, applied to every ``{{ value }}``: ``None`` -> empty; where
    autoescape is on, anything not already markup is escaped with ``html.escape(str(value),
    quote=True)`` (see the module docstring); elsewhere the value is left to Jinja."""
    if value is None:
        return ""
    if eval_ctx.autoescape and not hasattr(value, "__html__"):
        return Markup(html.escape(str(value), quote=True))
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


def _cell(value, *, money: bool, pct: bool, whole_dollars: bool) -> dict:
    """One table cell: its text and whether it shows a negative amount (class ``neg``)."""
    if money:
        neg = value is not None and not pd.isna(value) and value < 0
        return {"text": dollars(value, whole=whole_dollars), "neg": bool(neg)}
    if pct:
        return {"text": percent(value), "neg": False}
    missing = value is None or (not isinstance(value, str) and pd.isna(value))
    return {"text": "" if missing else str(value), "neg": False}


def html_table(df: pd.DataFrame, *, money: Iterable[str] = (), pct: Iterable[str] = (),
               whole_dollars: bool = False, total_row: bool = False,
               highlight: pd.Series | None = None, labels: dict[str, str] | None = None,
               max_rows: int | None = None) -> str:
    """An HTML table (``templates/table.html``) with every cell escaped; ``money`` columns in
    cents, ``pct`` as fractions.

    ``total_row`` sums the money columns (exact integer cents) into a last row.
    ``highlight`` is a boolean Series aligned with ``df``: those rows are marked with class flag.
    """
    money = [m for m in money if m in df.columns]
    pct = [p for p in pct if p in df.columns]
    labels = labels or {}
    rows = df if max_rows is None else df.head(max_rows)
    flags = highlight.reindex(rows.index).fillna(False) if highlight is not None else None
    body = []
    for idx, rec in zip(rows.index, rows.itertuples(index=False)):
        cells = [_cell(val, money=col in money, pct=col in pct, whole_dollars=whole_dollars)
                 for col, val in zip(df.columns, rec)]
        body.append({"flag": flags is not None and bool(flags.loc[idx]), "cells": cells})
    total = None
    if total_row and len(df):
        total = [dollars(int(df[col].fillna(0).astype("int64").sum()), whole=whole_dollars)
                 if col in money else ("Total" if i == 0 else "")
                 for i, col in enumerate(df.columns)]
    hidden = len(df) - max_rows if max_rows is not None and len(df) > max_rows else 0
    return render("table.html", head=[labels.get(c, c) for c in df.columns], rows=body,
                  total=total, hidden=hidden)


def show_table(df: pd.DataFrame, **kwargs) -> None:
    from IPython.display import HTML, display

    display(HTML(html_table(df, **kwargs)))


def figure_bundle(fig) -> dict:
    """A display bundle: plotly's own mimetype for JupyterLab, HTML (plotly.js not inlined) for
    the offline reports, which load plotly.js once from their assets folder. The ``text/plain``
    part is plain text (front ends escape it themselves)."""
    return {
        "application/vnd.plotly.v1+json": fig.to_plotly_json(),
        "text/html": fig.to_html(full_html=False, include_plotlyjs=False,
                                 config={"displaylogo": False, "responsive": True}),
        "text/plain": f"<Figure: {fig.layout.title.text or ''}>",
    }


def show_figure(fig) -> None:
    from IPython.display import display

    bundle = figure_bundle(fig)
    # JSON-safe: plotly's to_plotly_json holds numpy arrays; round-trip through its encoder.
    import json

    import plotly.io as pio

    bundle["application/vnd.plotly.v1+json"] = json.loads(pio.to_json(fig, validate=False))
    display(bundle, raw=True)


def headline(items: Sequence[tuple[str, str]]) -> str:
    """Key figures as a small two-row table (label, value), escaped (``templates/headline.html``)."""
    return render("headline.html", items=list(items))
