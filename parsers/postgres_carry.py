"""PostgreSQL entries joined with an entry of a later chunk: the steps that carry them (:mod:`parsers.carry`).

The reader may cut a PostgreSQL log between a statement and its duration (``log_statement`` +
``log_duration``), and between a lock wait and its session's next record: either may come much later or never
(an idle pooled connection, a statement fast once it had the lock), so holding the cut for them would hold it
without bound (:mod:`parsers.postgres_chunks`). Instead the earlier chunk leaves them waiting, per session,
and the later chunk's record takes them, as if both had been in one chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import carry, postgres_chunks
from parsers.base import ParseResult

LOCK_KEY = "lock_wait_ms"


def lock_step(ev: pl.DataFrame, good: pl.DataFrame, keys: list[str]) -> carry.Step:
    """The step of lock waits whose record is in a later chunk.

    A lock wait goes to the next record of its session (:func:`parsers.postgres_records.build`), however far
    away, so the reader may cut between them. The value carried is, per session, the longest wait still
    waiting for its record. A chunk gives it to the first record of that session (``lock_ms``, attribute
    ``lock_wait_ms``: the longer of it and the record's own) and carries on the sessions it has no record of,
    with its own trailing waits.
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
    place = keys.index(LOCK_KEY)
    pieces, done = [], 0
    for row, text in zip(rows.tolist(), texts, strict=True):
        entries = [(key, value) for key, value in bags[row].as_py() if key != LOCK_KEY]
        at = sum(1 for key, _ in entries if keys.index(key) < place)
        entries.insert(at, (LOCK_KEY, text))
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
    in the chunks so far (no duration, statement or record), with its parameters entries. A chunk whose first
    entry of that session is a duration alone gives the statement to that record, which is rebuilt as if
    both had been in one chunk (text, step, name, parameters, first line; the statement's lines count as the
    record's); any other statement or record of the session drops it (a statement never timed is skipped
    lines).
    """
    k = pl.col("k")
    ours = ev.filter(k.is_in(["F", "D", "S"])).sort("entry")
    sessions = ours.unique("session", keep="first", maintain_order=True)
    trailing = ours.unique("session", keep="last", maintain_order=True).filter(k == "S")
    params = (
        ev.filter(k == "P")
        .join(trailing.select("session", s_entry="entry"), on="session", nulls_equal=True)
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
