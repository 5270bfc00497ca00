"""User-defined regex formats from the config: a SkyWalking-style log parsed with no code change."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipeline import config
from pipeline.errors import ConfigError
from tests.conftest import invoke

SKYWALKING = r"""
[[format]]
name = "skywalking"
pattern = '^(?P<ts>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+) \[SW_CTX:\[(?P<service>[^,]*),(?P<instance>[^,]*),(?P<trace_id>[^,]*),(?P<segment>[^,]*),(?P<sw_span>[^\]]*)\]\] (?P<level>[A-Z]+) +(?P<logger>[^ ]+) - (?P<message>.*)$'
timestamp_format = "%Y-%m-%d %H:%M:%S%.f"
record_start = '^[0-9]{4}-[0-9]{2}-[0-9]{2} '

[[source]]
path = "logs/*.log"
format = "skywalking"
timezone = "Asia/Shanghai"
"""

LOG = """\
2026-11-17 22:32:05.245 [SW_CTX:[order-service,order-7f9c-1@10.0.3.2,4bf92f3577b34da6a3ce929d0e0e4736,8d1c3f7a.42.17635,1]] ERROR c.e.order.OrderController - upstream service error: inventory returned 500
java.lang.IllegalStateException: reservation failed
\tat com.example.order.client.InventoryClient.reserve(InventoryClient.java:58)
2026-11-17 22:32:06.001 [SW_CTX:[order-service,order-7f9c-1@10.0.3.2,N/A,N/A,-1]] INFO  c.e.order.Scheduler - cache refreshed
this line matches nothing
2026-11-17 22:32:07.000 malformed record without the context block
"""


def test_a_skywalking_log_parses_with_no_code_change(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "order.log").write_text(LOG)
    (tmp_path / "tracejoin.toml").write_text(SKYWALKING)
    result = invoke("run", "--config", tmp_path / "tracejoin.toml", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    con = duckdb.connect(str(tmp_path / "out" / "catalog.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    rows = con.sql(
        "SELECT source_line, CAST(ts AS VARCHAR), service, level, logger, trace_id, message, attributes['sw_span'] "
        "FROM logs ORDER BY source_line"
    ).fetchall()
    rejects = con.sql("SELECT source_line, reason FROM rejects ORDER BY source_line").fetchall()
    con.close()
    first, second = rows
    assert first[:6] == (
        1,
        "2026-11-17 14:32:05.245+00",
        "order-service",
        "ERROR",
        "c.e.order.OrderController",
        "4bf92f3577b34da6a3ce929d0e0e4736",
    )
    assert first[6].splitlines() == [
        "upstream service error: inventory returned 500",
        "java.lang.IllegalStateException: reservation failed",
        "\tat com.example.order.client.InventoryClient.reserve(InventoryClient.java:58)",
    ]
    assert second[6] == "cache refreshed\nthis line matches nothing"  # not a record start: a continuation
    assert second[0] == 4 and second[3] == "INFO" and second[5] is None  # 'N/A' means no trace
    assert second[7] == "-1"
    assert rejects == [(6, "line does not match the 'skywalking' pattern")]


def test_bad_user_format_regex_is_one_line_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "tj.toml"
    path.write_text("[[format]]\nname = 'x'\npattern = '^(?P<ts>[0-9'\n")
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert err.value.problem.startswith(f"[[format]] #1 of {path} pattern is not a valid regex")


def test_user_format_cannot_shadow_a_builtin(tmp_path: Path) -> None:
    path = tmp_path / "tj.toml"
    path.write_text("[[format]]\nname = 'nginx'\npattern = '^(?P<message>.*)$'\n")
    with pytest.raises(ConfigError, match="'nginx' is a built-in format"):
        config.load(path)


def test_user_format_needs_a_known_group(tmp_path: Path) -> None:
    path = tmp_path / "tj.toml"
    path.write_text("[[format]]\nname = 'x'\npattern = '^(?P<foo>.*)$'\n")
    with pytest.raises(ConfigError, match="no named group tracejoin knows"):
        config.load(path)


def test_formats_lists_user_defined_formats_from_the_config(tmp_path: Path) -> None:
    (tmp_path / "tracejoin.toml").write_text(SKYWALKING)
    result = invoke("formats", "--config", tmp_path / "tracejoin.toml")
    assert result.exit_code == 0
    assert re.search(r"^skywalking +logs +user-defined regex format \(config file\)$", result.output, re.M)


PG_PIPES = """\
2026-11-17 14:32:05.123 UTC|orders|shop|4711|checkout-api|LOG:  duration: 190.512 ms  statement: UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'sku-789'
2026-11-17 14:32:06.000 UTC|||4712||LOG:  checkpoint starting: time
"""


def test_a_configured_log_line_prefix_reads_an_unusual_postgresql_prefix(tmp_path: Path) -> None:
    (tmp_path / "pg.log").write_text(PG_PIPES)
    (tmp_path / "tj.toml").write_text(
        '[[source]]\npath = "pg.log"\nformat = "postgresql"\nlog_line_prefix = "%m|%u|%d|%p|%a|"\n'
    )
    result = invoke("run", "--config", tmp_path / "tj.toml", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    con = duckdb.connect(str(tmp_path / "out" / "catalog.duckdb"), read_only=True)
    rows = con.sql(
        "SELECT db_user, db, duration_ms, attributes['application_name'] FROM slow_queries"
    ).fetchall()
    con.close()
    assert rows == [("orders", "shop", 190.512, "checkout-api")]


def test_a_bad_log_line_prefix_is_one_line_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "tj.toml"
    path.write_text('[[source]]\npath = "pg.log"\nlog_line_prefix = "%m [%p] %Z "\n')
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert "unknown log_line_prefix escape %Z" in err.value.problem
    assert err.value.fix.startswith("copy log_line_prefix from the server's postgresql.conf")
