"""Memory-allocator settings for a batch parse, applied before polars, pyarrow and numpy load.

Parsing a chunk allocates and frees several times its size in short-lived buffers. By default every
allocator in the process hands that memory back to the kernel at once, so the next chunk takes it back one
zeroed 4 KiB page at a time: on a 2-core machine a quarter of the CPU time went to page faults. These
settings keep freed memory for reuse for a while instead (peak memory is unchanged: it is the same memory,
reused). Each one is only a default: a value already in the environment wins.

- polars' jemalloc: ``_RJEM_MALLOC_CONF`` decay times;
- pyarrow's mimalloc: ``MIMALLOC_PURGE_DELAY``;
- numpy's OpenBLAS: one thread (its idle threads spin, and tracejoin does no linear algebra);
- glibc malloc (Python's objects, numpy's arrays): trim, top-pad and mmap thresholds and one arena through
  ``mallopt`` (with a pool per worker thread, numpy's large scratch arrays went back to the kernel after
  every chunk; polars and pyarrow have allocators of their own).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_ENV = {
    "_RJEM_MALLOC_CONF": "dirty_decay_ms:30000,muzzy_decay_ms:30000",
    "MIMALLOC_PURGE_DELAY": "30000",
    "OPENBLAS_NUM_THREADS": "1",
}
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -2, -3, -8  # glibc's mallopt parameters
_KEEP_BYTES = 1 << 30
_MMAP_BYTES = 32 << 20  # glibc's largest; a fixed trim threshold would otherwise leave it at 128 KiB


def configure() -> None:
    """Apply the settings; the environment ones only take effect if the libraries are not loaded yet."""
    for key, value in _ENV.items():
        os.environ.setdefault(key, value)
    if not sys.platform.startswith("linux") or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return
    if mallopt is not None:
        mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES)
        mallopt(_M_TOP_PAD, 256 << 20)
        mallopt(_M_MMAP_THRESHOLD, _MMAP_BYTES)
        if "MALLOC_ARENA_MAX" not in os.environ:
            mallopt(_M_ARENA_MAX, 1)


configure()
