"""The fast path of ``timeparse.parse_timestamps`` reads exactly what chrono reads, row for row.

It reads the values laid out like the chunk's first one (same zone text, same fraction length) with a
fixed-width format and hands every other row to chrono, so mixed chunks must come out as chrono alone would
read them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from parsers import timeparse

MIXED = [
    "2026-11-17T15:32:05.245+01:00",
    "2026-11-17T15:32:05.245+0100",
    "2026-11-17T14:32:05.245Z",
    "2026-11-17T14:32:05.245z",
    "2026-11-17T15:32:05.245-01:30",
    "2026-11-17T14:32:05.245123Z",
    "2026-11-17T14:32:05.245123456Z",
    "2026-11-17T14:32:05.2Z",
    "2026-11-17T14:32:05Z",
    "2026-11-17T14:32:05.245",
    "2026-11-17 14:32:05.245",
    "2026-11-17 14:32:05.245+01:00",
    "2026-11-17 14:32:05.245 +01:00",
    "2026-11-17T14:32:05.245 Z",
    "2026-11-17T14:32:05.245+24:00",
    "2026-11-17T14:32:05.245+01:60",
    "2026-02-30T14:32:05.245Z",
    "2026-11-17T24:00:00.000Z",
    "2026-12-31T23:59:60.500Z",
    "2026-11-17T14:32:05.2451Z",
    "17/Nov/2026:14:32:05 +0000",
    "17/Nov/2026:15:32:05 +0100",
    "17/Nov/2026:15:32:05 +01:00",
    "17/nov/2026:14:32:05 +0000",
    "7/Nov/2026:14:32:05 +0000",
    "17/Nov/2026:14:32:05 Z",
    "17/Nov/2026:14:32:05",
    "x2026-11-17T14:32:05.245Z",
    "",
    None,
]
FORMATS = [
    timeparse.ISO_ZONED,
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f %#z",
    "%d/%b/%Y:%H:%M:%S %#z",
    "%d/%b/%Y:%H:%M:%S %z",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("first", [v for v in MIXED if v])
@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
def test_fast_path_reads_what_chrono_reads(fmt: str, first: str, tz: str) -> None:
    values = pl.Series([first, *MIXED], dtype=pl.String)
    expected = timeparse._chrono_format(values, fmt, tz)
    got = timeparse._try_format(values, fmt, tz)
    assert got.dtype == timeparse.UTC_US
    assert got.to_list() == expected.to_list()


def test_offsets_of_the_first_layout_are_applied() -> None:
    df = pl.DataFrame({"raw": ["2026-11-17T15:32:05.245+01:00", "2026-11-17T12:02:05.245-02:30"]})
    out, assumed = timeparse.parse_timestamps(df, "raw", "ts", "UTC")
    assert out["ts"].to_list() == [
        datetime(2026, 11, 17, 14, 32, 5, 245000, tzinfo=UTC),
        datetime(2026, 11, 17, 14, 32, 5, 245000, tzinfo=UTC),
    ]
    assert assumed == 0


@pytest.mark.parametrize(
    ("fmt", "value"),
    [
        (timeparse.ISO_ZONED, "2026-11-17T15:32:05.245+01:00"),
        (timeparse.ISO_ZONED, "2026-11-17T14:32:05.245123Z"),
        ("%Y-%m-%d %H:%M:%S%.f", "2026-11-17 14:32:05.245"),
        ("%d/%b/%Y:%H:%M:%S %z", "17/Nov/2026:15:32:05 +0100"),
    ],
)
def test_common_layouts_take_the_fast_path(fmt: str, value: str) -> None:
    fast = timeparse._fast_format(pl.Series([value]), fmt, "UTC")
    assert fast is not None
    assert fast.to_list() == timeparse._chrono_format(pl.Series([value]), fmt, "UTC").to_list()
    assert fast[0] is not None


def test_an_impossible_zone_offset_rejects_the_record_not_the_chunk() -> None:
    from parsers import json_lines
    from tests.parsers.helpers import run_parser

    good = '{"timestamp":"2026-11-17T14:32:05+01:00","level":"INFO","message":"ok"}'
    bad = good.replace("+01:00", "+25:00")  # python-dateutil reads it; datetime refuses the offset
    recs, rejects, _ = run_parser(json_lines, [good, bad], "app.jsonl")
    assert recs["ts"].to_list() == [datetime(2026, 11, 17, 13, 32, 5, tzinfo=UTC)]
    assert rejects["reason"].to_list() == ["unreadable timestamp"]


def test_a_chunk_of_mixed_loggers_takes_the_fast_path_for_each_layout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # one service's OTel lines (6 digits, Z) between logstash lines (3 digits, +00:00) and Go's (no fraction)
    values = pl.Series(
        ["2026-11-17T14:32:05.245123Z", "2026-11-17T14:32:05.245+00:00", "2026-11-17T15:32:05+01:00"] * 50
    )
    expected = timeparse._chrono_format(values, timeparse.ISO_ZONED, "UTC")

    def no_chrono(*_: object) -> pl.Series:
        raise AssertionError("chrono was used")

    monkeypatch.setattr(timeparse, "_chrono_format", no_chrono)
    assert timeparse._try_format(values, timeparse.ISO_ZONED, "UTC").to_list() == expected.to_list()
