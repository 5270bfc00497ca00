"""Trace and span ID normalization (DESIGN §4) as polars expressions.

Canonical trace_id: 32 lowercase hex, left-padded with zeros. Canonical span_id: 16 lowercase hex,
left-padded. An all-zero ID is invalid (null). An ID that is not hex at all is kept verbatim so it still
joins with itself.
"""

from __future__ import annotations

import polars as pl

TRACE_WIDTH = 32
SPAN_WIDTH = 16


# What loggers write when there is no trace context (SkyWalking "N/A", MDC defaults, templating gaps).
_NO_ID = ["", "-", "n/a", "na", "null", "none", "nil", "undefined", "0"]


def _normalize_series(values: pl.Series, width: int) -> pl.Series:
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


def normalize_trace_id(value: str | None) -> str | None:
    """Scalar form of :func:`trace_id`, for the CLI (``tracejoin trace <id>``) and tests."""
    return pl.select(trace_id(pl.lit(value, dtype=pl.String))).item()


def normalize_span_id(value: str | None) -> str | None:
    """Scalar form of :func:`span_id`."""
    return pl.select(span_id(pl.lit(value, dtype=pl.String))).item()
