"""Every rendering of DESIGN §4 -> its extractor in ``parsers.ids`` -> the same canonical ID (round trip)."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers import ids

TRACES = st.integers(min_value=1, max_value=2**128 - 1)
SPANS = st.integers(min_value=1, max_value=2**64 - 1)
Extract = Callable[[pl.Expr], pl.Expr]


def _extract(fn: Extract, text: str) -> str | None:
    return pl.select(fn(pl.lit(text, dtype=pl.String))).item()


def _hex_forms(value: int, width: int) -> list[str]:
    padded = f"{value:0{width}x}"
    return [padded, padded.upper(), f"{value:x}", f"0x{value:x}", f"0X{value:X}"]


def _trace_renderings(t: int, s: int) -> list[tuple[Extract, str]]:
    """(extractor, text) for every form that carries the 128-bit trace ID ``t`` (span ``s`` alongside)."""
    T, S = f"{t:032x}", f"{s:016x}"
    return [
        *((ids.trace_id, form) for form in _hex_forms(t, 32)),
        (ids.traceparent_trace_id, f"traceparent: 00-{T}-{S}-01"),
        (ids.b3_trace_id, f"b3: {T}-{S}"),
        (ids.b3_trace_id, f"b3={T.upper()}-{S}-1-{S}"),
        (ids.b3_multi_trace_id, f"X-B3-TraceId: {T.upper()}"),
        (ids.b3_multi_trace_id, f"x-b3-traceid={t:x}"),
        (ids.uber_trace_id, f"uber-trace-id: {t:x}:{s:x}:0:1"),
        (ids.uber_trace_id, f"Uber-Trace-Id={T}%3A{S}%3A0%3A01"),
        (ids.uber_trace_id, f"uber-trace-id={T}%3a{S}%3a0%3a1"),
        (ids.xray_trace_id, f"X-Amzn-Trace-Id: Root=1-{T[:8]}-{T[8:]};Parent={S};Sampled=1"),
        (ids.mdc_trace_id, f"[order-service,{T},{S}]"),
        (ids.mdc_trace_id, f"INFO [order-service,{t:x},{s:x},true] 1 ---"),
    ]


def _span_renderings(t: int, s: int) -> list[tuple[Extract, str]]:
    T, S = f"{t:032x}", f"{s:016x}"
    return [
        *((ids.span_id, form) for form in _hex_forms(s, 16)),
        (ids.traceparent_span_id, f"00-{T}-{S.upper()}-01"),
        (ids.b3_span_id, f"b3: {T}-{S}-d"),
        (ids.b3_multi_span_id, f"X-B3-SpanId: {S.upper()}"),
        (ids.uber_span_id, f"uber-trace-id: {T}:{s:x}:0:1"),
        (ids.uber_span_id, f"uber-trace-id: {T}%3A{S}%3A0%3A1"),
        (ids.xray_span_id, f"Root=1-{T[:8]}-{T[8:]};Parent={S};Sampled=1"),
        (ids.datadog_span_id, f"dd.span_id={s}"),
        (ids.decimal_span_id, str(s)),
        (ids.mdc_span_id, f"[app,{T},{S},false]"),
    ]


@given(TRACES, SPANS, st.data())
def test_every_rendering_of_a_trace_id_gives_the_canonical_id(t: int, s: int, data: st.DataObject) -> None:
    fn, text = data.draw(st.sampled_from(_trace_renderings(t, s)))
    assert _extract(fn, text) == f"{t:032x}", text


@given(TRACES, SPANS, st.data())
def test_every_rendering_of_a_span_id_gives_the_canonical_id(t: int, s: int, data: st.DataObject) -> None:
    fn, text = data.draw(st.sampled_from(_span_renderings(t, s)))
    assert _extract(fn, text) == f"{s:016x}", text


@given(SPANS, SPANS)
def test_datadog_decimal_ids_give_64_bit_ids_and_tid_the_high_bits(low: int, high: int) -> None:
    assert _extract(ids.decimal_trace_id, str(low)) == f"{low:032x}"
    assert _extract(ids.datadog_trace_id, f'"dd.trace_id":"{low}"') == f"{low:032x}"
    assert (
        _extract(ids.datadog_trace_id, f"_dd.p.tid={high:016x} dd.trace_id={low}") == f"{high:016x}{low:016x}"
    )


@given(TRACES, SPANS)
def test_normalize_any_reads_every_header_rendering(t: int, s: int) -> None:
    T, S = f"{t:032x}", f"{s:016x}"
    for text in [
        f"00-{T}-{S}-01",
        f"b3: {T}-{S}-1",
        f"{T.upper()}-{S}",
        f"uber-trace-id: {T}:{S}:0:1",
        f"{T}%3A{S}%3A0%3A1",
        f"Root=1-{T[:8]}-{T[8:]};Parent={S}",
        f"[app,{T},{S}]",
    ]:
        assert ids.normalize_any(text) == (T, S), text
    assert ids.normalize_any(f"1-{T[:8]}-{T[8:]}") == (T, None)


def test_decimal_to_hex_at_the_64_bit_edges() -> None:
    values = pl.Series(
        ["18446744073709551615", "1", "9223372036854775808", "18446744073709551616", "0", None]
    )
    got = pl.select(ids.decimal_span_id(pl.lit(values))).to_series().to_list()
    # 2**64 does not fit: it is no decimal 64-bit ID, so it is kept as a (long) hex string
    assert got == [
        "ffffffffffffffff",
        "0000000000000001",
        "8000000000000000",
        "18446744073709551616",
        None,
        None,
    ]
    assert ids.u64_hex(pl.Series([2**64 - 1, None], dtype=pl.UInt64)).to_list() == ["ffffffffffffffff", None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "1234567890123456789",
            ("0000000000000000112210f47de98115", "112210f47de98115"),
        ),  # decimal: 19 digits
        ("dd.trace_id=1234", ("000000000000000000000000000004d2", None)),  # explicit key: always decimal
        ("1234567890123456", ("00000000000000001234567890123456", "1234567890123456")),  # 16 digits: hex
        ("463ac35c9f6413ad", ("0000000000000000463ac35c9f6413ad", "463ac35c9f6413ad")),  # padded on the left
        ("0" * 32, (None, None)),  # all-zero: invalid
        ("00-00000000000000000000000000000000-0000000000000000-00", (None, None)),
        ("req-7f3a/opaque", ("req-7f3a/opaque", None)),  # not hex: verbatim
        ("", (None, None)),
    ],
)
def test_normalize_any_examples(text: str, expected: tuple[str | None, str | None]) -> None:
    assert ids.normalize_any(text) == expected


def test_all_zero_and_opaque_ids_in_extractors() -> None:
    assert _extract(ids.mdc_trace_id, "[app,00000000000000000000000000000000,0000000000000000]") is None
    assert _extract(ids.b3_trace_id, "b3: 0000000000000000-0000000000000000-0") is None
    assert _extract(ids.trace_id, "Trace-XYZ") == "Trace-XYZ"
    assert (
        _extract(ids.uber_trace_id, "uber-trace-id: 463ac35c9f6413ad:1:0:1")
        == "0000000000000000463ac35c9f6413ad"
    )
