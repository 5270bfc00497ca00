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

# nginx escapes '"' inside variables as \x22, so a quoted field never holds a bare quote: a line is cut at its
# quotes, and only the short pieces between the quoted values are checked (:data:`_LINE`, piece by piece).
_SECONDS = r"[0-9]+(?:\.[0-9]+)?"
_UPSTREAM = rf"(?:{_SECONDS}|-)(?:(?:, | : )(?:{_SECONDS}|-))*"
_LINE = (
    r'^[^ "]+ [^ "]+ [^ "]+ \[[^\]"]+\] "[^"]*" [0-9]{3} (?:[0-9]+|-) "[^"]*" "[^"]*"'
    rf'(?: "[^"]*")?(?: (?:{_SECONDS}|-))?(?: {_UPSTREAM})?[ \t\r]*$'
)
_SNIFF = re.compile(_LINE)
# the pieces of _LINE outside the quoted values (none of them holds a quote)
_HEAD = r"^[^ ]+ [^ ]+ [^ ]+ \[[^\]]+\] $"  # before the request
_STATUS_BYTES = r"^ [0-9]{3} (?:[0-9]+|-) $"  # between the request and the referer
_TIMES = rf"^(?: (?:{_SECONDS}|-))?(?: {_UPSTREAM})?[ \t\r]*$"  # after the last quoted value
_TRACEPARENT = r"[0-9a-fA-F]{2}-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}"
_B3_SINGLE = r"(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{32})-[0-9a-fA-F]{16}(?:-[01dD])?(?:-[0-9a-fA-F]{16})?"
_HEADER = rf"^[ \t]*(?:{_TRACEPARENT}|{_B3_SINGLE})[ \t]*$"  # capture-free: the IDs are cut at dashes
_REQUEST = r"^[A-Z][A-Z_-]* [^ ]+(?: [^ ]+)?$"
_TIME_LOCAL = "%d/%b/%Y:%H:%M:%S %z"
_REJECT = "not an nginx access-log line"


def _head(df: pl.DataFrame) -> pl.DataFrame:
    """``$remote_addr - $remote_user [$time_local] `` (piece ``f0``): its check, client, user and time."""
    head = pl.col("f0")
    df = df.with_columns(open=head.str.find("[", literal=True), close=head.str.find("]", literal=True))
    open_, close = pl.col("open"), pl.col("close")
    return (
        df.with_columns(
            head.str.contains(_HEAD).alias("head_ok"),
            head.str.split_exact(" ", 2).struct.rename_fields(["client", "ident", "user"]).alias("h"),
            head.str.slice(open_ + 1, close - open_ - 1).alias("time"),
        )
        .unnest("h")
        .drop("ident", "open", "close")
    )


def _status(df: pl.DataFrame) -> pl.DataFrame:
    """`` $status $body_bytes_sent `` (piece ``f2``): its check, status, bytes and the level."""
    piece = pl.col("f2")
    df = df.with_columns(
        piece.str.contains(_STATUS_BYTES).alias("status_ok"),
        piece.str.slice(1, 3).alias("status"),
        piece.str.slice(5, piece.str.len_bytes() - 6).alias("bytes"),
    )
    status = pl.when(pl.col("status_ok")).then(pl.col("status")).cast(pl.Int64)
    return df.with_columns(levels.level_from_http_status(status).alias("level"))


def _times(df: pl.DataFrame) -> pl.DataFrame:
    """``$request_time $upstream_response_time`` (piece ``times``): its check and both times in ms."""
    df = df.with_columns(times_ok=pl.col("times").str.contains(_TIMES))
    times = pl.when(pl.col("times_ok")).then(pl.col("times")).str.strip_chars(" \t\r")
    df = df.with_columns(
        times.str.splitn(" ", 2).struct.rename_fields(["request_time", "upstream_time"]).alias("t")
    ).unnest("t")
    return df.with_columns(
        _upstream_ms(df).alias("upstream_ms"),
        _ms(df.select(base.dash(pl.col("request_time"))).to_series()).alias("request_ms"),
    ).drop("request_time", "upstream_time")


def _request(df: pl.DataFrame) -> pl.DataFrame:
    """``$request`` (piece ``f1``): method and URL path and query; none for a garbled request line (TLS bytes
    on the plain port, a scanner)."""
    request = pl.col("f1")
    df = df.with_columns(
        request.str.contains(_REQUEST).alias("valid"),
        request.str.split_exact(" ", 1).struct.rename_fields(["method", "target"]).alias("r"),
    ).unnest("r")
    valid = pl.col("valid")
    df = df.with_columns(pl.when(valid).then(pl.col("method")), pl.when(valid).then(pl.col("target")))
    df = df.with_columns(q=pl.col("target").str.find("?", literal=True))
    (_, path), (_, query) = base.url_attributes(pl.col("target"), pl.col("q"))
    return df.with_columns(path.alias("url_path"), query.alias("url_query")).drop("valid", "target", "q")


def _lines(lines: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Valid lines with their fields, rejects for the others, and the number of blank lines.

    A line is cut at its quotes: a valid one has 6 or 8, and its pieces outside the quoted values are
    checked each by a capture-free regex (together the same as :data:`_LINE`, which would run over the long
    quoted values too).
    """
    line = pl.col("line")
    df = pl.DataFrame({"line": lines.cast(pl.String)}).with_row_index("line_no")
    q = pl.col("q")
    df = df.with_columns(q=line.str.split('"'))
    df = df.select(
        "line_no",
        "line",
        q.list.len().alias("n"),
        *(q.list.get(i, null_on_oob=True).alias(f"f{i}") for i in range(9)),
    )
    n = pl.col("n")
    # the times follow the user agent (combined + times) or the extra quoted field
    df = df.with_columns(times=pl.when(n == 9).then(pl.col("f8")).otherwise(pl.col("f6")))
    df = base.by_value(base.by_value(base.by_value(df, "f0", _head), "f2", _status), "times", _times)
    ok = (
        n.is_in([7, 9])
        & (pl.col("f4") == " ")
        & ((n == 7) | (pl.col("f6") == " "))
        & pl.col("head_ok")
        & pl.col("status_ok")
        & pl.col("times_ok")
    ).fill_null(False)
    df = df.with_columns(ok=ok)
    # blank lines are skipped, not rejected (a valid line is never blank: only the others are looked at)
    bad = df.filter(~pl.col("ok")).select("line_no", "line")
    blank = bad.select(line.is_null() | ~line.str.contains("[^ \t\r]")).to_series()
    skipped = int(blank.sum())
    bad = bad.filter(~blank).select("line_no", pl.lit(_REJECT).alias("reason"), line.alias("raw"))
    if bad.height or skipped:
        df = df.filter(pl.col("ok"))
    df = base.by_value(df, "f1", _request)
    return df.rename({"f1": "request", "f3": "referer", "f5": "agent"}), bad, skipped


def _ms(seconds: pl.Series) -> pl.Series:
    """Seconds as text -> milliseconds as text (``0.245`` -> ``245``, ``2.0005`` -> ``2000.5``)."""
    ms = (seconds.cast(pl.Float64, strict=False) * 1000).round(3)  # a Series: parsed once, not per use
    text = ms.cast(pl.Int64).cast(pl.String)
    fraction = (ms != ms.round(0)).fill_null(False)
    if fraction.any():  # formatting a float costs twice an integer: only where there is a fraction
        idx = fraction.arg_true()
        text = text.scatter(idx, ms.gather(idx).cast(pl.String))
    return text.alias(seconds.name)


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


def _trace_header(extra: pl.Series) -> pl.DataFrame:
    """The quoted field after the user agent (``-`` already null): ``traceparent`` and ``b3`` (the header
    values, trimmed), ``forwarded_for`` (any other value) and the ``trace_id``/``span_id`` they carry.

    One capture-free regex checks both shapes; a traceparent has its first dash third (``00-``), a B3 value
    after 16 or 32 hex digits, and the IDs are cut at those dashes.
    """
    value, header = pl.col("extra"), pl.col("header")
    frame = pl.DataFrame({"extra": extra}).with_columns(
        is_header=value.str.contains(_HEADER).fill_null(False)
    )
    frame = frame.with_columns(header=pl.when("is_header").then(value.str.strip_chars()))
    frame = frame.with_columns(dash=header.str.find("-", literal=True))
    dash, is_tp = pl.col("dash"), pl.col("dash") == 2
    return frame.select(
        pl.when(is_tp).then(header).alias("traceparent"),
        pl.when(~is_tp).then(header).alias("b3_header"),
        pl.when(~pl.col("is_header")).then(value).alias("forwarded_for"),
        pl.when(is_tp).then(header.str.slice(3, 32)).otherwise(header.str.head(dash)).alias("trace_id"),
        pl.when(is_tp)
        .then(header.str.slice(36, 16))
        .otherwise(header.str.slice(dash + 1, 16))
        .alias("span_id"),
    )


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of nginx access-log lines into LOGS records and rejects."""
    df, bad, skipped = _lines(lines)
    extra = df.select(base.dash(pl.col("f7"))).to_series()
    df = pl.concat([df, _trace_header(extra)], how="horizontal")
    recs = df.with_columns(
        (pl.col("request") + " " + pl.col("status")).alias("message"),
        ids.trace_id(pl.col("trace_id")),
        ids.span_id(pl.col("span_id")),
    )
    attrs = [
        ("client.address", pl.col("client")),
        ("user.name", base.dash(pl.col("user"))),
        ("http.request.method", pl.col("method")),
        ("url.path", pl.col("url_path")),
        ("url.query", pl.col("url_query")),
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
