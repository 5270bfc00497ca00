"""OTLP/JSON log exports: one ``ExportLogsServiceRequest`` per line, or pretty-printed documents.

This is what the OpenTelemetry Collector file exporter writes for the logs pipeline
(``{"resourceLogs":[{"resource":{...},"scopeLogs":[{"scope":{...},"logRecords":[...]}]}]}``); the pre-1.0
``instrumentationLibraryLogs`` key is read too. Events are log records with an ``eventName``. One output
row per log record.

The document handling is the OTLP trace parser's (:mod:`parsers.otlp_json`): :func:`otlp_json.documents`
groups lines into documents (line-per-export or pretty-printed), DuckDB decodes every document with one
explicit structure and renders typed values (``stringValue``, ``intValue``, arrays, kvlists) as text, and
:func:`otlp_json.finish_documents` does rejects and line accounting.

Columns: ``ts`` from ``timeUnixNano`` (else ``observedTimeUnixNano``), ``level`` from ``severityText``
(else ``severityNumber``), ``message`` from ``body``, ``trace_id``/``span_id`` (hex or base64), ``service``
and ``host`` from the resource's ``service.name`` / ``host.name``, ``logger`` from the scope name.
``attributes`` holds the record's attributes plus ``event.name``, ``severity_number`` and ``flags`` when
present (a record attribute of the same name wins). A record without any time is rejected.
"""

from __future__ import annotations

import json
import re

import polars as pl

from parsers import base, levels, otlp_json, schema
from parsers.base import Kind, ParseContext, ParseResult

name = "otlp-logs"
kind: Kind = "logs"
description = "OpenTelemetry OTLP/JSON log exports, one request per line (Collector file exporter) or pretty"
example = (
    '{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name",'
    '"value":{"stringValue":"order-service"}}]},"scopeLogs":[{"scope":{"name":"com.example.OrderController"},'
    '"logRecords":[{"timeUnixNano":"1794925925101234000","severityNumber":17,"severityText":"ERROR",'
    '"body":{"stringValue":"payment declined"},"traceId":"4bf92f3577b34da6a3ce929d0e0e4736",'
    '"spanId":"00f067aa0ba902b7","attributes":[{"key":"order.id","value":{"stringValue":"A-1042"}}]}]}]}]}'
)

# --- the JSON structure DuckDB decodes each document into -------------------------------------------------
# Scalars are VARCHAR (writers disagree on numbers vs strings for nanos, severityNumber and flags); typed
# values and attribute lists use the trace parser's structures so they render the same way.
_RECORD = {
    "timeUnixNano": "VARCHAR",
    "observedTimeUnixNano": "VARCHAR",
    "severityNumber": "VARCHAR",
    "severityText": "VARCHAR",
    "eventName": "VARCHAR",
    "body": otlp_json._VALUE,
    "attributes": otlp_json._ATTRS,
    "flags": "VARCHAR",
    "traceId": "VARCHAR",
    "spanId": "VARCHAR",
}
_SCOPE_LOGS = [
    {
        "scope": {"name": "VARCHAR"},
        "instrumentationLibrary": {"name": "VARCHAR"},
        "logRecords": [_RECORD],
    }
]
_DOCUMENT = {
    "resourceLogs": [
        {
            "resource": {"attributes": otlp_json._ATTRS},
            "scopeLogs": _SCOPE_LOGS,
            "instrumentationLibraryLogs": _SCOPE_LOGS,
        }
    ]
}

_attrs = otlp_json._attrs
_attr = otlp_json._attr

# One row per log record, in document order. Composed from constants only: no input text becomes SQL.
# A document that is not JSON decodes to NULL (try) and yields no row; finish_documents explains those.
_RECORDS_SQL = f"""
WITH docs AS (
    SELECT line_no, try(json_transform(text, '{otlp_json._compact(_DOCUMENT)}')) AS d
    FROM src
), resources AS (
    SELECT line_no, UNNEST(d.resourceLogs) AS r, UNNEST(range(len(d.resourceLogs))) AS ri
    FROM docs
), scopes AS (
    SELECT line_no, ri, {_attr("res_attrs", "service.name")} AS service,
           {_attr("res_attrs", "host.name")} AS host,
           UNNEST(sl) AS s, UNNEST(range(len(sl))) AS si
    FROM (
        SELECT line_no, ri, {_attrs("r.resource.attributes")} AS res_attrs,
               list_concat(r.scopeLogs, r.instrumentationLibraryLogs) AS sl
        FROM resources
    )
), records AS (
    SELECT line_no, ri, si, service, host, coalesce(s.scope.name, s.instrumentationLibrary.name) AS logger,
           UNNEST(s.logRecords) AS lr, UNNEST(range(len(s.logRecords))) AS li
    FROM scopes
)
SELECT line_no,
       lr.timeUnixNano AS time_raw,
       lr.observedTimeUnixNano AS observed_raw,
       lr.severityText AS severity_text,
       lr.severityNumber AS severity_raw,
       {otlp_json._value_text("lr.body")} AS message,
       lr.traceId AS trace_raw,
       lr.spanId AS span_raw,
       nullif(trim(lr.eventName), '') AS event_name,
       lr.flags AS flags,
       service,
       host,
       nullif(logger, '') AS logger,
       {_attrs("lr.attributes")} AS record_attributes
FROM records
ORDER BY line_no, ri, si, li
"""

# protobuf JSON may write the SeverityNumber enum by name: SEVERITY_NUMBER_INFO = 9, ..._INFO4 = 12.
_SEVERITY_NAMES = {
    f"SEVERITY_NUMBER_{level}{suffix}": str(4 * i + j + 1)
    for i, level in enumerate(levels.LEVELS)
    for j, suffix in enumerate(("", "2", "3", "4"))
} | {"SEVERITY_NUMBER_UNSPECIFIED": "0"}


def _severity_number(expr: pl.Expr) -> pl.Expr:
    """``severityNumber`` as a decimal string, whether written as a number or as the enum name."""
    text = expr.str.strip_chars()
    number = text.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False).cast(pl.String)
    named = text.str.to_uppercase().replace_strict(_SEVERITY_NAMES, default=None, return_dtype=pl.String)
    return pl.coalesce(number, named)


def _extra(key: str, value: pl.Expr) -> pl.Expr:
    """A one-entry attribute list ``[{key, value}]``, or an empty list when the value is null or the record
    already has an attribute called ``key``."""
    present = pl.col("record_attributes").list.eval(pl.element().struct.field("key") == key).list.any()
    entry = pl.concat_list(pl.struct(pl.lit(key).alias("key"), value.alias("value")))
    return pl.when(value.is_not_null() & ~present).then(entry).otherwise(pl.lit([], dtype=schema.KV))


def _normalize(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw record rows from DuckDB → canonical LOGS columns plus ``line_no`` and ``reason``."""
    ns = pl.coalesce(otlp_json.nanos(pl.col("time_raw")), otlp_json.nanos(pl.col("observed_raw")))
    text = pl.col("severity_text")
    flags = pl.col("flags").str.strip_chars()
    frame = raw.with_columns(
        _severity_number(pl.col("severity_raw")).alias("severity_number"),
        pl.when(flags != "").then(flags).alias("flags"),
    )
    return frame.with_columns(
        otlp_json.timestamp_ns(ns).alias("ts"),
        pl.coalesce(
            levels.level_from_text(text, keep_unknown=False),
            levels.level_from_severity_number(pl.col("severity_number")),
            levels.level_from_text(text),  # an unknown word is kept (upper-cased) rather than lost
        ).alias("level"),
        otlp_json.any_trace_id(pl.col("trace_raw")).alias("trace_id"),
        otlp_json.any_span_id(pl.col("span_raw")).alias("span_id"),
        pl.concat_list(
            pl.col("record_attributes").cast(schema.KV),
            _extra("event.name", pl.col("event_name")),
            _extra("severity_number", pl.col("severity_number")),
            _extra("flags", pl.col("flags")),
        ).alias("attributes"),
        pl.when(ns.is_null())
        .then(pl.lit("log record dropped: no usable timeUnixNano or observedTimeUnixNano"))
        .alias("reason"),
    )


def _decode(docs: pl.DataFrame) -> pl.DataFrame:
    """DuckDB pass: one raw row per log record, typed values rendered to text."""
    return otlp_json.duckdb_rows(docs.select("line_no", "text"), _RECORDS_SQL)


def _recordless_problem(text: str) -> str | None:
    """Why a document gave no log record row, or None for a valid export without records.

    A slow path, one document at a time: it only sees documents that yielded no record.
    """
    try:
        value = json.loads(text)
    except ValueError as err:
        return f"invalid JSON: {err}"
    if not isinstance(value, dict) or "resourceLogs" not in value:
        return "not an OTLP logs export (no resourceLogs)"
    resources = value["resourceLogs"]
    if resources is None:
        return None
    if not isinstance(resources, list):
        return "malformed OTLP logs export: resourceLogs is not a list"
    count = 0
    for resource in resources:
        if not isinstance(resource, dict):
            return "malformed OTLP logs export: a resourceLogs entry is not an object"
        for key in ("scopeLogs", "instrumentationLibraryLogs"):
            scopes = resource.get(key) or []
            if not isinstance(scopes, list) or not all(isinstance(s, dict) for s in scopes):
                return f"malformed OTLP logs export: {key} is not a list of objects"
            for scope in scopes:
                records = scope.get("logRecords") or []
                if not isinstance(records, list):
                    return "malformed OTLP logs export: logRecords is not a list"
                count += len(records)
    if count:
        # json.loads accepted what DuckDB refused (NaN, wrong types, ...): never lose records silently.
        return "invalid JSON: DuckDB's JSON decoder refused this export (non-standard JSON or wrong types?)"
    return None


# --- the parser contract ------------------------------------------------------------------------------------

_EXPORT_HEAD = re.compile(r'^[ \t]*\{[ \t]*"resourceLogs"[ \t]*:')
_PRETTY_HEAD = re.compile(r'^[ \t]*"resourceLogs"[ \t]*:')


def sniff(head: list[str]) -> float:
    """High for OTLP log export lines or a pretty-printed log export; 0 for trace exports and JSON logs."""
    return otlp_json.sniff_export(
        head, _EXPORT_HEAD, _PRETTY_HEAD, ('"resourceLogs"', '"logRecords"'), ('"resourceLogs"',)
    )


def record_start(lines: pl.Series) -> pl.Series | None:
    """None for JSON lines (every line a whole export); else the lines that open a pretty-printed document."""
    return otlp_json.document_starts(lines)


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of export lines or whole documents: one row per log record; blank lines are skipped."""
    docs, skipped = otlp_json.documents(lines)
    docs = otlp_json.prepare_documents(docs)
    records = _normalize(_decode(docs.filter(pl.col("reason").is_null())))
    # finish_documents does rejects and line accounting (its span-shaped record table is not used).
    result = otlp_json.finish_documents(
        docs, records.select("line_no", "reason"), _recordless_problem, ctx, name
    )
    good = records.filter(pl.col("reason").is_null())
    result.records = base.finish(good, ctx, name, schema.LOGS)
    result.skipped_lines = skipped
    result.notes = {"log_records": good.height, "rejected_log_records": records.height - good.height}
    return result
