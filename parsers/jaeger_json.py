"""Jaeger JSON trace exports: the UI/API ``{"data":[{traceID, spans, processes}]}`` and its relatives.

Accepted documents (pretty-printed whole files, or one per line):

- the query API / UI download ``{"data":[trace, ...]}`` (``data`` may also be a single trace object);
- a single trace ``{"traceID": ..., "spans": [...], "processes": {"p1": {...}}}``;
- spans with an embedded ``process`` (Elasticsearch documents, the anonymizer's arrays of spans, one span per
  line), and the domain model (``traceId``/``spanId`` in base64, ``"startTime": "2017-01-26T16:46:31-05:00"``,
  ``"duration": "5000ns"``, ``vStr``/``vInt64`` typed tags);
- Cassandra span rows: Jaeger's storage model (``TraceID`` in base64, ``SpanID``/``ParentID`` as decimal
  bigints, ``Tags`` typed as ``value_string``/``value_long``/..., ``Refs``, ``Process``) and cqlsh's
  ``SELECT JSON * FROM traces`` rows (the same in snake_case, blobs as ``0x`` hex).

A span's references other than its parent (the first CHILD_OF) become links with ``jaeger.ref_type``.

How it works: DuckDB decodes every document with one explicit structure (every scalar as text), lists its
traces and spans, resolves each span's process through ``processID`` and renders tags; polars normalizes IDs,
times, kind, status and the well-known tags. One output row per span.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import polars as pl

from parsers import otlp_json, timeparse
from parsers.base import Kind, ParseContext, ParseResult

name = "jaeger-json"
kind: Kind = "spans"
block_bytes = 32 * 1024 * 1024  # read blocks (see parsers.base.Parser)
description = "Jaeger JSON traces (UI/API download, single trace, spans with embedded process, domain model)"
example = (
    '{"data":[{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spans":[{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736",'
    '"spanID":"00f067aa0ba902b7","operationName":"POST /orders","references":[],"startTime":1794925925000000,'
    '"duration":245000,"tags":[{"key":"span.kind","type":"string","value":"server"}],"logs":[],'
    '"processID":"p1"}],"processes":{"p1":{"serviceName":"order-service","tags":[]}}}]}'
)

# --- the JSON structure DuckDB decodes each span and trace into ---------------------------------------------
# Every scalar is VARCHAR: tag values are strings, numbers or booleans depending on the writer.
_TAG = {
    k: "VARCHAR" for k in ("key", "type", "value", "vType", "vStr", "vInt64", "vBool", "vFloat64", "vBinary")
}
_PROCESS = {"serviceName": "VARCHAR", "tags": [_TAG]}
_REF = {k: "VARCHAR" for k in ("refType", "traceID", "spanID")}
_SPAN = {
    "traceID": "VARCHAR",
    "spanID": "VARCHAR",
    "parentSpanID": "VARCHAR",
    "operationName": "VARCHAR",
    "references": [_REF],
    "startTime": "VARCHAR",
    "duration": "VARCHAR",
    "tags": [_TAG],
    "logs": [{"timestamp": "VARCHAR", "fields": [_TAG]}],
    "processID": "VARCHAR",
    "process": _PROCESS,
}
_PROCESS_SQL = (
    "MAP(VARCHAR, STRUCT(serviceName VARCHAR, tags STRUCT("
    + ", ".join(f'"{k}" VARCHAR' for k in _TAG)
    + ")[]))"
)
# DuckDB struct keys are case-insensitive: the domain model's traceId/spanId need a structure of their own.
_DOMAIN = {
    "traceId": "VARCHAR",
    "spanId": "VARCHAR",
    "references": [{"refType": "VARCHAR", "traceId": "VARCHAR", "spanId": "VARCHAR"}],
}
_TRACE = {"spans": ["JSON"], "processes": _PROCESS_SQL}
# Cassandra span rows: Jaeger's storage model as its Go code writes it (PascalCase, base64 trace IDs) and as
# cqlsh's SELECT JSON writes the `traces` table (snake_case, blobs as 0x hex). Tags are typed (value_string,
# value_long, ...); span IDs are bigints (decimal, maybe negative); times and durations are microseconds.
_TYPED = ("value_string", "value_bool", "value_long", "value_double", "value_binary")
_DBMODEL_TAG = {"Key": "VARCHAR", "ValueType": "VARCHAR", **dict.fromkeys(_TYPED, "VARCHAR")}
_DBMODEL = {
    **dict.fromkeys(("TraceID", "SpanID", "ParentID", "OperationName", "StartTime", "Duration"), "VARCHAR"),
    "Tags": [_DBMODEL_TAG],
    "Logs": [{"Timestamp": "VARCHAR", "Fields": [_DBMODEL_TAG]}],
    "Refs": [{"RefType": "VARCHAR", "TraceID": "VARCHAR", "SpanID": "VARCHAR"}],
    "Process": {"ServiceName": "VARCHAR", "Tags": [_DBMODEL_TAG]},
    "ServiceName": "VARCHAR",
}
_CQL_TAG = {"key": "VARCHAR", "value_type": "VARCHAR", **dict.fromkeys(_TYPED, "VARCHAR")}
_CQL = {
    **dict.fromkeys(
        ("trace_id", "span_id", "parent_id", "operation_name", "start_time", "duration"), "VARCHAR"
    ),
    "tags": [_CQL_TAG],
    "logs": [{"ts": "VARCHAR", "fields": [_CQL_TAG]}],
    "refs": [{"ref_type": "VARCHAR", "trace_id": "VARCHAR", "span_id": "VARCHAR"}],
    "process": {"service_name": "VARCHAR", "tags": [_CQL_TAG]},
}


def _compact(structure: object) -> str:
    return json.dumps(structure, separators=(",", ":"))


def _tags(list_sql: str) -> str:
    """SQL: Jaeger tags (``type``/``value``, or the domain model's ``vStr``, ``vInt64``, ...) as text."""
    value = "coalesce(t.value, t.vStr, t.vInt64, t.vBool, t.vFloat64, t.vBinary)"
    return f"coalesce(list_transform({list_sql}, lambda t: {{'key': t.key, 'value': {value}}}), [])"


def _typed_tags(list_sql: str) -> str:
    """SQL: Cassandra's typed tags (``value_string``, ``value_long``, ...) as ``{key, value}`` text."""
    value = f"coalesce({', '.join(f't.{v}' for v in _TYPED)})"
    return f"coalesce(list_transform({list_sql}, lambda t: {{'key': t.key, 'value': {value}}}), [])"


def _by_shape(storage_model: str, cql: str) -> str:
    return f"CASE WHEN cs.TraceID IS NOT NULL THEN {storage_model} ELSE {cql} END"


def _logs(list_sql: str, time: str, fields: str, tags: Callable[[str], str]) -> str:
    return f"list_transform({list_sql}, lambda l: {{'time': l.{time}, 'fields': {tags(f'l.{fields}')}}})"


def _decimal_id(sql: str) -> str:
    """SQL: a Cassandra bigint span ID (``255``, ``-2``) as hex (``ff``, ``fffffffffffffffe``)."""
    return f"coalesce(lower(to_hex(try_cast({sql} AS BIGINT))), {sql})"


def _pick(list_sql: str, *keys: str) -> str:
    picks = [f"list_filter({list_sql}, lambda kv: kv.key = '{k}')[1].value" for k in keys]
    return picks[0] if len(picks) == 1 else f"coalesce({', '.join(picks)})"


def _refs(kind_sql: str, span: str = "sp") -> str:
    # refType is omitted by protobuf JSON when it is CHILD_OF (enum value 0)
    return f"list_filter({span}.references, lambda r: coalesce(r.refType, 'CHILD_OF') = '{kind_sql}')"


def _cass_refs(kind_sql: str) -> str:
    # Cassandra writes child-of / follows-from
    return f"list_filter(cr.refs, lambda r: upper(replace(r.ref_type, '-', '_')) = '{kind_sql}')"


def _links(refs_sql: str, trace: str, span: str, kind_sql: str, id_sql: str = "{0}") -> str:
    attributes = f"[{{'key': 'jaeger.ref_type', 'value': '{kind_sql}'}}]"
    span_id = id_sql.format(f"r.{span}")
    body = f"{{'traceId': r.{trace}, 'spanId': {span_id}, 'attributes': {attributes}}}"
    return f"coalesce(list_transform({refs_sql}, lambda r: {body}), [])"


# One row per span. Composed from the constants above only: no input text ever becomes SQL.
# A span's references other than its parent (the first CHILD_OF) become links, as Jaeger's OTLP translator
# does. `cr` is a Cassandra row in either shape (cs: Jaeger's storage model, cq: cqlsh's JSON).
_CASS = "cr.trace IS NOT NULL"
_SPANS_SQL = f"""
WITH docs AS (
    SELECT line_no, try(text::JSON) AS j FROM src
), items AS (
    SELECT line_no, UNNEST(CASE
        WHEN json_type(j) = 'ARRAY' THEN json_transform(j, '["JSON"]')
        WHEN json_type(j -> 'data') = 'ARRAY' THEN json_transform(j -> 'data', '["JSON"]')
        WHEN json_type(j -> 'data') = 'OBJECT' THEN [j -> 'data']
        WHEN json_type(j) = 'OBJECT' THEN [j]
    END) AS item
    FROM docs
), traces AS (
    SELECT line_no, item, coalesce(json_type(item -> 'spans') = 'ARRAY', false) AS is_trace,
           try(json_transform(item, '{_compact(_TRACE)}')) AS t
    FROM items
    WHERE json_type(item) = 'OBJECT'
), spans AS (
    SELECT line_no, t.processes AS processes,
           UNNEST(CASE WHEN is_trace THEN t.spans ELSE [item] END) AS s
    FROM traces
), decoded AS (
    SELECT line_no, processes, try(json_transform(s, '{_compact(_SPAN)}')) AS sp,
           try(json_transform(s, '{_compact(_DOMAIN)}')) AS dm,
           try(json_transform(s, '{_compact(_DBMODEL)}')) AS cs,
           try(json_transform(s, '{_compact(_CQL)}')) AS cq
    FROM spans
    WHERE json_type(s) = 'OBJECT'
), resolved AS (
    SELECT line_no, sp, dm, coalesce(sp.process, processes[sp.processID]) AS proc,
           {_tags("sp.tags")} AS attrs,
           {{
               'trace': coalesce(cs.TraceID, cq.trace_id),
               'span': coalesce(cs.SpanID, cq.span_id),
               'parent': nullif(coalesce(cs.ParentID, cq.parent_id), '0'),
               'service': coalesce(cs.Process.ServiceName, cs.ServiceName, cq.process.service_name),
               'name': coalesce(cs.OperationName, cq.operation_name),
               'start': coalesce(cs.StartTime, cq.start_time),
               'duration': coalesce(cs.Duration, cq.duration),
               'tags': {_by_shape(_typed_tags("cs.Tags"), _typed_tags("cq.tags"))},
               'process_tags': {_by_shape(_typed_tags("cs.Process.Tags"), _typed_tags("cq.process.tags"))},
               'logs': {
    _by_shape(
        _logs("cs.Logs", "Timestamp", "Fields", _typed_tags), _logs("cq.logs", "ts", "fields", _typed_tags)
    )
},
               'refs': CASE WHEN cs.TraceID IS NOT NULL
                   THEN list_transform(cs.Refs, lambda r: {{'ref_type': r.RefType, 'trace_id': r.TraceID,
                                                            'span_id': r.SpanID}})
                   ELSE cq.refs END
           }} AS cr
    FROM decoded
    WHERE sp IS NOT NULL
), unified AS (
SELECT line_no,
       coalesce(sp.traceID, dm.traceId, cr.trace) AS trace_raw,
       coalesce(sp.spanID, dm.spanId, {_decimal_id("cr.span")}) AS span_raw,
       CASE WHEN {_CASS} THEN coalesce({_decimal_id(_cass_refs("CHILD_OF") + "[1].span_id")},
                                       {_decimal_id("cr.parent")},
                                       {_decimal_id(_cass_refs("FOLLOWS_FROM") + "[1].span_id")})
            ELSE coalesce({_refs("CHILD_OF")}[1].spanID, {_refs("CHILD_OF", "dm")}[1].spanId, sp.parentSpanID,
                          {_refs("FOLLOWS_FROM")}[1].spanID, {_refs("FOLLOWS_FROM", "dm")}[1].spanId)
       END AS parent_raw,
       CASE WHEN {_CASS} THEN cr.service ELSE proc.serviceName END AS service,
       CASE WHEN {_CASS} THEN cr.name ELSE sp.operationName END AS name,
       CASE WHEN {_CASS} THEN cr.start ELSE sp.startTime END AS start_raw,
       CASE WHEN {_CASS} THEN cr.duration ELSE sp.duration END AS duration_raw,
       CASE WHEN {_CASS} THEN cr.tags ELSE attrs END AS attributes,
       CASE WHEN {_CASS} THEN cr.process_tags ELSE {_tags("proc.tags")} END AS resource_attributes,
       CASE WHEN {_CASS} THEN coalesce(cr.logs, [])
            ELSE coalesce({_logs("sp.logs", "timestamp", "fields", _tags)}, [])
       END AS logs_raw,
       CASE WHEN {_CASS} THEN list_concat(
           {_links(_cass_refs("FOLLOWS_FROM"), "trace_id", "span_id", "FOLLOWS_FROM", _decimal_id("{0}"))},
           {_links(_cass_refs("CHILD_OF") + "[2:]", "trace_id", "span_id", "CHILD_OF", _decimal_id("{0}"))})
       ELSE list_concat(
           {_links(_refs("FOLLOWS_FROM"), "traceID", "spanID", "FOLLOWS_FROM")},
           {_links(_refs("FOLLOWS_FROM", "dm"), "traceId", "spanId", "FOLLOWS_FROM")},
           {_links(_refs("CHILD_OF") + "[2:]", "traceID", "spanID", "CHILD_OF")},
           {_links(_refs("CHILD_OF", "dm") + "[2:]", "traceId", "spanId", "CHILD_OF")})
       END AS links_raw
FROM resolved
)
SELECT line_no, trace_raw, span_raw, parent_raw, service, name,
       {_pick("attributes", "span.kind")} AS kind_raw,
       start_raw, duration_raw,
       {_pick("attributes", "error")} AS error_raw,
       {_pick("attributes", "otel.status_code")} AS otel_status,
       {_pick("attributes", "otel.status_description", "error.message")} AS status_message,
       {_pick("attributes", "http.response.status_code", "http.status_code")} AS http_raw,
       {_pick("attributes", "db.system", "db.system.name")} AS db_system,
       {_pick("attributes", "db.statement", "db.query.text")} AS db_statement,
       attributes, resource_attributes, logs_raw, links_raw
FROM unified
"""

# --- normalization (polars) ---------------------------------------------------------------------------------

_KINDS = {"server": "SERVER", "client": "CLIENT", "producer": "PRODUCER", "consumer": "CONSUMER"}
_KINDS |= {"internal": "INTERNAL"}
# Go duration units (the domain model writes time.Duration as "5000ns", "0.000005s", "1.5ms")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_UNIT_NS |= {"m": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION_RE = "^([0-9]+(?:[.][0-9]+)?)(ns|us|µs|μs|ms|s|m|h)$"


def _micros_text(text: pl.Expr) -> pl.Expr:
    """Epoch microseconds (``1485467191639875``) or an RFC 3339 time with any offset → UTC timestamp."""
    t = text.str.strip_chars()
    micros = t.cast(pl.Int64, strict=False)
    epoch = pl.when(micros > 0).then(micros).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return pl.when(t.str.contains("^[0-9]+$")).then(epoch).otherwise(timeparse.parse_text(t))


def _duration_ns(text: pl.Expr) -> pl.Expr:
    """Duration in nanoseconds from microseconds (a JSON number) or a Go duration string."""
    t = text.str.strip_chars()
    micros = t.cast(pl.Float64, strict=False)
    number = t.str.extract(_DURATION_RE, 1).cast(pl.Float64)
    unit = t.str.extract(_DURATION_RE, 2).replace_strict(_UNIT_NS, default=None, return_dtype=pl.Float64)
    return pl.coalesce((micros * 1000).round(0), (number * unit).round(0)).cast(pl.Int64)


def _normalize(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw span rows from DuckDB → canonical columns (plus ``line_no`` and raw text for reject reasons)."""
    frame = raw.with_columns(
        _micros_text(pl.col("start_raw")).alias("start_ts"),
        _duration_ns(pl.col("duration_raw")).alias("duration_ns"),
    )
    log = pl.element().struct
    fields = log.field("fields")
    event_name = pl.coalesce(
        fields.list.eval(pl.element().filter(pl.element().struct.field("key") == "event")).list.first(),
    ).struct.field("value")
    is_exception = fields.list.eval(
        pl.element().struct.field("key").is_in(["error.kind", "exception.type"])
    ).list.any()
    error = pl.col("error_raw").str.strip_chars().str.to_lowercase() == "true"
    otel_status = pl.col("otel_status").str.strip_chars().str.to_uppercase()
    link = pl.element().struct
    return frame.with_columns(
        otlp_json.any_trace_id(pl.col("trace_raw")).alias("trace_id"),
        otlp_json.any_span_id(pl.col("span_raw")).alias("span_id"),
        otlp_json.any_span_id(pl.col("parent_raw")).alias("parent_span_id"),
        pl.col("kind_raw")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(_KINDS, default="UNSPECIFIED", return_dtype=pl.String)
        .alias("kind"),
        (pl.col("start_ts") + pl.duration(microseconds=pl.col("duration_ns") // 1000)).alias("end_ts"),
        otlp_json.millis(pl.col("duration_ns")).alias("duration_ms"),
        pl.when(error.fill_null(False) | (otel_status == "ERROR").fill_null(False))
        .then(pl.lit("ERROR"))
        .when(otel_status == "OK")
        .then(pl.lit("OK"))
        .otherwise(pl.lit("UNSET"))
        .alias("status"),
        pl.col("status_message").replace("", None),
        pl.col("http_raw").str.strip_chars().cast(pl.Int64, strict=False).alias("http_status"),
        otlp_json.db_fingerprint(pl.col("db_statement"), pl.col("db_system")).alias("db_fingerprint"),
        pl.col("logs_raw")
        .list.eval(
            pl.struct(
                _micros_text(log.field("time")).alias("ts"),
                pl.when(is_exception & event_name.is_null())
                .then(pl.lit("exception"))
                .otherwise(event_name)
                .alias("name"),
                fields.list.eval(pl.element().filter(pl.element().struct.field("key") != "event")).alias(
                    "attributes"
                ),
            )
        )
        .alias("events"),
        pl.col("links_raw")
        .list.eval(
            pl.struct(
                otlp_json.any_trace_id(link.field("traceId")).alias("trace_id"),
                otlp_json.any_span_id(link.field("spanId")).alias("span_id"),
                link.field("attributes"),
            )
        )
        # the domain model's references also decode (without IDs) through the UI structure
        .list.eval(pl.element().filter(pl.element().struct.field("span_id").is_not_null()))
        .alias("links"),
    )


def _reason() -> pl.Expr:
    """Why a span is dropped (null to keep it): a missing or invalid ID, or a time that cannot be read."""

    def absent(col: str) -> pl.Expr:
        return pl.col(col).is_null() | (pl.col(col).str.strip_chars() == "")

    def problem(raw: str, bad: pl.Expr, label: str) -> pl.Expr:
        return (
            pl.when(absent(raw))
            .then(pl.lit(f"no {label}"))
            .when(bad)
            .then(pl.format("invalid {} '{}'", pl.lit(label), pl.col(raw)))
        )

    parts = pl.concat_list(
        problem("trace_raw", pl.col("trace_id").is_null(), "traceID"),
        problem("span_raw", pl.col("span_id").is_null(), "spanID"),
        problem("start_raw", pl.col("start_ts").is_null(), "startTime"),
        pl.when(~absent("duration_raw") & pl.col("duration_ns").is_null()).then(
            pl.format("invalid duration '{}'", pl.col("duration_raw"))
        ),
    )
    reasons = parts.list.drop_nulls()
    return pl.when(reasons.list.len() > 0).then(pl.format("span dropped: {}", reasons.list.join(", ")))


# --- the parser contract ------------------------------------------------------------------------------------


_ID_KEYS = (("traceID", "spanID"), ("traceId", "spanId"), ("TraceID", "SpanID"))
_JAEGER_KEYS = ("operationName", "processes", "processID", "references", "OperationName")


def sniff(head: list[str]) -> float:
    """High for Jaeger traces (``traceID`` + ``spanID``/``spans`` + ``operationName`` or ``processes``)."""
    text = "\n".join(line for line in head if line.strip())
    if not text.lstrip().startswith(("{", "[")):
        return 0.0
    if '"resourceSpans"' in text or '"batches"' in text:
        return 0.0
    ids = any(f'"{t}"' in text and f'"{s}"' in text for t, s in _ID_KEYS)
    jaeger = any(f'"{k}"' in text for k in _JAEGER_KEYS)
    cql_row = all(f'"{k}"' in text for k in ("trace_id", "span_id", "operation_name", "start_time"))
    if (ids and jaeger) or cql_row:
        return 0.9
    return 0.5 if '"traceID"' in text and '"spans"' in text else 0.0


def record_start(lines: pl.Series) -> pl.Series | None:
    """None for one document (trace or span) per line; else the lines that open a pretty-printed document."""
    return otlp_json.document_starts(lines)


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of Jaeger JSON documents: one row per span; blank lines are skipped."""
    return otlp_json.parse_span_documents(
        lines, ctx, name, _SPANS_SQL, _normalize, _reason(), _spanless_problem
    )


def _spanless_problem(text: str) -> str | None:
    """Why a document gave no span row, or None for a valid empty export (``{"data":[]}``, ``[]``)."""
    try:
        value = json.loads(text)
    except ValueError as err:
        return f"invalid JSON: {err}"
    if value == [] or (isinstance(value, dict) and value.get("data") in ([], None) and "data" in value):
        return None
    if isinstance(value, dict) and isinstance(value.get("spans"), list) and not value["spans"]:
        return None
    return "not a Jaeger trace (no data, spans, or span with traceID and spanID)"
