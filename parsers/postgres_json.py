"""PostgreSQL jsonlog (PG 15+, ``log_destination = 'jsonlog'``) -> ``slow_queries``; also the CloudNativePG
operator's JSON lines (``{"logger": "postgres", "record": {<csvlog columns>}}``) and Google Cloud SQL log
exports (``{"textPayload": "[pid]: [1-1] db=...,user=... LOG:  duration: ...", "timestamp": "...Z"}``).

One JSON object per line. The ``message`` gets the same ``duration: ... statement:`` treatment as the
stderr parser (:func:`parsers.postgres_records.build`), with ``session_id`` as the session key::

    {"timestamp":"2026-11-17 14:32:05.238 UTC","user":"shop","dbname":"shop","pid":4711,
     "error_severity":"LOG","message":"duration: 190.512 ms  statement: SELECT 1","session_id":"6383b339.257"}

Lines that are not JSON objects of one of these shapes (other loggers of the same pod, app logs) are
skipped; lines that look like JSON but cannot be decoded are rejected.
"""

from __future__ import annotations

import json

import polars as pl

from parsers import postgres_chunks, postgres_prefix, postgres_records
from parsers.base import Kind, ParseContext, ParseResult

name = "postgresql-json"
kind: Kind = "slow_queries"
description = "PostgreSQL jsonlog (PG 15+), CloudNativePG JSON and Cloud SQL exports: duration/statement"
example = (
    '{"timestamp":"2026-11-17 14:32:05.238 UTC","user":"shop","dbname":"shop","pid":4711,'
    '"session_id":"6383b339.257","error_severity":"LOG",'
    '"message":"duration: 190.512 ms  statement: SELECT 1"}'
)

_JSONLOG = (
    "timestamp", "user", "dbname", "pid", "remote_host", "session_id", "error_severity", "message",
    "detail", "application_name", "backend_type", "query_id", "ps", "vxid", "txid",
)  # fmt: skip
_CNPG = (
    "log_time", "user_name", "database_name", "process_id", "connection_from", "session_id",
    "error_severity", "message", "detail", "application_name", "backend_type", "query_id", "command_tag",
    "virtual_transaction_id", "transaction_id",
)  # fmt: skip
_DTYPE = pl.Struct(
    {
        **dict.fromkeys(_JSONLOG, pl.String),
        "logger": pl.String,
        "record": pl.Struct(dict.fromkeys(_CNPG, pl.String)),
        "textPayload": pl.String,
    }
)
_TIME = rf"^({postgres_records.TS_TEXT})(?: ?([A-Za-z]{{1,5}}|Z|[+-][0-9]{{2}}(?::?[0-9]{{2}})?))?$"
# Cloud SQL's textPayload: the stderr prefix without the time (`[pid]: [1-1] db=...,user=... LOG:  ...`).
_PAYLOAD = rf"^(|.*?[ :\]>])({postgres_prefix.SEVERITIES}):[ \t]+((?s:.*))$"


def sniff(head: list[str]) -> float:
    """High when JSON lines carry PostgreSQL's jsonlog keys, a CNPG ``record`` or Cloud SQL's postgres log."""
    text = "\n".join(head)
    if '"error_severity"' in text and ('"timestamp"' in text or '"log_time"' in text) and '"message"' in text:
        return 0.97
    if "cloudsql.googleapis.com%2Fpostgres.log" in text and '"textPayload"' in text:
        return 0.95
    return 0.0


_CHAR = r'(?:[^"\\]|\\.)'  # in a JSON string
_STRING = rf'"({_CHAR}*)"'
_PAYLOAD_SEV = rf'"textPayload":[ \t]*"(?:|{_CHAR}*?[ :\]>])({postgres_prefix.SEVERITIES}):[ \t]+({_CHAR}*)"'


def record_start(lines: pl.Series) -> pl.Series:
    """Every line is one record, but a chunk is never cut between records the parser joins
    (:mod:`parsers.postgres_chunks`); what they are is read from the raw lines."""
    text = pl.col("t")
    df = pl.DataFrame({"t": lines.cast(pl.String)})
    payload = text.str.extract_groups(_PAYLOAD_SEV).struct
    df = df.with_columns(
        sev=pl.coalesce(text.str.extract(r'"error_severity":[ \t]*"([A-Z0-9]+)"', 1), payload.field("1")),
        msg=pl.coalesce(text.str.extract(rf'"message":[ \t]*{_STRING}', 1), payload.field("2")),
    )
    kinds = df.select(postgres_chunks.kind(pl.col("sev"), pl.col("msg"))).to_series()
    starts = pl.repeat(True, len(lines), eager=True)
    if not kinds.is_in(["S", "P", "L"]).any():
        return starts
    session_id = text.str.extract(rf'"session_id":[ \t]*{_STRING}', 1)
    session = df.select(
        pl.coalesce(
            pl.when(session_id != "").then(session_id),
            text.str.extract(r'"(?:pid|process_id)":[ \t]*"?([0-9]+)', 1),
            text.str.extract(r'"textPayload":[ \t]*"\[([0-9]+)[\]-]', 1),
        )
    ).to_series()
    return postgres_chunks.cuts(starts, session, kinds)


def _decode(lines: pl.Series) -> pl.Series:
    try:
        return lines.str.json_decode(_DTYPE)
    except pl.exceptions.ComputeError:  # one bad line fails the batch: decode the rest one by one
        ok = pl.Series([_valid(x) for x in lines.to_list()], dtype=pl.Boolean)
        return pl.select(pl.when(ok).then(lines).str.json_decode(_DTYPE)).to_series()


def _valid(text: str | None) -> bool:
    try:
        return isinstance(json.loads(text or ""), dict)
    except ValueError:
        return False


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse one JSON object per line (see the module docstring)."""
    df = pl.DataFrame({"raw": lines.cast(pl.String).str.strip_suffix("\r")}).with_row_index("line_no")
    df = df.with_columns(
        entry=pl.col("line_no").cast(pl.Int64) + 1,
        n_lines=pl.lit(1, dtype=pl.UInt32),
        obj=pl.col("raw").str.strip_chars().str.starts_with("{"),
    )
    objects = df.select(pl.when("obj").then(pl.col("raw"))).to_series()
    df = df.with_columns(j=_decode(objects))
    j, rec = pl.col("j").struct, pl.col("j").struct.field("record").struct
    cnpg = (j.field("logger") == "postgres") & j.field("record").is_not_null()
    df = df.with_columns(
        r=pl.when(cnpg)
        .then(pl.struct(*(rec.field(c).alias(c) for c in _CNPG)))
        .otherwise(
            pl.struct(
                j.field("timestamp").alias("log_time"),
                j.field("user").alias("user_name"),
                j.field("dbname").alias("database_name"),
                j.field("pid").alias("process_id"),
                j.field("remote_host").alias("connection_from"),
                *(
                    j.field(c)
                    for c in ("session_id", "error_severity", "message", "detail", "application_name")
                ),
                *(j.field(c) for c in ("backend_type", "query_id")),
                j.field("ps").alias("command_tag"),
                j.field("vxid").alias("virtual_transaction_id"),
                j.field("txid").alias("transaction_id"),
            )
        ),
        payload=j.field("textPayload")
        .str.extract_groups(_PAYLOAD)
        .struct.rename_fields(["rest", "p_sev", "p_msg"]),
    ).unnest("r", "payload")
    cloud = pl.col("p_sev").is_not_null()
    df = df.with_columns(**postgres_prefix.prefix_fields(pl.col("rest").fill_null("")))
    df = df.with_columns(
        t=pl.coalesce(pl.col("log_time"), j.field("timestamp"))
        .str.replace(r"^([0-9-]+)T(.*)Z$", "${1} ${2} UTC")
        .str.extract_groups(_TIME)
    )
    df = df.with_columns(
        ts_text=pl.col("t").struct.field("1").str.replace(r"(\.[0-9]{6})[0-9]+", "${1}"),
        zone=pl.col("t").struct.field("2"),
        pid=pl.when(cloud).then(pl.col("pid")).otherwise(pl.col("process_id")),
        sev=pl.when(cloud).then(pl.col("p_sev")).otherwise(pl.col("error_severity")),
        msg=pl.when(cloud).then(pl.col("p_msg")).otherwise(pl.col("message")),
        db_user=pl.when(cloud).then(pl.col("db_user")).otherwise(pl.col("user_name")),
        db=pl.when(cloud).then(pl.col("db")).otherwise(pl.col("database_name")),
        app=pl.when(cloud).then(pl.col("app")).otherwise(pl.col("application_name")),
        client_host=pl.when(cloud)
        .then(pl.col("client_host"))
        .otherwise(pl.col("connection_from").str.replace(r":[0-9]+$", "")),
    )
    df = df.with_columns(
        session=pl.coalesce("session_id", "pid", pl.lit("")),
        reason=pl.when(pl.col("obj") & pl.col("j").is_null())
        .then(pl.lit("line looks like a JSON object but is not valid JSON"))
        .when(pl.col("sev").is_not_null() & pl.col("ts_text").is_null())
        .then(pl.lit("PostgreSQL JSON record without a readable timestamp"))
        .when(pl.col("sev").is_not_null() & pl.col("msg").is_null())
        .then(pl.lit("PostgreSQL JSON record without a message")),
    )
    # Not a PostgreSQL record (another logger, an app log, a blank line): skipped, not rejected.
    keep = pl.col("reason").is_not_null() | pl.col("sev").is_not_null()
    skipped = df.filter(~keep)
    ev = df.filter(keep).drop("j", "t")
    result = postgres_records.build(ev, ctx, name)
    result.skipped_lines += skipped.height
    return result
