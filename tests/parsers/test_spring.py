"""Spring Boot / logback parser: MDC blocks, multi-line stack traces, zone-less times, rejects, accounting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl

from parsers import json_lines, logfmt, nginx, spring
from parsers.base import ParseResult
from tests.parsers.helpers import attrs, run_parser

# order-service.log as the sample writes it (README): an error record with its stack trace, then a record
# outside any request ("[order-service,,]", level padded by %5p)
ERROR_RECORD = [
    "2026-11-17T15:32:05.245+01:00 ERROR [order-service,4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7] "
    "1 --- [nio-8080-exec-7] c.e.order.web.OrderController            : upstream service error: "
    "POST http://inventory-service/inventory/reserve returned 500",
    "org.springframework.web.client.HttpServerErrorException$InternalServerError: 500 Internal Server Error",
    "\tat org.springframework.web.client.HttpServerErrorException.create(HttpServerErrorException.java:102)",
    "\tat com.example.order.client.InventoryClient.reserve(InventoryClient.java:58)",
    "Caused by: java.net.SocketTimeoutException: Read timed out",
    "\t... 87 common frames omitted",
]
STARTED = (
    "2026-11-17T15:00:01.003+01:00  INFO [order-service,,] 1 --- [           main] "
    "o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat started on port 8080 (http)"
)
# Boot 2 / Sleuth: zone-less time, 4-field MDC block with the export flag
SLEUTH = (
    "2026-11-17 15:32:05.311  WARN [order-service,4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7,true] "
    "4711 --- [   scheduling-1] c.e.order.jobs.OutboxPublisher           : outbox lag 12s"
)
# Boot 3.2+: "[app]" after "---", logback's ",SSS", the fixed-width correlation block after the thread
BOOT32 = (
    "2026-11-17 15:32:05,412 DEBUG 4711 --- [order-service] [nio-8080-exec-2] "
    "[4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7] c.e.order.web.OrderController            : "
    "GET /orders/17"
)
BOOT32_NO_TRACE = (
    "2026-11-17 15:32:06,000  INFO 4711 --- [order-service] [           main] "
    "[                                                 ] o.s.b.StartupInfoLogger                  : Started"
)


def run(lines: list[str], **kw: Any) -> tuple[pl.DataFrame, pl.DataFrame, ParseResult]:
    return run_parser(spring, lines, "order-service/order-service.log", **kw)


def test_error_record_keeps_its_stack_trace() -> None:
    recs, rejects, result = run([*ERROR_RECORD, STARTED], first_line=900)
    assert rejects.is_empty()
    assert (result.record_lines, result.tz_assumed) == (7, 0)
    error, started = recs.to_dicts()
    assert error["ts"] == datetime(2026, 11, 17, 14, 32, 5, 245000, tzinfo=UTC)
    assert (error["service"], error["level"], error["logger"]) == (
        "order-service",
        "ERROR",
        "c.e.order.web.OrderController",
    )
    assert (error["trace_id"], error["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert error["message"] == "\n".join(
        [
            "upstream service error: POST http://inventory-service/inventory/reserve returned 500",
            *ERROR_RECORD[1:],
        ]
    )
    assert attrs(error) == {"thread": "nio-8080-exec-7", "pid": "1"}
    assert (error["format"], error["source_file"], error["source_line"]) == (
        "spring",
        "order-service/order-service.log",
        900,
    )
    assert started["ts"] == datetime(2026, 11, 17, 14, 0, 1, 3000, tzinfo=UTC)
    assert (started["level"], started["trace_id"], started["span_id"]) == ("INFO", None, None)
    assert (started["service"], started["message"]) == ("order-service", "Tomcat started on port 8080 (http)")
    assert attrs(started) == {"thread": "main", "pid": "1"}
    assert started["source_line"] == 906


def test_zoneless_times_take_the_source_zone() -> None:
    recs, _, result = run([SLEUTH, BOOT32], timezone="Europe/Berlin")
    sleuth, boot32 = recs.to_dicts()
    assert sleuth["ts"] == datetime(2026, 11, 17, 14, 32, 5, 311000, tzinfo=UTC)
    assert boot32["ts"] == datetime(2026, 11, 17, 14, 32, 5, 412000, tzinfo=UTC)  # ",SSS"
    assert result.tz_assumed == 2
    assert attrs(sleuth) == {"thread": "scheduling-1", "pid": "4711", "export": "true"}
    assert sleuth["level"] == "WARN"


def test_boot32_app_and_correlation_blocks() -> None:
    recs, _, _ = run([BOOT32, BOOT32_NO_TRACE])
    traced, untraced = recs.to_dicts()
    assert (traced["service"], traced["level"], traced["message"]) == (
        "order-service",
        "DEBUG",
        "GET /orders/17",
    )
    assert (traced["trace_id"], traced["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert attrs(traced) == {"thread": "nio-8080-exec-2", "pid": "4711"}
    assert (untraced["trace_id"], untraced["span_id"], untraced["service"]) == (None, None, "order-service")
    assert (untraced["logger"], untraced["message"]) == ("o.s.b.StartupInfoLogger", "Started")


def test_service_falls_back_to_context_and_colons_stay_in_the_message() -> None:
    line = "2026-11-17 15:32:05.000 ERROR 4711 --- [main] c.e.App : failed: a : b"
    recs, _, _ = run([line], service="order-service")
    assert recs.select("service", "logger", "message").rows() == [
        ("order-service", "c.e.App", "failed: a : b")
    ]


def test_rejects_with_reasons() -> None:
    lines = [
        "\tat com.example.Orphan.frame(Orphan.java:1)",  # the chunk starts inside a record
        "Caused by: java.io.IOException: broken pipe",
        STARTED,
        "",
        "2026-11-17T15:00:02.000+01:00 this is not logback",
        "\tat com.example.Broken.frame(Broken.java:2)",
        "2026-13-45T15:00:02.000+01:00 ERROR [order-service,,] 1 --- [main] c.e.App : month 13",
        *ERROR_RECORD,
    ]
    recs, rejects, result = run(lines, first_line=1)
    assert recs["source_line"].to_list() == [3, 8]
    assert rejects.select("source_line", "reason").rows() == [
        (1, "continuation line without a record"),
        (2, "continuation line without a record"),
        (5, "not a Spring Boot/logback log line"),
        (7, "unreadable timestamp"),
    ]
    # a rejected record takes its continuation lines along
    assert (
        rejects["raw"][2]
        == "2026-11-17T15:00:02.000+01:00 this is not logback\n\tat com.example.Broken.frame(Broken.java:2)"
    )
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (7, 5, 1)


BANNER = [
    "",
    "  .   ____          _            __ _ _",
    " /\\\\ / ___'_ __ _ _(_)_ __  __ _ \\ \\ \\ \\",
    "( ( )\\___ | '_ | '_| | '_ \\/ _` | \\ \\ \\ \\",
    " \\\\/  ___)| |_)| | | | | || (_| |  ) ) ) )",
    "  '  |____| .__|_| |_|_| |_\\__, | / / / /",
    " =========|_|==============|___/=/_/_/_/",
    " :: Spring Boot ::                (v3.3.5)",
    "",
]


def test_spring_boot_banner_is_skipped_at_the_top_of_the_file() -> None:
    recs, rejects, result = run([*BANNER, STARTED], first_line=1)
    assert rejects.is_empty()
    assert recs["source_line"].to_list() == [10]
    assert (result.skipped_lines, result.notes) == (9, {"banner_lines": 7})
    # the same lines in a later chunk are not a banner
    _, rejects, _ = run([*BANNER, STARTED], first_line=5001)
    assert rejects["reason"].unique().to_list() == ["continuation line without a record"]


def test_blank_lines_inside_a_record_are_skipped() -> None:
    recs, _, result = run([ERROR_RECORD[0], "", ERROR_RECORD[1], "   "])
    assert recs["message"][0].endswith("\n" + ERROR_RECORD[1])
    assert (result.record_lines, result.skipped_lines) == (2, 2)


def test_record_start_flags_timestamp_lines() -> None:
    mask = spring.record_start(pl.Series([*ERROR_RECORD, STARTED, SLEUTH, ""]))
    assert mask is not None
    assert mask.to_list() == [True, False, False, False, False, False, True, True, False]


def test_sniff_prefers_spring() -> None:
    head = [*ERROR_RECORD, STARTED, SLEUTH, BOOT32, BOOT32_NO_TRACE]
    own = spring.sniff(head)
    others = [json_lines.sniff(head), logfmt.sniff(head), nginx.sniff(head)]
    assert own >= 0.9
    assert max(others) <= 0.1
    assert spring.sniff(ERROR_RECORD[1:]) == 0.0  # stack frames alone are no evidence


def test_repeated_pieces_read_once_give_the_same_records() -> None:
    # the parts of a line that repeat (level/MDC/PID, thread/logger/Boot 3.2 blocks) are read once per
    # distinct value and joined back: the records must be those of lines read one by one
    lines = [
        *ERROR_RECORD,
        STARTED,
        SLEUTH,
        BOOT32,
        BOOT32_NO_TRACE,
        "2026-11-17T15:00:02.000+01:00 this is not logback",
        "",
    ]
    once, once_rejects, one = run(lines, first_line=2)
    many, many_rejects, repeated = run(lines * 25, first_line=2)
    columns = [c for c in once.columns if c != "source_line"]
    assert many.select(columns).to_dicts() == once.select(columns).to_dicts() * 25
    assert many_rejects["raw"].to_list() == once_rejects["raw"].to_list() * 25
    assert (repeated.record_lines, repeated.reject_lines, repeated.skipped_lines, repeated.tz_assumed) == (
        25 * one.record_lines,
        25 * one.reject_lines,
        25 * one.skipped_lines,
        25 * one.tz_assumed,
    )
