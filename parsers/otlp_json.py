"""OTLP/JSON trace exports: one ``ExportTraceServiceRequest`` per line, or pretty-printed documents.

This is what the OpenTelemetry Collector file exporter writes
(``{"resourceSpans":[{"resource":{...},"scopeSpans":[{"scope":{...},"spans":[...]}]}]}``). The same line
may also be Tempo's legacy ``{"batches":[...]}`` (with the older ``instrumentationLibrarySpans`` key) or a
Jaeger API v3 ``{"result":{"resourceSpans":[...]}}`` stream item. One output row per span.

How it works, columnar end to end:

1. DuckDB decodes every document with ``json_transform`` and one explicit structure (so no key is ever lost
   to schema inference, and ``kind: 2`` and ``kind: "SPAN_KIND_SERVER"`` both arrive as text), unnests
   resources → scopes → spans, and renders typed attribute values (``stringValue``, ``intValue``, ...) as
   text.
2. polars normalizes IDs (hex in any case, or protobuf-JSON base64), nanosecond times, kind and status,
   and picks the well-known attributes (HTTP status, database system and statement).

:func:`parse_documents` takes whole JSON documents with the line they start on. A pretty-printed file (the
examples in opentelemetry-proto, Jaeger's integration fixtures) is one document over many lines:
:func:`document_starts` tells the reader where documents begin, so the whole document arrives as one chunk,
and :func:`documents` groups a chunk's lines into documents. The Jaeger and Zipkin JSON parsers share these
two functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import duckdb
import polars as pl
import pyarrow as pa

from parsers import base, ids, schema, sqltext
from parsers.base import Kind, ParseContext, ParseResult

name = "otlp-json"
kind: Kind = "spans"
block_bytes = 32 * 1024 * 1024  # read blocks (see parsers.base.Parser)
description = (
    "OpenTelemetry OTLP/JSON trace exports, one request per line (Collector file exporter, Tempo, Jaeger v3)"
)
example = (
    '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name",'
    '"value":{"stringValue":"order-service"}}]},"scopeSpans":[{"scope":{"name":"io.opentelemetry.tomcat-10.0"},'
    '"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","parentSpanId":"",'
    '"name":"POST /orders","kind":2,"startTimeUnixNano":"1794925925000000000",'
    '"endTimeUnixNano":"1794925925245000000","attributes":[{"key":"http.response.status_code",'
    '"value":{"intValue":"502"}}],"status":{"code":2}}]}]}]}'
)

# --- the JSON structure DuckDB decodes each document into -------------------------------------------------
# Every scalar is VARCHAR: OTLP/JSON writers disagree on numbers vs strings (nanos, intValue, kind,
# status.code) and VARCHAR accepts both. Array and kvlist values stay raw JSON here and are decoded again
# only where present (decoding them in the main structure makes every attribute value a deep struct).
_VALUE = {
    **{k: "VARCHAR" for k in ("stringValue", "intValue", "doubleValue", "boolValue", "bytesValue")},
    "arrayValue": "JSON",
    "kvlistValue": "JSON",
}
_ARRAY = {"values": [_VALUE]}
_KVLIST = {"values": [{"key": "VARCHAR", "value": _VALUE}]}
_ATTRS = [{"key": "VARCHAR", "value": _VALUE}]
_SPAN = {
    "traceId": "VARCHAR",
    "spanId": "VARCHAR",
    "parentSpanId": "VARCHAR",
    "name": "VARCHAR",
    "kind": "VARCHAR",
    "startTimeUnixNano": "VARCHAR",
    "endTimeUnixNano": "VARCHAR",
    "attributes": _ATTRS,
    "events": [{"timeUnixNano": "VARCHAR", "name": "VARCHAR", "attributes": _ATTRS}],
    "links": [{"traceId": "VARCHAR", "spanId": "VARCHAR", "attributes": _ATTRS}],
    "status": {"code": "VARCHAR", "message": "VARCHAR"},
}
_SCOPE_SPANS = [{"spans": [_SPAN]}]
_RESOURCE_SPANS = [
    {
        "resource": {"attributes": _ATTRS},
        "scopeSpans": _SCOPE_SPANS,
        "instrumentationLibrarySpans": _SCOPE_SPANS,
    }
]
_DOCUMENT = {
    "resourceSpans": _RESOURCE_SPANS,  # OTLP ExportTraceServiceRequest
    "batches": _RESOURCE_SPANS,  # Tempo (legacy)
    "result": {"resourceSpans": _RESOURCE_SPANS},  # Jaeger API v3
}


def _compact(structure: object) -> str:
    return json.dumps(structure, separators=(",", ":"))


def _json_text(v: str) -> str:
    """SQL: an AnyValue ``v`` inside an array or kvlist as JSON text (strings quoted, numbers bare).

    Arrays and kvlists nested two levels deep keep their OTLP JSON form.
    """
    return (
        f"coalesce(to_json({v}.stringValue)::VARCHAR, {v}.intValue,"
        f" CASE WHEN regexp_full_match({v}.doubleValue, '-?[0-9][0-9.eE+-]*') THEN {v}.doubleValue"
        f" ELSE to_json({v}.doubleValue)::VARCHAR END,"
        f" {v}.boolValue, to_json({v}.bytesValue)::VARCHAR,"
        f" {v}.arrayValue::VARCHAR, {v}.kvlistValue::VARCHAR, 'null')"
    )


def _value_text(v: str) -> str:
    """SQL: an AnyValue ``v`` as text; arrays and kvlists as compact JSON (``["a",1]``, ``{"k":"v"}``)."""
    items = f"json_transform({v}.arrayValue, '{_compact(_ARRAY)}').\"values\""
    item = _json_text("e")
    array = f"'[' || coalesce(array_to_string(list_transform({items}, lambda e: {item}), ','), '') || ']'"
    pairs = f"json_transform({v}.kvlistValue, '{_compact(_KVLIST)}').\"values\""
    pair = f"to_json(p.key)::VARCHAR || ':' || {_json_text('p.value')}"
    kvlist = f"'{{' || coalesce(array_to_string(list_transform({pairs}, lambda p: {pair}), ','), '') || '}}'"
    return (
        f"coalesce({v}.stringValue, {v}.intValue, {v}.doubleValue, {v}.boolValue, {v}.bytesValue,"
        f" CASE WHEN {v}.arrayValue IS NOT NULL THEN {array} END,"
        f" CASE WHEN {v}.kvlistValue IS NOT NULL THEN {kvlist} END)"
    )


def _attrs(list_sql: str) -> str:
    """SQL: an OTLP attribute list as ``list<struct{key, value}>`` with text values."""
    # coalesce outside list_transform: coalesce(list, []) inside it makes DuckDB copy every list (2x slower)
    pair = f"{{'key': kv.key, 'value': {_value_text('kv.value')}}}"
    return f"coalesce(list_transform({list_sql}, lambda kv: {pair}), [])"


def _attr(list_sql: str, *keys: str) -> str:
    """SQL: the rendered value of the first of ``keys`` present in an already rendered attribute list."""
    picks = [f"list_filter({list_sql}, lambda kv: kv.key = '{k}')[1].value" for k in keys]
    return picks[0] if len(picks) == 1 else f"coalesce({', '.join(picks)})"


# One row per span. Composed from the constants above only: no input text ever becomes SQL.
# A document that is not JSON decodes to NULL (try) and yields no span; parse_documents looks at those.
_SPANS_SQL = f"""
WITH docs AS (
    SELECT line_no, try(json_transform(text, '{_compact(_DOCUMENT)}')) AS d
    FROM src
), resources AS (
    SELECT line_no, UNNEST(coalesce(d.resourceSpans, d.batches, d.result.resourceSpans)) AS r
    FROM docs
), scopes AS (
    SELECT line_no, res_attrs, {_attr("res_attrs", "service.name")} AS service,
           UNNEST(list_concat(r.scopeSpans, r.instrumentationLibrarySpans)) AS s
    FROM (SELECT line_no, r, {_attrs("r.resource.attributes")} AS res_attrs FROM resources)
), spans AS (
    SELECT line_no, res_attrs, service, UNNEST(s.spans) AS sp
    FROM scopes
), rendered AS (
    SELECT line_no, res_attrs, service, sp, {_attrs("sp.attributes")} AS attrs
    FROM spans
)
SELECT line_no,
       sp.traceId AS trace_raw,
       sp.spanId AS span_raw,
       sp.parentSpanId AS parent_raw,
       service,
       sp.name AS name,
       sp.kind AS kind_raw,
       sp.startTimeUnixNano AS start_raw,
       sp.endTimeUnixNano AS end_raw,
       sp.status.code AS status_raw,
       sp.status.message AS status_message,
       {_attr("attrs", "http.response.status_code", "http.status_code")} AS http_raw,
       {_attr("attrs", "db.system", "db.system.name")} AS db_system,
       {_attr("attrs", "db.statement", "db.query.text")} AS db_statement,
       attrs AS attributes,
       res_attrs AS resource_attributes,
       coalesce(list_transform(sp.events, lambda e: {{
           'time': e.timeUnixNano, 'name': e.name, 'attributes': {_attrs("e.attributes")}
       }}), []) AS events_raw,
       coalesce(list_transform(sp.links, lambda k: {{
           'traceId': k.traceId, 'spanId': k.spanId, 'attributes': {_attrs("k.attributes")}
       }}), []) AS links_raw
FROM rendered
"""

# --- normalization (polars) ---------------------------------------------------------------------------------

_KINDS = {"0": "UNSPECIFIED", "1": "INTERNAL", "2": "SERVER", "3": "CLIENT", "4": "PRODUCER", "5": "CONSUMER"}
_KIND_NAMES = {f"SPAN_KIND_{v}": v for v in _KINDS.values()}
_STATUSES = {"1": "OK", "STATUS_CODE_OK": "OK", "2": "ERROR", "STATUS_CODE_ERROR": "ERROR"}

# protobuf JSON renders `bytes` IDs as padded base64: 16 bytes -> 24 chars (`==`), 8 bytes -> 12 chars (`=`).
# Hex never contains `=`, so the padding tells base64 apart from a hex ID that lost its leading zeros.
_B64_16 = "^[A-Za-z0-9+/_-]{22}==$"
_B64_8 = "^[A-Za-z0-9+/_-]{11}=$"


def _unbase64(expr: pl.Expr, pattern: str) -> pl.Expr:
    """Base64 IDs matching ``pattern`` become hex; anything else passes through unchanged."""
    raw = expr.str.strip_chars()
    standard = raw.str.replace_all("-", "+", literal=True).str.replace_all("_", "/", literal=True)
    decoded = standard.str.decode("base64", strict=False).bin.encode("hex")
    return pl.when(raw.str.contains(pattern)).then(decoded).otherwise(raw)


def any_trace_id(expr: pl.Expr) -> pl.Expr:
    """Canonical trace ID from hex in any form or protobuf-JSON base64 (also used by the Jaeger parser)."""
    return ids.trace_id(_unbase64(expr, f"{_B64_16}|{_B64_8}"))


def any_span_id(expr: pl.Expr) -> pl.Expr:
    """Canonical span ID from hex in any form or protobuf-JSON base64."""
    return ids.span_id(_unbase64(expr, _B64_8))


_trace_id = any_trace_id
_span_id = any_span_id


def nanos(expr: pl.Expr) -> pl.Expr:
    """Epoch nanoseconds from JSON text (``"1544712660000000000"``, or a number, even in ``1.5e18`` form).

    Null for 0 (protobuf's "unset"), negative, NaN or out-of-range values (DuckDB accepts NaN in JSON).
    """
    text = expr.str.strip_chars()
    real = text.cast(pl.Float64, strict=False)
    in_range = pl.when(real.is_finite() & (real.abs() < 9.2e18)).then(real)
    ns = pl.coalesce(text.cast(pl.Int64, strict=False), in_range.cast(pl.Int64, strict=False))
    return pl.when(ns > 0).then(ns)


def timestamp_ns(ns: pl.Expr) -> pl.Expr:
    """Epoch nanoseconds → ``timestamp[us, UTC]``."""
    return _timestamp(ns)


def _timestamp(ns: pl.Expr) -> pl.Expr:
    return (ns // 1000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def millis(ns: pl.Expr) -> pl.Expr:
    """Nanoseconds → milliseconds, correctly rounded."""
    return _millis(ns)


def _millis(ns: pl.Expr) -> pl.Expr:
    """Nanoseconds → milliseconds, correctly rounded (84000 ns is 0.084, not 0.08399999999999999).

    polars divides by a scalar as a multiplication by its reciprocal; parsing ``<ns>e-6`` rounds once.
    """
    return pl.format("{}e-6", ns).cast(pl.Float64)


def db_fingerprint(statement: pl.Expr, system: pl.Expr) -> pl.Expr:
    """The slow-log fingerprint of a span's statement, in the SQL dialect of its ``db.system``."""
    return _fingerprint(statement, system)


def _fingerprint(statement: pl.Expr, system: pl.Expr) -> pl.Expr:
    """The slow-log fingerprint of ``db.statement``, in the SQL dialect of ``db.system``."""
    postgres = system.str.to_lowercase().is_in(["postgresql", "postgres"]).fill_null(False)
    return pl.coalesce(
        sqltext.fingerprint(pl.when(postgres).then(statement), dialect="postgresql"),
        sqltext.fingerprint(pl.when(~postgres).then(statement)),
    )


def _normalize(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw span rows from DuckDB → canonical columns (plus ``line_no`` and the raw ID text for rejects)."""
    start_ns, end_ns = nanos(pl.col("start_raw")), nanos(pl.col("end_raw"))
    kind_text = pl.col("kind_raw").str.strip_chars()
    event = pl.element().struct
    link = pl.element().struct
    return raw.with_columns(
        _trace_id(pl.col("trace_raw")).alias("trace_id"),
        _span_id(pl.col("span_raw")).alias("span_id"),
        _span_id(pl.col("parent_raw")).alias("parent_span_id"),
        kind_text.replace_strict(_KINDS | _KIND_NAMES, default="UNSPECIFIED", return_dtype=pl.String).alias(
            "kind"
        ),
        _timestamp(start_ns).alias("start_ts"),
        _timestamp(end_ns).alias("end_ts"),
        _millis(end_ns - start_ns).alias("duration_ms"),
        pl.col("status_raw")
        .str.strip_chars()
        .replace_strict(_STATUSES, default="UNSET", return_dtype=pl.String)
        .alias("status"),
        pl.col("status_message").replace("", None),
        pl.col("http_raw").str.strip_chars().cast(pl.Int64, strict=False).alias("http_status"),
        _fingerprint(pl.col("db_statement"), pl.col("db_system")).alias("db_fingerprint"),
        pl.col("events_raw")
        .list.eval(
            pl.struct(
                _timestamp(nanos(event.field("time"))).alias("ts"),
                event.field("name"),
                event.field("attributes"),
            )
        )
        .alias("events"),
        pl.col("links_raw")
        .list.eval(
            pl.struct(
                _trace_id(link.field("traceId")).alias("trace_id"),
                _span_id(link.field("spanId")).alias("span_id"),
                link.field("attributes"),
            )
        )
        .alias("links"),
    )


def _missing_id_reason() -> pl.Expr:
    """Why a span has no usable ID (null when it has both)."""

    def problem(raw: str, norm: str, label: str) -> pl.Expr:
        absent = pl.col(raw).is_null() | (pl.col(raw).str.strip_chars() == "")
        return (
            pl.when(absent)
            .then(pl.lit(f"no {label}"))
            .when(pl.col(norm).is_null())
            .then(pl.format("invalid {} '{}'", pl.lit(label), pl.col(raw)))
        )

    parts = pl.concat_list(
        problem("trace_raw", "trace_id", "traceId"), problem("span_raw", "span_id", "spanId")
    )
    reasons = parts.list.drop_nulls()
    return pl.when(reasons.list.len() > 0).then(pl.format("span dropped: {}", reasons.list.join(", ")))


# --- the parser contract ------------------------------------------------------------------------------------

_EXPORT_HEAD = re.compile(
    r'^[ \t]*\{[ \t]*("resourceSpans"|"batches"|"result"[ \t]*:[ \t]*\{[ \t]*"resourceSpans")'
)


_PRETTY_HEAD = re.compile(r'^[ \t]*"(resourceSpans|batches)"[ \t]*:|^[ \t]*"result"[ \t]*:[ \t]*\{?[ \t]*$')


def sniff_export(
    head: list[str],
    export_head: re.Pattern[str],
    pretty_head: re.Pattern[str],
    inline_keys: tuple[str, ...],
    required_any: tuple[str, ...],
) -> float:
    """Sniff for an OTLP export kind.

    0.95 × the share of head lines that are one export each (``export_head`` matches, or the line is an object
    holding every one of ``inline_keys``); else 0.9 for a pretty-printed document ("{" alone, then
    ``pretty_head`` on one of the next lines, and one of ``required_any`` somewhere in the head)."""
    lines = [line for line in head if line.strip()]
    if not lines:
        return 0.0
    hits = sum(
        1
        for line in lines
        if export_head.match(line) or (line.lstrip().startswith("{") and all(k in line for k in inline_keys))
    )
    if hits:
        return 0.95 * hits / len(lines)
    text = "\n".join(lines)
    pretty = lines[0].lstrip().startswith("{") and any(pretty_head.match(line) for line in lines[1:4])
    return 0.9 if pretty and any(k in text for k in required_any) else 0.0


def sniff(head: list[str]) -> float:
    """High when the head is OTLP trace export lines or a pretty-printed export; 0 for JSON log lines."""
    return sniff_export(
        head, _EXPORT_HEAD, _PRETTY_HEAD, ('"resourceSpans"', '"spans"'), ('"resourceSpans"', '"batches"')
    )


def record_start(lines: pl.Series) -> pl.Series | None:
    """None for JSON lines (every line a whole export); else the lines that open a pretty-printed document."""
    return document_starts(lines)


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of export lines or whole documents: one row per span; blank lines are skipped."""
    docs, skipped = documents(lines)
    result = parse_documents(docs, ctx)
    result.skipped_lines = skipped
    return result


# --- JSON documents over lines (shared with the Jaeger and Zipkin JSON parsers) ---------------------------

# A line opening (or closing) a top-level document starts at column 0; lines inside a pretty-printed
# document are indented.
_OPENS = r"^[\[{]"
_CLOSES = r"^[\]}]"
_HEAD_LINES = 5


def document_starts(lines: pl.Series) -> pl.Series | None:
    """Record-start mask for JSON documents, or None when the lines are JSON lines.

    JSON lines: one of the first non-blank lines is a whole object or array at column 0 (``{...}``, ``[...]``;
    the first may be a truncated or foreign line). Otherwise a line
    starts a document when it opens one at column 0 and the previous non-blank line closed one at column 0
    (or there is none), so a pretty-printed document comes whole and concatenated documents split.
    """
    text = lines.cast(pl.String).fill_null("").str.strip_chars_end()
    frame = pl.DataFrame({"t": text}).with_columns(blank=pl.col("t").str.strip_chars() == "")
    head = frame.filter(~pl.col("blank")).get_column("t").head(_HEAD_LINES).to_list()
    if not head or any((line[0] + line[-1]) in ("{}", "[]") for line in head):
        return None
    closed = pl.when(~pl.col("blank")).then(pl.col("t").str.contains(_CLOSES))
    return frame.select(
        (pl.col("t").str.contains(_OPENS) & closed.forward_fill().shift(1).fill_null(True)).alias("start")
    ).to_series()


def documents(lines: pl.Series) -> tuple[pl.DataFrame, int]:
    """The JSON documents of a chunk and the number of blank lines.

    Returns a frame of ``line_no`` (0-based line of the document's first non-blank line), ``text`` (its
    non-blank lines joined by newlines) and ``n_lines`` (how many non-blank lines it spans). In JSON-lines
    mode every non-blank line is a document.
    """
    frame = pl.DataFrame({"text": lines.cast(pl.String)}).with_row_index("line_no")
    frame = frame.with_columns(
        pl.col("line_no").cast(pl.Int64),
        blank=pl.col("text").is_null() | (pl.col("text").str.strip_chars() == ""),
    )
    starts = document_starts(lines)
    if starts is None:
        docs = frame.filter(~pl.col("blank")).select("line_no", "text", n_lines=pl.lit(1, dtype=pl.Int64))
    else:
        docs = (
            frame.with_columns(doc=starts.cum_sum())
            .filter(~pl.col("blank"))
            .group_by("doc", maintain_order=True)
            .agg(
                pl.col("line_no").first(),
                pl.col("text").str.join("\n"),
                pl.len().cast(pl.Int64).alias("n_lines"),
            )
            .drop("doc")
        )
    return docs, int(frame.get_column("blank").sum())


def strict_json_problem(docs: pl.DataFrame) -> pl.Series:
    """Why each multi-line document is not strict JSON (null when it is, and for one-line documents).

    DuckDB's reader accepts trailing commas and NaN; a pretty-printed file with a trailing comma is a broken
    export and must be reported. One ``json.loads`` per multi-line document (there are few of them).
    """

    def problem(text: str) -> str | None:
        try:
            json.loads(text)
        except ValueError as err:
            return f"invalid JSON: {err}"
        return None

    multi = (
        (docs.get_column("n_lines") > 1) if "n_lines" in docs.columns else pl.Series([False] * docs.height)
    )
    texts = docs.get_column("text").to_list()
    reasons = [problem(t) if m else None for t, m in zip(texts, multi.to_list(), strict=True)]
    return pl.Series("reason", reasons, dtype=pl.String)


def parse_documents(docs: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    """Parse whole JSON documents: ``docs`` has ``text`` and ``line_no`` (0-based line where it starts).

    ``docs`` may also have ``n_lines`` (the lines a document spans, default 1). Line accounting counts those
    lines: a document's lines are record lines when it yields a span or is a valid export with no spans,
    else reject lines. ``skipped_lines`` is left at 0 for the caller to fill.
    """
    docs = prepare_documents(docs)
    valid = docs.filter(pl.col("reason").is_null())
    spans = _normalize(_decode(valid)).with_columns(_missing_id_reason().alias("reason"))
    return finish_documents(docs, spans, _spanless_problem, ctx, name)


def prepare_documents(docs: pl.DataFrame) -> pl.DataFrame:
    """``line_no``, ``text``, ``n_lines`` and ``reason`` (why a multi-line document is not strict JSON)."""
    n_lines = pl.col("n_lines") if "n_lines" in docs.columns else pl.lit(1)
    docs = docs.select(
        pl.col("line_no").cast(pl.Int64),
        pl.col("text").cast(pl.String),
        n_lines.cast(pl.Int64).alias("n_lines"),
    )
    return docs.with_columns(strict_json_problem(docs))


def finish_documents(
    docs: pl.DataFrame,
    spans: pl.DataFrame,
    spanless_problem: Callable[[str], str | None],
    ctx: ParseContext,
    fmt: str,
) -> ParseResult:
    """Records, rejects and line accounting from decoded documents.

    ``docs`` comes from :func:`prepare_documents`; ``spans`` has canonical span columns, ``line_no`` and
    ``reason`` (why a span is dropped, null to keep it). A document without any span row goes through
    ``spanless_problem`` (its text → why it is rejected, or None for a valid export with no spans).
    """
    good = spans.filter(pl.col("reason").is_null())
    bad_spans = spans.filter(pl.col("reason").is_not_null()).select("line_no", "reason")

    # Documents without a single span row are rare (empty exports, garbage): explain them one by one.
    spanless = docs.join(spans.select("line_no").unique(), on="line_no", how="anti")
    problems = [
        reason if reason is not None else spanless_problem(text)
        for text, reason in zip(
            spanless.get_column("text").to_list(), spanless.get_column("reason").to_list(), strict=True
        )
    ]
    spanless = spanless.with_columns(pl.Series("reason", problems, dtype=pl.String))
    empty_exports = spanless.filter(pl.col("reason").is_null())

    rejects = pl.concat(
        [
            spanless.filter(pl.col("reason").is_not_null()).select(
                "line_no", "reason", pl.col("text").alias("raw")
            ),
            bad_spans.join(docs.select("line_no", "text"), on="line_no").select(
                "line_no", "reason", pl.col("text").alias("raw")
            ),
        ]
    ).sort("line_no", maintain_order=True)

    kept = pl.concat([good.select("line_no").unique(), empty_exports.select("line_no")])
    record_lines = int(docs.join(kept, on="line_no", how="semi").get_column("n_lines").sum())
    return ParseResult(
        records=base.finish(good, ctx, fmt, schema.SPANS),
        rejects=base.rejects_frame(rejects, ctx, fmt),
        record_lines=record_lines,
        reject_lines=int(docs.get_column("n_lines").sum()) - record_lines,
        skipped_lines=0,
        notes={"spans": good.height, "rejected_spans": bad_spans.height},
    )


_DOCS_PER_BATCH = 1024


def _decode(docs: pl.DataFrame) -> pl.DataFrame:
    """DuckDB pass: one raw row per span, attribute values rendered to text."""
    return duckdb_rows(docs, _SPANS_SQL)


def _spanless_problem(text: str) -> str | None:
    """Why a document gave no span row, or None for a valid export without spans (a record, not a reject).

    A slow path, one document at a time: it only sees documents that yielded no span.
    """
    try:
        value = json.loads(text)
    except ValueError as err:
        return f"invalid JSON: {err}"
    if not isinstance(value, dict) or not value.keys() & {"resourceSpans", "batches", "result"}:
        return "not an OTLP trace export (no resourceSpans, batches or result)"
    resources = _resource_spans(value)
    if resources is None:
        return "malformed OTLP trace export: resourceSpans/batches/result has the wrong JSON type"
    if _count_spans(resources):
        # json.loads accepted what DuckDB's decoder refused (NaN, Infinity, ...): never lose spans silently.
        return "invalid JSON: DuckDB's JSON decoder refused this export (non-standard JSON such as NaN?)"
    return None


def _resource_spans(doc: dict[str, object]) -> list[object] | None:
    """The resourceSpans list of an export; [] when protobuf JSON omitted it; None when it is not a list."""
    holder: object = doc.get("result") if "result" in doc else doc
    if not isinstance(holder, dict):
        return None
    value = holder.get("batches") if "batches" in holder else holder.get("resourceSpans")
    if value is None:
        return []
    return value if isinstance(value, list) else None


def _count_spans(resources: list[object]) -> int:
    count = 0
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        for key in ("scopeSpans", "instrumentationLibrarySpans"):
            scopes = resource.get(key)
            for scope in scopes if isinstance(scopes, list) else []:
                spans = scope.get("spans") if isinstance(scope, dict) else None
                count += len(spans) if isinstance(spans, list) else 0
    return count


def duckdb_rows(docs: pl.DataFrame, sql: str) -> pl.DataFrame:
    """Run ``sql`` (which reads the table ``src``) over the documents in a private DuckDB connection."""
    # DuckDB scans one Arrow record batch per thread: several batches let it decode in parallel.
    table = docs.to_arrow()
    src = pa.Table.from_batches(table.to_batches(max_chunksize=_DOCS_PER_BATCH), schema=table.schema)
    with duckdb.connect() as con:
        con.register("src", src)
        rows = con.sql(sql).to_arrow_table()
    frame = pl.from_arrow(rows)
    assert isinstance(frame, pl.DataFrame)
    return frame


def parse_span_documents(
    lines: pl.Series,
    ctx: ParseContext,
    fmt: str,
    sql: str,
    normalize: Callable[[pl.DataFrame], pl.DataFrame],
    reason: pl.Expr,
    spanless_problem: Callable[[str], str | None],
) -> ParseResult:
    """The whole parse of a JSON span-export format (Jaeger, Zipkin): documents → DuckDB ``sql`` (one raw row
    per span) → ``normalize`` → ``reason`` (why a span is dropped) → records, rejects and line accounting."""
    docs, skipped = documents(lines)
    docs = prepare_documents(docs)
    raw = duckdb_rows(docs.filter(pl.col("reason").is_null()), sql)
    spans = normalize(raw).with_columns(reason.alias("reason"))
    result = finish_documents(docs, spans, spanless_problem, ctx, fmt)
    result.skipped_lines = skipped
    return result
