"""Where a PostgreSQL log may be cut into chunks: never between two entries the parser joins into one record.

:func:`parsers.postgres.build` joins entries of one session that may lie apart in the file, with other
sessions' entries between them:

* a ``statement:``/``execute ...:`` entry (``log_statement``) and the ``duration:`` entry that follows it
  (``log_duration``); a statement that is still waiting at the end of the lines seen waits up to their end;
* a record and the ``DETAIL:  parameters:`` entry that follows it;
* a lock wait (``process N still waiting for ...``) and the next record of the session.

The record-start masks of the PostgreSQL parsers leave out the entries inside such a pair, so the reader
(:func:`pipeline.reader.iter_records`, which shows ``record_start`` the lines held back since the last cut)
never separates them. The session key only needs to be as fine as the parser's: a finer key can only hold a
cut back longer, never let a pair be split.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_STEP = r"(?:statement|execute|parse|bind|fastpath function call)"
_DURATION = r"^duration: [0-9]+(?:\.[0-9]+)? ms"
# Lines that may be an S, L or P entry (a superset, read without captures): without one, nothing is joined.
MAY_PAIR = rf"(?:LOG|DETAIL):[ \t]+(?:{_STEP}|parameters: |process [0-9]+ (?:still waiting for|acquired))"


def kind(sev: pl.Expr, msg: pl.Expr) -> pl.Expr:
    """What an entry is, from its severity and the first line of its message: ``F`` (duration + statement),
    ``D`` (duration alone), ``S`` (statement alone), ``L`` (lock wait), ``P`` (parameters), else ``O``."""
    log = sev == "LOG"
    return (
        pl.when(log & msg.str.contains(rf"{_DURATION}[ \t]+{_STEP}(?: [^:]+?)?:"))
        .then(pl.lit("F"))
        .when(log & msg.str.contains(rf"{_DURATION}[ \t]*$"))
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
    """Per entry (``session``, ``k`` of :func:`kind`, in file order): true where a cut before it would
    separate two entries the parser joins."""
    n = entries.height
    k = pl.col("k")
    df = entries.with_row_index("i").with_columns(pl.col("i").cast(pl.Int64))
    q = df.filter(k.is_in(["F", "D", "S"])).with_columns(
        next_k=k.shift(-1).over("session"), next_i=pl.col("i").shift(-1).over("session")
    )
    statements = q.filter((k == "S") & ((pl.col("next_k") == "D") | pl.col("next_k").is_null())).select(
        a="i", b=pl.col("next_i").fill_null(n)
    )
    params = (
        df.filter(k.is_in(["F", "D", "S", "P"]))
        .with_columns(owner=pl.when(k != "P").then(pl.col("i")).forward_fill().over("session"))
        .filter((k == "P") & pl.col("owner").is_not_null())
        .select(a="owner", b="i")
    )
    locks = (
        df.filter(k.is_in(["F", "D", "L"]))
        .with_columns(record=pl.when(k != "L").then(pl.col("i")).backward_fill().over("session"))
        .filter(k == "L")
        .select(a="i", b=pl.col("record").fill_null(n))
    )
    spans = pl.concat([statements, params, locks])
    return covered(n, spans["a"] + 1, spans["b"])


def cuts(starts: pl.Series, session: pl.Series, kinds: pl.Series) -> pl.Series:
    """``starts`` (a record-start mask) without the starts inside a joined pair; ``session`` and ``kinds``
    (:func:`kind`) have one value per start, in order."""
    starts = starts.fill_null(False).clone()  # scatter below writes in place
    if not kinds.is_in(["S", "P", "L"]).any():
        return starts
    bound = _bound(pl.DataFrame({"session": session.fill_null(""), "k": kinds}))
    return starts.scatter(starts.arg_true().filter(bound), False)
