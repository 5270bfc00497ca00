"""What the container-log wrappers (``docker-json``, ``cri``) share: unwrap, join partial lines, delegate.

A wrapper module decodes its lines into a frame with one row per input line (see :data:`DECODED`); this
module does the rest, columnar:

1. **Join partial lines.** Docker splits lines longer than 16 KB (the ``log`` of a piece does not end with
   ``\\n``); the CRI format marks pieces ``P`` up to the final ``F``. Pieces are joined per stream (stdout
   and stderr pieces may interleave) into *logical* lines that keep the outer line number of their first
   piece and the wrapper time of their first piece.
2. **Detect the inner format** per stream with the registered log parsers' ``sniff`` on the first logical
   lines (the wrappers themselves left out, the generic ``text`` parser only when nothing else fits); nothing
   fits -> ``plain``: one record per non-blank line, the wrapper time as ``ts``, the text as ``message``.
3. **Delegate**: the inner parser's ``parse`` runs once per stream on the logical lines, so its multi-line
   grouping (a Spring stack trace, each frame its own wrapper record) works as in a plain file; its
   ``source_line`` (an index into the logical lines) is mapped back to the wrapper file's line. Inner records
   that were rejected only for having no timestamp are read again with the wrapper time put in
   (:data:`_INJECT`). ``format`` becomes ``<wrapper>+<inner>``; the stream and the wrapper's own pairs
   (``attrs``; a key the record has already keeps the record's value) go into ``attributes``, and the
   wrapper's service ``label`` names the service of records that do not name theirs.

Line accounting stays in outer lines: a logical line made of ``n`` pieces counts ``n`` lines, on the side
(records, rejects, skipped) where the inner parser put the logical line's record.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from parsers import bags, base, schema
from parsers.base import ParseContext, Parser, ParseResult
from parsers.timeparse import ISO_ZONED, parse_timestamps

# Columns of a wrapper's decoded frame, one row per input line:
#   line_no (0-based in chunk), line (raw), blank (bool), reason (why the wrapper line is bad, else null),
#   text (inner text, one piece), stream, partial (bool: the piece continues on the stream's next line),
#   time (the wrapper's time as text)
DECODED = ("line_no", "line", "blank", "reason", "text", "stream", "partial", "time")
# ... and optionally: attrs (the wrapper's own key/value pairs, a map), label (a service name among them)
OPTIONAL = ("attrs", "label")

WRAPPERS = frozenset({"docker-json", "cri"})
TEXT = "text"  # the registered generic fallback, if there is one
PLAIN = "plain"  # the inner format name when no registered parser fits
_MIN_SCORE = 0.5
_HEAD = 64
_NO_TIMESTAMP = "no timestamp"  # the reject reason of json and logfmt for a record without time

# Formats whose records may carry no time of their own: how to put the wrapper time in front of a line.
_INJECT: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "json": lambda text, ts: pl.concat_str(
        pl.lit('{"timestamp":"'), ts, pl.lit('",'), text.str.strip_chars_start(" \t").str.slice(1)
    ),
    "logfmt": lambda text, ts: pl.concat_str(pl.lit("ts="), ts, pl.lit(" "), text),
}


def _registry() -> dict[str, Parser]:
    from parsers.registry import REGISTRY  # here, not at the top: the registry imports the wrappers

    return REGISTRY


def detect(texts: pl.Series) -> Parser | None:
    """The registered log parser that best recognises the first non-blank ``texts``, or None (plain text).

    The generic ``text`` fallback is taken only when no specific parser fits.
    """
    values = texts.drop_nulls()
    head = values.filter(values.str.contains("[^ \t\r]")).head(_HEAD).to_list()
    if not head:
        return None
    best: tuple[float, Parser | None] = (0.0, None)
    for parser_name, parser in _registry().items():
        if parser.kind != "logs" or parser_name in WRAPPERS or parser_name == TEXT:
            continue
        score = float(parser.sniff(head))
        if score > best[0]:
            best = (score, parser)
    if best[0] >= _MIN_SCORE:
        return best[1]
    fallback = _registry().get(TEXT)
    return fallback if fallback is not None and float(fallback.sniff(head)) >= _MIN_SCORE else None


def _streams(df: pl.DataFrame) -> list[str | None]:
    return df["stream"].unique(maintain_order=True).to_list()


def _of_stream(stream: str | None) -> pl.Expr:
    return pl.col("stream").eq_missing(pl.lit(stream, dtype=pl.String))


def record_start(decoded: pl.DataFrame) -> pl.Series:
    """Outer lines where a chunk may be cut: no stream is inside a partial line, and the inner format says
    a record starts there (never inside a stack trace). Bad wrapper lines are starts; blank lines are not."""
    valid = pl.col("reason").is_null() & ~pl.col("blank")
    df = decoded.with_columns(pl.when(valid).then(pl.col("partial")).alias("p"))
    pending = [
        pl.when(valid & _of_stream(s)).then(pl.col("p")).forward_fill().fill_null(False).alias(f"open{i}")
        for i, s in enumerate(_streams(df.filter(valid)))
    ]
    df = df.with_columns(*pending) if pending else df.with_columns(pl.lit(False).alias("open0"))
    opens = [c for c in df.columns if c.startswith("open")]
    df = df.with_columns(pl.any_horizontal(opens).shift(1, fill_value=False).alias("open_before"))
    inner = pl.repeat(True, df.height, dtype=pl.Boolean, eager=True).alias("inner")
    good = df.filter(valid)
    for s in _streams(good):
        grp = good.filter(_of_stream(s))
        parser = detect(grp["text"])
        mask = parser.record_start(grp["text"]) if parser is not None else None
        if mask is not None:
            inner = inner.scatter(grp["line_no"], mask.fill_null(False))
    df = df.with_columns(inner)
    return df.select(
        pl.when(pl.col("blank"))
        .then(False)
        .when(pl.col("reason").is_not_null())
        .then(True)
        .otherwise(~pl.col("open_before") & pl.col("inner"))
        .alias("start")
    ).to_series()


def _join_partials(valid: pl.DataFrame) -> pl.DataFrame:
    """Logical lines: pieces joined per stream. Columns ``line_no`` (first piece), text, stream, ts, n."""
    optional = [pl.col(c) for c in OPTIONAL if c in valid.columns]
    whole = ["stream", "line_no", "text", "ts", pl.lit(1, pl.UInt32).alias("n"), *optional]
    if not valid["partial"].any():  # each line is a logical line (the common case: no line was cut)
        return valid.select(whole)
    # a line that continues one before it on its stream, or that is continued: a piece; only pieces are joined
    cont = pl.col("partial").shift(1).over("stream").fill_null(False)
    df = valid.with_columns(cont.alias("cont"))
    piece = pl.col("cont") | pl.col("partial")
    pieces = df.filter(piece).with_columns((~pl.col("cont")).cum_sum().over("stream").alias("logical"))
    joined = (
        pieces.group_by("stream", "logical", maintain_order=True)
        .agg(
            pl.col("line_no").first(),
            pl.col("text").str.join(""),
            pl.col("ts").first(),
            pl.len().alias("n"),
            *(c.first() for c in optional),
        )
        .drop("logical")
    )
    return pl.concat([df.filter(~piece).select(whole), joined]).sort("line_no")


def _append_entry(bags: pa.ChunkedArray, key: str, value: str) -> pa.Array:
    """Each map of ``bags`` with one more entry ``key: value`` at its end (null maps become that entry)."""
    entry = pa.struct([pa.field("key", pa.string(), nullable=False), pa.field("value", pa.string())])
    arr = bags.combine_chunks().cast(pa.list_(entry))
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    entries = arr.flatten()
    old = len(entries)
    offsets = np.zeros(len(arr) + 1, dtype=np.int32)
    np.cumsum(lengths + 1, out=offsets[1:])
    idx = np.full(int(offsets[-1]), old, dtype=np.int64)
    is_old = np.ones(len(idx), dtype=bool)
    is_old[offsets[1:] - 1] = False
    idx[is_old] = np.arange(old)
    keys = pa.concat_arrays([entries.field("key").cast(pa.string()), pa.array([key], pa.string())])
    items = pa.concat_arrays([entries.field("value").cast(pa.string()), pa.array([value], pa.string())])
    return pa.MapArray.from_arrays(pa.array(offsets), keys.take(idx), items.take(idx))


def _relabel(table: pa.Table, fmt: str, lookup: np.ndarray, inner_first: int, outer_first: int) -> pa.Table:
    """``format`` set to ``fmt``; ``source_line`` (inner index + ``inner_first``) -> the wrapper's line."""
    inner = table.column("source_line").to_numpy() - inner_first
    outer = lookup[inner] + outer_first if len(inner) else np.zeros(0, dtype=np.int64)
    table = table.set_column(
        table.schema.get_field_index("source_line"),
        table.schema.field("source_line"),
        pa.array(outer.astype(np.int64), pa.int64()),
    )
    return table.set_column(
        table.schema.get_field_index("format"),
        table.schema.field("format"),
        pa.repeat(pa.scalar(fmt, pa.string()), table.num_rows),
    )


def _with_stream(records: pa.Table, stream: str | None) -> pa.Table:
    if stream is None or records.num_rows == 0:
        return records
    i = records.schema.get_field_index("attributes")
    return records.set_column(i, records.schema.field(i), _append_entry(records.column(i), "stream", stream))


def _labelled(grp: pl.DataFrame) -> bool:
    return "label" in grp.columns and grp["label"].is_not_null().any()


def _with_wrapper(records: pa.Table, grp: pl.DataFrame, at: np.ndarray, ctx: ParseContext) -> pa.Table:
    """The wrapper's ``attrs`` appended to each record's attributes (keys the record has keep its value) and
    its ``label`` as the service of records without one (then ``ctx.service``); ``at``: each record's row in
    ``grp``."""
    if records.num_rows == 0:
        return records
    if "attrs" in grp.columns and grp["attrs"].is_not_null().any():
        i = records.schema.get_field_index("attributes")
        field = records.schema.field(i)
        bag = bags.merge(records.column(i), grp["attrs"].gather(at).to_arrow(), field.type)
        records = records.set_column(i, field, bag)
    if _labelled(grp) or ctx.service is not None:
        i = records.schema.get_field_index("service")
        label = (
            grp["label"].gather(at)
            if "label" in grp.columns
            else pl.Series([None] * len(at), dtype=pl.String)
        )
        service = pl.select(
            pl.coalesce(pl.lit(pl.Series(records.column(i))), pl.lit(label), pl.lit(ctx.service, pl.String))
        ).to_series()
        records = records.set_column(i, records.schema.field(i), service.to_arrow().cast(pa.string()))
    return records


class _Tally:
    """Outer-line accounting and the pieces of the result, gathered stream by stream."""

    def __init__(self) -> None:
        self.records: list[pa.Table] = []
        self.rejects: list[pa.Table] = []
        self.record_lines = 0
        self.reject_lines = 0
        self.skipped_lines = 0
        self.tz_assumed = 0
        self.notes: dict[str, int] = {}

    def add_notes(self, notes: dict[str, int]) -> None:
        for k, v in notes.items():
            self.notes[k] = self.notes.get(k, 0) + v


def _plain(grp: pl.DataFrame, ctx: ParseContext, wrapper: str, stream: str | None, tally: _Tally) -> None:
    """No inner format: every non-blank logical line is a record at the wrapper time."""
    blank = pl.col("text").is_null() | ~pl.col("text").str.contains("[^ \t\r]")
    empty = grp.filter(blank)
    recs = grp.with_row_index("row").filter(~blank)
    recs = recs.with_columns(
        pl.col("text").str.strip_chars_end("\r").alias("message"), pl.lit(stream, pl.String).alias("s")
    )
    attributes = base.kv_map(recs, [("stream", pl.col("s"))])
    plain_ctx = ParseContext(ctx.source_file, ctx.first_line, None, ctx.timezone, ctx.year, ctx.options)
    records = base.finish_logs(recs, attributes, plain_ctx, f"{wrapper}+{PLAIN}")
    tally.records.append(_with_wrapper(records, grp, recs["row"].cast(pl.Int64).to_numpy(), ctx))
    tally.record_lines += int(recs["n"].sum())
    tally.skipped_lines += int(empty["n"].sum())


def _recover(
    parser: Parser, grp: pl.DataFrame, rejects: pl.DataFrame, ictx: ParseContext
) -> tuple[pa.Table | None, set[int], int]:
    """Records for the lines the inner parser rejected only for want of a timestamp, read again with the
    wrapper time put in. Returns the records (source_line as in the first pass), the recovered source lines
    and the zone-assumed count."""
    inject = _INJECT.get(parser.name)
    retry = rejects.filter(pl.col("reason") == _NO_TIMESTAMP)["source_line"] if inject else None
    if inject is None or retry is None or retry.is_empty():
        return None, set(), 0
    idx = (retry - ictx.first_line).cast(pl.Int64)
    texts = grp.select(inject(pl.col("text"), pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")).alias("t"))[
        "t"
    ].gather(idx)
    again = parser.parse(texts, ParseContext(ictx.source_file, 0, ictx.service, ictx.timezone, ictx.year))
    back = again.records.column("source_line").to_numpy()
    lines = idx.to_numpy()[back] + ictx.first_line if len(back) else np.zeros(0, dtype=np.int64)
    records = again.records.set_column(
        again.records.schema.get_field_index("source_line"),
        again.records.schema.field("source_line"),
        pa.array(lines.astype(np.int64), pa.int64()),
    )
    return records, {int(x) for x in lines}, again.tz_assumed


def _delegate(
    parser: Parser, grp: pl.DataFrame, ctx: ParseContext, wrapper: str, stream: str | None, tally: _Tally
) -> None:
    """Run the inner parser on the stream's logical lines and map its output back to the wrapper file."""
    inner_first = 1 if ctx.first_line == 1 else 2  # Spring drops a banner only at a file's first line
    # the service: the record's own, else the wrapper's label, else the context's (see _with_wrapper)
    ictx = ParseContext(ctx.source_file, inner_first, None, ctx.timezone, ctx.year)
    res = parser.parse(grp["text"], ictx)
    rejects = base_frame(res.rejects)
    recovered, done, assumed = _recover(parser, grp, rejects, ictx)
    records = res.records
    record_lines, reject_lines = res.record_lines, res.reject_lines
    if recovered is not None and done:
        records = pa.concat_tables([records, recovered])
        keep = ~rejects["source_line"].is_in(sorted(done))
        res_rejects = res.rejects.filter(keep.to_arrow())
        record_lines, reject_lines = record_lines + len(done), reject_lines - len(done)
    else:
        res_rejects = res.rejects

    # a logical line of n pieces counts n outer lines, on the side of the record it belongs to
    n = grp["n"].cast(pl.Int64)
    extra = n - 1
    if int(extra.sum()):
        starts = pl.concat(
            [
                pl.DataFrame({"i": pl.from_arrow(records.column("source_line")), "side": 0}),
                pl.DataFrame({"i": pl.from_arrow(res_rejects.column("source_line")), "side": 1}),
            ],
            how="vertical_relaxed",
        ).with_columns((pl.col("i") - inner_first).cast(pl.Int64), pl.col("side").cast(pl.Int8))
        lines = pl.DataFrame({"i": pl.int_range(0, grp.height, eager=True, dtype=pl.Int64), "extra": extra})
        sides = lines.join_asof(starts.sort("i"), on="i", strategy="backward")
        by_side = {s: int(sides.filter(pl.col("side").eq_missing(s))["extra"].sum()) for s in (0, 1, None)}
        record_lines += by_side[0]
        reject_lines += by_side[1]
        tally.skipped_lines += by_side[None]

    lookup = grp["line_no"].cast(pl.Int64).to_numpy()
    fmt = f"{wrapper}+{parser.name}"
    at = records.column("source_line").to_numpy() - inner_first
    records = _with_stream(_relabel(records, fmt, lookup, inner_first, ctx.first_line), stream)
    tally.records.append(_with_wrapper(records, grp, at, ctx))
    tally.rejects.append(_relabel(res_rejects, fmt, lookup, inner_first, ctx.first_line))
    tally.record_lines += record_lines
    tally.reject_lines += reject_lines
    tally.skipped_lines += res.skipped_lines
    tally.tz_assumed += res.tz_assumed + assumed
    tally.add_notes(res.notes)


def base_frame(table: pa.Table) -> pl.DataFrame:
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df


def parse(decoded: pl.DataFrame, ctx: ParseContext, wrapper: str) -> ParseResult:
    """Records and rejects of a chunk of wrapper lines, decoded by the wrapper into :data:`DECODED`."""
    tally = _Tally()
    tally.skipped_lines = int(decoded["blank"].sum())
    lines = decoded.filter(~pl.col("blank"))
    lines, assumed = parse_timestamps(lines, "time", "ts", "UTC", (ISO_ZONED,))
    tally.tz_assumed += assumed
    reason = pl.coalesce(
        pl.col("reason"), pl.when(pl.col("ts").is_null()).then(pl.lit("unreadable wrapper timestamp"))
    )
    lines = lines.with_columns(reason.alias("reason"))
    bad = lines.filter(pl.col("reason").is_not_null()).select(
        "line_no", "reason", pl.col("line").alias("raw")
    )
    tally.rejects.append(base.rejects_frame(bad, ctx, wrapper))
    tally.reject_lines += bad.height

    logical = _join_partials(lines.filter(pl.col("reason").is_null()))
    for stream in _streams(logical):
        grp = logical.filter(_of_stream(stream))
        parser = detect(grp["text"])
        if parser is None:
            _plain(grp, ctx, wrapper, stream, tally)
        else:
            _delegate(parser, grp, ctx, wrapper, stream, tally)

    records = pa.concat_tables(tally.records) if tally.records else schema.empty(schema.LOGS)
    rejects = pa.concat_tables(tally.rejects)
    return ParseResult(
        records=_in_line_order(records),
        rejects=_in_line_order(rejects),
        record_lines=tally.record_lines,
        reject_lines=tally.reject_lines,
        skipped_lines=tally.skipped_lines,
        tz_assumed=tally.tz_assumed,
        notes=tally.notes,
    )


def _in_line_order(table: pa.Table) -> pa.Table:
    """``table`` sorted by ``source_line`` (a copy only when it is not in order already: one stream)."""
    lines = pl.from_arrow(table.column("source_line"))
    assert isinstance(lines, pl.Series)
    return table if lines.is_sorted() else table.sort_by("source_line")
