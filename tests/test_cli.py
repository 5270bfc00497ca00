"""CLI behaviour a user sees: help with examples, one-line errors with the fix, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main
from tests.conftest import invoke

COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"tracejoin {command}" in result.output


def test_unknown_report_suggests_the_closest_name(tmp_path: Path) -> None:
    result = invoke("report", "root-cause", "--out", tmp_path)
    assert result.exit_code == 1
    assert result.stderr == "Error: unknown report 'root-cause' — did you mean 'root-causes'?\n"


def test_report_without_output_says_to_run_first(tmp_path: Path) -> None:
    result = invoke("report", "root-causes", "--out", tmp_path / "nowhere")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no tracejoin output in {tmp_path / 'nowhere'} (catalog.duckdb is missing) — "
        "run 'tracejoin run <inputs> --out DIR' first, or pass the right --out\n"
    )


def test_missing_input_is_one_line(tmp_path: Path) -> None:
    result = invoke("run", tmp_path / "missing.log", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: input not found: {tmp_path / 'missing.log'} — give an existing file, directory or glob\n"
    )


def test_unknown_input_format_suggests_the_closest(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("x\n")
    result = invoke("ingest", log, "--format", "mysql-slowlog", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr == "Error: unknown format 'mysql-slowlog' — did you mean 'mysql-slow'?\n"


def test_undetectable_named_file_asks_for_format(tmp_path: Path) -> None:
    log = tmp_path / "notes.txt"
    log.write_text("just some prose\nnothing like a log\n")
    result = invoke("ingest", log, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "cannot detect its format (no parser recognises it) — name it with --format" in result.stderr


def test_correlate_before_ingest(tmp_path: Path) -> None:
    result = invoke("correlate", "--out", tmp_path)
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: nothing staged in {tmp_path} — run 'tracejoin ingest <inputs> --out DIR' first\n"
    )


def test_bad_investigate_time_and_window(sample_out: Path) -> None:
    bad_time = invoke("investigate", "--at", "yesterday-ish", "--out", sample_out)
    assert bad_time.exit_code == 1
    assert bad_time.stderr == (
        "Error: cannot read the time 'yesterday-ish' — write it like '2026-11-17 14:32' or ISO 8601\n"
    )
    bad_window = invoke(
        "investigate", "--at", "2026-11-17 14:32", "--window", "5 minutes", "--out", sample_out
    )
    assert bad_window.stderr == "Error: cannot read the duration '5 minutes' — write it like 30s, 5m or 1h\n"


def test_unknown_service_in_investigate(sample_out: Path) -> None:
    result = invoke(
        "investigate", "--at", "2026-11-17 14:32", "--service", "order-servce", "--out", sample_out
    )
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: no service named 'order-servce' in the logs — did you mean 'order-service'?\n"
    )


def test_trace_of_unknown_id(sample_out: Path) -> None:
    result = invoke("trace", "ffffffffffffffffffffffffffffffff", "--out", sample_out)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: trace ffffffffffffffffffffffffffffffff has no spans in")


def test_formats_lists_every_parser_with_an_example() -> None:
    from parsers.registry import REGISTRY

    result = invoke("formats")
    assert result.exit_code == 0
    for name, parser in REGISTRY.items():
        assert f"{name} " in result.output
        assert parser.example in result.output


def test_sql_runs_one_read_only_query_over_the_catalog(sample_out: Path) -> None:
    result = invoke(
        "sql",
        "SELECT root_service, count(*) AS n FROM root_causes WHERE is_upstream_symptom "
        "AND reason = 'error_origin' GROUP BY ALL ORDER BY n DESC LIMIT 1",
        "--out",
        sample_out,
        "--format",
        "csv",
    )
    assert result.exit_code == 0, result.stderr
    assert result.output.splitlines()[:2] == ["root_service,n", "inventory-service,10"]


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("COPY logs TO 'logs.csv'", "only read-only queries are allowed here, not COPY"),
        ("CREATE TABLE x AS SELECT 1", "only read-only queries are allowed here, not CREATE"),
        ("SELECT 1; SELECT 2", "give exactly one statement, not 2"),
        ("SELEC 1", "the SQL does not parse"),
        ("SELECT nope FROM logs", "the query failed: Binder Error"),
    ],
)
def test_sql_refuses_writes_and_names_the_problem(sample_out: Path, statement: str, problem: str) -> None:
    result = invoke("sql", statement, "--out", sample_out)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {problem}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (Path.cwd() / "logs.csv").exists()
