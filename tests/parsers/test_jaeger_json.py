"""Jaeger JSON span parser: UI/API downloads, single traces, spans with embedded process, domain model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from parsers import jaeger_json, otlp_json, zipkin_json
from tests.parsers.helpers import attrs, run_parser

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"

# A Jaeger UI download, pretty-printed: a SERVER span and its failing CLIENT child with a log.
UI_DOWNLOAD = """{
  "data": [
    {
      "traceID": "4bf92f3577b34da6a3ce929d0e0e4736",
      "spans": [
        {"traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "6673242bf5a9886e",
         "operationName": "POST /orders",
         "references": [], "startTime": 1794925925000000, "duration": 245000,
         "tags": [{"key": "span.kind", "type": "string", "value": "server"},
                  {"key": "http.status_code", "type": "int64", "value": 502}],
         "logs": [], "processID": "p1"},
        {"traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "3cfb5608db5ff476",
         "operationName": "INSERT",
         "references": [{"refType": "CHILD_OF", "traceID": "4bf92f3577b34da6a3ce929d0e0e4736",
                         "spanID": "6673242bf5a9886e"}],
         "startTime": 1794925925010000, "duration": 2500,
         "tags": [{"key": "span.kind", "type": "string", "value": "client"},
                  {"key": "error", "type": "bool", "value": true},
                  {"key": "db.system", "type": "string", "value": "mysql"},
                  {"key": "db.statement", "type": "string", "value": "INSERT INTO orders VALUES (1)"},
                  {"key": "error.message", "type": "string", "value": "Deadlock found"}],
         "logs": [{"timestamp": 1794925925012000, "fields": [{"key": "error.kind", "type": "string",
                   "value": "SQLException"}, {"key": "message", "type": "string", "value": "Deadlock"}]}],
         "processID": "p1"}
      ],
      "processes": {"p1": {"serviceName": "order-service",
                           "tags": [{"key": "hostname", "type": "string", "value": "order-6b7d-1"}]}}
    }
  ]
}"""


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, object]:
    return run_parser(jaeger_json, lines, "traces/jaeger.json")


def corpus(relative: str) -> Path:
    path = CORPORA / relative
    if not path.exists():
        pytest.skip(
            f"corpus file {relative} not found under {CORPORA} (the shared corpora are not checked out)"
        )
    return path


def test_ui_download_columns() -> None:
    lines = UI_DOWNLOAD.splitlines()
    assert jaeger_json.record_start(pl.Series(lines)) is not None
    records, rejects, result = parse(lines)
    assert rejects.is_empty() and result.record_lines == len(lines)
    server, client = records.to_dicts()
    assert (server["trace_id"], server["span_id"], server["parent_span_id"]) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "6673242bf5a9886e",
        None,
    )
    assert (server["service"], server["name"], server["kind"], server["status"]) == (
        "order-service",
        "POST /orders",
        "SERVER",
        "UNSET",
    )
    assert server["start_ts"] == datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)
    assert server["duration_ms"] == 245.0 and server["http_status"] == 502
    assert server["source_line"] == 1
    assert attrs(server)["http.status_code"] == "502"
    assert dict(server["resource_attributes"]) == {"hostname": "order-6b7d-1"}
    assert client["parent_span_id"] == "6673242bf5a9886e"
    assert (client["kind"], client["status"], client["status_message"]) == (
        "CLIENT",
        "ERROR",
        "Deadlock found",
    )
    assert (client["db_system"], client["db_fingerprint"]) == ("mysql", "insert into orders values(?+)")
    [event] = client["events"]
    assert event["name"] == "exception" and event["ts"] == datetime(
        2026, 11, 17, 14, 32, 5, 12000, tzinfo=UTC
    )


def test_span_per_line_with_embedded_process_and_follows_from() -> None:
    span = {
        "traceID": "df84e36b9e2ee3815d07f0867a5be1f",  # lost its leading zero
        "spanID": "span-2",
        "operationName": "consume",
        "references": [
            {"refType": "FOLLOWS_FROM", "traceID": "df84e36b9e2ee3815d07f0867a5be1f", "spanID": "a1"}
        ],
        "startTime": 1794925925000000,
        "duration": 1000,
        "tags": [{"key": "span.kind", "type": "string", "value": "consumer"}],
        "process": {"serviceName": "worker", "tags": []},
    }
    lines = [
        json.dumps(span),
        "",
        json.dumps(
            {**span, "spanID": "b2", "startTime": "2017-01-26T16:46:31.5-05:00", "duration": "5000ns"}
        ),
    ]
    assert jaeger_json.record_start(pl.Series(lines)) is None
    records, _, result = parse(lines)
    assert result.skipped_lines == 1
    first, second = records.to_dicts()
    assert first["trace_id"] == "0df84e36b9e2ee3815d07f0867a5be1f"
    assert first["span_id"] == "span-2"  # not hex: kept verbatim
    assert first["parent_span_id"] == "00000000000000a1"
    assert [link["span_id"] for link in first["links"]] == ["00000000000000a1"]
    assert (first["kind"], first["service"]) == ("CONSUMER", "worker")
    assert second["start_ts"] == datetime(2017, 1, 26, 21, 46, 31, 500000, tzinfo=UTC)
    assert second["duration_ms"] == 0.005


def test_bad_documents_are_rejects_with_reasons() -> None:
    lines = ['{"traceID":"2be38093ead7a083","spanID":"7606ddfe69932d34","duration":267037}', "not json"]
    _, rejects, result = parse(lines)
    assert result.reject_lines == 2
    assert rejects.get_column("reason").to_list()[0] == "span dropped: no startTime"
    assert rejects.get_column("reason").to_list()[1].startswith("invalid JSON")


@pytest.mark.corpus
@pytest.mark.parametrize(
    "relative",
    [
        "jaeger-ui/packages/jaeger-ui/src/components/TracePage/TraceStatistics/tableValuesTestTrace/testTrace.json",
        "jaeger-ui/packages/jaeger-ui/src/components/TracePage/TraceStatistics/tableValuesTestTrace/spansAmongEachOther.json",
        "jaeger-ui/packages/jaeger-ui/src/components/TracePage/TraceTimelineViewer/genaiTestTrace.json",
        "jaeger-ui/packages/jaeger-ui/src/utils/fixtures/oltp2jaeger-multi-out.json",
        "jaeger/internal/uimodel/converter/v1/json/fixtures/ui_01.json",
        "jaeger/internal/uimodel/converter/v1/json/fixtures/domain_01.json",
        "jaeger/cmd/anonymizer/app/uiconv/fixtures/trace_success.json",
    ],
)
def test_corpus_span_counts(relative: str) -> None:
    path = corpus(relative)
    document = json.loads(path.read_text())
    traces = document["data"] if isinstance(document, dict) and "data" in document else document
    if isinstance(traces, dict):
        traces = [traces]
    expected = sum(len(t["spans"]) if "spans" in t else 1 for t in traces)
    lines = path.read_text().splitlines()
    records, rejects, _ = parse(lines)
    assert rejects.is_empty()
    assert records.height == expected
    hexed = records.filter(pl.col("trace_id").str.contains("^[0-9a-f]+$"))
    assert hexed.filter(pl.col("trace_id").str.len_chars() != 32).is_empty()
    assert records.get_column("start_ts").null_count() == 0
    assert records.schema["start_ts"] == pl.Datetime("us", "UTC")


@pytest.mark.corpus
def test_corpus_non_hex_ids_and_parents() -> None:
    path = corpus(
        "jaeger-ui/packages/jaeger-ui/src/components/TracePage/TraceStatistics/tableValuesTestTrace/testTrace.json"
    )
    records, _, _ = parse(path.read_text().splitlines())
    assert set(records.get_column("trace_id")) == {"trace-123"}
    by_id = {r["span_id"]: r for r in records.to_dicts()}
    assert by_id["span-2"]["parent_span_id"] == "span-1"
    assert (by_id["span-2"]["kind"], by_id["span-2"]["status"]) == ("CLIENT", "ERROR")


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("trace_invalid_json.json", "span dropped: no startTime, invalid duration 'invalid'"),
        ("trace_wrong_format.json", "span dropped: no startTime"),
        ("trace_scan_error.json", "invalid JSON: Expecting value: line 2 column 1 (char 79)"),
    ],
)
def test_corpus_malformed_fixtures(relative: str, reason: str) -> None:
    path = corpus(f"jaeger/cmd/anonymizer/app/uiconv/fixtures/{relative}")
    lines = path.read_text().splitlines()
    records, rejects, result = parse(lines)
    assert records.is_empty() and result.reject_lines == len(lines)
    assert rejects.get_column("reason").to_list() == [reason]


SNIFF_CASES = {
    "otlp-json": "opentelemetry-proto/examples/trace.json",
    "jaeger-json": "jaeger-ui/packages/jaeger-ui/src/components/TracePage/TraceGraph/testTrace.json",
    "zipkin-json": "zipkin/zipkin-lens/testdata/skew.json",
}


@pytest.mark.corpus
@pytest.mark.parametrize("fmt", sorted(SNIFF_CASES))
def test_sniff_picks_its_own_corpus_files(fmt: str) -> None:
    head = corpus(SNIFF_CASES[fmt]).read_text().splitlines()[:30]
    scores = {p.name: p.sniff(head) for p in (otlp_json, jaeger_json, zipkin_json)}
    assert max(scores, key=lambda k: scores[k]) == fmt
    assert scores[fmt] >= 0.9
    assert sorted(scores.values())[1] == 0.0


def test_module_contract() -> None:
    assert jaeger_json.name == "jaeger-json" and jaeger_json.kind == "spans"
    records, rejects, _ = parse([jaeger_json.example])
    assert records.height == 1 and rejects.is_empty()
    assert jaeger_json.sniff([jaeger_json.example]) >= 0.9


# --- Cassandra span rows ------------------------------------------------------------------------------------

CASSANDRA = "jaeger/internal/storage/v2/cassandra/tracestore/fixtures/"


@pytest.mark.corpus
def test_cassandra_storage_row_reads_as_its_otlp_twin() -> None:
    """Jaeger's own fixtures hold the same span as a Cassandra row and as OTLP JSON: the OTLP file, read with
    the json module alone, gives the expected values."""
    path = corpus(CASSANDRA + "cas_01.json")
    otlp = json.loads(corpus(CASSANDRA + "otel_traces_01.json").read_text())
    resource = otlp["resourceSpans"][0]["resource"]
    twin = otlp["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    records, rejects, _ = parse(path.read_text().splitlines())
    assert rejects.is_empty()
    [row] = records.to_dicts()
    expected_service = next(
        a["value"]["stringValue"] for a in resource["attributes"] if a["key"] == "service.name"
    )
    assert (row["trace_id"], row["span_id"], row["parent_span_id"]) == (
        twin["traceId"],
        twin["spanId"],
        twin["parentSpanId"],
    )
    assert (row["service"], row["name"]) == (expected_service, twin["name"])
    ns = 1_000_000_000
    assert row["start_ts"].timestamp() * ns == pytest.approx(int(twin["startTimeUnixNano"]), abs=1000)
    assert row["end_ts"].timestamp() * ns == pytest.approx(int(twin["endTimeUnixNano"]), abs=1000)
    assert (row["status"], row["status_message"]) == ("ERROR", twin["status"]["message"])  # code 2 = error
    assert [(lk["trace_id"], lk["span_id"]) for lk in row["links"]] == [
        (lk["traceId"], lk["spanId"]) for lk in twin["links"]
    ]
    assert [e["name"] for e in row["events"]] == [e.get("name") for e in twin["events"]]
    assert attrs(row)["peer.service"] == "service-y" and attrs(row)["peer.ipv4"] == "23456"
    assert dict(row["resource_attributes"])["sdk.version"] == "1.2.1"


def test_cqlsh_json_rows_with_hex_blobs_and_negative_span_ids() -> None:
    """cqlsh's SELECT JSON * FROM traces: snake_case columns, blobs as 0x hex, span IDs as signed bigints."""
    tag = {"value_type": "string", "value_bool": None, "value_long": None, "value_double": None}
    row = {
        "trace_id": "0x4bf92f3577b34da6a3ce929d0e0e4736",
        "span_id": -2,
        "span_hash": 0,
        "duration": 2500,
        "flags": 1,
        "logs": [],
        "operation_name": "SELECT stock",
        "parent_id": 255,
        "process": {"service_name": "inventory", "tags": []},
        "refs": [
            {"ref_type": "child-of", "trace_id": "0x4bf92f3577b34da6a3ce929d0e0e4736", "span_id": 255},
            {"ref_type": "child-of", "trace_id": "0x00000000000000000000000000000abc", "span_id": 7},
        ],
        "start_time": 1794925925010000,
        "tags": [
            {**tag, "key": "span.kind", "value_string": "client"},
            {**tag, "key": "db.system", "value_string": "mysql"},
            {**tag, "key": "rows", "value_type": "int64", "value_string": None, "value_long": 3},
        ],
    }
    lines = [json.dumps(row), json.dumps({**row, "span_id": 16, "refs": [], "parent_id": 0})]
    assert jaeger_json.sniff(lines) >= 0.9
    records, rejects, _ = parse(lines)
    assert rejects.is_empty()
    first, second = records.to_dicts()
    assert (first["trace_id"], first["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "fffffffffffffffe")
    assert first["parent_span_id"] == "00000000000000ff"
    # the second CHILD_OF reference (another trace) is a link, as in Jaeger's own OTLP translation
    assert [(lk["trace_id"], lk["span_id"], dict(lk["attributes"])) for lk in first["links"]] == [
        ("00000000000000000000000000000abc", "0000000000000007", {"jaeger.ref_type": "CHILD_OF"})
    ]
    assert (first["kind"], first["service"], first["db_system"], attrs(first)["rows"]) == (
        "CLIENT",
        "inventory",
        "mysql",
        "3",
    )
    assert first["start_ts"] == datetime(2026, 11, 17, 14, 32, 5, 10000, tzinfo=UTC)
    assert first["duration_ms"] == 2.5
    assert (second["span_id"], second["parent_span_id"]) == ("0000000000000010", None)  # 0: no parent
