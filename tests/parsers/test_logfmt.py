"""logfmt parser: the sample's Go service lines, quoting and escapes, aliases, rejects and accounting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from parsers import json_lines, logfmt, nginx, spring
from parsers.base import ParseResult
from tests.parsers.helpers import attrs, run_parser

# inventory-service.log as the sample writes it (README), and a request line without an error
FAILED = (
    "ts=2026-11-17T14:32:05.238901Z level=error service=inventory-service host=inventory-5d8b-1 "
    "caller=reserve.go:88 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=7a1c2e9d04b3f518 "
    'msg="reserve failed" sku=sku-789 qty=1 err="Error 1213 (40001): Deadlock found when trying to get lock; '
    'try restarting transaction"'
)
RESERVED = (
    "ts=2026-11-17T14:31:58.004117Z level=info service=inventory-service host=inventory-5d8b-1 "
    "caller=reserve.go:61 trace_id=5b8efff798038103d269b633813fc60c span_id=eee19b7ec3c1b174 "
    'msg="reserved item" sku=sku-123 qty=2 duration_ms=11.84'
)
# Go kit / logrus / slog variants
LOGRUS = 'time="2026-11-17 15:32:05" level=warning msg="cache \\"hot\\" miss" component=cache key=user:1042'
SLOG = (
    "time=2026-11-17T15:32:05.123+01:00 level=WARN+2 msg=retrying app=checkout "
    "traceID=4BF92F3577B34DA6A3CE929D0E0E4736 spanID=00F067AA0BA902B7 attempt=2"
)


def run(lines: list[str], **kw: Any) -> tuple[pl.DataFrame, pl.DataFrame, ParseResult]:
    return run_parser(logfmt, lines, "inventory-service/inventory-service.log", **kw)


def test_sample_lines() -> None:
    recs, rejects, result = run([RESERVED, FAILED], first_line=2104)
    assert rejects.is_empty() and result.tz_assumed == 0
    ok, failed = recs.to_dicts()
    assert failed["ts"] == datetime(2026, 11, 17, 14, 32, 5, 238901, tzinfo=UTC)
    assert (failed["service"], failed["host"], failed["level"], failed["logger"]) == (
        "inventory-service",
        "inventory-5d8b-1",
        "ERROR",
        None,
    )
    assert failed["message"] == "reserve failed"
    assert (failed["trace_id"], failed["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "7a1c2e9d04b3f518")
    assert attrs(failed) == {
        "caller": "reserve.go:88",
        "sku": "sku-789",
        "qty": "1",
        "err": "Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction",
    }
    assert (failed["format"], failed["source_line"]) == ("logfmt", 2105)
    assert (ok["level"], ok["message"], ok["source_line"]) == ("INFO", "reserved item", 2104)
    assert attrs(ok)["duration_ms"] == "11.84"


def test_escaped_quotes_and_aliases() -> None:
    recs, _, result = run([LOGRUS, SLOG], timezone="Europe/Berlin")
    logrus, slog = recs.to_dicts()
    assert logrus["ts"] == datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)  # zone-less: the source's zone
    assert result.tz_assumed == 1
    assert (logrus["level"], logrus["message"], logrus["logger"]) == ("WARN", 'cache "hot" miss', "cache")
    assert attrs(logrus) == {"key": "user:1042"}
    assert slog["ts"] == datetime(2026, 11, 17, 14, 32, 5, 123000, tzinfo=UTC)
    assert (slog["level"], slog["service"], slog["message"]) == ("WARN", "checkout", "retrying")
    assert (slog["trace_id"], slog["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert attrs(slog) == {"attempt": "2"}


def test_quoting_edge_cases() -> None:
    line = (
        'ts=2026-11-17T14:32:05Z level=info msg="a=b \\\\n c" empty= quoted="" path="/a b/c" eq=x=y '
        "lone trace=0x1F span_id=0000000000000000 logger=reserve"
    )
    (rec,) = run([line])[0].to_dicts()
    assert rec["message"] == "a=b \\n c"  # an escaped backslash stays one backslash
    assert attrs(rec) == {"empty": "", "quoted": "", "path": "/a b/c", "eq": "x=y", "lone": ""}
    assert (rec["trace_id"], rec["span_id"], rec["logger"]) == ("0" * 30 + "1f", None, "reserve")


def test_tabs_and_unterminated_quote_take_the_regex_path() -> None:
    lines = [
        "ts=2026-11-17T14:32:05Z\tlevel=debug\tmsg=tabbed",
        'ts=2026-11-17T14:32:06Z level=info msg="cut off',
    ]
    recs, _, _ = run(lines)
    assert recs.select("level", "message").rows() == [("DEBUG", "tabbed"), ("INFO", "cut off")]


def test_first_alias_wins_and_the_other_is_kept() -> None:
    line = "ts=2026-11-17T14:32:05Z time=2026-11-17T14:32:09Z lvl=debug level=error msg=m message=n"
    (rec,) = run([line])[0].to_dicts()
    assert rec["ts"] == datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)
    assert (rec["level"], rec["message"]) == ("ERROR", "m")
    assert attrs(rec) == {"time": "2026-11-17T14:32:09Z", "lvl": "debug", "message": "n"}


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("dbg", "DEBUG"),
        ("warning", "WARN"),
        ("eror", "ERROR"),
        ("crit", "FATAL"),
        ("panic", "FATAL"),
        ("TRACE", "TRACE"),
    ],
)
def test_levels(level: str, expected: str) -> None:
    recs, _, _ = run([f"ts=2026-11-17T14:32:05Z level={level} msg=x"])
    assert recs["level"].to_list() == [expected]


def test_epoch_timestamps() -> None:
    recs, _, result = run(["ts=1794925925.238901 level=info msg=zap", "ts=1794925925238 level=info msg=ms"])
    assert recs["ts"].to_list() == [
        datetime(2026, 11, 17, 14, 32, 5, 238901, tzinfo=UTC),
        datetime(2026, 11, 17, 14, 32, 5, 238000, tzinfo=UTC),
    ]
    assert result.tz_assumed == 0


def test_rejects_with_reasons() -> None:
    lines = [
        FAILED,
        "\x00\x00\x00 truncated write",  # the sample's garbage line
        "",
        "level=info msg=no-time-at-all",
        "ts=yesterday level=info msg=x",
        "goroutine 1 [running]:",
    ]
    recs, rejects, result = run(lines, first_line=2104)
    assert recs["source_line"].to_list() == [2104]
    assert rejects.select("source_line", "reason").rows() == [
        (2105, "no logfmt key=value pairs"),
        (2107, "no timestamp"),
        (2108, "no timestamp"),
        (2109, "no logfmt key=value pairs"),
    ]
    assert rejects["raw"][0] == "\x00\x00\x00 truncated write"
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 4, 1)


def test_many_lines_keep_their_order() -> None:
    lines = [
        f'ts=2026-11-17T14:{i // 60 % 60:02d}:{i % 60:02d}Z level=info msg="n {i}" i={i}' for i in range(3000)
    ]
    lines[1500] = 'ts=2026-11-17T14:25:00Z level=info msg="has \\"escapes\\"" i=1500'  # the regex path
    recs, _, _ = run(lines)
    assert [attrs(r)["i"] for r in recs.to_dicts()] == [str(i) for i in range(3000)]
    assert recs["message"][1500] == 'has "escapes"'


def test_record_start_is_one_line_per_record() -> None:
    assert logfmt.record_start(pl.Series([FAILED])) is None


def test_sniff_prefers_logfmt() -> None:
    head = [RESERVED, FAILED, LOGRUS, SLOG, "\x00\x00\x00 truncated write", ""]
    own = logfmt.sniff(head)
    others = [json_lines.sniff(head), spring.sniff(head), nginx.sniff(head)]
    assert own >= 0.8
    assert max(others) <= 0.1


def test_non_ascii_keys_are_cut_at_their_equals_sign() -> None:
    simple = 'ts=2026-11-17T14:32:05Z level=info msg="café ok" Größe=12 ключ="a b"'
    escaped = 'ts=2026-11-17T14:32:06Z level=info msg="say \\"hi\\"" Größe=13'  # the regex path
    recs, rejects, _ = run([simple, escaped])
    assert rejects.is_empty()
    first, second = (attrs(r) for r in recs.iter_rows(named=True))
    assert first["Größe"] == "12" and first["ключ"] == "a b"
    assert second["Größe"] == "13"
    assert recs["message"].to_list() == ["café ok", 'say "hi"']
