"""PostgreSQL entries joined with an entry of a later chunk: the steps that carry them (:mod:`parsers.carry`).

The reader may cut a PostgreSQL log between a statement and its duration (``log_statement`` +
``log_duration``), and between a lock wait and its session's next record: either may come much later or never
(an idle pooled connection, a statement fast once it had the lock), so holding the cut for them would hold it
without bound (:mod:`parsers.postgres_chunks`). Instead the earlier chunk leaves them waiting, per session,
and the later chunk's record takes them, as if both had been in one chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import cast

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import carry, postgres_chunks
from parsers.base import ParseResult

LOCK_KEY = "lock_wait_ms"
LOCK_ON_KEY = "lock_wait_for"
LOCK_COLUMNS = ("lock_wait", "lock_on")

_FINE = timedelta(milliseconds=10)  # times in milliseconds, truncated; a duration rounded to the microsecond
_COARSE = timedelta(seconds=1)  # times in whole seconds (%t, syslog)


def coarse(ts_text: pl.Expr) -> pl.Expr:
    """Whether a log time has whole seconds only."""
    return ~ts_text.str.contains("[.,][0-9]")


def lock_lines(ev: pl.DataFrame) -> pl.DataFrame:
    """The lock lines (``L``) of ``ev``: ``entry``, ``session``, ``lock_obj`` (``ShareLock on transaction
    9``), ``lock_val`` (ms waited so far), ``start`` (when the wait began: the line's time less that) and
    ``coarse`` (:func:`coarse`)."""
    wait = pl.col("lock_val").cast(pl.Float64)
    return ev.filter(pl.col("k") == "L").select(
        "entry",
        "session",
        "lock_obj",
        wait,
        start=pl.col("end_ts") - pl.duration(microseconds=(wait * 1000).round(0)),
        coarse=coarse(pl.col("ts_text")),
    )


# lock lines with their record's start (``rec_ts``, ``rec_coarse``): the wait began while the record's
# statement ran, within the precision of the two times
_TOLERANCE = pl.when(pl.col("coarse") | pl.col("rec_coarse")).then(pl.lit(_COARSE)).otherwise(pl.lit(_FINE))
BEGAN_DURING = pl.col("start") >= pl.col("rec_ts") - _TOLERANCE


def lock_waits(lines: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Lock lines (:func:`lock_lines`) -> per ``by`` group, the time spent waiting (``lock_wait``) and the
    lock waited on longest (``lock_on``).

    One wait writes ``still waiting for`` after ``deadlock_timeout`` and ``acquired`` when it ends, each with
    the time so far: a wait is its lock's longest value. A statement that waits on two locks in turn waited
    the sum of both (as MySQL's ``Lock_time`` counts).
    """
    per_lock = (
        lines.group_by(*by, "lock_obj").agg(pl.col("lock_val").max().alias("w")).sort(*by, "w", "lock_obj")
    )
    return per_lock.group_by(by, maintain_order=True).agg(
        pl.col("w").sum().alias("lock_wait"), pl.col("lock_obj").last().alias("lock_on")
    )


def lock_step(ev: pl.DataFrame, good: pl.DataFrame, keys: list[str]) -> carry.Step:
    """The step of lock waits whose record is in a later chunk.

    A lock wait goes to the next record of its session when it began while that record's statement ran
    (:func:`parsers.postgres_records.build`), however far away, so the reader may cut between them, even
    between a wait's ``still waiting for`` and its ``acquired``. The value carried is a frame of lock lines
    (:func:`lock_lines`; per session, each lock's longest) still waiting for their record. A chunk puts them
    with its own lines before the first record of their session and gives that record what one chunk would
    have (:func:`lock_waits`: ``lock_ms`` and the attributes ``lock_wait_ms``, ``lock_wait_for``), when one
    of them began while it ran; the sessions it has no record of are carried on, with its trailing lines.
    """
    k = pl.col("k")
    records = (
        ev.filter(k.is_in(["F", "D"]))
        .group_by("session")
        .agg(pl.col("entry").min().alias("first"), pl.col("entry").max().alias("last"))
    )
    locks = lock_lines(ev).join(records, on="session", how="left", nulls_equal=True)
    trailing = locks.filter(pl.col("last").is_null() | (pl.col("entry") > pl.col("last")))

    def fill(result: ParseResult, carried: pl.DataFrame) -> None:
        rows = good.select("entry", rec_ts="ts", rec_coarse=coarse(pl.col("ts_text"))).with_row_index("row")
        first = records.join(rows, left_on="first", right_on="entry").drop("first", "last")
        began = carried.join(first, on="session", nulls_equal=True).filter(BEGAN_DURING).select("session")
        own = locks.filter(pl.col("entry") < pl.col("first")).select(_CARRIED)
        lines = (
            pl.concat([carried, own])
            .join(first, on="session", nulls_equal=True)
            .join(began.unique(), on="session", nulls_equal=True)
            .filter(BEGAN_DURING)
        )
        rec_rows = lines.group_by("session").agg(pl.col("row").first())
        waits = rec_rows.join(lock_waits(lines, ["session"]), on="session", nulls_equal=True)
        if waits.height:
            result.records = _set_lock_waits(result.records, waits.sort("row"), keys)

    def step(result: ParseResult, before: object) -> object:
        pending = trailing.select(_CARRIED)
        if isinstance(before, pl.DataFrame) and before.height:  # waits from before (most chunks: none)
            sessions = records.select("session")
            fill(result, before.join(sessions, on="session", how="semi", nulls_equal=True))
            pending = pl.concat([before.join(sessions, on="session", how="anti", nulls_equal=True), pending])
        return pending.sort("lock_val", "start").group_by("session", "lock_obj").last()

    return step


_CARRIED = ["session", "lock_obj", "lock_val", "start", "coarse"]  # a carried lock line


def _set_lock_waits(table: pa.Table, waits: pl.DataFrame, keys: list[str]) -> pa.Table:
    """``table`` with ``lock_ms`` and the lock attributes set at the rows of ``waits`` (``row``,
    ``lock_wait``, ``lock_on``; in row order); ``keys``: the attribute keys in the order the bags are built
    in."""
    rows = waits["row"].cast(pl.Int64).to_numpy()
    table = carry.set_rows(table, "lock_ms", rows, waits["lock_wait"])
    texts = waits["lock_wait"].cast(pl.String).to_list()  # as the bags write a number
    i = table.schema.get_field_index("attributes")
    bags = table.column(i).combine_chunks()
    order = {key: n for n, key in enumerate(keys)}
    pieces, done = [], 0
    for row, text, lock in zip(rows.tolist(), texts, waits["lock_on"].to_list(), strict=True):
        entries = [(key, value) for key, value in bags[row].as_py() if key not in (LOCK_KEY, LOCK_ON_KEY)]
        entries = sorted([*entries, (LOCK_KEY, text), (LOCK_ON_KEY, lock)], key=lambda e: order[e[0]])
        pieces += [bags.slice(done, row - done), pa.array([entries], type=bags.type)]
        done = row + 1
    pieces.append(bags.slice(done))
    return table.set_column(i, table.schema.field(i), pa.concat_arrays(pieces))


def statement_step(
    ev: pl.DataFrame, rec: pl.DataFrame, first_line: int, rebuild: Callable[[pl.DataFrame], pa.Table]
) -> carry.Step:
    """The step of statements whose duration comes in a later chunk (``log_statement`` writes the statement,
    ``log_duration`` or ``log_min_duration_statement`` its ``duration: N ms`` later, other sessions' lines
    between, maybe much later: the reader may cut between them).

    The value carried is a frame of, per session, its last statement when nothing of the session followed it
    in the chunks so far (no duration, statement or record), with its parameters entries if it is an
    ``execute``/``bind`` step. A chunk whose first entry of that session is a duration alone gives the
    statement to that record, which is rebuilt as if both had been in one chunk (text, step, name,
    parameters, first line; the statement's lines count as the record's); any other statement or record of
    the session drops it (a statement never timed is skipped lines).
    """
    k = pl.col("k")
    ours = ev.filter(k.is_in(["F", "D", "S"])).sort("entry")
    sessions = ours.unique("session", keep="first", maintain_order=True)
    trailing = ours.unique("session", keep="last", maintain_order=True).filter(k == "S")
    params = (
        ev.filter(k == "P")
        .join(trailing.filter("takes").select("session", s_entry="entry"), on="session", nulls_equal=True)
        .filter(
            (pl.col("entry") > pl.col("s_entry"))
            & (pl.col("entry") - pl.col("s_entry") <= postgres_chunks.PARAMS_WINDOW)
        )
        .group_by("session")
        .agg(pl.col("n_lines").sum().alias("p_lines"), pl.col("p_text").sort_by("entry").alias("p_list"))
    )
    waiting = trailing.join(params, on="session", how="left", nulls_equal=True).select(
        "session",
        line=pl.col("line_no").cast(pl.Int64) + first_line,
        moved=pl.col("n_lines") + pl.col("p_lines").fill_null(0),
        c_step="s_step",
        c_name="s_name",
        c_text="s_text",
        c_params=pl.col("p_list").fill_null([]),
        c_params_same="params_same",
    )
    # the records that may take a statement from before: a session's first entry, a duration alone
    opened = sessions.filter((k == "D") & pl.col("stmt_from").is_null()).select("entry")
    ok = pl.col("reason").is_null()
    candidates = rec.with_columns(row=pl.when(ok).then(ok.cum_sum() - 1)).join(opened, on="entry")
    ours_sessions = sessions.select("session")

    def step(result: ParseResult, before: object) -> object:
        if before is None:
            return waiting
        state = cast(pl.DataFrame, before)
        given = state.join(ours_sessions, on="session", how="semi", nulls_equal=True)
        if given.height:
            _give_statements(result, candidates, given, first_line, rebuild)
        kept = state.join(ours_sessions, on="session", how="anti", nulls_equal=True)
        return pl.concat([kept, waiting])

    return step


def _give_statements(
    result: ParseResult,
    candidates: pl.DataFrame,
    given: pl.DataFrame,
    first_line: int,
    rebuild: Callable[[pl.DataFrame], pa.Table],
) -> None:
    """Rebuild the rows of the records of ``candidates`` whose session has a statement in ``given`` (a frame
    of :func:`statement_step`'s value); move the statements' lines to the records' (or rejects') lines."""
    rows = candidates.join(given, on="session", nulls_equal=True).with_columns(
        step="c_step",
        stmt_name="c_name",
        statement="c_text",
        params_list=pl.concat_list("c_params", "params_list"),
        p_params_same="c_params_same",
        own=pl.col("line_no").cast(pl.Int64) + first_line,
        line_no=pl.col("line") - first_line,
    )
    good = rows.filter(pl.col("reason").is_null())
    if good.height:
        table = result.records
        fresh = rebuild(good.drop("row", *given.columns[1:])).cast(table.schema)
        order = np.arange(table.num_rows)
        order[good["row"].to_numpy()] = table.num_rows + np.arange(good.height)
        result.records = pa.concat_tables([table, fresh]).take(order)
    rejected = rows.filter(pl.col("reason").is_not_null())
    if rejected.height:  # a rejected record's row names its first line: now its statement's
        result.rejects = _renumber(result.rejects, rejected["own"].to_numpy(), rejected["line"].to_numpy())
    moved, bad = int(rows["moved"].sum()), int(rejected["moved"].sum())
    result.record_lines += moved - bad
    result.reject_lines += bad
    result.skipped_lines -= moved


def _renumber(rejects: pa.Table, old: np.ndarray, new: np.ndarray) -> pa.Table:
    """``rejects`` with its rows at ``source_line`` ``old[i]`` moved to line ``new[i]``, in line order."""
    i = rejects.schema.get_field_index("source_line")
    lines = pl.Series(rejects.column(i).combine_chunks()).replace(old, new)
    return rejects.set_column(i, rejects.schema.field(i), lines.to_arrow()).sort_by("source_line")
