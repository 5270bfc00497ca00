"""Docker ``json-file`` container logs, unwrapped: the application's own lines inside, in their own format.

    {"log":"2026-11-17T15:32:05.245+01:00 ERROR [order-service,...] ... : upstream service error\\n",
     "stream":"stdout","time":"2026-11-17T14:32:05.245612345Z"}

Each line is one JSON object (decoded by DuckDB, columnar) whose ``log`` is one line of the container's
stdout or stderr with its ``\\n``. With ``--log-opt labels=...``, ``env=...`` or ``tag=...`` Docker adds an
``attrs`` object (``{"com.docker.compose.service":"web","tag":"shop-web-1"}``): its pairs go into the records'
attributes, and a service label among them (:data:`SERVICE_LABELS`, in that order) names the service of the
records that do not name theirs (before the config or the directory does: Docker's directory is the
container ID). Docker cuts lines longer than 16 KB into pieces: a ``log`` that does not
end with ``\\n`` continues in the stream's next record, and the pieces are joined. The inner lines are then
read by the registered log parser that recognises them (Spring with its stack traces, JSON, logfmt, nginx,
...; see :mod:`parsers.container_common`), or as plain text stamped with Docker's ``time``. ``format`` is
``docker-json+<inner>``. Lines that are not JSON objects with a ``log`` string are rejected.
"""

from __future__ import annotations

import duckdb
import polars as pl

from parsers import base, container_common
from parsers.base import Kind, ParseContext, ParseResult

name = "docker-json"
kind: Kind = "logs"
description = "Docker json-file container logs ({log, stream, time}); the inner lines in their own format"
example = (
    '{"log":"2026-11-17T15:32:05.245+01:00 ERROR [order-service,4bf92f3577b34da6a3ce929d0e0e4736,'
    "00f067aa0ba902b7] 1 --- [nio-8080-exec-7] c.e.order.web.OrderController            : "
    'upstream service error\\n","stream":"stdout","time":"2026-11-17T14:32:05.245612345Z"}'
)


# attrs keys that name the service, most specific first: Compose, Kubernetes, Swarm, then env variables
SERVICE_LABELS = (
    "com.docker.compose.service",
    "io.kubernetes.container.name",
    "com.docker.swarm.service.name",
    "OTEL_SERVICE_NAME",
    "SERVICE_NAME",
    "SERVICE",
)
_ATTRS = '"MAP(VARCHAR, VARCHAR)"'  # a json_transform structure: a JSON string naming a type


def _label_sql() -> str:
    """SQL: the first service label of a line's ``attrs`` (the keys are constants, quoted as JSON paths)."""
    paths = ", ".join(f"""json_extract_string(line, '$.attrs."{k}"')""" for k in SERVICE_LABELS)
    return f"coalesce({paths})"


_FIELDS = pl.Struct({"log": pl.String, "stream": pl.String, "time": pl.String})


def _fields_fast(lines: pl.DataFrame) -> pl.DataFrame | None:
    """The wrapper fields of non-blank ``lines`` decoded by polars, when every line is a JSON object and none
    has ``attrs``: what :func:`_fields_exact` gives them (a scalar ``log`` read as its text, the first of
    duplicate keys), several times faster. None otherwise (polars fails the whole column on one bad line)."""
    if lines["line"].str.contains('"attrs"', literal=True).any():
        return None
    try:
        fields = lines["line"].str.json_decode(_FIELDS).struct.unnest()
    except pl.exceptions.ComputeError:
        return None
    return pl.concat([lines.select("line_no"), fields], how="horizontal").with_columns(
        valid=pl.lit(True), obj=pl.lit(True)
    )


def _fields_exact(lines: pl.DataFrame) -> pl.DataFrame:
    """The wrapper fields of non-blank ``lines``, any line: validity, type, ``attrs`` and a service label."""
    with duckdb.connect() as con:
        con.register("lines_in", lines.to_arrow())
        # TRY: an invalid line gives NULL instead of failing the whole query
        fields = con.sql(
            "SELECT line_no, valid, typ = 'OBJECT' AS obj, v[1] AS log, v[2] AS stream, v[3] AS time, "
            "attrs, label FROM ("
            "SELECT line_no, json_valid(line) AS valid, try(json_type(line)) AS typ, "
            "try(json_extract_string(line, ['$.log', '$.stream', '$.time'])) AS v, "
            f"try(json_transform(json_extract(line, '$.attrs'), '{_ATTRS}')) AS attrs, "
            f"try({_label_sql()}) AS label FROM lines_in)"
        ).pl()
    return fields.with_columns(pl.col("line_no").cast(pl.UInt32))


def _decode(lines: pl.Series, exact: bool = False) -> pl.DataFrame:
    """The wrapper fields of every line (:data:`parsers.container_common.DECODED`, with ``attrs`` and
    ``label`` when a line has them); ``exact``: never the fast decode (for tests)."""
    df = pl.DataFrame({"line": lines.cast(pl.String)}).with_row_index("line_no")
    line = pl.col("line")
    df = df.with_columns(blank=line.is_null() | ~line.str.contains("[^ \t\r]").fill_null(False))
    todo = df.filter(~pl.col("blank")).select("line_no", "line")
    fields = None if exact else _fields_fast(todo)
    if fields is None:
        fields = _fields_exact(todo)
    df = df.join(fields, on="line_no", how="left")
    log = pl.col("log")
    reason = (
        pl.when(pl.col("blank"))
        .then(None)
        .when(~pl.col("valid"))
        .then(pl.lit("invalid JSON"))
        .when(~pl.col("obj"))
        .then(pl.lit("not a JSON object"))
        .when(log.is_null())
        .then(pl.lit("not a Docker json-file record: no log"))
        .when(pl.col("time").is_null())
        .then(pl.lit("not a Docker json-file record: no time"))
    )
    complete = log.str.ends_with("\n")
    return df.select(
        "line_no",
        "line",
        "blank",
        reason.alias("reason"),
        log.str.strip_suffix("\n").str.strip_suffix("\r").alias("text"),
        pl.col("stream"),
        (~complete).alias("partial"),
        pl.col("time"),
        # attrs and label only when a line has them (the fast decode reads none)
        *(pl.col(c) for c in container_common.OPTIONAL if c in df.columns and df[c].is_not_null().any()),
    )


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of Docker json-file lines into LOGS records (of the inner format) and rejects."""
    return container_common.parse(_decode(lines), ctx, name)


def record_start(lines: pl.Series) -> pl.Series | None:
    """Lines where no piece of a long line is open and the inner format starts a record."""
    return container_common.record_start(_decode(lines))


def sniff(head: list[str]) -> float:
    """Share of non-blank lines that are JSON objects with a string ``log`` and a ``stream`` or ``time``."""
    return base.share_of_json_objects(
        head, lambda obj: isinstance(obj.get("log"), str) and bool({"stream", "time"} & obj.keys())
    )
