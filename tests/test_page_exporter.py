"""The report pages' exporter (``reports.notebooks._exporter``) skips nbconvert's closing pass
through BeautifulSoup and makes its two additions on the text: the page must be what
nbconvert's own ``HTMLExporter`` gives, as an HTML parser reads both (same elements, attributes
and text), on the committed notebooks' saved outputs."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from traitlets.config import Config

from wip_lib.reports import notebooks as nbs

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _nbconvert_exporter() -> HTMLExporter:
    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = {nbs.HIDE_ON_PAGE}
    config.TagRemovePreprocessor.enabled = True
    return HTMLExporter(config=config, template_name="basic", exclude_input=True,
                        exclude_input_prompt=True, exclude_output_prompt=True,
                        exclude_anchor_links=True)


@pytest.mark.parametrize("name", ["project_dashboard", "portfolio_dashboard", "reconciliation"])
def test_page_exporter_equals_nbconvert_as_parsed(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert any(c.get("outputs") for c in nb.cells), "the committed notebook keeps its outputs"
    theirs, _ = _nbconvert_exporter().from_notebook_node(nb)
    ours = nbs._export_body(nb)
    assert str(BeautifulSoup(ours, "html.parser")) == theirs


def test_alt_text_as_nbconvert_adds_it():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        '<img src="x.png"> and <img alt="kept" src="y.png"> and '
        '<div class="jp-OutputArea-output x">out</div>')])
    theirs, _ = _nbconvert_exporter().from_notebook_node(nb)
    ours = nbs._export_body(nb)
    assert str(BeautifulSoup(ours, "html.parser")) == theirs
    assert ours.count(nbs.NO_ALT) == 1 and 'alt="kept"' in ours
    assert "tabindex" not in ours  # the basic template has no .jp-Notebook to make focusable


def test_the_page_view_leaves_the_notebook_and_keeps_what_a_page_shows():
    """The exporter is given each output cut to the forms a page can show; the committed
    dashboard's charts carry plotly's JSON beside their HTML, and the notebook itself keeps it."""
    nb = nbformat.read(NOTEBOOKS / "project_dashboard.ipynb", as_version=4)
    before = nbformat.writes(nb)
    shown = nbs._shown(nbs._exporter())
    view = nbs._page_view(nb, shown)
    assert nbformat.writes(nb) == before
    forms = [set(o["data"]) for c in view.cells for o in c.get("outputs", []) if "data" in o]
    kept = [set(o["data"]) & set(shown) for c in nb.cells for o in c.get("outputs", [])
            if "data" in o]
    assert forms == kept
    assert any("application/vnd.plotly.v1+json" in o.get("data", {})
               for c in nb.cells for o in c.get("outputs", []))
    assert "text/html" in shown and "application/vnd.plotly.v1+json" not in shown


@pytest.mark.parametrize("plotly_src", [nbs.INLINE_PLOTLY, "assets/plotly.min.js", None])
@pytest.mark.parametrize("chart", [True, False])
def test_a_page_written_is_the_page_as_text(tmp_path, plotly_src, chart):
    """``write_page`` (plotly.js encoded once per process) writes the bytes of ``page``."""
    body = ('<div>Plotly.newPlot("x", [])</div>' if chart else "<p>no chart</p>") + \
        "<p>caf\u00e9 \ue000plotly.js\ue000</p>"  # the mark in a page's own text stays text
    out = tmp_path / "p.html"
    args = dict(plotly_src=plotly_src, subtitle="Month-end 2026-10", back_link="../index.html")
    nbs.write_page(out, "Job <00104>", body, **args)
    text = nbs.page("Job <00104>", body, **args)
    assert out.read_bytes() == text.encode("utf-8")
    inline = plotly_src == nbs.INLINE_PLOTLY and chart
    assert (nbs.plotly_js() in text) is inline
    assert text.count("\ue000plotly.js\ue000") == 1 and "Job &lt;00104&gt;" in text
