"""Read-only access to a finished output: the catalog's views and the queries run over them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipeline import sqlfiles
from pipeline.errors import OutputError
from pipeline.paths import CATALOG


def open_catalog(out: Path) -> duckdb.DuckDBPyConnection:
    """Connect read-only to ``<out>/catalog.duckdb``; a clear error when there is no output yet."""
    path = out / CATALOG
    if not path.is_file():
        raise OutputError(
            f"no tracejoin output in {out} ({CATALOG} is missing)",
            "run 'tracejoin run <inputs> --out DIR' first, or pass the right --out",
        )
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


READ_ONLY_STATEMENTS = (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN)


def ad_hoc(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """One read-only statement of the user's (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) over the
    catalog. Anything else — several statements, COPY, CREATE, ATTACH, SET — is refused before it runs."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise OutputError(f"the SQL does not parse: {str(exc).splitlines()[0]}", "fix the query") from exc
    if len(statements) != 1:
        raise OutputError(
            f"give exactly one statement, not {len(statements)}", "run the statements one at a time"
        )
    kind = statements[0].type
    if kind not in READ_ONLY_STATEMENTS:
        raise OutputError(
            f"only read-only queries are allowed here, not {kind.name}",
            "use SELECT/WITH/DESCRIBE/SUMMARIZE; for your own tables connect to catalog.duckdb in Python",
        )
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise OutputError(f"the query failed: {str(exc).splitlines()[0]}", "fix the query") from exc


def query(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pa.Table:
    """Run ``sql/<name>.sql`` with the parameters it uses (missing ones bound as NULL)."""
    sql = sqlfiles.load_sql(name)
    bound = {k: params.get(k) for k in sqlfiles.params_of(sql)}
    return con.sql(sql, params=bound).to_arrow_table()


def utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
