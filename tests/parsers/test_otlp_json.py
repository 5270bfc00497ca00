"""OTLP/JSON span parser: one export request per line, as the Collector file exporter writes it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from parsers import otlp_json, schema, sqltext
from parsers.base import ParseContext, ParseResult

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT.parent / "shared" / "corpora"

# One checkout request in order-service as the Collector file exporter writes it (one line): the SERVER span,
# its failed CLIENT call with an exception event and a link, and a MySQL INSERT with string-form kind and
# JSON-number nanoseconds.
EXPORT = (
    '{"resourceSpans":[{"resource":{"attributes":['
    '{"key":"service.name","value":{"stringValue":"order-service"}},'
    '{"key":"service.version","value":{"stringValue":"2.7.1"}},'
    '{"key":"host.name","value":{"stringValue":"order-6b7d-1"}},'
    '{"key":"process.pid","value":{"intValue":"1"}},'
    '{"key":"process.command_args","value":{"arrayValue":{"values":[{"stringValue":"java"},'
    '{"stringValue":"-jar"},{"stringValue":"/app/order.jar"}]}}}]},'
    '"scopeSpans":[{"scope":{"name":"io.opentelemetry.spring-webmvc-6.0","version":"2.10.0-alpha"},"spans":['
    '{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"6673242bf5a9886e",'
    '"parentSpanId":"00f067aa0ba902b7","flags":257,"name":"POST /orders","kind":2,'
    '"startTimeUnixNano":"1794925925000000000","endTimeUnixNano":"1794925925245000000",'
    '"attributes":[{"key":"http.request.method","value":{"stringValue":"POST"}},'
    '{"key":"http.route","value":{"stringValue":"/orders"}},'
    '{"key":"http.response.status_code","value":{"intValue":"502"}},'
    '{"key":"order.total","value":{"doubleValue":99.8}},'
    '{"key":"order.express","value":{"boolValue":false}}],'
    '"status":{"message":"upstream service error","code":2}}]},'
    '{"scope":{"name":"io.opentelemetry.spring-web-6.0","version":"2.10.0-alpha"},"spans":['
    '{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"3cfb5608db5ff476",'
    '"parentSpanId":"6673242bf5a9886e","name":"HTTP POST /inventory/reserve","kind":3,'
    '"startTimeUnixNano":"1794925925045000000","endTimeUnixNano":"1794925925240000000",'
    '"attributes":[{"key":"http.request.method","value":{"stringValue":"POST"}},'
    '{"key":"url.full","value":{"stringValue":"http://inventory-service/inventory/reserve"}},'
    '{"key":"http.status_code","value":{"intValue":500}}],'
    '"events":[{"timeUnixNano":"1794925925240000000","name":"exception","attributes":['
    '{"key":"exception.type","value":{"stringValue":'
    '"org.springframework.web.client.HttpServerErrorException$InternalServerError"}},'
    '{"key":"exception.message","value":{"stringValue":"500 Internal Server Error"}}]}],'
    '"links":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",'
    '"attributes":[{"key":"link.kind","value":{"stringValue":"retry-of"}}]}],'
    '"status":{"message":"500 Internal Server Error","code":"STATUS_CODE_ERROR"}},'
    '{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"9c4e1a2b3d4e5f60",'
    '"parentSpanId":"6673242bf5a9886e","name":"INSERT orders","kind":"SPAN_KIND_CLIENT",'
    '"startTimeUnixNano":1794925925010000000,"endTimeUnixNano":1794925925012500000,'
    '"attributes":[{"key":"db.system","value":{"stringValue":"mysql"}},'
    '{"key":"db.name","value":{"stringValue":"orders"}},'
    '{"key":"db.statement","value":{"stringValue":'
    "\"INSERT INTO orders (user_id, sku, qty) VALUES (1042, 'sku-789', 1)\"}}],"
    '"status":{}}]}]}]}'
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
T0 = datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)


def ms(milliseconds: float) -> datetime:
    return T0 + timedelta(milliseconds=milliseconds)


def parse(lines: list[str], first_line: int = 1, service: str | None = None) -> ParseResult:
    ctx = ParseContext("traces/otelcol-traces.json", first_line=first_line, service=service)
    return otlp_json.parse(pl.Series(lines, dtype=pl.String), ctx)


def rows(result: ParseResult) -> list[dict[str, Any]]:
    return pl.from_arrow(result.records).to_dicts()  # type: ignore[union-attr]


def reject_rows(result: ParseResult) -> list[dict[str, Any]]:
    return pl.from_arrow(result.rejects).to_dicts()  # type: ignore[union-attr]


def span(span_id: str, **fields: Any) -> dict[str, Any]:
    return {"traceId": TRACE, "spanId": span_id, "name": "op", **fields}


def export(*spans: dict[str, Any], key: str = "resourceSpans", scope_key: str = "scopeSpans") -> str:
    resource = {"resource": {"attributes": []}, scope_key: [{"scope": {}, "spans": list(spans)}]}
    return json.dumps({key: [resource]}, separators=(",", ":"))


def slow_log_fingerprint(statement: str, dialect: sqltext.Dialect) -> str:
    """The fingerprint the slow-log parsers give ``statement``: spans must join on the same text."""
    frame = pl.DataFrame({"statement": [statement]})
    return str(frame.select(sqltext.fingerprint(pl.col("statement"), dialect=dialect)).item())


def count_spans(document: dict[str, Any]) -> int:
    """Span count of one export, independently of the parser."""
    resources = document.get("resourceSpans") or document.get("batches") or []
    return sum(
        len(scope.get("spans", []))
        for resource in resources
        for key in ("scopeSpans", "instrumentationLibrarySpans")
        for scope in resource.get(key, [])
    )


# --- the realistic export --------------------------------------------------------------------------------


def test_every_column_of_a_collector_export_line() -> None:
    result = parse([EXPORT], first_line=41)
    assert result.records.schema == schema.SPANS
    server, client, db = rows(result)

    resource = {
        "service.name": "order-service",
        "service.version": "2.7.1",
        "host.name": "order-6b7d-1",
        "process.pid": "1",
        "process.command_args": '["java","-jar","/app/order.jar"]',
    }
    common = {
        "trace_id": TRACE,
        "service": "order-service",
        "self_ms": None,
        "resource_attributes": resource,
        "format": "otlp-json",
        "source_file": "traces/otelcol-traces.json",
        "source_line": 41,
    }
    assert server == {
        **common,
        "span_id": "6673242bf5a9886e",
        "parent_span_id": "00f067aa0ba902b7",
        "name": "POST /orders",
        "kind": "SERVER",
        "start_ts": T0,
        "end_ts": ms(245),
        "duration_ms": 245.0,
        "status": "ERROR",
        "status_message": "upstream service error",
        "http_status": 502,
        "db_system": None,
        "db_statement": None,
        "db_fingerprint": None,
        "attributes": {
            "http.request.method": "POST",
            "http.route": "/orders",
            "http.response.status_code": "502",
            "order.total": "99.8",
            "order.express": "false",
        },
        "events": [],
        "links": [],
    }
    assert client == {
        **common,
        "span_id": "3cfb5608db5ff476",
        "parent_span_id": "6673242bf5a9886e",
        "name": "HTTP POST /inventory/reserve",
        "kind": "CLIENT",
        "start_ts": ms(45),
        "end_ts": ms(240),
        "duration_ms": 195.0,
        "status": "ERROR",
        "status_message": "500 Internal Server Error",
        "http_status": 500,  # from the older http.status_code, given as a JSON number
        "db_system": None,
        "db_statement": None,
        "db_fingerprint": None,
        "attributes": {
            "http.request.method": "POST",
            "url.full": "http://inventory-service/inventory/reserve",
            "http.status_code": "500",
        },
        "events": [
            {
                "ts": ms(240),
                "name": "exception",
                "attributes": {
                    "exception.type": "org.springframework.web.client."
                    "HttpServerErrorException$InternalServerError",
                    "exception.message": "500 Internal Server Error",
                },
            }
        ],
        "links": [
            {
                "trace_id": "5b8efff798038103d269b633813fc60c",
                "span_id": "eee19b7ec3c1b174",
                "attributes": {"link.kind": "retry-of"},
            }
        ],
    }
    statement = "INSERT INTO orders (user_id, sku, qty) VALUES (1042, 'sku-789', 1)"
    assert db == {
        **common,
        "span_id": "9c4e1a2b3d4e5f60",
        "parent_span_id": "6673242bf5a9886e",
        "name": "INSERT orders",
        "kind": "CLIENT",
        "start_ts": ms(10),
        "end_ts": ms(12.5),
        "duration_ms": 2.5,
        "status": "UNSET",
        "status_message": None,
        "http_status": None,
        "db_system": "mysql",
        "db_statement": statement,
        "db_fingerprint": slow_log_fingerprint(statement, "mysql"),
        "attributes": {"db.system": "mysql", "db.name": "orders", "db.statement": statement},
        "events": [],
        "links": [],
    }
    assert "sku-789" not in db["db_fingerprint"]
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 0, 0)
    assert result.rejects.num_rows == 0


def test_postgresql_statements_fingerprint_in_the_postgresql_dialect() -> None:
    statement = 'SELECT * FROM "users" WHERE id = 5'
    attributes = [
        {"key": "db.system.name", "value": {"stringValue": "postgresql"}},
        {"key": "db.query.text", "value": {"stringValue": statement}},
    ]
    [row] = rows(parse([export(span("0000000000000001", attributes=attributes))]))
    assert (row["db_system"], row["db_statement"]) == ("postgresql", statement)
    assert row["db_fingerprint"] == slow_log_fingerprint(statement, "postgresql")
    assert '"users"' in row["db_fingerprint"]  # an identifier in PostgreSQL, not a string literal


# --- IDs -------------------------------------------------------------------------------------------------


def b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def test_uppercase_hex_and_base64_ids_become_lowercase_hex() -> None:
    line = export(
        {
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": "EEE19B7EC3C1B174",
            "parentSpanId": "EEE19B7EC3C1B173",
        },
        {
            "traceId": b64(TRACE),  # S/kvNXezTaajzpKdDg5HNg==
            "spanId": b64("00f067aa0ba902b7"),  # APBnqgupArc=
            "parentSpanId": b64("6673242bf5a9886e"),
            "links": [
                {"traceId": b64("0af7651916cd43dd8448eb211c80319c"), "spanId": b64("b7ad6b7169203331")}
            ],
        },
        {"traceId": "-_kvNXezTaajzpKdDg5H_w==", "spanId": "b7ad6b7169203331"},  # URL-safe base64
        {"traceId": "f2cc58b41fc3b2b1", "spanId": "ad6b7169203331", "parentSpanId": ""},  # 64-bit, lost zeros
        {"traceId": "trace-123", "spanId": "span-1"},  # opaque IDs stay verbatim
    )
    got = [(r["trace_id"], r["span_id"], r["parent_span_id"]) for r in rows(parse([line]))]
    assert got == [
        ("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "eee19b7ec3c1b173"),
        (TRACE, "00f067aa0ba902b7", "6673242bf5a9886e"),
        ("fbf92f3577b34da6a3ce929d0e0e47ff", "b7ad6b7169203331", None),
        ("0000000000000000f2cc58b41fc3b2b1", "00ad6b7169203331", None),
        ("trace-123", "span-1", None),
    ]
    links = rows(parse([line]))[1]["links"]
    assert [(k["trace_id"], k["span_id"]) for k in links] == [
        ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    ]


# --- time ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("1794925925000000000", "1794925925000084000"),  # strings, as the Collector writes them
        (1794925925000000000, 1794925925000084000),  # JSON numbers
        (" 1794925925000000000", 1.794925925000084e18),  # padded text; float form loses precision
    ],
)
def test_string_and_number_nanoseconds(start: Any, end: Any) -> None:
    line = export(span("0000000000000001", startTimeUnixNano=start, endTimeUnixNano=end))
    [row] = rows(parse([line]))
    assert row["start_ts"] == T0
    assert row["start_ts"].utcoffset() == timedelta(0)
    if isinstance(end, float):
        assert row["duration_ms"] == pytest.approx(0.084, abs=0.001)
    else:
        assert row["end_ts"] == T0.replace(microsecond=84)
        assert row["duration_ms"] == 0.084  # exactly: not 0.08399999999999999


def test_missing_or_zero_times_are_null() -> None:
    line = export(span("0000000000000001", startTimeUnixNano="0"), span("0000000000000002"))
    for row in rows(parse([line])):
        assert (row["start_ts"], row["end_ts"], row["duration_ms"]) == (None, None, None)


# --- kind, status, attribute values ------------------------------------------------------------------------


def test_kind_and_status_from_numbers_and_names() -> None:
    spans = [
        span(f"000000000000000{i}", kind=kind, status=status)
        for i, (kind, status) in enumerate(
            [
                (0, {"code": 0}),
                (1, {"code": 1}),
                ("SPAN_KIND_PRODUCER", {"code": "STATUS_CODE_OK"}),
                (5, {"code": "STATUS_CODE_UNSET"}),
                ("SPAN_KIND_UNSPECIFIED", {}),
            ],
            start=1,
        )
    ]
    spans.append(span("0000000000000009"))  # protobuf JSON omits kind 0 and an empty status
    got = [(r["kind"], r["status"]) for r in rows(parse([export(*spans)]))]
    assert got == [
        ("UNSPECIFIED", "UNSET"),
        ("INTERNAL", "OK"),
        ("PRODUCER", "OK"),
        ("CONSUMER", "UNSET"),
        ("UNSPECIFIED", "UNSET"),
        ("UNSPECIFIED", "UNSET"),
    ]


def test_typed_attribute_values_render_as_text() -> None:
    values = {
        "s": {"stringValue": "sku-789"},
        "empty": {"stringValue": ""},
        "i": {"intValue": "-42"},
        "d": {"doubleValue": 0.25},
        "b": {"boolValue": True},
        "bytes": {"bytesValue": "AAAwOQ=="},
        "arr": {
            "arrayValue": {
                "values": [
                    {"stringValue": 'say "hi"'},
                    {"intValue": "1"},
                    {"doubleValue": 1.5},
                    {"boolValue": False},
                ]
            }
        },
        "kv": {"kvlistValue": {"values": [{"key": "region", "value": {"stringValue": "eu"}}]}},
        "empty_arr": {"arrayValue": {}},
    }
    attributes = [{"key": k, "value": v} for k, v in values.items()]
    [row] = rows(parse([export(span("0000000000000001", attributes=attributes))]))
    assert row["attributes"] == {
        "s": "sku-789",
        "empty": "",
        "i": "-42",
        "d": "0.25",
        "b": "true",
        "bytes": "AAAwOQ==",
        "arr": '["say \\"hi\\"",1,1.5,false]',
        "kv": '{"region":"eu"}',
        "empty_arr": "[]",
    }
    assert json.loads(row["attributes"]["arr"]) == ['say "hi"', 1, 1.5, False]


# --- other wrappers ----------------------------------------------------------------------------------------


def test_tempo_batches_with_instrumentation_library_spans() -> None:
    line = export(span("00000000000000aa"), key="batches", scope_key="instrumentationLibrarySpans")
    [row] = rows(parse([line]))
    assert (row["trace_id"], row["span_id"]) == (TRACE, "00000000000000aa")


def test_jaeger_v3_result_wrapper() -> None:
    inner = json.loads(EXPORT)
    [row, *_] = rows(parse([json.dumps({"result": inner})]))
    assert (row["service"], row["name"]) == ("order-service", "POST /orders")


def test_service_falls_back_to_the_context() -> None:
    [row] = rows(parse([export(span("0000000000000001"))], service="checkout"))
    assert row["service"] == "checkout"


# --- rejects and line accounting ---------------------------------------------------------------------------


def test_truncated_line_and_span_without_span_id_are_rejected() -> None:
    missing = export(span("0000000000000001"), {"traceId": TRACE, "name": "no span id"})
    lines = [EXPORT[:500], missing, '{"level":"info","msg":"GET /health 200"}']
    result = parse(lines, first_line=10)

    assert [r["span_id"] for r in rows(result)] == ["0000000000000001"]
    assert [r["source_line"] for r in rows(result)] == [11]
    rejects = reject_rows(result)
    assert [(r["source_line"], r["raw"]) for r in rejects] == [(10, lines[0]), (11, missing), (12, lines[2])]
    assert rejects[0]["reason"].startswith("invalid JSON: ")
    assert rejects[1]["reason"] == "span dropped: no spanId"
    assert rejects[2]["reason"] == "not an OTLP trace export (no resourceSpans, batches or result)"
    assert {r["format"] for r in rejects} == {"otlp-json"}
    assert result.rejects.schema == schema.REJECTS
    # the line with one good span is a record line; its bad span is still a reject row
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 2, 0)


def test_line_whose_only_spans_are_bad_is_a_reject_line() -> None:
    bad = export(
        {"spanId": "0000000000000001"}, {"traceId": "00000000000000000000000000000000", "spanId": "02"}
    )
    result = parse([bad])
    assert result.records.num_rows == 0
    assert [r["reason"] for r in reject_rows(result)] == [
        "span dropped: no traceId",
        "span dropped: invalid traceId '00000000000000000000000000000000'",
    ]
    assert (result.record_lines, result.reject_lines) == (0, 1)


def test_line_accounting_counts_blank_lines_and_empty_exports() -> None:
    lines = [
        EXPORT,
        "",
        "   ",
        '{"resourceSpans":[]}',  # a valid export with no spans: a record line
        '{"result":{}}',  # Jaeger v3 with the empty list omitted (protobuf JSON)
        '{"resourceSpans":"oops"}',
        "[1,2]",
        "not json",
    ]
    result = parse(lines)
    assert result.records.num_rows == 3
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (3, 3, 2)
    assert result.record_lines + result.reject_lines + result.skipped_lines == len(lines)
    reasons = {r["source_line"]: r["reason"] for r in reject_rows(result)}
    assert reasons == {
        6: "malformed OTLP trace export: resourceSpans/batches/result has the wrong JSON type",
        7: "not an OTLP trace export (no resourceSpans, batches or result)",
        8: "invalid JSON: Expecting value: line 1 column 1 (char 0)",
    }
    assert result.notes == {"spans": 3, "rejected_spans": 0}


def test_chunk_without_any_span() -> None:
    result = parse(["nope", '{"resourceSpans":[]}', ""])
    assert result.records.num_rows == 0
    assert [(r["source_line"], r["raw"]) for r in reject_rows(result)] == [(1, "nope")]
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 1, 1)


def test_empty_chunk() -> None:
    result = parse([])
    assert result.records.schema == schema.SPANS
    assert (result.records.num_rows, result.rejects.num_rows) == (0, 0)
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (0, 0, 0)


# --- contract ----------------------------------------------------------------------------------------------


def test_module_contract() -> None:
    assert otlp_json.name == "otlp-json"
    assert otlp_json.kind == "spans"
    assert "\n" not in otlp_json.description
    assert otlp_json.record_start(pl.Series([EXPORT, EXPORT])) is None
    result = parse([otlp_json.example])
    assert (result.records.num_rows, result.rejects.num_rows) == (1, 0)


def test_sniff() -> None:
    assert otlp_json.sniff([EXPORT, EXPORT]) >= 0.9
    assert otlp_json.sniff(['{"batches":[{"resource":{}}]}']) >= 0.9
    assert otlp_json.sniff(['{"result":{"resourceSpans":[]}}']) >= 0.9
    json_log = (
        '{"timestamp":"2026-11-17T14:32:05.101234Z","severity_text":"INFO","service.name":"user-service",'
        '"body":"GET /users/1042 200 12.3ms","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}'
    )
    assert otlp_json.sniff([json_log, json_log]) == 0.0
    assert otlp_json.sniff(["level=info msg=started"]) == 0.0
    assert otlp_json.sniff(["", "  "]) == 0.0


# --- real files --------------------------------------------------------------------------------------------


def corpus(relative: str) -> Path:
    path = CORPORA / relative
    if not path.exists():
        pytest.skip(
            f"corpus file {relative} not found under {CORPORA} (the shared corpora are not checked out)"
        )
    return path


def one_line(path: Path) -> str:
    """A pretty-printed document compacted to one line (multi-line documents are not supported yet)."""
    return json.dumps(json.loads(path.read_text()), separators=(",", ":"))


@pytest.mark.corpus
def test_corpus_opentelemetry_proto_example() -> None:
    line = one_line(corpus("opentelemetry-proto/examples/trace.json"))
    result = parse([line])
    [row] = rows(result)
    assert result.records.num_rows == count_spans(json.loads(line)) == 1
    assert (row["trace_id"], row["span_id"], row["parent_span_id"]) == (
        "5b8efff798038103d269b633813fc60c",
        "eee19b7ec3c1b174",
        "eee19b7ec3c1b173",
    )
    assert (row["service"], row["name"], row["kind"]) == ("my.service", "I'm a server span", "SERVER")
    assert row["start_ts"] == datetime(2018, 12, 13, 14, 51, 0, tzinfo=UTC)
    assert row["end_ts"] == datetime(2018, 12, 13, 14, 51, 1, tzinfo=UTC)
    assert row["duration_ms"] == 1000.0
    assert row["attributes"] == {"my.span.attr": "some value"}


@pytest.mark.corpus
def test_corpus_tempo_vulture_base64_ids() -> None:
    path = corpus("tempo/cmd/tempo-vulture/testdata/trace.json")
    document = json.loads(path.read_text())
    result = parse(path.read_text().splitlines())
    got = rows(result)
    assert len(got) == count_spans(document) == 6
    spans = [s for rs in document["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    expected = [(base64.b64decode(s["traceId"]).hex(), base64.b64decode(s["spanId"]).hex()) for s in spans]
    assert [(r["trace_id"], r["span_id"]) for r in got] == expected
    assert expected[0] == ("3149195ffb0bec05347b48efe8ecc1b0", "4b23de25d1fb6641")
    assert {r["service"] for r in got} == {"tempo-vulture"}
    assert got[0]["http_status"] == 110
    assert all(len(r["events"]) > 0 for r in got)


@pytest.mark.corpus
def test_corpus_tempo_batches_wrapper() -> None:
    line = one_line(corpus("tempo/pkg/tempopb/trace.json"))
    [row] = rows(parse([line]))
    assert (row["trace_id"], row["service"]) == ("5b8efff798038103d269b633813fc60c", "my.service")


@pytest.mark.corpus
def test_corpus_jaeger_ui_json_lines() -> None:
    path = corpus("jaeger-ui/packages/jaeger-ui/src/utils/fixtures/otlp2jaeger-multi-in.json.txt")
    lines = path.read_text().splitlines()
    result = parse(lines)
    expected = sum(count_spans(json.loads(line)) for line in lines if line.strip())
    assert result.records.num_rows == expected
    assert result.record_lines + result.reject_lines + result.skipped_lines == len(lines)
    assert result.reject_lines == 0
    roots = [r for r in rows(result) if r["parent_span_id"] is None]  # "parentSpanId": "" is a root
    assert [r["name"] for r in roots] == ["main"]


@pytest.mark.corpus
def test_corpus_jaeger_integration_fixtures() -> None:
    folder = corpus("jaeger/internal/storage/integration/fixtures/traces")
    paths = sorted(folder.glob("*.json"))
    lines = [one_line(p) for p in paths]
    result = parse(lines)
    assert result.records.num_rows == sum(count_spans(json.loads(line)) for line in lines)
    assert (result.record_lines, result.reject_lines) == (len(lines), 0)
    got = pl.from_arrow(result.records)
    assert isinstance(got, pl.DataFrame)
    assert got.filter(~pl.col("trace_id").str.contains("^[0-9a-f]{32}$")).is_empty()
    assert got.filter(~pl.col("span_id").str.contains("^[0-9a-f]{16}$")).is_empty()
    assert got.get_column("start_ts").null_count() == 0


# --- pretty-printed documents -------------------------------------------------------------------------------


@pytest.mark.corpus
def test_corpus_pretty_printed_documents_come_whole() -> None:
    for relative in ("opentelemetry-proto/examples/trace.json", "tempo/pkg/tempopb/trace.json"):
        path = corpus(relative)
        lines = path.read_text().splitlines()
        mask = otlp_json.record_start(pl.Series(lines))
        assert mask is not None and mask.to_list() == [True] + [False] * (len(lines) - 1)
        assert otlp_json.sniff(lines[:20]) >= 0.9
        result = parse(lines)
        got = rows(result)
        assert len(got) == count_spans(json.loads(path.read_text())) == 1
        assert result.record_lines == len(lines)
        assert got[0]["source_line"] == 1
        assert got[0]["trace_id"] == "5b8efff798038103d269b633813fc60c"


@pytest.mark.corpus
def test_corpus_jaeger_integration_fixtures_pretty_printed() -> None:
    folder = corpus("jaeger/internal/storage/integration/fixtures/traces")
    for path in sorted(folder.glob("*.json")):
        lines = path.read_text().splitlines()
        result = parse(lines)
        assert result.records.num_rows == count_spans(json.loads(path.read_text())), path.name
        assert (result.record_lines, result.reject_lines) == (len(lines), 0)


def test_pretty_printed_trailing_comma_is_a_reject() -> None:
    lines = ["{", '  "resourceSpans": [],', "}"]
    result = parse(lines)
    assert result.reject_lines == 3
    assert next(r["reason"] for r in reject_rows(result)).startswith("invalid JSON")


def test_sniff_pretty_printed_but_not_jaeger_or_zipkin() -> None:
    assert otlp_json.sniff(["{", '  "resourceSpans": [', "    {"]) >= 0.9
    assert otlp_json.sniff(["{", '  "data": [', '    {"traceID": "1"']) == 0.0
    assert otlp_json.sniff(["[", "  {", '    "traceId": "4bf92f3577b34da6",']) == 0.0
