"""The output contract of DESIGN §3: every table readable by polars, pandas and the DuckDB catalog, with
the listed columns and types, dt partitions, and counts that reconcile."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from parsers import schema
from pipeline import sqlfiles

TS = pa.timestamp("us", tz="UTC")
S = pa.string()
F = pa.float64()
MAP = pa.map_(pa.string(), pa.string())

# The key columns of DESIGN §3 and their types; tables may carry more.
CONTRACT: dict[str, dict[str, pa.DataType]] = {
    "logs": {f.name: f.type for f in schema.LOGS},
    "slow_queries": {f.name: f.type for f in schema.SLOW_QUERIES},
    "spans": {f.name: f.type for f in schema.SPANS},
    "rejects": {f.name: f.type for f in schema.REJECTS},
    "log_links": {
        "source_file": S,
        "source_line": pa.int64(),
        "trace_id": S,
        "span_id": S,
        "method": S,
        "confidence": F,
        "skew_ms": F,
    },
    "query_links": {
        "source_file": S,
        "source_line": pa.int64(),
        "trace_id": S,
        "span_id": S,
        "method": S,
        "confidence": F,
    },
    "root_causes": {
        "ts": TS,
        "service": S,
        "message": S,
        "source_file": S,
        "source_line": pa.int64(),
        "is_upstream_symptom": pa.bool_(),
        "trace_id": S,
        "anchor_span_id": S,
        "root_span_id": S,
        "root_service": S,
        "root_name": S,
        "root_duration_ms": F,
        "root_self_ms": F,
        "root_status": S,
        "reason": S,
        "path": pa.list_(S),
        "evidence": pa.list_(S),
        "confidence": F,
    },
}


def _normalize(t: pa.DataType) -> pa.DataType:
    """Map key/value fields are named differently by writers; compare shapes, not field names."""
    if pa.types.is_map(t):
        return pa.map_(_normalize(t.key_type), _normalize(t.item_type))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_normalize(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([(f.name, _normalize(f.type)) for f in t])
    if pa.types.is_large_string(t):
        return pa.string()
    return t


@pytest.mark.parametrize("table", sorted(CONTRACT))
def test_each_table_has_the_contract_columns_and_types(sample_out: Path, table: str) -> None:
    dataset = ds.dataset(sample_out / table, format="parquet", partitioning="hive")
    got = {f.name: _normalize(f.type) for f in dataset.schema}
    for column, expected in CONTRACT[table].items():
        assert column in got, f"{table}.{column} missing"
        assert got[column] == _normalize(expected), f"{table}.{column}: {got[column]} != {expected}"


@pytest.mark.parametrize("table", sorted(CONTRACT))
def test_each_table_reads_the_same_in_polars_pandas_and_the_catalog(sample_out: Path, table: str) -> None:
    files = sorted((sample_out / table).glob("dt=*/*.parquet"))
    assert files, f"{table} has no dt= partition"
    assert all(p.parent.name[3:] == "1970-01-01" or p.parent.name[3:].startswith("2026-11-") for p in files)
    n_polars = pl.scan_parquet(str(sample_out / table / "**/*.parquet")).select(pl.len()).collect().item()
    n_pandas = len(pd.read_parquet(sample_out / table))
    con = duckdb.connect(str(sample_out / "catalog.duckdb"), read_only=True)
    n_duck = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    con.close()
    assert n_polars == n_pandas == n_duck


def test_timestamps_are_utc_microseconds_in_every_reader(sample_out: Path) -> None:
    df = pl.scan_parquet(str(sample_out / "logs" / "**/*.parquet")).select("ts").head(1).collect()
    assert df.schema["ts"] == pl.Datetime("us", "UTC")
    assert str(pd.read_parquet(sample_out / "logs", columns=["ts"])["ts"].dtype) == "datetime64[us, UTC]"


def test_records_sit_in_the_partition_of_their_utc_date(sample_out: Path) -> None:
    con = duckdb.connect(str(sample_out / "catalog.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    bad = con.sql("SELECT count(*) FROM logs WHERE CAST(ts AS DATE) <> dt").fetchall()[0][0]
    con.close()
    assert bad == 0


def test_every_input_file_reconciles(sample_run: tuple[Path, object]) -> None:
    out, _ = sample_run
    manifest = json.loads((out / "_staging" / "manifest.json").read_text())
    for f in manifest["files"]:
        assert f["lines"] == f["record_lines"] + f["reject_lines"] + f["skipped_lines"], f["source_file"]
    logs = pl.scan_parquet(str(out / "logs" / "**/*.parquet")).group_by("source_file").len().collect()
    staged = {f["source_file"]: f["records"] for f in manifest["files"] if f["format"] not in (None,)}
    for name, n in logs.iter_rows():
        assert staged[name] == n


@pytest.mark.parametrize("check", sorted(p.stem for p in (sqlfiles.sql_dir() / "checks").glob("*.sql")))
def test_output_invariant_holds(sample_out: Path, check: str) -> None:
    con = duckdb.connect(str(sample_out / "catalog.duckdb"), read_only=True)
    offending = con.sql(sqlfiles.load_sql(f"checks/{check}")).limit(5).fetchall()
    con.close()
    assert offending == [], f"{check}: {offending}"


def test_same_input_gives_byte_identical_parquet(sample_out: Path, tmp_path: Path) -> None:
    from tests.conftest import SAMPLE, invoke

    again = tmp_path / "again"
    assert invoke("run", SAMPLE, "--out", again).exit_code == 0
    for table in CONTRACT:
        for a in sorted((sample_out / table).rglob("*.parquet")):
            b = again / a.relative_to(sample_out)
            assert a.read_bytes() == b.read_bytes(), f"{a.relative_to(sample_out)} differs between two runs"
