"""Zipkin v2 JSON spans: arrays of spans (the ``/api/v2/trace`` shape), lists of traces, single span objects.

Documents may be pretty-printed whole files or one per line. Timestamps and durations are epoch
microseconds; either may be missing (a span reported by only one side): the span is kept with null times.
Zipkin lets a client and a server span share one span ID (``shared: true`` on the server side): both rows are
kept, the table's grain being (trace_id, span_id, kind); parents are taken as given, never invented.

How it works: DuckDB decodes every document with one explicit structure (every scalar as text) and unnests
traces and spans; polars normalizes IDs, times and the well-known tags. One output row per span.
"""

from __future__ import annotations

import json

import polars as pl

from parsers import ids, otlp_json
from parsers.base import Kind, ParseContext, ParseResult

name = "zipkin-json"
kind: Kind = "spans"
block_bytes = 32 * 1024 * 1024  # read blocks (see parsers.base.Parser)
description = "Zipkin v2 JSON spans (arrays of spans, lists of traces, single span objects)"
example = (
    '[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","id":"00f067aa0ba902b7","kind":"SERVER",'
    '"name":"post /orders","timestamp":1794925925000000,"duration":245000,'
    '"localEndpoint":{"serviceName":"order-service","ipv4":"10.0.3.7"},"tags":{"http.status_code":"502",'
    '"error":"upstream service error"}}]'
)

_ENDPOINT = {"serviceName": "VARCHAR", "ipv4": "VARCHAR", "ipv6": "VARCHAR", "port": "VARCHAR"}
_SPAN = {
    "traceId": "VARCHAR",
    "id": "VARCHAR",
    "parentId": "VARCHAR",
    "name": "VARCHAR",
    "kind": "VARCHAR",
    "timestamp": "VARCHAR",
    "duration": "VARCHAR",
    "shared": "VARCHAR",
    "localEndpoint": _ENDPOINT,
    "remoteEndpoint": _ENDPOINT,
    "annotations": [{"timestamp": "VARCHAR", "value": "VARCHAR"}],
    "tags": "MAP(VARCHAR, VARCHAR)",
}


def _compact(structure: object) -> str:
    return json.dumps(structure, separators=(",", ":"))


def _tag(*keys: str) -> str:
    return f"coalesce({', '.join(f'sp.tags[{k!r}]' for k in keys)})"


# One row per span. Composed from the constants above only: no input text ever becomes SQL.
_SPANS_SQL = f"""
WITH docs AS (
    SELECT line_no, try(text::JSON) AS j FROM src
), items AS (
    SELECT line_no, UNNEST(CASE WHEN json_type(j) = 'ARRAY' THEN json_transform(j, '["JSON"]')
                                WHEN json_type(j) = 'OBJECT' THEN [j] END) AS item
    FROM docs
), spans AS (  -- a list of traces is a list of lists
    SELECT line_no, UNNEST(CASE WHEN json_type(item) = 'ARRAY' THEN json_transform(item, '["JSON"]')
                                ELSE [item] END) AS s
    FROM items
), decoded AS (
    SELECT line_no, try(json_transform(s, '{_compact(_SPAN)}')) AS sp
    FROM spans
    WHERE json_type(s) = 'OBJECT'
)
SELECT line_no,
       sp.traceId AS trace_raw,
       sp.id AS span_raw,
       sp.parentId AS parent_raw,
       nullif(sp.localEndpoint.serviceName, '') AS service,
       sp.name AS name,
       sp.kind AS kind_raw,
       sp.timestamp AS start_raw,
       sp.duration AS duration_raw,
       sp.shared AS shared,
       sp.remoteEndpoint.serviceName AS peer_service,
       coalesce(sp.remoteEndpoint.ipv4, sp.remoteEndpoint.ipv6) AS peer_ip,
       sp.remoteEndpoint.port AS peer_port,
       coalesce(sp.localEndpoint.ipv4, sp.localEndpoint.ipv6) AS local_ip,
       sp.tags['error'] AS error_raw,
       {_tag("http.status_code", "http.response.status_code")} AS http_raw,
       {_tag("db.system", "db.system.name")} AS db_system,
       {_tag("db.statement", "db.query.text", "sql.query")} AS db_statement,
       coalesce(map_entries(sp.tags), []) AS tag_list,
       coalesce(sp.annotations, []) AS annotations_raw
FROM decoded
WHERE sp IS NOT NULL
"""

_KINDS = {"SERVER": "SERVER", "CLIENT": "CLIENT", "PRODUCER": "PRODUCER", "CONSUMER": "CONSUMER"}


def _micros(text: pl.Expr) -> pl.Expr:
    """Epoch microseconds (a JSON number, possibly written as a float) → integer microseconds."""
    t = text.str.strip_chars()
    return pl.coalesce(
        t.cast(pl.Int64, strict=False), t.cast(pl.Float64, strict=False).round(0).cast(pl.Int64)
    )


def _normalize(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw span rows from DuckDB → canonical columns (plus ``line_no`` and raw text for reject reasons)."""
    start = _micros(pl.col("start_raw"))
    duration = _micros(pl.col("duration_raw"))
    ann = pl.element().struct
    endpoint = [
        pl.struct(key=pl.lit(k), value=pl.col(c))
        for k, c in (
            ("net.peer.name", "peer_service"),
            ("net.peer.ip", "peer_ip"),
            ("net.peer.port", "peer_port"),
            ("net.host.ip", "local_ip"),
            ("zipkin.shared", "shared"),
        )
    ]
    kv = pl.struct(key=pl.lit(""), value=pl.lit(""))  # typed empty element for concat_list
    extra = pl.concat_list([*endpoint, kv]).list.eval(
        pl.element().filter(
            pl.element().struct.field("value").is_not_null() & (pl.element().struct.field("key") != "")
        )
    )
    error = pl.col("error_raw")
    return raw.with_columns(
        ids.trace_id(pl.col("trace_raw")).alias("trace_id"),
        ids.span_id(pl.col("span_raw")).alias("span_id"),
        ids.span_id(pl.col("parent_raw")).alias("parent_span_id"),
        pl.col("kind_raw")
        .str.strip_chars()
        .str.to_uppercase()
        .replace_strict(_KINDS, default="UNSPECIFIED", return_dtype=pl.String)
        .alias("kind"),
        pl.when(start > 0).then(start).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("start_ts"),
        pl.when(start > 0)
        .then(start + duration)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .alias("end_ts"),
        otlp_json.millis(duration * 1000).alias("duration_ms"),
        pl.when(error.is_not_null()).then(pl.lit("ERROR")).otherwise(pl.lit("UNSET")).alias("status"),
        # Brave writes the message into the error tag; "true" or "" carry no message
        pl.when(~error.str.strip_chars().str.to_lowercase().is_in(["", "true", "1"]))
        .then(error)
        .alias("status_message"),
        pl.col("http_raw").str.strip_chars().cast(pl.Int64, strict=False).alias("http_status"),
        otlp_json.db_fingerprint(pl.col("db_statement"), pl.col("db_system")).alias("db_fingerprint"),
        pl.concat_list(pl.col("tag_list"), extra).alias("attributes"),
        pl.col("annotations_raw")
        .list.eval(
            pl.struct(
                _micros(ann.field("timestamp"))
                .cast(pl.Datetime("us"))
                .dt.replace_time_zone("UTC")
                .alias("ts"),
                ann.field("value").alias("name"),
            )
        )
        .alias("events"),
    )


def _reason() -> pl.Expr:
    """Why a span is dropped (null to keep it): a missing or invalid ID."""

    def problem(raw: str, norm: str, label: str) -> pl.Expr:
        absent = pl.col(raw).is_null() | (pl.col(raw).str.strip_chars() == "")
        return (
            pl.when(absent)
            .then(pl.lit(f"no {label}"))
            .when(pl.col(norm).is_null())
            .then(pl.format("invalid {} '{}'", pl.lit(label), pl.col(raw)))
        )

    parts = pl.concat_list(problem("trace_raw", "trace_id", "traceId"), problem("span_raw", "span_id", "id"))
    reasons = parts.list.drop_nulls()
    return pl.when(reasons.list.len() > 0).then(pl.format("span dropped: {}", reasons.list.join(", ")))


# --- the parser contract ------------------------------------------------------------------------------------


def sniff(head: list[str]) -> float:
    """High for Zipkin v2 spans: ``traceId`` and ``id`` with Zipkin keys (endpoints, kind, annotations)."""
    text = "\n".join(line for line in head if line.strip())
    if not text.lstrip().startswith(("{", "[")):
        return 0.0
    if '"resourceSpans"' in text or '"batches"' in text or '"traceID"' in text or '"spanId"' in text:
        return 0.0
    if '"traceId"' not in text or '"id"' not in text:
        return 0.0
    zipkin = any(k in text for k in ('"localEndpoint"', '"remoteEndpoint"', '"annotations"', '"shared"'))
    return 0.9 if zipkin or '"kind"' in text or '"timestamp"' in text else 0.5


def record_start(lines: pl.Series) -> pl.Series | None:
    """None for one document (array or span) per line; else the lines that open a pretty-printed document."""
    return otlp_json.document_starts(lines)


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of Zipkin v2 JSON documents: one row per span; blank lines are skipped."""
    return otlp_json.parse_span_documents(
        lines, ctx, name, _SPANS_SQL, _normalize, _reason(), _spanless_problem
    )


def _spanless_problem(text: str) -> str | None:
    """Why a document gave no span row, or None for an empty list (``[]``, ``[[]]``)."""
    try:
        value = json.loads(text)
    except ValueError as err:
        return f"invalid JSON: {err}"
    if isinstance(value, list) and all(isinstance(v, list) and not v for v in value):
        return None
    return "not Zipkin v2 JSON (expected a span object, an array of spans or a list of traces)"
