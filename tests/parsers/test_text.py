"""Generic text fallback parser: timestamps of every shape, levels, IDs anywhere, stack traces, rejects."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import json_lines, logfmt, mysql_slow, nginx, otlp_json, spring, text
from parsers.base import ParseResult
from tests.parsers.helpers import attrs, run_parser

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"

# Python logging with the OTel LoggingInstrumentor format, then its traceback
PYTHON_OTEL = [
    "2026-11-17 14:32:05,245 ERROR [user_service.api] [api.py:88] [trace_id=4bf92f3577b34da6a3ce929d0e0e4736 "
    "span_id=53995c3f42cd8ad8 resource.service.name=user-service trace_sampled=True] - lookup failed",
    "Traceback (most recent call last):",
    '  File "/app/user_service/api.py", line 88, in get_user',
    "    row = await db.fetch_one(query)",
    "asyncpg.exceptions.QueryCanceledError: canceling statement due to statement timeout",
]
# log4j2 PatternLayout with "TraceID: %X{trace_id}", a Java stack trace
LOG4J = [
    "2026-11-17T15:32:05.300+01:00 [http-nio-8080-exec-3] WARN  c.e.payment.Gateway - TraceID: "
    "4BF92F3577B34DA6A3CE929D0E0E4736 SpanID: 00F067AA0BA902B7 charge retried",
    "java.net.SocketTimeoutException: Read timed out",
    "\tat java.base/java.net.SocketInputStream.read(SocketInputStream.java:183)",
    "\tat com.example.payment.Gateway.charge(Gateway.java:77)",
    "\t... 42 more",
]
# OTel Java agent MDC in a logback pattern
OTEL_JAVA = (
    "[2026-11-17 14:32:05.400] INFO  c.e.Cart - trace_id=4bf92f3577b34da6a3ce929d0e0e4736 "
    "span_id=00f067aa0ba902b7 trace_flags=01 cart updated"
)
SYSLOG = (
    "Nov  7 14:32:06 web-1 checkout[4711]: error: payment declined uber-trace-id="
    + f"{TRACE}%3A{SPAN}%3A0%3A1"
)
DATADOG = (
    "2026-11-17 14:32:07 CRITICAL [worker] dd.service=billing dd.trace_id=1234567890123456789 "
    "dd.span_id=42 disk full"
)
EPOCH = (
    "1794925925.500 DEBUG cache warm X-Amzn-Trace-Id: Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=" + SPAN
)
ACCESS = f"[17/Nov/2026:15:32:05 +0100] notice proxy b3: {TRACE}-{SPAN}-1 upstream ok"


def run(lines: list[str], **kw: Any) -> tuple[pl.DataFrame, pl.DataFrame, ParseResult]:
    return run_parser(text, lines, "payment/app.log", **kw)


def test_python_logging_with_otel_fields_keeps_its_traceback() -> None:
    recs, rejects, result = run(PYTHON_OTEL, first_line=10)
    assert rejects.is_empty()
    (rec,) = recs.to_dicts()
    assert rec["ts"] == datetime(2026, 11, 17, 14, 32, 5, 245000, tzinfo=UTC)
    assert (rec["level"], rec["service"], rec["trace_id"], rec["span_id"]) == (
        "ERROR",
        "user-service",
        TRACE,
        "53995c3f42cd8ad8",
    )
    assert rec["message"] == "\n".join([PYTHON_OTEL[0].split(" ERROR ", 1)[1], *PYTHON_OTEL[1:]])
    assert attrs(rec) == {"trace_sampled": "True"}
    assert (rec["format"], rec["source_line"], result.record_lines, result.tz_assumed) == ("text", 10, 5, 1)


def test_log4j_traceid_colon_and_java_stack_trace() -> None:
    recs, _, result = run([*LOG4J, OTEL_JAVA])
    log4j, otel = recs.to_dicts()
    assert log4j["ts"] == datetime(2026, 11, 17, 14, 32, 5, 300000, tzinfo=UTC)
    assert (log4j["level"], log4j["trace_id"], log4j["span_id"]) == ("WARN", TRACE, SPAN)
    assert log4j["message"].endswith("charge retried\n" + "\n".join(LOG4J[1:]))
    assert (otel["level"], otel["trace_id"], otel["span_id"]) == ("INFO", TRACE, SPAN)
    assert otel["message"].startswith("c.e.Cart - trace_id=")  # the level word is cut off the message
    assert attrs(otel) == {"trace_flags": "01"}
    assert (result.record_lines, result.tz_assumed) == (6, 1)


def test_every_timestamp_shape_and_id_form() -> None:
    recs, rejects, _ = run([SYSLOG, DATADOG, EPOCH, ACCESS], year=2026, service="checkout")
    assert rejects.is_empty()
    assert recs.select("ts", "level", "trace_id", "span_id", "service").rows() == [
        (datetime(2026, 11, 7, 14, 32, 6, tzinfo=UTC), "ERROR", TRACE, SPAN, "checkout"),
        (
            datetime(2026, 11, 17, 14, 32, 7, tzinfo=UTC),
            "FATAL",
            "0000000000000000112210f47de98115",  # 1234567890123456789, padded on the left
            "000000000000002a",
            "checkout",
        ),
        (datetime(2026, 11, 17, 14, 32, 5, 500000, tzinfo=UTC), "DEBUG", TRACE, SPAN, "checkout"),
        (datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC), "INFO", TRACE, SPAN, "checkout"),
    ]
    assert recs["message"][0] == "web-1 checkout[4711]: error: payment declined uber-trace-id=" + (
        f"{TRACE}%3A{SPAN}%3A0%3A1"
    )


def test_zero_ids_are_absent_and_explicit_keys_win() -> None:
    lines = [
        "2026-11-17 14:00:00,001 INFO [app] [a.py:1] [trace_id=0 span_id=0 resource.service.name=app "
        "trace_sampled=False] - startup",
        f"2026-11-17 14:00:00,002 INFO traceId={TRACE} spanId={SPAN} traceparent=00-{'1' * 32}-{'2' * 16}-01",
        "2026-11-17 14:00:00,003 INFO [order-service,4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7] mdc",
        "2026-11-17 14:00:00,004 the word Traceback-like INFORMATIONAL trace.idx=abc is no level or id",
    ]
    recs, _, _ = run(lines)
    assert recs.select("level", "trace_id", "span_id", "service").rows() == [
        ("INFO", None, None, "app"),
        ("INFO", TRACE, SPAN, None),
        ("INFO", TRACE, SPAN, "order-service"),
        (None, None, None, None),
    ]


def test_rejects_with_reasons_and_accounting() -> None:
    lines = [
        "\tat com.example.Orphan.frame(Orphan.java:1)",  # the chunk starts inside a record
        "no timestamp on this line at all",
        *PYTHON_OTEL[:2],
        "",
        "2026-13-45 14:32:05,000 ERROR month thirteen",
        "  with a continuation",
        "   ",
        OTEL_JAVA,
    ]
    recs, rejects, result = run(lines, first_line=1)
    assert recs["source_line"].to_list() == [3, 9]
    assert rejects.select("source_line", "reason").rows() == [
        (1, "continuation line without a record"),
        (2, "continuation line without a record"),
        (6, "unreadable timestamp"),
    ]
    assert rejects["raw"][2] == "2026-13-45 14:32:05,000 ERROR month thirteen\n  with a continuation"
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (3, 4, 2)


def test_empty_chunk() -> None:
    recs, rejects, result = run([])
    assert recs.is_empty() and rejects.is_empty() and result.record_lines == 0


OTHER_FORMATS = [json_lines, logfmt, spring, nginx, mysql_slow, otlp_json]


@pytest.mark.parametrize("parser", OTHER_FORMATS, ids=lambda p: p.name)
def test_sniff_is_low_for_formats_other_parsers_own(parser: Any) -> None:
    assert text.sniff([parser.example]) <= 0.4
    assert parser.sniff([parser.example]) > text.sniff([parser.example])


@pytest.mark.parametrize(
    "line",
    [
        "2026-11-17T14:32:05.245612345Z stdout F ts=2026-11-17T14:32:05.238901Z level=error msg=boom",  # CRI
        '[2026-11-17T14:32:05.123Z] "POST /orders HTTP/1.1" 502 UF 87 0 245 244 "10.0.3.17"',  # envoy
        "2026-11-17 14:32:05.238 UTC [4711] shop@shop LOG:  duration: 190.512 ms  statement: SELECT 1",
        '2026-11-17 14:32:05.238 UTC,"shop","shop",4711,"10.0.4.21:42608",6383b339.257,1,"SELECT"',  # csvlog
        "2026-11-17T14:32:05.238901Z level=error msg=boom trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
    ],
)
def test_sniff_is_low_for_timestamped_lines_of_other_formats(line: str) -> None:
    assert text.sniff([line]) <= 0.4


def test_sniff_claims_generic_timestamped_text_as_a_fallback() -> None:
    assert 0.5 <= text.sniff([*PYTHON_OTEL, *LOG4J, SYSLOG, DATADOG]) <= 0.6
    assert text.sniff(["just some words", "and more"]) == 0.0
    assert text.sniff(["\tat com.example.A.b(A.java:1)"]) == 0.0  # continuations alone never score


SAMPLES = sorted(p for p in Path(__file__).parents[2].joinpath("sample_logs").glob("*/*") if p.is_file())


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sniff_is_low_on_every_sample_file(path: Path) -> None:
    head = path.read_text(encoding="utf-8").splitlines()[:64]
    assert text.sniff(head) <= 0.4


# --- the head of a record, read without captures ----------------------------------------------------------

_HEAD_PIECES = st.sampled_from(
    ["[", "]", " ", "\t", "2026-11-17 14:32:05", "2026/11/17T14:32:05", ",245", ".123456789", "Z", " +01:00",
     "+0100", "Nov 17 14:32:05", "Nov  7 01:02:03", "17/Nov/2026:14:32:05", " +0000", "1700000000123",
     "1700000000.5", "ERROR", "[WARN]", "info:", "(Debug)", " - ", "-", "é", "x", ":", "<Error>"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_HEAD_PIECES, min_size=1, max_size=8).map("".join), min_size=1, max_size=20))
def test_record_head_reads_what_the_capturing_regexes_read(lines: list[str]) -> None:
    # _head removes the prefix and a leading level word by their match instead of capturing them; the
    # capturing regexes stay the definition: "[", the time (group 2), "]", blanks; then the level lead
    prefix = rf"^(\[?({text._ISO}|{text._SYSLOG}|{text._CLF}|{text._EPOCH})\]?[ \t]*)"
    lead = f"^({text._LEVEL_LEAD_FIND[1:]})"
    frame = pl.DataFrame({"line": pl.Series(lines, dtype=pl.String)})
    want = frame.select(p=pl.col("line").str.extract_groups(prefix)).unnest("p")
    rest = pl.Series(lines).str.slice(want["1"].str.len_chars())
    message = rest.str.slice(rest.str.extract(lead, 1).str.len_chars().fill_null(0))
    got = text._head(frame)
    matched = want["1"].is_not_null()
    assert got["ts_raw"].to_list() == want["2"].to_list()
    assert got["message"].filter(matched).to_list() == message.filter(matched).to_list()
