"""Import costs our processes need not pay, set aside before the imports that would pay them.

jsonschema, which nbformat imports (so Papermill, nbconvert and nbval do), compiles a Lark
grammar of RFC 3987 at import for its "iri" string format whenever rfc3987-syntax is installed
(jupyter-events pulls it in with JupyterLab): 1.2-1.8 s of CPU in every process that touches a
notebook, for a format no notebook schema uses (nbformat validates with Draft 4, which has no
"iri", and passes no format checker). Marked absent before jsonschema loads, the package is not
imported and jsonschema leaves "iri" unchecked, as it does wherever rfc3987-syntax is not
installed.

Imported by :mod:`wip_lib.reports.notebooks` (the month-end, the explorer's batch) and, as a
pytest plugin (``-p wip_lib.core.import_costs`` in pyproject.toml's addopts), by every test
process before nbval's plugin imports nbformat (a conftest is loaded too late for that).
"""
from __future__ import annotations

import sys

if "jsonschema" not in sys.modules:  # too late once jsonschema is loaded: leave it as it is
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
