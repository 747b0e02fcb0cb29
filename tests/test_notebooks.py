"""Every notebook runs under Papermill with its default parameters (the sample company) and with
a parameter changed, and shows the schedule's own figures. (nbval re-runs them as committed.)"""
from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest
from conftest import CELL_TIMEOUT, KERNEL_MANAGER

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _text(nb) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.outputs if o.get("output_type") == "stream")


def _run(tmp_path, name: str, **params):
    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters=params,
                        kernel_name="python3", progress_bar=False, cwd=str(NOTEBOOKS),
                        execution_timeout=CELL_TIMEOUT,
                        kernel_manager_class=KERNEL_MANAGER)
    return nbformat.read(out, as_version=4)


def test_parameters_cells_hold_literals_only():
    import ast

    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(cells) == 1, path.name
        for node in ast.parse(cells[0].source).body:
            assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), \
                (path.name, ast.dump(node))
        assert "widgets" not in nb.metadata, f"{path.name}: clear widget state before committing"


@pytest.mark.parametrize("job, expected", [
    ("00104", "gross profit to date (748,155.86)"),   # the planted loss job: TP - EAC
    ("00205", "underbillings 3,517,409.39"),          # the planted underbilled job
])
def test_project_dashboard(tmp_path, job, expected):
    nb = _run(tmp_path, "project_dashboard", job_id=job)
    assert expected in _text(nb)


def test_portfolio_dashboard(tmp_path):
    text = _text(_run(tmp_path, "portfolio_dashboard"))
    assert "jobs in progress 25, completed this year 5" in text


def test_reconciliation_notebook(tmp_path):
    text = _text(_run(tmp_path, "reconciliation"))
    assert "prime_change_orders" in text and "unexplained total: $0.00" in text


def test_explorer_reproduces_the_schedule(tmp_path):
    text = _text(_run(tmp_path, "job_explorer", job_id="00216"))
    # The overbilled job: unadjusted, the explorer shows the schedule's own over billing.
    assert "over(under) billed 214,542.40" in text
