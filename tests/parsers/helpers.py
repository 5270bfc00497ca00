"""What the log-parser tests share: run a parser on inline lines and check the contract on the way."""

from __future__ import annotations

from typing import Any

import polars as pl

from parsers import schema
from parsers.base import ParseContext, Parser, ParseResult


def run_parser(
    parser: Parser, lines: list[str], source_file: str, **kw: Any
) -> tuple[pl.DataFrame, pl.DataFrame, ParseResult]:
    """Parse ``lines``, assert line accounting and canonical schemas; return records, rejects, result."""
    ctx = ParseContext(kw.pop("source_file", source_file), **kw)
    result = parser.parse(pl.Series(lines, dtype=pl.String), ctx)
    assert result.record_lines + result.reject_lines + result.skipped_lines == len(lines)
    assert result.records.schema == schema.SCHEMAS[parser.kind]
    assert result.rejects.schema == schema.REJECTS
    return frame(result.records), frame(result.rejects), result


def frame(table: object) -> pl.DataFrame:
    df = pl.from_arrow(table)  # type: ignore[arg-type]
    assert isinstance(df, pl.DataFrame)
    return df


def attrs(row: dict[str, Any]) -> dict[str, str]:
    """The attribute map of one record as a dict."""
    bag = row["attributes"]
    return dict(bag) if isinstance(bag, dict) else {e["key"]: e["value"] for e in bag}
