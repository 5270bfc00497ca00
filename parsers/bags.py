"""Attribute bags (``map<string, string>``, or lists of ``{key, value}`` structs) joined row by row."""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from parsers import schema


def as_lists(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A map (or list of key/value structs) column as a list of ``{key, value}`` structs."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], type=arr.type)
    if pa.types.is_map(arr.type):
        entries = pa.StructArray.from_arrays([arr.keys, arr.items], names=["key", "value"])
        return pa.ListArray.from_arrays(arr.offsets, entries, mask=arr.is_null() if arr.null_count else None)
    return arr


def merge(
    first: pa.Array | pa.ChunkedArray, second: pa.Array | pa.ChunkedArray, target: pa.DataType
) -> pa.Array:
    """Row by row, the pairs of ``first`` then those of ``second`` whose key ``first`` does not have; as
    ``target`` (the attribute type of a canonical schema)."""
    kv = schema.KV
    a = pl.Series("a", as_lists(first)).cast(kv)
    b = pl.Series("b", as_lists(second)).cast(kv)
    merged = pl.select(
        pl.concat_list(pl.lit(a).fill_null([]), pl.lit(b).fill_null([])).list.eval(
            pl.element().filter(pl.element().struct.field("key").is_first_distinct())
        )
    ).to_series()
    table = schema.conform(pa.table({"a": merged.to_arrow()}), pa.schema([("a", target)]))
    return table.column(0).combine_chunks()
