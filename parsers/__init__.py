"""Parsers: one module per input format (pure functions from raw lines to canonical Arrow tables).

The registry of names lives in :mod:`parsers.registry`; the contract in :mod:`parsers.base`.
"""

from parsers import _runtime  # noqa: F401  (allocator settings, before polars loads)
