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


def query(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pa.Table:
    """Run ``sql/<name>.sql`` with the parameters it uses (missing ones bound as NULL)."""
    sql = sqlfiles.load_sql(name)
    bound = {k: params.get(k) for k in sqlfiles.params_of(sql)}
    return con.sql(sql, params=bound).to_arrow_table()


def utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
