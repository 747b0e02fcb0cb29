"""Import costs set aside (``wip_lib/core/import_costs.py``, ``run.py``'s ``child_env``): the
processes skip jsonschema's RFC 3987 grammar and cache their bytecode, and notebooks are read and
validated exactly as before."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "project_dashboard.ipynb"


def _run_py():
    spec = importlib.util.spec_from_file_location("quick_start_run", ROOT / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_test_process_never_imported_the_grammar():
    # The plugin (-p in pyproject.toml's addopts) ran before nbval imported nbformat.
    assert "nbformat" in sys.modules and "jsonschema" in sys.modules
    assert sys.modules["rfc3987_syntax"] is None
    assert "lark" not in sys.modules


def test_a_notebook_validates_and_a_broken_one_is_refused_without_the_grammar():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    nb.cells[0]["cell_type"] = "not a cell type"
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError:
        pass
    else:
        raise AssertionError("an invalid notebook passed validation")


def test_the_month_end_process_sets_the_grammar_aside_before_nbformat():
    code = ("import sys, wip_lib.reports.notebooks, nbformat, papermill\n"
            f"nbformat.validate(nbformat.read({str(NOTEBOOK)!r}, as_version=4))\n"
            "print(sys.modules['rfc3987_syntax'] is None, 'lark' in sys.modules)")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert got.stdout.split() == ["True", "False"]


def test_run_py_children_cache_bytecode_and_fix_the_hash_seed():
    run = _run_py()
    env = run.child_env({"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin", "HOME": "/h"})
    assert env == {"PATH": "/usr/bin", "HOME": "/h", "PYTHONHASHSEED": "0"}
    assert run.child_env({"PYTHONHASHSEED": "7"})["PYTHONHASHSEED"] == "0"
