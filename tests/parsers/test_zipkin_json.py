"""Zipkin v2 JSON span parser: arrays of spans, lists of traces, single span objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from parsers import zipkin_json
from tests.parsers.helpers import attrs, run_parser

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"

# A client and a server span sharing one span ID, as Brave reports them; the server has no parentId.
SHARED = [
    {
        "traceId": "4bf92f3577b34da6",
        "id": "00f067aa0ba902b7",
        "kind": "CLIENT",
        "name": "get /inventory",
        "timestamp": 1794925925045000,
        "duration": 195000,
        "localEndpoint": {"serviceName": "order-service", "ipv4": "10.0.3.7"},
        "remoteEndpoint": {"serviceName": "inventory-service", "ipv4": "10.0.3.9", "port": 8080},
        "tags": {"http.status_code": "500", "error": "500 Internal Server Error"},
        "annotations": [{"timestamp": 1794925925046000, "value": "ws"}],
    },
    {
        "traceId": "4bf92f3577b34da6",
        "id": "00f067aa0ba902b7",
        "kind": "SERVER",
        "name": "get /inventory",
        "timestamp": 1794925925050000,
        "shared": True,
        "localEndpoint": {"ipv6": "2001:db8::c001"},
        "tags": {"error": ""},
    },
]


def parse(lines: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, object]:
    return run_parser(zipkin_json, lines, "traces/zipkin.json")


def corpus(relative: str) -> Path:
    path = CORPORA / relative
    if not path.exists():
        pytest.skip(
            f"corpus file {relative} not found under {CORPORA} (the shared corpora are not checked out)"
        )
    return path


def test_shared_span_id_client_and_server_rows() -> None:
    lines = json.dumps(SHARED, indent=2).splitlines()
    records, rejects, result = parse(lines)
    assert rejects.is_empty() and result.record_lines == len(lines)
    client, server = records.to_dicts()
    assert (client["trace_id"], client["span_id"]) == (server["trace_id"], server["span_id"])
    assert client["trace_id"] == "00000000000000004bf92f3577b34da6"
    assert (client["kind"], server["kind"]) == ("CLIENT", "SERVER")
    assert server["parent_span_id"] is None  # not invented from the client
    assert (client["service"], server["service"]) == ("order-service", None)
    assert client["start_ts"] == datetime(2026, 11, 17, 14, 32, 5, 45000, tzinfo=UTC)
    assert client["duration_ms"] == 195.0 and client["http_status"] == 500
    assert (client["status"], client["status_message"]) == ("ERROR", "500 Internal Server Error")
    assert (server["status"], server["status_message"]) == ("ERROR", None)
    assert server["end_ts"] is None and server["duration_ms"] is None  # no duration: kept, not dropped
    bag = attrs(client)
    assert (bag["net.peer.name"], bag["net.peer.ip"], bag["net.peer.port"]) == (
        "inventory-service",
        "10.0.3.9",
        "8080",
    )
    assert [e["name"] for e in client["events"]] == ["ws"]
    assert attrs(server)["zipkin.shared"] == "true"


def test_single_span_object_and_list_of_traces_one_per_line() -> None:
    lines = [json.dumps(SHARED[0]), json.dumps([SHARED[:1], SHARED[1:]]), "", "[]"]
    records, rejects, result = parse(lines)
    assert records.height == 3 and rejects.is_empty()
    assert (result.record_lines, result.skipped_lines) == (3, 1)
    assert records.get_column("source_line").to_list() == [1, 2, 2]


def test_missing_ids_and_broken_json_are_rejects() -> None:
    lines = ['{"traceId":"4bf92f3577b34da6","name":"no id"}', '[{"traceId":"4bf9"']
    records, rejects, _ = parse(lines)
    assert records.is_empty()
    assert rejects.get_column("reason").to_list()[0] == "span dropped: no id"


def count(document: object) -> int:
    if isinstance(document, dict):
        return 1
    assert isinstance(document, list)
    return sum(count(item) for item in document)


@pytest.mark.corpus
@pytest.mark.parametrize(
    "relative",
    [
        "zipkin/zipkin-lens/testdata/smartthings-mobile-web-install.json",
        "zipkin/zipkin-lens/testdata/messaging-kafka.json",
        "zipkin/zipkin-lens/testdata/skew.json",
        "zipkin/zipkin-lens/testdata/yelp.json",
        "zipkin/benchmarks/src/test/resources/zipkin2-chinese.json",
        "otel-collector-contrib/receiver/zipkinreceiver/testdata/sample3.json",
        "otel-collector-contrib/receiver/zipkinreceiver/testdata/sample4.json",
    ],
)
def test_corpus_span_counts(relative: str) -> None:
    path = corpus(relative)
    lines = path.read_text().splitlines()
    records, rejects, _ = parse(lines)
    assert rejects.is_empty()
    assert records.height == count(json.loads(path.read_text()))
    assert records.filter(~pl.col("trace_id").str.contains("^[0-9a-f]{32}$")).is_empty()
    assert records.filter(~pl.col("span_id").str.contains("^[0-9a-f]{16}$")).is_empty()
    assert set(records.get_column("kind")) <= {"SERVER", "CLIENT", "PRODUCER", "CONSUMER", "UNSPECIFIED"}


@pytest.mark.corpus
def test_corpus_kafka_kinds_and_parents() -> None:
    path = corpus("zipkin/zipkin-lens/testdata/messaging-kafka.json")
    spans = json.loads(path.read_text())
    records, _, _ = parse(path.read_text().splitlines())
    assert records.get_column("kind").to_list() == [s.get("kind", "UNSPECIFIED") for s in spans]
    parents = [s.get("parentId") for s in spans]
    assert records.get_column("parent_span_id").to_list() == [
        p.rjust(16, "0") if p else None for p in parents
    ]


def test_module_contract() -> None:
    assert zipkin_json.name == "zipkin-json" and zipkin_json.kind == "spans"
    records, rejects, _ = parse([zipkin_json.example])
    assert records.height == 1 and rejects.is_empty()
    assert zipkin_json.sniff([zipkin_json.example]) >= 0.9
