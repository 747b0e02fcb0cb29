"""What a table carries in ``DataFrame.attrs``: read-only mappings, shared, never copied.

The readers keep facts about a table's file beside it (``labels``: the headers the file used,
for messages that name them; ``time_zones``: each project's zone). pandas deep-copies ``attrs``
into every frame an operation derives from one (``NDFrame.__finalize__``): a period's
computation did that 4,622 times on the sample, a tenth of a second copying the same few
headers. A :class:`Frozen` mapping is handed on as it is, and cannot be changed through any of
the frames that share it.
"""
from __future__ import annotations

from typing import Mapping


class Frozen(dict):
    """A dict that cannot be changed, and that a deep copy shares instead of copying (a dict
    still: ``json.dumps``, which pandas uses to keep ``attrs`` in a parquet file, takes it)."""

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("a table's attrs are read-only: build a new mapping instead")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __deepcopy__(self, memo) -> "Frozen":
        return self

    def __copy__(self) -> "Frozen":
        return self

    def __reduce__(self):
        return (type(self), (dict(self),))


def frozen(mapping: Mapping) -> Frozen:
    """``mapping`` as a :class:`Frozen` (itself when it already is one)."""
    return mapping if isinstance(mapping, Frozen) else Frozen(mapping)
