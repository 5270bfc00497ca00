"""SQL text helpers shared by the slow-log and span parsers, as polars expressions.

* :func:`strip_comments` removes ``/* ... */``, ``-- ...`` and ``# ...`` comments outside quoted text.
* :func:`comment_tags` reads a sqlcommenter comment (``/*key='value',...*/``) into a key/value list.
* :func:`fingerprint` abstracts a statement the way pt-query-digest does (``select * from t where id=?``),
  so the same statement fingerprints the same with literals, with ``?`` placeholders (as OpenTelemetry
  ``db.statement`` often has them) and with or without a trace comment.
* :func:`fingerprint_id` is pt-query-digest's checksum of a fingerprint: the last 16 hex digits of its MD5.

Everything is columnar. Quote-awareness without look-around (the Rust regex engine has none) comes from
single-pass alternations: the engine scans left to right, so a quoted string that starts before a comment
or a number swallows it whole; a capture group keeps what must be kept, the rest is dropped or replaced.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal
from urllib.parse import unquote

import numpy as np
import polars as pl
import pyarrow as pa

from parsers.schema import KV

Dialect = Literal["mysql", "postgresql"]

# Quoted text. '' and \' escape a quote inside a string; a `` inside a backtick identifier.
_SQ = r"'(?:[^'\\]|\\(?s:.)|'')*'"
_DQ = r'"(?:[^"\\]|\\(?s:.)|"")*"'
_BT = r"`(?:[^`]|``)*`"
# MySQL executes /*!40001 ... */ version comments, so they stay; /*+ hints */ go, as in pt-query-digest.
_VERSION_COMMENT = r"/\*!(?s:.*?)\*/"
_BLOCK_COMMENT = r"/\*(?s:.*?)\*/"
# MySQL needs whitespace after "--"; "a--1" is "a - -1".
_DASH_COMMENT = r"--[ \t\r][^\n]*|--(?m:$)"
_HASH_COMMENT = r"#[^\n]*"


def _strip_pattern(dialect: Dialect) -> str:
    keep = [_SQ, _DQ, _BT, _VERSION_COMMENT]  # "..." is a string in MySQL, an identifier in PostgreSQL
    drop = [_BLOCK_COMMENT, _DASH_COMMENT]
    if dialect == "mysql":
        drop.append(_HASH_COMMENT)  # in PostgreSQL # is an operator
    return "(" + "|".join(keep) + ")|" + "|".join(drop)


def strip_comments(expr: pl.Expr, *, dialect: Dialect = "mysql") -> pl.Expr:
    """Remove SQL comments outside quoted strings and identifiers; keep ``/*!version*/`` comments.

    The text is otherwise unchanged (no whitespace normalization).
    """
    return expr.str.replace_all(_strip_pattern(dialect), "${1}")


# --- fingerprint ----------------------------------------------------------------------------------------

# Markers: every token the literal pass keeps comes out as \x01token\x02, every literal as \x01\x02
# (a replacement template cannot choose between "keep" and "?"), then \x01\x02 becomes ? and the
# markers go. The control characters never occur in SQL text that reaches a slow log.
_OPEN, _CLOSE = "\x01", "\x02"
# Only words that contain digits need protecting (t1, col_2, a$1, 123foo): a number alternative can never
# start inside a word without digits, and matching every word would cost three times as much.
_DIGIT_WORD = r"[a-z_$][a-z_$]*[0-9][a-z0-9_$]*|[0-9]+[a-z_$][a-z0-9_$]*"
_NUMBER_EXP = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)e[+-]?[0-9]+"
_NUMBER = r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+"
_NULL = r"(?-u:\b)null(?-u:\b)"
_KEYWORD_BEFORE_SIGN = (
    "select|and|or|not|when|then|else|return|by|between|values|value|in|limit|offset|set|where|like|is|"
    "case|interval|having|on"
)


def _keep_or_literal(expr: pl.Expr, dialect: Dialect) -> pl.Expr:
    keep = [_BT, _VERSION_COMMENT]
    strings = [r"[xbne]?" + _SQ]  # x'1f', b'01', N'text', E'text'
    if dialect == "mysql":
        strings.append(_DQ)
    else:
        keep.append(_DQ)
    # One capture group for everything kept; literals are outside it. Alternatives are tried in order at
    # each position: strings and hex/exponent numbers before digit-words (0x1f, 1e5 are numbers), digit-led
    # identifiers before plain numbers (123foo is a name).
    literals = [*strings, r"0x[0-9a-f]+", r"0b[01]+", _NUMBER_EXP, _NULL, r"\$[0-9]+"]  # $1: PostgreSQL
    pattern = "(" + "|".join(keep) + ")|" + "|".join(literals) + f"|({_DIGIT_WORD})|{_NUMBER}"
    marked = expr.str.replace_all(pattern, f"{_OPEN}${{1}}${{2}}{_CLOSE}")
    return marked.str.replace_all(f"{_OPEN}{_CLOSE}", "?", literal=True).str.replace_all(
        f"[{_OPEN}{_CLOSE}]", ""
    )


def fingerprint(expr: pl.Expr, *, dialect: Dialect = "mysql") -> pl.Expr:
    """pt-query-digest-style fingerprint of SQL statements.

    Comments go, text is lowercased, whitespace collapsed, literals (strings, numbers, hex, NULL) and
    placeholders (``?``, ``$1``) become ``?``, ``IN (...)`` and multi-row ``VALUES (...), (...)`` become
    ``in(?+)`` / ``values(?+)``, ``LIMIT ?, ?`` becomes ``limit ?``, ``ASC`` after ``ORDER BY`` goes and a
    trailing ``;`` is removed. Special cases as in pt-query-digest: ``use db`` -> ``use ?``, ``CALL p(...)``
    -> ``call p``, ``administrator command: ...`` is kept as written, mysqldump's ``SELECT /*!40001
    SQL_NO_CACHE */ * FROM`` -> ``mysqldump``. Digits inside identifiers (``t1``, ``col_2``) are kept.

    Only statements with a comment marker go through comment stripping, and the rest of the chain runs
    once per distinct statement without comments (a slow log repeats its statements, and statements
    that differ only in a trace comment are one).
    """
    return expr.cast(pl.String).map_batches(
        lambda raw: _fingerprints(raw, dialect), return_dtype=pl.String, is_elementwise=True
    )


def _fingerprints(raw: pl.Series, dialect: Dialect, comment: pl.Series | None = None) -> pl.Series:
    """:func:`fingerprint` of a Series; ``comment``: its :func:`_last_comment` when already known."""
    stripped = _strip_commented(raw, dialect, comment)
    distinct = stripped.drop_nulls().unique()
    normal = pl.select(_normalize(pl.lit(distinct), dialect)).to_series()
    s = stripped.replace_strict(distinct, normal, default=None, return_dtype=pl.String)
    return _special(raw).fill_null(s).alias(raw.name)


_ADMIN, _MYSQLDUMP = "administrator command: ", "SELECT /*!40001 SQL_NO_CACHE */ * FROM `"
_PERCONA = r"/\*[A-Za-z0-9_]+\.[A-Za-z0-9_]+:[0-9]+/[0-9]+\*/"


def _special(raw: pl.Series) -> pl.Series:
    """The fingerprints pt-query-digest gives whole kinds of statement (null for the others). The two that
    depend on how the trimmed text starts are only looked at where their words are."""

    def chain(raw: pl.Series) -> pl.Series:
        trimmed = raw.str.strip_chars().str.strip_chars_end("; \t\r\n")
        return pl.select(
            pl.when(pl.lit(trimmed).str.starts_with(_ADMIN))
            .then(pl.lit(trimmed))
            .when(pl.lit(trimmed).str.starts_with(_MYSQLDUMP))
            .then(pl.lit("mysqldump"))
            .when(pl.lit(raw).str.contains(_PERCONA))
            .then(pl.lit("percona-toolkit"))
        ).to_series()

    worded = raw.str.contains(f"{re.escape(_ADMIN)}|{re.escape(_MYSQLDUMP)}")
    if len(raw) < 1024 or worded.all():
        return chain(raw)
    percona = pl.when(pl.lit(raw).str.contains(_PERCONA)).then(pl.lit("percona-toolkit"))
    special = pl.select(percona).to_series()
    worded = worded.fill_null(False)
    if worded.any():
        at = worded.arg_true()
        special = special.scatter(at, chain(raw.gather(at)))
    return special


def _strip_commented(raw: pl.Series, dialect: Dialect, comment: pl.Series | None) -> pl.Series:
    """:func:`strip_comments` of the statements that have a comment marker. The common comment, one
    sqlcommenter comment outside any quoted text, is cut out without the quote-aware regex."""
    markers = ["/*", "--", "#"] if dialect == "mysql" else ["/*", "--"]
    commented = raw.str.contains("|".join(re.escape(x) for x in markers))  # (beats contains_any)
    if not commented.any():
        return raw
    at = commented.arg_true()
    sub = raw.gather(at)
    trace = _last_comment(sub) if comment is None else comment.gather(at)
    # the text before and after the comment's first occurrence; most statements end with it (when it
    # also occurs before, both ways leave a comment marker in the text, which the check below refuses)
    pair = pl.DataFrame({"s": sub, "c": trace})
    at_end = pair.select(pl.col("s").str.ends_with(pl.col("c"))).to_series().fill_null(False)
    ends = at_end.arg_true()
    pieces = pl.DataFrame(
        {
            "before": sub.gather(ends).str.head(-trace.gather(ends).str.len_chars().cast(pl.Int64)),
            "after": pl.repeat("", len(ends), dtype=pl.String, eager=True),
            "c": trace.gather(ends),
        }
    )
    if len(ends) < len(sub):
        inner = (~at_end).arg_true()
        split = pl.DataFrame({"s": sub.gather(inner), "c": trace.gather(inner)}).select(
            pl.col("s").str.splitn(pl.col("c"), 2).struct.rename_fields(["before", "after"]), c="c"
        )
        pieces = pl.concat([pieces, split.unnest("s")], rechunk=True)
        order = np.argsort(np.concatenate([ends.to_numpy(), inner.to_numpy()]), kind="stable")
        pieces = pieces[order]
    before, after = pl.col("before"), pl.col("after")
    # outside any quoted text: nothing before it opens a quote it does not close (no other quote
    # characters or escapes, an even number of '), and nothing after it quotes or comments
    # (alternations of literals: cheaper than contains_any)
    unsafe = "|".join(re.escape(x) for x in [*markers, '"', "`", "\\"])
    safe = (
        ~before.str.contains(unsafe)
        & (before.str.count_matches("'", literal=True) % 2 == 0)
        & (pl.col("c").str.count_matches("*/", literal=True) == 1)
    )
    if len(ends) == len(sub):  # the comment ends every statement: nothing after it
        quick = pieces.select(pl.when(safe).then(before)).to_series()
    else:
        quick = pieces.select(
            pl.when(safe & ~after.str.contains(f"{unsafe}|'")).then(before + after)
        ).to_series()
    slow = quick.is_null()
    if slow.any():
        quick = quick.scatter(
            slow.arg_true(), sub.filter(slow).str.replace_all(_strip_pattern(dialect), "${1}")
        )
    return raw.clone().scatter(at, quick)


def _normalize(s: pl.Expr, dialect: Dialect) -> pl.Expr:
    """The fingerprint chain after comment stripping (see :func:`fingerprint`)."""
    s = _keep_or_literal(s.str.to_lowercase(), dialect)
    # runs of blanks and any other whitespace become one blank (a lone blank is left alone: cheaper)
    s = s.str.replace_all(r"[\t\r\n\f\v][ \t\r\n\f\v]*| [ \t\r\n\f\v]+", " ")
    s = s.str.strip_chars(" ").str.strip_chars_end("; ")
    # A sign belongs to the literal when it is unary: after an operator, "(", ",", a keyword or at start.
    s = s.str.replace_all(
        rf"((?:^|[ (])(?:{_KEYWORD_BEFORE_SIGN}) |[(,=<>!*/%+&|^~-] ?|^)[+-]\?",
        "${1}?",
    )
    row = r"\((?:[^()]|\([^()]*\))*\)"
    s = s.str.replace_all(rf"((?:^|[^a-z0-9_$`])values? ?{row})(?: ?, ?{row})+", "${1}")
    s = s.str.replace_all(r"(^|[^a-z0-9_$`])(in|values?)(?:[ ,]*\([ ?,]*\))+", "${1}${2}(?+)")
    s = s.str.replace_all(r"(^|[^a-z0-9_$`])limit \?(?:, ?\?| offset \?)?", "${1}limit ?")
    # pt-query-digest drops ASC after ORDER BY; ASC appears nowhere else in DML, so no anchor is needed
    # (and a when/then on "order by" would evaluate the whole chain three times in eager mode).
    s = s.str.replace_all(r" asc([ ,)]|$)", "${1}")
    return s.str.replace(r"^use [^ ]+$", "use ?").str.replace(r"^call ([^ (]+) ?\(.*$", "call ${1}")


def _md5_tail(values: pl.Series) -> pl.Series:
    distinct = values.drop_nulls().unique().to_list()
    mapping = {v: hashlib.md5(v.encode(), usedforsecurity=False).hexdigest()[16:] for v in distinct}
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)


def fingerprint_id(expr: pl.Expr) -> pl.Expr:
    """16 lowercase hex digits identifying a fingerprint: the last 16 of its MD5. pt-query-digest 2.x
    printed exactly this as the query checksum; 3.x prints the whole MD5 (``0xAE9D...7F7D57ACDD8A346E``),
    which ends with it. So for equal fingerprints the IDs can be looked up in pt-query-digest reports.

    polars' own ``hash`` is not stable across versions, so MD5 is computed with hashlib once per
    *distinct* fingerprint in the batch (a slow log has few).
    """
    return expr.cast(pl.String).map_batches(_md5_tail, return_dtype=pl.String, is_elementwise=True)


# --- sqlcommenter ---------------------------------------------------------------------------------------

_KEY = r"[A-Za-z0-9_.~%-]+"
_VALUE = r"'(?:[^'\\]|\\.)*'"
_PAIR = rf"{_KEY}={_VALUE}"
_SQLCOMMENTER = rf"/\*[ \t]*{_PAIR}(?:[ \t]*,[ \t]*{_PAIR})*[ \t]*\*/"


def _unquote(values: pl.Series) -> pl.Series:
    """URL-decoded values, each distinct encoded text decoded once."""
    encoded = values.filter(values.str.contains("%", literal=True)).unique().to_list()
    return values.replace({v: unquote(v) for v in encoded}) if encoded else values


def _last_comment(statements: pl.Series) -> pl.Series:
    """The last sqlcommenter comment of each statement (null where there is none)."""
    return statements.str.extract_all(_SQLCOMMENTER).list.last()


def comment_tags(expr: pl.Expr) -> pl.Expr:
    """The last sqlcommenter comment of each statement as ``list[struct{key, value}]``, URL-decoded.

    ``/*db_driver='go-sql-driver%2Fmysql',traceparent='00-...-01'*/`` ->
    ``[{db_driver, go-sql-driver/mysql}, {traceparent, 00-...-01}]``. Null where there is no such comment.
    """
    return expr.cast(pl.String).map_batches(_comment_tags, return_dtype=KV, is_elementwise=True)


def _comment_tags(statements: pl.Series, comment: pl.Series | None = None) -> pl.Series:
    """:func:`comment_tags` of a Series: the pairs of all comments are read as one flat column, and the
    lists rebuilt from their lengths. ``comment``: the :func:`_last_comment` when already known."""
    counts, keys, values = _tag_pairs(_last_comment(statements) if comment is None else comment)
    return pl.Series(statements.name, _tag_lists(counts, keys, values)).cast(KV)


def _tag_pairs(comment: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """The pairs of sqlcommenter comments (as :func:`_last_comment` finds them): per comment the number of
    pairs (null where there is no comment), and the keys and values of all, in order, URL-decoded.

    Where no comment has a backslash, a value is all that lies between two quotes, so a split at the quotes
    alternates key parts (``/*key=``, ``,key=``) and values: no regex per pair. Otherwise the pairs are
    matched one by one and their escapes undone."""
    if not comment.str.contains("\\", literal=True).any():
        parts = comment.str.split("'")
        counts = parts.list.len()
        lens = counts.drop_nulls().to_numpy().astype(np.int64)
        flat = parts.drop_nulls().explode()
        starts = np.cumsum(lens) - lens
        place = np.arange(len(flat)) - np.repeat(starts, lens)
        odd = (place % 2).astype(bool)
        key_part = ~odd & (place != np.repeat(lens - 1, lens))
        keys = flat.filter(pl.Series(key_part)).str.strip_chars_start(" \t,/*").str.strip_suffix("=")
        values = flat.filter(pl.Series(odd))  # a "=" inside a value is part of it
        counts = (counts - 1) // 2
    else:
        pairs = comment.str.extract_all(_PAIR)
        counts = pairs.list.len()
        flat = pairs.explode().drop_nulls()  # an empty or null list explodes to one null
        kv = flat.str.splitn("=", 2).struct.unnest()  # a key has no "=", a quoted value may have some
        keys = kv["field_0"]
        values = kv["field_1"].str.strip_prefix("'").str.strip_suffix("'")
        if values.str.contains("\\", literal=True).any():
            values = values.str.replace_all(r"\\(.)", "${1}")
    return counts, _unquote(keys), _unquote(values)


def _tag_lists(counts: pl.Series, keys: pl.Series, values: pl.Series) -> pa.ListArray:
    """Arrow ``list<struct<key, value>>`` of :func:`_tag_pairs` (null where there is no comment)."""
    entries = pa.StructArray.from_arrays([keys.to_arrow(), values.to_arrow()], names=["key", "value"])
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts.fill_null(0).to_numpy(), out=offsets[1:])
    mask = counts.is_null().to_arrow() if counts.null_count() else None
    return pa.ListArray.from_arrays(pa.array(offsets), entries, mask=mask)


# W3C traceparent `00-<trace>-<span>-<flags>` as the whole value of a sqlcommenter tag
_TRACEPARENT_TAG = (
    r"^[ \t]*(?:[0-9a-fA-F]{2})-(?P<tp_trace>[0-9a-fA-F]{32})-(?P<tp_span>[0-9a-fA-F]{16})-[0-9a-fA-F]{2}"
)


def statement_columns(df: pl.DataFrame, dialect: Dialect = "mysql") -> pl.DataFrame:
    """Add what every slow-query parser derives from ``statement``: ``comment_tags``, ``fingerprint``,
    ``fingerprint_id`` and the ``trace_id``/``span_id`` of a sqlcommenter ``traceparent`` tag."""
    out, tags = statement_frame(df, dialect)
    added = ["comment_tags", "fingerprint", "trace_id", "span_id", "fingerprint_id"]
    out = out.with_columns(pl.Series("comment_tags", tags).cast(KV))
    return out.select(*(c for c in out.columns if c not in added), *added)


def statement_frame(df: pl.DataFrame, dialect: Dialect = "mysql") -> tuple[pl.DataFrame, pa.ListArray]:
    """:func:`statement_columns` with ``comment_tags`` handed over in Arrow (``list<struct<key, value>>``,
    row for row) instead of as a column: a parser that builds its table in Arrow saves two conversions.

    Built in steps: eager polars recomputes an expression wherever it is referenced.
    """
    from parsers import ids

    statement = df["statement"].cast(pl.String)
    comment = _last_comment(statement)
    counts, keys, values = _tag_pairs(comment)
    tp_trace, tp_span = _traceparent(counts, keys, values)
    out = df.with_columns(
        _fingerprints(statement, dialect, comment).alias("fingerprint"), tp_trace=tp_trace, tp_span=tp_span
    )
    out = out.with_columns(
        trace_id=ids.trace_id(pl.col("tp_trace")),
        span_id=ids.span_id(pl.col("tp_span")),
        fingerprint_id=fingerprint_id(pl.col("fingerprint")),
    ).drop("tp_trace", "tp_span")
    return out, _tag_lists(counts, keys, values)


_TRACEPARENT_PLAIN = r"^[0-9a-fA-F]{2}-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}"


def _traceparent(counts: pl.Series, keys: pl.Series, values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The trace and span of each statement's first ``traceparent`` tag (:data:`_TRACEPARENT_TAG`), from the
    pairs of :func:`_tag_pairs`. A value without blanks before it is cut at its fixed places."""
    n = len(counts)
    row = np.repeat(np.arange(n), counts.fill_null(0).to_numpy())
    tagged = np.flatnonzero((keys == "traceparent").fill_null(False).to_numpy())
    first = tagged[np.r_[True, row[tagged][1:] != row[tagged][:-1]]] if len(tagged) else tagged
    value = values.gather(first)
    if value.str.contains(_TRACEPARENT_PLAIN).all():
        trace, span = value.str.slice(3, 32), value.str.slice(36, 16)
    else:
        groups = value.str.extract_groups(_TRACEPARENT_TAG)
        trace, span = groups.struct.field("tp_trace"), groups.struct.field("tp_span")
    at = row[first]
    none = pl.repeat(None, n, dtype=pl.String, eager=True)
    return none.clone().scatter(at, trace).alias("tp_trace"), none.scatter(at, span).alias("tp_span")
