"""PostgreSQL log entries -> ``slow_queries`` records: the core the three PostgreSQL parsers share (stderr
and syslog :mod:`parsers.postgres`, csvlog :mod:`parsers.postgres_csv`, jsonlog :mod:`parsers.postgres_json`).

A parser cuts its lines into entries (time, zone, session, severity, message, prefix fields) and hands them to
:func:`build`, which reads the messages and joins the entries of one record:

* ``log_min_duration_statement``: ``duration: N ms  statement|execute|parse|bind <name>: <sql>``; the
  ``DETAIL:  parameters: ...`` that follows an ``execute``/``bind`` step in the same session (at most 1,000
  entries later) becomes the attribute ``parameters`` (PostgreSQL writes none after another step; such a
  line is skipped).
* ``log_statement`` + ``log_duration``: a ``statement:`` entry and a later ``duration: N ms`` entry (no text)
  of the same session are joined, across chunks too (carried, :func:`parsers.postgres_carry.statement_step`);
  a statement never followed by its duration is not a slow query (skipped lines), and a duration never
  inherits the statement of another session.
* Lock evidence (``process N still waiting for ShareLock ... after 1000.123 ms`` / ``acquired ...``) goes to
  the next record of the same session when the wait began while that record's statement ran (a wait that
  began earlier was a statement too fast to be logged): ``lock_ms`` and the attribute ``lock_wait_ms`` are
  the time waited (each lock once, at its longest line; two locks in turn add up, as MySQL's
  ``Lock_time``), ``lock_wait_for`` the lock waited on longest (``ShareLock on transaction 9``); in a later
  chunk too (carried, :func:`parsers.postgres_carry.lock_step`).

``ts`` is the statement start (log time minus duration), ``end_ts`` the log time. Zone abbreviations map to
fixed offsets; an unknown or missing zone takes ``ctx.timezone`` (counted in ``tz_assumed``).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pyarrow as pa

from parsers import base, carry, postgres_carry, postgres_chunks, schema, sqltext
from parsers.base import ParseContext, ParseResult

ENGINE = "postgresql"

# --- shared: time -----------------------------------------------------------------------------------------

TS_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?"
ZONE = r"[A-Za-z]{1,5}|[+-][0-9]{2}(?::?[0-9]{2})?"
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
    """Message columns -> dur, step, stmt_name, stmt_text, lock values, ``k`` (F D S L P O) and ``takes``
    (an ``execute``/``bind`` step: the only ones PostgreSQL writes parameters for).

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
        .otherwise(pl.lit("O")),
        takes=pl.coalesce("d_step", "s_step").is_in(postgres_chunks.BOUND_STEPS).fill_null(False),
    )


def _after_prefix(text: pl.Expr, prefix: str) -> pl.Expr:
    """The text after ``prefix``; null when it does not start with it."""
    return pl.when(text.str.starts_with(prefix)).then(text.str.slice(len(prefix)))


def _assign(ev: pl.DataFrame) -> pl.DataFrame:
    """``rec``: the record (entry id of its duration line) each entry belongs to; null for the others.

    A ``D`` right after an ``S`` of the same session (no other statement/duration in between) takes that
    statement; parameters go to the last F/D/S entry of their session (if at most
    :data:`postgres_chunks.PARAMS_WINDOW` entries away) when that entry is an ``execute``/``bind`` step
    (PostgreSQL writes none for another, so the reader never holds its cut for one). Lock lines:
    :func:`_lock_evidence`.
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
    own = ev.filter(k.is_in(["F", "D", "S", "P"])).select("entry", "session", "k", "rec", "takes")
    own = own.with_columns(
        owner_rec=pl.when(k != "P").then(pl.when("takes").then(pl.col("rec"))).otherwise(None),
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
    return ev


def _lock_evidence(ev: pl.DataFrame, rec: pl.DataFrame) -> pl.DataFrame:
    """The records that waited on locks: ``entry``, ``lock_wait``, ``lock_on``
    (:func:`parsers.postgres_carry.lock_waits`).

    A lock line goes to the next record of its session when the wait began while that record's statement ran
    (:data:`parsers.postgres_carry.BEGAN_DURING`); a wait that began before belongs to a statement that was
    not logged (faster than ``log_min_duration_statement``), and is nobody's evidence.
    """
    k = pl.col("k")
    lk = ev.filter(k.is_in(["F", "D", "L"])).select("entry", "session", "k")
    lk = lk.with_columns(is_rec=(k != "L").cast(pl.Int64)).with_columns(
        grp=(pl.col("is_rec").cum_sum() - pl.col("is_rec")).over("session")
    )
    starts = rec.select("entry", rec_ts="ts", rec_coarse=postgres_carry.coarse(pl.col("ts_text")))
    heads = lk.filter(k != "L").join(starts, on="entry")
    by = ["session", "grp"]
    lines = postgres_carry.lock_lines(ev).join(lk.select("entry", "grp"), on="entry")
    lines = lines.join(heads.select(*by, "rec_ts", "rec_coarse"), on=by).filter(postgres_carry.BEGAN_DURING)
    waits = postgres_carry.lock_waits(lines, by)
    return heads.join(waits, on=by).select("entry", *postgres_carry.LOCK_COLUMNS)


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
        pl.col("p_text").drop_nulls().alias("params_list"),
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
    rec = rec.join(_lock_evidence(ev, rec), on="entry", how="left")
    bad_rec = rec.filter(pl.col("reason").is_not_null())
    good = rec.filter(pl.col("reason").is_null())
    records = table(good, ctx, fmt)

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
        records=records,
        rejects=base.rejects_frame(rejects, ctx, fmt),
        record_lines=record_lines,
        reject_lines=reject_lines,
        skipped_lines=total - record_lines - reject_lines,
        tz_assumed=int(good["tz_assumed"].sum()),
        notes={"year_assumed": int(good["year_assumed"].sum())} if "year_assumed" in good.columns else {},
        # in this order: a statement given to a record rebuilds its row, which the other steps then correct
        carry={
            "postgresql.statements": postgres_carry.statement_step(
                ev, rec, ctx.first_line, lambda rows: table(rows, ctx, fmt)
            ),
            **(carry_steps(good) if carry_steps is not None else {}),
            "postgresql.locks": postgres_carry.lock_step(ev, good, _ATTRIBUTE_KEYS),
        },
    )


def _attribute_pairs() -> list[tuple[str, pl.Expr]]:
    return [
        ("pid", pl.col("pid")),
        ("query_step", pl.col("step")),
        ("statement_name", pl.col("stmt_name")),
        ("parameters", pl.col("params")),
        (postgres_carry.LOCK_KEY, pl.col("lock_wait")),
        (postgres_carry.LOCK_ON_KEY, pl.col("lock_on")),
        ("severity", pl.col("sev")),
        *((c if c != "app" else "application_name", _nonempty(pl.col(c))) for c in EXTRA_ATTRIBUTES),
    ]


def table(good: pl.DataFrame, ctx: ParseContext, fmt: str) -> pa.Table:
    """The records' table from their frame (a row per record: ``statement``, ``params_list`` (the texts of
    its parameters entries), ``params_same``/``p_params_same`` (parameters of the record's or its
    statement's own entry), ``step``, ``lock_wait``, the prefix columns, ...)."""
    joined = pl.col("params_list").list.join("; ")
    params = pl.coalesce(pl.when(joined != "").then(joined), "params_same", "p_params_same")
    good = good.with_columns(statement=pl.col("statement").str.strip_chars_end(" \t\r\n"), params=params)
    out = sqltext.statement_columns(good, "postgresql")
    out = out.with_columns(
        engine=pl.lit(ENGINE),
        server=pl.lit(None, dtype=pl.String),
        lock_ms=pl.col("lock_wait"),
    )
    records = base.finish(out, ctx, fmt, schema.SLOW_QUERIES)
    field = schema.SLOW_QUERIES.field("attributes")
    bags = base.kv_map(out, _attribute_pairs())
    return records.set_column(records.schema.get_field_index("attributes"), field, bags)


def _nonempty(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.cast(pl.String) != "").then(expr.cast(pl.String))


_ATTRIBUTE_KEYS = [key for key, _ in _attribute_pairs()]


_STRAY = {"line_no": pl.Int64, "raw": pl.String}
