"""Streaming output: every file is written through a time-ordered buffer, so memory stays bounded.

Traces are simulated in arrival order, and nothing a later trace writes can be older than its arrival
(minus a small margin), so a sink may write every buffered record older than that watermark. Ties in time
go by creation order (``seq``), which is as deterministic as the RNG. Each written log record or slow-log
entry adds a row to its file's truth spill (Arrow IPC), merged into one Parquet file at the end.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from pipeline.generate.model import Span

TRUTH_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("record", pa.string()),
        ("service", pa.string()),
        ("trace_id", pa.string()),
        ("span_id", pa.string()),
        ("id_form", pa.string()),
        ("sampled", pa.bool_()),
        ("fault_kind", pa.string()),
        ("has_comment", pa.bool_()),
    ]
)
# record, service, trace_id, span_id, id_form, sampled, fault_kind, has_comment
TruthRow = tuple[str, str, str | None, str | None, str, bool, str | None, bool]
_SPILL_ROWS = 8_192


@dataclass(slots=True)
class Ref:
    """Where a record ended up: filled in when its sink writes it (cases and malformed lines point here)."""

    source_file: str
    source_line: int = 0


class TruthSpill:
    """The truth rows of one file, in line order, spilled to an Arrow IPC file in batches."""

    def __init__(self, path: Path, rel: str) -> None:
        self.path = path
        self._rel = rel
        self._rows: list[tuple[int, TruthRow]] = []
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None
        self.count = 0

    def add(self, line: int, row: TruthRow) -> None:
        self._rows.append((line, row))
        self.count += 1
        if len(self._rows) >= _SPILL_ROWS:
            self._spill()

    def _spill(self) -> None:
        if not self._rows:
            return
        cols = list(zip(*(row for _, row in self._rows), strict=True))
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array([self._rel] * len(self._rows), pa.string()),
                pa.array([line for line, _ in self._rows], pa.int64()),
                *(pa.array(c, f.type) for c, f in zip(cols, list(TRUTH_SCHEMA)[2:], strict=True)),
            ],
            schema=TRUTH_SCHEMA,
        )
        if self._writer is None:
            self._writer = pa.ipc.new_stream(str(self.path), TRUTH_SCHEMA)
        self._writer.write_batch(batch)
        self._rows = []

    def close(self) -> None:
        self._spill()
        if self._writer is not None:
            self._writer.close()

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The spilled rows again, batch by batch (after :meth:`close`)."""
        if self._writer is None:
            return
        # read through a plain file (not a memory map): mapped pages would count as resident memory
        with pa.OSFile(str(self.path), "rb") as fh, pa.ipc.open_stream(fh) as reader:
            yield from reader


class FileSink:
    """A text file written in time order. ``push`` buffers; ``flush`` writes everything older than a time."""

    def __init__(self, out_dir: Path, rel: str, spill_dir: Path) -> None:
        self.rel = rel
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        # newline="\n": the same bytes on every OS
        self._fh: IO[str] = path.open("w", encoding="utf-8", newline="\n")
        self._heap: list[tuple[int, int, Any]] = []
        self.lines = 0
        self.records = 0
        self.truth = TruthSpill(spill_dir / f"{len(rel)}-{rel.replace('/', '__')}.arrows", rel)

    def push(self, key_us: int, seq: int, payload: Any) -> None:
        """Buffer one record (``payload`` is what :meth:`render` takes) to be written at ``key_us``."""
        heapq.heappush(self._heap, (key_us, seq, payload))

    def header(self, lines: list[str]) -> None:
        """Lines at the top of the file that are no record (a server banner)."""
        self._write(lines)

    def render(self, payload: Any) -> tuple[list[str], TruthRow | None, Ref | None]:
        """A buffered payload -> its lines, its truth row (None: not a record) and the ref to fill."""
        lines, row, ref = payload
        return lines, row, ref

    def _write(self, lines: list[str]) -> int:
        first = self.lines + 1
        self._fh.write("".join(f"{line}\n" for line in lines))
        self.lines += len(lines)
        return first

    def flush(self, until_us: int | None = None) -> None:
        """Write every buffered record with a key below ``until_us`` (all of them when None)."""
        heap = self._heap
        while heap and (until_us is None or heap[0][0] < until_us):
            _, _, payload = heapq.heappop(heap)
            lines, row, ref = self.render(payload)
            first = self._write(lines)
            if ref is not None:
                ref.source_line = first
            if row is not None:
                self.records += 1
                self.truth.add(first, row)

    def close(self) -> None:
        self.flush()
        self._fh.close()
        self.truth.close()


class SpanSink:
    """A span export file: spans are batched by end time (the batch processor's window) and rendered."""

    def __init__(self, out_dir: Path, rel: str, render: Callable[[list[Span]], str], window_us: int) -> None:
        self.rel = rel
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] = path.open("w", encoding="utf-8", newline="\n")
        self._render = render
        self._window = window_us
        self._batches: dict[int, list[Span]] = {}
        self.lines = 0
        self.spans = 0

    def push(self, span: Span) -> None:
        self._batches.setdefault(span.end_us // self._window, []).append(span)

    def flush(self, until_us: int | None = None, max_batch: int = 512) -> None:
        """Write every batch window that ends before ``until_us`` (all when None)."""
        for w in sorted(self._batches):
            if until_us is not None and (w + 1) * self._window >= until_us:
                break
            spans = sorted(self._batches.pop(w), key=lambda s: (s.end_us, s.seq))
            for i in range(0, len(spans), max_batch):
                self._fh.write(self._render(spans[i : i + max_batch]) + "\n")
                self.lines += 1
            self.spans += len(spans)

    def close(self) -> None:
        self.flush()
        self._fh.close()
