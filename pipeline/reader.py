"""Streaming line reader: a file (plain, .gz, .bz2, .zst) as chunks of lines in polars Series.

Lines are cut without copying the text (Arrow string views into the block read), never one Python call per
line. Memory is bounded by the block size, whatever the file size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import stringviews

BLOCK_BYTES = 16 * 1024 * 1024
HOLD_BYTES = 64 * 1024 * 1024  # the most held back for one cut (PostgreSQL: a record, its parameters)

_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd"}


@dataclass(frozen=True)
class Chunk:
    first_line: int  # 1-based number of lines[0] in the file
    lines: pl.Series  # String, no line terminators


def compression_of(path: Path) -> str | None:
    return _COMPRESSION.get(path.suffix.lower())


def _open(path: Path) -> pa.NativeFile:
    return pa.input_stream(str(path), compression=compression_of(path))


def _decode(block: bytes | memoryview) -> str:
    # Real logs contain latin-1 and cut multi-byte sequences: keep the line, mark the bad bytes.
    return str(block, "utf-8", errors="replace")


_BOM = b"\xef\xbb\xbf"


def _split(text: str) -> pl.Series:
    lines = pl.Series("line", [text]).str.split("\n").explode()
    return lines.str.strip_suffix("\r") if "\r" in text else lines


def read_head(path: Path, max_lines: int = 64, max_bytes: int = 256 * 1024) -> list[str]:
    """The first lines of a file (decompressed), for format sniffing."""
    with _open(path) as stream:
        block = stream.read(max_bytes).removeprefix(_BOM)
    lines = _decode(block).split("\n")
    if len(block) == max_bytes and len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut
    return [line.rstrip("\r") for line in lines[:max_lines]]


def iter_chunks(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[Chunk]:
    """Yield the file's lines in chunks of whole lines. A final newline does not make an empty line."""
    next_line = 1
    with _open(path) as stream:
        lead = stream.read(len(_BOM))  # a UTF-8 byte-order mark is not part of line 1
        lead = b"" if lead == _BOM else lead
        carried: list[bytes] = []  # the unfinished last line of the blocks read so far
        while True:
            block = stream.read_buffer(block_bytes)
            if lead:
                block, lead = pa.py_buffer(lead + block.to_pybytes()), b""
            if not block.size:
                break
            data = np.frombuffer(block, np.uint8)
            newlines = np.flatnonzero(data == _NL)
            if not len(newlines):
                carried.append(data.tobytes())
                continue
            cut = int(newlines[-1])
            lines = _lines(block, newlines[:-1], cut, b"".join(carried))
            carried = [data[cut + 1 :].tobytes()]
            yield Chunk(next_line, lines)
            next_line += len(lines)
    if rest := b"".join(carried):
        yield Chunk(next_line, _lines(pa.py_buffer(rest), np.zeros(0, np.int64), len(rest), b""))


_NL, _CR = 0x0A, 0x0D


def _lines(block: pa.Buffer, newlines: np.ndarray, stop: int, carried: bytes) -> pl.Series:
    """The lines of ``block[:stop]`` (``newlines``: where its line feeds are), with ``carried`` in
    front of the first, as a String series; a carriage return before a line feed is dropped.

    The text is not copied: the lines are Arrow string views into ``block`` (the first one, when it has a
    carried part, into a buffer of its own). Text that is not valid UTF-8 is decoded instead, the bad bytes
    replaced (real logs contain latin-1 and cut multi-byte sequences: keep the line, mark the bad bytes).
    """
    data = np.frombuffer(block, np.uint8)
    n = len(newlines) + 1
    begin = np.empty(n, np.int64)
    begin[0], begin[1:] = 0, newlines + 1
    end = np.empty(n, np.int64)
    end[:-1], end[-1] = newlines, stop
    length = end - begin
    cr = np.flatnonzero(length > 0)
    cr = cr[data[end[cr] - 1] == _CR]
    length[cr] -= 1
    views = stringviews.make(data, begin, length, 0)
    buffers = [block]
    if carried:
        first = carried + data[begin[0] : begin[0] + length[0]].tobytes()
        if end[0] == begin[0] and first.endswith(b"\r"):  # the line feed came right after the carried part
            first = first[:-1]
        first_data = np.frombuffer(first, np.uint8)
        views[0] = stringviews.make(first_data, np.zeros(1, np.int64), np.array([len(first)]), 1)[0]
        buffers.append(pa.py_buffer(first))
    array = stringviews.array(views, buffers)
    if data[:stop].max(initial=0) >= 0x80 or not carried.isascii():
        try:
            array.validate(full=True)
        except pa.ArrowInvalid:
            return _split(_decode(carried + data[:stop].tobytes()))
    return pl.Series("line", array)


def iter_records(
    path: Path, record_start: object, block_bytes: int = BLOCK_BYTES, hold_bytes: int = HOLD_BYTES
) -> Iterator[Chunk]:
    """Chunks cut at record boundaries, so a multi-line record never straddles two chunks.

    ``record_start`` is the parser's ``record_start`` function (lines -> bool mask, or None when every line
    is a record). Lines after the last record start are held back (as a list of pieces, never re-concatenated)
    and lead the next chunk; a parser whose only record start is line 1 (a whole JSON document) gets the whole
    file. ``record_start`` sees each block with the held-back lines in front, so it can keep together entries
    that belong together although other lines come between them (PostgreSQL's statement and its duration);
    once more than ``hold_bytes`` are held it sees only the last of them, which bounds the work and the chunk.
    """
    parts: list[pl.Series] = []
    parts_first = 1
    held = 0  # bytes in parts
    for chunk in iter_chunks(path, block_bytes):
        lines = chunk.lines
        if not callable(record_start):
            yield chunk
            continue
        before = parts if held <= hold_bytes else [parts[-1].tail(1)] if parts else []
        context = pl.concat([*before, lines]) if before else lines
        mask = record_start(context)
        if mask is None and not parts:
            yield chunk
            continue
        n_before = len(context) - len(lines)
        mask = pl.repeat(True, len(lines), eager=True) if mask is None else mask.slice(n_before)
        starts = mask.arg_true()
        cut = int(starts[-1]) if len(starts) else -1
        if cut < 0 or (cut == 0 and not parts):
            if not parts:
                parts_first = chunk.first_line
            parts.append(lines)
            held += _bytes(lines)
            continue
        head = [*parts, lines.slice(0, cut)] if cut else parts
        yield Chunk(parts_first, pl.concat(head) if len(head) > 1 else head[0])
        parts, parts_first = [lines.slice(cut)], chunk.first_line + cut
        held = _bytes(parts[0])
    if parts:
        yield Chunk(parts_first, pl.concat(parts) if len(parts) > 1 else parts[0])


def _bytes(lines: pl.Series) -> int:
    return int(lines.str.len_bytes().sum() or 0) + len(lines)
