"""PostgreSQL entries joined with an entry of a later chunk: the steps that carry them (:mod:`parsers.carry`).

The reader may cut a PostgreSQL log between a statement and its duration (``log_statement`` +
``log_duration``), and between a lock wait and its session's next record: either may come much later or never
(an idle pooled connection, a statement fast once it had the lock), so holding the cut for them would hold it
without bound (:mod:`parsers.postgres_chunks`). Instead the earlier chunk leaves them waiting, per session,
and the later chunk's record takes them, as if both had been in one chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import carry, postgres_chunks
from parsers.base import ParseResult

LOCK_KEY = "lock_wait_ms"
LOCK_ON_KEY = "lock_wait_for"

# per lock (``ShareLock on transaction 9``): its longest wait so far (ms), when that wait began, and whether
# that line's time has whole seconds only
_Waits = dict[str, tuple[float, datetime, bool]]
_FINE = timedelta(milliseconds=10)  # times in milliseconds, truncated; a duration rounded to the microsecond
_COARSE = timedelta(seconds=1)  # times in whole seconds (%t, syslog)


def wait_start(line_time: pl.Expr, wait_ms: pl.Expr) -> pl.Expr:
    """When a wait began: its line's time less the time waited so far."""
    return line_time - pl.duration(microseconds=(wait_ms.cast(pl.Float64) * 1000).round(0))


def _coarse(ts_text: pl.Expr) -> pl.Expr:
    return ~ts_text.str.contains("[.,][0-9]")


def waited_during(start: pl.Expr, line_text: pl.Expr, rec_ts: pl.Expr, rec_text: pl.Expr) -> pl.Expr:
    """Whether a wait that began at ``start`` (its line's time as written: ``line_text``) began while the
    record's statement ran (it started at ``rec_ts``), within the precision of the two times."""
    return _began_during(start, _coarse(line_text), rec_ts, _coarse(rec_text))


def _began_during(start: pl.Expr, coarse: pl.Expr, rec_ts: pl.Expr, rec_coarse: pl.Expr) -> pl.Expr:
    tolerance = pl.when(coarse | rec_coarse).then(pl.lit(_COARSE)).otherwise(pl.lit(_FINE))
    return start >= rec_ts - tolerance


def lock_step(ev: pl.DataFrame, good: pl.DataFrame, keys: list[str]) -> carry.Step:
    """The step of lock waits whose record is in a later chunk.

    A lock wait goes to the next record of its session when it began while that record's statement ran
    (:func:`parsers.postgres_records.build`), however far away, so the reader may cut between them, even
    between a wait's ``still waiting for`` and its ``acquired``. The value carried is, per session, each
    lock's longest wait still waiting for its record. A chunk gives them to the first record of that session
    if they began while it ran, with the waits of its own before it, as one chunk would (:func:`lock_sum`:
    ``lock_ms`` and the attributes ``lock_wait_ms``, ``lock_wait_for``), and carries on the sessions it has
    no record of, with their trailing waits.
    """
    k = pl.col("k")
    records = (
        ev.filter(k.is_in(["F", "D"]))
        .group_by("session")
        .agg(pl.col("entry").min().alias("first"), pl.col("entry").max().alias("last"))
    )
    locks = ev.filter(k == "L").select(
        "entry",
        "session",
        "lock_obj",
        pl.col("lock_val").cast(pl.Float64),
        wait_start(pl.col("end_ts"), pl.col("lock_val")).alias("start"),
        _coarse(pl.col("ts_text")).alias("coarse"),
    )
    locks = locks.join(records, on="session", how="left", nulls_equal=True)
    waiting = _per_session(locks.filter(pl.col("last").is_null() | (pl.col("entry") > pl.col("last"))))

    def firsts() -> tuple[dict[object, tuple[int | None, datetime | None, bool]], dict[object, _Waits]]:
        """Per session, its first record (row, None: rejected; start; its time in whole seconds) and the
        waits before it that began while it ran."""
        rows = good.select("entry", "ts", rec_coarse=_coarse(pl.col("ts_text"))).with_row_index("row")
        first = records.join(rows, left_on="first", right_on="entry", how="left")
        first = first.select("session", "row", "ts", "rec_coarse")
        before = locks.filter(pl.col("entry") < pl.col("first")).join(first, on="session", nulls_equal=True)
        c = pl.col
        own = _per_session(before.filter(_began_during(c("start"), c("coarse"), c("ts"), c("rec_coarse"))))
        return {s: (row, ts, bool(coarse)) for s, row, ts, coarse in first.rows()}, own

    def step(result: ParseResult, before: object) -> object:
        carried = cast(dict[object, _Waits], before) if before else {}
        state = {session: dict(waits) for session, waits in carried.items()}
        fills: list[tuple[int, _Waits]] = []
        if state:  # only when waits come from before (most chunks: none)
            first, own = firsts()
            for session in [s for s in state if s in first]:
                waits, (row, rec_ts, rec_coarse) = state.pop(session), first[session]
                if row is None or rec_ts is None:
                    continue
                during = {
                    lock: w
                    for lock, w in waits.items()
                    if w[1] >= rec_ts - (_COARSE if w[2] or rec_coarse else _FINE)
                }
                if during:
                    fills.append((int(row), _merge(during, own.get(session, {}))))
        if fills:
            result.records = _set_lock_waits(result.records, sorted(fills), keys)
        for session, waits in waiting.items():
            state[session] = _merge(state.get(session, {}), waits)
        return state

    return step


def _per_session(locks: pl.DataFrame) -> dict[object, _Waits]:
    """Lock lines (``session``, ``lock_obj``, ``lock_val`` in ms, ``start``, ``coarse``) -> per session,
    each lock's longest wait."""
    longest = (
        locks.sort("lock_val")
        .group_by("session", "lock_obj")
        .agg(pl.col("lock_val").last(), pl.col("start").last(), pl.col("coarse").last())
    )
    out: dict[object, _Waits] = {}
    for session, lock, wait, start, coarse in longest.rows():
        out.setdefault(session, {})[lock] = (wait, start, coarse)
    return out


def _merge(a: _Waits, b: _Waits) -> _Waits:
    """Each lock's longer wait of ``a`` and ``b``."""
    out = dict(a)
    for lock, wait in b.items():
        if lock not in out or wait[0] > out[lock][0]:
            out[lock] = wait
    return out


def lock_sum(waits: _Waits) -> tuple[float, str]:
    """The time waited (the sum of the locks' waits) and the lock waited on longest, as
    :func:`parsers.postgres_records.lock_waits` computes them in one chunk (the same order of addition)."""
    ordered = sorted((wait, lock) for lock, (wait, _, _) in waits.items())
    return float(pl.Series([w for w, _ in ordered], dtype=pl.Float64).sum()), ordered[-1][1]


def _set_lock_waits(table: pa.Table, fills: list[tuple[int, _Waits]], keys: list[str]) -> pa.Table:
    """``table`` with ``lock_ms`` and the lock attributes set at the rows of ``fills`` (row, waits; in row
    order); ``keys``: the attribute keys in the order the bags are built in."""
    rows = np.array([r for r, _ in fills], dtype=np.int64)
    sums = [lock_sum(waits) for _, waits in fills]
    waits = pl.Series([w for w, _ in sums], dtype=pl.Float64)
    table = carry.set_rows(table, "lock_ms", rows, waits)
    texts = waits.cast(pl.String).to_list()  # as the bags write a number
    i = table.schema.get_field_index("attributes")
    bags = table.column(i).combine_chunks()
    order = {key: n for n, key in enumerate(keys)}
    pieces, done = [], 0
    for row, text, (_, lock) in zip(rows.tolist(), texts, sums, strict=True):
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
