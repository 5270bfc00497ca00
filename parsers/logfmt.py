"""logfmt: ``key=value`` pairs, values optionally double-quoted with ``\\"`` escapes (Go kit, logrus, slog).

Lines are cut into pairs (line, key, value). Most lines are read by a byte scan (numpy over the lines' bytes
laid end to end): when every quote opens right after ``=`` and closes before a blank, a token runs between
two blanks outside quotes, its key to its first ``=``. The other lines (escaped quotes, tabs, stray quotes)
go through a pair regex (``str.extract_all``). Known keys become columns; every other pair, and a bare word
(a key without ``=``, kept with an empty value), goes into ``attributes``, in line order.
When a column's key appears under two aliases on one line (``ts=`` and ``time=``), the first alias in
:data:`ALIASES` wins and the other stays an attribute, so nothing is dropped.

The byte scan's keys and values are never cut out as strings: they become Arrow string views (16 bytes: the
length and the first bytes, or where the text lies in the lines' bytes), which polars and Arrow take without
a copy; the known keys are told by their first 8 bytes. This takes a little over half the CPU time of
polars string splits, finds and slices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import base, ids, stringviews
from parsers.base import Kind, ParseContext, ParseResult, finish_logs, map_distinct
from parsers.levels import level_from_text
from parsers.timeparse import EPOCH, ISO_ZONED, parse_timestamps

name = "logfmt"
kind: Kind = "logs"
description = 'logfmt key=value lines (Go kit, logrus, slog TextHandler), quoted values with \\" escapes'
example = (
    "ts=2026-11-17T14:32:05.238901Z level=error service=inventory-service host=inventory-5d8b-1 "
    "caller=reserve.go:88 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=7a1c2e9d04b3f518 "
    'msg="reserve failed" sku=sku-789 qty=1 err="Error 1213 (40001): Deadlock found when trying to get lock; '
    'try restarting transaction"'
)

# column -> its keys, highest priority first
ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "time", "timestamp"),
    "level": ("level", "lvl", "severity"),
    "message": ("msg", "message"),
    "trace_id": ("trace_id", "traceID", "traceId", "trace"),
    "span_id": ("span_id", "spanID", "spanId"),
    "service": ("service", "app", "service.name"),
    "host": ("host", "hostname"),
    "logger": ("logger", "component"),
}
_COLUMNS = tuple(ALIASES)
# RFC 3339 (Go's time.RFC3339Nano, slog), logrus' and zap's "2006-01-02 15:04:05", epoch numbers (zap's ts)
_TIME_FORMATS = (ISO_ZONED, "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", EPOCH)
_CODE = {key: col * 16 + prio for col, keys in enumerate(ALIASES.values()) for prio, key in enumerate(keys)}

# a pair, or a bare word (logfmt allows keys without a value); quoted values may hold \" and \\
_PAIR = r'[^ \t="]+(?:=(?:"(?:[^"\\]|\\.)*"?|[^ \t]*))?'
_SIMPLE = r'^(?:[^"\\\t]*="[^"\\\t]*"(?: |$))*[^"\\\t]*$'
# tokens separated by mandatory blanks, so a line that is not logfmt fails in linear time (a pattern where
# the blanks are optional backtracks exponentially on a long word)
_TOKEN = r'[^ \t="]+(?:=(?:"(?:[^"\\]|\\.)*"|[^ \t"]*))?'
_SNIFF_LINE = re.compile(rf"^[ \t]*{_TOKEN}(?:[ \t]+{_TOKEN})*[ \t]*$")
_SNIFF_FIRST = re.compile(r"[A-Za-z_@][A-Za-z0-9_.@/-]*=")
_SNIFF_PAIR = re.compile(r'(?:^|[ \t])[A-Za-z_@][A-Za-z0-9_.@/-]*=(?:"|[^ \t"]*)')

_BLANK, _QUOTE, _EQ = 32, 34, 61  # the bytes of " ", '"' and "="
_PAD = 8  # bytes before the text: a view reads the 4 bytes before its string
_TAIL = 16  # and after it: a token's first 16 bytes are read at once; the end is a scan event
_HEAD_LINE = pl.Series(["\x00" * _PAD])
_TAIL_LINE = pl.Series(["\x00" * _TAIL])
_INLINE, _VIEW = stringviews.INLINE, stringviews.VIEW
_U64 = np.uint64
# by length (13: longer), the masks of a view's two 64-bit words (little endian) after reading the 16 bytes
# from 4 bytes before the string: its first 4 bytes after the length, then the next 8 bytes
_PREFIX_MASK = np.array([((1 << (8 * min(n, 4))) - 1) << 32 for n in range(_INLINE + 2)], dtype=_U64)
_REST_MASK = np.array([(1 << (8 * min(max(n - 4, 0), 8))) - 1 for n in range(_INLINE + 1)] + [0], _U64)
_BYTE_MASK = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=_U64)  # the first n bytes of a word
# SWAR: the first "=" in a 64-bit word of text
_EQS, _ONES, _HIGHS = _U64(0x3D3D3D3D3D3D3D3D), _U64(0x0101010101010101), _U64(0x8080808080808080)
_BYTE_RANK = _U64(sum((k + 1) << (8 * (7 - k)) for k in range(8)))  # lowest 0x80 bit of byte k -> k + 1


def _unquote(value: pl.Expr) -> pl.Expr:
    """Strip the quotes of a quoted value and undo ``\\"``, ``\\\\``, ``\\n``, ``\\t`` escapes."""
    quoted = value.str.starts_with('"')
    inner = value.str.strip_prefix('"').str.strip_suffix('"')
    # escaped backslashes first go to a placeholder, so "\\n" stays backslash + n
    unescaped = (
        inner.str.replace_all(r"\\", "\x00", literal=True)
        .str.replace_all(r"\"", '"', literal=True)
        .str.replace_all(r"\n", "\n", literal=True)
        .str.replace_all(r"\t", "\t", literal=True)
        .str.replace_all("\x00", "\\", literal=True)
    )
    return (
        pl.when(~quoted)
        .then(value)
        .when(inner.str.contains("\\", literal=True))
        .then(unescaped)
        .otherwise(inner)
    )


def _pairs_regex(lines: pl.Series, rows: pl.Series) -> pl.DataFrame:
    """(row, key, value) for every pair of ``lines`` with a regex (``\\"`` escapes, tabs, stray quotes)."""
    pairs = pl.DataFrame({"row": rows, "pair": lines.str.extract_all(_PAIR)})
    kv = pl.col("pair").str.splitn("=", 2)  # a bare word is all key, with no value
    return (
        pairs.explode("pair")
        .drop_nulls("pair")
        .select(
            "row",
            kv.struct.field("field_0").alias("key"),
            _unquote(kv.struct.field("field_1")).alias("value"),
        )
    )


@dataclass
class _Scan:
    """The lines' bytes, and where their blanks and quotes are (:func:`_segments`)."""

    data: np.ndarray  # uint8: the lines end to end, after _PAD bytes and before _TAIL bytes
    buffer: pa.Buffer  # the memory of data, for the string views
    starts: np.ndarray  # int64 (lines + 1): line i is data[starts[i]:starts[i + 1]]
    simple: np.ndarray  # bool per line: the byte scan reads it (:func:`_simple_rows`)
    ev: np.ndarray  # int64: the events, ascending; the last one is the end of the text
    kind: np.ndarray  # uint8: the byte at each event
    line_ev: np.ndarray  # int64: the event of each non-empty line's first byte
    nonempty: np.ndarray  # int64: the non-empty lines
    quotes: np.ndarray  # int64: where the quotes are
    closing: np.ndarray  # int64: the closing quotes of the simple lines (into quotes; the one before opens)
    odd_quotes: np.ndarray | None  # bool per quote: its line has an odd number of them (None: no such line)


def _segments(lines: pl.Series) -> _Scan:
    """The byte scan of ``lines``: their bytes end to end and their events (every blank and quote, every
    non-empty line's first byte, the end), which :func:`_simple_rows` and :func:`_pairs_split` read."""
    n = len(lines)
    # a line before and after them: Arrow lays the text out with room for the views' reads
    arr = pl.concat([_HEAD_LINE, lines.cast(pl.String), _TAIL_LINE]).to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    _, offset_buffer, buffer = arr.buffers()
    offsets = np.frombuffer(offset_buffer, np.int64, n + 3, arr.offset * 8)
    starts = offsets[1:-1]
    data = np.frombuffer(buffer, np.uint8, int(offsets[-1]))
    event = np.bitwise_or(data, 2)  # " " and '"' (0x20, 0x22) both become 0x22
    event = np.equal(event, _QUOTE, out=event.view(bool))
    nonempty = np.flatnonzero(starts[1:] > starts[:-1])
    event[starts[nonempty]] = True
    event[starts[-1]] = True  # the end (a byte of the line after)
    ev = np.flatnonzero(event)
    del event
    kind = data[ev]
    line_ev = np.searchsorted(ev, starts[nonempty])

    bad = lines.str.contains_any(["\\", "\t"]).fill_null(True).to_numpy().copy()
    quotes = ev[kind == _QUOTE]
    line = np.searchsorted(starts, quotes, "right") - 1
    count = np.bincount(line, minlength=n)
    odd = (count & 1).astype(bool)
    # a quote opens (even rank in its line) right after "=" of its line, and closes before a blank or the end
    opening = ((np.arange(len(quotes)) - (np.cumsum(count) - count)[line]) & 1) == 0
    opens_ok = (data[quotes - 1] == _EQ) & (quotes > starts[line])
    closes_ok = (data[quotes + 1] == _BLANK) | (quotes + 1 == starts[line + 1])
    bad[line[np.where(opening, ~opens_ok, ~closes_ok)]] = True
    bad |= odd
    if len(data) >= 2**31:  # beyond a view's 32-bit offsets: the regex reads them all
        bad[:] = True
    closing = np.flatnonzero(~opening & ~bad[line])
    odd_quotes = odd[line] if odd.any() else None
    return _Scan(data, buffer, starts, ~bad, ev, kind, line_ev, nonempty, quotes, closing, odd_quotes)


def _simple_rows(lines: pl.Series, segs: _Scan) -> pl.Series:
    """Lines that :data:`_SIMPLE` matches, told from the byte scan (the regex over every line costs more): no
    backslash or tab, an even number of quotes, every quote opening right after ``=`` and closing before a
    blank or the end of the line."""
    return pl.Series(segs.simple)


def _views(data: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Arrow string views (:data:`_VIEW`) of ``data[start:start + length]``, ``data`` being buffer 0
    (``start >= 4`` and ``start + 12 <= len(data)``)."""
    out = np.ndarray((len(data) - 15,), _VIEW, buffer=data, strides=(1,))[start - 4]  # unaligned reads
    words = out.view(_U64).reshape(-1, 2)
    head, rest = words[:, 0], words[:, 1]
    size = np.minimum(length, _INLINE + 1)
    mask = np.take(_PREFIX_MASK, size)  # one scratch array (the arrays are large)
    head &= mask
    head |= length.view(_U64)
    rest &= np.take(_REST_MASK, size, out=mask)  # a long string's: zero, then its buffer (0) and offset
    np.copyto(rest, np.left_shift(start.view(_U64), _U64(32), out=mask), where=size > _INLINE)
    return out


def _series(arr: pa.Array) -> pl.Series:
    """An Arrow array as a polars Series (string views: no copy)."""
    series = pl.from_arrow(arr)
    assert isinstance(series, pl.Series)
    return series


@dataclass
class _Long:
    """Pairs in long form, in line order: ``row`` (index into the lines), ``code`` (:data:`_CODE`, -1: no
    alias), ``value`` (:data:`_VIEW` views, one more than the pairs: the last one is zero, the empty string,
    for a missing value), ``has_value`` (false: a bare word, whose value view is zero too), ``buffers`` (the
    memory the views point in). The key views are made on demand (:meth:`keys`): the byte scan's from the
    ``key_*`` arrays, the regex's are ``key_views``."""

    row: np.ndarray
    code: np.ndarray
    value: np.ndarray
    has_value: np.ndarray
    buffers: list[pa.Buffer]
    dead: np.ndarray | None = None  # pairs that are none (code -1, no value): not to be read
    key_views: np.ndarray | None = None
    data: np.ndarray | None = None
    key_start: np.ndarray | None = None
    key_len: np.ndarray | None = None

    def keys(self, at: np.ndarray) -> np.ndarray:
        """Views of the keys of the pairs ``at``."""
        if self.key_views is not None:
            return self.key_views[at]
        assert self.data is not None and self.key_start is not None and self.key_len is not None
        return _views(self.data, self.key_start[at], self.key_len[at])

    def frame(self, buffers: list[pa.Buffer] | None = None) -> pl.DataFrame:
        """(row, key, value) as a polars frame, value null for a bare word."""
        buffers = buffers or self.buffers
        live = np.ones(len(self.row), dtype=bool)
        if self.dead is not None:
            live[self.dead] = False
        at = np.flatnonzero(live)
        return pl.DataFrame(
            {
                "row": self.row[at],
                "key": _series(stringviews.array(self.keys(at), buffers)),
                "value": _series(stringviews.array(self.value[at], buffers, self.has_value[at])),
            }
        )


def _tokens(segs: _Scan) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tokens, cut at the blanks outside quotes and at the line ends: (row, start, end, dead). The dead
    ones, empty or on a line that is not simple, are left in place (filtering every array costs more)."""
    ev, kind = segs.ev, segs.kind
    quote = kind == _QUOTE
    if segs.odd_quotes is not None:  # not simple, and they would turn the lines after them inside out
        quote[np.flatnonzero(quote)[segs.odd_quotes]] = False
    cut = np.greater(kind == _BLANK, np.logical_xor.accumulate(quote))
    cut[segs.line_ev] = True
    cut[-1] = True
    ci = np.flatnonzero(cut)
    # a line's first byte is a cut: the tokens from one to the next are the line's
    first = np.append(np.searchsorted(ci, segs.line_ev), len(ci) - 1)
    count = np.diff(first)
    row = np.repeat(segs.nonempty, count)
    pos = ev[ci]
    start = pos[:-1] + (kind[ci[:-1]] == _BLANK)
    end = pos[1:]
    dead = np.flatnonzero(end <= start)
    bad = np.flatnonzero(~segs.simple[segs.nonempty])
    if len(bad):  # every token of those lines
        size = count[bad]
        shift = np.repeat(first[bad] - np.cumsum(size) + size, size)
        dead = np.concatenate([dead, np.arange(size.sum()) + shift])
    return row, start, end, dead


def _eq_index(words: np.ndarray) -> np.ndarray:
    """1 + the index of the first "=" in each 64-bit word of text (0: none), as unsigned integers."""
    x = np.bitwise_xor(words, _EQS)  # a zero byte where "=" was
    found = x - _ONES
    found &= np.invert(x, out=x)
    found &= _HIGHS  # the lowest set bit is in the first zero byte
    found &= np.negative(found, out=x)
    found >>= _U64(7)
    with np.errstate(over="ignore"):
        found *= _BYTE_RANK
    found >>= _U64(56)
    return found


def _key_lengths(
    data: np.ndarray, buffer: pa.Buffer, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each token's key length (to its first "=", or all of it), and its first 16 bytes (:data:`_VIEW`)."""
    window = np.ndarray((len(data) - 15,), _VIEW, buffer=data, strides=(1,))[start]  # unaligned reads
    words = window.view(_U64).reshape(-1, 2)
    none = _U64(2**63)
    at = _eq_index(words[:, 0]) - _U64(1)  # none: the largest number
    length = end - start
    later = np.flatnonzero((at > 7) & (length > 8))
    if len(later):  # a long key: the next 8 bytes, then the rest with a string search
        found = _eq_index(words[later, 1])
        at[later] = np.where(found > 0, found + _U64(7), none)
        later = later[(found == 0) & (length[later] > 16)]
        if len(later):
            s = start[later]
            text = _series(stringviews.array(_views(data, s, end[later] - s), [buffer])).to_frame("t")
            t = pl.col("t")  # str.find counts characters: the bytes before it are the offset
            head = text.select(t.str.head(t.str.find("=", literal=True)).str.len_bytes().cast(pl.Int64))
            found = head.to_series().fill_null(-1).to_numpy()
            at[later] = np.where(found >= 0, found, none)
    return np.minimum(at, length.view(_U64)).view(np.int64), window


def _split_long(segs: _Scan) -> _Long:
    """The pairs of the simple lines of ``segs``, from where their keys and values lie in its bytes.

    A token's key runs to its first ``=``, its value is the rest, or the quoted text when the token ends with
    a quote (no escapes on this path: taken as it is); a bare word is all key, with a null value.
    """
    data = segs.data
    row, start, end, dead = _tokens(segs)
    key_len, key_bytes = _key_lengths(data, segs.buffer, start, end)
    # one more value: the zero view, for a missing value (the arrays are large: freed as soon as done with)
    value_start = np.empty(len(start) + 1, np.int64)
    value_len = np.empty(len(start) + 1, np.int64)
    value_start[-1], value_len[-1] = _PAD, 0
    np.add(start, key_len, out=value_start[:-1])
    has_value = value_start[:-1] < end
    has_value[dead] = False
    value_start += 1
    np.subtract(end, value_start[:-1], out=value_len[:-1])
    value_len[np.flatnonzero(~has_value)] = 0
    # a closing quote ends a token key="quoted" (or key=x="quoted")
    close, opening = segs.quotes[segs.closing], segs.quotes[segs.closing - 1]
    quoted = np.searchsorted(end, close + 1)
    value_start[quoted] = opening + 1
    value_len[quoted] = close - opening - 1
    del end
    words = key_bytes.view(_U64).reshape(-1, 2)
    code = _key_codes(words[:, 0] | _FILL[np.minimum(key_len, 8)], words[:, 1], key_len)
    code[dead] = -1
    del words, key_bytes
    value = _views(data, value_start, value_len)
    del value_start, value_len
    return _Long(
        row,
        code,
        value,
        has_value,
        [segs.buffer],
        dead=dead,
        data=data,
        key_start=start,
        key_len=key_len,
    )


def _alias_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.uint64]:
    """A perfect hash of the aliases by their first 8 bytes, 0xFF after the key (a byte no UTF-8 text has):
    per slot of 64, the alias's first 8 bytes (0: none), its code (-1: none), its length and next 8 bytes
    (0xFF after it); and the multiplier."""
    keys = [k.encode() for k in _CODE]
    assert max(len(k) for k in keys) <= 16
    head = np.array([int.from_bytes(k[:8].ljust(8, b"\xff"), "little") for k in keys], dtype=_U64)
    rest = np.array([int.from_bytes(k[8:16].ljust(8, b"\xff"), "little") for k in keys], dtype=_U64)
    with np.errstate(over="ignore"):
        for mult in range(0x9E3779B97F4A7C15, 0x9E3779B97F4A7C15 + 2 * 4096, 2):
            slot = (head * _U64(mult)) >> _U64(58)
            if len(np.unique(slot)) == len(keys):
                heads, codes = np.zeros(64, _U64), np.full(64, -1, np.int64)
                sizes, rests = np.zeros(64, np.int64), np.zeros(64, _U64)
                heads[slot], codes[slot], rests[slot] = head, list(_CODE.values()), rest
                sizes[slot] = [len(k) for k in keys]
                return heads, codes, sizes, rests, _U64(mult)
    raise AssertionError("no perfect hash for the alias keys")


_ALIAS_HEAD, _ALIAS_CODE, _ALIAS_SIZE, _ALIAS_REST, _ALIAS_MULT = _alias_table()
_FILL = ~_BYTE_MASK  # 0xFF after the first n bytes


def _key_codes(head: np.ndarray, second: np.ndarray, length: np.ndarray) -> np.ndarray:
    """:data:`_CODE` of the keys of ``length`` bytes whose first 16 bytes are ``head`` (0xFF after the key)
    and ``second`` (as read), -1 for a key that is no alias."""
    with np.errstate(over="ignore"):
        slot = head * _ALIAS_MULT
    slot >>= _U64(58)
    slot = slot.view(np.int64)
    code = np.take(_ALIAS_CODE, slot)
    code[np.take(_ALIAS_HEAD, slot) != head] = -1
    longer = np.flatnonzero(np.take(_ALIAS_SIZE, slot) >= 8)  # first 8 bytes alike: compare length and rest
    if len(longer):
        size, rest = length[longer], second[longer]
        rest |= _FILL[np.clip(size - 8, 0, 8)]
        differ = (size != _ALIAS_SIZE[slot[longer]]) | (rest != _ALIAS_REST[slot[longer]])
        code[longer[differ]] = -1
    return code


def _polars_views(values: pl.Series, first_buffer: int) -> tuple[np.ndarray, list[pa.Buffer]]:
    """A polars string column as :data:`_VIEW` views (zero where null) and their buffers, numbered from
    ``first_buffer``."""
    views, buffers = stringviews.read(values)
    views = views.copy()
    words = views.view(_U64).reshape(-1, 2)
    if values.null_count():
        words[values.is_null().to_numpy()] = 0
    words[(words[:, 0] & _U64(0xFFFFFFFF)) > _INLINE, 1] += _U64(first_buffer)
    return views, buffers


def _regex_long(lines: pl.Series, rows: np.ndarray, first_buffer: int) -> _Long:
    """The pairs of ``lines`` (the lines ``rows``) with the pair regex, as views whose buffers are numbered
    from ``first_buffer``."""
    pairs = _pairs_regex(lines, pl.Series(rows))
    keys, key_buffers = _polars_views(pairs["key"], first_buffer)
    values, value_buffers = _polars_views(pairs["value"], first_buffer + len(key_buffers))
    return _Long(
        pairs["row"].to_numpy().astype(np.int64),
        pairs["key"].replace_strict(_CODE, default=-1, return_dtype=pl.Int64).to_numpy(),
        np.concatenate([values, np.zeros(1, _VIEW)]),
        pairs["value"].is_not_null().to_numpy(),
        key_buffers + value_buffers,
        key_views=keys,
    )


def _pairs_split(segs: _Scan) -> pl.DataFrame:
    """(row, key, value) of the lines the byte scan reads (:func:`_simple_rows`), see :func:`_split_long`."""
    return _split_long(segs).frame()


def _long(lines: pl.Series) -> tuple[_Long, _Long | None]:
    """The pairs of ``lines``: the byte scan's, and the regex's for the lines it cannot read exactly (None:
    there are none). Their views point in the byte scan's buffers, then the regex's."""
    segs = _segments(lines)
    fast = _split_long(segs)
    if segs.simple.all():
        return fast, None
    slow = np.flatnonzero(~segs.simple)
    return fast, _regex_long(lines.gather(slow), slow, len(fast.buffers))


def _pairs(lines: pl.Series) -> pl.DataFrame:
    """One row per pair, in line order: ``row`` (index into ``lines``), ``key``, ``value`` (null: bare
    word)."""
    fast, slow = _long(lines)
    if slow is None:
        return fast.frame()
    buffers = fast.buffers + slow.buffers
    return pl.concat([fast.frame(buffers), slow.frame(buffers)]).sort("row", maintain_order=True)


def _known(pairs: _Long, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs that fill a column, and their slot (column * n + row); when a line names a column twice, the
    lowest priority, then the first, wins."""
    known = np.flatnonzero(pairs.code >= 0)
    code = pairs.code[known]
    slot = (code >> 4) * n + pairs.row[known]
    if np.bincount(slot).max(initial=0) > 1:
        order = np.lexsort((code & 15, slot))
        known, slot = known[order], slot[order]
        first = np.r_[True, slot[1:] != slot[:-1]]
        known, slot = known[first], slot[first]
    return known, slot


def _columns(fast: _Long, slow: _Long | None, n: int) -> tuple[pl.DataFrame, _Bags]:
    """Known keys -> one column each (first alias wins); every other pair -> the attribute bags, in line order
    (``slow``'s lines are not ``fast``'s)."""
    parts = [fast] if slow is None else [fast, slow]
    buffers = [b for part in parts for b in part.buffers]
    known = [_known(part, n) for part in parts]
    # column c of line r: views[c * n + r], from the pair `where` says (the zero view: none, or a bare word)
    at, slot = known[0]
    where = np.full(len(_COLUMNS) * n, len(fast.row), dtype=np.int64)
    where[slot] = np.where(fast.has_value[at], at, len(fast.row))
    views = fast.value[where]
    valid = where != len(fast.row)
    del where
    if slow is not None:
        at, slot = known[1]
        views[slot] = slow.value[np.where(slow.has_value[at], at, len(slow.row))]
        valid[slot] = slow.has_value[at]
    columns = [
        _series(stringviews.array(views[c * n : (c + 1) * n], buffers, valid[c * n : (c + 1) * n])).alias(col)
        for c, col in enumerate(_COLUMNS)
    ]
    # pairs with a value on each line: all of its pairs but the bare words (and the dead)
    with_value = np.zeros(n, dtype=np.int64)
    for part in parts:
        with_value += np.bincount(part.row, minlength=n)
        with_value -= np.bincount(part.row[np.flatnonzero(~part.has_value)], minlength=n)
    rest = []
    for part, (at, _) in zip(parts, known, strict=True):
        others = np.ones(len(part.row), dtype=bool)
        others[at] = False
        if part.dead is not None:
            others[part.dead] = False
        rest.append(np.flatnonzero(others))
    return pl.DataFrame([*columns, pl.Series("pairs", with_value)]), _Bags(parts, rest, buffers, n)


@dataclass
class _Bags:
    """The pairs that go to the attribute bags (``rest``: per part, into its pairs), built once the lines that
    become records are known (filtering a built map of ~1M entries for a few rejects cost ~10 ms)."""

    parts: list[_Long]
    rest: list[np.ndarray]
    buffers: list[pa.Buffer]
    n: int

    def build(self, keep: np.ndarray | None) -> pa.MapArray:
        """The bags of the lines where ``keep`` is true (None: every line), as the canonical map."""
        fast, slow = self.parts[0], self.parts[1] if len(self.parts) > 1 else None
        rest = (
            self.rest
            if keep is None
            else [r[keep[p.row[r]]] for p, r in zip(self.parts, self.rest, strict=True)]
        )
        counts = [np.bincount(p.row[r], minlength=self.n) for p, r in zip(self.parts, rest, strict=True)]
        per_line = np.sum(counts, axis=0)
        if keep is not None:
            per_line = per_line[keep]
        offsets = np.zeros(len(per_line) + 1, dtype=np.int32)
        np.cumsum(per_line, out=offsets[1:])
        keys, values = fast.keys(rest[0]), fast.value[rest[0]]
        if slow is not None:  # each of its entries goes after fast's of the lines before
            to = (np.cumsum(counts[0]) - counts[0])[slow.row[rest[1]]]
            keys = np.insert(keys, to, slow.keys(rest[1]))
            values = np.insert(values, to, slow.value[rest[1]])
        return pa.MapArray.from_arrays(  # the canonical type: finish_logs takes it as it is
            pa.array(offsets),
            stringviews.array(keys, self.buffers).cast(pa.string()),
            stringviews.array(values, self.buffers).cast(pa.string()),  # a bare word's value: ""
        )


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of logfmt lines into LOGS records and rejects."""
    df = pl.DataFrame({"line": lines.cast(pl.String)}).with_row_index("line_no")
    kept = df["line"].str.contains("[^ \t\r]").fill_null(False)
    if not kept.all():
        df = df.filter(kept)
    skipped = len(lines) - df.height

    cols, bags = _columns(*_long(df["line"]), df.height)
    recs = pl.concat([df, cols], how="horizontal")
    recs = recs.with_columns(map_distinct(recs["level"], level_from_text))
    recs = recs.with_columns(ids.trace_id(pl.col("trace_id")), ids.span_id(pl.col("span_id")))
    recs, assumed = parse_timestamps(
        recs.rename({"ts": "ts_raw"}), "ts_raw", "ts", ctx.timezone, _TIME_FORMATS
    )
    reason = (
        pl.when(pl.col("pairs") == 0)
        .then(pl.lit("no logfmt key=value pairs"))
        .when(pl.col("ts").is_null())
        .then(pl.lit("no timestamp"))
    )
    recs = recs.with_columns(reason.alias("reason"))
    rejected = recs["reason"].is_not_null()
    if rejected.any():
        bad = recs.filter(rejected).select("line_no", "reason", pl.col("line").alias("raw"))
        good = recs.filter(~rejected)
    else:
        bad, good = recs.clear().select("line_no", "reason", pl.col("line").alias("raw")), recs
    return ParseResult(
        records=finish_logs(
            good, bags.build(None if good.height == recs.height else (~rejected).to_numpy()), ctx, name
        ),
        rejects=base.rejects_frame(bad, ctx, name),
        record_lines=good.height,
        reject_lines=bad.height,
        skipped_lines=skipped,
        tz_assumed=assumed,
    )


def record_start(lines: pl.Series) -> pl.Series | None:
    """Every line is a record."""
    return None


def sniff(head: list[str]) -> float:
    """Share of non-blank lines made only of pairs and bare words, with at least two ``key=value`` pairs,
    that begin with a pair (a line that begins with a bare timestamp is free text that has pairs in it)."""
    lines = [h.strip() for h in head if h.strip()]
    if not lines:
        return 0.0
    hits = sum(
        1
        for t in lines
        if _SNIFF_FIRST.match(t) and _SNIFF_LINE.match(t) and len(_SNIFF_PAIR.findall(t)) >= 2
    )
    return hits / len(lines)
