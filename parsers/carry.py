"""State that crosses chunk boundaries.

The pipeline parses a file as independent chunks on worker threads, so a chunk starts without what the lines
before it said: the MySQL slow log's last ``use db;`` and ``# Time:`` (entries that omit them inherit them),
the year of year-less syslog times (one more at each December -> January). A parser handles such a value in
two steps:

1. it parses the chunk as if nothing came before, and leaves the records that would inherit the value from
   before the chunk *open* (null where the value goes);
2. it registers a step under a key in :attr:`parsers.base.ParseResult.carry`. The pipeline calls the steps
   in file order (:func:`apply`): ``step(result, before)`` gets the value left by the chunks before (None at
   the start of the file), fills this chunk's open records with it, and returns the value after the chunk.

Workers stay parallel (a step runs when its chunk is written, in file order) and a step is a column fill on
the open rows, not a second parse. :func:`last_value` is the step of the common case: a value each entry
may restate, inherited until it does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import polars as pl
import pyarrow as pa

from parsers.base import ParseResult

Step = Callable[[ParseResult, object], object]


def apply(result: ParseResult, state: dict[str, object]) -> ParseResult:
    """Run the chunk's steps with ``state`` (key -> value left by the chunks before) and update it."""
    for key, step in result.carry.items():
        state[key] = step(result, state.get(key))
    result.carry = {}
    return result


def last_value(last: object, fill: Callable[[ParseResult, object], None]) -> Step:
    """The step of a value that entries restate when it changes: ``fill(result, before)`` gives the earlier
    value to the open records (called only when there is one); after the chunk the value is ``last`` (the
    chunk's own last value) or, when the chunk never states it (``last`` None), still the earlier one."""

    def step(result: ParseResult, before: object) -> object:
        if before is not None:
            fill(result, before)
        return before if last is None else last

    return step


def set_rows(table: pa.Table, column: str, rows: np.ndarray, values: pl.Series) -> pa.Table:
    """``table`` with ``column`` set to ``values`` at the row indices ``rows`` (a column fill)."""
    if not len(rows):
        return table
    i = table.schema.get_field_index(column)
    field = table.schema.field(i)
    current = pl.Series(table.column(i).combine_chunks())
    series = current.scatter(rows, values.cast(current.dtype))
    return table.set_column(i, field, series.to_arrow().cast(field.type))


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}


def rolled_years(month: pl.Expr, first: int) -> pl.Expr:
    """The year of each year-less time of a chunk, from its ``month`` (null: not such a time): ``first``, one
    more at each month that goes down (December -> January) in line order. :func:`syslog_year` corrects
    ``first`` from the chunks before."""
    return (month < month.forward_fill().shift(1)).fill_null(False).cast(pl.Int64).cum_sum() + first


def syslog_year(months: pl.Series, assumed: int, shift: Callable[[ParseResult, int], None]) -> Step:
    """The step of the year of year-less (BSD syslog) times. The chunk was parsed as if it began in
    ``assumed``, one year more at each month that goes down (December -> January); ``months`` are its times'
    months in line order. It really begins in the year the chunks before ended in, plus one when its first
    month is lower than their last: ``shift(result, years)`` moves its year-less times by the difference.
    The value carried is (year, month) at the end of the chunk."""
    seen = months.drop_nulls()
    rollovers = int((seen < seen.shift(1)).sum())

    def step(result: ParseResult, before: object) -> object:
        if not len(seen):
            return before
        year = assumed
        if before is not None:
            year, month = cast(tuple[int, int], before)
            year += int(seen[0] < month)
        if year != assumed:
            shift(result, year - assumed)
        return (year + rollovers, int(seen[-1]))

    return step


def offset_years(ts: pl.Series, years: int, timezone: str) -> pl.Series:
    """UTC times moved by whole ``years`` on the wall clock of ``timezone`` (where they were read)."""
    return pl.select(
        pl.lit(ts).dt.convert_time_zone(timezone).dt.offset_by(f"{years}y").dt.convert_time_zone("UTC")
    ).to_series()
