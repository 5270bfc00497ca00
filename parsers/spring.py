"""Spring Boot / logback console and file logs, including multi-line records (stack traces).

    2026-11-17T15:32:05.245+01:00 ERROR [order-service,4bf92f35...,00f067aa0ba902b7] 1 --- [nio-8080-exec-7]
        c.e.order.web.OrderController            : upstream service error      (one line)
    org.springframework.web.client.HttpServerErrorException$InternalServerError: 500 Internal Server Error
    \tat com.example.order.client.InventoryClient.reserve(InventoryClient.java:58)

A record starts at a line that begins with a timestamp; every following line up to the next start (stack
frames, ``Caused by:``) is appended to its message with ``\\n``. Lines are grouped with a cumulative sum of
the start flag. Understood around the fixed part (time, ``%5p`` level, PID, ``---``, ``[thread]``, logger,
`` : ``): the Micrometer/Sleuth MDC block ``[app,traceId,spanId]`` or ``[app,traceId,spanId,export]`` after
the level (fields may be empty), Boot 3.2+'s ``[app]`` block after ``---`` and its ``[traceId-spanId]``
correlation block after the thread. Times: ISO with offset, or zone-less ``yyyy-MM-dd HH:mm:ss.SSS`` or
``,SSS`` (read in the source's time zone).
"""

from __future__ import annotations

import re

import polars as pl

from parsers import base, ids
from parsers.base import Kind, ParseContext, ParseResult, finish_logs, kv_map
from parsers.timeparse import parse_timestamps

name = "spring"
kind: Kind = "logs"
description = "Spring Boot / logback text logs with [app,traceId,spanId] MDC and multi-line stack traces"
example = (
    "2026-11-17T15:32:05.245+01:00 ERROR [order-service,4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7] "
    "1 --- [nio-8080-exec-7] c.e.order.web.OrderController            : upstream service error: "
    "POST http://inventory-service/inventory/reserve returned 500"
)

START = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"
_TS = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]{1,9})?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_MDC = r"\[(?P<mdc_app>[^,\]]*),(?P<mdc_trace>[^,\]]*),(?P<mdc_span>[^,\]]*)(?:,(?P<export>[^,\]]*))?\]"
# before " --- ": time, %5p level, optional MDC block, PID
_HEAD = (
    rf"(?P<ts>{_TS})[ \t]+(?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL)[ \t]+(?:{_MDC}[ \t]+)?(?P<pid>[0-9]+)"
)
# between " --- " and " : ": Boot 3.2+ [app], [thread], Boot 3.2+ [traceId-spanId] (fixed width, blank
# without a trace), logger
_CORR = r"\[ *(?:[0-9a-fA-F]{16,32}-[0-9a-fA-F]{16} *| {20,})\]"
_CORR_BLOCK = r"^ *(?:[0-9a-fA-F]{16,32}-[0-9a-fA-F]{16} *| {20,})$"
_TAIL_SHAPE = rf"(?:\[[^\]]*\][ \t]+)?\[[^\]]*\][ \t]+(?:{_CORR}[ \t]+)?[^ \t\[]+"
_SNIFF = re.compile(rf"^{_HEAD}[ \t]+---[ \t]+{_TAIL_SHAPE}[ \t]+:(?:[ \t].*)?$")
# _HEAD after the time (which holds no blank past its date): level, MDC block, PID
_LEVEL_PID = (
    rf"^[ \t]+(?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL)[ \t]+(?:{_MDC}[ \t]+)?(?P<pid>[0-9]+)[ \t]*$"
)

# ISO with offset (the sample's dateformat), logback's default yyyy-MM-dd HH:mm:ss.SSS, ISO without offset
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f")


def record_start(lines: pl.Series) -> pl.Series | None:
    """Lines that begin with a timestamp start a record."""
    return lines.str.contains(START).fill_null(False)


def _blank(col: pl.Expr) -> pl.Expr:
    return col.str.strip_chars().replace("", None)  # stripped once (a when/then would strip twice)


def _level_pid(df: pl.DataFrame) -> pl.DataFrame:
    """Level, MDC block and PID from ``level_pid``, the part of the head after the time.

    The MDC fields come blank-stripped, null when blank; ``mdc_trace_id``/``mdc_span_id`` normalized.
    """
    df = df.with_columns(pl.col("level_pid").str.extract_groups(_LEVEL_PID).alias("h")).unnest("h")
    df = df.with_columns(
        _blank(pl.col("mdc_app")),
        _blank(pl.col("mdc_trace")),
        _blank(pl.col("mdc_span")),
        _blank(pl.col("export")),
    )
    return df.with_columns(
        ids.trace_id(pl.col("mdc_trace")).alias("mdc_trace_id"),
        ids.span_id(pl.col("mdc_span")).alias("mdc_span_id"),
    )


def _tail(df: pl.DataFrame) -> pl.DataFrame:
    """Boot 3.2+ ``[app]``, ``[thread]``, Boot 3.2+ ``[traceId-spanId]`` and the logger from ``pre``.

    ``pre`` is the text between `` --- `` and `` : ``, cut at ``"] "``; ``ok``: a capture-free regex checked
    it. App and IDs come blank-stripped, null when blank; ``corr_trace_id``/``corr_span_id`` normalized.
    """
    df = df.with_columns(ok=pl.col("pre").str.contains(f"^{_TAIL_SHAPE}[ \t]*$").fill_null(False))
    df = df.with_columns(parts=pl.col("pre").str.strip_chars_end(" \t").str.split("] "))
    parts = pl.col("parts")
    # bracket blocks counted from the logger backwards, "[" stripped
    df = df.with_columns(
        *(parts.list.get(-1 - i, null_on_oob=True).str.strip_prefix("[").alias(f"b{i}") for i in (1, 2, 3)),
        blocks=parts.list.len() - 1,
        logger=parts.list.last(),
    )
    df = df.with_columns(corr=pl.col("b1").str.contains(_CORR_BLOCK).fill_null(False))
    corr, blocks = pl.col("corr"), pl.col("blocks")
    df = df.with_columns(ids_=pl.when(corr).then(pl.col("b1").str.strip_chars()).str.split_exact("-", 1))
    ids_ = pl.col("ids_").struct  # a column: each field of an unmaterialized split would split again
    df = df.with_columns(
        pl.when(corr).then(pl.col("b2")).otherwise(pl.col("b1")).str.strip_chars().alias("thread"),
        _blank(
            pl.when(corr & (blocks == 3)).then(pl.col("b3")).when(~corr & (blocks == 2)).then(pl.col("b2"))
        ).alias("app"),
        _blank(ids_.field("field_0")).alias("corr_trace"),
        _blank(ids_.field("field_1")).alias("corr_span"),
    ).drop("parts", "b1", "b2", "b3", "blocks", "corr", "ids_")
    return df.with_columns(
        ids.trace_id(pl.col("corr_trace")).alias("corr_trace_id"),
        ids.span_id(pl.col("corr_span")).alias("corr_span_id"),
    )


def _records(starts: pl.DataFrame) -> pl.DataFrame:
    """Fields of record start lines; ``ts_raw`` is null where a line does not follow the pattern.

    The line is cut at its first `` --- `` and the first `` : `` after it (literal searches); the message is
    never scanned by a regex. The part before `` --- `` is cut after the time (its first blank or tab past
    the date): the time is checked by a capture-free regex, the rest (level, MDC block, PID) read by a
    capturing one. The part between (thread, logger, Boot 3.2 blocks) is checked by a capture-free regex and
    cut at its brackets. Both rests repeat from line to line: they are read once per distinct value where
    they do.
    """
    line = pl.col("line")
    df = starts.with_columns(dash=line.str.find(" --- ", literal=True))
    df = df.with_columns(head=line.str.head(pl.col("dash")), rest=line.str.slice(pl.col("dash") + 5))
    rest, head = pl.col("rest"), pl.col("head")
    colon = pl.coalesce(
        rest.str.find(" : ", literal=True), pl.when(rest.str.ends_with(" :")).then(rest.str.len_chars() - 2)
    )
    df = df.with_columns(
        colon=colon,
        # the time ends at the first blank after its date (its "T" may be a blank)
        cut=head.str.slice(11).str.find("[ \t]") + 11,
    )
    df = df.with_columns(
        pre=rest.str.head(pl.col("colon")),
        message=rest.str.slice(pl.col("colon") + 3).fill_null(""),
        ts=head.str.head(pl.col("cut")),
        level_pid=head.str.slice(pl.col("cut")),
    )
    df = df.with_columns(ts_ok=pl.col("ts").str.contains(f"^{_TS}$"))
    df = base.by_value(base.by_value(df, "level_pid", _level_pid), "pre", _tail)
    ok = (pl.col("ok") & pl.col("ts_ok") & pl.col("level").is_not_null()).fill_null(False)
    return df.select(
        "line_no",
        "rec",
        pl.when(ok).then(pl.col("ts").str.replace(",", ".", literal=True)).alias("ts_raw"),
        "level",
        pl.coalesce("mdc_app", "app").alias("service"),
        "logger",
        "message",
        # normalized where read (once per distinct value): the same as normalizing the first non-null one
        pl.when(pl.col("mdc_trace").is_not_null())
        .then(pl.col("mdc_trace_id"))
        .otherwise(pl.col("corr_trace_id"))
        .alias("trace_id"),
        pl.when(pl.col("mdc_span").is_not_null())
        .then(pl.col("mdc_span_id"))
        .otherwise(pl.col("corr_span_id"))
        .alias("span_id"),
        "thread",
        "pid",
        "export",
    )


def _drop_banner(cont: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, int]:
    """Drop the Spring Boot banner (ASCII art up to ``:: Spring Boot ::``) at the top of a file.

    A banner is no record: it is skipped, not rejected. Returns the other continuation lines and the
    banner's line count.
    """
    if ctx.first_line != 1:
        return cont, 0
    before = cont.filter(pl.col("rec") == 0)
    marks = before.filter(pl.col("line").str.contains(":: Spring Boot ::", literal=True))
    if marks.is_empty():
        return cont, 0
    in_banner = (pl.col("rec") == 0) & (pl.col("line_no") <= marks["line_no"].max())
    return cont.filter(~in_banner), before.filter(in_banner).height


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of Spring Boot/logback lines (whole records) into LOGS records and rejects."""
    line = pl.col("line")
    df = (
        pl.DataFrame({"line": lines.cast(pl.String)})
        .with_row_index("line_no")
        .with_columns(start=line.str.contains(START).fill_null(False))
        .with_columns(rec=pl.col("start").cum_sum())
    )
    # a record start is never blank: only the other lines are looked at
    others = (~df.get_column("start")).arg_true()
    other_lines = df.get_column("line").gather(others)
    blank_other = other_lines.is_null() | ~other_lines.str.contains("[^ \t\r]")
    df = df.with_columns(pl.repeat(False, df.height, eager=True).scatter(others, blank_other).alias("blank"))
    blank = pl.col("blank")  # a column: an eager frame would evaluate the regex again at every use
    skipped = int(df.select((blank & ~pl.col("start")).sum()).item())
    cont = df.filter(~pl.col("start") & ~blank)
    cont, banner = _drop_banner(cont, ctx)

    starts = _records(df.filter(pl.col("start")))
    matched = pl.col("ts_raw").is_not_null()
    recs = starts.filter(matched)
    # stack traces and other continuation lines, joined per record
    tails = (
        cont.filter(pl.col("rec") > 0)
        .group_by("rec", maintain_order=True)
        .agg(pl.col("line").str.join("\n").alias("tail"), pl.len().alias("tail_lines"))
    )
    recs = recs.join(tails, on="rec", how="left", maintain_order="left")
    with_tail = recs.get_column("tail").is_not_null()
    message = recs.get_column("message")
    if with_tail.any():  # joined only where there is a tail (most records have none)
        idx = with_tail.arg_true()
        joined = message.gather(idx) + "\n" + recs.get_column("tail").gather(idx)
        message = message.scatter(idx, joined)
    recs = recs.with_columns(message, pl.col("tail_lines").fill_null(0))
    recs, assumed = parse_timestamps(recs, "ts_raw", "ts", ctx.timezone, _TIME_FORMATS)

    bad_starts = starts.filter(~matched).select(
        "line_no", "rec", pl.lit("not a Spring Boot/logback log line").alias("reason")
    )
    bad_ts = recs.filter(pl.col("ts").is_null()).select(
        "line_no", "rec", pl.lit("unreadable timestamp").alias("reason")
    )
    good = recs.filter(pl.col("ts").is_not_null())
    attributes = kv_map(
        good, [("thread", pl.col("thread")), ("pid", pl.col("pid")), ("export", pl.col("export"))]
    )
    bad = pl.concat([bad_starts, bad_ts])
    # a rejected record takes its continuation lines with it, as one reject
    rejects = (
        bad.join(df.filter(~blank | pl.col("start")).select("rec", "line"), on="rec", maintain_order="right")
        .group_by("line_no", "reason", maintain_order=True)
        .agg(pl.col("line").str.join("\n").alias("raw"), pl.len().alias("n"))
    )
    orphans = cont.filter(pl.col("rec") == 0).select(
        "line_no",
        pl.lit("continuation line without a record").alias("reason"),
        pl.col("line").alias("raw"),
        pl.lit(1, dtype=pl.UInt32).alias("n"),
    )
    rejects = pl.concat([orphans, rejects.with_columns(pl.col("n").cast(pl.UInt32))]).sort("line_no")
    return ParseResult(
        records=finish_logs(good, attributes, ctx, name),
        rejects=base.rejects_frame(rejects, ctx, name),
        record_lines=good.height + int(good["tail_lines"].sum()),
        reject_lines=int(rejects["n"].sum()),
        skipped_lines=skipped + banner,
        tz_assumed=assumed,
        notes={"banner_lines": banner} if banner else {},
    )


def sniff(head: list[str]) -> float:
    """Share of non-blank lines that are Spring/logback record lines or stack-trace continuations.

    Continuations alone never score: at least one record line is required.
    """
    lines = [h for h in head if h.strip()]
    if not lines:
        return 0.0
    records = sum(1 for h in lines if _SNIFF.match(h))
    if not records:
        return 0.0
    frames = sum(1 for h in lines if re.match(r"^(?:\tat |\t\.\.\. [0-9]+ |Caused by: |[ \t]+at )", h))
    return min(1.0, (records + frames) / len(lines))
