"""wip_lib: percent-complete revenue recognition, cost to complete, Procore-to-ERP reconciliation,
the WIP journal entry and period close, as pure functions over the canonical tables of
:mod:`wip_lib.core.schema`. I/O lives at the edges (:mod:`wip_lib.sources.readers`, :mod:`wip_lib.cli.main`)."""

__version__ = "0.1.0"
