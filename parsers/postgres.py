"""PostgreSQL server log (stderr, ``log_destination = 'stderr'``; syslog; Heroku logplex) -> ``slow_queries``.

Entries become records as in :mod:`parsers.postgres_records` (shared with the csvlog and jsonlog parsers);
their prefixes are read by :mod:`parsers.postgres_prefix`.

One record per statement that has a duration::

    2026-11-17 14:32:05.238 UTC [4711] app@shop LOG:  duration: 190.512 ms  statement: UPDATE stock ...
    2026-11-17 14:32:05.240 UTC [4711] app@shop LOG:  duration: 0.512 ms  execute <unnamed>: SELECT ... $1
    2026-11-17 14:32:05.240 UTC [4711] app@shop DETAIL:  parameters: $1 = '42'

* ``log_min_duration_statement``: ``duration: N ms  statement|execute|parse|bind <name>: <sql>``; the
  ``DETAIL:  parameters: ...`` that follows an ``execute``/``bind`` step in the same session (at most 1,000
  entries later) becomes the attribute ``parameters`` (PostgreSQL writes none after another step; such a
  line is skipped).
* ``log_statement`` + ``log_duration``: a ``statement:`` entry and a later ``duration: N ms`` entry (no text)
  of the same session are joined (in a later chunk too); a statement never followed by its duration is not
  a slow query (skipped lines), and a duration never inherits the statement of another session.
* Lock evidence (``process N still waiting for ShareLock ... after 1000.123 ms`` / ``acquired ...``) goes to
  the next record of the same session when the wait began while that record's statement ran (a wait that
  began earlier was a statement too fast to be logged): ``lock_ms`` and the attribute ``lock_wait_ms`` are
  the time waited (each lock once, at its longest line; two locks in turn add up, as MySQL's
  ``Lock_time``), ``lock_wait_for`` the lock waited on longest (``ShareLock on transaction 9``); in a later
  chunk too (carried, :func:`parsers.postgres_carry.lock_step`).

Entries start at a line that begins with a timestamp (optionally after ``<``); other lines (TAB-indented
statement text) continue the previous entry. The ``log_line_prefix`` is read from what it contains:
``[pid]``, ``user=``/``db=``/``app=``/``client=``/``host=``, ``%u@%d``, RDS-style ``:%h:%u@%d:[%p]:``.
``ts`` is the statement start (log time minus duration), ``end_ts`` the log time. Zone abbreviations map
to fixed offsets; an unknown or missing zone takes ``ctx.timezone`` (counted in ``tz_assumed``).

Through syslog (``Feb 11 13:15:40 host postgres[10819]: [7-1] <prefix> LOG:  ...``) or Heroku logplex
(``2019-03-14T00:23:00+00:00 app[postgres.4821]: [GREEN] [20-1]  ... LOG:  ...``): ``[N-k]`` is line k of
message N; lines of the same (pid, N) join their entry even when other processes' lines interleave (and
chunks are never cut inside such a message); ``#011`` is a TAB; a ``[N-k]`` line with its own prefix +
severity (DETAIL, HINT, ...) starts an entry of its own. Other programs' syslog lines are skipped. Syslog
times have no year and no zone: the year is ``ctx.year`` (the year of the chunk's first line) or else the
fixed :data:`FALLBACK_YEAR` (never the wall clock; counted in ``notes["year_assumed"]``), plus one at each
month that goes down within the chunk (December -> January); the zone is ``ctx.timezone``. A time in the
``log_line_prefix`` (``%t``/``%m``) wins over the syslog time.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pyarrow as pa

from parsers import base, carry, postgres_chunks
from parsers.base import Kind, ParseContext, ParseResult
from parsers.postgres_prefix import (
    LINE,
    PID,
    SEVERITIES,
    START,
    line_fields,
    prefix_fields,
    split_severity,
    split_with_prefix,
)
from parsers.postgres_records import build

name = "postgresql"
kind: Kind = "slow_queries"
description = (
    "PostgreSQL stderr/syslog/Heroku logplex log: log_min_duration_statement, log_statement + log_duration, "
    "lock waits"
)
example = "2026-11-17 14:32:05.238 UTC [4711] shop@shop LOG:  duration: 190.512 ms  statement: SELECT 1"

# --- syslog and Heroku logplex ----------------------------------------------------------------------------

# Year of syslog times when ``ctx.year`` is not given: fixed (never the wall clock, so a run is repeatable),
# a leap year (``Feb 29`` reads) and far from any real trace, so a wrong year cannot link by time.
FALLBACK_YEAR = 2000
_SYSLOG_TS = r"[A-Z][a-z]{2} +[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
_ISO_TS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
_ISO_ZONE = r"Z|[+-][0-9]{2}:?[0-9]{2}"
_TAG = r"\[([0-9]+)-([0-9]+)\](?: |$)"
# time (BSD or RFC 3339), host, program[pid]:, optional [N-k] tag (syslog_sequence_numbers), text
_SYSLOG = (
    rf"^(?:({_SYSLOG_TS})|({_ISO_TS})({_ISO_ZONE})) ([^ ]+) ([^ \[\]:]+)\[([0-9]+)\]: (?:{_TAG})?((?s:.*))$"
)
# time, optional drain token, app[postgres.PID], optional [COLOR] attachment, [N-k] tag, text
_LOGPLEX = (
    rf"^({_ISO_TS})({_ISO_ZONE})(?: ([^ ]+))? app\[postgres\.([0-9]+)\]:? (?:\[[A-Z0-9_]+\] )?{_TAG}"
    r"((?s:.*))$"
)
_PREFIX_SEV = rf"^(|.*?[ :\]>])({SEVERITIES}):[ \t]+((?s:.*))$"


def _syslog_tags(lines: pl.Series) -> pl.DataFrame | None:
    """:func:`_syslog_lines` of a chunk with syslog or logplex lines (of PostgreSQL or another program), else
    None; a search without captures decides first (most logs have none)."""
    if not (lines.str.contains(_SYSLOG).any() or lines.str.contains(_LOGPLEX).any()):
        return None
    tags = _syslog_lines(lines)
    return tags if tags["pg"].any() or tags["other"].any() else None


def _syslog_lines(lines: pl.Series) -> pl.DataFrame:
    """Per line: ``pg`` (a PostgreSQL syslog/logplex line), ``other`` (another program's syslog line), the
    BSD time ``mon_ts``, the RFC 3339 ``iso_ts`` + ``iso_zone``, ``pid``, ``seq`` (N), ``part`` (k), ``text``
    (``#011`` -> TAB)."""
    line = pl.col("line")
    sl = line.str.extract_groups(_SYSLOG).struct
    lp = line.str.extract_groups(_LOGPLEX).struct
    df = pl.DataFrame({"line": lines}).select(
        mon_ts=sl.field("1"),
        iso_ts=pl.coalesce(sl.field("2"), lp.field("1")),
        iso_zone=pl.coalesce(sl.field("3"), lp.field("2")),
        prog=sl.field("5"),
        pid=pl.coalesce(sl.field("6"), lp.field("4")),
        seq=pl.coalesce(sl.field("7"), lp.field("5")),
        part=pl.coalesce(sl.field("8"), lp.field("6")).cast(pl.Int64),
        text=pl.coalesce(sl.field("9"), lp.field("7")),
        logplex=lp.field("1").is_not_null(),
    )
    pg = pl.col("logplex") | pl.col("seq").is_not_null() | pl.col("prog").str.contains("(?i)postgres")
    return df.with_columns(
        pg=pg.fill_null(False),
        other=(pl.col("pid").is_not_null() & ~pg).fill_null(False),
        text=pl.col("text").str.replace_all("#011", "\t", literal=True),
    )


def _uncuttable(tags: pl.DataFrame) -> pl.Series:
    """Lines between the first line of a tagged message and its last continuation (other processes' lines
    may interleave): a chunk must not be cut there."""
    spans = (
        tags.with_row_index("i")
        .with_columns(key=pl.concat_str("pid", "seq", separator="/"))
        .with_columns(
            first=pl.when(pl.col("part") == 1).then(pl.col("i")).forward_fill().over("key"),
        )
        .filter((pl.col("part") > 1) & pl.col("first").is_not_null() & (pl.col("first") < pl.col("i")))
    )
    return postgres_chunks.covered(tags.height, spans["first"] + 1, spans["i"])


def sniff(head: list[str]) -> float:
    """High when prefixed lines (stderr, or the text of syslog/logplex lines) carry PostgreSQL severities and
    duration/statement messages."""
    lines = pl.Series(head, dtype=pl.String)
    if lines.is_empty():
        return 0.0
    tags = _syslog_lines(lines)
    text = tags.select(pl.when(pl.col("pg")).then(pl.col("text")).otherwise(pl.lit(None))).to_series()
    via_syslog = text.str.contains(_PREFIX_SEV) | (tags["pg"] & tags["part"].gt(1))
    parsed = lines.str.contains(LINE) | via_syslog.fill_null(False)
    n = int(parsed.sum())
    if not n:
        return 0.0
    typical = lines.str.contains(
        r"LOG:[ \t]+(?:duration: |statement: |execute |connection |checkpoint)"
    ).any()
    return 0.95 if typical else 0.6 + 0.3 * n / len(lines)


def record_start(lines: pl.Series) -> pl.Series:
    """Mask of lines that begin an entry: a timestamp (stderr; continuation lines do not), the ``[N-1]`` line
    of a syslog/logplex message or another program's syslog line, but never inside a message whose
    continuations are still to come, nor between entries the parser joins (:mod:`parsers.postgres_chunks`)."""
    stderr = lines.str.contains(START).fill_null(False)
    tags = _syslog_tags(lines)
    starts = stderr
    if tags is not None:
        first = (tags["pg"] & (tags["part"].fill_null(1) == 1)) | tags["other"]
        starts = ((stderr & ~tags["pg"]) | first) & ~_uncuttable(tags)
    if not lines.str.contains(postgres_chunks.MAY_PAIR).any():
        return starts  # no entry the parser would join with another (every line is cheap to look at)
    if tags is not None:
        at_start = tags.filter(starts).select(
            pl.when(pl.col("pg")).then(pl.col("text")).alias("text"), session="pid"
        )
    else:
        at_start = pl.DataFrame({"text": lines.filter(starts)})
    # cheap reads (no capture of the whole message): this runs in the reader's thread
    entry = split_severity(at_start, "text").rename({"pre": "prefix", "msg1": "msg"})
    kinds = entry.select(postgres_chunks.kind(pl.col("sev"), pl.col("msg"))).to_series()
    if "session" not in entry.columns:
        # the parser's session: the pid in brackets, else none (all entries without one are one session)
        entry = entry.with_columns(session=pl.col("prefix").str.extract(PID, 1))
    bound = entry.select(postgres_chunks.takes_parameters(pl.col("msg"))).to_series()
    return postgres_chunks.cuts(starts, entry["session"], kinds, bound)


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse whole entries (see the module docstring): syslog/logplex when the chunk has such lines."""
    lines = lines.cast(pl.String).str.strip_suffix("\r")
    tags = _syslog_tags(lines)  # (a chunk may hold only other programs' syslog lines)
    return _parse_stderr(lines, ctx) if tags is None else _parse_syslog(lines, tags, ctx)


def _syslog_time(tags: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """``ts_text``/``zone`` from the syslog or logplex time; BSD times take ``ctx.year`` (else
    :data:`FALLBACK_YEAR`), plus one per December -> January (month going down) seen before in the chunk."""
    month = pl.col("mon_ts").str.slice(0, 3).replace_strict(carry.MONTHS, default=None, return_dtype=pl.Int64)
    tags = tags.with_columns(month=month)
    first = ctx.year if ctx.year is not None else FALLBACK_YEAR
    tags = tags.with_columns(year=carry.rolled_years(pl.col("month"), first))
    dm = pl.col("mon_ts").str.extract_groups(r"^[A-Z][a-z]{2} +([0-9]{1,2}) ([0-9:]{8})$").struct
    bsd = pl.format(
        "{}-{}-{} {}",
        pl.col("year"),
        pl.col("month").cast(pl.String).str.zfill(2),
        dm.field("1").str.zfill(2),
        dm.field("2"),
    )
    return tags.with_columns(
        sys_ts=pl.coalesce(pl.col("iso_ts"), bsd),
        sys_zone=pl.col("iso_zone"),
        year_guess=pl.col("mon_ts").is_not_null() & pl.lit(ctx.year is None),
    )


def _year_step(months: pl.Series, ctx: ParseContext) -> Callable[[pl.DataFrame], dict[str, carry.Step]]:
    """The carried year of BSD syslog times (:func:`parsers.carry.syslog_year`) for the records
    ``good["bsd_time"]`` marks: their ``end_ts`` moves by whole years, ``ts`` keeps its distance to it."""
    assumed = ctx.year if ctx.year is not None else FALLBACK_YEAR

    def steps(good: pl.DataFrame) -> dict[str, carry.Step]:
        rows = good["bsd_time"].arg_true().to_numpy()

        def shift(result: ParseResult, years: int) -> None:
            if not len(rows):
                return
            table = result.records
            end = pl.Series(table.column("end_ts").take(rows))
            moved = carry.offset_years(end, years, ctx.timezone)
            start = moved - (end - pl.Series(table.column("ts").take(rows)))
            table = carry.set_rows(table, "end_ts", rows, moved)
            result.records = carry.set_rows(table, "ts", rows, start)

        return {"syslog.year": carry.syslog_year(months, assumed, shift)}

    return steps


def _parse_syslog(lines: pl.Series, tags: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    """Entries of syslog/logplex lines: a line whose text has a prefix + severity (or a ``[N-1]`` line) starts
    one; the other lines of the same (pid, N) continue it, whatever lines interleave."""
    df = _syslog_time(tags.with_columns(line=lines).with_row_index("line_no"), ctx)
    skipped_other = df.filter(pl.col("other"))
    rest = df.filter(~pl.col("pg") & ~pl.col("other"))
    stray = rest.select(pl.col("line_no").cast(pl.Int64), raw="line")
    pg = df.filter(pl.col("pg"))
    text = pl.col("text")
    # LINE's groups (a prefix with its own time) and _PREFIX_SEV's (any prefix): rest2, sev2, msg2
    pg = line_fields(pg, "text").rename({"pre": "rest2", "any_sev": "sev2", "any_msg": "msg2"})
    has_sev = ~text.str.starts_with("\t") & (pl.col("sev").is_not_null() | pl.col("sev2").is_not_null())
    pg = pg.with_columns(
        key=pl.concat_str(pl.col("pid"), pl.col("seq").fill_null(""), separator="/"),
        start=(pl.col("part") == 1).fill_null(False) | has_sev,
    ).with_columns(local=pl.col("start").cast(pl.Int64).cum_sum().over("key"))
    orphan = pg.filter(pl.col("local") == 0)
    body = pg.filter(pl.col("local") > 0)
    ent = (
        body.group_by("key", "local")
        .agg(
            pl.col("line_no").first(),
            pl.len().alias("n_lines"),
            pl.col("text").slice(1).str.strip_prefix("\t").str.join("\n").alias("cont"),
            pl.col("line").str.join("\n").alias("raw"),
            pl.all().exclude("line_no", "text", "line", "key", "local").first(),
        )
        .sort("line_no")
        .with_row_index("entry", offset=1)
    )
    in_prefix = pl.col("sev").is_not_null()  # the log_line_prefix has its own %t/%m time
    ent = ent.with_columns(
        ts_text=pl.when(in_prefix).then(pl.col("ts_text")).otherwise(pl.col("sys_ts")),
        zone=pl.when(in_prefix).then(pl.col("zone")).otherwise(pl.col("sys_zone")),
        year_assumed=~in_prefix & pl.col("year_guess"),
        bsd_time=~in_prefix & pl.col("mon_ts").is_not_null(),
        rest=pl.when(in_prefix).then(pl.col("after_time")).otherwise(pl.col("rest2")),
        sev=pl.coalesce("sev", "sev2"),
        msg1=pl.coalesce("msg1", "msg2"),
        syslog_pid=pl.col("pid"),
    )
    ent = base.by_value(ent.drop("pid"), "rest", _prefix_columns)
    ent = ent.with_columns(
        pid=pl.col("syslog_pid"),
        session=pl.col("syslog_pid"),
        msg=pl.when(pl.col("cont").str.len_chars() > 0)
        .then(pl.concat_str("msg1", "cont", separator="\n"))
        .otherwise(pl.col("msg1")),
        detail=pl.lit(None, dtype=pl.String),
        reason=pl.when(pl.col("sev").is_null()).then(
            pl.lit("syslog line of PostgreSQL without a log_line_prefix + severity")
        ),
    )
    result = build(ent, ctx, name, stray, skipped_other.height, _year_step(df["month"], ctx))
    if orphan.height:
        extra = base.rejects_frame(
            orphan.select(
                pl.col("line_no").cast(pl.Int64),
                pl.lit("continuation line whose message start ([N-1]) is not in this chunk").alias("reason"),
                raw="line",
            ),
            ctx,
            name,
        )
        result.rejects = pa.concat_tables([result.rejects, extra])
        result.reject_lines += orphan.height
    return result


def _stderr_entries(lines: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The entries (``entry``, ``line_no``, ``n_lines``, ``first`` line, ``cont``: the continuation lines
    without their TAB, ``raw``) and the stray lines before the first entry (``line_no``, ``raw``).

    Continuation lines are gathered only for the entries that have some (most have none).
    """
    df = (
        pl.DataFrame({"line": lines})
        .with_row_index("line_no")
        .with_columns(start=pl.col("line").str.contains(START))
        .with_columns(entry=pl.col("start").cum_sum())
    )
    heads = df.filter(pl.col("start")).select("entry", "line_no", first="line")
    if heads.height == df.height:
        stray = df.clear().select(pl.col("line_no").cast(pl.Int64), raw="line")
        ent = heads.with_columns(n_lines=pl.lit(1, pl.UInt32), cont=pl.lit(""), raw=pl.col("first"))
        return ent, stray
    stray = df.filter(pl.col("entry") == 0).select(pl.col("line_no").cast(pl.Int64), raw="line")
    # Continuation lines: PostgreSQL indents each with one TAB, which is not part of the text.
    more = (
        df.filter(~pl.col("start") & (pl.col("entry") > 0))
        .group_by("entry")
        .agg(
            pl.len().alias("n_more"),
            pl.col("line").str.strip_prefix("\t").str.join("\n").alias("cont"),
            pl.col("line").str.join("\n").alias("more"),
        )
    )
    ent = heads.join(more, on="entry", how="left", maintain_order="left").select(
        "entry",
        "line_no",
        n_lines=(pl.col("n_more").fill_null(0) + 1).cast(pl.UInt32),
        first="first",
        cont=pl.col("cont").fill_null(""),
        raw=pl.when(pl.col("more").is_null())
        .then(pl.col("first"))
        .otherwise(pl.concat_str("first", "more", separator="\n")),
    )
    return ent, stray


def _prefix_columns(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(**prefix_fields(pl.col("rest")))


def _parse_stderr(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse whole stderr entries (see the module docstring)."""
    ent, stray = _stderr_entries(lines)
    prefix = ctx.options.get("log_line_prefix")
    if prefix is not None:
        ent = split_with_prefix(ent, prefix)
    else:
        ent = (
            line_fields(ent, "first").drop("pre", "any_sev", "any_msg", "rest").rename({"after_time": "rest"})
        )
        ent = base.by_value(ent, "rest", _prefix_columns)
    ent = ent.with_columns(
        msg=pl.when(pl.col("cont").str.len_chars() > 0)
        .then(pl.concat_str("msg1", "cont", separator="\n"))
        .otherwise(pl.col("msg1")),
        detail=pl.lit(None, dtype=pl.String),
        reason=pl.when(pl.col("sev").is_null()).then(
            pl.lit("line starts with a timestamp but does not match a PostgreSQL log_line_prefix + severity")
        ),
    )
    ent = ent.with_columns(session=pl.coalesce("pid", pl.lit("")))
    return build(ent, ctx, name, stray)
