"""Frames derived from a company, worked out once per period computation.

A period's computation asks for the same derived frame from several of its rules (the ERP cost
history through the period: the schedule's inputs, the cost to complete and the period's own
figures each ask for it; at 2,000 jobs each asking grouped five million job-cost lines). Within
:func:`scope`, which :func:`wip_lib.close.period.compute_period` enters, :func:`once` keeps the
first frame built for a key and hands out shallow copies of it: under copy-on-write a caller's
edits never reach the kept frame. Outside a scope nothing is kept, so a company whose tables
change between two calls (a test, a notebook) always gets a fresh frame.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Callable, Iterator

import pandas as pd

_KEPT: contextvars.ContextVar[dict | None] = contextvars.ContextVar("wip_derived", default=None)


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """Keep derived frames until the block ends (a scope inside a scope shares the outer one)."""
    if _KEPT.get() is not None:
        yield
        return
    token = _KEPT.set({})
    try:
        yield
    finally:
        _KEPT.reset(token)


def once(company: object, key: tuple, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``build()`` for ``company`` and ``key``, built once within a :func:`scope` (a shallow
    copy each time), every time outside one. The company is kept with the frame, so its id
    cannot be taken by another company while the scope lasts."""
    kept = _KEPT.get()
    if kept is None:
        return build()
    k = (id(company), *key)
    if k not in kept:
        kept[k] = (company, build())
    return kept[k][1].copy(deep=False)
