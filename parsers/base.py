"""The parser contract: what every module in ``parsers/`` provides, and what it returns.

A parser is pure: raw lines in (a polars String Series plus a :class:`ParseContext`), Arrow tables out.
It knows nothing about files, the CLI or DuckDB. The pipeline cuts the input into chunks of whole records
using :meth:`Parser.record_start`, so a multi-line record never straddles two chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import polars as pl
import pyarrow as pa

from parsers import schema

Kind = Literal["logs", "slow_queries", "spans"]


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know about where its lines come from."""

    source_file: str  # as recorded in the output (relative to the input root when possible)
    first_line: int = 1  # 1-based line number of lines[0] in the file
    service: str | None = None  # fallback when the records do not name their service
    timezone: str = "UTC"  # for zone-less timestamps
    year: int | None = None  # for year-less timestamps (syslog)


@dataclass
class ParseResult:
    """Records and rejects of one chunk, with the line accounting that must reconcile.

    ``record_lines + reject_lines + skipped_lines`` equals the number of input lines.
    """

    records: pa.Table
    rejects: pa.Table
    record_lines: int
    reject_lines: int
    skipped_lines: int
    tz_assumed: int = 0
    notes: dict[str, int] = field(default_factory=dict)


class Parser(Protocol):
    """What every parser module exposes (as module-level names, registered in ``parsers.REGISTRY``)."""

    name: str
    kind: Kind
    description: str
    example: str

    def sniff(self, head: list[str]) -> float:
        """Confidence 0..1 that these first lines of a file are in this format."""
        ...

    def record_start(self, lines: pl.Series) -> pl.Series | None:
        """Boolean mask of lines that start a record, or None when every line is one record."""
        ...

    def parse(self, lines: pl.Series, ctx: ParseContext) -> ParseResult:
        """Parse whole records. ``lines`` has no trailing newlines."""
        ...


def rejects_frame(df: pl.DataFrame, ctx: ParseContext, fmt: str) -> pa.Table:
    """Rejects table from a frame with columns ``line_no`` (0-based in chunk), ``reason``, ``raw``."""
    out = df.select(
        pl.lit(ctx.source_file).alias("source_file"),
        (pl.col("line_no") + ctx.first_line).cast(pl.Int64).alias("source_line"),
        pl.lit(fmt).alias("format"),
        pl.col("reason").cast(pl.String),
        pl.col("raw").cast(pl.String),
    )
    return schema.conform(out, schema.REJECTS)


def finish(df: pl.DataFrame, ctx: ParseContext, fmt: str, target: pa.Schema) -> pa.Table:
    """Stamp provenance columns and conform to the canonical schema.

    ``df`` must have ``line_no`` (0-based index of the record's first line within the chunk).
    """
    service = pl.col("service") if "service" in df.columns else pl.lit(None, dtype=pl.String)
    df = df.with_columns(
        pl.coalesce(service.cast(pl.String), pl.lit(ctx.service, dtype=pl.String)).alias("service"),
        pl.lit(fmt).alias("format"),
        pl.lit(ctx.source_file).alias("source_file"),
        (pl.col("line_no") + ctx.first_line).cast(pl.Int64).alias("source_line"),
    )
    return schema.conform(df, target)


def kv_list(pairs: dict[str, pl.Expr]) -> pl.Expr:
    """A ``list[struct{key, value}]`` attribute bag from named string expressions; null values are dropped."""
    items = [pl.struct(pl.lit(k).alias("key"), v.cast(pl.String).alias("value")) for k, v in pairs.items()]
    return pl.concat_list(items).list.eval(
        pl.element().filter(pl.element().struct.field("value").is_not_null())
    )
