"""JSON lines parser: OTel log data model (the sample), ECS, logstash, pino/bunyan; rejects and accounting."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from parsers import json_lines, logfmt, nginx, spring
from parsers.base import ParseResult
from tests.parsers.helpers import attrs, run_parser

# user-service.jsonl as the sample writes it (README): a request line, then a line outside any request
OTEL = (
    '{"timestamp":"2026-11-17T14:32:05.101234Z","severity_text":"INFO","severity_number":9,'
    '"service.name":"user-service","host.name":"user-7f9c-2","logger":"user_service.api",'
    '"body":"GET /users/1042 200 12.3ms","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",'
    '"span_id":"53995c3f42cd8ad8","attributes":{"http.route":"/users/{id}","user.id":"1042"}}'
)
OTEL_NO_TRACE = (
    '{"timestamp":"2026-11-17T14:00:01.102051Z","severity_text":"WARN","severity_number":13,'
    '"service.name":"user-service","host.name":"user-7f9c-2","logger":"user_service.db",'
    '"body":"connection pool at 90% (18/20)","attributes":{"db.pool.size":20}}'
)
# Elastic ecs-logging-java: dotted top-level keys, a nested "log" object
ECS = (
    '{"@timestamp":"2026-11-17T15:32:05.245+01:00","log.level":"ERROR","message":"upstream service error",'
    '"ecs.version":"1.2.0","service.name":"order-service","event.dataset":"order-service",'
    '"process.thread.name":"http-nio-8080-exec-7","log.logger":"c.e.order.web.OrderController",'
    '"trace.id":"4BF92F3577B34DA6A3CE929D0E0E4736","transaction.id":"00f067aa0ba902b7",'
    '"span.id":"00f067aa0ba902b7","host":{"name":"order-6b7d-1"}}'
)
# logstash-logback-encoder: camelCase IDs, level, logger_name, MDC at the top level
LOGSTASH = (
    '{"@timestamp":"2026-11-17T14:32:05.238Z","@version":"1","message":"reserve failed",'
    '"logger_name":"c.e.inventory.ReserveService","thread_name":"main","level":"WARNING","level_value":30000,'
    '"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"7a1c2e9d04b3f518","sku":"sku-789"}'
)
# pino: numeric level, epoch-ms time, msg, hostname
PINO = (
    '{"level":50,"time":1794925925238,"pid":7,"hostname":"checkout-web-5f9","msg":"payment declined",'
    '"otelTraceID":"4bf92f3577b34da6a3ce929d0e0e4736","otelSpanID":"c4e1a2b3d4e5f607","req":{"id":42}}'
)


def run(lines: list[str], **kw: Any) -> tuple[pl.DataFrame, pl.DataFrame, ParseResult]:
    return run_parser(json_lines, lines, "user-service/user-service.jsonl", **kw)


def test_otel_record_from_the_sample() -> None:
    recs, rejects, result = run([OTEL, OTEL_NO_TRACE], first_line=41)
    assert rejects.is_empty() and result.tz_assumed == 0
    first, second = recs.to_dicts()
    assert first["ts"] == datetime(2026, 11, 17, 14, 32, 5, 101234, tzinfo=UTC)
    assert (first["service"], first["host"], first["logger"]) == (
        "user-service",
        "user-7f9c-2",
        "user_service.api",
    )
    assert (first["level"], first["message"]) == ("INFO", "GET /users/1042 200 12.3ms")
    assert (first["trace_id"], first["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8")
    assert attrs(first) == {"http.route": "/users/{id}", "user.id": "1042"}
    assert (first["format"], first["source_file"], first["source_line"]) == (
        "json",
        "user-service/user-service.jsonl",
        41,
    )
    assert (second["level"], second["trace_id"], second["span_id"]) == ("WARN", None, None)
    assert attrs(second) == {"db.pool.size": "20"}  # numbers become text
    assert second["source_line"] == 42


def test_ecs_keys_and_nested_objects() -> None:
    (rec,) = run([ECS])[0].to_dicts()
    assert rec["ts"] == datetime(2026, 11, 17, 14, 32, 5, 245000, tzinfo=UTC)
    assert (rec["level"], rec["message"], rec["logger"]) == (
        "ERROR",
        "upstream service error",
        "c.e.order.web.OrderController",
    )
    assert (rec["service"], rec["host"]) == ("order-service", "order-6b7d-1")
    assert rec["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"  # upper case normalized
    assert rec["span_id"] == "00f067aa0ba902b7"
    a = attrs(rec)
    assert a["process.thread.name"] == "http-nio-8080-exec-7"
    assert a["transaction.id"] == "00f067aa0ba902b7"
    assert a["host"] == '{"name":"order-6b7d-1"}'  # the object is kept whole, as JSON text
    assert "log.level" not in a and "message" not in a and "@timestamp" not in a


def test_logstash_and_pino_aliases() -> None:
    recs, _, _ = run([LOGSTASH, PINO])
    logstash, pino = recs.to_dicts()
    assert logstash["ts"] == datetime(2026, 11, 17, 14, 32, 5, 238000, tzinfo=UTC)
    assert (logstash["level"], logstash["logger"], logstash["message"]) == (
        "WARN",
        "c.e.inventory.ReserveService",
        "reserve failed",
    )
    assert (logstash["trace_id"], logstash["span_id"]) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "7a1c2e9d04b3f518",
    )
    assert attrs(logstash) == {
        "@version": "1",
        "thread_name": "main",
        "level_value": "30000",
        "sku": "sku-789",
    }
    assert pino["ts"] == datetime(2026, 11, 17, 14, 32, 5, 238000, tzinfo=UTC)  # epoch milliseconds
    assert (pino["level"], pino["host"], pino["message"]) == ("ERROR", "checkout-web-5f9", "payment declined")
    assert (pino["trace_id"], pino["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "c4e1a2b3d4e5f607")
    assert attrs(pino) == {"pid": "7", "req": '{"id":42}'}


def test_a_key_that_first_appears_late_is_kept() -> None:
    plain = '{"timestamp":"2026-11-17T14:00:%02d.000Z","severity_text":"INFO","body":"tick %d"}'
    late = '{"timestamp":"2026-11-17T14:59:59.000Z","severity_text":"ERROR","body":"late","tenant":"acme"}'
    lines = [plain % (i % 60, i) for i in range(40_000)] + [late]  # several batches, scanned in parallel
    recs, _, _ = run(lines)
    assert recs.height == 40_001
    assert recs["message"].to_list()[::10_000] == ["tick 0", "tick 10000", "tick 20000", "tick 30000", "late"]
    assert attrs(recs.row(-1, named=True)) == {"tenant": "acme"}
    assert attrs(recs.row(0, named=True)) == {}


def test_very_many_distinct_keys_take_the_generic_path() -> None:
    lines = [
        f'{{"timestamp":"2026-11-17T14:32:05Z","level":"info","msg":"m{i}","k{i}":{i},"attributes":{{"a{i}":"v"}}}}'
        for i in range(300)
    ] + ['{"timestamp":"2026-11-17T14:32:06Z","msg":"no extras"}']
    recs, _, _ = run(lines)
    assert recs.height == 301
    assert attrs(recs.row(300, named=True)) == {}
    assert attrs(recs.row(7, named=True)) == {"k7": "7", "a7": "v"}
    assert recs["message"][299] == "m299" and recs["level"][299] == "INFO"


def test_losing_alias_and_nested_clash_stay_attributes() -> None:
    line = (
        '{"timestamp":"2026-11-17T14:32:05Z","time":"14:32:05","level":"info","msg":"m",'
        '"user.id":"top","attributes":{"user.id":"nested","k":true}}'
    )
    (rec,) = run([line])[0].to_dicts()
    assert rec["ts"] == datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)
    assert attrs(rec) == {"time": "14:32:05", "user.id": "top", "attributes.user.id": "nested", "k": "true"}


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ('"severity_text":"WARNING"', "WARN"),
        ('"severity_text":"critical"', "FATAL"),
        ('"severity_text":"INFO2"', "INFO"),
        ('"severity_text":"Information"', "INFO"),
        ('"level":"err"', "ERROR"),
        ('"level":"ERROR+2"', "ERROR"),
        ('"level":10', "TRACE"),
        ('"level":20', "DEBUG"),
        ('"level":30', "INFO"),
        ('"level":40', "WARN"),
        ('"level":60', "FATAL"),
        ('"severity_number":3', "TRACE"),
        ('"severity_number":5', "DEBUG"),
        ('"severity_number":12', "INFO"),
        ('"severity_number":13', "WARN"),
        ('"severity_number":17', "ERROR"),
        ('"severity_number":24', "FATAL"),
        ('"severity_text":"AUDIT"', "AUDIT"),  # an unknown word is kept, upper-cased
        ('"severity_text":"AUDIT","severity_number":9', "INFO"),  # ... unless the number says better
    ],
)
def test_levels(level: str, expected: str) -> None:
    recs, _, _ = run(['{"timestamp":"2026-11-17T14:32:05Z",' + level + ',"body":"x"}'])
    assert recs["level"].to_list() == [expected]


def test_times_epoch_and_zoneless() -> None:
    lines = [
        '{"time":"2026-11-17 15:32:05.5","msg":"zone-less, Berlin"}',
        '{"ts":1794925925.25,"msg":"epoch seconds"}',
        '{"timestamp":"1794925925000000000","msg":"epoch nanoseconds as text"}',
        '{"@timestamp":"2026-11-17T09:32:05-05:00","msg":"offset"}',
    ]
    recs, rejects, result = run(lines, timezone="Europe/Berlin")
    assert rejects.is_empty()
    assert recs["ts"].to_list() == [
        datetime(2026, 11, 17, 14, 32, 5, 500000, tzinfo=UTC),
        datetime(2026, 11, 17, 14, 32, 5, 250000, tzinfo=UTC),
        datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC),
        datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC),
    ]
    assert result.tz_assumed == 1


def test_traceparent_fills_missing_ids() -> None:
    line = (
        '{"timestamp":"2026-11-17T14:32:05Z","msg":"x",'
        '"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}'
    )
    (rec,) = run([line])[0].to_dicts()
    assert (rec["trace_id"], rec["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert attrs(rec)["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_datadog_decimal_ids_flat_nested_and_with_the_high_bits() -> None:
    flat = (  # logstash-logback-encoder with dd-java-agent log injection: the low 64 bits, in decimal
        '{"@timestamp":"2026-11-17T14:32:05.101Z","message":"charging","dd.trace_id":"12429025284572687120",'
        '"dd.span_id":"3111417304734498128","dd.service":"payment-service"}'
    )
    nested = '{"timestamp":"2026-11-17T14:32:05Z","msg":"x","dd":{"trace_id":"123","span_id":"456"}}'
    high = (  # 128-bit trace: _dd.p.tid carries the upper 64 bits in hex
        '{"timestamp":"2026-11-17T14:32:05Z","msg":"x","dd.trace_id":"18446744073709551615",'
        '"_dd.p.tid":"66a0b2c300000000","dd.span_id":"1"}'
    )
    a, b, c = run([flat, nested, high])[0].to_dicts()
    assert (a["trace_id"], a["span_id"]) == ("0000000000000000ac7cc4a4ff4dab10", "2b2df98dbcb3fd50")
    assert attrs(a)["dd.service"] == "payment-service"
    assert (b["trace_id"], b["span_id"]) == ("0" * 30 + "7b", "00000000000001c8")
    assert (c["trace_id"], c["span_id"]) == ("66a0b2c300000000ffffffffffffffff", "0000000000000001")


def test_short_and_zero_ids() -> None:
    line = '{"timestamp":"2026-11-17T14:32:05Z","msg":"x","trace_id":"0x1F","span_id":"0000000000000000"}'
    (rec,) = run([line])[0].to_dicts()
    assert rec["trace_id"] == "0" * 30 + "1f"
    assert rec["span_id"] is None


def test_rejects_with_reasons_and_blank_lines_skipped() -> None:
    truncated = OTEL[:97]  # the sample's cut-off line
    lines = [
        OTEL,
        "",
        truncated,
        "   ",
        '["not", "an", "object"]',
        "42",
        '{"msg":"no time"}',
        '{"ts":"soon","msg":"x"}',
    ]
    recs, rejects, result = run(lines, first_line=1245)
    assert recs["source_line"].to_list() == [1245]
    assert rejects.select("source_line", "reason").rows() == [
        (1247, "invalid JSON"),
        (1249, "not a JSON object"),
        (1250, "not a JSON object"),
        (1251, "no timestamp"),
        (1252, "unreadable timestamp"),
    ]
    assert rejects["raw"][0] == truncated
    assert set(rejects["format"]) == {"json"} and set(rejects["source_file"]) == {
        "user-service/user-service.jsonl"
    }
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 5, 2)


@pytest.mark.parametrize("nested", [False, True])
def test_records_keep_their_own_attributes_around_rejected_lines(nested: bool) -> None:
    # the bags are built for the records only: a rejected line between two records must not shift them
    def line(ts: str, n: int) -> str:
        value = {"a": {"k": n}} if nested else {"k": n}  # a nested object takes DuckDB's reader
        return json.dumps({"timestamp": ts, "msg": f"m{n}", "attributes": value}, separators=(",", ":"))

    lines = [line("2026-11-17T14:32:05Z", 1), line("soon", 2), line("2026-11-17T14:32:06Z", 3)]
    recs, rejects, _ = run(lines)
    assert recs["message"].to_list() == ["m1", "m3"]
    expected = [{"a": '{"k":1}'}, {"a": '{"k":3}'}] if nested else [{"k": "1"}, {"k": "3"}]
    assert [attrs(r) for r in recs.to_dicts()] == expected
    assert rejects["reason"].to_list() == ["unreadable timestamp"]


def test_service_falls_back_to_context() -> None:
    recs, _, _ = run(['{"timestamp":"2026-11-17T14:32:05Z","msg":"x"}'], service="user-service")
    assert recs["service"].to_list() == ["user-service"]


def test_empty_chunk() -> None:
    recs, rejects, result = run([])
    assert recs.is_empty() and rejects.is_empty() and result.record_lines == 0


def test_record_start_is_one_line_per_record() -> None:
    assert json_lines.record_start(pl.Series([OTEL])) is None


def test_sniff_prefers_json_lines() -> None:
    head = [OTEL, OTEL_NO_TRACE, ECS, LOGSTASH, PINO, OTEL[:97], ""]
    own = json_lines.sniff(head)
    others = [logfmt.sniff(head), spring.sniff(head), nginx.sniff(head)]
    assert own == pytest.approx(json_lines.GENERIC * 5 / 6)  # the truncated line is not JSON
    assert max(others) <= 0.1
    # an OTLP trace export is JSON too, but not a log line
    assert json_lines.sniff(['{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[]}]}']) == 0.0


def test_each_line_is_classified_on_its_own() -> None:
    # the quick test (starts with "{", ends with "}") and the blank-aware one for the other lines
    lines = ['{"a":1}', '  {"a":1}\t', '{"a":', "", None, " \t", "x}", '{"a":1} x', "{}"]
    df = json_lines._classify(pl.Series(lines, dtype=pl.String))
    assert df.rows() == [
        (0, '{"a":1}', True, True),
        (1, '  {"a":1}\t', True, True),
        (2, '{"a":', True, False),
        (6, "x}", False, False),
        (7, '{"a":1} x', True, False),
        (8, "{}", True, True),
    ]


def test_object_lines_read_from_the_block_are_passed_on_without_a_copy(tmp_path: Path) -> None:
    from pipeline import reader

    lines = ['{"ts":"2026-11-17T14:32:05Z","msg":"%s"}' % ("x" * n) for n in range(20)]
    path = tmp_path / "app.jsonl"
    path.write_text("\n".join(lines) + "\n")
    (chunk,) = reader.iter_chunks(path)
    text = json_lines._joined(chunk.lines)
    assert text.to_pybytes() == "\n".join(lines).encode()
    block = chunk.lines.to_arrow(compat_level=pl.CompatLevel.newest()).buffers()[2]
    assert block.address <= text.address < text.address + text.size <= block.address + block.size
    # any other selection (out of order, a tail, strings held in their views) gives the same text
    for other in (chunk.lines.gather([0, 2, 1]), chunk.lines.tail(3), pl.Series(["{}", '{"a":1}'])):
        assert json_lines._joined(other).to_pybytes() == "\n".join(other.to_list()).encode()
