"""OTLP/JSON log parser: one export request per line (Collector file exporter) or pretty-printed documents."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from parsers import json_lines, otlp_json, otlp_logs
from parsers.base import ParseContext
from tests.parsers.helpers import attrs, frame, run_parser

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
EXAMPLES = CORPORA / "opentelemetry-proto" / "examples"

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
T0 = datetime(2026, 11, 17, 14, 32, 5, 101234, tzinfo=UTC)

# One export as the Collector file exporter writes it (one line): two resources, the first with two records
# (an ERROR with hex IDs and typed attributes, an event with a kvlist body and base64 IDs), the second with a
# record that only has an observed time, a numeric body and an enum-named severity.
EXPORT = (
    '{"resourceLogs":[{"resource":{"attributes":['
    '{"key":"service.name","value":{"stringValue":"order-service"}},'
    '{"key":"host.name","value":{"stringValue":"order-6b7d-1"}}]},'
    '"scopeLogs":[{"scope":{"name":"com.example.OrderController","version":"1.2"},"logRecords":['
    '{"timeUnixNano":"1794925925101234000","observedTimeUnixNano":"1794925925200000000",'
    '"severityNumber":17,"severityText":"ERROR","body":{"stringValue":"payment declined"},'
    f'"traceId":"{TRACE.upper()}","spanId":"{SPAN}","flags":1,'
    '"attributes":[{"key":"order.id","value":{"stringValue":"A-1042"}},'
    '{"key":"retry","value":{"intValue":"3"}},{"key":"ok","value":{"boolValue":false}},'
    '{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"}]}}}]},'
    '{"eventName":"order.placed","timeUnixNano":1794925925102234000,"severityNumber":9,'
    '"body":{"kvlistValue":{"values":[{"key":"sku","value":{"stringValue":"sku-789"}},'
    '{"key":"qty","value":{"intValue":"2"}}]}},'
    f'"traceId":"{base64.b64encode(bytes.fromhex(TRACE)).decode()}",'
    f'"spanId":"{base64.b64encode(bytes.fromhex(SPAN)).decode()}",'
    '"attributes":[{"key":"flags","value":{"stringValue":"mine"}}]}]}]},'
    '{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"inventory-service"}}]},'
    '"scopeLogs":[{"scope":{"name":"inventory"},"logRecords":['
    '{"observedTimeUnixNano":"1794925925103234000","severityNumber":"SEVERITY_NUMBER_WARN2",'
    '"body":{"doubleValue":1.5},"traceId":"","spanId":""}]}]}]}'
)


def parse(lines: list[str], **kw: Any) -> tuple[pl.DataFrame, pl.DataFrame, Any]:
    return run_parser(otlp_logs, lines, "logs/otelcol-logs.json", **kw)


def test_contract() -> None:
    assert otlp_logs.name == "otlp-logs"
    assert otlp_logs.kind == "logs"
    assert otlp_logs.description
    records, rejects, _ = parse([otlp_logs.example])
    assert records.height == 1
    assert rejects.height == 0


def test_one_line_export_every_column() -> None:
    records, rejects, result = parse([EXPORT], first_line=7)
    assert rejects.height == 0
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 0, 0)
    rows = records.to_dicts()
    assert len(rows) == 3
    error, event, warn = rows
    assert {k: v for k, v in error.items() if k != "attributes"} == {
        "ts": T0,
        "service": "order-service",
        "host": "order-6b7d-1",
        "level": "ERROR",
        "logger": "com.example.OrderController",
        "message": "payment declined",
        "trace_id": TRACE,
        "span_id": SPAN,
        "format": "otlp-logs",
        "source_file": "logs/otelcol-logs.json",
        "source_line": 7,
    }
    assert attrs(error) == {
        "order.id": "A-1042",
        "retry": "3",
        "ok": "false",
        "tags": '["a",1]',
        "severity_number": "17",
        "flags": "1",
    }
    # The event: number nanos, base64 IDs, a kvlist body as JSON, level from severityNumber.
    assert event["ts"] == datetime(2026, 11, 17, 14, 32, 5, 102234, tzinfo=UTC)
    assert (event["service"], event["host"], event["logger"]) == (
        "order-service",
        "order-6b7d-1",
        "com.example.OrderController",
    )
    assert event["level"] == "INFO"
    assert json.loads(event["message"]) == {"sku": "sku-789", "qty": 2}
    assert (event["trace_id"], event["span_id"]) == (TRACE, SPAN)
    # a record attribute named like an extra keeps its own value
    assert attrs(event) == {"flags": "mine", "event.name": "order.placed", "severity_number": "9"}
    assert event["source_line"] == 7
    # Only an observed time; enum-named severity; empty IDs are no IDs; no host; other resource's service.
    assert warn["ts"] == datetime(2026, 11, 17, 14, 32, 5, 103234, tzinfo=UTC)
    assert (warn["service"], warn["host"], warn["logger"]) == ("inventory-service", None, "inventory")
    assert warn["level"] == "WARN"
    assert warn["message"] == "1.5"
    assert (warn["trace_id"], warn["span_id"]) == (None, None)
    assert attrs(warn) == {"severity_number": "14"}


def test_level_text_first_then_number_then_unknown_text() -> None:
    def record(extra: str) -> str:
        return '{"timeUnixNano":"1794925925101234000",' + extra + '"body":{"stringValue":"x"}}'

    line = (
        '{"resourceLogs":[{"scopeLogs":[{"logRecords":['
        + ",".join(
            [
                record('"severityText":"Information","severityNumber":13,'),  # text wins
                record('"severityText":"test severity text","severityNumber":21,'),  # number wins
                record('"severityText":"audit",'),  # kept, upper-cased
                record(""),
            ]
        )
        + "]}]}]}"
    )
    records, _, _ = parse([line], service="fallback-svc")
    assert records.get_column("level").to_list() == ["INFO", "FATAL", "AUDIT", None]
    assert records.get_column("service").unique().to_list() == ["fallback-svc"]  # ctx fallback


def test_rejects_and_line_accounting() -> None:
    no_time = (
        '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"lost"}},'
        '{"timeUnixNano":"0","observedTimeUnixNano":"1794925925101234000","body":{"stringValue":"kept"}}]}]}]}'
    )
    trace_export = '{"resourceSpans":[{"scopeSpans":[{"spans":[]}]}]}'
    lines = [EXPORT, "", "not json {", trace_export, no_time, '{"resourceLogs":[]}', "[1,2]"]
    records, rejects, result = parse(lines)
    assert records.height == 4
    assert records.filter(pl.col("message") == "kept").get_column("source_line").to_list() == [5]
    got = dict(zip(rejects.get_column("source_line"), rejects.get_column("reason"), strict=True))
    assert got[3].startswith("invalid JSON")
    assert got[4] == "not an OTLP logs export (no resourceLogs)"
    assert got[5] == "log record dropped: no usable timeUnixNano or observedTimeUnixNano"
    assert got[7] == "not an OTLP logs export (no resourceLogs)"
    assert rejects.filter(pl.col("source_line") == 5).get_column("raw").to_list() == [no_time]
    # the document with a kept record and the empty export are record lines; the blank line is skipped
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (3, 3, 1)
    assert result.notes == {"log_records": 4, "rejected_log_records": 1}


def test_odd_times_and_malformed_exports() -> None:
    odd_times = (
        '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":NaN},'
        '{"timeUnixNano":1e30,"observedTimeUnixNano":"-5"},{"timeUnixNano":1.7949259251e18}]}]}]}'
    )
    malformed = '{"resourceLogs":[{"scopeLogs":"x"}]}'
    records, rejects, result = parse([odd_times, malformed, '{"resourceLogs":null}'])
    assert records.get_column("ts").to_list() == [datetime(2026, 11, 17, 14, 32, 5, 100000, tzinfo=UTC)]
    assert rejects.get_column("reason").to_list() == [
        "log record dropped: no usable timeUnixNano or observedTimeUnixNano",
        "log record dropped: no usable timeUnixNano or observedTimeUnixNano",
        "malformed OTLP logs export: scopeLogs is not a list of objects",
    ]
    assert (result.record_lines, result.reject_lines) == (2, 1)


def test_pretty_printed_document_and_trailing_comma() -> None:
    pretty = json.dumps(json.loads(EXPORT), indent=2).splitlines()
    assert otlp_logs.record_start(pl.Series(pretty)) is not None
    records, rejects, result = parse(pretty)
    assert records.height == 3
    assert rejects.height == 0
    assert records.get_column("source_line").unique().to_list() == [1]
    assert result.record_lines == len(pretty)

    broken = [*pretty[:-1], "  },", "}"]  # a trailing comma DuckDB alone would accept
    records, rejects, result = parse(broken)
    assert records.height == 0
    assert rejects.get_column("reason").to_list()[0].startswith("invalid JSON")
    assert result.reject_lines == len(broken)


def test_sniff() -> None:
    pretty = json.dumps(json.loads(EXPORT), indent=2).splitlines()
    assert otlp_logs.sniff([EXPORT, EXPORT]) >= 0.9
    assert otlp_logs.sniff(pretty[:20]) >= 0.9
    assert otlp_logs.sniff([otlp_json.example]) == 0.0
    assert otlp_logs.sniff(json.dumps(json.loads(otlp_json.example), indent=2).splitlines()[:20]) == 0.0
    assert otlp_logs.sniff([json_lines.example]) == 0.0
    assert otlp_logs.sniff(["plain text", ""]) == 0.0
    assert otlp_logs.sniff([]) == 0.0
    for head in ([EXPORT, EXPORT], pretty[:20]):
        assert json_lines.sniff(head) < otlp_logs.sniff(head)
        assert otlp_json.sniff(head) < otlp_logs.sniff(head)


# --- the opentelemetry-proto examples (pretty-printed documents) -------------------------------------------


def corpus(name: str) -> list[str]:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"corpus file {path} absent")
    return path.read_text().splitlines()


def count_records(lines: list[str]) -> int:
    doc = json.loads("\n".join(lines))
    return sum(
        len(scope.get("logRecords", []))
        for resource in doc["resourceLogs"]
        for scope in resource.get("scopeLogs", [])
    )


@pytest.mark.parametrize("file", ["logs.json", "events.json"])
def test_corpus_examples(file: str) -> None:
    lines = corpus(file)
    head = lines[:30]
    assert otlp_logs.sniff(head) >= 0.9
    assert json_lines.sniff(head) < otlp_logs.sniff(head)
    assert otlp_json.sniff(head) < otlp_logs.sniff(head)
    records, rejects, result = parse(lines)
    assert rejects.height == 0
    assert records.height == count_records(lines)
    assert result.record_lines == len(lines)
    assert records.get_column("source_line").to_list() == [1] * records.height
    assert records.get_column("service").to_list() == ["my.service"] * records.height
    assert records.get_column("logger").to_list() == ["my.library"] * records.height
    assert records.get_column("ts").null_count() == 0
    assert records.get_column("level").to_list() == ["INFO"] * records.height


def test_corpus_logs_values() -> None:
    records, _, _ = parse(corpus("logs.json"))
    row = records.row(0, named=True)
    assert row["message"] == "Example log record"
    assert row["ts"] == datetime(2018, 12, 13, 14, 51, 0, 300000, tzinfo=UTC)
    assert attrs(row) == {
        "string.attribute": "some string",
        "boolean.attribute": "true",
        "int.attribute": "10",
        "double.attribute": "637.704",
        "array.attribute": '["many","values"]',
        "map.attribute": '{"some.map.key":"some value"}',
        "severity_number": "10",
    }


def test_corpus_events_values() -> None:
    records, _, _ = parse(corpus("events.json"))
    row = records.row(0, named=True)
    assert attrs(row)["event.name"] == "browser.page_view"
    assert json.loads(row["message"])["title"] == "Free Online GUID Generator"
    assert (row["trace_id"], row["span_id"]) == (None, None)


def test_corpus_logs_share_ids_with_trace_example() -> None:
    logs, _, _ = parse(corpus("logs.json"))
    trace_lines = corpus("trace.json")
    spans = frame(otlp_json.parse(pl.Series(trace_lines), ParseContext("trace.json")).records)
    log_ids = set(logs.select("trace_id", "span_id").iter_rows())
    span_ids = set(spans.select("trace_id", "span_id").iter_rows())
    assert log_ids
    assert log_ids == span_ids
