"""Stages alone give what `run` gives; failed runs keep the previous output; the wheel ships sql/."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, SAMPLE, invoke


def _counts(out: Path) -> dict[str, int]:
    con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)
    tables = ["logs", "slow_queries", "spans", "log_links", "query_links", "root_causes", "rejects"]
    counts = {t: con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}
    con.close()
    return counts


def test_ingest_then_correlate_equals_run(sample_out: Path, tmp_path: Path) -> None:
    ingest = invoke("ingest", SAMPLE, "--out", tmp_path)
    assert ingest.exit_code == 0
    assert "order-service/order-service.log" in ingest.output and "spring (detected)" in ingest.output
    assert not (tmp_path / "catalog.duckdb").exists()
    correlate = invoke("correlate", "--out", tmp_path)
    assert correlate.exit_code == 0
    assert correlate.output.startswith(f"wrote {tmp_path}: logs 8447,")
    assert _counts(tmp_path) == _counts(sample_out)


def test_a_failed_correlation_leaves_the_previous_output_intact(tmp_path: Path) -> None:
    assert invoke("run", SAMPLE / "order-service", SAMPLE / "traces", "--out", tmp_path).exit_code == 0
    before = _counts(tmp_path)
    (tmp_path / "_staging" / "spans.parquet").write_bytes(b"not parquet")  # a crash mid-run
    with pytest.raises(duckdb.Error):
        invoke("correlate", "--out", tmp_path)
    assert _counts(tmp_path) == before


def test_a_failed_ingest_leaves_the_previous_staging(tmp_path: Path) -> None:
    assert invoke("ingest", SAMPLE / "order-service", "--out", tmp_path).exit_code == 0
    manifest = (tmp_path / "_staging" / "manifest.json").read_text()
    bad = invoke("ingest", SAMPLE / "order-service", tmp_path / "missing.log", "--out", tmp_path)
    assert bad.exit_code == 1
    assert (tmp_path / "_staging" / "manifest.json").read_text() == manifest


def test_generate_command_writes_the_day_and_its_truth(tmp_path: Path) -> None:
    result = invoke("generate", tmp_path / "day", "--seed", "3")
    assert result.exit_code == 0
    assert (tmp_path / "day" / "ground_truth.json").is_file()
    assert (tmp_path / "day" / "mysql" / "inventory-slow.log").read_text().startswith("/usr/sbin/mysqld")


def test_the_wheel_ships_the_sql_files(tmp_path: Path) -> None:
    hatchling_build = pytest.importorskip("hatchling.build")
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        name = hatchling_build.build_wheel(str(tmp_path))
    finally:
        os.chdir(cwd)
    members = set(zipfile.ZipFile(tmp_path / name).namelist())
    shipped = {p.relative_to(ROOT / "sql").as_posix() for p in (ROOT / "sql").rglob("*.sql")}
    assert shipped
    assert {f"pipeline/sql/{s}" for s in shipped} <= members
    assert "parsers/registry.py" in members


def test_config_sources_name_format_service_and_symptoms(tmp_path: Path) -> None:
    cfg = tmp_path / "tracejoin.toml"
    cfg.write_text(
        'symptom_patterns = ["POST /orders HTTP/1.1 502"]\n'
        "[[source]]\n"
        f'path = "{(SAMPLE / "api-gateway").as_posix()}"\n'
        'format = "access"\n'
        'service = "edge"\n'
    )
    result = invoke("run", "--config", cfg, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert "access.log  nginx " in result.output  # explicit format: not marked '(detected)'
    con = duckdb.connect(str(tmp_path / "out" / "catalog.duckdb"), read_only=True)
    services = con.sql("SELECT DISTINCT service FROM logs").fetchall()
    symptoms = con.sql("SELECT count(*) FROM root_causes WHERE is_upstream_symptom").fetchall()[0][0]
    con.close()
    assert services == [("edge",)]
    assert symptoms > 0


@pytest.mark.parametrize("sample", ["order-service/order-service.log", "traces/otelcol-traces.json"])
def test_parsing_chunks_in_parallel_gives_the_same_records_in_the_same_order(sample: str) -> None:
    import pyarrow as pa

    from parsers.base import ParseContext
    from pipeline.discover import detect, resolve_format
    from pipeline.ingest import parse_chunks

    path = SAMPLE / sample
    parser = resolve_format(detect(path).format or "")
    runs = []
    for workers in (1, 3):
        results = list(
            parse_chunks(path, parser, lambda first: ParseContext(sample, first), workers, 64 * 1024)
        )
        assert len(results) > 5  # really several chunks
        runs.append((sum(n for n, _ in results), pa.concat_tables([r.records for _, r in results])))
    (lines_1, serial), (lines_3, parallel) = runs
    assert lines_1 == lines_3 == sum(1 for _ in path.open())
    assert serial.equals(parallel)


def test_blocks_are_even_so_the_last_round_keeps_every_worker_busy(tmp_path: Path) -> None:
    from pipeline import ingest

    path = tmp_path / "app.log"
    mb = 1 << 20
    with path.open("wb") as f:
        f.truncate(19 * mb)  # 19 MB in 4 MB blocks would be 5 chunks, the last one parsed alone
    block = ingest._even_blocks(path, 4 * mb, workers=2)
    assert block <= 4 * mb and -(-19 * mb // block) == 6  # 6 blocks of ~3.2 MB: three rounds of two
    assert ingest._even_blocks(path, 4 * mb, workers=1) == 4 * mb
    gz = tmp_path / "app.log.gz"
    gz.write_bytes(b"")
    assert ingest._even_blocks(gz, 4 * mb, workers=2) == 4 * mb  # size unknown before reading
