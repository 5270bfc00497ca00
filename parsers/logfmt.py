"""logfmt: ``key=value`` pairs, values optionally double-quoted with ``\\"`` escapes (Go kit, logrus, slog).

Lines are cut into a long frame of pairs (line, key, value): at their quotes and spaces (plain string
splits) when every quote opens right after ``=``, with a pair regex (``str.extract_all``) for the rest
(escaped quotes, tabs, stray quotes). Known keys become columns; every other pair, and a bare word (a key
without ``=``, kept with an empty value), goes into ``attributes``, in line order.
When a column's key appears under two aliases on one line (``ts=`` and ``time=``), the first alias in
:data:`ALIASES` wins and the other stays an attribute, so nothing is dropped.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import base, ids
from parsers.base import Kind, ParseContext, ParseResult, finish_logs, keep_rows, map_distinct
from parsers.levels import level_from_text
from parsers.timeparse import EPOCH, ISO_ZONED, parse_timestamps

name = "logfmt"
kind: Kind = "logs"
description = 'logfmt key=value lines (Go kit, logrus, slog TextHandler), quoted values with \\" escapes'
example = (
    "ts=2026-11-17T14:32:05.238901Z level=error service=inventory-service host=inventory-5d8b-1 "
    "caller=reserve.go:88 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=7a1c2e9d04b3f518 "
    'msg="reserve failed" sku=sku-789 qty=1 err="Error 1213 (40001): Deadlock found when trying to get lock; '
    'try restarting transaction"'
)

# column -> its keys, highest priority first
ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "time", "timestamp"),
    "level": ("level", "lvl", "severity"),
    "message": ("msg", "message"),
    "trace_id": ("trace_id", "traceID", "traceId", "trace"),
    "span_id": ("span_id", "spanID", "spanId"),
    "service": ("service", "app", "service.name"),
    "host": ("host", "hostname"),
    "logger": ("logger", "component"),
}
_COLUMNS = tuple(ALIASES)
# RFC 3339 (Go's time.RFC3339Nano, slog), logrus' and zap's "2006-01-02 15:04:05", epoch numbers (zap's ts)
_TIME_FORMATS = (ISO_ZONED, "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", EPOCH)
_CODE = {key: col * 16 + prio for col, keys in enumerate(ALIASES.values()) for prio, key in enumerate(keys)}

# a pair, or a bare word (logfmt allows keys without a value); quoted values may hold \" and \\
_PAIR = r'[^ \t="]+(?:=(?:"(?:[^"\\]|\\.)*"?|[^ \t]*))?'
_SIMPLE = r'^(?:[^"\\\t]*="[^"\\\t]*"(?: |$))*[^"\\\t]*$'
# tokens separated by mandatory blanks, so a line that is not logfmt fails in linear time (a pattern where
# the blanks are optional backtracks exponentially on a long word)
_TOKEN = r'[^ \t="]+(?:=(?:"(?:[^"\\]|\\.)*"|[^ \t"]*))?'
_SNIFF_LINE = re.compile(rf"^[ \t]*{_TOKEN}(?:[ \t]+{_TOKEN})*[ \t]*$")
_SNIFF_FIRST = re.compile(r"[A-Za-z_@][A-Za-z0-9_.@/-]*=")
_SNIFF_PAIR = re.compile(r'(?:^|[ \t])[A-Za-z_@][A-Za-z0-9_.@/-]*=(?:"|[^ \t"]*)')


def _unquote(value: pl.Expr) -> pl.Expr:
    """Strip the quotes of a quoted value and undo ``\\"``, ``\\\\``, ``\\n``, ``\\t`` escapes."""
    quoted = value.str.starts_with('"')
    inner = value.str.strip_prefix('"').str.strip_suffix('"')
    # escaped backslashes first go to a placeholder, so "\\n" stays backslash + n
    unescaped = (
        inner.str.replace_all(r"\\", "\x00", literal=True)
        .str.replace_all(r"\"", '"', literal=True)
        .str.replace_all(r"\n", "\n", literal=True)
        .str.replace_all(r"\t", "\t", literal=True)
        .str.replace_all("\x00", "\\", literal=True)
    )
    return (
        pl.when(~quoted)
        .then(value)
        .when(inner.str.contains("\\", literal=True))
        .then(unescaped)
        .otherwise(inner)
    )


def _pairs_regex(lines: pl.Series, rows: pl.Series) -> pl.DataFrame:
    """(row, key, value) for every pair of ``lines`` with a regex (``\\"`` escapes, tabs, stray quotes)."""
    pairs = pl.DataFrame({"row": rows, "pair": lines.str.extract_all(_PAIR)})
    pair = pl.col("pair")
    eq = pair.str.find("=", literal=True)
    return (
        pairs.explode("pair")
        .drop_nulls("pair")
        .select(
            "row",
            pl.when(eq.is_null()).then(pair).otherwise(pair.str.head(eq)).alias("key"),
            _unquote(pair.str.slice(eq + 1)).alias("value"),
        )
    )


def _segments(lines: pl.Series) -> pl.DataFrame:
    """The lines cut at their quotes, one row per piece: ``row`` (index into ``lines``), ``text``, ``k`` (its
    index within the line: even outside quotes, odd inside) and ``last`` (the line's last ``k``)."""
    df = pl.DataFrame({"text": lines.str.split('"')}).with_row_index("row")
    n = pl.col("text").list.len().cast(pl.Int64)
    df = df.with_columns(start=n.cum_sum() - n, last=n - 1).explode("text")
    return df.with_columns(k=pl.int_range(pl.len(), dtype=pl.Int64) - pl.col("start")).drop("start")


def _simple_rows(lines: pl.Series, segs: pl.DataFrame) -> pl.Series:
    """Lines that :data:`_SIMPLE` matches, told from their quote pieces with literal tests (the regex over
    every line costs more): no backslash or tab, an even number of quotes, every quote opening right after
    ``=`` and closing before a blank or the end of the line."""
    text, k, last = pl.col("text"), pl.col("k"), pl.col("last")
    misplaced = (k % 2 == 0) & (
        ((k < last) & ~text.str.ends_with("="))
        | ((k > 0) & ~text.str.starts_with(" ") & ~((k == last) & (text == "")))
    )
    bad = segs.filter(misplaced | (last % 2 == 1))["row"]
    return (~lines.str.contains_any(["\\", "\t"]).fill_null(True)).scatter(bad, False)


def _pairs_split(segs: pl.DataFrame) -> pl.DataFrame:
    """(row, key, value) from the quote pieces of lines whose quotes all open right after ``=`` and hold no
    ``\\"``.

    The pieces outside quotes (even ``k``) are cut at spaces into ``key=value`` tokens; the last token of a
    piece followed by a quoted one (``msg=``) takes that quoted text as its value. No regex touches the
    values; ~2x ``extract_all``.
    """
    segs = segs.with_row_index("seg")
    text, eq = pl.col("text"), pl.col("eq")
    tokens = (
        segs.filter(pl.col("k") % 2 == 0)
        .select("row", "seg", text.str.split(" "), quoted_next=pl.col("k") < pl.col("last"))
        .explode("text")
        .filter(text != "")
        .with_columns(eq=text.str.find("=", literal=True))
        .select(
            "row",
            # a bare word is all key: head() counts characters, a length in bytes is never short
            text.str.head(eq.fill_null(text.str.len_bytes())).alias("key"),
            text.str.slice(eq + 1).alias("value"),
            (pl.col("quoted_next") & (pl.col("seg") != pl.col("seg").shift(-1)).fill_null(True)).alias(
                "takes_quoted"
            ),
            "seg",
        )
    )
    takes = tokens["takes_quoted"]
    if takes.any():
        idx = takes.arg_true()
        quoted = segs["text"].gather(tokens["seg"].gather(idx) + 1)  # no escapes on this path: taken as it is
        tokens = tokens.with_columns(tokens["value"].scatter(idx, quoted))
    return tokens.select("row", "key", "value")


def _pairs(lines: pl.Series) -> pl.DataFrame:
    """One row per pair, in line order: ``row`` (index into ``lines``), ``key``, ``value`` (null: bare word).

    Most lines go through the split path; lines it cannot read exactly go through the regex.
    """
    segs = _segments(lines)
    simple = _simple_rows(lines, segs)
    if simple.all():
        return _pairs_split(segs)
    fast = _pairs_split(segs.filter(simple.gather(segs["row"])))
    slow = simple.not_().arg_true()
    pairs = _pairs_regex(lines.gather(slow), slow)
    return pl.concat([fast, pairs]).sort("row", maintain_order=True)  # (merge_sorted costs 2x more)


def kv_from_long(row: np.ndarray, keys: pl.Series, values: pl.Series, n: int) -> pa.ListArray:
    """Attribute bags (Arrow ``list<struct<key, value>>``) of ``n`` rows from entries sorted by ``row``."""
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(row, minlength=n), out=offsets[1:])
    entries = pl.DataFrame({"key": keys, "value": values}).to_struct("entries").to_arrow()
    return pa.ListArray.from_arrays(pa.array(offsets), entries)


def _columns(pairs: pl.DataFrame, n: int) -> tuple[pl.DataFrame, pa.ListArray]:
    """Known keys -> one column each (first alias wins); every other pair -> the attribute bags."""
    code = (
        pairs.select(pl.col("key").replace_strict(_CODE, default=-1, return_dtype=pl.Int64))
        .to_series()
        .to_numpy()
    )
    row = pairs["row"].to_numpy().astype(np.int64)
    known = np.flatnonzero(code >= 0)
    slot = row[known] * 16 + code[known] // 16  # one slot per (row, column)
    if np.bincount(slot).max(initial=0) > 1:  # a column named twice on a line: the lowest priority wins
        known = known[np.lexsort((code[known] % 16, slot))]
        slot = row[known] * 16 + code[known] // 16
        known = known[np.r_[True, slot[1:] != slot[:-1]]]
    # where[r, c] = position in `pairs` of row r's value of column c (len(pairs): none)
    where = np.full((n, len(_COLUMNS)), pairs.height, dtype=np.int64)
    where[row[known], code[known] // 16] = known
    values = pl.concat([pairs["value"], pl.Series([None], dtype=pl.String)], rechunk=True)
    columns = [values.gather(where[:, c]).alias(name) for c, name in enumerate(_COLUMNS)]
    rest = np.ones(pairs.height, dtype=bool)
    rest[known] = False
    attrs = pairs.filter(pl.Series(rest))
    attributes = kv_from_long(attrs["row"].to_numpy(), attrs["key"], attrs["value"].fill_null(""), n)
    with_value = np.bincount(row[pairs["value"].is_not_null().to_numpy()], minlength=n)
    return pl.DataFrame([*columns, pl.Series("pairs", with_value)]), attributes


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of logfmt lines into LOGS records and rejects."""
    df = pl.DataFrame({"line": lines.cast(pl.String)}).with_row_index("line_no")
    line = pl.col("line")
    df = df.filter(line.is_not_null() & line.str.contains("[^ \t\r]"))
    skipped = len(lines) - df.height

    cols, attributes = _columns(_pairs(df["line"]), df.height)
    recs = pl.concat([df, cols], how="horizontal")
    recs = recs.with_columns(map_distinct(recs["level"], level_from_text))
    recs = recs.with_columns(ids.trace_id(pl.col("trace_id")), ids.span_id(pl.col("span_id")))
    recs, assumed = parse_timestamps(
        recs.rename({"ts": "ts_raw"}), "ts_raw", "ts", ctx.timezone, _TIME_FORMATS
    )
    reason = (
        pl.when(pl.col("pairs") == 0)
        .then(pl.lit("no logfmt key=value pairs"))
        .when(pl.col("ts").is_null())
        .then(pl.lit("no timestamp"))
    )
    recs = recs.with_columns(reason.alias("reason"))
    bad = recs.filter(pl.col("reason").is_not_null()).select("line_no", "reason", pl.col("line").alias("raw"))
    good = recs.filter(pl.col("reason").is_null())
    return ParseResult(
        records=finish_logs(good, keep_rows(attributes, recs["reason"].is_null()), ctx, name),
        rejects=base.rejects_frame(bad, ctx, name),
        record_lines=good.height,
        reject_lines=bad.height,
        skipped_lines=skipped,
        tz_assumed=assumed,
    )


def record_start(lines: pl.Series) -> pl.Series | None:
    """Every line is a record."""
    return None


def sniff(head: list[str]) -> float:
    """Share of non-blank lines made only of pairs and bare words, with at least two ``key=value`` pairs,
    that begin with a pair (a line that begins with a bare timestamp is free text that has pairs in it)."""
    lines = [h.strip() for h in head if h.strip()]
    if not lines:
        return 0.0
    hits = sum(
        1
        for t in lines
        if _SNIFF_FIRST.match(t) and _SNIFF_LINE.match(t) and len(_SNIFF_PAIR.findall(t)) >= 2
    )
    return hits / len(lines)
