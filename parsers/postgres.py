"""PostgreSQL server log (stderr, ``log_destination = 'stderr'``) -> ``slow_queries``; and the core shared
with the csvlog (:mod:`parsers.postgres_csv`) and jsonlog (:mod:`parsers.postgres_json`) parsers.

One record per statement that has a duration::

    2026-11-17 14:32:05.238 UTC [4711] app@shop LOG:  duration: 190.512 ms  statement: UPDATE stock ...
    2026-11-17 14:32:05.240 UTC [4711] app@shop LOG:  duration: 0.512 ms  execute <unnamed>: SELECT ... $1
    2026-11-17 14:32:05.240 UTC [4711] app@shop DETAIL:  parameters: $1 = '42'

* ``log_min_duration_statement``: ``duration: N ms  statement|execute|parse|bind <name>: <sql>``; a
  following ``DETAIL:  parameters: ...`` of the same session (at most 1,000 entries later) becomes the
  attribute ``parameters``.
* ``log_statement`` + ``log_duration``: a ``statement:`` entry and a later ``duration: N ms`` entry (no text)
  of the same session are joined; a statement never followed by its duration is not a slow query (skipped
  lines), and a duration never inherits the statement of another session.
* Lock evidence (``process N still waiting for ShareLock ... after 1000.123 ms`` / ``acquired ...``) goes to
  the next record of the same session as ``lock_ms`` and the attribute ``lock_wait_ms``, in a later chunk too
  (carried, :func:`_lock_step`).

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

import re
from collections.abc import Callable
from typing import NamedTuple, cast

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import base, carry, postgres_chunks, schema, sqltext
from parsers.base import Kind, ParseContext, ParseResult

name = "postgresql"
kind: Kind = "slow_queries"
description = (
    "PostgreSQL stderr/syslog/Heroku logplex log: log_min_duration_statement, log_statement + log_duration, "
    "lock waits"
)
example = "2026-11-17 14:32:05.238 UTC [4711] shop@shop LOG:  duration: 190.512 ms  statement: SELECT 1"

ENGINE = "postgresql"

# --- shared: time -----------------------------------------------------------------------------------------

TS_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?"
_ZONE = r"[A-Za-z]{1,5}|[+-][0-9]{2}(?::?[0-9]{2})?"
# Common abbreviations -> minutes east of UTC (PostgreSQL writes the abbreviation of log_timezone).
ZONES: dict[str, int] = {
    "UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "WET": 0, "WEST": 60, "BST": 60, "IST": 330,
    "CET": 60, "CEST": 120, "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    "AKST": -540, "AKDT": -480, "HST": -600, "NZST": 720, "NZDT": 780, "AEST": 600, "AEDT": 660,
    "ACST": 570, "AWST": 480, "JST": 540, "KST": 540, "HKT": 480, "SGT": 480, "WIB": 420, "BRT": -180,
    "ART": -180,
}  # fmt: skip


def log_time(ts_text: pl.Expr, zone: pl.Expr, timezone: str) -> tuple[pl.Expr, pl.Expr]:
    """(UTC time, zone assumed) from a zone-less ``YYYY-MM-DD HH:MM:SS[.fff]`` text and a zone text.

    The zone is an abbreviation of :data:`ZONES` or a numeric offset (``+02``, ``-0530``); anything else
    (or none) takes ``timezone``.
    """
    naive = ts_text.str.replace(",", ".", literal=True).str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us"
    )
    naive = pl.coalesce(naive, ts_text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us"))
    abbrev = zone.str.to_uppercase().replace_strict(ZONES, default=None, return_dtype=pl.Int64)
    sign = pl.when(zone.str.starts_with("-")).then(-1).otherwise(1)
    numeric = zone.str.extract_groups(r"^[+-]([0-9]{2}):?([0-9]{2})?$")
    offset = pl.coalesce(
        abbrev,
        sign
        * (
            numeric.struct.field("1").cast(pl.Int64) * 60
            + numeric.struct.field("2").cast(pl.Int64).fill_null(0)
        ),
    )
    known = naive.dt.replace_time_zone("UTC") - pl.duration(minutes=offset)
    assumed = (
        naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.cast_time_unit("us")
    )
    return pl.coalesce(known, assumed).cast(pl.Datetime("us", "UTC")), offset.is_null() & naive.is_not_null()


# --- shared: messages -------------------------------------------------------------------------------------

_STEP = r"statement|execute|parse|bind|fastpath function call"
_DURATION = rf"^duration: ([0-9]+(?:\.[0-9]+)?) ms(?:[ \t]+({_STEP})(?: ([^:]+?))?:[ \t]?((?s:.*)))?$"
_STATEMENT = rf"^({_STEP})(?: ([^:]+?))?:[ \t]?((?s:.*))$"
_LOCK = r"^process [0-9]+ (still waiting for|acquired) (.+?) after ([0-9]+(?:\.[0-9]+)?) ms"
_PARAMS = r"^parameters: ((?s:.*))$"
# Optional per-format columns carried into the attribute bag when present.
EXTRA_ATTRIBUTES = (
    "app",
    "session_id",
    "query_id",
    "command_tag",
    "backend_type",
    "virtual_transaction_id",
    "transaction_id",
)


# the heads of _DURATION and _STATEMENT (group 1 the whole head): a group over the rest of a message
# (``((?s:.*))$``) would run the slow capturing engine over all of it; the rest is a slice instead
_DURATION_HEAD = rf"^(duration: ([0-9]+(?:\.[0-9]+)?) ms(?:[ \t]+({_STEP})(?: ([^:]+?))?:[ \t]?)?)"
_STATEMENT_HEAD = rf"^(({_STEP})(?: ([^:]+?))?:[ \t]?)"
_PARAMS_HEAD = "parameters: "


def _classify(ev: pl.DataFrame) -> pl.DataFrame:
    """Message columns -> dur, step, stmt_name, stmt_text, lock values and ``k`` (F D S L P O).

    The messages are read as :data:`_DURATION`, :data:`_STATEMENT`, :data:`_LOCK` and :data:`_PARAMS` read
    them, by their heads.
    """
    msg = pl.col("msg")
    ev = ev.with_columns(
        d=msg.str.extract_groups(_DURATION_HEAD).struct.rename_fields(["d_head", "dur", "d_step", "d_name"]),
        s=msg.str.extract_groups(_STATEMENT_HEAD).struct.rename_fields(["s_head", "s_step", "s_name"]),
        lk=msg.str.extract_groups(_LOCK).struct.rename_fields(["lock_what", "lock_obj", "lock_val"]),
        params_same=_after_prefix(pl.col("detail"), _PARAMS_HEAD),
        p_text=_after_prefix(msg, _PARAMS_HEAD),
    ).unnest("d", "s", "lk")
    ev = ev.with_columns(
        d_rest=msg.str.slice(pl.col("d_head").str.len_chars()),
        s_text=msg.str.slice(pl.col("s_head").str.len_chars()),
    )
    # `duration: N ms` is all of the message unless a step follows (_DURATION ends in `$`)
    stepped = pl.col("d_step").is_not_null()
    ev = ev.with_columns(
        dur=pl.when(stepped | (pl.col("d_rest") == "")).then(pl.col("dur")),
        d_text=pl.when(stepped).then(pl.col("d_rest")),
    ).drop("d_head", "s_head", "d_rest")
    log = pl.col("sev") == "LOG"
    return ev.with_columns(
        k=pl.when(log & pl.col("dur").is_not_null() & pl.col("d_step").is_not_null())
        .then(pl.lit("F"))
        .when(log & pl.col("dur").is_not_null())
        .then(pl.lit("D"))
        .when(log & pl.col("s_step").is_not_null())
        .then(pl.lit("S"))
        .when(log & pl.col("lock_val").is_not_null())
        .then(pl.lit("L"))
        .when((pl.col("sev") == "DETAIL") & pl.col("p_text").is_not_null())
        .then(pl.lit("P"))
        .otherwise(pl.lit("O"))
    )


def _after_prefix(text: pl.Expr, prefix: str) -> pl.Expr:
    """The text after ``prefix``; null when it does not start with it."""
    return pl.when(text.str.starts_with(prefix)).then(text.str.slice(len(prefix)))


def _assign(ev: pl.DataFrame) -> pl.DataFrame:
    """``rec``: the record (entry id of its duration line) each entry belongs to; null for the others.

    A ``D`` right after an ``S`` of the same session (no other statement/duration in between) takes that
    statement; parameters go to the last F/D/S entry of their session (if at most
    :data:`postgres_chunks.PARAMS_WINDOW` entries away); lock lines to the next record.
    """
    k = pl.col("k")
    q = ev.filter(k.is_in(["F", "D", "S"])).select("entry", "session", "k")
    q = q.with_columns(
        prev_k=k.shift(1).over("session"),
        prev_entry=pl.col("entry").shift(1).over("session"),
        next_k=k.shift(-1).over("session"),
        next_entry=pl.col("entry").shift(-1).over("session"),
    )
    q = q.with_columns(
        rec=pl.when(k == "F")
        .then(pl.col("entry"))
        .when(k == "D")
        .then(pl.col("entry"))
        .when((k == "S") & (pl.col("next_k") == "D"))
        .then(pl.col("next_entry")),
        stmt_from=pl.when((k == "D") & (pl.col("prev_k") == "S")).then(pl.col("prev_entry")),
    )
    ev = ev.join(q.select("entry", "rec", "stmt_from"), on="entry", how="left")
    # parameters -> owner's record
    own = ev.filter(k.is_in(["F", "D", "S", "P"])).select("entry", "session", "k", "rec")
    own = own.with_columns(
        owner_rec=pl.when(k != "P").then(pl.col("rec")).otherwise(None),
        owner_at=pl.when(k != "P").then(pl.col("entry")),
        is_owner=k != "P",
    ).with_columns(
        owner_rec=pl.when(pl.col("is_owner"))
        .then(pl.col("owner_rec").fill_null(-1))
        .forward_fill()
        .over("session"),
        owner_at=pl.col("owner_at").forward_fill().over("session"),
    )
    near = pl.col("entry") - pl.col("owner_at") <= postgres_chunks.PARAMS_WINDOW
    own = own.filter((k == "P") & (pl.col("owner_rec") >= 0) & near).select("entry", p_rec="owner_rec")
    ev = ev.join(own, on="entry", how="left").with_columns(rec=pl.coalesce("rec", "p_rec")).drop("p_rec")
    # locks -> next record of the session
    lk = ev.filter(k.is_in(["F", "D", "L"])).select("entry", "session", "k", "lock_val")
    lk = lk.with_columns(is_rec=(k != "L").cast(pl.Int64)).with_columns(
        grp=(pl.col("is_rec").cum_sum() - pl.col("is_rec")).over("session")
    )
    waits = (
        lk.filter(k == "L")
        .group_by("session", "grp")
        .agg(pl.col("lock_val").cast(pl.Float64).max().alias("lock_wait"))
    )
    recs = lk.filter(k != "L").join(waits, on=["session", "grp"], how="inner").select("entry", "lock_wait")
    return ev.join(recs, on="entry", how="left")


def build(
    ev: pl.DataFrame,
    ctx: ParseContext,
    fmt: str,
    stray: pl.DataFrame | None = None,
    skipped: int = 0,
    carry_steps: Callable[[pl.DataFrame], dict[str, carry.Step]] | None = None,
) -> ParseResult:
    """Records and rejects from parsed log entries (one row each, in file order).

    ``ev`` columns: ``entry`` (increasing), ``line_no``, ``n_lines``, ``raw``, ``reason`` (non-null: reject
    the entry), ``ts_text``, ``zone``, ``session``, ``pid``, ``sev``, ``msg``, ``detail``, ``db_user``,
    ``db``, ``client_host`` and any of :data:`EXTRA_ATTRIBUTES`. ``stray``: lines outside any entry
    (``line_no``, ``raw``; blank ones are skipped, others rejected). ``skipped``: lines left out before
    (other programs' syslog lines). An optional boolean column ``year_assumed`` is counted in
    ``notes["year_assumed"]`` over the records. ``carry_steps`` makes the steps of the values carried across
    chunks (:mod:`parsers.carry`) from the records' frame (a row per record, in order).
    """
    for col in EXTRA_ATTRIBUTES:
        if col not in ev.columns:
            ev = ev.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    bad = ev.filter(pl.col("reason").is_not_null())
    ev = _assign(_classify(ev.filter(pl.col("reason").is_null())))
    end, assumed = log_time(pl.col("ts_text"), pl.col("zone"), ctx.timezone)
    ev = ev.with_columns(end_ts=end, tz_assumed=assumed)
    member = ev.filter(pl.col("rec").is_not_null())
    head = member.filter(pl.col("entry") == pl.col("rec"))
    stmt_src = ev.select(
        pl.col("entry").alias("stmt_from"),
        pl.col("s_step").alias("p_step"),
        pl.col("s_name").alias("p_name"),
        pl.col("s_text").alias("p_text_stmt"),
        pl.col("params_same").alias("p_params_same"),
    )
    agg = member.group_by("rec").agg(
        pl.col("n_lines").sum().alias("n_all"),
        pl.col("line_no").min().alias("first_line"),
        pl.col("p_text").drop_nulls().str.join("; ").alias("params_p"),
        pl.col("p_text").is_not_null().sum().alias("n_params"),
    )
    rec = (
        head.join(stmt_src, on="stmt_from", how="left")
        .join(agg, left_on="entry", right_on="rec", how="left")
        .with_columns(
            step=pl.coalesce("d_step", "p_step"),
            stmt_name=pl.coalesce("d_name", "p_name"),
            statement=pl.coalesce("d_text", "p_text_stmt"),
            duration_ms=pl.col("dur").cast(pl.Float64),
        )
        .with_columns(
            ts=(pl.col("end_ts") - pl.duration(microseconds=(pl.col("duration_ms") * 1000).round(0))),
            line_no=pl.col("first_line"),
        )
    )
    rec = rec.with_columns(
        reason=pl.when(pl.col("end_ts").is_null()).then(
            pl.format("unreadable log time '{} {}'", pl.col("ts_text"), pl.col("zone").fill_null(""))
        )
    )
    bad_rec = rec.filter(pl.col("reason").is_not_null())
    good = rec.filter(pl.col("reason").is_null())
    table = _table(good, ctx, fmt)

    stray = stray if stray is not None else pl.DataFrame({"line_no": [], "raw": []}, schema=_STRAY)
    blank = stray["raw"].str.strip_chars() == ""
    stray_bad = stray.filter(~blank)
    reject_frames = [
        stray_bad.select(
            pl.col("line_no").cast(pl.Int64),
            pl.lit("line outside any PostgreSQL log entry").alias("reason"),
            "raw",
        ),
        bad.select(pl.col("line_no").cast(pl.Int64), "reason", "raw"),
        bad_rec.select(pl.col("line_no").cast(pl.Int64), "reason", "raw"),
    ]
    rejects = pl.concat(reject_frames).sort("line_no")
    total = int(ev["n_lines"].sum()) + int(bad["n_lines"].sum()) + stray.height + skipped
    record_lines = int(good["n_all"].sum())
    reject_lines = int(bad["n_lines"].sum()) + int(bad_rec["n_all"].sum()) + stray_bad.height
    return ParseResult(
        records=table,
        rejects=base.rejects_frame(rejects, ctx, fmt),
        record_lines=record_lines,
        reject_lines=reject_lines,
        skipped_lines=total - record_lines - reject_lines,
        tz_assumed=int(good["tz_assumed"].sum()),
        notes={"year_assumed": int(good["year_assumed"].sum())} if "year_assumed" in good.columns else {},
        # in this order: a statement given to a record rebuilds its row, which the other steps then correct
        carry={
            "postgresql.statements": _statement_step(ev, rec, ctx, fmt),
            **(carry_steps(good) if carry_steps is not None else {}),
            "postgresql.locks": _lock_step(ev, good, _ATTRIBUTE_KEYS),
        },
    )


def _attribute_pairs() -> list[tuple[str, pl.Expr]]:
    return [
        ("pid", pl.col("pid")),
        ("query_step", pl.col("step")),
        ("statement_name", pl.col("stmt_name")),
        ("parameters", pl.col("params")),
        (_LOCK_KEY, pl.col("lock_wait")),
        ("severity", pl.col("sev")),
        *((c if c != "app" else "application_name", _nonempty(pl.col(c))) for c in EXTRA_ATTRIBUTES),
    ]


def _table(good: pl.DataFrame, ctx: ParseContext, fmt: str) -> pa.Table:
    """The records' table from their frame (a row per record: ``statement``, ``params_p``/``n_params``
    (the parameters entries), ``params_same``/``p_params_same`` (parameters of the record's or its
    statement's own entry), ``step``, ``lock_wait``, the prefix columns, ...)."""
    params = pl.coalesce(
        pl.when(pl.col("params_p") != "").then(pl.col("params_p")), "params_same", "p_params_same"
    )
    good = good.with_columns(statement=pl.col("statement").str.strip_chars_end(" \t\r\n"), params=params)
    out = sqltext.statement_columns(good, "postgresql")
    out = out.with_columns(
        engine=pl.lit(ENGINE),
        server=pl.lit(None, dtype=pl.String),
        lock_ms=pl.col("lock_wait"),
    )
    table = base.finish(out, ctx, fmt, schema.SLOW_QUERIES)
    field = schema.SLOW_QUERIES.field("attributes")
    bags = base.kv_map(out, _attribute_pairs())
    return table.set_column(table.schema.get_field_index("attributes"), field, bags)


_LOCK_KEY = "lock_wait_ms"


def _lock_step(ev: pl.DataFrame, good: pl.DataFrame, keys: list[str]) -> carry.Step:
    """The step of lock waits whose record is in a later chunk.

    A lock wait goes to the next record of its session (:func:`_assign`), however far away, so the reader may
    cut between them. The value carried is, per session, the longest wait still waiting for its record. A
    chunk gives it to the first record of that session (``lock_ms``, attribute ``lock_wait_ms``: the longer
    of it and the record's own) and carries on the sessions it has no record of, with its own trailing
    waits.
    """
    k = pl.col("k")
    records = ev.filter(k.is_in(["F", "D"]))
    last = records.group_by("session").agg(pl.col("entry").max().alias("last"))
    trailing = (
        ev.filter(k == "L")
        .join(last, on="session", how="left", nulls_equal=True)
        .filter(pl.col("last").is_null() | (pl.col("entry") > pl.col("last")))
        .group_by("session")
        .agg(pl.col("lock_val").cast(pl.Float64).max())
    )
    waiting = dict(trailing.rows())
    rows = good.select("entry", "lock_wait").with_row_index("row")  # the records' rows in the table

    def firsts() -> dict[object, tuple[int | None, float | None]]:
        """Per session, the row of its first record (None: rejected) and that record's own wait."""
        first = (
            records.group_by("session")
            .agg(pl.col("entry").min())
            .join(rows, on="entry", how="left")
            .select("session", "row", "lock_wait")
        )
        return {session: (row, own) for session, row, own in first.rows()}

    def step(result: ParseResult, before: object) -> object:
        state = dict(cast(dict[object, float], before)) if before else {}
        fills: list[tuple[int, float]] = []
        first = firsts() if state else {}  # only when waits come from before (most chunks: none)
        for session in [s for s in state if s in first]:
            carried = state.pop(session)
            row, own = first[session]
            if row is not None:
                fills.append((int(row), carried if own is None else max(carried, float(own))))
        if fills:
            result.records = _set_lock_waits(result.records, sorted(fills), keys)
        for session, wait in waiting.items():
            state[session] = max(wait, state.get(session, wait))
        return state

    return step


def _set_lock_waits(table: pa.Table, fills: list[tuple[int, float]], keys: list[str]) -> pa.Table:
    """``table`` with ``lock_ms`` and the ``lock_wait_ms`` attribute set at the rows of ``fills`` (row, ms;
    in row order); ``keys``: the attribute keys in the order the bags are built in."""
    rows = np.array([r for r, _ in fills], dtype=np.int64)
    waits = pl.Series([w for _, w in fills], dtype=pl.Float64)
    table = carry.set_rows(table, "lock_ms", rows, waits)
    texts = waits.cast(pl.String).to_list()  # as the bags write a number
    i = table.schema.get_field_index("attributes")
    bags = table.column(i).combine_chunks()
    place = keys.index(_LOCK_KEY)
    pieces, done = [], 0
    for row, text in zip(rows.tolist(), texts, strict=True):
        entries = [(key, value) for key, value in bags[row].as_py() if key != _LOCK_KEY]
        at = sum(1 for key, _ in entries if keys.index(key) < place)
        entries.insert(at, (_LOCK_KEY, text))
        pieces += [bags.slice(done, row - done), pa.array([entries], type=bags.type)]
        done = row + 1
    pieces.append(bags.slice(done))
    return table.set_column(i, table.schema.field(i), pa.concat_arrays(pieces))


def _nonempty(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.cast(pl.String) != "").then(expr.cast(pl.String))


_ATTRIBUTE_KEYS = [key for key, _ in _attribute_pairs()]


class _Statement(NamedTuple):
    """A statement waiting for its duration in a later chunk: what its record takes from it."""

    line: int  # 1-based line in the file
    n_lines: int  # its lines and those of its parameters entries
    step: str | None
    name: str | None
    text: str | None
    params: str  # its parameters entries' texts, joined
    n_params: int
    params_same: str | None  # parameters of its own entry (csvlog/jsonlog detail)


def _statement_step(ev: pl.DataFrame, rec: pl.DataFrame, ctx: ParseContext, fmt: str) -> carry.Step:
    """The step of statements whose duration comes in a later chunk (``log_statement`` writes the statement,
    ``log_duration`` or ``log_min_duration_statement`` its ``duration: N ms`` later, other sessions' lines
    between, maybe much later: the reader may cut between them).

    The value carried is, per session, its last statement when nothing of the session followed it in the
    chunks so far (no duration, statement or record). A chunk whose first entry of that session is a
    duration alone gives the statement to that record, which is rebuilt as if both had been in one chunk
    (text, step, name, parameters, first line; the statement's lines count as the record's); any other
    statement or record of the session drops it (a statement never timed is skipped lines).
    """
    k = pl.col("k")
    ours = ev.filter(k.is_in(["F", "D", "S"])).sort("entry")
    sessions = ours.unique("session", keep="first", maintain_order=True)
    last = ours.unique("session", keep="last", maintain_order=True)
    trailing = last.filter(k == "S").select(
        "session", "entry", "line_no", "n_lines", "s_step", "s_name", "s_text", "params_same"
    )
    params = (
        ev.filter(k == "P")
        .join(trailing.select("session", s_entry="entry"), on="session", how="inner")
        .filter(
            (pl.col("entry") > pl.col("s_entry"))
            & (pl.col("entry") - pl.col("s_entry") <= postgres_chunks.PARAMS_WINDOW)
        )
        .group_by("session", maintain_order=True)
        .agg(
            pl.col("n_lines").sum().alias("p_lines"),
            pl.col("p_text").str.join("; ").alias("p_joined"),
            pl.len().alias("p_count"),
        )
    )
    waiting = {
        session: _Statement(
            ctx.first_line + int(line_no),
            int(n) + int(p_lines or 0),
            step,
            sname,
            text,
            p_joined or "",
            int(p_count or 0),
            same,
        )
        for session, line_no, n, step, sname, text, same, p_lines, p_joined, p_count in trailing.join(
            params, on="session", how="left"
        )
        .select(
            "session",
            "line_no",
            "n_lines",
            "s_step",
            "s_name",
            "s_text",
            "params_same",
            "p_lines",
            "p_joined",
            "p_count",
        )
        .iter_rows()
    }
    # the records that may take a statement from before: a session's first entry, a duration alone
    open_ = sessions.filter((k == "D") & pl.col("stmt_from").is_null()).select("session", "entry")
    ok = pl.col("reason").is_null()
    candidates = rec.with_columns(row=pl.when(ok).then(ok.cum_sum() - 1)).join(open_, on="entry", how="inner")

    def step(result: ParseResult, before: object) -> object:
        state = dict(cast(dict[object, _Statement], before)) if before else {}
        if state:
            seen = set(sessions["session"].to_list())
            given = {s: state.pop(s) for s in [s for s in state if s in seen]}
            if given:
                _give_statements(result, candidates, given, ctx, fmt)
        state.update(waiting)
        return state

    return step


def _give_statements(
    result: ParseResult,
    candidates: pl.DataFrame,
    given: dict[object, _Statement],
    ctx: ParseContext,
    fmt: str,
) -> None:
    """Rebuild the rows of the records of ``candidates`` whose session has a statement in ``given``."""
    rows = candidates.filter(pl.col("session").is_in(list(given)))
    if rows.is_empty():
        return
    stmts = [given[s] for s in rows["session"].to_list()]
    own_count = rows["n_params"].fill_null(0).to_list()
    joined = [
        "; ".join(p for p, n in ((st.params, st.n_params), (own or "", c)) if n)
        for st, own, c in zip(stmts, rows["params_p"].to_list(), own_count, strict=True)
    ]
    patched = rows.with_columns(
        step=pl.Series([st.step for st in stmts], dtype=pl.String),
        stmt_name=pl.Series([st.name for st in stmts], dtype=pl.String),
        statement=pl.Series([st.text for st in stmts], dtype=pl.String),
        params_p=pl.Series(joined, dtype=pl.String),
        p_params_same=pl.Series([st.params_same for st in stmts], dtype=pl.String),
        line_no=pl.Series([st.line - ctx.first_line for st in stmts], dtype=pl.Int64),
    )
    moved = sum(st.n_lines for st in stmts)
    good = patched.filter(pl.col("reason").is_null())
    if good.height:
        table = result.records
        fresh = _table(good.drop("row"), ctx, fmt).cast(table.schema)
        order = np.arange(table.num_rows)
        order[good["row"].to_numpy()] = table.num_rows + np.arange(good.height)
        result.records = pa.concat_tables([table, fresh]).take(order)
    bad_lines = sum(
        st.n_lines for st, ok in zip(stmts, patched["reason"].is_null().to_list(), strict=True) if not ok
    )
    result.record_lines += moved - bad_lines
    result.reject_lines += bad_lines
    result.skipped_lines -= moved


_STRAY = {"line_no": pl.Int64, "raw": pl.String}


# --- stderr -----------------------------------------------------------------------------------------------

SEVERITIES = (
    "LOG|ERROR|WARNING|FATAL|PANIC|NOTICE|INFO|DEBUG[1-5]?|DETAIL|HINT|STATEMENT|CONTEXT|LOCATION|QUERY"
)
_START = rf"^(?:<[ \t]*)?{TS_TEXT}"
# lead, time, zone, the character after the zone, rest of the prefix, severity, message. A zone must be
# followed by a blank, `]`, `>` or `:x` (RDS `CET::@:`), so `2026-... LOG:  ` has no zone named LOG.
_LINE = (
    rf"^(?:<[ \t]*)?({TS_TEXT})(?: ?({_ZONE})([ \]>]|:[^ \t]))?(|.*?[ :\]>])"
    rf"({SEVERITIES}):[ \t]+((?s:.*))$"
)
# The severity token, with the character before it (or the start of the text): found by a capture-free
# search, the line is cut at it, and only the short prefix before it is read with captures (a capture over the
# whole line, as in _LINE, runs the slow capturing engine over every message).
_TOKEN = rf"(?:^|[ :\]>])(?:{SEVERITIES}):[ \t]"
_LEAD_TS = rf"^((?:<[ \t]*)?{TS_TEXT})"
_ZONE_PART = rf"^( ?({_ZONE})([ \]>]|:[^ \t]))"


def split_severity(df: pl.DataFrame, column: str) -> pl.DataFrame:
    r"""``df`` with ``pre`` (the text of ``column`` before its first severity token, with the blank, ``:``,
    ``]`` or ``>`` before it), ``sev`` and ``msg1`` (after the blanks that follow it); all null when the
    text has none.

    The cut of ``^(|.*?[ :\]>])(SEVERITY):[ \t]+((?s:.*))$``, made on the bytes (:meth:`str.find` gives a
    byte offset; the severity is ASCII, so the cut falls between characters). Step by step: an expression
    used twice in one step is computed twice.
    """
    text = pl.col(column)
    df = df.with_columns(_at=text.str.find(_TOKEN))
    at = pl.col("_at")
    df = df.with_columns(_at=at + (at.gt(0) | text.str.contains(r"^[ :\]>]")).cast(pl.UInt32))
    raw = text.cast(pl.Binary)
    df = df.with_columns(pre=raw.bin.head(at).cast(pl.String), _after=raw.bin.slice(at).cast(pl.String))
    after = pl.col("_after")
    df = df.with_columns(_colon=after.str.find(":", literal=True))
    colon = pl.col("_colon")
    return df.with_columns(
        sev=after.str.head(colon), msg1=after.str.slice(colon + 1).str.strip_chars_start(" \t")
    ).drop("_at", "_after", "_colon")


def _zone_part(df: pl.DataFrame) -> pl.DataFrame:
    """``between`` (the prefix after its time) -> ``zone``, ``after_zone`` and ``rest`` of :data:`_LINE`."""
    zone = pl.col("between").str.extract_groups(_ZONE_PART)
    df = df.with_columns(z=zone.struct.rename_fields(["zone_head", "zone", "after_zone"])).unnest("z")
    rest = pl.col("between").str.slice(pl.col("zone_head").str.len_chars().fill_null(0))
    return df.with_columns(rest=rest).drop("zone_head")


def line_fields(df: pl.DataFrame, column: str) -> pl.DataFrame:
    """:data:`_LINE`'s groups of ``column`` (``ts_text``, ``zone``, ``after_zone``, ``rest``, ``sev``,
    ``msg1``; all null where it does not match), and ``pre``, ``any_sev``, ``any_msg``: the cut at the
    first severity token whether or not a time leads (:func:`split_severity`)."""
    df = split_severity(df, column).rename({"sev": "any_sev", "msg1": "any_msg"})
    df = df.with_columns(lts=pl.col("pre").str.extract(_LEAD_TS, 1))
    df = df.with_columns(
        ts_text=pl.col("lts").str.strip_chars_start("< \t"),
        between=pl.col("pre").str.slice(pl.col("lts").str.len_chars()),
    )
    df = base.by_value(df, "between", _zone_part)
    timed = pl.col("lts").is_not_null()
    return df.with_columns(
        sev=pl.when(timed).then(pl.col("any_sev")),
        msg1=pl.when(timed).then(pl.col("any_msg")),
    ).drop("lts", "between")


_BRACKETED = r"\[[a-z]+\]|"  # [unknown], [local]: whole, not cut at the `]`
_USER = rf"(?:^|[ ,:\]\[])(?:user|usr)=({_BRACKETED}[^, \t\]]*)"
_DB = rf"(?:^|[ ,:\]\[])(?:db|database)=({_BRACKETED}[^, \t\]]*)"
_APP = rf"(?:^|[ ,:\]\[])(?:app|appli|application_name)=({_BRACKETED}[^,\]]*)"
_CLIENT = rf"(?:^|[ ,:\]\[])(?:client|host|remote)=({_BRACKETED}[^, \t\]]*)"
_USER_AT_DB = r"(?:^|[ \]:])([^ \t@:\[\]=,]*|\[unknown\])@([^ \t@:\[\]=,]*|\[unknown\])(?:[ :]|$)"
_COLON_CLIENT = r"^:([^:@\[ ]+?)(?:\([0-9]+\))?:"


def _clean_value(expr: pl.Expr) -> pl.Expr:
    v = expr.str.strip_chars()
    return pl.when((v != "") & (v != "[unknown]")).then(v)


def prefix_fields(rest: pl.Expr) -> dict[str, pl.Expr]:
    """``log_line_prefix`` remainder (after the time) -> pid, db_user, db, app, client_host."""
    at = rest.str.extract_groups(_USER_AT_DB)
    return {
        "pid": rest.str.extract(r"\[([0-9]+)[\]-]", 1),
        "db_user": _clean_value(pl.coalesce(rest.str.extract(_USER, 1), at.struct.field("1"))),
        "db": _clean_value(pl.coalesce(rest.str.extract(_DB, 1), at.struct.field("2"))),
        "app": _clean_value(rest.str.extract(_APP, 1)),
        "client_host": _clean_value(
            pl.coalesce(rest.str.extract(_CLIENT, 1), rest.str.extract(_COLON_CLIENT, 1))
        ).str.replace(r"\([0-9]+\)$", ""),
    }


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


def _any_syslog(lines: pl.Series) -> bool:
    """Whether any line is a syslog or logplex line (a search without captures: most logs have none)."""
    return bool(lines.str.contains(_SYSLOG).any() or lines.str.contains(_LOGPLEX).any())


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
    parsed = lines.str.contains(_LINE) | via_syslog.fill_null(False)
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
    stderr = lines.str.contains(_START).fill_null(False)
    syslog = _any_syslog(lines)
    if syslog:
        tags = _syslog_lines(lines)
        syslog = bool(tags["pg"].any() or tags["other"].any())
    starts = stderr
    if syslog:
        first = (tags["pg"] & (tags["part"].fill_null(1) == 1)) | tags["other"]
        starts = ((stderr & ~tags["pg"]) | first) & ~_uncuttable(tags)
    if not lines.str.contains(postgres_chunks.MAY_PAIR).any():
        return starts  # no entry the parser would join with another (every line is cheap to look at)
    if syslog:
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
        entry = entry.with_columns(session=pl.col("prefix").str.extract(r"\[([0-9]+)[\]-]", 1))
    bound = entry.select(postgres_chunks.takes_parameters(pl.col("msg"))).to_series()
    return postgres_chunks.cuts(starts, entry["session"], kinds, bound)


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse whole entries (see the module docstring): syslog/logplex when the chunk has such lines."""
    lines = lines.cast(pl.String).str.strip_suffix("\r")
    if _any_syslog(lines):
        tags = _syslog_lines(lines)
        if tags["pg"].any() or tags["other"].any():  # (a chunk may hold only other programs' lines)
            return _parse_syslog(lines, tags, ctx)
    return _parse_stderr(lines, ctx)


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
    # _LINE's groups (a prefix with its own time) and _PREFIX_SEV's (any prefix): rest2, sev2, msg2
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
        rest=pl.when(in_prefix)
        .then(pl.concat_str(pl.col("after_zone").fill_null(""), pl.col("rest")))
        .otherwise(pl.col("rest2")),
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


# log_line_prefix escapes (PostgreSQL docs, "What to Log") -> regex; the named groups feed the entry columns.
_ESCAPES = {
    "a": r"(?P<app>.*?)",
    "u": r"(?P<db_user>.*?)",
    "d": r"(?P<db>.*?)",
    "r": r"(?P<client_host>[^ (]*?)(?:\([0-9]*\))?",
    "h": r"(?P<client_host>[^ ]*?)",
    "b": r".*?",
    "p": r"(?P<pid>[0-9]+)",
    "P": r"[0-9]*",
    "t": rf"(?P<ts_text>{TS_TEXT})(?: (?P<zone>{_ZONE}))?",
    "m": rf"(?P<ts_text>{TS_TEXT})(?: (?P<zone>{_ZONE}))?",
    "i": r".*?",
    "e": r"[0-9A-Z]{5}",
    "c": r"[0-9a-f]+\.[0-9a-f]+",
    "l": r"[0-9]+",
    "s": rf"{TS_TEXT}(?: {_ZONE})?",
    "v": r"[0-9/]*",
    "x": r"[0-9]*",
    "Q": r"-?[0-9]*",
}


def prefix_regex(prefix: str) -> str:
    """A ``log_line_prefix`` (``'%m [%p] %q%u@%d '``) as a regex matching the whole line: prefix, severity,
    message. ``%q`` (what follows only in session processes) makes the rest of the prefix optional. A prefix
    must contain ``%t`` or ``%m`` once (the entry's time); ``ValueError`` names an unknown escape."""
    parts: list[str] = []
    optional_from: int | None = None
    i = 0
    while i < len(prefix):
        ch = prefix[i]
        if ch == "%" and i + 1 < len(prefix):
            code = prefix[i + 1]
            i += 2
            if code == "%":
                parts.append("%")
            elif code == "q":
                optional_from = len(parts)
            elif code in _ESCAPES:
                parts.append(_ESCAPES[code])
            else:
                raise ValueError(f"unknown log_line_prefix escape %{code}")
            continue
        parts.append(re.escape(ch))
        i += 1
    body = (
        "".join(parts)
        if optional_from is None
        else "".join(parts[:optional_from]) + ("(?:" + "".join(parts[optional_from:]) + ")?")
    )
    if body.count("(?P<ts_text>") != 1:
        raise ValueError("log_line_prefix must contain the entry time once: %t or %m")
    return rf"^{body}[ \t]*(?P<sev>{SEVERITIES}):[ \t]+(?P<msg1>(?s:.*))$"


_PREFIX_COLUMNS = ("ts_text", "zone", "pid", "db_user", "db", "app", "client_host", "sev", "msg1")


def _split_with_prefix(ent: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """Entry columns from a configured ``log_line_prefix`` instead of the detected common prefixes."""
    pattern = prefix_regex(prefix)
    groups = re.compile(pattern).groupindex
    ent = ent.with_columns(p=pl.col("first").str.extract_groups(pattern)).unnest("p")
    missing = [c for c in _PREFIX_COLUMNS if c not in groups]
    return ent.with_columns(
        *(pl.lit(None, dtype=pl.String).alias(c) for c in missing),
        *(_clean_value(pl.col(c)).alias(c) for c in ("db_user", "db", "app", "client_host") if c in groups),
    )


def _stderr_entries(lines: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The entries (``entry``, ``line_no``, ``n_lines``, ``first`` line, ``cont``: the continuation lines
    without their TAB, ``raw``) and the stray lines before the first entry (``line_no``, ``raw``).

    Continuation lines are gathered only for the entries that have some (most have none).
    """
    df = (
        pl.DataFrame({"line": lines})
        .with_row_index("line_no")
        .with_columns(start=pl.col("line").str.contains(_START))
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
        ent = _split_with_prefix(ent, prefix)
    else:
        ent = line_fields(ent, "first").drop("pre", "any_sev", "any_msg")
        ent = ent.with_columns(rest=pl.concat_str(pl.col("after_zone").fill_null(""), pl.col("rest")))
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
