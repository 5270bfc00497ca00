"""Envoy access logs in the default format, optionally followed by quoted tracing headers.

    [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
    %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
    "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
                                                                                            (one line)

Meshes commonly append ``"%REQ(TRACEPARENT)%"`` or ``"%REQ(X-B3-TRACEID)%" "%REQ(X-B3-SPANID)%"`` (or the
single ``b3`` header): trace and span IDs come from the first extra field shaped like a ``traceparent``
(its parent-id: the caller's span), else from a B3 single value, else from a 16/32-hex B3 trace ID and the
16-hex field right after it. One record per line; ``service`` and ``host`` are left to the pipeline. The
level follows the status (5xx ERROR, 4xx WARN, else INFO; ``0``, no response sent, is INFO with its
``response_flags`` telling why). Envoy writes ``-`` for an empty value.
"""

from __future__ import annotations

import re

import polars as pl

from parsers import base, ids
from parsers.base import Kind, ParseContext, ParseResult
from parsers.timeparse import ISO_ZONED, parse_timestamps

name = "envoy"
kind: Kind = "logs"
description = "Envoy access log, default format (+ optional traceparent or B3 header fields)"
example = (
    '[2026-11-17T14:32:05.123Z] "POST /orders HTTP/1.1" 502 UF 87 0 245 244 "10.0.3.17" "checkout-web/4.2" '
    '"5c2f6e2a-9e6f-4d7e-8b9a-1f2e3d4c5b6a" "shop.example.com" "10.0.4.21:8080" '
    '"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"'
)

_MAX_EXTRA = 4  # extra quoted fields looked at for trace IDs
# Envoy escapes nothing, but a quote inside a header value is rare; the line is validated with one
# capture-free regex and then cut at its quotes.
_NUM = r"(?:[0-9]+|-)"
_LINE = (
    rf'^\[[^\]"]+\] "[^"]*" [0-9]{{1,3}} [^ "]+ {_NUM} {_NUM} {_NUM} {_NUM}'
    r'(?: "[^"]*"){5}(?: "[^"]*")*[ \t\r]*$'
)
_SNIFF = re.compile(_LINE)
_REQUEST = r"^[A-Z][A-Z_-]* [^ ]+(?: [^ ]+)?$"
_TRACEPARENT = r"^[ \t]*[0-9a-fA-F]{2}-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}[ \t]*$"
_B3_SINGLE = r"^[0-9a-fA-F]{16}(?:[0-9a-fA-F]{16})?-[0-9a-fA-F]{16}(?:-[01d](?:-[0-9a-fA-F]{16})?)?$"
_B3_TRACE = r"^[0-9a-fA-F]{16}(?:[0-9a-fA-F]{16})?$"
_B3_SPAN = r"^[0-9a-fA-F]{16}$"


def _dash(col: pl.Expr) -> pl.Expr:
    """Envoy writes ``-`` for an empty value."""
    return pl.when((col != "-") & (col != "")).then(col)


def _fields(df: pl.DataFrame) -> pl.DataFrame:
    """Cut valid lines at their quotes, the unquoted numbers at spaces."""
    q = pl.col("line").str.split_exact('"', 12 + 2 * _MAX_EXTRA).struct
    df = df.select(
        "line_no",
        "line",
        q.field("field_0").str.strip_chars(" ").alias("time"),
        q.field("field_1").alias("request"),
        q.field("field_2").str.strip_chars(" ").alias("numbers"),
        q.field("field_3").alias("forwarded_for"),
        q.field("field_5").alias("agent"),
        q.field("field_7").alias("request_id"),
        q.field("field_9").alias("authority"),
        q.field("field_11").alias("upstream_host"),
        *(q.field(f"field_{13 + 2 * i}").alias(f"x{i}") for i in range(_MAX_EXTRA)),
    )
    nums = ["status", "flags", "bytes_received", "bytes_sent", "duration", "upstream_time"]
    return df.with_columns(
        pl.col("time").str.strip_chars("[]"),
        pl.col("numbers").str.split_exact(" ", 5).struct.rename_fields(nums).alias("n"),
        pl.col("request")
        .str.splitn(" ", 3)
        .struct.rename_fields(["method", "target", "protocol"])
        .alias("r"),
        pl.col("request").str.contains(_REQUEST).alias("valid"),
    ).unnest("n", "r")


def _trace_ids(df: pl.DataFrame) -> pl.DataFrame:
    """``trace_id``, ``span_id`` and the header value they came from, from the extra quoted fields."""
    extras = [_dash(pl.col(f"x{i}")).str.strip_chars(" \t") for i in range(_MAX_EXTRA)]
    df = df.with_columns(*(e.alias(f"x{i}") for i, e in enumerate(extras)))
    x = [pl.col(f"x{i}") for i in range(_MAX_EXTRA)]
    tp = pl.coalesce(*(pl.when(c.str.contains(_TRACEPARENT)).then(c) for c in x))
    b3 = pl.coalesce(*(pl.when(c.str.contains(_B3_SINGLE)).then(c) for c in x))
    b3_trace = pl.coalesce(
        *(
            pl.when(x[i].str.contains(_B3_TRACE) & x[i + 1].str.contains(_B3_SPAN)).then(
                pl.concat_str(x[i], pl.lit("-"), x[i + 1])
            )
            for i in range(_MAX_EXTRA - 1)
        ),
        *(pl.when(c.str.contains(_B3_TRACE)).then(c) for c in x),
    )
    df = df.with_columns(tp.alias("traceparent"), b3.alias("b3"), b3_trace.alias("b3_multi"))
    b3_any = pl.coalesce(pl.col("b3"), pl.col("b3_multi")).str.split_exact("-", 1).struct
    return df.with_columns(
        pl.coalesce(pl.col("traceparent").str.slice(3, 32), b3_any.field("field_0")).alias("trace_id"),
        pl.coalesce(pl.col("traceparent").str.slice(36, 16), b3_any.field("field_1")).alias("span_id"),
    )


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of Envoy access-log lines into LOGS records and rejects."""
    df, bad, skipped = base.matching_lines(lines, _LINE, "not an Envoy access-log line")
    recs = _trace_ids(_fields(df))
    status = pl.col("status").cast(pl.Int64, strict=False)
    valid = pl.col("valid")
    recs = recs.with_columns(
        pl.when(status >= 500)
        .then(pl.lit("ERROR"))
        .when(status >= 400)
        .then(pl.lit("WARN"))
        .otherwise(pl.lit("INFO"))
        .alias("level"),
        (pl.col("request") + " " + pl.col("status")).alias("message"),
        pl.when(valid).then(pl.col("method")).alias("method"),
        pl.when(valid).then(pl.col("target")).alias("target"),
        pl.col("forwarded_for").str.split(",").list.first().str.strip_chars(" ").alias("client"),
    ).with_columns(pl.col("target").str.find("?", literal=True).alias("q"))
    recs = recs.with_columns(ids.trace_id(pl.col("trace_id")), ids.span_id(pl.col("span_id")))
    target, xff = pl.col("target"), _dash(pl.col("forwarded_for"))
    attrs = [
        ("client.address", _dash(pl.col("client"))),
        ("http.request.method", pl.col("method")),
        ("url.path", pl.when(pl.col("q").is_null()).then(target).otherwise(target.str.head(pl.col("q")))),
        ("url.query", target.str.slice(pl.col("q") + 1)),
        ("http.response.status_code", pl.col("status")),
        ("response_flags", _dash(pl.col("flags"))),
        ("http.request.body.size", _dash(pl.col("bytes_received"))),
        ("http.response.body.size", _dash(pl.col("bytes_sent"))),
        ("duration_ms", _dash(pl.col("duration"))),
        ("upstream_service_time_ms", _dash(pl.col("upstream_time"))),
        # the whole chain only when it is one (its first address is client.address)
        ("http.x_forwarded_for", pl.when(xff.str.contains(",", literal=True)).then(xff)),
        ("user_agent.original", _dash(pl.col("agent"))),
        ("http.request.header.x-request-id", _dash(pl.col("request_id"))),
        ("authority", _dash(pl.col("authority"))),
        ("upstream_host", _dash(pl.col("upstream_host"))),
        ("traceparent", pl.col("traceparent")),
        ("b3", pl.col("b3")),
    ]
    recs, assumed = parse_timestamps(recs, "time", "ts", ctx.timezone, (ISO_ZONED, "%Y-%m-%dT%H:%M:%S%.f"))
    return base.single_line_logs(recs, bad, attrs, ctx, name, skipped, assumed)


def record_start(lines: pl.Series) -> pl.Series | None:
    """Every line is a record."""
    return None


def sniff(head: list[str]) -> float:
    """Share of non-blank lines that are Envoy access-log lines."""
    return base.share_matching(head, _SNIFF)
