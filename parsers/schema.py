"""The canonical Arrow schemas of DESIGN §3 and the helper that makes a parser's frame conform to them.

Parsers build polars frames (attribute bags as ``list[struct{key, value}]``) and call :func:`conform`, which
casts every column to the contract type, turns key/value lists into ``map<string, string>`` and adds missing
columns as nulls, so every parser emits exactly the same schema.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
STR = pa.string()
MAP = pa.map_(pa.string(), pa.string())

LOGS = pa.schema(
    [
        ("ts", TS),
        ("service", STR),
        ("host", STR),
        ("level", STR),  # upper case: TRACE DEBUG INFO WARN ERROR FATAL
        ("logger", STR),
        ("message", STR),  # the whole record, stack trace lines included
        ("trace_id", STR),
        ("span_id", STR),
        ("attributes", MAP),
        ("format", STR),
        ("source_file", STR),
        ("source_line", pa.int64()),
    ]
)

SLOW_QUERIES = pa.schema(
    [
        ("ts", TS),  # statement start
        ("end_ts", TS),
        ("duration_ms", pa.float64()),
        ("lock_ms", pa.float64()),
        ("rows_sent", pa.int64()),
        ("rows_examined", pa.int64()),
        ("engine", STR),  # mysql | postgresql
        ("db", STR),
        ("db_user", STR),
        ("client_host", STR),
        ("server", STR),
        ("statement", STR),
        ("fingerprint", STR),
        ("fingerprint_id", STR),
        ("trace_id", STR),
        ("span_id", STR),
        ("comment_tags", MAP),
        ("attributes", MAP),  # engine-specific extras (Thread_id, Errno, Percona fields, ...)
        ("format", STR),
        ("source_file", STR),
        ("source_line", pa.int64()),
    ]
)

EVENT = pa.struct([("ts", TS), ("name", STR), ("attributes", MAP)])
LINK = pa.struct([("trace_id", STR), ("span_id", STR), ("attributes", MAP)])

SPANS = pa.schema(
    [
        ("trace_id", STR),
        ("span_id", STR),
        ("parent_span_id", STR),
        ("service", STR),
        ("name", STR),
        ("kind", STR),  # SERVER CLIENT INTERNAL PRODUCER CONSUMER UNSPECIFIED
        ("start_ts", TS),
        ("end_ts", TS),
        ("duration_ms", pa.float64()),
        ("self_ms", pa.float64()),  # filled by correlation; parsers leave it null
        ("status", STR),  # OK ERROR UNSET
        ("status_message", STR),
        ("http_status", pa.int64()),
        ("db_system", STR),
        ("db_statement", STR),
        ("db_fingerprint", STR),  # fingerprint of db_statement, same function as slow_queries
        ("attributes", MAP),
        ("resource_attributes", MAP),
        ("events", pa.list_(EVENT)),
        ("links", pa.list_(LINK)),
        ("format", STR),
        ("source_file", STR),
        ("source_line", pa.int64()),
    ]
)

REJECTS = pa.schema(
    [
        ("source_file", STR),
        ("source_line", pa.int64()),
        ("format", STR),
        ("reason", STR),
        ("raw", STR),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "logs": LOGS,
    "slow_queries": SLOW_QUERIES,
    "spans": SPANS,
    "rejects": REJECTS,
}

KV = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))


def _to_map(arr: pa.ChunkedArray | pa.Array, target: pa.DataType) -> pa.Array:
    """list<struct<key, value>> -> map<string, string> (pyarrow cannot cast this directly)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], type=arr.type)
    if pa.types.is_map(arr.type):
        return arr.cast(target)
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), type=target)
    if pa.types.is_large_list(arr.type):
        arr = arr.cast(pa.list_(arr.type.value_type))
    entries = arr.flatten()
    keys = entries.field("key").cast(pa.string())
    values = entries.field("value").cast(pa.string())
    offsets = arr.offsets
    if arr.null_count:
        mask = arr.is_null()
        return pa.MapArray.from_arrays(offsets, keys, values, mask=mask).cast(target)
    return pa.MapArray.from_arrays(offsets, keys, values).cast(target)


def _conform_array(arr: pa.ChunkedArray, target: pa.DataType) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_map(target):
        return _to_map(arr, target)
    if pa.types.is_list(target) and pa.types.is_struct(target.value_type):
        return _conform_list_of_struct(arr, target)
    return arr.cast(target)


def _conform_list_of_struct(arr: pa.ChunkedArray | pa.Array, target: pa.DataType) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], type=arr.type)
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), type=target)
    if pa.types.is_large_list(arr.type):
        arr = arr.cast(pa.list_(arr.type.value_type))
    structs = arr.flatten()
    fields = []
    for field in target.value_type:
        if structs.type.get_field_index(field.name) >= 0:
            child = structs.field(field.name)
            fields.append(_conform_array(pa.chunked_array([child]), field.type))
        else:
            fields.append(pa.nulls(len(structs), type=field.type))
    fields = [f.combine_chunks() if isinstance(f, pa.ChunkedArray) else f for f in fields]
    inner = pa.StructArray.from_arrays(fields, fields=list(target.value_type))
    mask = arr.is_null() if arr.null_count else None
    return pa.ListArray.from_arrays(arr.offsets, inner, type=target, mask=mask)


def conform(df: pl.DataFrame | pa.Table, schema: pa.Schema) -> pa.Table:
    """Return ``df`` as an Arrow table with exactly ``schema``'s columns, order and types.

    Missing columns become nulls; extra columns are dropped. Attribute columns may come in as
    ``list[struct{key, value}]`` (what polars produces) and leave as ``map<string, string>``.
    """
    table = df.to_arrow() if isinstance(df, pl.DataFrame) else df
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(_conform_array(table.column(field.name), field.type))
        else:
            columns.append(pa.nulls(table.num_rows, type=field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def empty(schema: pa.Schema) -> pa.Table:
    """A zero-row table of ``schema``."""
    return schema.empty_table()
