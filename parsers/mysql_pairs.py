"""``Key: value`` lines of MySQL slow-log headers, read for :mod:`parsers.mysql_header`.

``# Query_time: 2.4  Lock_time: 0.0 Rows_sent: 10 ...``, MySQL 8's ``Start:``/``End:``, Percona's and
MariaDB's extra lines. A ``Key:`` is a key when a blank or the end of the line follows it; its value is the
text up to the next key (blanks around it trimmed). The column keys (:data:`COLUMN_KEYS` and ``Schema``)
give the entry's columns; the others (and ``Schema``) its attributes.

These lines are most of a slow log's bytes, so they are read in three ways, from cheap to general:

1. **templates**: a server writes each kind of line with the same keys at the same places, so the lines of a
   kind (first key, number of blank-separated tokens) are checked against the tokens of the first one and
   their values taken by position: the tokens of all the kind's lines at the template's key (or value) places
   are gathered from the flat token column at once, so a kind costs a few column operations in all;
2. **tokens**: split at blanks, a token that ends with ``:`` is a key and the token after it its value;
3. **regex**: every ``Key:`` becomes a separator; for the lines where tokens could read the rule above
   differently (a value with blanks in it, a key glued to other text, blanks at the end of the line, a
   column key without a value).

Each way returns per line the column values (``facts``) and the attribute pairs (``Lists``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import base

COLUMN_KEYS = ("Query_time", "Lock_time", "Rows_sent", "Rows_examined", "Start", "End")
FIELDS = ("query_time", "lock_time", "rows_sent", "rows_examined", "start_raw", "end_raw", "schema_db")
_FIELD_OF = dict(zip([*COLUMN_KEYS, "Schema"], FIELDS, strict=True))
_MAPPED = r"(?:^|[ \t])(?:" + "|".join(COLUMN_KEYS) + r"):[ \t]*[^ \t]*"
_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_SEP, _KV = "\x00", "\x01"  # never in a slow log's header lines
_NUMBER = r"^([0-9]+(?:\.[0-9]+)?)"
_PAIR_TYPE = pa.struct([("key", pa.string()), ("value", pa.string())])
_MIN_TEMPLATE_LINES = 16  # fewer lines of a kind are read as tokens
_MAX_TEMPLATES = 16


@dataclass
class Lists:
    """Attribute pairs of some lines: ``lists[i]`` belongs to the line ``line_no[i]``."""

    line_no: np.ndarray
    lists: pa.ListArray

    @staticmethod
    def empty() -> Lists:
        return Lists(np.zeros(0, dtype=np.int64), pa.array([], type=pa.list_(_PAIR_TYPE)))


def list_array(offsets: np.ndarray, keys: pa.Array, values: pa.Array) -> pa.ListArray:
    pairs = pa.StructArray.from_arrays(
        [keys.cast(pa.string()), values.cast(pa.string())], fields=list(_PAIR_TYPE)
    )
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pairs)


def kv_lists(df: pl.DataFrame, pairs: list[tuple[str, pl.Expr]]) -> Lists:
    """One list per row of ``df`` (which has ``line_no``) from fixed keys (:func:`parsers.base.kv_map`)."""
    bags = base.kv_map(df, pairs)
    lists = list_array(np.asarray(bags.offsets), bags.keys, bags.items)
    return Lists(df["line_no"].to_numpy(), lists)


def _long_lists(pairs: pl.DataFrame) -> Lists:
    """Lists from pairs in line order (``line_no``, ``key``, ``value``), one per line that has pairs."""
    line_no = pairs["line_no"].to_numpy()
    starts = np.flatnonzero(np.r_[True, line_no[1:] != line_no[:-1]]) if len(line_no) else np.zeros(0, int)
    offsets = np.r_[starts, len(line_no)]
    lists = list_array(offsets, pairs["key"].to_arrow(), pairs["value"].to_arrow())
    return Lists(line_no[starts], lists)


def field_value(key: pl.Expr, value: pl.Expr) -> pl.Expr:
    """The column value of a column key's raw value, as the header regexes of :func:`regex_fields` read it."""
    return (
        pl.when(key.is_in(["Start", "End"]))
        .then(pl.when(value != "").then(value))
        .when(key == "Schema")
        .then(pl.when((value != "") & ~value.str.contains(":", literal=True)).then(value))
        .otherwise(value.str.extract(_NUMBER, 1))
    )


def _num(field: str) -> str:
    return rf"(?:^|[ \t]){field}:[ \t]*([0-9]+(?:\.[0-9]+)?)"


def regex_fields(line: pl.Expr) -> dict[str, pl.Expr]:
    """The column values of header lines by regex (the lines neither templates nor tokens read)."""
    return {
        "query_time": line.str.extract(_num("Query_time"), 1),
        "lock_time": line.str.extract(_num("Lock_time"), 1),
        "rows_sent": line.str.extract(_num("Rows_sent"), 1),
        "rows_examined": line.str.extract(_num("Rows_examined"), 1),
        "start_raw": line.str.extract(r"(?:^|[ \t])Start:[ \t]*([^ \t]+)", 1),
        "end_raw": line.str.extract(r"(?:^|[ \t])End:[ \t]*([^ \t]+)", 1),
        "schema_db": line.str.extract(r"(?:^|[ \t])Schema:[ \t]*([^ \t:]+)(?:[ \t]|$)", 1),
    }


# --- 1. templates -----------------------------------------------------------------------------------------


def _template(tokens: list[str]) -> list[tuple[int, str, int | None]] | None:
    """``(key position, key, value position or None)`` of a line's tokens, or None when its lines are not
    plain ``# Key: value  Key: value`` lines (then tokens or the regex read them)."""
    if len(tokens) < 2 or tokens[0] != "#" or tokens[-1] == "":
        return None
    keys: list[tuple[int, str, int | None]] = []
    i = 1
    while i < len(tokens):
        tok = tokens[i]
        if tok == "":
            i += 1
            continue
        if not tok.endswith(":") or not _is_key(tok[:-1]):
            return None  # a value with blanks in it, or text before the first key
        j = i + 1
        while j < len(tokens) and tokens[j] == "":
            j += 1
        if j < len(tokens) and not tokens[j].endswith(":"):
            keys.append((i, tok[:-1], j))
            i = j + 1
        elif tok[:-1] in COLUMN_KEYS:
            return None  # a column key without a value: the regex takes the next key as its value
        else:
            keys.append((i, tok[:-1], None))
            i = j
    return keys or None


def _is_key(text: str) -> bool:
    return re.fullmatch(_KEY, text) is not None


@dataclass
class Reading:
    """The lines one template read: ``frame`` (``line_no``, ``entry``) and the attribute ``keys`` each line
    gives; ``at[i]`` are the places in ``values`` (one chunk) of line ``i``'s values of these keys."""

    frame: pl.DataFrame
    keys: list[str]
    values: pl.Series
    at: np.ndarray

    def rows(self, rows: np.ndarray) -> Reading:
        """The reading of the lines ``rows`` (row numbers of ``frame``)."""
        return Reading(self.frame[rows], self.keys, self.values, self.at[rows])

    def lists(self) -> Lists:
        n, k = self.frame.height, len(self.keys)
        keys = pa.array(self.keys, pa.string()).take(pa.array(np.tile(np.arange(k, dtype=np.int32), n)))
        values = self.values.gather(self.at.ravel()).to_arrow(compat_level=pl.CompatLevel.newest())
        offsets = np.arange(n + 1, dtype=np.int64) * k
        return Lists(self.frame["line_no"].to_numpy(), list_array(offsets, keys, values))


def _tiled(tokens: list[str], n: int) -> pl.Series:
    """``tokens`` repeated ``n`` times."""
    return pl.Series(tokens, dtype=pl.String).gather(np.tile(np.arange(len(tokens)), n))


def _is_number(value: pl.Series) -> pl.Series:
    """:func:`field_value` of a numeric column key: the number at the start of the value. Most values are
    just a number, which a match test finds without a capture per value."""
    if value.str.contains(r"^[0-9]+(?:\.[0-9]+)?$").all():
        return value
    return value.str.extract(_NUMBER, 1)


def templates(lines: pl.DataFrame) -> tuple[pl.DataFrame, list[Reading], pl.DataFrame]:
    """Read the lines (``line_no``, ``entry``, ``line``) that follow a template of their kind: their facts
    (``line_no``, ``entry`` and :data:`FIELDS`), the readings, and the other lines.

    The tokens of all lines are one flat column; the tokens of a kind's lines at a template place are
    gathered at once for all of them (a line of a kind has the kind's number of tokens)."""
    line = lines["line"]
    parts = line.str.split(" ")
    n_tokens = parts.list.len()
    plain = ~line.str.contains("\t", literal=True)
    kinds = pl.DataFrame({"first": parts.list.get(1, null_on_oob=True), "n": n_tokens, "plain": plain})
    kinds = kinds.with_row_index("row")
    common = (
        kinds.filter("plain")
        .group_by("first", "n")
        .agg(pl.col("row"))
        .filter(pl.col("row").list.len() >= _MIN_TEMPLATE_LINES)
        .sort(pl.col("row").list.len(), descending=True)
        .head(_MAX_TEMPLATES)
    )
    facts: list[pl.DataFrame] = []
    readings: list[Reading] = []
    taken: list[np.ndarray] = []
    if common.height:
        flat = parts.explode()
        counts = n_tokens.to_numpy().astype(np.int64)
        first_token = np.cumsum(counts) - counts
    for rows_list in common["row"]:
        rows = rows_list.to_numpy().astype(np.int64)
        sample = parts[int(rows[0])].to_list()
        template = _template(sample)
        if template is None:
            continue
        read = _read_kind(lines, flat, rows, first_token[rows], sample, template)
        if read is not None:
            kept, frame_facts, reading = read
            taken.append(rows[kept])
            facts.append(frame_facts)
            readings.append(reading)
    rest = lines
    if taken:
        keep = np.ones(lines.height, dtype=bool)
        keep[np.concatenate(taken)] = False
        rest = lines.filter(pl.Series(keep))
    return (pl.concat(facts) if facts else pl.DataFrame()), readings, rest


def _read_kind(
    lines: pl.DataFrame,
    flat: pl.Series,
    rows: np.ndarray,
    at: np.ndarray,
    sample: list[str],
    template: list[tuple[int, str, int | None]],
) -> tuple[np.ndarray, pl.DataFrame, Reading] | None:
    """The lines ``rows`` of one kind (``at``: the place of their first token in ``flat``) that follow the
    template of the kind's first line (its tokens: ``sample``): which of them (rows of ``rows``), their
    facts and their reading; None when none does."""

    def tokens(places: list[int]) -> pl.Series:
        return flat.gather((at[:, None] + np.asarray(places, dtype=np.int64)[None, :]).ravel())

    # a line follows the template when its keys and blanks are where the template has them, and each
    # value is one that tokens read as a value: not a key (ending with ":"), not empty for a column key
    n = len(rows)
    keys = [(pos, f"{key}:") for pos, key, _ in template]
    same = tokens([p for p, _ in keys]) == _tiled([k for _, k in keys], n)
    good = same.to_numpy().reshape(n, -1).all(axis=1)
    blanks = [pos for pos, tok in enumerate(sample) if tok == ""]
    if blanks:
        good &= (tokens(blanks).str.len_bytes() == 0).to_numpy().reshape(n, -1).all(axis=1)
    with_value = [(key, vp) for _, key, vp in template if vp is not None]
    width = len(with_value)
    values = tokens([vp for _, vp in with_value])
    if width:
        bad = values.str.ends_with(":").to_numpy().reshape(n, width)
        column = [i for i, (key, _) in enumerate(with_value) if key in COLUMN_KEYS]
        if column:
            bad[:, column] |= (values.str.len_bytes() == 0).to_numpy().reshape(n, width)[:, column]
        good &= ~bad.any(axis=1)
    if not good.any():
        return None
    kept = np.flatnonzero(good)
    frame = lines.select("line_no", "entry")[rows[kept]]
    # the values of the kept lines by template place; a key without a value has "" (put after the values)
    place = {vp: i for i, (_, vp) in enumerate(with_value)}
    valueless = any(vp is None for _, _, vp in template)
    pool = pl.concat([values, pl.Series([""], dtype=pl.String)], rechunk=True) if valueless else values

    def value_of(vp: int | None) -> pl.Series:
        return pool.gather(kept * width + place[vp] if vp is not None else np.full(len(kept), n * width))

    pairs = [(key, vp) for _, key, vp in template if key not in COLUMN_KEYS]
    places = np.array([place[vp] if vp is not None else -1 for _, vp in pairs], dtype=np.int64)
    pair_at = kept[:, None] * width + places[None, :]
    pair_at[:, places < 0] = n * width
    reading = Reading(frame, [key for key, _ in pairs], pool, pair_at)
    return kept, _template_facts(frame, template, value_of), reading


def _template_facts(
    frame: pl.DataFrame,
    template: list[tuple[int, str, int | None]],
    value_of: Callable[[int | None], pl.Series],
) -> pl.DataFrame:
    """The column values of template lines: the value of each column key's first place (``value_of``: the
    values at a value place, "" for None), as :func:`field_value` reads them."""
    first: dict[str, pl.Series] = {}
    for _, key, vp in template:
        if key in _FIELD_OF and _FIELD_OF[key] not in first:
            value = value_of(vp)
            if key in ("Start", "End"):
                value = value.to_frame("v").select(pl.when(pl.col("v") != "").then(pl.col("v"))).to_series()
            elif key == "Schema":
                v = pl.col("v")
                named = (v != "") & ~v.str.contains(":", literal=True)
                value = value.to_frame("v").select(pl.when(named).then(v)).to_series()
            else:
                value = _is_number(value)
            first[_FIELD_OF[key]] = value.alias(_FIELD_OF[key])
    none = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    return frame.with_columns(*(first.get(f, none).alias(f) for f in FIELDS))


def merge(parts: list[Lists]) -> Lists:
    """The lists of several readings, in line order."""
    parts = [p for p in parts if len(p.line_no)]
    if not parts:
        return Lists.empty()
    if len(parts) == 1:
        return parts[0]
    line_no = np.concatenate([p.line_no for p in parts])
    order = np.argsort(line_no, kind="stable")
    lists = pa.concat_arrays([p.lists for p in parts]).take(pa.array(order))
    return Lists(line_no[order], lists)


# --- 2. tokens, 3. regex ----------------------------------------------------------------------------------


def _tokens(lines: pl.DataFrame) -> pl.DataFrame:
    """The keys of lines (``line_no``, ``entry``, ``text``) read as tokens: ``line_no``, ``entry``, ``key``
    (without its colon), ``value`` (the next token when it is not a key, else "") and ``odd`` (the line needs
    the regex). The neighbours of a token are found with numpy on the flat token column."""
    text = pl.col("text")
    if lines["text"].str.contains("\t", literal=True).any():
        text = text.str.replace_all("\t", " ", literal=True)
    df = lines.select("line_no", "entry", tok=text.str.split(" ")).explode("tok")
    df = df.filter(pl.col("tok").str.len_bytes() > 0)
    tok = df["tok"]
    is_key = tok.str.ends_with(":").to_numpy()
    line = df["line_no"].to_numpy()
    n = len(line)
    value_after = []  # the token k places on is a value of the same line
    for k in (1, 2):
        after = np.zeros(n, dtype=bool)
        after[:-k] = (line[k:] == line[:-k]) & ~is_key[k:]
        value_after.append(after)
    at = np.flatnonzero(is_key)
    has_value = value_after[0][at]
    keys = df[at].select(
        "line_no",
        "entry",
        key=pl.col("tok").str.strip_suffix(":"),
        value=pl.when(pl.Series(has_value)).then(tok.gather(np.minimum(at + 1, n - 1))).otherwise(pl.lit("")),
    )
    distinct = keys["key"].unique()
    dirty = distinct.filter(~distinct.str.contains(rf"^{_KEY}$"))
    odd = (has_value & value_after[1][at]) | (~has_value & keys["key"].is_in(COLUMN_KEYS).to_numpy())
    if len(dirty):
        odd |= keys["key"].is_in(dirty.implode()).to_numpy()
    return keys.with_columns(odd=pl.Series(odd))


def _regex_pairs(lines: pl.DataFrame) -> pl.DataFrame:
    """``line_no``, ``key``, ``value`` of lines (``line_no``, ``text``) by regex: every ``Key:`` becomes
    \\x00Key\\x01 (eating the blanks around it), so a split on \\x00 yields the pairs and an empty value
    (``Schema:  Last_errno: 0``) stays empty instead of swallowing the next key."""
    pieces = (
        pl.col("text")
        .str.replace_all(_MAPPED, "")
        .str.replace_all(rf"[ \t]*({_KEY}):(?:[ \t]+|$)", f"{_SEP}${{1}}{_KV}")
        .str.split(_SEP)
        .list.slice(1)
    )
    pairs = lines.select("line_no", piece=pieces).explode("piece").drop_nulls("piece")
    kv = pl.col("piece").str.split_exact(_KV, 1).struct.rename_fields(["key", "value"])
    return pairs.select("line_no", kv=kv).unnest("kv")


def general(lines: pl.DataFrame) -> tuple[pl.DataFrame, Lists]:
    """Read lines (``line_no``, ``entry``, ``text``) as tokens, or by regex where tokens could differ:
    their facts (``line_no``, ``entry`` and :data:`FIELDS`) and their lists."""
    if not lines.height:
        return pl.DataFrame(), Lists.empty()
    keys = _tokens(lines)
    # blanks at the end of a line stay in its last value (the regex keeps them)
    text = pl.col("text")
    trailing = lines.filter(text.str.ends_with(" ") | text.str.ends_with("\t"))["line_no"]
    odd_lines = pl.concat([keys.filter("odd")["line_no"], trailing]).unique().implode()
    odd = lines.filter(pl.col("line_no").is_in(odd_lines))
    key, value = pl.col("key"), pl.col("value")
    regular = keys.filter(~pl.col("line_no").is_in(odd_lines)) if odd.height else keys
    pairs = regular.filter(~key.is_in(COLUMN_KEYS)).select("line_no", "key", "value")
    facts = (
        regular.filter(key.is_in(list(_FIELD_OF)))
        .with_columns(value=field_value(key, value), field=key.replace_strict(_FIELD_OF))
        .drop_nulls("value")
        .unique(["line_no", "field"], keep="first", maintain_order=True)
    )
    facts = facts.pivot(on="field", index=["line_no", "entry"], values="value") if facts.height else facts
    facts = lines.select("line_no", "entry").join(facts.drop("entry", strict=False), on="line_no", how="left")
    facts = facts.select(
        "line_no",
        "entry",
        *(pl.col(f) if f in facts.columns else pl.lit(None, pl.String).alias(f) for f in FIELDS),
    )
    if odd.height:
        by_regex = odd.select("line_no", "entry", **regex_fields(text))
        facts = pl.concat([facts.filter(~pl.col("line_no").is_in(odd_lines)), by_regex]).sort("line_no")
        pairs = pl.concat([pairs, _regex_pairs(odd)]).sort("line_no", maintain_order=True)
    return facts, _long_lists(pairs)
