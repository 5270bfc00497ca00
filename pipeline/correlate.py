"""Correlate: run ``sql/model/*.sql`` in DuckDB over the staged Parquet and write the output tables.

Each output table becomes a Hive-partitioned dataset ``<out>/<table>/dt=YYYY-MM-DD/data_0.parquet`` (zstd,
sorted, so the same input gives the same bytes) and ``<out>/catalog.duckdb`` gets a view per table.
Everything is built in ``<out>/.building`` and swapped in at the end: a crash leaves the previous output.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from pipeline import sqlfiles
from pipeline.config import DEFAULT_SYMPTOMS
from pipeline.errors import OutputError
from pipeline.paths import CATALOG, STAGING

# Output tables, how each is sorted, and which timestamp decides its dt partition.
OUTPUTS: dict[str, tuple[str, str]] = {
    "logs": ("stg_logs", "ts"),
    "slow_queries": ("stg_slow_queries", "ts"),
    "spans": ("spans", "start_ts"),
    "log_links": ("log_links", "ts"),
    "log_link_gaps": ("log_link_gaps", "ts"),
    "query_link_gaps": ("query_link_gaps", "ts"),
    "query_links": ("query_links", "ts"),
    "root_causes": ("root_causes", "ts"),
    "rejects": ("rejects_dated", "ts"),
}
SORT_KEYS: dict[str, str] = {
    "spans": "trace_id, start_ts, span_id, kind",
}
DEFAULT_SORT = "source_file, source_line"
EPOCH_DT = "1970-01-01"  # partition of rows without any date (rejects of a file with no good record)


@dataclass(frozen=True)
class CorrelateOptions:
    tolerance_ms: float = 5.0  # slack when testing that a span contains a time
    lock_wait_ms: float = 50.0  # a slow query that waited this long on a lock gets a likely blocker
    skew_min_pairs: int = 20  # exactly linked records a host needs before its clock skew is estimated
    window_before_ms: float = 30_000.0  # no-trace evidence window before an error record
    window_after_ms: float = 2_000.0
    symptoms: tuple[str, ...] = DEFAULT_SYMPTOMS
    memory_limit: str = "4GB"
    threads: int | None = None


@dataclass
class CorrelateSummary:
    rows: dict[str, int] = field(default_factory=dict)
    out: Path = Path()


def quote(value: Path | str) -> str:
    """A path as a SQL string literal (DDL and COPY cannot take bound parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


def _params(options: CorrelateOptions) -> dict[str, Any]:
    return {
        "tolerance_ms": options.tolerance_ms,
        "lock_wait_ms": options.lock_wait_ms,
        "skew_min_pairs": options.skew_min_pairs,
        "window_before_ms": options.window_before_ms,
        "window_after_ms": options.window_after_ms,
        "symptoms": list(options.symptoms),
    }


def connect(
    path: Path | str = ":memory:", options: CorrelateOptions | None = None
) -> duckdb.DuckDBPyConnection:
    options = options or CorrelateOptions()
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{options.memory_limit}'")
    if options.threads:
        con.execute(f"SET threads = {int(options.threads)}")
    return con


def run_model(con: duckdb.DuckDBPyConnection, options: CorrelateOptions) -> None:
    """Run the macros and every model query; each file creates the table named after it."""
    con.execute(sqlfiles.load_sql("macros"))
    params = _params(options)
    for path in sqlfiles.model_files():
        sql = path.read_text(encoding="utf-8")
        table = path.stem.split("_", 1)[1]
        bound = {k: params[k] for k in sqlfiles.params_of(sql)}
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {sql}", bound)


def _stage_views(con: duckdb.DuckDBPyConnection, staging: Path) -> None:
    for name in ("logs", "slow_queries", "spans", "rejects"):
        path = staging / f"{name}.parquet"
        if not path.exists():
            raise OutputError(
                f"staged table missing: {path}", "run 'tracejoin ingest' (or 'tracejoin run') first"
            )
        con.execute(f"CREATE OR REPLACE VIEW stg_{name} AS SELECT * FROM read_parquet({quote(path)})")
    # rejects carry no time of their own: date them by the first good record of their file
    con.execute(
        """
        CREATE OR REPLACE VIEW rejects_dated AS
        SELECT r.*, f.ts FROM stg_rejects AS r
        LEFT JOIN (
            SELECT source_file, min(ts) AS ts FROM (
                SELECT source_file, ts FROM stg_logs UNION ALL
                SELECT source_file, ts FROM stg_slow_queries UNION ALL
                SELECT source_file, start_ts FROM stg_spans)
            GROUP BY source_file
        ) AS f USING (source_file)
        """
    )


def _write_table(con: duckdb.DuckDBPyConnection, name: str, source: str, ts_col: str, target: Path) -> int:
    order = SORT_KEYS.get(name, DEFAULT_SORT)
    count = int(con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0])
    if count == 0:
        # An empty table still gets one (zero-row) file, so every reader finds the dataset and its columns.
        part = target / f"dt={EPOCH_DT}"
        part.mkdir(parents=True)
        exclude = ", ts" if name == "rejects" else ""
        rel = con.sql(f"SELECT * EXCLUDE (dt{exclude}) FROM (SELECT *, NULL AS dt FROM {source}) LIMIT 0")
        pq.write_table(rel.to_arrow_table(), part / "data_0.parquet", compression="zstd")
        return 0
    exclude = " EXCLUDE (ts)" if name == "rejects" else ""
    con.execute(
        f"""
        COPY (
            SELECT *{exclude}, coalesce(strftime({ts_col}, '%Y-%m-%d'), '{EPOCH_DT}') AS dt
            FROM {source} ORDER BY dt, {order}
        ) TO {quote(target)} (FORMAT parquet, PARTITION_BY (dt), COMPRESSION zstd)
        """
    )
    return count


def write_catalog(out: Path) -> None:
    """``<out>/catalog.duckdb``: one view per output table over its Parquet files (absolute paths)."""
    path = out / CATALOG
    tmp = out / f".{CATALOG}.new"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("SET TimeZone = 'UTC'")
        for name in OUTPUTS:
            files = (out / name).resolve().as_posix() + "/*/*.parquet"
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet({quote(files)}, hive_partitioning = true, "
                "hive_types = {'dt': DATE})"
            )
    finally:
        con.close()
    tmp.replace(path)


def correlate(out: Path, options: CorrelateOptions | None = None) -> CorrelateSummary:
    """Build every output table from ``<out>/_staging`` and swap them into ``out``."""
    options = options or CorrelateOptions()
    staging = out / STAGING
    building = out / ".building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    summary = CorrelateSummary(out=out)
    con = connect(building / "work.duckdb", options)
    try:
        con.execute(f"SET temp_directory = {quote(building / 'tmp')}")
        _stage_views(con, staging)
        run_model(con, options)
        for name, (source, ts_col) in OUTPUTS.items():
            summary.rows[name] = _write_table(con, name, source, ts_col, building / name)
    finally:
        con.close()
    _swap_in(out, building)
    write_catalog(out)
    return summary


def _swap_in(out: Path, building: Path) -> None:
    old = out / ".old"
    shutil.rmtree(old, ignore_errors=True)
    old.mkdir()
    for name in OUTPUTS:
        final = out / name
        if final.exists():
            final.rename(old / name)
        (building / name).rename(final)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(building, ignore_errors=True)
