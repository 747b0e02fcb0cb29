"""Hypothesis: no per-example deadline. CI machines are shared; a slow example is not a wrong
one, and the properties are what the tests assert."""
from hypothesis import settings

settings.register_profile("wip", deadline=None)
settings.load_profile("wip")


import os
import shutil
from pathlib import Path

import pytest


def require_tool(name: str, why: str) -> str:
    """The path of a system tool a test needs. Missing: a failure under CI (``CI=true``, where
    ``.ci/run`` installs it, so a missing tool is a broken set-up, never a skipped check), a skip
    with the reason on a developer's machine."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed ({why}); .ci/run installs it from Debian's packages"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"


@pytest.fixture(scope="session")
def sample_company():
    """The sample company as ``load_company`` reads it, once per test process, for tests that
    only read it (a read costs about a second of CPU; a dozen modules need the same company).
    A test that changes a company, or counts what a fresh one computes, reads its own."""
    from wip_lib.sources.readers import load_company

    return load_company(SAMPLE_DIR)


@pytest.fixture(scope="session")
def sample_period(sample_company):
    """``compute_period`` of the sample company's 2026-10, once per test process (read only)."""
    from wip_lib.close.period import compute_period

    return compute_period(sample_company, "2026-10")


@pytest.fixture(scope="session")
def sample_bundle_dir(sample_period, tmp_path_factory):
    """The sample company's 2026-10 period saved as the month-end saves it
    (``reports/PERIOD/data``), for tests that execute the notebooks."""
    from wip_lib.close import bundle

    return bundle.save(bundle.from_result(sample_period), tmp_path_factory.mktemp("bundle"))


#: Test modules that run the month-end, LibreOffice, Chromium, a Dask cluster, the benchmark
#: command or every ERP profile: marked ``slow`` so that ``pytest -m "not slow"`` gives a quick
#: loop while working (the README's test command runs them all).
SLOW_MODULES = frozenset({
    "test_benchmarks", "test_billing_outputs", "test_close", "test_cluster",
    "test_erp_metamorphic", "test_month_end", "test_one_period", "test_pages",
    "test_warm_kernels", "test_workbook_policies", "test_workbook_print",
})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _slow(item):
            item.add_marker(pytest.mark.slow)
    # The long modules first: pytest-xdist hands out whole files (--dist loadfile) in this order
    # as workers free up, so the short ones fill in at the end instead of a worker idling while
    # the other runs a month-end alone. Stable: each file's tests keep their order.
    items.sort(key=lambda item: not (_slow(item) or item.path.suffix == ".ipynb"))


def _slow(item) -> bool:
    module = getattr(item, "module", None)
    return module is not None and module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES


#: Seconds a notebook cell may run in a test that executes a notebook with Papermill: a kernel
#: that really hangs fails the test instead of hanging the suite.
CELL_TIMEOUT = 600

# The kernel manager those tests give Papermill, as the month-end does: its client polls in
# slices, so a reply whose wake-up the event loop missed is read within a second instead of at
# the cell timeout (wip_lib/reports/kernel_client.py: seen twice, client and kernel both idle).
from wip_lib.reports.kernel_client import KERNEL_MANAGER  # noqa: E402,F401
