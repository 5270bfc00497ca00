"""Trace and span ID normalization (DESIGN §4) as polars expressions.

Canonical trace_id: 32 lowercase hex, left-padded with zeros. Canonical span_id: 16 lowercase hex,
left-padded. An all-zero ID is invalid (null). An ID that is not hex at all is kept verbatim so it still
joins with itself.

:func:`trace_id` / :func:`span_id` normalize a column that holds just an ID (hex in any case, ``0x``, lost
leading zeros); :func:`decimal_trace_id` / :func:`decimal_span_id` one that holds Datadog's unsigned 64-bit
decimal. The ``<form>_trace_id`` / ``<form>_span_id`` extractors find one rendering anywhere in a text
column and return the canonical ID:

=============== ===================================================================================
form            rendering
=============== ===================================================================================
``traceparent`` W3C ``00-<trace>-<span>-<flags>``
``b3``          B3 single header ``b3: <trace>-<span>[-<sampled>[-<parent>]]`` (also ``b3=``)
``b3_multi``    ``X-B3-TraceId: <hex>`` / ``X-B3-SpanId: <hex>`` (any case, ``:`` or ``=``)
``uber``        Jaeger ``uber-trace-id: <trace>:<span>:<parent>:<flags>``, ``:`` may be ``%3A``
``xray``        AWS ``Root=1-<8 hex epoch>-<24 hex>`` (the 32 hex digits) and ``Parent=<16 hex>``
``datadog``     ``dd.trace_id=<decimal>`` / ``dd.span_id=<decimal>``; ``_dd.p.tid=<16 hex>`` high bits
``mdc``         Spring/Micrometer ``[app,traceId,spanId]`` or ``[app,traceId,spanId,export]``
=============== ===================================================================================

:func:`normalize_any` reads one value in any of these renderings (for the CLI).
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pyarrow as pa

TRACE_WIDTH = 32
SPAN_WIDTH = 16


# What loggers write when there is no trace context (SkyWalking "N/A", MDC defaults, templating gaps).
_NO_ID = ["", "-", "n/a", "na", "null", "none", "nil", "undefined", "0"]


def _normalize_series(values: pl.Series, width: int) -> pl.Series:
    # Most IDs are already canonical: one anchored regex (a fast DFA) finds them, and only the other rows go
    # through the full rules (strip, case, prefix, padding: ~3x the cost on every row).
    text = values.cast(pl.String)
    if len(text) < 1024:  # a few values (the CLI, tests): the split would only add calls
        return _normalize_rules(text, width)
    canonical = text.str.contains(f"^[0-9a-f]{{{width}}}$") & (text != "0" * width)
    todo = (~canonical).fill_null(False)  # a null stays null
    if not todo.any():
        return text
    todo = todo.arg_true()
    return text.scatter(todo, _normalize_rules(text.gather(todo), width))


def _normalize_rules(values: pl.Series, width: int) -> pl.Series:
    # Intermediate columns are materialized once here: in an eager with_columns, polars would recompute a
    # sub-expression every time it is referenced.
    raw = values.cast(pl.String).str.strip_chars()
    bare = raw.str.to_lowercase().str.strip_prefix("0x")
    frame = pl.DataFrame({"raw": raw, "bare": bare})
    b = pl.col("bare")
    return frame.select(
        pl.when(pl.col("raw").is_null() | b.is_in(_NO_ID) | b.str.contains("^0+$"))
        .then(pl.lit(None, dtype=pl.String))
        .when(b.str.contains(f"^[0-9a-f]{{1,{width}}}$"))
        .then(b.str.pad_start(width, "0"))
        .when(b.str.contains("^[0-9a-f]+$"))
        .then(b)  # longer than the canonical width: lowercase hex, kept whole
        .otherwise(pl.col("raw"))  # not hex at all: verbatim, so it still joins with itself
    ).to_series()


def _normalize(expr: pl.Expr, width: int) -> pl.Expr:
    return expr.map_batches(
        lambda s: _normalize_series(s, width), return_dtype=pl.String, is_elementwise=True
    )


def trace_id(expr: pl.Expr) -> pl.Expr:
    """Canonical trace ID from any hex rendering (upper case, ``0x``, lost leading zeros)."""
    return _normalize(expr, TRACE_WIDTH)


def span_id(expr: pl.Expr) -> pl.Expr:
    """Canonical span ID from any hex rendering."""
    return _normalize(expr, SPAN_WIDTH)


# No \b and no (?i): both make the regex engine many times slower; hex case is normalized afterwards.
TRACEPARENT_RE = r"([0-9a-fA-F]{2})-([0-9a-fA-F]{32})-([0-9a-fA-F]{16})-([0-9a-fA-F]{2})"


def traceparent_trace_id(expr: pl.Expr) -> pl.Expr:
    """Trace ID from a W3C ``traceparent`` value (``00-<trace>-<span>-<flags>``) anywhere in ``expr``."""
    return trace_id(expr.str.extract(TRACEPARENT_RE, 2))


def traceparent_span_id(expr: pl.Expr) -> pl.Expr:
    """Parent (caller) span ID from a W3C ``traceparent`` value anywhere in ``expr``."""
    return span_id(expr.str.extract(TRACEPARENT_RE, 3))


# ---------------------------------------------------------------------------------------------------------
# Datadog decimal IDs. Decimal -> hex is columnar: the text is cast to UInt64 (2**64-1 fits, larger is null)
# and the eight big-endian bytes are split into nibbles and looked up in a 16-byte table with numpy; the
# result is one Arrow string buffer (16 bytes per row), not a Python string per row.

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DECIMAL_RE = r"^[0-9]{1,20}$"


def u64_hex(values: pl.Series) -> pl.Series:
    """Unsigned 64-bit integers -> 16 lowercase hex digits (nulls stay null)."""
    n = len(values)
    raw = values.cast(pl.UInt64).fill_null(0).to_numpy().astype(">u8", copy=False)
    nibbles = np.empty((n, 16), dtype=np.uint8)
    octets = raw.view(np.uint8).reshape(n, 8)
    nibbles[:, 0::2] = _HEX_DIGITS[octets >> 4]
    nibbles[:, 1::2] = _HEX_DIGITS[octets & 15]
    offsets = np.arange(0, 16 * n + 1, 16, dtype=np.int32)
    arr = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(nibbles)])
    hexed = pl.Series(values.name, arr, dtype=pl.String)
    return pl.select(pl.when(values.is_not_null()).then(hexed)).to_series().alias(values.name)


def _decimal_series(values: pl.Series, width: int) -> pl.Series:
    # a value of 1-20 digits that fits 64 bits is decimal; anything else (Datadog's 128-bit hex logging
    # mode, a hex ID) goes through the hex rules. Only the rows with a value are read: in a JSON log that
    # mixes conventions most rows have no Datadog ID.
    text = values.cast(pl.String)
    present = text.is_not_null()
    if not present.all():
        rows = present.arg_true()
        empty = pl.repeat(None, len(text), dtype=pl.String, eager=True).alias(values.name)
        return empty.scatter(rows, _decimal_series(text.gather(rows), width)) if len(rows) else empty
    text = text.str.strip_chars()
    decimal = text.str.contains(_DECIMAL_RE).fill_null(False)
    number = text.cast(pl.UInt64, strict=False)
    frame = pl.DataFrame({"number": number, "hexed": u64_hex(number), "decimal": decimal})
    frame = frame.with_columns(ok=pl.col("decimal") & pl.col("number").is_not_null())
    if not frame["ok"].all():
        frame = frame.with_columns(as_hex=_normalize_series(text, width))
    else:
        frame = frame.with_columns(as_hex=pl.lit(None, dtype=pl.String))
    return frame.select(
        pl.when(pl.col("ok"))
        .then(pl.when(pl.col("number") != 0).then(pl.col("hexed").str.pad_start(width, "0")))
        .otherwise(pl.col("as_hex"))
        .alias(values.name)
    ).to_series()


def _decimal_trace_series(pair: pl.Series) -> pl.Series:
    # the low 64 bits decoded once (an expression referring to them three times is evaluated three times)
    low = _decimal_series(pair.struct.field("low"), TRACE_WIDTH)
    high = pair.struct.field("high")
    if high.null_count() == len(high):  # no `_dd.p.tid`: 64-bit traces
        return low
    hi = high.cast(pl.String).str.strip_chars().str.to_lowercase()
    frame = pl.DataFrame({"low": low, "hi": hi})
    low_col, hi_col = pl.col("low"), pl.col("hi")
    return frame.select(
        pl.when(hi_col.str.contains("^[0-9a-f]{16}$") & low_col.str.starts_with("0000000000000000"))
        .then(hi_col + low_col.str.slice(16))
        .otherwise(low_col)
    ).to_series()


def decimal_trace_id(expr: pl.Expr, high: pl.Expr | None = None) -> pl.Expr:
    """Canonical trace ID from a Datadog ``dd.trace_id`` (unsigned 64-bit decimal, left-padded to 32).

    ``high``: the ``_dd.p.tid`` tag (16 hex, the upper 64 bits of a 128-bit trace), used where present.
    A value that is not decimal (Datadog's 128-bit hex logging mode) is read as hex.
    """
    if high is None:
        return expr.map_batches(
            lambda s: _decimal_series(s, TRACE_WIDTH), return_dtype=pl.String, is_elementwise=True
        )
    pair = pl.struct(expr.cast(pl.String).alias("low"), high.cast(pl.String).alias("high"))
    return pair.map_batches(_decimal_trace_series, return_dtype=pl.String, is_elementwise=True)


def decimal_span_id(expr: pl.Expr) -> pl.Expr:
    """Canonical span ID from a Datadog ``dd.span_id`` (unsigned 64-bit decimal)."""
    return expr.map_batches(
        lambda s: _decimal_series(s, SPAN_WIDTH), return_dtype=pl.String, is_elementwise=True
    )


# ---------------------------------------------------------------------------------------------------------
# Extractors: one rendering found anywhere in a text column. Header names in any case through explicit
# character classes (no (?i), no \b: both slow the regex engine down many times); hex case is normalized by
# trace_id/span_id afterwards.

_H = "[0-9a-fA-F]"
_SEP = r"[ \t]*[:=][ \t]*"
B3_RE = rf"[bB]3{_SEP}({_H}{{1,32}})-({_H}{{1,16}})(?:-([01dD]))?(?:-({_H}{{1,16}}))?"
B3_TRACE_RE = rf"[Xx]-[Bb]3-[Tt][Rr][Aa][Cc][Ee][Ii][Dd]{_SEP}[\"']?({_H}{{1,32}})"
B3_SPAN_RE = rf"[Xx]-[Bb]3-[Ss][Pp][Aa][Nn][Ii][Dd]{_SEP}[\"']?({_H}{{1,16}})"
_COLON = "(?::|%3[aA])"
UBER_RE = (
    rf"[Uu][Bb][Ee][Rr]-[Tt][Rr][Aa][Cc][Ee]-[Ii][Dd]{_SEP}[\"']?"
    rf"({_H}{{1,32}}){_COLON}({_H}{{1,16}}){_COLON}({_H}{{1,16}}){_COLON}({_H}{{1,2}})"
)
XRAY_ROOT_RE = rf"Root=1-({_H}{{8}})-({_H}{{24}})"
XRAY_PARENT_RE = rf"Parent=({_H}{{16}})"
DD_TRACE_RE = r"dd\.trace_id[\"']?[ \t]*[:=][ \t]*[\"']?([0-9a-fA-F]{1,32})"
DD_SPAN_RE = r"dd\.span_id[\"']?[ \t]*[:=][ \t]*[\"']?([0-9]{1,20})"
DD_TID_RE = r"_dd\.p\.tid[\"']?[ \t]*[:=][ \t]*[\"']?([0-9a-fA-F]{16})"
# the app may be empty or hold anything but brackets and commas; the IDs must be hex, so a bracketed list
# of words is no MDC block
MDC_RE = rf"\[([^,\[\]]*),({_H}{{1,32}}),({_H}{{1,16}})(?:,([a-z]*))?\]"


def b3_trace_id(expr: pl.Expr) -> pl.Expr:
    """Trace ID from a B3 single header ``b3: <trace>-<span>[-<sampled>[-<parent>]]`` anywhere in ``expr``."""
    return trace_id(expr.str.extract(B3_RE, 1))


def b3_span_id(expr: pl.Expr) -> pl.Expr:
    """Span ID from a B3 single header anywhere in ``expr``."""
    return span_id(expr.str.extract(B3_RE, 2))


def b3_multi_trace_id(expr: pl.Expr) -> pl.Expr:
    """Trace ID from an ``X-B3-TraceId`` header anywhere in ``expr`` (a bare value: use :func:`trace_id`)."""
    return trace_id(expr.str.extract(B3_TRACE_RE, 1))


def b3_multi_span_id(expr: pl.Expr) -> pl.Expr:
    """Span ID from an ``X-B3-SpanId`` header anywhere in ``expr``."""
    return span_id(expr.str.extract(B3_SPAN_RE, 1))


def uber_trace_id(expr: pl.Expr) -> pl.Expr:
    """Trace ID from Jaeger's ``uber-trace-id: <trace>:<span>:<parent>:<flags>`` (``:`` or ``%3A``)."""
    return trace_id(expr.str.extract(UBER_RE, 1))


def uber_span_id(expr: pl.Expr) -> pl.Expr:
    """Span ID from Jaeger's ``uber-trace-id`` anywhere in ``expr``."""
    return span_id(expr.str.extract(UBER_RE, 2))


def xray_trace_id(expr: pl.Expr) -> pl.Expr:
    """Trace ID from AWS X-Ray ``Root=1-<8 hex epoch>-<24 hex>``: the 32 hex digits, epoch first."""
    root = expr.str.extract_groups(XRAY_ROOT_RE)
    return trace_id(root.struct.field("1") + root.struct.field("2"))


def xray_span_id(expr: pl.Expr) -> pl.Expr:
    """Span ID from AWS X-Ray ``Parent=<16 hex>`` anywhere in ``expr``."""
    return span_id(expr.str.extract(XRAY_PARENT_RE, 1))


def datadog_trace_id(expr: pl.Expr) -> pl.Expr:
    """Trace ID from ``dd.trace_id=<decimal>`` anywhere in ``expr``, with ``_dd.p.tid=<hex>`` high bits."""
    return decimal_trace_id(expr.str.extract(DD_TRACE_RE, 1), expr.str.extract(DD_TID_RE, 1))


def datadog_span_id(expr: pl.Expr) -> pl.Expr:
    """Span ID from ``dd.span_id=<decimal>`` anywhere in ``expr``."""
    return decimal_span_id(expr.str.extract(DD_SPAN_RE, 1))


def mdc_trace_id(expr: pl.Expr) -> pl.Expr:
    """Trace ID from a Spring/Micrometer MDC block ``[app,traceId,spanId(,export)]`` anywhere in ``expr``."""
    return trace_id(expr.str.extract(MDC_RE, 2))


def mdc_span_id(expr: pl.Expr) -> pl.Expr:
    """Span ID from a Spring/Micrometer MDC block anywhere in ``expr``."""
    return span_id(expr.str.extract(MDC_RE, 3))


# ---------------------------------------------------------------------------------------------------------
# One value in any rendering (CLI). Forms are tried in this order; the first that reads a trace ID wins and
# gives the span ID too. A bare ID (no separators) is hex, except 17-20 digits with no hex letter that fit in
# 64 bits: that is Datadog decimal (a hex ID of 65-80 bits does not exist; a decimal 64-bit ID below 10**16
# is rare, ~0.05% of random IDs, and is read as hex - write ``dd.trace_id=<n>`` to force decimal).

_BARE = {
    "b3": rf"^({_H}{{1,32}})-({_H}{{1,16}})(?:-[01dD])?(?:-{_H}{{1,16}})?$",
    "uber": rf"^({_H}{{1,32}}){_COLON}({_H}{{1,16}}){_COLON}{_H}{{1,16}}{_COLON}{_H}{{1,2}}$",
    "xray": rf"^1-({_H}{{8}})-({_H}{{24}})$",
}


def _scalar(fn_trace: object, fn_span: object, value: str) -> tuple[str | None, str | None]:
    col = pl.lit(value, dtype=pl.String)
    row = pl.select(fn_trace(col).alias("t"), fn_span(col).alias("s")).row(0)  # type: ignore[operator]
    return row[0], row[1]


def normalize_any(text: str | None) -> tuple[str | None, str | None]:
    """(trace_id, span_id) of one ID or header value in any rendering of DESIGN §4.

    Tried in order: traceparent, b3 single (``b3: ...`` or a bare ``<trace>-<span>...``), uber-trace-id
    (with or without the header name, ``:`` or ``%3A``), X-Ray (``Root=1-...``/``Parent=`` or a bare
    ``1-<8>-<24>``), ``X-B3-TraceId``/``X-B3-SpanId``, ``dd.trace_id``/``dd.span_id``, an MDC block. A bare ID
    is a trace ID (span null, or the span reading when it fits 64 bits: ``(trace, span)`` with both filled,
    so the caller may look it up either way); 17-20 decimal digits that fit 64 bits are Datadog decimal.
    """
    if text is None or not text.strip():
        return None, None
    value = text.strip()
    extractors = (
        (TRACEPARENT_RE, traceparent_trace_id, traceparent_span_id),
        (B3_RE, b3_trace_id, b3_span_id),
        (UBER_RE, uber_trace_id, uber_span_id),
        (f"{XRAY_ROOT_RE}|{XRAY_PARENT_RE}", xray_trace_id, xray_span_id),
        (f"{B3_TRACE_RE}|{B3_SPAN_RE}", b3_multi_trace_id, b3_multi_span_id),
        (f"{DD_TRACE_RE}|{DD_SPAN_RE}", datadog_trace_id, datadog_span_id),
        (MDC_RE, mdc_trace_id, mdc_span_id),
    )
    for pattern, fn_trace, fn_span in extractors:
        if re.search(pattern, value):  # the form is there: its answer stands, even all-zero (null)
            return _scalar(fn_trace, fn_span, value)
    for form, pattern in _BARE.items():
        m = re.match(pattern, value.replace("%3a", ":").replace("%3A", ":") if form == "uber" else value)
        if m:
            if form == "xray":
                return normalize_trace_id(m.group(1) + m.group(2)), None
            return normalize_trace_id(m.group(1)), normalize_span_id(m.group(2))
    if re.fullmatch(r"[0-9]{17,20}", value) and int(value) < 2**64:
        trace, span = _scalar(decimal_trace_id, decimal_span_id, value)
        return trace, span
    trace = normalize_trace_id(value)
    bare = value.lower().removeprefix("0x")
    fits = re.fullmatch(r"[0-9a-f]{1,16}", bare) is not None
    return trace, normalize_span_id(value) if fits else None


def normalize_trace_id(value: str | None) -> str | None:
    """Scalar form of :func:`trace_id`, for the CLI (``tracejoin trace <id>``) and tests."""
    return pl.select(trace_id(pl.lit(value, dtype=pl.String))).item()


def normalize_span_id(value: str | None) -> str | None:
    """Scalar form of :func:`span_id`."""
    return pl.select(span_id(pl.lit(value, dtype=pl.String))).item()
