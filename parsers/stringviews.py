"""Arrow string views in numpy: text cut out of a buffer, or read back from polars, without copying it.

An Arrow ``string_view`` array holds one 16-byte view per string: the length (int32), then the string itself
when it has at most :data:`INLINE` bytes, else its first 4 bytes, the index of the data buffer it lies in and
its offset there (int32 each). polars keeps its strings so, and takes such an array as it is. The reader cuts
a block into lines this way (:mod:`pipeline.reader`), the logfmt parser cuts keys and values, and the JSON
parser finds the block back behind its lines.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

INLINE = 12  # the longest string a view holds itself
VIEW = np.dtype("V16")


def make(data: np.ndarray, begin: np.ndarray, length: np.ndarray, buffer: int) -> np.ndarray:
    """Views (int32, one row of four per string) of ``data[begin:begin + length]``, ``data`` being data
    buffer number ``buffer``. (logfmt makes its own from padded text, faster: ``parsers.logfmt._views``.)"""
    views = np.zeros((len(begin), 4), np.int32)
    views[:, 0] = length
    raw = views.view(np.uint8)
    long = np.flatnonzero(length > INLINE)
    at = begin[long]
    views[long, 2] = buffer
    views[long, 3] = at
    for j in range(4):
        raw[long, 4 + j] = data[at + j]
    short = np.flatnonzero(length <= INLINE)
    at, size = begin[short], length[short]
    for j in range(INLINE):
        has = size > j
        raw[short[has], 4 + j] = data[at[has] + j]
    return views


def array(views: np.ndarray, buffers: list[pa.Buffer], valid: np.ndarray | None = None) -> pa.Array:
    """``views`` over ``buffers`` as an Arrow ``string_view`` array, null where ``valid`` is false (those
    views must be zero)."""
    validity = None
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.string_view(), len(views), [validity, pa.py_buffer(views), *buffers])


def read(values: pl.Series) -> tuple[np.ndarray, list[pa.Buffer]]:
    """The views of a polars string column (:data:`VIEW`, read-only; a null's view as polars left it) and
    the data buffers they point in."""
    arr = values.to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    buffers = arr.buffers()
    return np.frombuffer(buffers[1], VIEW)[arr.offset : arr.offset + len(arr)], list(buffers[2:])
