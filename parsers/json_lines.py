"""JSON lines application logs: one JSON object per line (OTel log data model, ECS, logstash, pino/bunyan).

DuckDB's JSON functions do the decoding, columnar and on both cores. Polars' JSON readers infer a schema
from the first rows and drop keys that appear later, so instead every chunk is read in two passes:

1. discover the chunk's keys (``json_keys`` of each object and of its nested ``attributes`` object);
2. extract exactly those keys as strings with one ``json_extract_string(line, [paths])`` per line.

Known keys (and their aliases) become columns; every other top-level key, and the nested ``attributes``
object flattened to its own keys, go into ``attributes`` as strings (objects and arrays as JSON text).
An alias that lost to a higher-priority alias of the same column stays in ``attributes``, so nothing is
dropped. Lines that are not valid JSON, or not an object, are rejected.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, cast

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from parsers import base, ids, levels, schema, stringviews, timeparse
from parsers.base import Kind, ParseContext, ParseResult

name = "json"
kind: Kind = "logs"
description = "JSON lines app logs (OTel log data model, ECS, logstash, pino/bunyan, zap/slog JSON)"
example = (
    '{"timestamp":"2026-11-17T14:32:05.101234Z","severity_text":"INFO","severity_number":9,'
    '"service.name":"user-service","host.name":"user-7f9c-2","logger":"user_service.api",'
    '"body":"GET /users/1042 200 12.3ms","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",'
    '"span_id":"53995c3f42cd8ad8","attributes":{"http.route":"/users/{id}","user.id":"1042"}}'
)

# --------------------------------------------------------------------------------------------------
# Known keys


@dataclass(frozen=True)
class _Alias:
    pointer: tuple[str, ...]  # key path inside the object
    scalar_only: bool = False  # skip object values (ECS writes `service`/`host` as objects)

    @property
    def top(self) -> str | None:
        """The top-level key this alias consumes when chosen; nested aliases consume nothing."""
        return self.pointer[0] if len(self.pointer) == 1 else None


def _a(*paths: str, scalar_only: bool = False) -> tuple[_Alias, ...]:
    return tuple(_Alias(tuple(p.split("/")), scalar_only) for p in paths)


# Priority order within each column. "/" separates nesting levels; dotted names are literal keys.
_ALIASES: dict[str, tuple[_Alias, ...]] = {
    "ts": _a("timestamp", "@timestamp", "time", "ts", "Timestamp"),
    "level": _a(
        "severity_text", "SeverityText", "level", "log.level", "log/level", "severity", "levelname", "lvl"
    ),
    "severity_number": _a("severity_number", "SeverityNumber"),
    "message": _a("body", "Body", "message", "msg"),
    "trace_id": _a("trace_id", "traceId", "trace.id", "trace/id", "otelTraceID", "traceID", "TraceId"),
    "span_id": _a("span_id", "spanId", "span.id", "span/id", "otelSpanID", "spanID", "SpanId"),
    "service": _a(
        "service.name",
        "service/name",
        "resource/service.name",
        "otelServiceName",
        "service",
        scalar_only=True,
    ),
    "host": _a("host.name", "host/name", "resource/host.name", "hostname", "host", scalar_only=True),
    "logger": _a("logger", "logger_name", "log.logger", "log/logger", "logger.name"),
    # Datadog's log injection: unsigned decimal IDs (the low 64 bits), `_dd.p.tid` the high 64 bits in hex
    "dd_trace_id": _a("dd.trace_id", "dd/trace_id"),
    "dd_span_id": _a("dd.span_id", "dd/span_id"),
    "dd_tid": _a("_dd.p.tid", "dd/_dd.p.tid"),
}
_TIME_FORMATS = (timeparse.ISO_ZONED, timeparse.EPOCH, "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f")
_NESTED = "attributes"  # the nested bag flattened into `attributes`
_TRACEPARENT = "traceparent"  # fallback source of trace_id/span_id; also kept as an attribute
_MAX_PATHS = 200  # beyond this many distinct keys a chunk is read with the (slower) generic map path


def _pointer(path: Sequence[str]) -> str:
    """JSON pointer (RFC 6901) for a key path, as a SQL string literal."""
    ptr = "".join("/" + k.replace("~", "~0").replace("/", "~1") for k in path)
    return "'" + ptr.replace("'", "''") + "'"


def _sql_list(items: Sequence[str]) -> str:
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


def _distinct_keys(con: duckdb.DuckDBPyConnection, table: str, column: str) -> tuple[list[str], list[str]]:
    """The keys of the objects in ``column``, and those of their nested ``attributes`` objects.

    One read of each line gives both lists; distinct lists first: the lines of one logger share theirs, so
    few lists are unnested.
    """
    rows = con.sql(
        f"""WITH lists AS (SELECT DISTINCT json_keys({column}, ['$', {_pointer([_NESTED])}]) AS k
                           FROM {table})
            SELECT DISTINCT false, unnest(k[1]) FROM lists
            UNION ALL SELECT DISTINCT true, unnest(k[2]) FROM lists"""
    ).fetchall()
    return sorted(str(k) for nested, k in rows if not nested), sorted(str(k) for nested, k in rows if nested)


def _is_object(expr: pl.Expr) -> pl.Expr:
    return expr.str.starts_with("{")


def _columns(
    keys: Sequence[str], nested: Sequence[str]
) -> tuple[list[pl.Expr], list[tuple[str, pl.Expr]], list[tuple[str, ...]]]:
    """Raw text of the canonical columns, the attribute (key, value) pairs, and the key paths they read.

    The chunks of a file share their keys: the expressions are built once per key set (:func:`_built`).

    Column ``c<i>`` of the extracted frame holds the value at ``paths[i]``, ``n<j>`` the nested
    ``attributes`` object's key ``nested[j]``. For each column the first alias
    with a usable value wins; the other aliases present on the line stay attributes.
    """
    exprs, pairs, paths = _built(tuple(keys), tuple(nested))
    return list(exprs), list(pairs), list(paths)


@functools.lru_cache(maxsize=64)
def _built(
    keys: tuple[str, ...], nested: tuple[str, ...]
) -> tuple[list[pl.Expr], list[tuple[str, pl.Expr]], list[tuple[str, ...]]]:
    present = set(keys)
    paths: list[tuple[str, ...]] = []

    def col(path: tuple[str, ...]) -> pl.Expr:
        if path[0] == _NESTED and len(path) == 2:  # read from the nested object's own extraction
            return pl.col(f"n{nested.index(path[1])}")
        if path not in paths:
            paths.append(path)
        return pl.col(f"c{paths.index(path)}")

    out: list[pl.Expr] = [pl.col("line_no")]
    leftovers: list[tuple[str, pl.Expr]] = []
    consumed: set[str] = {_NESTED}
    for column, aliases in _ALIASES.items():
        found = [a for a in aliases if a.pointer[0] in present]
        raws = [col(a.pointer) for a in found]
        cands = [
            pl.when((r != "") & (~_is_object(r) if a.scalar_only else True)).then(r)
            for a, r in zip(found, raws, strict=True)
        ]
        out.append((pl.coalesce(cands) if cands else pl.lit(None, dtype=pl.String)).alias(column))
        for i, (a, r) in enumerate(zip(found, raws, strict=True)):
            if a.top is None:
                continue
            consumed.add(a.top)
            if column == "severity_number":
                continue  # the number twin of severity_text is part of the level
            earlier = pl.any_horizontal([c.is_not_null() for c in cands[:i]]) if i else pl.lit(False)
            leftovers.append((a.top, pl.when(cands[i].is_null() | earlier).then(r)))
    out.append(
        (col((_TRACEPARENT,)) if _TRACEPARENT in present else pl.lit(None, dtype=pl.String)).alias("tp")
    )

    pairs: list[tuple[str, pl.Expr]] = [(k, col((k,))) for k in keys if k not in consumed]
    pairs += leftovers
    if _NESTED in present:
        bag = col((_NESTED,))
        pairs.append((_NESTED, pl.when(~_is_object(bag)).then(bag)))
    for k in nested:
        value = col((_NESTED, k))
        if k in present and k != _NESTED:  # the same key at the top level: keep both, the nested one prefixed
            top = col((k,)).is_not_null()
            pairs += [(k, pl.when(~top).then(value)), (f"{_NESTED}.{k}", pl.when(top).then(value))]
        else:
            pairs.append((k, value))
    return out, pairs, paths


def _level(word: pl.Expr) -> pl.Expr:
    return pl.coalesce(levels.level_from_text(word, keep_unknown=False), levels.level_from_number(word))


def _normalize(recs: pl.DataFrame) -> pl.DataFrame:
    """Levels and IDs from the raw columns (the costly parts only over distinct or non-canonical values)."""
    level = base.map_distinct(recs["level"], _level)
    unread = level.is_null()
    # the severity number, else an unknown word kept upper-cased, only where the word is not known (most
    # lines have a known one)
    if unread.any():
        rows = unread.arg_true()
        other = pl.coalesce(
            base.map_distinct(recs["severity_number"].gather(rows), levels.level_from_severity_number),
            base.map_distinct(recs["level"].gather(rows), levels.level_from_text),
        )
        level = level.scatter(rows, pl.select(other).to_series())
    recs = recs.with_columns(level.alias("level"))
    recs = recs.with_columns(ids.trace_id(pl.col("trace_id")), ids.span_id(pl.col("span_id")))
    if recs["dd_trace_id"].is_not_null().any():
        recs = recs.with_columns(
            pl.coalesce("trace_id", ids.decimal_trace_id(pl.col("dd_trace_id"), pl.col("dd_tid"))),
            pl.coalesce("span_id", ids.decimal_span_id(pl.col("dd_span_id"))),
        )
    if recs["tp"].is_not_null().any():
        recs = recs.with_columns(
            pl.coalesce("trace_id", ids.traceparent_trace_id(pl.col("tp"))).alias("trace_id"),
            pl.coalesce("span_id", ids.traceparent_span_id(pl.col("tp"))).alias("span_id"),
        )
    return recs.drop("severity_number", "tp", "dd_trace_id", "dd_span_id", "dd_tid")


def _extract(
    con: duckdb.DuckDBPyConnection, table: str, column: str, paths: list[tuple[str, ...]], names: list[str]
) -> pl.DataFrame:
    """One row per row of ``table``: ``line_no`` and ``names[i]``, the string at ``paths[i]``."""
    if not paths:
        return con.sql(f"SELECT line_no FROM {table}").pl()
    plist = "[" + ", ".join(_pointer(p) for p in paths) + "]"
    cols = ", ".join(f'v[{i + 1}] AS "{n}"' for i, n in enumerate(names))
    return con.sql(
        f"SELECT line_no, {cols} FROM "
        f"(SELECT line_no, json_extract_string({column}, {plist}) AS v FROM {table})"
    ).pl()


@functools.cache
def _database() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB for every chunk, each parse on a cursor of its own (a connection with its own
    temporary views): opening a database per chunk costs ~30 ms, and one database keeps one thread pool."""
    return duckdb.connect()


def _batches(df: pl.DataFrame) -> pa.Table:
    """``df`` as Arrow in several record batches, so DuckDB scans them on all cores."""
    arrow = df.to_arrow(compat_level=pl.CompatLevel.newest())  # string views: no copy of the text
    return pa.Table.from_batches(arrow.to_batches(max_chunksize=16_384), schema=arrow.schema)


def _generic_extras(con: duckdb.DuckDBPyConnection, skip: list[str]) -> pl.DataFrame:
    """Slow path for chunks with very many distinct keys: the other keys through a JSON map per line.

    Top-level keys not in ``skip`` and the nested ``attributes`` object's keys, as list[struct{key, value}].
    """
    as_map = """'"MAP(VARCHAR, JSON)"'"""
    nested = _pointer([_NESTED])
    return con.sql(
        f"""SELECT line_no, list_transform(list_concat(
                list_filter(map_entries(json_transform(line, {as_map})),
                            lambda e: NOT list_contains({_sql_list(skip)}, e.key)),
                CASE WHEN json_type(line, {nested}) = 'OBJECT'
                     THEN map_entries(json_transform(json_extract(line, {nested}), {as_map})) END),
                lambda e: {{'key': e.key, 'value': json_extract_string(e.value, '$')}}) AS extra
            FROM lines"""
    ).pl()


def _decode(df: pl.DataFrame) -> tuple[pl.DataFrame, _Read]:
    """Records (canonical columns, ``ts`` as text) and the chunk as read (attribute bags: :func:`_bags`; the
    lines that are no objects): by Arrow's JSON reader when the chunk's values are flat enough
    (:func:`_read_arrow`), else by DuckDB."""
    read = _read_arrow(df) or _read_duckdb(df)
    exprs, _, _ = _columns(read.keys, read.nested)
    return _normalize(read.values.select(exprs)), read


def _bags(read: _Read, keep: pl.Series | None) -> pa.Array:
    """The attribute bags of the records where ``keep`` is true (None: all): built for those only, as
    filtering a built map of ~1M entries for a few rejects costs more than building it."""
    _, pairs, _ = _columns(read.keys, read.nested)
    values = read.values if keep is None else read.values.filter(keep)
    attributes: pa.Array = base.kv_map(values, pairs)
    if read.extras is not None:
        extras = read.extras if keep is None else read.extras.filter(keep)
        bags = pl.DataFrame({"a": pl.Series(attributes).cast(schema.KV), "b": extras.cast(schema.KV)})
        empty = pl.lit([], dtype=schema.KV)
        both = bags.select(pl.concat_list(pl.col("a").fill_null(empty), pl.col("b").fill_null(empty)))
        attributes = both.to_series().to_arrow()
    return attributes


class _Read(NamedTuple):
    """What a JSON reader gives :func:`_decode`: ``values`` (``line_no``, ``c<i>`` the text at the i-th path
    of :func:`_columns`, ``n<j>`` the nested ``attributes`` object's j-th key), the keys and nested keys,
    the lines that are no JSON objects (``line_no``, ``valid``), and for chunks with very many keys the
    pairs of the keys that are no columns (:func:`_generic_extras`, one list per row of ``values``)."""

    values: pl.DataFrame
    keys: list[str]
    nested: list[str]
    not_object: pl.DataFrame
    extras: pl.Series | None = None


def _json_valid(con: duckdb.DuckDBPyConnection, lines: pl.DataFrame) -> pl.Series:
    """Whether each of the ``line`` column's texts is valid JSON (DuckDB's parser decides)."""
    con.register("valid_in", _batches(lines.select("line")))
    return con.sql("SELECT json_valid(line) AS valid FROM valid_in").pl().to_series()


_ARROW_SCALARS = (pa.string(), pa.int64(), pa.bool_(), pa.null())
# one thread per chunk: the pipeline parses chunks side by side, and Arrow's own threads cost ~15% more CPU
_SERIAL = pa_json.ReadOptions(use_threads=False)


def _joined(lines: pl.Series) -> pa.Buffer:
    """The lines one after another, a line feed after each but the last: the reader's block itself when
    the lines lie so in it (the usual chunk: no copy), else a join."""
    if len(lines) and not lines.null_count():
        views, buffers = stringviews.read(lines)
        length, _, buffer, start = views.view(np.int32).reshape(-1, 4).T
        # views of more than 12 bytes point into a data buffer; shorter strings are held in the view itself
        if (length > stringviews.INLINE).all() and (buffer == buffer[0]).all():
            data = buffers[int(buffer[0])]
            end = start.astype(np.int64) + length
            text = np.frombuffer(data, np.uint8)
            if (start[1:] == end[:-1] + 1).all() and (text[end[:-1]] == _LF).all():
                return data.slice(int(start[0]), int(end[-1]) - int(start[0]))
    return cast(pa.Buffer, lines.str.join("\n").to_arrow().buffers()[2])


_LF = 0x0A


def _read_arrow(df: pl.DataFrame) -> _Read | None:
    """The fast path: every object line parsed once by ``pyarrow.json`` (C++, on all cores) instead of three
    DuckDB passes; the same ``values`` frame as :func:`_extract` gives, with the keys and nested keys.

    Taken only when the result is exactly DuckDB's: every object line (one ending in ``}``) parses, and
    every value is a string, an integer, a boolean or null (at the top level or in a flat ``attributes``
    object). Arrow reads other numbers as doubles, which lose their text (``3.0``, ``1e20``), and other
    objects as structs, which lose their JSON text; a line that does not parse, a key repeated in one
    object or a key whose type changes between lines fails the whole chunk. Those chunks go to DuckDB.
    """
    objects = df.filter("cand").select("line_no", "line")
    if objects.is_empty():
        return None
    try:
        table = pa_json.read_json(pa.BufferReader(_joined(objects["line"])), _SERIAL)
    except pa.ArrowInvalid:
        return None
    if table.num_rows != objects.height or table.num_columns > _MAX_PATHS:
        return None
    nested: list[str] = []
    for field in table.schema:
        if field.name == _NESTED and pa.types.is_struct(field.type):
            if any(child.type not in _ARROW_SCALARS for child in field.type):
                return None
            nested = sorted(child.name for child in field.type)
        elif field.type not in _ARROW_SCALARS:
            return None
    keys = sorted(table.column_names)
    _, _, paths = _columns(keys, [])
    # string views: Arrow casts to them without the GIL and polars takes them as they are, where it would
    # convert plain strings holding the GIL (half the GIL time of a chunk, so the other worker waited)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    none = pa.nulls(table.num_rows, pa.string())
    for i, path in enumerate(paths):
        column = table.column(path[0])
        if pa.types.is_struct(column.type):  # the flat `attributes` object
            if len(path) == 1:  # its text is only ever tested for "{"
                column = pc.if_else(column.is_valid(), "{}", pa.scalar(None, pa.string()))
            elif len(path) == 2 and path[1] in column.type.names:
                column = column.combine_chunks().field(path[1])
            else:
                column = none
        elif len(path) > 1:  # a key inside a value that is no object (ECS `service.name` vs `service`)
            column = none
        columns[f"c{i}"] = column.cast(pa.string_view())
    if nested:
        bag = table.column(_NESTED).combine_chunks()
        for j, key in enumerate(nested):
            columns[f"n{j}"] = bag.field(key).cast(pa.string_view())
    values = pl.DataFrame({"line_no": objects["line_no"], **{k: pl.Series(k, v) for k, v in columns.items()}})
    others = df.filter(~pl.col("cand")).select("line_no", "line")
    if others.is_empty():  # every line an object: no DuckDB query
        valid = pl.Series("valid", [], dtype=pl.Boolean)
    else:
        with _database().cursor() as con:
            valid = _json_valid(con, others)
    return _Read(values, keys, nested, others.select("line_no").with_columns(valid))


def _read_duckdb(df: pl.DataFrame) -> _Read:
    """The reader for any JSON: DuckDB.

    DuckDB reads each line three times: its validity, its keys (and the nested ``attributes`` object's), then
    all the values. Validity is computed once and the later passes see only the object lines (a view would
    validate every line again in every query).
    """
    with _database().cursor() as con:
        valid = _json_valid(con, df)
        ok = pl.col("obj") & pl.col("valid")
        df = df.with_columns(valid)
        not_object = df.filter(~ok).select("line_no", "valid")
        con.register("lines", _batches(df.filter(ok).select("line_no", "line")))
        keys, nested = _distinct_keys(con, "lines", "line")
        generic = len(keys) > _MAX_PATHS
        if generic:
            known = {a.pointer[0] for aliases in _ALIASES.values() for a in aliases} | {_NESTED, _TRACEPARENT}
            keys = sorted(set(keys) & known)
        if _NESTED not in keys or generic:
            nested = []
        _, _, paths = _columns(keys, [])
        names = [f"c{i}" for i in range(len(paths))] + [f"n{j}" for j in range(len(nested))]
        values = _extract(con, "lines", "line", paths + [(_NESTED, k) for k in nested], names)
        if nested:  # a pointer into a nested array would read an element: only objects have nested keys
            is_object = _is_object(pl.col(f"c{paths.index((_NESTED,))}"))
            values = values.with_columns(
                pl.when(is_object).then(pl.col(n)).alias(n) for n in names[len(paths) :]
            )
        extras = None
        if generic:
            extras = values.select("line_no").join(
                _generic_extras(con, keys), on="line_no", how="left", maintain_order="left"
            )["extra"]
    return _Read(values, keys, nested, not_object, extras)


def _classify(lines: pl.Series) -> pl.DataFrame:
    """The non-blank lines (``line_no``, ``line``), each with ``obj`` (it opens an object: ``{`` after
    blanks) and ``cand`` (an object line that also ends in ``}``, blanks aside: one for the Arrow reader).

    Nearly every line starts with ``{`` and ends with ``}``: two prefix/suffix tests settle those, and the
    blank-aware patterns run over the few others only.
    """
    df = pl.DataFrame({"line": lines.cast(pl.String)}).with_row_index("line_no")
    line = pl.col("line")
    plain = df.select((line.str.starts_with("{") & line.str.ends_with("}")).fill_null(False)).to_series()
    if plain.all():
        return df.with_columns(obj=plain, cand=plain)
    rows = (~plain).arg_true()
    other = pl.DataFrame({"line": df["line"].gather(rows)}).select(
        blank=line.is_null() | ~line.str.contains("[^ \t\r]"),
        obj=line.str.contains(r"^[ \t]*\{").fill_null(False),
        closed=line.str.strip_chars_end(" \t").str.ends_with("}").fill_null(False),
    )
    df = df.with_columns(  # scatter writes in place: each column on a copy of its own
        obj=plain.clone().scatter(rows, other["obj"]),
        cand=plain.clone().scatter(rows, other["obj"] & other["closed"]),
        blank=pl.repeat(False, len(plain), eager=True).scatter(rows, other["blank"]),
    )
    return df.filter(~pl.col("blank")).drop("blank")


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of JSON lines into LOGS records and rejects."""
    df = _classify(lines)
    skipped = len(lines) - df.height

    recs, read = _decode(df)
    recs, assumed = timeparse.parse_timestamps(
        recs.rename({"ts": "ts_raw"}), "ts_raw", "ts", ctx.timezone, _TIME_FORMATS
    )

    no_ts = recs["ts"].is_null()
    reasons = pl.concat(
        [
            read.not_object.select(
                "line_no",
                pl.when(pl.col("valid"))
                .then(pl.lit("not a JSON object"))
                .otherwise(pl.lit("invalid JSON"))
                .alias("reason"),
            ),
            recs.filter(no_ts).select(
                "line_no",
                pl.when(pl.col("ts_raw").is_null())
                .then(pl.lit("no timestamp"))
                .otherwise(pl.lit("unreadable timestamp"))
                .alias("reason"),
            ),
        ]
    )
    rejects = reasons.join(df.select("line_no", pl.col("line").alias("raw")), on="line_no").sort("line_no")
    good = recs.filter(~no_ts)
    return ParseResult(
        records=base.finish_logs(good, _bags(read, ~no_ts if no_ts.any() else None), ctx, name),
        rejects=base.rejects_frame(rejects, ctx, name),
        record_lines=good.height,
        reject_lines=rejects.height,
        skipped_lines=skipped,
        tz_assumed=assumed,
    )


def record_start(lines: pl.Series) -> pl.Series | None:
    """Every line is a record."""
    return None


_SNIFF_KEYS = {a.pointer[0] for col in ("ts", "level", "message") for a in _ALIASES[col]}


_WRAPPER_KEYS = {"log", "stream", "time", "attrs"}  # Docker json-file: the docker-json parser unwraps these
GENERIC = (
    0.8  # a specific JSON format (PostgreSQL jsonlog, CloudNativePG, Docker) must win over plain JSON logs
)


def sniff(head: list[str]) -> float:
    """Share of non-blank lines that are JSON objects with a time, level or message key, scaled to
    :data:`GENERIC`: any JSON object with a timestamp fits here, so a specific JSON shape wins."""

    def is_log(obj: dict[str, object]) -> bool:
        return bool(_SNIFF_KEYS & obj.keys()) and not ("log" in obj and obj.keys() <= _WRAPPER_KEYS)

    return GENERIC * base.share_of_json_objects(head, is_log)
