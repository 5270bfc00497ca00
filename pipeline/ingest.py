"""Ingest: parse every input file in chunks and stream the records to staged Parquet.

Staging lives in ``<out>/_staging/`` (one zstd Parquet file per table plus ``manifest.json`` with the
per-file line accounting). It is written to a sibling directory first and swapped in at the end, so a crash
mid-run leaves the previous staging intact.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from parsers import carry, schema
from parsers.base import ParseContext, Parser, ParseResult
from pipeline import reader
from pipeline.discover import InputFile, choose, resolve_format
from pipeline.paths import MANIFEST, STAGING

TABLES = ("logs", "slow_queries", "spans", "rejects")


@dataclass
class FileStats:
    """Line accounting of one input file: lines == record_lines + reject_lines + skipped_lines."""

    source_file: str
    format: str | None
    detected: bool
    service: str | None
    lines: int = 0
    records: int = 0
    record_lines: int = 0
    rejects: int = 0
    reject_lines: int = 0
    skipped_lines: int = 0
    tz_assumed: int = 0
    note: str = ""

    @property
    def reconciles(self) -> bool:
        return self.lines == self.record_lines + self.reject_lines + self.skipped_lines


@dataclass
class IngestSummary:
    files: list[FileStats] = field(default_factory=list)
    staging: Path = Path()

    def totals(self) -> dict[str, int]:
        keys = ("lines", "records", "record_lines", "rejects", "reject_lines", "skipped_lines", "tz_assumed")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def to_json(self) -> dict[str, object]:
        return {"files": [asdict(f) for f in self.files], "totals": self.totals()}


class _Writers:
    """One Parquet writer per staged table, opened lazily, always closed with a file (maybe empty)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.writers: dict[str, pq.ParquetWriter] = {}

    def write(self, table_name: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if table_name not in self.writers:
            self.writers[table_name] = pq.ParquetWriter(
                self.directory / f"{table_name}.parquet", schema.SCHEMAS[table_name], compression="zstd"
            )
        self.writers[table_name].write_table(table)

    def close(self) -> None:
        for name in TABLES:
            if name in self.writers:
                self.writers[name].close()
            else:
                pq.write_table(schema.empty(schema.SCHEMAS[name]), self.directory / f"{name}.parquet")


WORKERS = min(4, os.cpu_count() or 1)


def parse_chunks(
    path: Path,
    parser: Parser,
    context: Callable[[int], ParseContext],
    workers: int = WORKERS,
    block_bytes: int | None = None,
) -> Iterator[tuple[int, ParseResult]]:
    """Parse a file's chunks, ``workers`` at a time; yield ``(lines in chunk, result)`` in file order.

    polars and DuckDB release the GIL while they work, so threads use every core. At most ``workers + 1``
    chunks are in flight, which keeps memory bounded by the chunk size whatever the file size. Each result
    gets the state the chunks before it left (:mod:`parsers.carry`) as it is yielded, in file order.
    """
    # a parser may ask for larger blocks (span exports: the work per chunk outweighs the memory saved)
    size = block_bytes or _even_blocks(path, getattr(parser, "block_bytes", reader.BLOCK_BYTES), workers)
    chunks = reader.iter_records(path, parser.record_start, size)
    state: dict[str, object] = {}
    if workers <= 1:
        for chunk in chunks:
            yield len(chunk.lines), carry.apply(parser.parse(chunk.lines, context(chunk.first_line)), state)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[int, Future[ParseResult]]] = deque()
        for chunk in chunks:
            pending.append(
                (len(chunk.lines), pool.submit(parser.parse, chunk.lines, context(chunk.first_line)))
            )
            if len(pending) > workers:
                n, future = pending.popleft()
                yield n, carry.apply(future.result(), state)
        while pending:
            n, future = pending.popleft()
            yield n, carry.apply(future.result(), state)


def _even_blocks(path: Path, size: int, workers: int) -> int:
    """A block size of at most ``size`` that cuts the file into rounds of ``workers`` blocks of about equal
    size, so that no worker waits for another in the last round: 210 MB in 16 MB blocks is 13 chunks, the
    last of them parsed alone; in 15 MB blocks it is 14, two at a time. Compressed files keep ``size``."""
    if workers <= 1 or reader.compression_of(path) is not None:
        return size
    total = path.stat().st_size
    rounds = max(1, math.ceil(total / (size * workers)))
    return max(_MIN_BLOCK, min(size, math.ceil(total / (rounds * workers))))


_MIN_BLOCK = 1 << 20  # below this, the work per chunk would be mostly fixed costs


def ingest_file(file: InputFile, writers: _Writers, parsers: Mapping[str, Parser] | None = None) -> FileStats:
    """Parse one file chunk by chunk; stream its records and rejects to the writers."""
    det = choose(file, parsers)
    stats = FileStats(file.source_file, det.format, det.detected, file.service, note=det.note)
    if det.format is None:
        stats.lines = sum(len(c.lines) for c in reader.iter_chunks(file.path))
        stats.skipped_lines = stats.lines
        return stats
    parser = resolve_format(det.format, parsers)
    # year-less timestamps (syslog) take the year the file was last written (DESIGN §5)
    year = dt.datetime.fromtimestamp(file.path.stat().st_mtime, tz=dt.UTC).year

    def context(first_line: int) -> ParseContext:
        return ParseContext(
            file.source_file, first_line, file.service, file.timezone, year, dict(file.options)
        )

    for n_lines, result in parse_chunks(file.path, parser, context):
        writers.write(parser.kind, result.records)
        writers.write("rejects", result.rejects)
        stats.lines += n_lines
        stats.records += result.records.num_rows
        stats.record_lines += result.record_lines
        stats.rejects += result.rejects.num_rows
        stats.reject_lines += result.reject_lines
        stats.skipped_lines += result.skipped_lines
        stats.tz_assumed += result.tz_assumed
    return stats


def ingest(files: list[InputFile], out: Path, parsers: Mapping[str, Parser] | None = None) -> IngestSummary:
    """Parse all files into ``<out>/_staging``; replace the previous staging only when all succeeded."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f"{STAGING}.new"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    writers = _Writers(tmp)
    summary = IngestSummary()
    try:
        for file in files:
            summary.files.append(ingest_file(file, writers, parsers))
    finally:
        writers.close()
    (tmp / MANIFEST).write_text(json.dumps(summary.to_json(), indent=2, sort_keys=True) + "\n")
    final = out / STAGING
    old = out / f"{STAGING}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    summary.staging = final
    return summary


def load_manifest(out: Path) -> dict[str, object]:
    path = out / STAGING / MANIFEST
    return dict(json.loads(path.read_text())) if path.exists() else {}
