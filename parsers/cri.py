"""Kubernetes CRI container logs (containerd, CRI-O: ``/var/log/pods/...``), unwrapped.

    2026-11-17T14:32:05.245612345Z stdout F ts=2026-11-17T14:32:05.238901Z level=error msg="reserve failed"

``<RFC 3339 nano time> <stdout|stderr> <tag> <text>``: the tag is ``F`` for a full line or the last piece of
one, ``P`` for a piece that continues in the stream's next line (the runtime cuts long lines); pieces are
joined up to the ``F``. The tag may carry more flags after a colon (``F:x``), which are ignored. The inner
lines are then read by the registered log parser that recognises them, or as plain text stamped with the
runtime's time (see :mod:`parsers.container_common`). ``format`` is ``cri+<inner>``. Lines without the
wrapper's shape are rejected.
"""

from __future__ import annotations

import re

import polars as pl

from parsers import container_common
from parsers.base import Kind, ParseContext, ParseResult

name = "cri"
kind: Kind = "logs"
description = (
    "Kubernetes CRI container logs (<time> <stream> <P|F> <text>); the inner lines in their own format"
)
example = (
    "2026-11-17T14:32:05.245612345Z stdout F ts=2026-11-17T14:32:05.238901Z level=error "
    "service=inventory-service trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=7a1c2e9d04b3f518 "
    'msg="reserve failed" sku=sku-789'
)

_LINE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2}) "
    r"(?:stdout|stderr) [PF](?::[^ ]*)?(?: |$)"
)
_SNIFF = re.compile(_LINE)


def _decode(lines: pl.Series) -> pl.DataFrame:
    """The wrapper fields of every line (:data:`parsers.container_common.DECODED`)."""
    line = pl.col("line")
    df = pl.DataFrame({"line": lines.cast(pl.String)}).with_row_index("line_no")
    df = df.with_columns(
        blank=line.is_null() | ~line.str.contains("[^ \t\r]").fill_null(False),
        ok=line.str.contains(_LINE).fill_null(False),
        parts=line.str.splitn(" ", 4).struct.rename_fields(["time", "stream", "tag", "text"]),
    ).unnest("parts")
    ok = pl.col("ok")
    return df.select(
        "line_no",
        "line",
        "blank",
        pl.when(~pl.col("blank") & ~ok).then(pl.lit("not a CRI log line")).alias("reason"),
        pl.when(ok).then(pl.col("text").fill_null("")).alias("text"),
        pl.when(ok).then(pl.col("stream")).alias("stream"),
        (ok & pl.col("tag").str.starts_with("P")).alias("partial"),
        pl.when(ok).then(pl.col("time")).alias("time"),
    )


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of CRI log lines into LOGS records (of the inner format) and rejects."""
    return container_common.parse(_decode(lines), ctx, name)


def record_start(lines: pl.Series) -> pl.Series | None:
    """Lines where no ``P`` piece is open and the inner format starts a record."""
    return container_common.record_start(_decode(lines))


def sniff(head: list[str]) -> float:
    """Share of non-blank lines with the CRI wrapper's shape."""
    lines = [h for h in head if h.strip()]
    if not lines:
        return 0.0
    return sum(1 for h in lines if _SNIFF.match(h)) / len(lines)
