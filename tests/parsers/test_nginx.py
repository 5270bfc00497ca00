"""nginx access-log parser: the sample's trace format, plain combined, levels, attributes, rejects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from parsers import json_lines, logfmt, nginx, spring
from parsers.base import ParseResult
from tests.parsers.helpers import attrs, run_parser

# access.log as the sample writes it (README): a failed checkout carrying the web client's traceparent
CHECKOUT = (
    '10.0.3.17 - - [17/Nov/2026:14:32:05 +0000] "POST /orders HTTP/1.1" 502 87 "-" '
    '"checkout-web/4.2 (Android 14)" "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" 0.245 0.244'
)
# no traceparent header, no upstream (nginx answered itself)
NOT_FOUND = (
    '10.0.3.22 - - [17/Nov/2026:14:32:06 +0000] "GET /orders/99999?expand=items HTTP/1.1" 404 0 '
    '"https://shop.example/account" "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/132.0" '
    '"-" 0.003 -'
)
# plain combined (the default log_format), another time zone, basic-auth user
COMBINED = (
    '192.0.2.10 - alice [17/Nov/2026:15:32:07 +0100] "GET /health HTTP/1.1" 200 2 "-" "kube-probe/1.31"'
)


def run(lines: list[str], **kw: Any) -> tuple[pl.DataFrame, pl.DataFrame, ParseResult]:
    return run_parser(nginx, lines, "api-gateway/access.log", **kw)


def test_sample_checkout_line() -> None:
    recs, rejects, result = run([CHECKOUT], first_line=1117)
    assert rejects.is_empty() and result.tz_assumed == 0
    (rec,) = recs.to_dicts()
    assert rec["ts"] == datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)
    assert (rec["service"], rec["host"], rec["logger"]) == (
        None,
        None,
        None,
    )  # the pipeline names the service
    assert (rec["level"], rec["message"]) == ("ERROR", "POST /orders HTTP/1.1 502")
    assert (rec["trace_id"], rec["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert attrs(rec) == {
        "client.address": "10.0.3.17",
        "http.request.method": "POST",
        "url.path": "/orders",
        "http.response.status_code": "502",
        "http.response.body.size": "87",
        "user_agent.original": "checkout-web/4.2 (Android 14)",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "request_time_ms": "245",
        "upstream_response_time_ms": "244",
    }
    assert (rec["format"], rec["source_file"], rec["source_line"]) == (
        "nginx",
        "api-gateway/access.log",
        1117,
    )


def test_missing_header_and_upstream_are_dashes() -> None:
    (rec,) = run([NOT_FOUND])[0].to_dicts()
    assert (rec["level"], rec["message"]) == ("WARN", "GET /orders/99999?expand=items HTTP/1.1 404")
    assert (rec["trace_id"], rec["span_id"]) == (None, None)
    a = attrs(rec)
    assert (a["url.path"], a["url.query"], a["http.referer"]) == (
        "/orders/99999",
        "expand=items",
        "https://shop.example/account",
    )
    assert a["request_time_ms"] == "3"
    assert "traceparent" not in a and "upstream_response_time_ms" not in a


def test_plain_combined_format() -> None:
    recs, _, _ = run([COMBINED], service="api-gateway")
    (rec,) = recs.to_dicts()
    assert rec["ts"] == datetime(2026, 11, 17, 14, 32, 7, tzinfo=UTC)
    assert (rec["service"], rec["level"], rec["message"]) == (
        "api-gateway",
        "INFO",
        "GET /health HTTP/1.1 200",
    )
    assert attrs(rec) == {
        "client.address": "192.0.2.10",
        "user.name": "alice",
        "http.request.method": "GET",
        "url.path": "/health",
        "http.response.status_code": "200",
        "http.response.body.size": "2",
        "user_agent.original": "kube-probe/1.31",
    }


@pytest.mark.parametrize(
    ("status", "level"), [(200, "INFO"), (302, "INFO"), (499, "WARN"), (400, "WARN"), (503, "ERROR")]
)
def test_level_follows_status(status: int, level: str) -> None:
    line = f'10.0.3.17 - - [17/Nov/2026:14:32:05 +0000] "GET / HTTP/1.1" {status} 0 "-" "curl/8.5.0"'
    assert run([line])[0]["level"].to_list() == [level]


def test_several_upstreams_and_x_forwarded_for() -> None:
    retried = (
        '10.0.3.17 - - [17/Nov/2026:14:32:05 +0000] "POST /orders HTTP/1.1" 504 0 "-" "k6/0.49" '
        '"00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01" 3.001 1.000, 2.0005'
    )
    main_format = (
        '10.0.3.17 - - [17/Nov/2026:14:32:05 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5.0" '
        '"203.0.113.9, 10.0.0.1"'
    )
    retry, forwarded = run([retried, main_format])[0].to_dicts()
    assert (retry["trace_id"], retry["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert (attrs(retry)["request_time_ms"], attrs(retry)["upstream_response_time_ms"]) == ("3001", "3000.5")
    assert attrs(forwarded)["http.x_forwarded_for"] == "203.0.113.9, 10.0.0.1"
    assert forwarded["trace_id"] is None


def test_b3_single_header_field() -> None:
    line = (
        '10.0.3.31 - - [17/Nov/2026:14:03:44 +0000] "GET /orders/1 HTTP/1.1" 200 130 "-" "curl/8.5.0" '
        '"81c8c7b0fb2865228a21a143636bc3f3-6f5ee1e241437445-1" 0.013 0.012'
    )
    short = line.replace("81c8c7b0fb2865228a21a143636bc3f3-", "a21a143636bc3f3b-").replace(
        '-1"', '-d-1234567890abcdef"'
    )
    rec, rec64 = run([line, short])[0].to_dicts()
    assert (rec["trace_id"], rec["span_id"]) == ("81c8c7b0fb2865228a21a143636bc3f3", "6f5ee1e241437445")
    assert attrs(rec)["b3"] == "81c8c7b0fb2865228a21a143636bc3f3-6f5ee1e241437445-1"
    assert "http.x_forwarded_for" not in attrs(rec)
    assert (rec64["trace_id"], rec64["span_id"]) == ("0" * 16 + "a21a143636bc3f3b", "6f5ee1e241437445")


def test_garbled_request_line_is_kept_without_method() -> None:
    line = (
        '10.0.3.20 - - [17/Nov/2026:14:32:08 +0000] "\\x16\\x03\\x01\\x02\\x00" 400 157 "-" "-" "-" 0.001 -'
    )
    (rec,) = run([line])[0].to_dicts()
    assert (rec["level"], rec["message"]) == ("WARN", "\\x16\\x03\\x01\\x02\\x00 400")
    assert "http.request.method" not in attrs(rec) and "url.path" not in attrs(rec)


def test_rejects_with_reasons() -> None:
    cut = CHECKOUT[:71]  # the sample's line cut off mid-line
    lines = [
        CHECKOUT,
        "",
        cut,
        "garbage",
        '10.0.3.17 - - [32/Nov/2026:14:32:05 +0000] "GET / HTTP/1.1" 200 0 "-" "-"',
    ]
    recs, rejects, result = run(lines, first_line=1117)
    assert recs["source_line"].to_list() == [1117]
    assert rejects.select("source_line", "reason").rows() == [
        (1119, "not an nginx access-log line"),
        (1120, "not an nginx access-log line"),
        (1121, "unreadable timestamp"),
    ]
    assert rejects["raw"][0] == cut
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 3, 1)


def test_record_start_is_one_line_per_record() -> None:
    assert nginx.record_start(pl.Series([CHECKOUT])) is None


def test_sniff_prefers_nginx() -> None:
    head = [CHECKOUT, NOT_FOUND, COMBINED, CHECKOUT[:71]]
    own = nginx.sniff(head)
    others = [json_lines.sniff(head), logfmt.sniff(head), spring.sniff(head)]
    assert own >= 0.7
    assert max(others) <= 0.1


def test_repeated_pieces_read_once_give_the_same_records() -> None:
    # pieces that repeat in a chunk (client and second, request line, status, times) are read once per
    # distinct value and joined back: the records must be those of lines read one by one
    garbled = '10.0.3.20 - - [17/Nov/2026:14:32:08 +0000] "\\x16\\x03\\x01" 400 157 "-" "-" "-" 0.001 -'
    retried = (
        '10.0.3.17 - - [17/Nov/2026:14:32:05 +0000] "POST /orders?x=1 HTTP/1.1" 504 0 "-" "k6/0.49" '
        '"81c8c7b0fb2865228a21a143636bc3f3-6f5ee1e241437445-1" 3.001 1.000, 2.0005'
    )
    lines = [CHECKOUT, NOT_FOUND, COMBINED, garbled, retried, CHECKOUT[:71], "", "garbage"]
    once, once_rejects, one = run(lines)
    many, many_rejects, repeated = run(lines * 25)
    columns = [c for c in once.columns if c != "source_line"]
    assert many.select(columns).to_dicts() == once.select(columns).to_dicts() * 25
    assert many_rejects["reason"].to_list() == once_rejects["reason"].to_list() * 25
    assert (repeated.record_lines, repeated.reject_lines, repeated.skipped_lines) == (
        25 * one.record_lines,
        25 * one.reject_lines,
        25 * one.skipped_lines,
    )
