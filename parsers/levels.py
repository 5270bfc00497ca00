"""Log levels: every spelling seen in the wild -> TRACE, DEBUG, INFO, WARN, ERROR or FATAL."""

from __future__ import annotations

import polars as pl

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
_LEVEL_WORDS: dict[str, str] = {
    **{lvl: lvl for lvl in LEVELS},
    "FINEST": "TRACE",
    "FINER": "TRACE",
    "TRC": "TRACE",
    "FINE": "DEBUG",
    "DBG": "DEBUG",
    "INFORMATION": "INFO",
    "INF": "INFO",
    "NOTICE": "INFO",
    "WARNING": "WARN",
    "WRN": "WARN",
    "ERR": "ERROR",
    "EROR": "ERROR",  # logrus' four-letter form
    "SEVERE": "ERROR",
    "CRITICAL": "FATAL",
    "CRIT": "FATAL",
    "FTL": "FATAL",
    "PANIC": "FATAL",
    "DPANIC": "FATAL",
    "ALERT": "FATAL",
    "EMERG": "FATAL",
    "EMERGENCY": "FATAL",
}


def level_from_text(expr: pl.Expr, *, keep_unknown: bool = True) -> pl.Expr:
    """Level word -> TRACE/DEBUG/INFO/WARN/ERROR/FATAL; OTel ``INFO2``, slog ``ERROR+4`` count as their base.

    An unknown word is kept upper-cased unless ``keep_unknown`` is False; numbers give null
    (see :func:`level_from_number`). Cheapest through :func:`map_distinct`.
    """
    up = expr.cast(pl.String).str.strip_chars().str.to_uppercase()
    known = up.replace_strict(_LEVEL_WORDS, default=None, return_dtype=pl.String)
    suffixed = up.str.replace(r"[+-]?[0-9]+$", "").replace_strict(
        _LEVEL_WORDS, default=None, return_dtype=pl.String
    )
    if not keep_unknown:
        return pl.coalesce(known, suffixed)
    unknown = pl.when((up != "") & ~up.str.contains(r"^[0-9.+-]+$")).then(up)
    return pl.coalesce(known, suffixed, unknown)


def level_from_http_status(status: pl.Expr) -> pl.Expr:
    """An access-log record's level from its HTTP status: 5xx ERROR, 4xx WARN, else INFO."""
    return (
        pl.when(status >= 500)
        .then(pl.lit("ERROR"))
        .when(status >= 400)
        .then(pl.lit("WARN"))
        .otherwise(pl.lit("INFO"))
    )


def level_from_severity_number(expr: pl.Expr) -> pl.Expr:
    """OTel ``severity_number`` 1-24 -> level (1-4 TRACE, 5-8 DEBUG, ... 21-24 FATAL)."""
    n = expr.cast(pl.String).str.strip_chars().cast(pl.Int64, strict=False)
    idx = (n - 1) // 4
    return pl.when(n.is_between(1, 24)).then(
        idx.replace_strict(dict(enumerate(LEVELS)), default=None, return_dtype=pl.String)
    )


def level_from_number(expr: pl.Expr) -> pl.Expr:
    """bunyan/pino numeric ``level`` (10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal)."""
    n = expr.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    return (
        pl.when(n.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(n <= 10)
        .then(pl.lit("TRACE"))
        .when(n <= 20)
        .then(pl.lit("DEBUG"))
        .when(n <= 30)
        .then(pl.lit("INFO"))
        .when(n <= 40)
        .then(pl.lit("WARN"))
        .when(n <= 50)
        .then(pl.lit("ERROR"))
        .otherwise(pl.lit("FATAL"))
    )
