"""What notebooks show: money tables as escaped HTML, and plotly figures that work in JupyterLab
and in the offline HTML reports.

Text that came from Procore or the ERP (job, vendor and cost-code names, descriptions) is escaped
here and nowhere else, so a vendor called ``<script>`` prints as text. Money arrives as int64 cents
and is shown in dollars with thousands separators, negatives in parentheses as accountants read them.
"""
from __future__ import annotations

import html
from typing import Iterable, Sequence

import pandas as pd


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


def html_table(df: pd.DataFrame, *, money: Iterable[str] = (), pct: Iterable[str] = (),
               whole_dollars: bool = False, total_row: bool = False,
               highlight: pd.Series | None = None, labels: dict[str, str] | None = None,
               max_rows: int | None = None) -> str:
    """An HTML table with every cell escaped; ``money`` columns in cents, ``pct`` as fractions.

    ``total_row`` sums the money columns (exact integer cents) into a last row.
    ``highlight`` is a boolean Series aligned with ``df``: those rows are marked with class flag.
    """
    money = [m for m in money if m in df.columns]
    pct = [p for p in pct if p in df.columns]
    labels = labels or {}
    rows = df if max_rows is None else df.head(max_rows)
    head = "".join(f"<th>{html.escape(str(labels.get(c, c)))}</th>" for c in df.columns)
    body: list[str] = []
    flags = highlight.reindex(rows.index).fillna(False) if highlight is not None else None
    for idx, rec in zip(rows.index, rows.itertuples(index=False)):
        cells = []
        for col, val in zip(df.columns, rec):
            if col in money:
                text = dollars(val, whole=whole_dollars)
                cls = ' class="neg"' if (val is not None and not pd.isna(val) and val < 0) else ""
                cells.append(f"<td{cls}>{text}</td>")
            elif col in pct:
                cells.append(f"<td>{percent(val)}</td>")
            else:
                cells.append(f"<td>{html.escape('' if val is None or (not isinstance(val, str) and pd.isna(val)) else str(val))}</td>")
        cls = ' class="flag"' if flags is not None and bool(flags.loc[idx]) else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    if total_row and len(df):
        cells = []
        for i, col in enumerate(df.columns):
            if col in money:
                cells.append(f"<td>{dollars(int(df[col].fillna(0).astype('int64').sum()), whole=whole_dollars)}</td>")
            else:
                cells.append("<td>Total</td>" if i == 0 else "<td></td>")
        body.append(f'<tr class="total">{"".join(cells)}</tr>')
    more = ""
    if max_rows is not None and len(df) > max_rows:
        more = f"<p>{len(df) - max_rows} more rows not shown.</p>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def show_table(df: pd.DataFrame, **kwargs) -> None:
    from IPython.display import HTML, display

    display(HTML(html_table(df, **kwargs)))


def figure_bundle(fig) -> dict:
    """A display bundle: plotly's own mimetype for JupyterLab, HTML (plotly.js not inlined) for
    the offline reports, which load plotly.js once from their assets folder."""
    return {
        "application/vnd.plotly.v1+json": fig.to_plotly_json(),
        "text/html": fig.to_html(full_html=False, include_plotlyjs=False,
                                 config={"displaylogo": False, "responsive": True}),
        "text/plain": f"<Figure: {html.escape(str(fig.layout.title.text or ''))}>",
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
    """Key figures as a small two-row table (label, value), escaped."""
    head = "".join(f"<th>{html.escape(k)}</th>" for k, _ in items)
    vals = "".join(f"<td>{html.escape(v)}</td>" for _, v in items)
    return f"<table><thead><tr>{head}</tr></thead><tbody><tr>{vals}</tr></tbody></table>"
