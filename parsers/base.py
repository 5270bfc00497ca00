"""The parser contract: what every module in ``parsers/`` provides, and what it returns.

A parser is pure: raw lines in (a polars String Series plus a :class:`ParseContext`), Arrow tables out.
It knows nothing about files, the CLI or DuckDB. The pipeline cuts the input into chunks of whole records
using :meth:`Parser.record_start`, so a multi-line record never straddles two chunks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import schema

Kind = Literal["logs", "slow_queries", "spans"]


def _check_polars() -> None:
    """The parsers cut lines at the offsets :meth:`str.find` gives and count them as :meth:`str.slice` does:
    in characters, which polars does from 2.2 (before, ``str.find`` counted bytes)."""
    if pl.Series(["é="]).str.find("=", literal=True).item() != 1:
        raise ImportError(
            f"tracejoin needs polars >= 2.2 (this is {pl.__version__}, whose str.find counts bytes): "
            "pip install 'polars>=2.2,<3'"
        )


_check_polars()


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know about where its lines come from."""

    source_file: str  # as recorded in the output (relative to the input root when possible)
    first_line: int = 1  # 1-based line number of lines[0] in the file
    service: str | None = None  # fallback when the records do not name their service
    timezone: str = "UTC"  # for zone-less timestamps
    year: int | None = None  # for year-less timestamps (syslog)
    # format options from the source's config entry, e.g. PostgreSQL's log_line_prefix
    options: Mapping[str, str] = field(default_factory=dict)


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
    # State that crosses chunk boundaries (:mod:`parsers.carry`): key -> step(result, before) that gives this
    # chunk's records still open at its start the value the earlier chunks left (``before``, None at the
    # start of the file) and returns the value after this chunk. The pipeline runs the steps in file order.
    carry: dict[str, Callable[[ParseResult, object], object]] = field(default_factory=dict)


class Parser(Protocol):
    """What every parser module exposes (as module-level names, registered in ``parsers.REGISTRY``)."""

    name: str
    kind: Kind
    description: str
    example: str
    # Optional: ``block_bytes``, the size of the blocks the file is read in when not the pipeline's default
    # (``pipeline.reader.BLOCK_BYTES``): span exports ask for larger ones, their per-chunk work being larger.

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
    # only the contract's columns go to Arrow: converting the raw line and intermediate columns costs more
    # than the whole conform
    return schema.conform(df.select(c for c in target.names if c in df.columns), target)


def map_distinct(values: pl.Series, fn: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """``fn`` evaluated once per distinct value of ``values`` (levels: a handful of words in 200k rows)."""
    distinct = values.drop_nulls().unique()
    mapped = pl.DataFrame({"v": distinct}).select(fn(pl.col("v"))).to_series()
    return values.replace_strict(distinct, mapped, default=None, return_dtype=mapped.dtype).alias(values.name)


_REPEAT_SAMPLE = 8192  # rows that tell whether a column's values repeat


def by_value(df: pl.DataFrame, key: str, fields: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.DataFrame:
    """``fields`` (columns computed from column ``key`` alone) added to ``df``.

    Where the values repeat (a sample of the chunk shows it: an access log's times within a second, its
    clients and request lines; a Spring log's level and MDC block within a request, its threads and loggers)
    ``fields`` is evaluated once per distinct value and joined back, else on every row.
    """
    values = df.get_column(key)
    if values.head(_REPEAT_SAMPLE).n_unique() * 2 > min(len(values), _REPEAT_SAMPLE):
        return fields(df)
    lookup = fields(pl.DataFrame({key: values.unique()}))
    return df.join(lookup, on=key, how="left", maintain_order="left", nulls_equal=True)


def kv_map(df: pl.DataFrame, pairs: Sequence[tuple[str, pl.Expr]]) -> pa.MapArray:
    """Attribute bags as the canonical ``map<string, string>`` (one per row of ``df``) from (key, value)
    pairs; null values are left out.

    The entries are gathered row by row from the value columns laid end to end and the offsets come from the
    per-row counts: ``pl.concat_list`` of structs costs about ten times more (~1 s for 10 keys x 300k rows).
    Built in its final type, so :func:`finish_logs` has nothing left to convert.
    """
    offsets, which, values = _kv_entries(df, pairs)
    keys = pa.array([k for k, _ in pairs], pa.string()).take(pa.array(which, pa.int32()))
    return pa.MapArray.from_arrays(pa.array(offsets), keys, values)


def _kv_entries(
    df: pl.DataFrame, pairs: Sequence[tuple[str, pl.Expr]]
) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """List offsets per row, the pair index of each entry, and the entries' values (Arrow strings)."""
    n, k = df.height, len(pairs)
    if k == 0:
        return np.zeros(n + 1, dtype=np.int32), np.zeros(0, dtype=np.int32), pa.array([], pa.string())
    frame = df.select([e.cast(pl.String).alias(f"v{i}") for i, (_, e) in enumerate(pairs)])
    columns = frame.get_columns()
    present = frame.select(pl.all().is_not_null()).to_numpy()  # one query for all: (row, pair)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(present.sum(axis=1), out=offsets[1:])
    row, which = np.divmod(np.flatnonzero(present), k)  # row by row
    laid = pl.concat(columns, rechunk=True)
    values = laid.gather(which * n + row).to_arrow(compat_level=pl.CompatLevel.newest()).cast(pa.string())
    return offsets, which.astype(np.int32), values


def finish_logs(df: pl.DataFrame, attributes: pa.Array, ctx: ParseContext, fmt: str) -> pa.Table:
    """:func:`finish` for LOGS with the attribute bag handed over in Arrow (no polars round trip)."""
    table = finish(df.drop("attributes", strict=False), ctx, fmt, schema.LOGS)
    field = schema.LOGS.field("attributes")
    if attributes.type == field.type:  # built as the map already (kv_map)
        bag = pa.chunked_array([attributes])
    else:
        bag = schema.conform(pa.table({"attributes": attributes}), pa.schema([field])).column(0)
    return table.set_column(table.schema.get_field_index("attributes"), field, bag)


def single_line_logs(
    recs: pl.DataFrame,
    bad: pl.DataFrame,
    pairs: Sequence[tuple[str, pl.Expr]],
    ctx: ParseContext,
    fmt: str,
    skipped: int,
    tz_assumed: int,
) -> ParseResult:
    """The result of a one-line-per-record log format.

    ``recs`` has ``line_no``, ``line``, ``ts`` and the columns ``pairs`` read; rows whose ``ts`` is null join
    ``bad`` (``line_no``, ``reason``, ``raw``) as rejects."""
    bad_ts = recs.filter(pl.col("ts").is_null()).select(
        "line_no", pl.lit("unreadable timestamp").alias("reason"), pl.col("line").alias("raw")
    )
    good = recs.filter(pl.col("ts").is_not_null())
    rejects = pl.concat([bad, bad_ts]).sort("line_no")
    return ParseResult(
        records=finish_logs(good, kv_map(good, pairs), ctx, fmt),
        rejects=rejects_frame(rejects, ctx, fmt),
        record_lines=good.height,
        reject_lines=rejects.height,
        skipped_lines=skipped,
        tz_assumed=tz_assumed,
    )


def share_matching(head: list[str], pattern: re.Pattern[str]) -> float:
    """Sniff helper: the share of non-blank head lines that ``pattern`` matches at their start."""
    lines = [h for h in head if h.strip()]
    return sum(1 for h in lines if pattern.match(h)) / len(lines) if lines else 0.0


def share_of_json_objects(head: list[str], accept: Callable[[dict[str, object]], bool]) -> float:
    """Sniff helper: the share of non-blank head lines that are JSON objects ``accept`` takes."""
    import json

    lines = [h.strip() for h in head if h.strip()]
    hits = 0
    for text in lines:
        if not (text.startswith("{") and text.endswith("}")):
            continue
        try:
            obj = json.loads(text)
        except ValueError:
            continue
        hits += isinstance(obj, dict) and accept(obj)
    return hits / len(lines) if lines else 0.0


def matching_lines(lines: pl.Series, pattern: str, reason: str) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Split a chunk of one-record-per-line text: the non-blank lines ``pattern`` matches (``line_no``,
    ``line``), rejects for the others (``line_no``, ``reason``, ``raw``) and the number of blank lines."""
    line = pl.col("line")
    df = pl.DataFrame({"line": lines.cast(pl.String)}).with_row_index("line_no")
    df = df.filter(line.is_not_null() & line.str.contains("[^ \t\r]"))
    skipped = len(lines) - df.height
    df = df.with_columns(matched=line.str.contains(pattern))
    bad = df.filter(~pl.col("matched")).select("line_no", pl.lit(reason).alias("reason"), line.alias("raw"))
    return df.filter(pl.col("matched")).drop("matched"), bad, skipped


def dash(col: pl.Expr) -> pl.Expr:
    """An access-log field: ``-`` (or nothing) means no value."""
    return pl.when((col != "-") & (col != "")).then(col)


def url_attributes(target: pl.Expr, query_at: pl.Expr) -> list[tuple[str, pl.Expr]]:
    """``url.path`` and ``url.query`` of a request target; ``query_at``: where its ``?`` is, or null."""
    return [
        ("url.path", pl.when(query_at.is_null()).then(target).otherwise(target.str.head(query_at))),
        ("url.query", target.str.slice(query_at + 1)),
    ]
