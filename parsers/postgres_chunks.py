"""Where a PostgreSQL log may be cut into chunks: never between two entries the parser joins into one record.

:func:`parsers.postgres_records.build` joins a record and the ``DETAIL:  parameters:`` entries of its session
that follow it, up to :data:`PARAMS_WINDOW` entries away (PostgreSQL writes them together; only other
sessions' lines come between, through syslog); a record's parameters may still come while fewer entries than
that follow it. The record goes out with its chunk, so its parameters must be in that chunk.

Entries joined with a *later* one are carried across chunks instead of holding the cut (the later chunk's
record takes what the earlier chunks left; :mod:`parsers.carry`): a ``statement:``/``execute ...:`` entry
(``log_statement``) and the ``duration:`` entry that follows it (``log_duration``, or
``log_min_duration_statement`` after a statement already logged), which may come much later or never (an
idle pooled connection), :func:`parsers.postgres_carry.statement_step`; a lock wait (``process N still waiting
for ...``) and its session's next record, :func:`parsers.postgres_carry.lock_step`.

The record-start masks of the PostgreSQL parsers leave out the entries inside such a pair, so the reader
(:func:`pipeline.reader.iter_records`, which shows ``record_start`` the lines held back since the last cut)
never separates them. The session key must be the parser's, or coarser: a coarser key can only hold a cut
back longer, a finer one would let entries the parser joins (of one session for it, of two for the key) be
cut apart. The kinds of entries must be the parser's too (:func:`kind`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

_STEP = r"(?:statement|execute|parse|bind|fastpath function call)"
_DURATION = r"^duration: [0-9]+(?:\.[0-9]+)? ms"
# How many entries (of any session) after its record a `DETAIL:  parameters:` entry may come and still be
# the record's: the bound keeps the reader from holding its cut for a record that gets none.
PARAMS_WINDOW = 1000
# Lines that may be an entry joined with another (a superset, read without captures): a statement, a duration
# (its parameters may follow), parameters, a lock wait. Without one, nothing is joined.
MAY_PAIR = (
    rf"(?:LOG|DETAIL):[ \t]+(?:{_STEP}|duration: |parameters: |process [0-9]+ (?:still waiting for|acquired))"
)
# Entries whose parameters may follow: the extended protocol's steps (PostgreSQL writes none for a simple
# `statement:`, so the reader does not hold its cut for one)
BOUND_STEPS = ("execute", "bind")
_BOUND_STEP = rf"(?:{_DURATION}[ \t]+|^)(?:{'|'.join(BOUND_STEPS)})[ :]"


def takes_parameters(msg: pl.Expr) -> pl.Expr:
    """Whether an entry's parameters may follow it as an entry of their own (an ``execute``/``bind`` step)."""
    return msg.str.contains(_BOUND_STEP).fill_null(False)


def kind(sev: pl.Expr, msg: pl.Expr) -> pl.Expr:
    """What an entry is, from its severity and the first line of its message: ``F`` (duration + statement),
    ``D`` (duration alone), ``S`` (statement alone), ``L`` (lock wait), ``P`` (parameters), else ``O``."""
    log = sev == "LOG"
    return (
        pl.when(log & msg.str.contains(rf"{_DURATION}[ \t]+{_STEP}(?: [^:]+?)?:"))
        .then(pl.lit("F"))
        .when(log & msg.str.contains(rf"{_DURATION}$"))  # as the parser: nothing after (not even blanks)
        .then(pl.lit("D"))
        .when(log & msg.str.contains(rf"^{_STEP}(?: [^:]+?)?:"))
        .then(pl.lit("S"))
        .when(log & msg.str.contains(r"^process [0-9]+ (?:still waiting for|acquired) .+ after [0-9]"))
        .then(pl.lit("L"))
        .when((sev == "DETAIL") & msg.str.starts_with("parameters: "))
        .then(pl.lit("P"))
        .otherwise(pl.lit("O"))
    )


def covered(n: int, first: pl.Series, last: pl.Series) -> pl.Series:
    """Boolean mask of ``n`` positions: true inside any of the spans ``first..last`` (inclusive)."""
    diff = np.zeros(n + 1, dtype=np.int64)
    np.add.at(diff, np.minimum(first.to_numpy().astype(np.int64), n), 1)
    np.add.at(diff, np.minimum(last.to_numpy().astype(np.int64) + 1, n), -1)
    return pl.Series(np.cumsum(diff[:n]) > 0)


def _bound(entries: pl.DataFrame) -> pl.Series:
    """Per entry (``session``, ``k`` of :func:`kind`, ``params``: :func:`takes_parameters`, in file order):
    true where a cut before it would separate two entries the parser joins."""
    n = entries.height
    k = pl.col("k")
    df = entries.with_row_index("i").with_columns(pl.col("i").cast(pl.Int64))
    # a parameters entry is its session's last record's if that takes parameters (else no record's)
    params = (
        df.filter(k.is_in(["F", "D", "S", "P"]))
        .with_columns(owner=pl.when(k != "P").then(pl.when("params").then("i").otherwise(-1)))
        .with_columns(pl.col("owner").forward_fill().over("session"))
        .filter((k == "P") & (pl.col("owner") >= 0) & (pl.col("i") - pl.col("owner") <= PARAMS_WINDOW))
        .select(a="owner", b="i")
    )
    # parameters may still come for each session's last record, up to the window past it
    last = (
        df.filter(k.is_in(["F", "D", "S"]))
        .group_by("session")
        .agg(a=pl.col("i").max(), p=pl.col("params").last())
    )
    awaiting = last.filter(pl.col("p") & (n - pl.col("a") <= PARAMS_WINDOW)).select(
        "a", b=pl.lit(n, dtype=pl.Int64)
    )
    spans = pl.concat([params, awaiting])
    return covered(n, spans["a"] + 1, spans["b"])


def cuts(
    starts: pl.Series, session: pl.Series, kinds: pl.Series, takes_params: pl.Series | None = None
) -> pl.Series:
    """``starts`` (a record-start mask) without the starts inside a joined pair; ``session``, ``kinds``
    (:func:`kind`) and ``takes_params`` (:func:`takes_parameters`; None: parameters never come as entries
    of their own, as in csvlog and jsonlog) have one value per start, in order."""
    starts = starts.fill_null(False).clone()  # scatter below writes in place
    params = takes_params if takes_params is not None else pl.repeat(False, len(kinds), eager=True)
    if not ((kinds == "P") | params).any():
        return starts
    bound = _bound(pl.DataFrame({"session": session.fill_null(""), "k": kinds, "params": params}))
    return starts.scatter(starts.arg_true().filter(bound), False)
