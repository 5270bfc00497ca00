"""A source's envoy_format in the config: handed to the Envoy parser, checked when the config is read."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline import config
from pipeline.discover import discover
from pipeline.errors import ConfigError
from tests.conftest import invoke

FORMAT = (
    '%START_TIME% %REQ(X-REQUEST-ID)% %REQ(TRACEPARENT)% "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%" '
    "%RESPONSE_CODE%"
)
LOG = (
    "2026-11-17T14:32:05.301Z 9b7e0c1d 00-4bf92f3577b34da6a3ce929d0e0e4736-7a1c2e9d04b3f518-01 "
    '"POST /inventory/reserve HTTP/1.1" 500\n'
)


def _config(tmp_path: Path, envoy_format: str) -> Path:
    (tmp_path / "gateway.log").write_text(LOG)
    path = tmp_path / "tj.toml"
    path.write_text(
        f'[[source]]\npath = "gateway.log"\nservice = "api-gateway"\nenvoy_format = \'{envoy_format}\'\n'
    )
    return path


def test_envoy_format_implies_the_format_and_reaches_the_parser(tmp_path: Path) -> None:
    path = _config(tmp_path, FORMAT)
    (source,) = discover([], config.load(path))
    assert (source.format, dict(source.options)) == ("envoy", {"envoy_format": FORMAT})
    result = invoke("run", "--config", path, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    con = duckdb.connect(str(tmp_path / "out" / "catalog.duckdb"), read_only=True)
    rows = con.sql("SELECT service, level, trace_id, span_id, message FROM logs").fetchall()
    con.close()
    assert rows == [
        (
            "api-gateway",
            "ERROR",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "7a1c2e9d04b3f518",
            "POST /inventory/reserve HTTP/1.1 500",
        )
    ]


def test_a_bad_operator_in_envoy_format_is_one_line_naming_it(tmp_path: Path) -> None:
    path = _config(tmp_path, "%START_TIME% %REQ(X-REQUEST-ID)% %RESPONSE_COOD%")
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert err.value.one_line() == (
        f"envoy_format in [[source]] #1 of {path}: unknown command operator '%RESPONSE_COOD%' — copy the "
        "access log format from the Envoy (or Istio) config; operators as in Envoy's docs"
    )
    assert err.value.key == "envoy_format"
