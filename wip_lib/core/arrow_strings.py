"""A string column's bytes as numpy sees them: work over the characters of millions of cells at
once (which bytes a column holds, what each cell starts and ends with) with no Python call per
cell and no new Arrow string array per step."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def one_array(values) -> pa.Array:
    """A column (a pandas Series or an Arrow array) as one Arrow array: its chunks joined, no copy
    of a column that is a single chunk already."""
    if isinstance(values, pa.Array):
        return values
    # pa.array() of a chunked array would convert it cell by cell through Python: seconds for a
    # million cells; an Arrow column or a pandas one is handed over whole
    arr = values if isinstance(values, pa.ChunkedArray) else pa.array(values)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def large_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A text column as Arrow large strings (64-bit offsets: what pandas' string dtype holds, and
    what arrays must share to be joined); the column itself when it already is."""
    return arr if pa.types.is_large_string(arr.type) else arr.cast(pa.large_string())


def cast_or_none(arr: pa.Array, missing: np.ndarray, to: pa.DataType) -> pa.Array | None:
    """``arr`` cast by Arrow's parser to ``to``, the ``missing`` cells null (an empty cell is
    not a number to Arrow); None when the parser refuses any other cell, and the caller reads
    the column its own way."""
    if missing.any():
        arr = pc.if_else(pa.array(missing), pa.scalar(None, arr.type), arr)
    try:
        return one_array(pc.cast(arr, to))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def offsets_and_bytes(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(off, data)`` of a string array: cell ``i`` is ``data[off[i]:off[i + 1]]`` (``off``
    int64, one longer than the array and starting at 0; ``data`` uint8, the cells' bytes back
    to back, a view of Arrow's buffer). A null cell is whatever its slot holds (usually
    nothing)."""
    n = len(arr)
    wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    off = np.frombuffer(arr.buffers()[1], dtype=np.int64 if wide else np.int32)[
        arr.offset:arr.offset + n + 1].astype(np.int64, copy=False)
    raw = arr.buffers()[2]
    data = (np.frombuffer(raw, dtype=np.uint8)[off[0]:off[-1]] if raw is not None and n
            else np.zeros(0, dtype=np.uint8))
    return (off - off[0] if off[0] else off), data


def keep_bytes(off: np.ndarray, data: np.ndarray, keep: np.ndarray
               ) -> tuple[pa.Array, np.ndarray]:
    """The cells of :func:`offsets_and_bytes` ``(off, data)`` with only the bytes ``keep``
    marks, as a large string array (no nulls), and how many bytes each cell kept."""
    # A segmented sum over the bytes, with one byte more so that an empty last cell still has
    # a segment; an empty cell's segment would borrow the next cell's first byte: 0 for those.
    count = np.add.reduceat(np.append(keep, False), off[:-1], dtype=np.int64)
    count[np.diff(off) == 0] = 0
    new_off = np.concatenate(([0], np.cumsum(count)))
    kept = pa.Array.from_buffers(pa.large_string(), len(count), [
        None, pa.py_buffer(new_off), pa.py_buffer(data[keep].tobytes())])
    return kept, count


def sizes_and_edges(arr: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """Each cell's length in bytes, and which cells may start or end with whitespace: their
    first or last byte is an ASCII control character or space (whitespace among them) or not
    ASCII (where Unicode's other spaces, such as the no-break space, begin and end). None for
    the second when no cell can (most exports' columns): trimming them changes nothing, and a
    cell is blank exactly when it is empty."""
    off, data = offsets_and_bytes(arr)
    size = np.diff(off)
    if not len(data) or (data.min() > 32 and data.max() < 128):
        return size, None  # no space, control character or non-ASCII byte in any cell
    # an empty cell reads a neighbour's byte here; ``size > 0`` below sets it aside
    first = data[np.minimum(off[:-1], len(data) - 1)]
    last = data[np.maximum(off[1:] - 1, 0)]
    edge = ((first <= 32) | (first >= 128) | (last <= 32) | (last >= 128)) & (size > 0)
    return size, (edge if edge.any() else None)


def combination_codes(columns: list[pa.Array]) -> np.ndarray:
    """Each row's combination of the values of ``columns`` (equal-length arrays) as a number:
    rows with the same values in every column have the same number, numbered from 0 by first
    appearance, none skipped (a null is a value like any other).

    Each column is dictionary-encoded by Arrow and the codes are combined as the digits of one
    number, numbered densely by Arrow's hashing at the end (and sooner, should the digits come
    near int64's range): a pandas group-by over several text columns costs several times as
    much."""
    group, size = None, 1
    for col in columns:
        dictionary, codes = dictionary_codes(col)
        base = len(dictionary) + 1  # a slot for null
        if group is None:
            group, size = codes, base
            continue
        if size * base >= 1 << 62:
            group, size = _dense(group)
        group, size = group * base + codes, size * base
    if group is None:
        return np.zeros(0, dtype=np.int64)
    # One column's codes are numbered by first appearance already, but for the slot of a null.
    return group if len(columns) == 1 and not columns[0].null_count else _dense(group)[0]


def _dense(values: np.ndarray) -> tuple[np.ndarray, int]:
    """``values`` numbered from 0 by first appearance (Arrow's hashing), and how many there
    are."""
    enc = pc.dictionary_encode(pa.array(values))
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(enc.dictionary)


def dictionary_codes(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """``arr``'s distinct values (Arrow's dictionary encoding: by first appearance) and each
    cell's position among them, ``len(dictionary)`` for a null. A column of many chunks (a
    large export, parsed block by block) is encoded as it stands, not copied into one array."""
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):  # one dictionary for every chunk: the last has all
        if enc.num_chunks == 0:
            return pa.array([], type=arr.type), np.zeros(0, dtype=np.int64)
        dictionary = enc.chunk(enc.num_chunks - 1).dictionary
        indices = pa.chunked_array([c.indices for c in enc.chunks])
    else:
        dictionary, indices = enc.dictionary, enc.indices
    codes = pc.fill_null(indices, len(dictionary)).to_numpy(zero_copy_only=False)
    return dictionary, codes.astype(np.int64, copy=False)


def chunks(arr: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    """The arrays a column is held in: itself, or its chunks."""
    return list(arr.chunks) if isinstance(arr, pa.ChunkedArray) else [arr]
