"""nginx access logs: the ``combined`` format, optionally followed by the trace fields of the sample's format.

    log_format trace '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                     '"$http_referer" "$http_user_agent" "$http_traceparent" '
                     '$request_time $upstream_response_time';

Plain ``combined`` (nothing after the user agent) and ``main`` (a quoted ``$http_x_forwarded_for`` after it)
are read too. One record per line; ``service`` and ``host`` are left to the pipeline. The level follows the
status (5xx ERROR, 4xx WARN, else INFO); trace and span IDs come from the quoted field after the user agent
when it holds a trace header: W3C ``traceparent`` (``$http_traceparent``) or B3 single (``$http_b3``,
``<trace>-<span>[-<sampled>[-<parent>]]``). Its span is the caller's (the client's, usually not exported).
Any other value there is ``$http_x_forwarded_for``.
"""

from __future__ import annotations

import re

import polars as pl

from parsers import base, ids, levels
from parsers.base import Kind, ParseContext, ParseResult
from parsers.timeparse import parse_timestamps

name = "nginx"
kind: Kind = "logs"
description = "nginx access log, combined format (+ optional traceparent, request and upstream times)"
example = (
    '10.0.3.17 - - [17/Nov/2026:14:32:05 +0000] "POST /orders HTTP/1.1" 502 87 "-" '
    '"checkout-web/4.2 (Android 14)" "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" 0.245 0.244'
)

# nginx escapes '"' inside variables as \x22, so a quoted field never holds a bare quote: the line is
# validated with one capture-free regex (fast DFA) and then cut at its quotes and spaces.
_SECONDS = r"[0-9]+(?:\.[0-9]+)?"
_UPSTREAM = rf"(?:{_SECONDS}|-)(?:(?:, | : )(?:{_SECONDS}|-))*"
_LINE = (
    r'^[^ "]+ [^ "]+ [^ "]+ \[[^\]"]+\] "[^"]*" [0-9]{3} (?:[0-9]+|-) "[^"]*" "[^"]*"'
    rf'(?: "[^"]*")?(?: (?:{_SECONDS}|-))?(?: {_UPSTREAM})?[ \t\r]*$'
)
_SNIFF = re.compile(_LINE)
_TRACEPARENT = r"^[ \t]*[0-9a-fA-F]{2}-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}[ \t]*$"
_B3_SINGLE = (
    r"^[ \t]*([0-9a-fA-F]{16}|[0-9a-fA-F]{32})-([0-9a-fA-F]{16})(?:-[01dD])?(?:-[0-9a-fA-F]{16})?[ \t]*$"
)
_REQUEST = r"^[A-Z][A-Z_-]* [^ ]+(?: [^ ]+)?$"
_TIME_LOCAL = "%d/%b/%Y:%H:%M:%S %z"


def _fields(df: pl.DataFrame) -> pl.DataFrame:
    """Cut valid lines into their fields: quotes first, then spaces inside the unquoted stretches.

    Each cut is materialized before its pieces are used: an eager frame evaluates an expression again at
    every reference (the split once per field it gives).
    """
    df = df.with_columns(pl.col("line").str.split_exact('"', 8).alias("quoted")).unnest("quoted")
    df = df.select(
        "line_no",
        "line",
        pl.col("field_0").alias("head"),  # $remote_addr - $remote_user [$time_local]
        pl.col("field_1").alias("request"),
        pl.col("field_2").str.strip_chars(" ").alias("status_bytes"),
        pl.col("field_3").alias("referer"),
        pl.col("field_5").alias("agent"),
        pl.col("field_7").alias("extra"),
        # the times follow the user agent (combined + times) or the extra quoted field
        pl.when(pl.col("field_7").is_null())
        .then(pl.col("field_6"))
        .otherwise(pl.col("field_8"))
        .str.strip_chars(" \t\r")
        .alias("times"),
    )
    head = pl.col("head")
    df = df.with_columns(open=head.str.find("[", literal=True), close=head.str.find("]", literal=True))
    open_, close = pl.col("open"), pl.col("close")
    df = df.with_columns(
        head.str.split_exact(" ", 2).struct.rename_fields(["client", "ident", "user"]).alias("h"),
        head.str.slice(open_ + 1, close - open_ - 1).alias("time"),
        pl.col("status_bytes").str.split_exact(" ", 1).struct.rename_fields(["status", "bytes"]).alias("sb"),
        pl.col("times").str.splitn(" ", 2).struct.rename_fields(["request_time", "upstream_time"]).alias("t"),
        pl.col("request")
        .str.splitn(" ", 3)
        .struct.rename_fields(["method", "target", "protocol"])
        .alias("r"),
        # a garbled request line (TLS bytes on the plain port, a scanner) has no method/target/protocol
        pl.col("request").str.contains(_REQUEST).alias("valid"),
    ).unnest("h", "sb", "t", "r")
    valid = pl.col("valid")
    return df.with_columns(
        pl.when(valid).then(pl.col("method")).alias("method"),
        pl.when(valid).then(pl.col("target")).alias("target"),
        pl.when(valid).then(pl.col("protocol")).alias("protocol"),
    ).drop("head", "status_bytes", "times", "ident", "valid", "open", "close")


def _ms(seconds: pl.Series) -> pl.Series:
    """Seconds as text -> milliseconds as text (``0.245`` -> ``245``)."""
    ms = (seconds.cast(pl.Float64, strict=False) * 1000).round(3)  # a Series: parsed once, not per use
    text = pl.when(ms == ms.round(0)).then(ms.cast(pl.Int64).cast(pl.String)).otherwise(ms.cast(pl.String))
    return pl.select(text).to_series().alias(seconds.name)


def _upstream_ms(df: pl.DataFrame) -> pl.Series:
    """``upstream_response_time_ms``; several upstreams (``0.010, 0.244``, ``0.010 : 0.244``) are added up."""
    raw = df.select(base.dash(pl.col("upstream_time"))).to_series()
    out = _ms(raw).alias("upstream_ms")
    several = raw.str.contains("[,:]").fill_null(False)
    if several.any():
        idx = several.arg_true()
        parts = df["upstream_time"].gather(idx).str.extract_all(_SECONDS)
        total = parts.list.eval(pl.element().cast(pl.Float64)).list.sum()
        out = out.scatter(idx, _ms(total.cast(pl.String)))
    return out


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of nginx access-log lines into LOGS records and rejects."""
    df, bad, skipped = base.matching_lines(lines, _LINE, "not an nginx access-log line")
    df = _fields(df)

    status = pl.col("status").cast(pl.Int64)
    extra = base.dash(pl.col("extra"))
    # computed once into columns: an eager frame evaluates a sub-expression again wherever it appears
    df = df.with_columns(is_traceparent=extra.str.contains(_TRACEPARENT))
    is_traceparent = pl.col("is_traceparent")
    df = df.with_columns(
        traceparent=pl.when(is_traceparent).then(extra.str.strip_chars()),
        b3=pl.when(~is_traceparent).then(extra.str.extract_groups(_B3_SINGLE)),
    ).unnest("b3", separator="_")
    df = df.with_columns(is_b3=pl.col("b3_1").is_not_null())
    traceparent = pl.col("traceparent")
    recs = df.with_columns(
        levels.level_from_http_status(status).alias("level"),
        (pl.col("request") + " " + pl.col("status")).alias("message"),
        # the shape was checked above, so the IDs sit at fixed offsets (00-<trace>-<parent>-<flags>)
        pl.coalesce(traceparent.str.slice(3, 32), pl.col("b3_1")).alias("trace_id"),
        pl.coalesce(traceparent.str.slice(36, 16), pl.col("b3_2")).alias("span_id"),
        pl.when(~is_traceparent & ~pl.col("is_b3")).then(extra).alias("forwarded_for"),
        pl.when(pl.col("is_b3")).then(extra.str.strip_chars()).alias("b3_header"),
        pl.col("target").str.find("?", literal=True).alias("q"),
    )
    recs = recs.with_columns(
        _upstream_ms(recs).alias("upstream_ms"),
        _ms(recs.select(base.dash(pl.col("request_time"))).to_series()).alias("request_ms"),
    )
    recs = recs.with_columns(ids.trace_id(pl.col("trace_id")), ids.span_id(pl.col("span_id")))
    target = pl.col("target")
    attrs = [
        ("client.address", pl.col("client")),
        ("user.name", base.dash(pl.col("user"))),
        ("http.request.method", pl.col("method")),
        *base.url_attributes(target, pl.col("q")),
        ("http.response.status_code", pl.col("status")),
        ("http.response.body.size", base.dash(pl.col("bytes"))),
        ("http.referer", base.dash(pl.col("referer"))),
        ("user_agent.original", base.dash(pl.col("agent"))),
        ("http.x_forwarded_for", pl.col("forwarded_for")),
        ("traceparent", pl.col("traceparent")),
        ("b3", pl.col("b3_header")),
        ("request_time_ms", pl.col("request_ms")),
        ("upstream_response_time_ms", pl.col("upstream_ms")),
    ]
    recs, assumed = parse_timestamps(recs, "time", "ts", ctx.timezone, (_TIME_LOCAL,))
    return base.single_line_logs(recs, bad, attrs, ctx, name, skipped, assumed)


def record_start(lines: pl.Series) -> pl.Series | None:
    """Every line is a record."""
    return None


def sniff(head: list[str]) -> float:
    """Share of non-blank lines that are nginx access-log lines."""
    return base.share_matching(head, _SNIFF)
