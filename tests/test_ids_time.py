"""ID normalization (DESIGN §4) and timestamp normalization (§5)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers import ids, timeparse
from parsers.ids import normalize_span_id, normalize_trace_id

UTC = dt.UTC


def _renderings(value: int, width: int) -> st.SearchStrategy[str]:
    """The forms one ID takes in the wild: padded, unpadded, upper case, 0x-prefixed."""
    padded = f"{value:0{width}x}"
    return st.sampled_from(
        [padded, padded.upper(), f"{value:x}", f"0x{value:x}", f"0X{value:X}", f" {padded} "]
    )


@given(
    st.integers(min_value=1, max_value=2**128 - 1).flatmap(
        lambda v: st.tuples(st.just(v), _renderings(v, 32))
    )
)
def test_any_hex_rendering_of_a_trace_id_normalizes_to_the_canonical_form(case: tuple[int, str]) -> None:
    value, text = case
    assert normalize_trace_id(text) == f"{value:032x}"


@given(
    st.integers(min_value=1, max_value=2**64 - 1).flatmap(lambda v: st.tuples(st.just(v), _renderings(v, 16)))
)
def test_any_hex_rendering_of_a_span_id_normalizes_to_the_canonical_form(case: tuple[int, str]) -> None:
    value, text = case
    assert normalize_span_id(text) == f"{value:016x}"


@given(st.integers(min_value=1, max_value=2**128 - 1), st.integers(min_value=1, max_value=2**64 - 1))
def test_traceparent_yields_trace_and_parent_span(trace: int, span: int) -> None:
    header = pl.lit(f"00-{trace:032x}-{span:016X}-01")
    got = pl.select(ids.traceparent_trace_id(header), ids.traceparent_span_id(header).alias("s")).row(0)
    assert got == (f"{trace:032x}", f"{span:016x}")


@pytest.mark.parametrize("raw", ["0" * 32, "0x0", "", "-", None])
def test_all_zero_and_empty_ids_are_invalid(raw: str | None) -> None:
    assert normalize_trace_id(raw) is None


def test_a_64_bit_trace_id_is_padded_on_the_left_never_the_right() -> None:
    assert normalize_trace_id("463ac35c9f6413ad") == "0000000000000000463ac35c9f6413ad"


def test_non_hex_ids_are_kept_verbatim_so_they_still_join() -> None:
    assert normalize_trace_id("trace-123") == "trace-123"


def _parse(values: list[str | None], tz: str = "UTC") -> list[dt.datetime | None]:
    df = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    df = df.with_columns(ts=timeparse.parse_any(pl.col("raw"), tz))
    return timeparse.dateutil_fill(df, "raw", "ts", tz)["ts"].to_list()


def test_timestamps_with_any_offset_become_utc() -> None:
    got = _parse(
        [
            "2026-11-17T15:32:05.245+01:00",
            "2026-11-17T14:32:05.245Z",
            "2026-11-17 14:32:05,245+0000",
            "[17/Nov/2026:09:32:05 -0500]",
            "2026-11-17T14:32:05.123456789Z",
        ]
    )
    assert got[:4] == [
        dt.datetime(2026, 11, 17, 14, 32, 5, 245000 if i < 3 else 0, tzinfo=UTC) for i in range(4)
    ]
    assert got[4] == dt.datetime(2026, 11, 17, 14, 32, 5, 123456, tzinfo=UTC)


def test_epoch_numbers_in_any_unit() -> None:
    s = 1794925925  # 2026-11-17 14:32:05 UTC
    expected = dt.datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)
    assert _parse([str(s), str(s * 1000), str(s * 1_000_000), str(s * 1_000_000_000)]) == [expected] * 4


def test_zone_less_timestamps_take_the_source_zone_and_are_flagged() -> None:
    assert _parse(["2026-11-17 15:32:05"], "Europe/Berlin") == [
        dt.datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)
    ]
    flags = pl.select(
        timeparse.zone_assumed(pl.Series(["2026-11-17 15:32:05", "2026-11-17T15:32:05Z", "1794925925"]))
    )
    assert flags.to_series().to_list() == [True, False, False]


def test_odd_formats_fall_back_to_dateutil_and_garbage_stays_null() -> None:
    assert _parse(["Tue Nov 17 14:32:05 UTC 2026", "not a time"]) == [
        dt.datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC),
        None,
    ]
