"""The ``log_line_prefix`` of PostgreSQL's stderr and syslog lines: where an entry's first line is cut into
prefix, severity and message, and what the prefix says (time, zone, pid, user, database, application,
client), detected for the common prefixes or read by a configured one (:func:`prefix_regex`, like pgBadger's
``--prefix``).
"""

from __future__ import annotations

import re

import polars as pl

from parsers import base
from parsers.postgres_records import TS_TEXT, ZONE

SEVERITIES = (
    "LOG|ERROR|WARNING|FATAL|PANIC|NOTICE|INFO|DEBUG[1-5]?|DETAIL|HINT|STATEMENT|CONTEXT|LOCATION|QUERY"
)
START = rf"^(?:<[ \t]*)?{TS_TEXT}"
# lead, time, zone, the character after the zone, rest of the prefix, severity, message. A zone must be
# followed by a blank, `]`, `>` or `:x` (RDS `CET::@:`), so `2026-... LOG:  ` has no zone named LOG.
LINE = (
    rf"^(?:<[ \t]*)?({TS_TEXT})(?: ?({ZONE})([ \]>]|:[^ \t]))?(|.*?[ :\]>])"
    rf"({SEVERITIES}):[ \t]+((?s:.*))$"
)
# The severity token, with the character before it (or the start of the text): found by a capture-free
# search, the line is cut at it, and only the short prefix before it is read with captures (a capture over the
# whole line, as in LINE, runs the slow capturing engine over every message).
_TOKEN = rf"(?:^|[ :\]>])(?:{SEVERITIES}):[ \t]"
_LEAD_TS = rf"^((?:<[ \t]*)?{TS_TEXT})"
_ZONE_PART = rf"^( ?({ZONE})([ \]>]|:[^ \t]))"


def split_severity(df: pl.DataFrame, column: str) -> pl.DataFrame:
    r"""``df`` with ``pre`` (the text of ``column`` before its first severity token, with the blank, ``:``,
    ``]`` or ``>`` before it), ``sev`` and ``msg1`` (after the blanks that follow it); all null when the
    text has none.

    The cut of ``^(|.*?[ :\]>])(SEVERITY):[ \t]+((?s:.*))$``, made at the offset :meth:`str.find` gives (in
    characters, as :meth:`str.slice` counts). Step by step: an expression used twice in one step is computed
    twice.
    """
    text = pl.col(column)
    df = df.with_columns(_at=text.str.find(_TOKEN))
    at = pl.col("_at")
    df = df.with_columns(_at=at + (at.gt(0) | text.str.contains(r"^[ :\]>]")).cast(pl.UInt32))
    df = df.with_columns(pre=text.str.head(at), _after=text.str.slice(at))
    after = pl.col("_after")
    df = df.with_columns(_colon=after.str.find(":", literal=True))
    colon = pl.col("_colon")
    return df.with_columns(
        sev=after.str.head(colon), msg1=after.str.slice(colon + 1).str.strip_chars_start(" \t")
    ).drop("_at", "_after", "_colon")


def _zone_part(df: pl.DataFrame) -> pl.DataFrame:
    """``between`` (the prefix after its time) -> ``zone``, ``after_zone`` and ``rest`` of :data:`LINE`, and
    ``after_time``: the prefix after its time and zone (``after_zone`` + ``rest``), what the prefix fields
    are read from."""
    zone = pl.col("between").str.extract_groups(_ZONE_PART)
    df = df.with_columns(z=zone.struct.rename_fields(["zone_head", "zone", "after_zone"])).unnest("z")
    rest = pl.col("between").str.slice(pl.col("zone_head").str.len_chars().fill_null(0))
    df = df.with_columns(rest=rest).drop("zone_head")
    return df.with_columns(after_time=pl.concat_str(pl.col("after_zone").fill_null(""), pl.col("rest")))


def line_fields(df: pl.DataFrame, column: str) -> pl.DataFrame:
    """:data:`LINE`'s groups of ``column`` (``ts_text``, ``zone``, ``after_zone``, ``rest``, ``sev``,
    ``msg1``; all null where it does not match) with ``after_time`` (:func:`_zone_part`), and ``pre``,
    ``any_sev``, ``any_msg``: the cut at the first severity token whether or not a time leads
    (:func:`split_severity`)."""
    df = split_severity(df, column).rename({"sev": "any_sev", "msg1": "any_msg"})
    df = df.with_columns(lts=pl.col("pre").str.extract(_LEAD_TS, 1))
    df = df.with_columns(
        ts_text=pl.col("lts").str.strip_chars_start("< \t"),
        between=pl.col("pre").str.slice(pl.col("lts").str.len_chars()),
    )
    df = base.by_value(df, "between", _zone_part)
    timed = pl.col("lts").is_not_null()
    return df.with_columns(
        sev=pl.when(timed).then(pl.col("any_sev")),
        msg1=pl.when(timed).then(pl.col("any_msg")),
    ).drop("lts", "between")


_BRACKETED = r"\[[a-z]+\]|"  # [unknown], [local]: whole, not cut at the `]`
_USER = rf"(?:^|[ ,:\]\[])(?:user|usr)=({_BRACKETED}[^, \t\]]*)"
_DB = rf"(?:^|[ ,:\]\[])(?:db|database)=({_BRACKETED}[^, \t\]]*)"
_APP = rf"(?:^|[ ,:\]\[])(?:app|appli|application_name)=({_BRACKETED}[^,\]]*)"
_CLIENT = rf"(?:^|[ ,:\]\[])(?:client|host|remote)=({_BRACKETED}[^, \t\]]*)"
_USER_AT_DB = r"(?:^|[ \]:])([^ \t@:\[\]=,]*|\[unknown\])@([^ \t@:\[\]=,]*|\[unknown\])(?:[ :]|$)"
_COLON_CLIENT = r"^:([^:@\[ ]+?)(?:\([0-9]+\))?:"


def _clean_value(expr: pl.Expr) -> pl.Expr:
    v = expr.str.strip_chars()
    return pl.when((v != "") & (v != "[unknown]")).then(v)


PID = r"\[([0-9]+)[\]-]"  # %p in brackets: the session of an entry (also for the reader's cuts)


def prefix_fields(rest: pl.Expr) -> dict[str, pl.Expr]:
    """``log_line_prefix`` remainder (after the time) -> pid, db_user, db, app, client_host."""
    at = rest.str.extract_groups(_USER_AT_DB)
    return {
        "pid": rest.str.extract(PID, 1),
        "db_user": _clean_value(pl.coalesce(rest.str.extract(_USER, 1), at.struct.field("1"))),
        "db": _clean_value(pl.coalesce(rest.str.extract(_DB, 1), at.struct.field("2"))),
        "app": _clean_value(rest.str.extract(_APP, 1)),
        "client_host": _clean_value(
            pl.coalesce(rest.str.extract(_CLIENT, 1), rest.str.extract(_COLON_CLIENT, 1))
        ).str.replace(r"\([0-9]+\)$", ""),
    }


# log_line_prefix escapes (PostgreSQL docs, "What to Log") -> regex; the named groups feed the entry columns.
_ESCAPES = {
    "a": r"(?P<app>.*?)",
    "u": r"(?P<db_user>.*?)",
    "d": r"(?P<db>.*?)",
    "r": r"(?P<client_host>[^ (]*?)(?:\([0-9]*\))?",
    "h": r"(?P<client_host>[^ ]*?)",
    "b": r".*?",
    "p": r"(?P<pid>[0-9]+)",
    "P": r"[0-9]*",
    "t": rf"(?P<ts_text>{TS_TEXT})(?: (?P<zone>{ZONE}))?",
    "m": rf"(?P<ts_text>{TS_TEXT})(?: (?P<zone>{ZONE}))?",
    "i": r".*?",
    "e": r"[0-9A-Z]{5}",
    "c": r"[0-9a-f]+\.[0-9a-f]+",
    "l": r"[0-9]+",
    "s": rf"{TS_TEXT}(?: {ZONE})?",
    "v": r"[0-9/]*",
    "x": r"[0-9]*",
    "Q": r"-?[0-9]*",
}


def prefix_regex(prefix: str) -> str:
    """A ``log_line_prefix`` (``'%m [%p] %q%u@%d '``) as a regex matching the whole line: prefix, severity,
    message. ``%q`` (what follows only in session processes) makes the rest of the prefix optional. A prefix
    must contain ``%t`` or ``%m`` once (the entry's time); ``ValueError`` names an unknown escape."""
    parts: list[str] = []
    optional_from: int | None = None
    i = 0
    while i < len(prefix):
        ch = prefix[i]
        if ch == "%" and i + 1 < len(prefix):
            code = prefix[i + 1]
            i += 2
            if code == "%":
                parts.append("%")
            elif code == "q":
                optional_from = len(parts)
            elif code in _ESCAPES:
                parts.append(_ESCAPES[code])
            else:
                raise ValueError(f"unknown log_line_prefix escape %{code}")
            continue
        parts.append(re.escape(ch))
        i += 1
    body = (
        "".join(parts)
        if optional_from is None
        else "".join(parts[:optional_from]) + ("(?:" + "".join(parts[optional_from:]) + ")?")
    )
    if body.count("(?P<ts_text>") != 1:
        raise ValueError("log_line_prefix must contain the entry time once: %t or %m")
    return rf"^{body}[ \t]*(?P<sev>{SEVERITIES}):[ \t]+(?P<msg1>(?s:.*))$"


_PREFIX_COLUMNS = ("ts_text", "zone", "pid", "db_user", "db", "app", "client_host", "sev", "msg1")


def split_with_prefix(ent: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """Entry columns from a configured ``log_line_prefix`` instead of the detected common prefixes."""
    pattern = prefix_regex(prefix)
    groups = re.compile(pattern).groupindex
    ent = ent.with_columns(p=pl.col("first").str.extract_groups(pattern)).unnest("p")
    missing = [c for c in _PREFIX_COLUMNS if c not in groups]
    return ent.with_columns(
        *(pl.lit(None, dtype=pl.String).alias(c) for c in missing),
        *(_clean_value(pl.col(c)).alias(c) for c in ("db_user", "db", "app", "client_host") if c in groups),
    )
