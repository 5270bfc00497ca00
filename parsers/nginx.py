"""nginx access logs: the ``combined`` format, optionally followed by the trace fields of the sample's format.

    log_format trace '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                     '"$http_referer" "$http_user_agent" "$http_traceparent" '
                     '$request_time $upstream_response_time';

Plain ``combined`` (nothing after the user agent) and ``main`` (a quoted ``$http_x_forwarded_for`` after it)
are read too. One record per line; ``service`` and ``host`` are left to the pipeline. The level follows the
status (5xx ERROR, 4xx WARN, else INFO); trace and span IDs come from the W3C ``traceparent`` request header,
whose parent-id is the caller's span (the client's, usually not exported).
"""

from __future__ import annotations

import re

import polars as pl

from parsers import base, ids
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
_REQUEST = r"^[A-Z][A-Z_-]* [^ ]+(?: [^ ]+)?$"
_TIME_LOCAL = "%d/%b/%Y:%H:%M:%S %z"


def _dash(col: pl.Expr) -> pl.Expr:
    """nginx writes ``-`` for an empty value."""
    return pl.when((col != "-") & (col != "")).then(col)


def _fields(df: pl.DataFrame) -> pl.DataFrame:
    """Cut valid lines into their fields: quotes first, then spaces inside the unquoted stretches."""
    q = pl.col("line").str.split_exact('"', 8).struct
    df = df.select(
        "line_no",
        "line",
        q.field("field_0").alias("head"),  # $remote_addr - $remote_user [$time_local]
        q.field("field_1").alias("request"),
        q.field("field_2").str.strip_chars(" ").alias("status_bytes"),
        q.field("field_3").alias("referer"),
        q.field("field_5").alias("agent"),
        q.field("field_7").alias("extra"),
        # the times follow the user agent (combined + times) or the extra quoted field
        pl.when(q.field("field_7").is_null())
        .then(q.field("field_6"))
        .otherwise(q.field("field_8"))
        .str.strip_chars(" \t\r")
        .alias("times"),
    )
    head = pl.col("head")
    open_, close = head.str.find("[", literal=True), head.str.find("]", literal=True)
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
    ).drop("head", "status_bytes", "times", "ident", "valid")


def _ms(seconds: pl.Expr) -> pl.Expr:
    """Seconds as text -> milliseconds as text (``0.245`` -> ``245``)."""
    ms = (seconds.cast(pl.Float64, strict=False) * 1000).round(3)
    return pl.when(ms == ms.round(0)).then(ms.cast(pl.Int64).cast(pl.String)).otherwise(ms.cast(pl.String))


def _upstream_ms(df: pl.DataFrame) -> pl.Series:
    """``upstream_response_time_ms``; several upstreams (``0.010, 0.244``, ``0.010 : 0.244``) are added up."""
    raw = _dash(pl.col("upstream_time"))
    out = df.select(_ms(raw).alias("upstream_ms")).to_series()
    several = df.select(raw.str.contains("[,:]").fill_null(False)).to_series()
    if several.any():
        idx = several.arg_true()
        parts = df["upstream_time"].gather(idx).str.extract_all(_SECONDS)
        total = parts.list.eval(pl.element().cast(pl.Float64)).list.sum()
        out = out.scatter(idx, pl.select(_ms(pl.lit(total).cast(pl.String))).to_series())
    return out


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of nginx access-log lines into LOGS records and rejects."""
    df, bad, skipped = base.matching_lines(lines, _LINE, "not an nginx access-log line")
    df = _fields(df)

    status = pl.col("status").cast(pl.Int64)
    extra = _dash(pl.col("extra"))
    is_traceparent = extra.str.contains(_TRACEPARENT)
    traceparent = pl.when(is_traceparent).then(extra.str.strip_chars())
    recs = df.with_columns(
        pl.when(status >= 500)
        .then(pl.lit("ERROR"))
        .when(status >= 400)
        .then(pl.lit("WARN"))
        .otherwise(pl.lit("INFO"))
        .alias("level"),
        (pl.col("request") + " " + pl.col("status")).alias("message"),
        # the shape was checked above, so the IDs sit at fixed offsets (00-<trace>-<parent>-<flags>)
        traceparent.str.slice(3, 32).alias("trace_id"),
        traceparent.str.slice(36, 16).alias("span_id"),
        traceparent.alias("traceparent"),
        pl.when(~is_traceparent).then(extra).alias("forwarded_for"),
        pl.col("target").str.find("?", literal=True).alias("q"),
    )
    recs = recs.with_columns(_upstream_ms(recs).alias("upstream_ms"))
    recs = recs.with_columns(ids.trace_id(pl.col("trace_id")), ids.span_id(pl.col("span_id")))
    target = pl.col("target")
    attrs = [
        ("client.address", pl.col("client")),
        ("user.name", _dash(pl.col("user"))),
        ("http.request.method", pl.col("method")),
        ("url.path", pl.when(pl.col("q").is_null()).then(target).otherwise(target.str.head(pl.col("q")))),
        ("url.query", target.str.slice(pl.col("q") + 1)),
        ("http.response.status_code", pl.col("status")),
        ("http.response.body.size", _dash(pl.col("bytes"))),
        ("http.referer", _dash(pl.col("referer"))),
        ("user_agent.original", _dash(pl.col("agent"))),
        ("http.x_forwarded_for", pl.col("forwarded_for")),
        ("traceparent", pl.col("traceparent")),
        ("request_time_ms", _ms(_dash(pl.col("request_time")))),
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
