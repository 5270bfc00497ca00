"""PostgreSQL entries joined with an entry of a later chunk: the steps that carry them (:mod:`parsers.carry`).

The reader may cut a PostgreSQL log between a statement and its duration (``log_statement`` +
``log_duration``), and between a lock wait and its session's next record: either may come much later or never
(an idle pooled connection, a statement fast once it had the lock), so holding the cut for them would hold it
without bound (:mod:`parsers.postgres_chunks`). Instead the earlier chunk leaves them waiting, per session,
and the later chunk's record takes them, as if both had been in one chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, cast

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


def statement_step(
    ev: pl.DataFrame, rec: pl.DataFrame, first_line: int, rebuild: Callable[[pl.DataFrame], pa.Table]
) -> carry.Step:
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
            first_line + int(line_no),
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
                _give_statements(result, candidates, given, first_line, rebuild)
        state.update(waiting)
        return state

    return step


def _give_statements(
    result: ParseResult,
    candidates: pl.DataFrame,
    given: dict[object, _Statement],
    first_line: int,
    rebuild: Callable[[pl.DataFrame], pa.Table],
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
        line_no=pl.Series([st.line - first_line for st in stmts], dtype=pl.Int64),
    )
    moved = sum(st.n_lines for st in stmts)
    good = patched.filter(pl.col("reason").is_null())
    if good.height:
        table = result.records
        fresh = rebuild(good.drop("row")).cast(table.schema)
        order = np.arange(table.num_rows)
        order[good["row"].to_numpy()] = table.num_rows + np.arange(good.height)
        result.records = pa.concat_tables([table, fresh]).take(order)
    bad_lines = sum(
        st.n_lines for st, ok in zip(stmts, patched["reason"].is_null().to_list(), strict=True) if not ok
    )
    result.record_lines += moved - bad_lines
    result.reject_lines += bad_lines
    result.skipped_lines -= moved
