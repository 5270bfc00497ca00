"""Envoy access logs: the default format (optionally followed by quoted tracing headers), a custom format
string, or JSON access logs.

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

A source's ``envoy_format`` (config) gives the format string the proxy was configured with
(``%START_TIME% %REQ(X-REQUEST-ID)% %REQ(TRACEPARENT)% ...``) or its ``json_format`` as a JSON object; JSON
access logs without one are read by the keys Istio, Envoy Gateway and Contour use (see
:mod:`parsers.envoy_format`). Trace IDs then come from the ``traceparent``, ``b3``, ``x-b3-traceid`` /
``x-b3-spanid`` headers or ``%TRACE_ID%``; other JSON keys go into the attributes as they are.
"""

from __future__ import annotations

import json
import re

import duckdb
import polars as pl

from parsers import bags, base, envoy_format, ids, levels, schema
from parsers.base import Kind, ParseContext, ParseResult
from parsers.envoy_format import Field
from parsers.timeparse import EPOCH, ISO_ZONED, parse_timestamps

name = "envoy"
kind: Kind = "logs"
description = "Envoy access log: default format (+ traceparent/B3 fields), JSON, or the source's envoy_format"
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
_HEX_TRACE = r"^[0-9a-fA-F]{16}(?:[0-9a-fA-F]{16})?$"


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
    extras = [base.dash(pl.col(f"x{i}")).str.strip_chars(" \t") for i in range(_MAX_EXTRA)]
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


def _named_trace_ids(df: pl.DataFrame) -> pl.DataFrame:
    """``trace_id``, ``span_id`` (and the ``traceparent``/``b3`` values kept) from header columns by name."""
    header = {
        c: base.dash(pl.col(c)).str.strip_chars(" \t") for c in ("traceparent", "b3", "b3_trace", "b3_span")
    }
    df = df.with_columns(
        pl.when(header["traceparent"].str.contains(_TRACEPARENT))
        .then(header["traceparent"])
        .alias("traceparent"),
        pl.when(header["b3"].str.contains(_B3_SINGLE)).then(header["b3"]).alias("b3"),
        pl.when(header["b3_trace"].str.contains(_B3_TRACE)).then(header["b3_trace"]).alias("b3_trace"),
        pl.when(header["b3_span"].str.contains(_B3_SPAN)).then(header["b3_span"]).alias("b3_span"),
        pl.when(pl.col("trace_hex").str.contains(_HEX_TRACE)).then(pl.col("trace_hex")).alias("trace_hex"),
    )
    b3 = pl.col("b3").str.split_exact("-", 1).struct
    return df.with_columns(
        pl.coalesce(
            pl.col("traceparent").str.slice(3, 32),
            b3.field("field_0"),
            pl.col("b3_trace"),
            pl.col("trace_hex"),
        ).alias("trace_id"),
        pl.coalesce(pl.col("traceparent").str.slice(36, 16), b3.field("field_1"), pl.col("b3_span")).alias(
            "span_id"
        ),
    )


def _custom(lines: pl.Series, fmt: str) -> tuple[pl.DataFrame, pl.DataFrame, int, list[str]]:
    """Lines of a configured format string: the columns of its operators, rejects, blank lines and the
    time formats to try."""
    pattern, fields = envoy_format.text_regex(fmt)
    df, bad, skipped = base.matching_lines(lines, pattern, "does not match the source's envoy_format")
    df = df.with_columns(pl.col("line").str.extract_groups(pattern).alias("g")).unnest("g")
    return _columns(df, fields), bad, skipped, _time_formats(fields)


def _json(
    lines: pl.Series, fields: dict[str, Field] | None
) -> tuple[pl.DataFrame, pl.DataFrame, int, list[str]]:
    """JSON access-log lines: the columns of the configured keys (else the conventional ones), the other keys
    as ``extra`` (a map), rejects and blank lines."""
    if fields is None:
        keys = {key: Field(column, key) for column, names in envoy_format.JSON_KEYS.items() for key in names}
    else:
        keys = fields
    df = pl.DataFrame({"line": lines.cast(pl.String)}).with_row_index("line_no")
    line = pl.col("line")
    df = df.filter(line.is_not_null() & line.str.contains("[^ \t\r]"))
    skipped = len(lines) - df.height
    paths = ", ".join(f"'$.{json.dumps(k)}'" for k in keys)  # keys quoted as JSON strings: no SQL from input
    with duckdb.connect() as con:
        con.register("lines_in", df.to_arrow())
        decoded = con.sql(
            "SELECT line_no, json_valid(line) AND try(json_type(line)) = 'OBJECT' AS obj, "
            f"try(json_extract_string(line, [{paths}])) AS v, "
            """try(json_transform(line, '"MAP(VARCHAR, VARCHAR)"')) AS extra FROM lines_in"""
        ).pl()
    df = df.join(decoded.with_columns(pl.col("line_no").cast(pl.UInt32)), on="line_no", how="left")
    bad = df.filter(~pl.col("obj").fill_null(False)).select(
        "line_no",
        pl.lit("not a JSON object (an Envoy JSON access-log line)").alias("reason"),
        pl.col("line").alias("raw"),
    )
    df = df.filter(pl.col("obj").fill_null(False))
    df = df.with_columns(
        **{f"k{i}": pl.col("v").list.get(i) for i in range(len(keys))},
        extra=_drop_keys(pl.col("extra"), [k for k, f in keys.items() if f.column is not None]),
    )
    named = {f"k{i}": field for i, field in enumerate(keys.values())}
    out = _columns(df, named, attributes=False)  # the other keys stay in `extra` under their own names
    return out, bad, skipped, _time_formats(named)


def _drop_keys(bag: pl.Expr, keys: list[str]) -> pl.Expr:
    """The pairs of a map column whose key is not one of ``keys``."""
    pairs = bag.cast(schema.KV)
    return pairs.list.eval(pl.element().filter(~pl.element().struct.field("key").is_in(keys)))


def _time_formats(fields: dict[str, Field]) -> list[str]:
    own = [f.time_format for f in fields.values() if f.column == "time" and f.time_format]
    return [*own, ISO_ZONED, "%Y-%m-%dT%H:%M:%S%.f", EPOCH]


def _columns(df: pl.DataFrame, fields: dict[str, Field], attributes: bool = True) -> pl.DataFrame:
    """The record columns (:data:`parsers.envoy_format.COLUMNS`) from the groups or keys ``fields`` names (the
    first with a value, when several name one column); with ``attributes``, the others as ``attr:<key>``."""
    sources: dict[str, list[str]] = {}
    for group, field in fields.items():
        if field.column is not None:
            sources.setdefault(field.column, []).append(group)
    out = df.select(
        "line_no",
        "line",
        *(c for c in ("extra",) if c in df.columns),
        *(
            pl.coalesce(*(pl.col(g) for g in sources[c])).alias(c)
            if c in sources
            else pl.lit(None, pl.String).alias(c)
            for c in envoy_format.COLUMNS
        ),
        *(
            pl.col(g).alias(f"attr:{field.attribute}")
            for g, field in fields.items()
            if field.column is None and attributes
        ),
    )
    method, target, protocol = pl.col("method"), pl.col("target"), pl.col("protocol")
    return out.with_columns(
        base.dash(
            pl.concat_str(
                base.dash(method), base.dash(target), base.dash(protocol), separator=" ", ignore_nulls=True
            )
        ).alias("request"),
        (base.dash(method).is_not_null() & base.dash(target).is_not_null()).alias("valid"),
    )


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of Envoy access-log lines into LOGS records and rejects."""
    fmt = ctx.options.get("envoy_format")
    if fmt is not None and fmt.lstrip().startswith("{"):
        return _records(*_json(lines, envoy_format.json_fields(fmt)), ctx)
    if fmt is not None:
        return _records(*_custom(lines, fmt), ctx)
    head = lines.drop_nulls().str.strip_chars_start()
    first = head.filter(head != "").head(1).to_list()
    if first and first[0].startswith("{"):
        return _records(*_json(lines, None), ctx)
    df, bad, skipped = base.matching_lines(lines, _LINE, "not an Envoy access-log line")
    return _records(_trace_ids(_fields(df)), bad, skipped, [ISO_ZONED, "%Y-%m-%dT%H:%M:%S%.f"], ctx)


def _records(
    recs: pl.DataFrame, bad: pl.DataFrame, skipped: int, time_formats: list[str], ctx: ParseContext
) -> ParseResult:
    """LOGS records from the columns of any of the three shapes (``trace_id``/``span_id`` read or not)."""
    if "trace_id" not in recs.columns:
        recs = _named_trace_ids(recs)
    status = pl.col("status").cast(pl.Int64, strict=False)
    valid = pl.col("valid")
    recs = recs.with_columns(
        levels.level_from_http_status(status).alias("level"),
        pl.concat_str(pl.col("request"), pl.col("status"), separator=" ", ignore_nulls=True).alias("message"),
        pl.when(valid).then(pl.col("method")).alias("method"),
        pl.when(valid).then(pl.col("target")).alias("target"),
        pl.col("forwarded_for").str.split(",").list.first().str.strip_chars(" ").alias("client"),
    ).with_columns(pl.col("target").str.find("?", literal=True).alias("q"))
    recs = recs.with_columns(ids.trace_id(pl.col("trace_id")), ids.span_id(pl.col("span_id")))
    target, xff = pl.col("target"), base.dash(pl.col("forwarded_for"))
    attrs = [
        ("client.address", base.dash(pl.col("client"))),
        ("http.request.method", pl.col("method")),
        *base.url_attributes(target, pl.col("q")),
        ("http.response.status_code", pl.col("status")),
        ("response_flags", base.dash(pl.col("flags"))),
        ("http.request.body.size", base.dash(pl.col("bytes_received"))),
        ("http.response.body.size", base.dash(pl.col("bytes_sent"))),
        ("duration_ms", base.dash(pl.col("duration"))),
        ("upstream_service_time_ms", base.dash(pl.col("upstream_time"))),
        # the whole chain only when it is one (its first address is client.address)
        ("http.x_forwarded_for", pl.when(xff.str.contains(",", literal=True)).then(xff)),
        ("user_agent.original", base.dash(pl.col("agent"))),
        ("http.request.header.x-request-id", base.dash(pl.col("request_id"))),
        ("authority", base.dash(pl.col("authority"))),
        ("upstream_host", base.dash(pl.col("upstream_host"))),
        ("traceparent", pl.col("traceparent")),
        ("b3", pl.col("b3")),
        *((c.removeprefix("attr:"), base.dash(pl.col(c))) for c in recs.columns if c.startswith("attr:")),
    ]
    recs = recs.with_columns(pl.col("time").str.strip_chars())
    recs, assumed = parse_timestamps(recs, "time", "ts", ctx.timezone, time_formats)
    result = base.single_line_logs(recs, bad, attrs, ctx, name, skipped, assumed)
    if "extra" in recs.columns:  # JSON keys that are no column
        kept = recs.filter(pl.col("ts").is_not_null())["extra"].to_arrow()
        i = result.records.schema.get_field_index("attributes")
        field = result.records.schema.field(i)
        bag = bags.merge(result.records.column(i), kept, field.type)
        result.records = result.records.set_column(i, field, bag)
    return result


def record_start(lines: pl.Series) -> pl.Series | None:
    """Every line is a record."""
    return None


def sniff(head: list[str]) -> float:
    """Share of non-blank lines that are Envoy access-log lines: the default format, or JSON objects with a
    time, a response code and Envoy's own keys (``response_flags``, ``upstream_host``, ...)."""
    text = base.share_matching(head, _SNIFF)
    if text:
        return text
    times = {k for k in envoy_format.JSON_KEYS["time"]}
    markers = set(envoy_format.JSON_MARKERS)
    score = base.share_of_json_objects(
        head,
        lambda obj: bool(times & obj.keys()) and "response_code" in obj and len(markers & obj.keys()) >= 3,
    )
    return 0.95 * score
