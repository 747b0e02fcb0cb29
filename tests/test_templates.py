"""Every report template, and the money table built without one, escapes every text field.

Each template in ``wip_lib/reports/templates`` (and :func:`~wip_lib.reports.html.html_table`,
keyed ``html_table``) is rendered through the function that uses it, with
an attack payload (a script element; an attribute break-out followed by an ``img`` with an
``onerror`` handler) in every text field, each field's payload tagged with the field's name. The
page must then hold each tagged payload only in its escaped form (``html.escape``), and parsing the
page must find no element or attribute the payload would have created. A template added without a
case here fails :func:`test_every_template_has_a_case`.
"""
from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import wip_lib.reports
from wip_lib.close.bundle import Bundle
from wip_lib.reports.html import headline, html_table, notes
from wip_lib.reports.index_page import write_index
from wip_lib.reports.notebooks import page

TEMPLATES = Path(wip_lib.reports.__file__).parent / "templates"
PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
            "' onmouseover='alert(1)"]
ELEMENTS = {"html", "head", "meta", "title", "script", "style", "body", "header", "h1", "h2",
            "p", "a", "main", "table", "thead", "tbody", "tr", "th", "td", "div"}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def _table(tmp_path: Path, evil) -> str:
    df = pd.DataFrame({"vendor": [evil("vendor"), evil("vendor2")],
                       "description": [evil("description"), "plain"],
                       "amount": pd.array([-1_234_56, 500], dtype="int64"),
                       "pct": [0.25, None]})
    return html_table(df, money=["amount"], pct=["pct"], total_row=True,
                      highlight=pd.Series([True, False]), max_rows=1,
                      labels={"vendor": evil("label"), "amount": "Amount"})


def _headline(tmp_path: Path, evil) -> str:
    return headline([(evil("label"), evil("value")), ("Flags", evil("flags"))])


def _notes(tmp_path: Path, evil) -> str:
    return notes([evil("note"), "plain"])


def _package(tmp_path: Path, evil) -> str:
    from wip_lib.reports.package import render_package

    jobs = pd.DataFrame({"job_id": ["00001"], "job_name": [evil("job_name")],
                         "project_manager": [evil("pm")], "backlog": [100_00]})
    table = html_table(jobs, money=["backlog"], total_row=True)
    parts = {k: table for k in ("headline", "estimate", "billing", "completed", "over_under",
                                "journal", "ctc", "findings")}
    parts.update(over_under_net="$1.00", unexplained="$0.00", findings_count=1, overrides=0,
                 policies=[(evil("note"), "yes")], notes=[evil("note")],
                 sources=[("Contract", evil("note"))])
    return render_package(evil("company"), evil("period"), parts)


def _explorer(tmp_path: Path, evil) -> str:
    from wip_lib.reports.explorer import before_after

    row = pd.Series({"job_name": evil("job_name"), "est_cost_to_complete": 100, "est_total_cost": 200,
                     "est_gross_profit": -5, "est_gp_pct": 0.1, "pct_complete": 0.5,
                     "earned_revenue": 10, "gross_profit_to_date": 1, "loss_provision": 0,
                     "overbillings": 0, "underbillings": 3})
    return before_after(evil("job_id"), evil("job_name"), row, row)


def _busy(tmp_path: Path, evil) -> str:
    from wip_lib.reports.html import render

    return render("busy.html", period=evil("period")) + render("busy.html", period=evil("period2"),
                                                               seconds=1.25)


def _explorer_errors(tmp_path: Path, evil) -> str:
    from wip_lib.reports.html import render

    return render("explorer_errors.html", errors=[evil("error"), evil("error2")])


def _page(tmp_path: Path, evil) -> str:
    return page(evil("title"), "<p>trusted body</p>", plotly_src=evil("plotly_src"),
                subtitle=evil("subtitle"), back_link=evil("back_link"))


def _index(tmp_path: Path, evil) -> str:
    s = pd.DataFrame({"job_id": [evil("job_id"), evil("job_id2"), "00003"],
                      "job_name": [evil("job_name"), "B", "C"],
                      "status": [evil("status"), "open", "open"],
                      "contract_revised": [100_000_00, 50_000_00, 1],
                      "pct_complete": [0.5, 0.25, 0.0], "est_gp_pct": [0.1, -0.2, 0.0],
                      "underbillings": [0, 1_00, 0], "overbillings": [500_00, 0, 0],
                      "loss_provision": [0, 10_00, 0], "flag": [evil("flag"), "", ""]})
    (tmp_path / "portfolio.html").write_text(
        page("portfolio", "<p>portfolio body</p>", plotly_src=None), encoding="utf-8")
    results = {evil("job_id"): {"ok": True, "error": None},
               evil("job_id2"): {"ok": False, "error": evil("error")}}
    b = Bundle(evil("company"), evil("period"), "as of", {"schedule": s})
    return write_index(b, tmp_path, results).read_text(encoding="utf-8")


def _g702(tmp_path: Path, evil) -> str:
    from types import SimpleNamespace

    from wip_lib.accounting.progress_billing import G702_LINES, Draft
    from wip_lib.reports.billing import drafts_html

    lines = pd.DataFrame({"item_number": [evil("item")], "description": [evil("description")],
                          "cost_code": ["01-310"], "scheduled_value": [100_00],
                          "from_previous_application": [0], "this_period": [50_00],
                          "materials_stored": [0], "total_completed_to_date": [50_00],
                          "pct": [0.5], "balance_to_finish": [50_00], "retainage": [5_00]})
    d = Draft(evil("job_id"), evil("contract"), 2, evil("invoice"), "2026-10",
              pd.Timestamp("2026-10-31"), "procore", evil("source"), 100_000, lines,
              {k: 1_00 for k in G702_LINES}, 1)
    billing = SimpleNamespace(company_name=evil("company"), period="2026-10",
                              owners={(d.job_id, d.contract): evil("owner")},
                              job_names={d.job_id: evil("job_name")})
    return drafts_html([d], billing, evil("title"))


CASES = {"html_table": _table, "headline.html": _headline, "page.html": _page,
         "index.html": _index, "notes.html": _notes, "package.html": _package,
         "explorer.html": _explorer, "busy.html": _busy,
         "explorer_errors.html": _explorer_errors, "g702_g703.html": _g702}
FIELDS = {"html_table": ["vendor", "vendor2", "description", "label"],
          "headline.html": ["label", "value", "flags"],
          "notes.html": ["note"],
          "explorer.html": ["job_id", "job_name"],
          "busy.html": ["period", "period2"],
          "explorer_errors.html": ["error", "error2"],
          "package.html": ["company", "period", "job_name", "pm", "note"],
          "page.html": ["title", "plotly_src", "subtitle", "back_link"],
          "index.html": ["job_id", "job_id2", "job_name", "status", "flag", "error", "company",
                         "period"],
          "g702_g703.html": ["item", "description", "job_id", "contract", "invoice", "source",
                             "company", "owner", "job_name", "title"]}


#: Pages' HTML built in Python rather than from a template: cased here all the same.
BUILT = {"html_table"}


def test_every_template_has_a_case():
    assert {p.name for p in TEMPLATES.glob("*.html")} | BUILT == set(CASES) == set(FIELDS)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("template", sorted(CASES))
def test_every_text_field_is_escaped(template, payload, tmp_path):
    def evil(field: str) -> str:
        return f"{payload}[{field}]"

    text = CASES[template](tmp_path, evil)
    for field in FIELDS[template]:
        # vendor2 is past max_rows: it must not appear at all (counted by the "more rows" line).
        if field == "vendor2":
            assert evil(field) not in text and html.escape(evil(field)) not in text
            continue
        assert evil(field) not in text, field
        assert html.escape(evil(field), quote=True) in text, field
    parser = _Elements()
    parser.feed(text)
    tags = {t for t, _ in parser.found}
    assert tags <= ELEMENTS, tags - ELEMENTS
    for tag, attrs in parser.found:
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        if tag == "script":
            assert set(attrs) == {"src"}, attrs  # only the report's own plotly.js


def test_trusted_bodies_pass_through(tmp_path):
    """The two ``|safe`` places: a notebook page's body and, in the index, the portfolio's."""
    assert "<main><p>trusted body</p></main>" in _page(tmp_path, lambda f: f)
    text = _index(tmp_path, lambda f: f)
    assert text.count("<p>portfolio body</p>") == 1
    assert text.count("<main>") == 1 and "<!DOCTYPE html>" not in text.split("<main>")[1]


def test_index_rows_links_and_states(tmp_path):
    """One row per job: linked only when its dashboard rendered; the state says ok, FAILED with
    the error, or not run; the row of a job with a loss provision is marked flag."""
    text = _index(tmp_path, lambda f: f"J-{f}")
    assert '<a href="projects/J-job_id.html">J-job_id</a>' in text
    assert '<td>J-job_id2</td>' in text and "projects/J-job_id2.html" not in text
    assert "<td>ok</td>" in text and "<td>FAILED: J-error</td>" in text
    assert "<td>not run</td>" in text
    assert text.count('<tr class="flag">') == 1  # job 2 carries the only loss provision
    # Whole dollars: 100,000.00 -> 100,000; 500.00 -> 500; percent to one decimal.
    assert "<td>100,000</td><td>50.0%</td><td>10.0%</td><td>0</td><td>500</td>" in text
