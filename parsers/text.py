"""Generic free-text logs: the fallback for anything that starts its records with a timestamp.

    2026-11-17 14:32:05,245 ERROR [user_service.api] [api.py:88] [trace_id=4bf92f3577b34da6a3ce929d0e0e4736
        span_id=53995c3f42cd8ad8 resource.service.name=user-service trace_sampled=True] - lookup failed
    Traceback (most recent call last):
      File "/app/user_service/api.py", line 88, in get_user

A record starts at a line that begins (optionally after ``[``) with a recognizable timestamp: ISO date
``YYYY-MM-DD[T ]HH:MM:SS`` (also ``/`` between the date parts, ``,`` or ``.`` fraction, optional zone),
syslog ``Mon DD HH:MM:SS`` (year from the context, one more after each December -> January, carried across
chunks), access-log ``DD/Mon/YYYY:HH:MM:SS [+zzzz]``, or an epoch number (10, 13, 16 or 19 digits)
followed by a blank. Every following line up to the next start (stack traces, indented text) is appended
to the record's message with ``\\n``, as in :mod:`parsers.spring`.

Level: the first level word (TRACE DEBUG INFO NOTICE WARN WARNING ERROR FATAL CRITICAL SEVERE, upper or lower
case, standing alone between blanks, brackets, ``|`` or ``:``) in the 80 characters after the timestamp.
Message: the rest of the first line after the timestamp, and after the level word when it comes first
(``ERROR``, ``[ERROR]``, ``ERROR:``).

IDs are searched in the whole record text; the first form present in this order wins (trace and span each):

1. an explicit key, not preceded by ``.``, ``-``, ``_`` or a letter: ``trace_id``/``traceId``/``traceID``/
   ``TraceId``/``TraceID``/``trace.id``/``otelTraceID`` and the span twins, with ``=`` or ``:``
   (Python logging with OTel fields, the OTel Java agent MDC, log4j2 ``TraceID: <hex>``, quoted JSON keys);
2. a Spring/Micrometer MDC block ``[app,traceId,spanId]``;
3. Datadog ``dd.trace_id``/``dd.span_id`` (decimal; ``_dd.p.tid`` high bits);
4. W3C ``traceparent`` ``00-<trace>-<span>-<flags>``;
5. B3 single ``b3: <trace>-<span>...``, then ``X-B3-TraceId``/``X-B3-SpanId``;
6. ``uber-trace-id``;
7. AWS X-Ray ``Root=1-...``/``Parent=...``.

An all-zero value (OTel's Python logging writes ``trace_id=0`` outside a span) counts as absent, so a later
form may still give the ID. Service: ``resource.service.name=``, ``service.name=``, the MDC block's app,
then the context's service. ``trace_flags``/``trace_sampled`` go to ``attributes``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import polars as pl

from parsers import base, carry, ids
from parsers.base import Kind, ParseContext, ParseResult, finish_logs, kv_map, map_distinct
from parsers.levels import level_from_text
from parsers.timeparse import EPOCH, ISO_ZONED, parse_timestamps

name = "text"
fallback = True  # detection never calls a near tie with this one: it only wins when nothing else fits
kind: Kind = "logs"
description = (
    "fallback for free-text logs whose records start with a timestamp (Python logging, log4j, syslog)"
)
example = (
    "2026-11-17 14:32:05,245 ERROR [user_service.api] [api.py:88] [trace_id=4bf92f3577b34da6a3ce929d0e0e4736 "
    "span_id=53995c3f42cd8ad8 resource.service.name=user-service trace_sampled=True] - lookup failed"
)

_MON = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_ISO = (
    r"[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]{1,9})?"
    r"(?: ?(?:Z|[+-][0-9]{2}:?[0-9]{2}))?"
)
_SYSLOG = rf"{_MON} [ 0-9][0-9] [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(?:\.[0-9]{{1,6}})?"
_CLF = r"[0-9]{2}/" + _MON + r"/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}(?: [+-][0-9]{4})?"
_EPOCH = r"[0-9]{10}(?:[0-9]{3}|[0-9]{6}|[0-9]{9})?(?:\.[0-9]{1,9})?"
# the start test: the timestamp's fixed head only (cheap); the epoch must be followed by a blank or "]"
START = (
    r"^\[?(?:[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    rf"|{_MON} [ 0-9][0-9] [0-9]{{2}}:"
    rf"|[0-9]{{2}}/{_MON}/[0-9]{{4}}:"
    rf"|{_EPOCH}[ \t\]])"
)
# timestamp and the separator after it: "[", the time, "]", blanks (read by removing it: no captures)
_PREFIX_FIND = rf"^\[?(?:{_ISO}|{_SYSLOG}|{_CLF}|{_EPOCH})\]?[ \t]*"
_LEVEL_WORDS = "TRACE|DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|FATAL|CRITICAL|SEVERE"
_LEVELS = f"{_LEVEL_WORDS}|{_LEVEL_WORDS.lower()}|Trace|Debug|Info|Notice|Warning|Warn|Error|Fatal|Critical"
# the word stands alone: blanks, brackets, "|" or ":" around it (not "-": X-Amzn-Trace-Id is no level)
_LEVEL_RE = rf"(?:^|[ \t\[(<|])({_LEVELS})(?:[ \t\])>|:,]|$)"
# a level word that leads the message, with its brackets and separator (removed from the message)
_LEVEL_LEAD_FIND = rf"^[\[(<]?(?:{_LEVELS})[\])>]?:?(?:[ \t]+-)?(?:[ \t]+|$)"
_LEVEL_WINDOW = 80

_TIME_FORMATS = (
    ISO_ZONED,
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f %#z",
    "%d/%b/%Y:%H:%M:%S %#z",
    "%d/%b/%Y:%H:%M:%S",
    "%Y %b %d %H:%M:%S%.f",  # syslog, the year put in front
    EPOCH,
)

# explicit keys (priority 1); the character before must not make it part of a longer key (dd.trace_id)
_KEY_HEAD = r"(?:^|[^.A-Za-z_-])"
_KEY_TAIL = r"[\"']?[ \t]*[=:][ \t]*[\"']?([0-9A-Za-z][0-9A-Za-z_-]*)"
TRACE_KEY_RE = _KEY_HEAD + r"(?:trace_id|traceId|traceID|TraceId|TraceID|trace\.id|otelTraceID)" + _KEY_TAIL
SPAN_KEY_RE = _KEY_HEAD + r"(?:span_id|spanId|spanID|SpanId|SpanID|span\.id|otelSpanID)" + _KEY_TAIL
_SERVICE_RE = r"(?:resource\.service\.name|service\.name)[\"']?[ \t]*[=:][ \t]*[\"']?([^ \t\"',\]\[]+)"
_FLAGS_RE = r"trace_flags[ \t]*[=:][ \t]*([0-9a-fA-F]{2})"
_SAMPLED_RE = r"trace_sampled[ \t]*[=:][ \t]*([A-Za-z]+)"
# forms in priority order: (name, literals one of which the record must hold or a regex it must match, trace
# and span extractors).
# A record goes through a form only when it holds one of its literals and still lacks an ID, so the costly
# regexes see few rows (e.g. the decimal conversion only rows with "dd.").
_FORMS: tuple[
    tuple[str, list[str] | str, Callable[[pl.Expr], pl.Expr], Callable[[pl.Expr], pl.Expr]], ...
] = (
    (
        "key",
        ["race", "RACE", "pan", "PAN"],
        lambda t: ids.trace_id(t.str.extract(TRACE_KEY_RE, 1)),
        lambda t: ids.span_id(t.str.extract(SPAN_KEY_RE, 1)),
    ),
    ("mdc", ids.MDC_RE, ids.mdc_trace_id, ids.mdc_span_id),
    ("datadog", ["dd."], ids.datadog_trace_id, ids.datadog_span_id),
    ("traceparent", ["00-"], ids.traceparent_trace_id, ids.traceparent_span_id),  # version 00: the only one
    ("b3", ["b3", "B3"], ids.b3_trace_id, ids.b3_span_id),
    ("b3-multi", ["-B3-", "-b3-"], ids.b3_multi_trace_id, ids.b3_multi_span_id),
    ("uber", ["ber-", "BER-"], ids.uber_trace_id, ids.uber_span_id),
    ("xray", ["Root=", "Parent="], ids.xray_trace_id, ids.xray_span_id),
)
# (column, literal gate or a regex, regex with one group)
_EXTRAS: tuple[tuple[str, list[str] | str, str], ...] = (
    ("svc", ["service.name"], _SERVICE_RE),
    ("mdc_app", ids.MDC_RE, ids.MDC_RE),
    ("trace_flags", ["trace_flags"], _FLAGS_RE),
    ("trace_sampled", ["trace_sampled"], _SAMPLED_RE),
)

_SNIFF_START = re.compile(START)
_SNIFF_CONT = re.compile(r"^(?:[ \t]+[^ \t]|Caused by: |Traceback |[A-Za-z_.$]+(?:Error|Exception)[:\n]?)")


def record_start(lines: pl.Series) -> pl.Series | None:
    """Lines that begin with a timestamp start a record."""
    return lines.str.contains(START).fill_null(False)


def _gated(text: pl.Series, todo: pl.Series | None, gate: list[str] | str) -> pl.Series:
    """Row indices where ``todo`` holds (None: every row) and ``text`` contains one of the ``gate`` literals
    (a string: matches that regex, searched without captures); only the rows still to do are searched (once a
    form gave a row's IDs, the later ones skip it)."""

    def hits(values: pl.Series) -> pl.Series:
        found = values.str.contains(gate) if isinstance(gate, str) else values.str.contains_any(gate)
        return found.fill_null(False)

    if todo is None:
        return hits(text).arg_true()
    rows = todo.arg_true()
    return rows if rows.is_empty() else rows.filter(hits(text.gather(rows)))


def _nulls(name: str, n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True).alias(name)


def _ids(recs: pl.DataFrame) -> pl.DataFrame:
    """``trace_id``, ``span_id``, ``service``, ``trace_flags``, ``trace_sampled`` from the record ``text``.

    Each form of :data:`_FORMS` fills the IDs still missing, in priority order (module docstring).
    """
    text = recs["text"]
    n = len(text)
    found = {c: _nulls(c, n) for c in ("trace_id", "span_id")}
    for _, gate, fn_trace, fn_span in _FORMS:
        idx = _gated(text, found["trace_id"].is_null() | found["span_id"].is_null(), gate)
        if idx.is_empty():
            continue
        sub = pl.DataFrame({"t": text.gather(idx), "old_t": found["trace_id"].gather(idx)}).with_columns(
            old_s=found["span_id"].gather(idx)
        )
        got = sub.select(
            pl.coalesce("old_t", fn_trace(pl.col("t"))).alias("trace_id"),
            pl.coalesce("old_s", fn_span(pl.col("t"))).alias("span_id"),
        )
        for c in found:
            found[c] = found[c].scatter(idx, got[c])
    extras = {}
    for column, gate, regex in _EXTRAS:
        idx = _gated(text, None, gate)
        values = _nulls(column, n)
        if not idx.is_empty():
            values = values.scatter(idx, text.gather(idx).str.extract(regex, 1).str.strip_chars())
        extras[column] = values
    app = extras.pop("mdc_app")
    service = pl.select(pl.coalesce(extras.pop("svc"), pl.when(app != "").then(app))).to_series()
    return recs.with_columns(*found.values(), service.alias("service"), *extras.values())


def _head(starts: pl.DataFrame) -> pl.DataFrame:
    """Timestamp text, level and first-line message of the record start lines."""
    # the prefix ("[", the time, "]", blanks) and a leading level word are removed by their match, a search
    # without captures (several times faster than capturing them): the prefix is what was removed
    line = pl.col("line")
    df = starts.with_columns(rest=line.str.replace(_PREFIX_FIND, ""))
    rest = pl.col("rest")
    prefix = line.str.head(line.str.len_chars() - rest.str.len_chars())
    ts_raw = prefix.str.strip_chars_end(" \t").str.strip_prefix("[").str.strip_suffix("]")
    return df.with_columns(
        ts_raw=pl.when(prefix != "").then(ts_raw),
        level=rest.str.head(_LEVEL_WINDOW).str.extract(_LEVEL_RE, 1),
        message=rest.str.replace(_LEVEL_LEAD_FIND, ""),
    ).drop("rest")


def _year(ctx: ParseContext) -> int:
    """The year of a chunk's first year-less (syslog) time, before the chunks before it are known."""
    return ctx.year if ctx.year is not None else dt.datetime.now(dt.UTC).year


def _clean_ts(df: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, int]:
    """Make ``ts_raw`` readable by the formats: ``,`` fraction -> ``.``, year in front of syslog times.

    Syslog times take the context's year, one more at each month that goes down (December -> January); the
    chunks before may move them by whole years (:func:`_year_step`). ``month`` is the syslog times' month.
    Returns the frame and how many syslog times took a year not given by the context.
    """
    raw = pl.col("ts_raw")
    df = df.with_columns(
        month=pl.when(raw.str.contains(f"^{_MON} "))
        .then(raw.str.head(3))
        .replace_strict(carry.MONTHS, default=None, return_dtype=pl.Int64)
    )
    month = pl.col("month")
    guessed = 0 if ctx.year is not None else int(df["month"].is_not_null().sum())
    year = pl.format("{} ", carry.rolled_years(month, _year(ctx)))
    df = df.with_columns(
        pl.when(month.is_not_null())
        .then(year + raw.str.replace("  ", " ", literal=True))
        .when(raw.str.contains("^[0-9]{4}/"))  # Go's log: 2026/11/17 14:32:05
        .then(raw.str.replace_all("/", "-", literal=True).str.replace(",", ".", literal=True))
        .otherwise(raw.str.replace(",", ".", literal=True))
        .alias("ts_raw")
    )
    return df, guessed


def _year_step(recs: pl.DataFrame, good: pl.DataFrame, ctx: ParseContext) -> dict[str, carry.Step]:
    """The carried year of syslog times (:func:`parsers.carry.syslog_year`): the chunk was read as if it
    began in the context's year; the chunks before may say it began a year later."""
    if recs["month"].is_null().all():
        return {}
    rows = good["month"].is_not_null().arg_true().to_numpy()

    def shift(result: ParseResult, years: int) -> None:
        ts = pl.Series(result.records.column("ts").take(rows))
        result.records = carry.set_rows(
            result.records, "ts", rows, carry.offset_years(ts, years, ctx.timezone)
        )

    return {"syslog.year": carry.syslog_year(recs["month"], _year(ctx), shift)}


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of free-text lines (whole records) into LOGS records and rejects."""
    line = pl.col("line")
    df = (
        pl.DataFrame({"line": lines.cast(pl.String)})
        .with_row_index("line_no")
        .with_columns(start=line.str.contains(START).fill_null(False))
        .with_columns(rec=pl.col("start").cum_sum())
    )
    blank = line.is_null() | ~line.str.contains("[^ \t\r]")
    df = df.with_columns(blank=blank)
    skipped = int(df.select((pl.col("blank") & ~pl.col("start")).sum()).item())
    cont = df.filter(~pl.col("start") & ~pl.col("blank"))

    recs = _head(df.filter(pl.col("start")))
    tails = (
        cont.filter(pl.col("rec") > 0)
        .group_by("rec", maintain_order=True)
        .agg(pl.col("line").str.join("\n").alias("tail"), pl.len().alias("tail_lines"))
    )
    recs = recs.join(tails, on="rec", how="left", maintain_order="left").with_columns(
        pl.col("tail_lines").fill_null(0)
    )
    with_tail = pl.col("tail").is_not_null()
    recs = recs.with_columns(
        pl.when(with_tail).then(pl.col("message") + "\n" + pl.col("tail")).otherwise(pl.col("message")),
        pl.when(with_tail).then(line + "\n" + pl.col("tail")).otherwise(line).alias("text"),
    )
    recs = _ids(recs)
    recs = recs.with_columns(map_distinct(recs["level"], level_from_text))
    recs, guessed_year = _clean_ts(recs, ctx)
    recs, assumed = parse_timestamps(recs, "ts_raw", "ts", ctx.timezone, _TIME_FORMATS)

    good = recs.filter(pl.col("ts").is_not_null())
    attributes = kv_map(
        good, [("trace_flags", pl.col("trace_flags")), ("trace_sampled", pl.col("trace_sampled"))]
    )
    bad = recs.filter(pl.col("ts").is_null()).select(
        "line_no", pl.lit("unreadable timestamp").alias("reason"), pl.col("text").alias("raw"), "tail_lines"
    )
    bad = bad.select("line_no", "reason", "raw", (pl.col("tail_lines") + 1).cast(pl.UInt32).alias("n"))
    orphans = cont.filter(pl.col("rec") == 0).select(
        "line_no",
        pl.lit("continuation line without a record").alias("reason"),
        pl.col("line").alias("raw"),
        pl.lit(1, dtype=pl.UInt32).alias("n"),
    )
    rejects = pl.concat([orphans, bad]).sort("line_no")
    notes = {"year_assumed": guessed_year} if guessed_year else {}
    return ParseResult(
        records=finish_logs(good.drop("text"), attributes, ctx, name),
        rejects=base.rejects_frame(rejects, ctx, name),
        record_lines=good.height + int(good["tail_lines"].sum()),
        reject_lines=int(rejects["n"].sum()),
        skipped_lines=skipped,
        tz_assumed=assumed,
        notes=notes,
        carry=_year_step(recs, good, ctx),
    )


def sniff(head: list[str]) -> float:
    """0.6 x the share of non-blank lines that start a record or continue one; 0 without a record line.

    The fallback: it never scores above 0.6, so any parser that recognizes the file wins. Lines that other
    parsers own do not count (:func:`_owned`); JSON lines never start with a timestamp.
    """
    lines = [h for h in head if h.strip()]
    if not lines:
        return 0.0
    records = sum(1 for h in lines if _SNIFF_START.match(h) and not _owned(h))
    if not records:
        return 0.0
    continued = sum(1 for h in lines if not _SNIFF_START.match(h) and _SNIFF_CONT.match(h))
    return round(0.6 * min(1.0, (records + continued) / len(lines)), 3)


_PAIRS_ONLY = re.compile(r'^(?:[^ \t="]+=(?:"(?:[^"\\]|\\.)*"|[^ \t"]*)[ \t]*)+$')
# what follows the timestamp in formats with their own parser
_OWNED_REST = re.compile(
    r"^(?:"
    r"(?:stdout|stderr) [FP] "  # CRI container log
    r'|"'  # access logs: envoy "[time] "GET / HTTP/1.1" ...
    r"|(?:[A-Z]{2,5})?,"  # CSV (PostgreSQL csvlog)
    # PostgreSQL stderr: "[pid] ... LOG:  " (two blanks after the severity)
    r"|(?:[A-Z]{2,5} )?\[[0-9]+\].*(?:LOG|STATEMENT|DETAIL|HINT|ERROR|FATAL|WARNING|PANIC|CONTEXT):  "
    r")"
)


def _owned(line: str) -> bool:
    """A timestamped line that a specific parser reads.

    Spring/logback (`` --- ``), a rest of only logfmt pairs, CRI, envoy-style access logs, PostgreSQL
    stderr and csvlog.
    """
    if " --- " in line:
        return True
    rest = line[m.end() :] if (m := re.match(_PREFIX_FIND, line)) else line
    return bool(_PAIRS_ONLY.match(rest.strip()) or _OWNED_REST.match(rest))
