"""The benchmark's derived inputs (``bench/derive.py``) say what their source says, in their own format.

``bench/parsers.py`` measures the container wrappers, Envoy, OTLP logs, PostgreSQL csvlog/jsonlog and a
user-defined regex format on inputs derived from the generated day's files of another format. Parsed by
their own parsers they must give the records of the source (the same trace IDs, messages, statements), with
no reject the source does not have: so the bench times real parsing, not rejects, and the wrappers agree with
the parsers they unwrap to.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from bench import derive
from parsers.base import ParseContext, Parser
from pipeline.discover import resolve_format
from pipeline.generate.engine import ScenarioParams, generate_scenario

SOURCES = {
    "spring": "order-service/*.log",
    "logfmt": "inventory-service/*.log",
    "nginx": "api-gateway/access.log",
    "json": "user-service/*.jsonl",
    "postgresql": "postgresql/*.log",
}
# what must agree, per derived format, record by record
SAME = {
    "docker-json": ["trace_id", "span_id", "level", "message"],
    "cri": ["trace_id", "span_id", "level", "message"],
    "skywalking": ["trace_id", "level", "logger", "message"],
    "envoy": ["trace_id", "level"],
    "otlp-logs": ["trace_id", "span_id", "level", "message"],
    "postgresql-csv": ["end_ts", "duration_ms", "db", "db_user", "statement", "fingerprint", "trace_id"],
    "postgresql-json": ["end_ts", "duration_ms", "db", "db_user", "statement", "fingerprint", "trace_id"],
}

LINE_BY_LINE = {"docker-json", "cri", "skywalking"}


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "day"
    generate_scenario(out, ScenarioParams(seed=4, traces=400))
    return out


def _parse(parser: Parser, lines: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    result = parser.parse(lines, ParseContext("f.log"))
    return pl.DataFrame(pl.from_arrow(result.records)), pl.DataFrame(pl.from_arrow(result.rejects))


@pytest.mark.parametrize("fmt", sorted(derive.DERIVED))
def test_a_derived_input_parses_to_its_sources_records(day: Path, fmt: str, tmp_path: Path) -> None:
    source = derive.DERIVED[fmt][0]
    (path,) = sorted(day.glob(SOURCES[source]))[:1]
    block = path.read_bytes()
    lines = derive.lines_of(block)
    want, want_rejects = _parse(resolve_format(source), lines)
    got, got_rejects = _parse(derive.parser_of(fmt, tmp_path), derive.lines_of(derive.derive(fmt, block)))
    assert want.height > 20
    assert got.select(SAME[fmt]).equals(want.select(SAME[fmt])), fmt
    # a line rejected in the source is still there when the derived lines wrap or rewrite the source's lines;
    # the others are made from its records
    assert got_rejects.height == (want_rejects.height if fmt in LINE_BY_LINE else 0)
