"""PostgreSQL csvlog (``log_destination = 'csvlog'``, 23 columns; PG 13+ adds backend_type, PG 14+ leader_pid
and query_id) -> ``slow_queries``.

A record starts at a line that begins with a timestamp (quoted or not); quoted fields (message, query,
detail) may span lines. The whole chunk goes through polars' CSV reader with every column as text, and the
``message`` column gets the same ``duration: ... statement:`` treatment as the stderr parser
(:func:`parsers.postgres_records.build`), with ``session_id`` as the session key::

    2021-01-04 00:18:04.650 UTC,"postgres","postgres",54,"172.24.0.1:42608",5ff25ea4.36,9,"SELECT",...,
    LOG,00000,"duration: 148.472 ms  statement: select generate_series(1, 1000000);",,,,,,,,,"psql"
"""

from __future__ import annotations

import csv
import io

import polars as pl

from parsers import postgres_chunks, postgres_records
from parsers.base import Kind, ParseContext, ParseResult

name = "postgresql-csv"
kind: Kind = "slow_queries"
description = "PostgreSQL csvlog (23-26 columns): duration/statement messages, parameters in detail"
example = (
    '2021-01-04 00:18:04.650 UTC,"postgres","postgres",54,"172.24.0.1:42608",5ff25ea4.36,9,"SELECT",'
    '2021-01-04 00:17:40 UTC,3/0,0,LOG,00000,"duration: 148.472 ms  statement: select 1;",,,,,,,,,"psql"'
)

COLUMNS = (
    "log_time", "user_name", "database_name", "process_id", "connection_from", "session_id",
    "session_line_num", "command_tag", "session_start_time", "virtual_transaction_id", "transaction_id",
    "error_severity", "sql_state_code", "message", "detail", "hint", "internal_query", "internal_query_pos",
    "context", "query", "query_pos", "location", "application_name", "backend_type", "leader_pid", "query_id",
)  # fmt: skip
_START = rf'^"?{postgres_records.TS_TEXT}'
_LINE = rf'^"?{postgres_records.TS_TEXT}[^,]*,"?[^,]*"?,"?[^,]*"?,[0-9]*,'
_TIME = rf"^({postgres_records.TS_TEXT})(?: ?([A-Za-z]{{1,5}}|[+-][0-9]{{2}}(?::?[0-9]{{2}})?))?$"


def sniff(head: list[str]) -> float:
    """High when lines start with a csvlog time, user, database and pid, and carry a severity column."""
    lines = pl.Series(head, dtype=pl.String)
    n = int(lines.str.contains(_LINE).sum())
    if not n:
        return 0.0
    sev = int(
        lines.str.contains(r",(?:LOG|ERROR|FATAL|WARNING|PANIC|NOTICE|INFO|DEBUG[1-5]?),[0-9A-Z]{5},").sum()
    )
    return 0.97 if sev else 0.5


_FIELD = r'(?:"(?:[^"]|"")*"|[^,]*)'
# the first line of a record up to the start of its message: process_id, session_id, error_severity, message
_HEAD = (
    rf"^{_FIELD},{_FIELD},{_FIELD},([0-9]*),{_FIELD},([^,]*),{_FIELD},{_FIELD},{_FIELD},{_FIELD},{_FIELD},"
    rf'([A-Z0-9]*),{_FIELD},"?((?:[^"]|"")*)'
)


def record_start(lines: pl.Series) -> pl.Series:
    """Mask of lines that begin a csvlog record (a timestamp, possibly quoted), except between records the
    parser joins (:mod:`parsers.postgres_chunks`)."""
    starts = lines.str.contains(_START).fill_null(False)
    head = pl.DataFrame({"line": lines.filter(starts)}).select(
        h=pl.col("line").str.extract_groups(_HEAD).struct.rename_fields(["pid", "session", "sev", "msg"])
    )
    head = head.unnest("h").select(
        session=pl.coalesce(_nonempty(pl.col("session")), _nonempty(pl.col("pid"))),
        kind=postgres_chunks.kind(pl.col("sev"), pl.col("msg")),
    )
    return postgres_chunks.cuts(starts, head["session"], head["kind"])


def _nonempty(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr != "").then(expr)


def _read(text: str) -> pl.DataFrame:
    """All records of ``text`` as text columns (missing trailing columns are null)."""
    if not text:
        return pl.DataFrame(schema=dict.fromkeys(COLUMNS, pl.String))
    return pl.read_csv(
        io.StringIO(text),
        has_header=False,
        schema=dict.fromkeys(COLUMNS, pl.String),
        truncate_ragged_lines=True,
        missing_columns="insert",
        quote_char='"',
    )


def _read_each(texts: list[str]) -> pl.DataFrame:
    """Fallback when the chunk does not split into one row per record: read each record alone."""
    rows: list[list[str | None]] = []
    for text in texts:  # rare: only when a quoted field held a line that looks like a record start
        fields: list[str | None] = next(csv.reader(io.StringIO(text)), [])  # type: ignore[arg-type]
        rows.append(
            [(f if f != "" else None) for f in fields[: len(COLUMNS)]] + [None] * (len(COLUMNS) - len(fields))
        )
    return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String), orient="row")


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse whole csvlog records (see the module docstring)."""
    df = (
        pl.DataFrame({"line": lines.cast(pl.String).str.strip_suffix("\r")})
        .with_row_index("line_no")
        .with_columns(start=pl.col("line").str.contains(_START))
        .with_columns(entry=pl.col("start").cum_sum())
    )
    stray = df.filter(pl.col("entry") == 0).select(pl.col("line_no").cast(pl.Int64), raw="line")
    ent = (
        df.filter(pl.col("entry") > 0)
        .group_by("entry", maintain_order=True)
        .agg(pl.col("line_no").first(), pl.len().alias("n_lines"), pl.col("line").str.join("\n").alias("raw"))
    )
    rows = _read("\n".join(ent["raw"].to_list()))
    if rows.height != ent.height:
        rows = _read_each(ent["raw"].to_list())
    ent = pl.concat([ent, rows], how="horizontal")
    t = ent["log_time"].str.extract_groups(_TIME)
    ent = ent.with_columns(
        ts_text=t.struct.field("1"),
        zone=t.struct.field("2"),
        pid=pl.col("process_id"),
        session=pl.coalesce("session_id", "process_id", pl.lit("")),
        sev=pl.col("error_severity"),
        msg=pl.col("message"),
        db_user=pl.col("user_name"),
        db=pl.col("database_name"),
        app=pl.col("application_name"),
        client_host=pl.col("connection_from").str.replace(r":[0-9]+$", ""),
        reason=pl.when(t.struct.field("1").is_null())
        .then(pl.lit("csvlog record without a readable log_time"))
        .when(pl.col("error_severity").is_null() | pl.col("message").is_null())
        .then(pl.lit("csvlog record without error_severity or message (not a csvlog line?)")),
    )
    return postgres_records.build(ent, ctx, name, stray)
