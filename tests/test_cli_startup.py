"""``wip --help`` starts in a fraction of a second: building the command line imports no data,
notebook or plotting library (each command imports what it uses when it runs)."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "numpy", "pyarrow", "duckdb", "openpyxl", "plotly", "papermill", "nbconvert",
         "nbformat", "nbclient", "jupyter_client", "IPython", "jinja2", "distributed", "dask",
         "yaml", "requests")

PROBE = f"""
import json, sys
from wip_lib.cli.main import build_parser
build_parser()
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""


def test_building_the_command_line_imports_no_heavy_library():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_help_lists_every_command():
    done = subprocess.run([sys.executable, "-m", "wip_lib.cli.main", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for command in ("validate", "month-end", "schedule", "forecast", "reconcile", "excel",
                    "close", "reopen", "pull-procore", "sample", "schema"):
        assert command in done.stdout
