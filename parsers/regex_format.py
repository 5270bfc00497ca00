"""User-defined log formats: a regex with named groups, declared in the config file, no code needed.

Known group names become columns (``ts``, ``level``, ``trace_id``, ``span_id``, ``service``, ``host``,
``logger``, ``message``); every other named group goes into ``attributes``. A ``record_start`` regex makes
records multi-line (continuation lines are appended to the message); without it every line is a record.
A SkyWalking-style log (``[SW_CTX:[service,instance,traceId,segmentId,spanId]]``) needs only a
``[[format]]`` entry in the config (see ``pipeline/config.py`` and ``tests/test_user_formats.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from parsers import base, ids, levels, timeparse
from parsers.base import Kind, ParseContext, ParseResult

COLUMNS = ("ts", "level", "trace_id", "span_id", "service", "host", "logger", "message")


@dataclass
class RegexFormat:
    """A parser built from a named-group regex (satisfies :class:`parsers.base.Parser`)."""

    name: str
    pattern: str
    timestamp_format: str | None = None
    record_start_pattern: str | None = None
    description: str = "user-defined regex format (config file)"
    example: str = ""
    kind: Kind = "logs"

    @property
    def groups(self) -> list[str]:
        return list(re.compile(self.pattern).groupindex)

    def sniff(self, head: list[str]) -> float:
        lines = [h for h in head if h.strip()]
        if not lines:
            return 0.0
        starts = pl.Series(lines, dtype=pl.String)
        if self.record_start_pattern:
            starts = starts.filter(starts.str.contains(self.record_start_pattern))
        if starts.is_empty():
            return 0.0
        share = starts.str.contains(self.pattern).sum() / len(starts)
        return share * (len(starts) / len(lines)) ** 0.5

    def record_start(self, lines: pl.Series) -> pl.Series | None:
        if self.record_start_pattern is None:
            return None
        return lines.str.contains(self.record_start_pattern)

    def parse(self, lines: pl.Series, ctx: ParseContext) -> ParseResult:
        df = (
            pl.DataFrame({"line": lines})
            .with_row_index("line_no")
            .with_columns(pl.col("line_no").cast(pl.Int64))
        )
        blank = df["line"].str.strip_chars() == ""
        pattern = self.record_start_pattern
        start = df["line"].str.contains(pattern) if pattern else ~blank
        df = df.with_columns(start=start, blank=blank, rec=start.cum_sum())
        orphans = df.filter((pl.col("rec") == 0) & ~pl.col("blank"))
        grouped = (
            df.filter(pl.col("rec") > 0)
            .group_by("rec", maintain_order=True)
            .agg(
                pl.col("line_no").first(),
                pl.col("line").first().alias("first"),
                pl.col("line").slice(1).str.join("\n").alias("rest"),
                pl.len().alias("n"),
            )
        )
        parsed = grouped.with_columns(g=pl.col("first").str.extract_groups(self.pattern)).unnest("g")
        matched = pl.col(self.groups[0]).is_not_null() if self.groups else pl.lit(True)
        good = parsed.filter(matched)
        bad = parsed.filter(~matched)
        good, assumed = self._columns(good, ctx)
        no_ts = good["ts"].is_null() if "ts" in self.groups else pl.Series([False] * good.height)
        bad_ts = good.filter(no_ts)
        good = good.filter(~no_ts)
        attributes = base.kv_map(good, [(g, pl.col(g)) for g in self.groups if g not in COLUMNS])
        rejects = pl.concat(
            [
                orphans.select(
                    "line_no",
                    pl.lit("continuation line without a record").alias("reason"),
                    pl.col("line").alias("raw"),
                ),
                bad.select(
                    "line_no",
                    pl.lit(f"line does not match the {self.name!r} pattern").alias("reason"),
                    pl.col("first").alias("raw"),
                ),
                bad_ts.select(
                    "line_no", pl.lit("unreadable timestamp").alias("reason"), pl.col("first").alias("raw")
                ),
            ]
        ).sort("line_no")
        reject_lines = orphans.height + int(bad["n"].sum() or 0) + int(bad_ts["n"].sum() or 0)
        record_lines = int(good["n"].sum() or 0)
        return ParseResult(
            records=base.finish_logs(good, attributes, ctx, self.name),
            rejects=base.rejects_frame(rejects, ctx, self.name),
            record_lines=record_lines,
            reject_lines=reject_lines,
            skipped_lines=len(lines) - record_lines - reject_lines,
            tz_assumed=assumed,
        )

    def _columns(self, df: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, int]:
        groups = set(self.groups)
        text = pl.col("message") if "message" in groups else pl.col("first")
        message = pl.when(pl.col("rest") != "").then(text + "\n" + pl.col("rest")).otherwise(text)
        df = df.with_columns(
            message.alias("message"),
            *(ids.trace_id(pl.col("trace_id")).alias("trace_id") for _ in [0] if "trace_id" in groups),
            *(ids.span_id(pl.col("span_id")).alias("span_id") for _ in [0] if "span_id" in groups),
        )
        if "level" in groups:
            df = df.with_columns(base.map_distinct(df["level"], levels.level_from_text))
        if "ts" not in groups:
            return df.with_columns(pl.lit(None, dtype=timeparse.UTC_US).alias("ts")), 0
        formats = (self.timestamp_format,) if self.timestamp_format else (timeparse.ISO_ZONED,)
        return timeparse.parse_timestamps(df.rename({"ts": "ts_raw"}), "ts_raw", "ts", ctx.timezone, formats)
