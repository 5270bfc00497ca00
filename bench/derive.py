"""Benchmark inputs for the formats that have no sample and that the generated day does not write.

Each is derived from the lines of a format that has both (column expressions over the whole block, so the
bench does not wait on its inputs): container wrappers around the Spring and logfmt logs, Envoy's default
access log from nginx's, a SkyWalking-style log (a user-defined regex format) from Spring's, OTLP log exports
from the JSON logs, and PostgreSQL csvlog and jsonlog from the PostgreSQL stderr log. The OTLP and
PostgreSQL ones are rendered from the records tracejoin's own parser reads from the source (what they say
matters less here than their shape and size: the bench measures speed, the tests correctness).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from parsers.base import Parser

_START = dt.datetime(2026, 11, 17, 14, 0)


def _clock(fmt: str) -> pl.Expr:
    """One time per row, a microsecond apart from 14:00 UTC, as ``fmt``."""
    return (pl.lit(_START) + pl.duration(microseconds=pl.int_range(pl.len()))).dt.strftime(fmt)


def docker_json(lines: pl.Series) -> pl.Series:
    """Docker's json-file log of a container writing ``lines``."""
    return pl.DataFrame({"line": lines}).select(
        pl.struct(
            log=pl.col("line") + "\n", stream=pl.lit("stdout"), time=_clock("%Y-%m-%dT%H:%M:%S%.9fZ")
        ).struct.json_encode()
    )[:, 0]


def cri(lines: pl.Series) -> pl.Series:
    """The Kubernetes CRI log of a container writing ``lines``; every 20th line of over 40 characters is
    written in two parts (``P`` then ``F``), as the runtime does with a line longer than its buffer."""
    line, t = pl.col("line"), _clock("%Y-%m-%dT%H:%M:%S%.9fZ")
    split = (pl.int_range(pl.len()) % 20 == 0) & (line.str.len_chars() > 40)
    parts = (
        pl.when(split)
        .then(pl.concat_list(t + " stdout P " + line.str.slice(0, 20), t + " stdout F " + line.str.slice(20)))
        .otherwise(pl.concat_list(t + " stdout F " + line))
    )
    return pl.DataFrame({"line": lines}).select(parts.explode())[:, 0]


# the generated gateway's nginx line: the log_format of the generator's access log (B3 single header)
_NGINX = (
    r'^([^ ]+) [^ ]+ [^ ]+ \[([^\]]+)\] "([^"]*)" ([0-9]{3}) ([0-9]+) "[^"]*" "([^"]*)" "([^"]*)" '
    r"([0-9.]+) ([0-9.]+|-)"
)


def envoy(lines: pl.Series) -> pl.Series:
    """Envoy's default access log (plus the B3 header) of the requests of an nginx access log."""
    names = ["client", "time", "request", "status", "sent", "agent", "b3", "rt", "urt"]
    f = pl.DataFrame({"line": lines}).select(pl.col("line").str.extract_groups(_NGINX)).unnest("line")
    f = f.rename(dict(zip(f.columns, names, strict=True))).drop_nulls("time")
    when = pl.col("time").str.strptime(pl.Datetime("ms", "UTC"), "%d/%b/%Y:%H:%M:%S %z")
    when = when + pl.duration(milliseconds=pl.int_range(pl.len()) % 1000)
    # x-request-id: a UUID made of the trace ID (of the row number where the request has none)
    row = pl.int_range(pl.len()).cast(pl.String)
    trace = pl.col("b3").str.extract(r"^([0-9a-f]+)-", 1).fill_null(row).str.pad_start(32, "0")
    cut = [trace.str.slice(0, 8), trace.str.slice(8, 4), "4" + trace.str.slice(13, 3)]
    request_id = pl.concat_str([*cut, "8" + trace.str.slice(17, 3), trace.str.slice(20, 12)], separator="-")
    ms = (pl.col("rt").cast(pl.Float64) * 1000).round(0).cast(pl.Int64).cast(pl.String)
    upstream = (pl.col("urt").cast(pl.Float64, strict=False) * 1000).round(0).cast(pl.Int64).cast(pl.String)
    flags = pl.when(pl.col("status").cast(pl.Int64) >= 500).then(pl.lit("UF")).otherwise(pl.lit("-"))
    quoted = [
        pl.col("client"),
        pl.col("agent"),
        request_id,
        pl.lit("shop.example.com"),
        pl.lit("10.0.4.21:8080"),
    ]
    head = [pl.lit("["), when.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"), pl.lit('] "'), pl.col("request")]
    numbers = [pl.col("status"), flags, pl.lit("0"), pl.col("sent"), ms, upstream.fill_null("-")]
    fields = [pl.concat_str(numbers, separator=" ")]
    fields += [pl.lit('"') + q + pl.lit('"') for q in [*quoted, pl.col("b3")]]
    return f.select(pl.concat_str([*head, pl.lit('" '), pl.concat_str(fields, separator=" ")]))[:, 0]


# a SkyWalking-style layout, [SW_CTX:[service,instance,traceId,segmentId,spanId]], as a user declares it
SKYWALKING = {
    "name": "skywalking",
    "pattern": (
        r"^(?P<ts>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+) \[SW_CTX:\[(?P<service>[^,]*),(?P<instance>[^,]*),"
        r"(?P<trace_id>[^,]*),(?P<segment>[^,]*),(?P<sw_span>[^\]]*)\]\] (?P<level>[A-Z]+) +(?P<logger>[^ ]+)"
        r" - (?P<message>.*)$"
    ),
    "timestamp_format": "%Y-%m-%d %H:%M:%S%.f",
    "record_start": r"^[0-9]{4}-[0-9]{2}-[0-9]{2} ",
}
_SPRING = (
    r"^([0-9-]+)T([0-9:.]+)(?:Z|[+-][0-9:]+) +([A-Z]+) +\[([^,\]]*),([^,\]]*),([^,\]]*)[^\]]*\] [0-9]+ --- "
    r"\[[^\]]*\] ([^ ]+) *: ?"
)


def skywalking(lines: pl.Series) -> pl.Series:
    """A Spring Boot log's records in the :data:`SKYWALKING` layout (stack trace lines as they are)."""
    return lines.str.replace(
        _SPRING, "${1} ${2} [SW_CTX:[${4},${4}-1@10.0.3.2,${5},${5}.42.17635,1]] ${3} ${7} - "
    )


def _records(fmt: str, lines: pl.Series) -> pl.DataFrame:
    """What tracejoin's parser of ``fmt`` reads from ``lines`` (one chunk)."""
    from parsers.base import ParseContext
    from pipeline.discover import resolve_format

    result = resolve_format(fmt).parse(lines, ParseContext("derive"))
    return pl.DataFrame(pl.from_arrow(result.records))


def otlp_logs(lines: pl.Series) -> pl.Series:
    """OTLP/JSON log exports (the Collector's file exporter: one request per line, 200 records each, one
    resource per service) of the records of JSON log lines."""
    rec = _records("json", lines).with_columns(batch=pl.int_range(pl.len()) // 200)

    def kv(key: str, value: pl.Expr) -> pl.Expr:  # an OTLP KeyValue with a string value
        return pl.struct(key=pl.lit(key), value=pl.struct(stringValue=value))

    record = pl.struct(
        timeUnixNano=pl.col("ts").dt.epoch("ns").cast(pl.String),
        severityText=pl.col("level"),
        body=pl.struct(stringValue=pl.col("message")),
        traceId=pl.col("trace_id").fill_null(""),
        spanId=pl.col("span_id").fill_null(""),
        attributes=pl.concat_list(kv("logger", pl.col("logger").fill_null(""))),
    )
    per_service = rec.group_by("batch", "service", maintain_order=True).agg(records=record)
    resource = pl.struct(
        resource=pl.struct(attributes=pl.concat_list(kv("service.name", pl.col("service").fill_null("")))),
        scopeLogs=pl.concat_list(pl.struct(scope=pl.struct(name=pl.lit("bench")), logRecords="records")),
    )
    per_batch = per_service.group_by("batch", maintain_order=True).agg(resourceLogs=resource)
    return per_batch.select(pl.struct("resourceLogs").struct.json_encode())[:, 0]


def _pg_entries(lines: pl.Series) -> pl.DataFrame:
    """The PostgreSQL records of stderr ``lines`` as csvlog/jsonlog fields."""
    rec = _records("postgresql", lines)

    def attr(key: str) -> pl.Expr:
        return pl.col("attributes").map.get(key)

    step = attr("query_step").fill_null("statement")
    head = step + (" " + attr("statement_name")).fill_null("")
    pid = attr("pid").cast(pl.Int64)
    return rec.select(
        log_time=pl.col("end_ts").dt.strftime("%Y-%m-%d %H:%M:%S%.3f UTC"),
        user_name="db_user",
        database_name="db",
        process_id=pid,
        connection_from=pl.col("client_host") + ":5432",
        session_id=pl.format("6383b339.{}", pid),
        session_line_num=pl.int_range(pl.len()) + 1,
        command_tag=pl.col("statement").str.extract(r"^([A-Za-z]+)", 1).str.to_uppercase(),
        session_start_time=pl.lit("2026-11-17 13:59:00 UTC"),
        virtual_transaction_id=pl.format("3/{}", pl.int_range(pl.len())),
        transaction_id=pl.lit(0),
        error_severity=pl.lit("LOG"),
        sql_state_code=pl.lit("00000"),
        message=pl.format("duration: {} ms", pl.col("duration_ms").round(3))
        + pl.when(pl.col("statement").is_not_null())
        .then(pl.format("  {}: {}", head, "statement"))
        .otherwise(pl.lit("")),
        detail=pl.when(attr("parameters").is_not_null()).then("parameters: " + attr("parameters")),
        application_name=pl.lit("[unknown]"),
        backend_type=pl.lit("client backend"),
        query_id=pl.lit(0),
    )


_CSV_ORDER = [
    "log_time",
    "user_name",
    "database_name",
    "process_id",
    "connection_from",
    "session_id",
    "session_line_num",
    "command_tag",
    "session_start_time",
    "virtual_transaction_id",
    "transaction_id",
    "error_severity",
    "sql_state_code",
    "message",
    "detail",
    "hint",
    "internal_query",
    "internal_query_pos",
    "context",
    "query",
    "query_pos",
    "location",
    "application_name",
    "backend_type",
    "leader_pid",
    "query_id",
]  # fmt: skip  -- csvlog's 26 columns (PostgreSQL 14+)


def postgresql_csv(lines: pl.Series) -> pl.Series:
    """PostgreSQL csvlog rows (26 columns) of the records of a stderr log."""
    f = _pg_entries(lines)
    f = f.with_columns(pl.lit(None, pl.String).alias(c) for c in _CSV_ORDER if c not in f.columns)
    out = io.StringIO()
    f.select(_CSV_ORDER).write_csv(out, include_header=False, quote_style="non_numeric")
    # a row is a record, not a line: a quoted statement may span lines (the parser reads it so)
    return pl.Series(out.getvalue().rstrip("\n").split("\n"))


def postgresql_json(lines: pl.Series) -> pl.Series:
    """PostgreSQL jsonlog lines (PG 15+ keys) of the records of a stderr log."""
    f = _pg_entries(lines).rename(
        {"log_time": "timestamp", "user_name": "user", "database_name": "dbname", "process_id": "pid",
         "connection_from": "remote_host", "session_line_num": "line_num", "command_tag": "ps",
         "session_start_time": "session_start", "virtual_transaction_id": "vxid", "transaction_id": "txid",
         "sql_state_code": "state_code"}
    )  # fmt: skip
    return f.select(pl.struct(pl.all()).struct.json_encode())[:, 0]


# derived format -> (the format it is made from, how)
DERIVED: dict[str, tuple[str, Callable[[pl.Series], pl.Series]]] = {
    "docker-json": ("spring", docker_json),
    "cri": ("logfmt", cri),
    "envoy": ("nginx", envoy),
    "skywalking": ("spring", skywalking),
    "otlp-logs": ("json", otlp_logs),
    "postgresql-csv": ("postgresql", postgresql_csv),
    "postgresql-json": ("postgresql", postgresql_json),
}


def lines_of(block: bytes) -> pl.Series:
    """The lines of ``block`` (whole lines, the last one ended by a line feed)."""
    return (
        pl.Series("line", [block.decode("utf-8", errors="replace")])
        .str.strip_suffix("\n")
        .str.split("\n")
        .explode()
    )


def derive(fmt: str, block: bytes) -> bytes:
    """``block`` (whole lines of the format ``fmt`` is made from) as ``fmt``."""
    out = DERIVED[fmt][1](lines_of(block))
    return (out.str.join("\n").item() + "\n").encode()


def parser_of(fmt: str, config_dir: Path) -> Parser:
    """The parser of ``fmt``: a registered one, or the user-defined :data:`SKYWALKING` read from a config file
    written to ``config_dir``, as a user's would be."""
    from pipeline import config
    from pipeline.discover import resolve_format

    if fmt != SKYWALKING["name"]:
        return resolve_format(fmt)
    path = config_dir / "bench-skywalking.toml"
    body = "".join(f"{key} = '{value}'\n" for key, value in SKYWALKING.items())
    path.write_text("[[format]]\n" + body)
    return config.load(path).formats[0]
