"""Envoy access-log parser: the default format, traceparent and B3 extras, levels, attributes, rejects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from parsers import envoy, json_lines, logfmt, mysql_slow, nginx, otlp_json, spring
from parsers.base import ParseResult
from tests.parsers.helpers import attrs, run_parser

# the default format: the checkout that failed at the upstream (UF: upstream connection failure)
DEFAULT = (
    '[2026-11-17T14:32:05.123Z] "POST /orders HTTP/1.1" 502 UF 87 0 245 244 "10.0.3.17" "checkout-web/4.2" '
    '"5c2f6e2a-9e6f-4d7e-8b9a-1f2e3d4c5b6a" "shop.example.com" "10.0.4.21:8080"'
)
# istio-style extra field: the W3C traceparent header
TRACEPARENT = (
    '[2026-11-17T14:32:05.301Z] "GET /inventory/sku-789?warehouse=eu-1 HTTP/2" 200 - 0 312 12 11 '
    '"10.0.3.17,10.0.1.5" "Go-http-client/2.0" "9b7e0c1d-3a2f-4e5d-8c6b-7a8f9e0d1c2b" '
    '"inventory-service:8080" "10.0.4.30:8080" "00-4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d04b3f518-01"'
)
# B3 multi-header fields (64-bit trace ID, as older Zipkin clients send it), a 404 without upstream
B3 = (
    '[2026-11-17T14:32:06.010Z] "GET /users/99999 HTTP/1.1" 404 NR 0 0 1 - "-" "okhttp/4.12.0" '
    '"0d7c6b5a-4e3f-4a2b-9c1d-0e9f8a7b6c5d" "user-service" "-" "a3ce929d0e0e4736" "53995c3f42cd8ad8"'
)
# B3 single header
B3_SINGLE = (
    '[2026-11-17T14:32:07.500Z] "DELETE /cart/7 HTTP/1.1" 503 UO 0 81 0 - "10.0.3.20" "checkout-web/4.2" '
    '"1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b" "shop.example.com" "-" '
    '"4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"'
)


def run(lines: list[str], **kw: Any) -> tuple[pl.DataFrame, pl.DataFrame, ParseResult]:
    return run_parser(envoy, lines, "api-gateway/envoy-access.log", **kw)


def test_default_line() -> None:
    recs, rejects, result = run([DEFAULT], first_line=42)
    assert rejects.is_empty() and result.tz_assumed == 0
    (rec,) = recs.to_dicts()
    assert rec["ts"] == datetime(2026, 11, 17, 14, 32, 5, 123000, tzinfo=UTC)
    assert (rec["level"], rec["message"]) == ("ERROR", "POST /orders HTTP/1.1 502")
    assert (rec["service"], rec["host"], rec["trace_id"], rec["span_id"]) == (None, None, None, None)
    assert attrs(rec) == {
        "client.address": "10.0.3.17",
        "http.request.method": "POST",
        "url.path": "/orders",
        "http.response.status_code": "502",
        "response_flags": "UF",
        "http.request.body.size": "87",
        "http.response.body.size": "0",
        "duration_ms": "245",
        "upstream_service_time_ms": "244",
        "user_agent.original": "checkout-web/4.2",
        "http.request.header.x-request-id": "5c2f6e2a-9e6f-4d7e-8b9a-1f2e3d4c5b6a",
        "authority": "shop.example.com",
        "upstream_host": "10.0.4.21:8080",
    }
    assert (rec["format"], rec["source_file"], rec["source_line"]) == (
        "envoy",
        "api-gateway/envoy-access.log",
        42,
    )


def test_traceparent_field() -> None:
    recs, _, _ = run([TRACEPARENT])
    (rec,) = recs.to_dicts()
    assert (rec["trace_id"], rec["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "7a1c2e9d04b3f518")
    a = attrs(rec)
    assert a["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d04b3f518-01"
    assert (a["url.path"], a["url.query"]) == ("/inventory/sku-789", "warehouse=eu-1")
    assert (a["client.address"], a["http.x_forwarded_for"]) == ("10.0.3.17", "10.0.3.17,10.0.1.5")
    assert "response_flags" not in a  # "-"
    assert rec["level"] == "INFO"


def test_b3_fields() -> None:
    recs, _, _ = run([B3, B3_SINGLE])
    b3, single = recs.to_dicts()
    # a 64-bit trace ID is left-padded (DESIGN §4)
    assert (b3["trace_id"], b3["span_id"]) == ("0000000000000000a3ce929d0e0e4736", "53995c3f42cd8ad8")
    assert (single["trace_id"], single["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert attrs(single)["b3"] == "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"
    a = attrs(b3)
    assert "upstream_host" not in a and "upstream_service_time_ms" not in a and "client.address" not in a


@pytest.mark.parametrize(("line", "level"), [(DEFAULT, "ERROR"), (B3_SINGLE, "ERROR"), (B3, "WARN")])
def test_levels_follow_status(line: str, level: str) -> None:
    recs, _, _ = run([line])
    assert recs["level"].to_list() == [level]


def test_tcp_proxy_line_without_request() -> None:
    line = '[2026-11-17T14:32:07.001Z] "- - -" 0 DC 0 0 1 - "-" "-" "-" "-" "10.0.4.23:5432"'
    recs, rejects, _ = run([line])
    assert rejects.is_empty()
    (rec,) = recs.to_dicts()
    assert rec["level"] == "INFO"
    assert attrs(rec) == {
        "http.response.status_code": "0",
        "response_flags": "DC",
        "http.request.body.size": "0",
        "http.response.body.size": "0",
        "duration_ms": "1",
        "upstream_host": "10.0.4.23:5432",
    }


def test_garbage_blank_and_bad_time_are_accounted() -> None:
    bad_time = DEFAULT.replace("2026-11-17T14:32:05.123Z", "yesterday at noon")
    nginx_line = nginx.example
    lines = [DEFAULT, "", "upstream connect error or disconnect/reset before headers", bad_time, nginx_line]
    recs, rejects, result = run(lines, first_line=10)
    assert recs["source_line"].to_list() == [10]
    assert rejects.select("source_line", "reason").rows() == [
        (12, "not an Envoy access-log line"),
        (13, "unreadable timestamp"),
        (14, "not an Envoy access-log line"),
    ]
    assert rejects["raw"][0] == "upstream connect error or disconnect/reset before headers"
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 3, 1)


def test_sniff_prefers_envoy() -> None:
    head = [DEFAULT, TRACEPARENT, B3, B3_SINGLE]
    assert envoy.sniff(head) == 1.0
    others = [p.sniff(head) for p in (json_lines, logfmt, spring, nginx, mysql_slow, otlp_json)]
    assert max(others) <= 0.1


@pytest.mark.parametrize("parser", [json_lines, logfmt, spring, nginx, mysql_slow, otlp_json])
def test_sniff_ignores_the_other_formats(parser: Any) -> None:
    assert envoy.sniff(parser.example.splitlines()) <= 0.1


# --- custom format strings and JSON access logs -------------------------------------------------------------

MESH_FORMAT = (
    '[%START_TIME%] %REQ(X-REQUEST-ID)% %REQ(TRACEPARENT)% "%REQ(:METHOD)% '
    '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION% '
    '%UPSTREAM_CLUSTER% "%REQ(USER-AGENT)%"'
)
MESH_LINE = (
    "[2026-11-17T14:32:05.301Z] 9b7e0c1d 00-4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d04b3f518-01 "
    '"GET /inventory/sku-789?warehouse=eu-1 HTTP/2" 503 UF 12 outbound|8080||inventory '
    '"Go-http-client/2.0 (x)"'
)


def test_a_custom_format_string_reads_its_fields_by_operator() -> None:
    lines = [MESH_LINE, "", "not the format"]
    recs, rejects, result = run(lines, options={"envoy_format": MESH_FORMAT})
    (rec,) = recs.to_dicts()
    assert (rec["trace_id"], rec["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "7a1c2e9d04b3f518")
    assert (rec["level"], rec["message"]) == ("ERROR", "GET /inventory/sku-789?warehouse=eu-1 HTTP/2 503")
    assert rec["ts"] == datetime(2026, 11, 17, 14, 32, 5, 301000, tzinfo=UTC)
    a = attrs(rec)
    assert (a["url.path"], a["url.query"], a["response_flags"], a["duration_ms"]) == (
        "/inventory/sku-789",
        "warehouse=eu-1",
        "UF",
        "12",
    )
    assert a["user_agent.original"] == "Go-http-client/2.0 (x)"  # quoted in the format: blanks allowed
    assert a["envoy.upstream_cluster"] == "outbound|8080||inventory"  # no column of its own
    assert a["http.request.header.x-request-id"] == "9b7e0c1d"
    assert rejects.to_dicts()[0]["reason"] == "does not match the source's envoy_format"
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 1, 1)


def test_a_custom_format_with_its_own_time_format_and_b3_headers() -> None:
    fmt = (
        "%START_TIME(%Y/%m/%d %H:%M:%S)% %RESPONSE_CODE% %REQ(X-B3-TRACEID)% %REQ(X-B3-SPANID)% %REQ(:PATH)%"
    )
    recs, rejects, _ = run(
        ["2026/11/17 14:32:05 404 a3ce929d0e0e4736 53995c3f42cd8ad8 /users/9"], options={"envoy_format": fmt}
    )
    assert rejects.is_empty()
    (rec,) = recs.to_dicts()
    assert rec["ts"] == datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)
    assert (rec["trace_id"], rec["span_id"], rec["level"]) == (
        "0000000000000000a3ce929d0e0e4736",
        "53995c3f42cd8ad8",
        "WARN",
    )


@pytest.mark.parametrize(
    ("fmt", "problem"),
    [
        ("%START_TIME% %REQUEST_CODE%", "unknown command operator '%REQUEST_CODE%'"),
        ("%START_TIME% %REQ%", "command operator '%REQ%' needs an argument, e.g. '%REQ(...)%'"),
        ("%START_TIME% %req(x-request-id)%", "unknown command operator '%req(x-request-id)%'"),
        ("%RESPONSE_CODE% %DURATION%", "has no %START_TIME%: a record needs its time"),
    ],
)
def test_a_bad_format_string_names_the_problem(fmt: str, problem: str) -> None:
    from parsers import envoy_format

    with pytest.raises(ValueError) as err:
        envoy_format.check(fmt)
    assert str(err.value) == problem


ISTIO_JSON = {
    "start_time": "2026-11-17T14:32:05.301Z",
    "method": "GET",
    "path": "/inventory/sku-789",
    "protocol": "HTTP/2",
    "response_code": 503,
    "response_flags": "UF",
    "bytes_received": 0,
    "bytes_sent": 91,
    "duration": 12,
    "upstream_service_time": None,
    "x_forwarded_for": "10.0.3.17",
    "user_agent": "Go-http-client/2.0",
    "request_id": "9b7e0c1d",
    "authority": "inventory-service:8080",
    "upstream_host": "10.0.4.30:8080",
    "upstream_cluster": "outbound|8080||inventory.shop.svc.cluster.local",
    "route_name": "default",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d04b3f518-01",
}


def test_json_access_logs_are_read_by_their_keys() -> None:
    lines = [
        json.dumps(ISTIO_JSON),
        json.dumps({**ISTIO_JSON, "traceparent": None, "response_code": 200}),
        "{",
    ]
    recs, rejects, result = run(lines)
    first, second = recs.to_dicts()
    assert (first["trace_id"], first["span_id"], first["level"]) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "7a1c2e9d04b3f518",
        "ERROR",
    )
    assert first["message"] == "GET /inventory/sku-789 HTTP/2 503"
    a = attrs(first)
    assert (a["client.address"], a["upstream_host"], a["http.response.body.size"]) == (
        "10.0.3.17",
        "10.0.4.30:8080",
        "91",
    )
    # keys that are no column keep their own names
    assert (a["upstream_cluster"], a["route_name"]) == (
        "outbound|8080||inventory.shop.svc.cluster.local",
        "default",
    )
    assert "upstream_service_time_ms" not in a  # null
    assert (second["trace_id"], second["level"]) == (None, "INFO")
    assert rejects["source_line"].to_list() == [3]
    assert (result.record_lines, result.reject_lines) == (2, 1)


def test_a_configured_json_format_reads_its_own_keys() -> None:
    fmt = json.dumps(
        {
            "ts": "%START_TIME%",
            "code": "%RESPONSE_CODE%",
            "tp": "%REQ(TRACEPARENT)%",
            "c": "%UPSTREAM_CLUSTER%",
        }
    )
    line = json.dumps(
        {
            "ts": "2026-11-17T14:32:05Z",
            "code": 500,
            "tp": "00-4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d04b3f518-01",
            "c": "inv",
        }
    )
    recs, rejects, _ = run([line], options={"envoy_format": fmt})
    assert rejects.is_empty()
    (rec,) = recs.to_dicts()
    assert (rec["trace_id"], rec["level"], rec["message"]) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "ERROR",
        "500",
    )
    assert attrs(rec)["c"] == "inv"


def test_json_access_logs_are_detected_as_envoy_not_as_app_json() -> None:
    head = [json.dumps({**ISTIO_JSON, "@timestamp": ISTIO_JSON["start_time"]})] * 3
    assert envoy.sniff(head) >= 0.95
    assert envoy.sniff(head) - json_lines.sniff(head) >= 0.1  # no tie: detection picks Envoy
    assert envoy.sniff(['{"ts":"2026-11-17T14:32:05Z","level":"info","msg":"GET /x 200"}']) == 0.0
