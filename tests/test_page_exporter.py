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
