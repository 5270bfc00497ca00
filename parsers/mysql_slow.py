"""MySQL slow query log (MySQL 5.0–8.x, MariaDB, Percona Server) -> ``slow_queries``.

One record per entry: header lines (``# Time:``, ``# User@Host:``, ``# Query_time: ...`` and any further
``# Key: value`` lines), then ``use db;`` / ``SET timestamp=N;`` and the statement, possibly over many lines::

    # Time: 2026-11-17T14:32:05.238114Z
    # User@Host: inventory[inventory] @  [10.0.4.21]  Id:  4711
    # Query_time: 0.190512  Lock_time: 0.189873 Rows_sent: 0  Rows_examined: 1 ... Start: ... End: ...
    use inventory;
    SET timestamp=1795444325;
    UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'sku-789' /*traceparent='00-...-01'*/;

Columnar: lines are flagged as entry starts and grouped with a cumulative sum; header fields are regex
extracts aggregated per entry. The server writes ``# Time:`` and ``use db;`` only when they change, so both
are forward-filled within the chunk. Statement start (``ts``) is, by preference: ``Start:`` (MySQL 8
``log_slow_extra``), the entry's own ``# Time:`` (the end) minus ``Query_time``, ``SET timestamp=``, an
inherited ``# Time:`` minus ``Query_time``. Server start banners are skipped lines wherever they appear.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import base, carry, mysql_header, schema, sqltext, timeparse
from parsers.base import Kind, ParseContext, ParseResult

name = "mysql-slow"
kind: Kind = "slow_queries"
description = "MySQL / MariaDB / Percona slow query log (5.0–8.x, log_slow_extra, Percona extended stats)"
example = "# Query_time: 2.475469  Lock_time: 0.000287 Rows_sent: 10  Rows_examined: 3145718"

ENGINE = "mysql"

# `/usr/sbin/mysqld, Version: 8.0.15 (...). started with:`, `Tcp port: 3306  Unix socket: ...`,
# `Time                 Id Command    Argument` (also written when the server restarts mid-file).
_VERSION_BANNER = r"^.*, Version: .*started with:[ \t]*$"
_BANNER = r"^(?i:tcp port): [0-9]+|^Time[ \t]+Id[ \t]+Command[ \t]+Argument[ \t]*$"
# `# Key: value` header lines, and Percona's `# No InnoDB statistics available for this query`.
# `# administrator command: Quit;` is a statement, not a header (its key has a space).
_HEADER = r"^#[ \t]*(?:[A-Za-z][A-Za-z0-9_@]*:|No InnoDB statistics)"
# A Query_time beyond this is a server bug (negative durations wrapped to 2^64 µs); too big to subtract.
_MAX_QUERY_S = 1e8
_OLD_TIME = r"^([0-9]{2})([0-9]{2})([0-9]{2})[ \t]+([0-9]{1,2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?$"
_USE = r"(?i)^use[ \t]+([^ \t;]+)[ \t]*;[ \t]*$"
_SET_TS = r"(?i)^SET[ \t]+(?:[a-z_]+=[0-9]+,)*timestamp=([0-9]+)[,;]"
_SET_META = r"(?i)^SET[ \t]+(?:(?:last_insert_id|insert_id|timestamp)=[0-9]+,?)+;[ \t]*$"
_SET_TS_PLAIN = r"^SET timestamp=[0-9]+;"
_OUTSIDE = "line outside any slow-log entry (before the first '# Time:'/'# User@Host:' header)"


def _starts(lines: pl.Series, hdr: pl.Series) -> pl.Series:
    """An entry starts at `# Time:` or at the first header line after a non-header line (``hdr``: the
    header line mask, computed once by the caller: eager polars would run its regex twice)."""
    return lines.str.starts_with("# Time:") | (hdr & ~hdr.shift(1, fill_value=False))


def _banners(lines: pl.Series) -> pl.Series:
    """Mask of server start banner lines (the unanchored pattern only runs where its words are)."""
    banner = lines.str.contains(_BANNER)
    maybe = lines.str.contains(", Version: ", literal=True)
    if not maybe.any():
        return banner
    at = maybe.arg_true()
    return banner | maybe.scatter(at, lines.gather(at).str.contains(_VERSION_BANNER))


def sniff(head: list[str]) -> float:
    """High when slow-log header lines appear; the banner alone also starts general query logs."""
    has = {
        "query_time": any(x.startswith("# Query_time:") for x in head),
        "user": any(x.startswith(("# User@Host:", "# User:")) for x in head),
        "time": any(x.startswith("# Time:") for x in head),
        "banner": any(", Version: " in x and "started with:" in x for x in head),
    }
    if has["query_time"] and (has["user"] or has["time"]):
        return 0.98
    if has["query_time"]:
        return 0.9
    if has["user"]:
        return 0.8
    if has["banner"] or has["time"]:
        return 0.5
    return 0.0


def record_start(lines: pl.Series) -> pl.Series:
    """Mask of the first header line of each entry."""
    return _starts(lines, lines.str.contains(_HEADER))


def _use_db(lines: pl.Series) -> pl.Series:
    """The database of ``use db;`` lines (which match :data:`_USE`) as the pattern reads it, backticks
    trimmed: the text after ``use`` without the blanks and the one ``;`` around it (literal operations:
    a regex capture per line costs more)."""
    return lines.str.slice(3).str.strip_chars(" \t;").str.strip_chars("`")


def _set_ts(lines: pl.Series) -> pl.Series:
    """:data:`_SET_TS`'s value of ``SET`` lines; the common ``SET timestamp=N;`` is read with literal
    operations (before a `;` no other assignment can come first, so the pattern takes these digits)."""
    plain = lines.str.contains(_SET_TS_PLAIN)
    if not plain.all():
        return lines.str.extract(_SET_TS, 1)
    line = pl.col("line")
    digits = line.str.slice(14, line.str.find(";", literal=True) - 14)
    return lines.to_frame("line").select(digits).to_series()


def _first_rows(entry: np.ndarray, last: bool = False) -> np.ndarray:
    """Positions of the first (or last) row of each run of equal ``entry`` values."""
    if not len(entry):
        return np.zeros(0, dtype=np.int64)
    change = entry[1:] != entry[:-1]
    return np.flatnonzero(np.r_[change, True] if last else np.r_[True, change])


def _spread(entries: np.ndarray, entry: np.ndarray, values: pl.Series) -> pl.Series:
    """``values`` (of rows with distinct ``entry``, ascending) at their entries' rows of ``entries``."""
    if len(entry) == len(entries):  # every entry has one
        return values
    out = pl.repeat(None, len(entries), dtype=values.dtype, eager=True).alias(values.name)
    if not len(entry):
        return out
    return out.scatter(np.searchsorted(entries, entry), values)


def _sql_entries(sql: pl.DataFrame, entries: np.ndarray) -> pl.DataFrame:
    """Non-header lines -> one row per entry of ``entries`` (ascending), in that order: `use db;`,
    `SET timestamp=N;` and the statement text.

    `use` and `SET timestamp`/`insert_id` lines before the statement are metadata; from the first other
    non-blank line on, everything is the statement (so a statement may itself contain `SET` or `use`).
    """
    lines = sql["line"]
    uses = lines.str.contains(_USE).arg_true().to_numpy()
    sets = lines.str.contains(_SET_META).arg_true().to_numpy()
    meta = np.zeros(len(lines), dtype=bool)
    meta[uses] = True
    meta[sets] = True
    content = (~meta & lines.str.contains(r"\S").to_numpy()).astype(np.int64)
    entry = sql["entry"].to_numpy()
    before = np.cumsum(content) - content  # content lines before this one, in the chunk ...
    first = _first_rows(entry)
    seen = before - np.repeat(before[first], np.diff(np.r_[first, len(entry)]))  # ... and in this entry
    pre = meta & (seen == 0)
    body = ~pre & ((seen > 0) | (content > 0))

    uses = uses[pre[uses]]
    sets = sets[pre[sets]]
    use_entry, use_lines = entry[uses], lines.gather(uses)
    set_ts = _set_ts(lines.gather(sets)) if len(sets) else pl.Series([], dtype=pl.String)
    stated = np.flatnonzero(set_ts.is_not_null().to_numpy())
    set_entry, set_ts = entry[sets][stated], set_ts.gather(stated)
    last_use = _first_rows(use_entry, last=True)
    first_use = _first_rows(use_entry)
    first_set = _first_rows(set_entry)
    pre_use = _use_db(use_lines.gather(last_use))
    return pl.DataFrame(
        [
            _spread(entries, use_entry[last_use], pre_use.alias("use_db")),
            _spread(entries, set_entry[first_set], set_ts.gather(first_set).alias("set_ts")),
            _spread(entries, use_entry[first_use], use_lines.gather(first_use).alias("use_line")),
            _bodies(sql["entry"].filter(pl.Series(body)), lines.filter(pl.Series(body)), entries),
        ]
    )


def _bodies(entry: pl.Series, line: pl.Series, entries: np.ndarray) -> pl.Series:
    """``body`` per entry of ``entries``: its statement lines joined; most are one line (no join needed)."""
    e = entry.to_numpy()
    if not len(e):
        return _spread(entries, e, line.alias("body"))
    single = np.r_[True, e[1:] != e[:-1]] & np.r_[e[1:] != e[:-1], True]
    if single.all():
        return _spread(entries, e, line.alias("body"))
    df = pl.DataFrame({"entry": entry, "line": line})
    joined = df.group_by("entry", maintain_order=True).agg(pl.col("line").str.join("\n").alias("body"))
    return _spread(entries, joined["entry"].to_numpy(), joined["body"])


def _entries(lines: pl.DataFrame) -> tuple[pl.DataFrame, pa.Array]:
    """One row per entry with the raw header values and the statement text, and the entries' attributes
    (kept in Arrow: they leave in the contract's map type)."""
    entry = lines["entry"].to_numpy()
    first = _first_rows(entry)
    entries = entry[first]
    ent = pl.DataFrame(
        {
            "entry": lines["entry"].gather(first),
            "line_no": lines["line_no"].gather(first),
            "n_lines": pl.Series(np.diff(np.r_[first, len(entry)]), dtype=pl.UInt32),
        }
    )
    hdr, attributes = mysql_header.entries(lines.filter(pl.col("hdr")).select("line_no", "line", "entry"))
    sql = _sql_entries(lines.filter(~pl.col("hdr")), entries)
    # both are in entry order and every entry starts with a header line: side by side, no join
    if ent["entry"].equals(hdr["entry"]):
        both = pl.concat([ent, hdr.drop("entry")], how="horizontal")
    else:
        both = ent.join(hdr.with_row_index("hdr_row"), on="entry", how="left", maintain_order="left")
        attributes = attributes.take(both["hdr_row"].to_arrow())
        both = both.drop("hdr_row")
    return pl.concat([both, sql], how="horizontal"), attributes


def _time_text(raw: pl.Expr) -> pl.Expr:
    """Old `# Time: YYMMDD H:MM:SS[.f]` -> `20YY-MM-DD HH:MM:SS[.ffffff]`; ISO values pass unchanged."""
    old = (
        raw.str.replace(_OLD_TIME, "20${1}-${2}-${3} ${4}:${5}:${6}${7}")
        .str.replace(r" ([0-9]):", " 0${1}:")
        .str.replace(r"(\.[0-9]{6})[0-9]+$", "${1}")
    )
    return pl.when(raw.str.contains(_OLD_TIME)).then(old).otherwise(raw)


def _zone_assumed(text: pl.Series) -> pl.Series:
    """:func:`parsers.timeparse.zone_assumed`, run only on the values that do not end with a ``Z`` (which
    its cleaning leaves in place: such a value has its zone)."""
    todo = (text.is_not_null() & ~text.str.ends_with("Z") & ~text.str.ends_with("z")).arg_true()
    out = pl.repeat(False, len(text), dtype=pl.Boolean, eager=True)
    if not len(todo):
        return out
    assumed = text.gather(todo).to_frame("t").select(timeparse.zone_assumed(pl.col("t"))).to_series()
    return out.scatter(todo, assumed)


def _parse_times(df: pl.DataFrame, columns: dict[str, str], timezone: str) -> pl.DataFrame:
    """Parse text columns (``out -> raw``) to UTC; ``own_time_naive`` where that zone was assumed.

    The two shapes MySQL writes are tried in turn, each only while some value is left; the general parser
    of :mod:`parsers.timeparse` only runs when some value is left over (it tries a dozen formats, so it is
    not run blindly). Each text column is made once: eager polars would rebuild it wherever it is used.
    """
    df = df.with_columns(
        **{
            f"{out}_text": _time_text(pl.col(raw)) if df[raw].str.contains(_OLD_TIME).any() else pl.col(raw)
            for out, raw in columns.items()
        }
    )
    iso = "%Y-%m-%dT%H:%M:%S%.f%#z"
    df = df.with_columns(
        **{
            out: pl.col(f"{out}_text").str.to_datetime(iso, strict=False, time_unit="us", time_zone="UTC")
            for out in columns
        },
        own_time_naive=_zone_assumed(df["own_time_text"]),
    )
    for out in columns:
        text = pl.col(f"{out}_text")
        if not df.select((pl.col(out).is_null() & text.is_not_null()).any()).item():
            continue
        naive = (
            text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
            .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
        )
        df = df.with_columns(pl.coalesce(pl.col(out), naive).alias(out))
        left = pl.col(out).is_null() & text.is_not_null()
        if df.select(left.any()).item():
            slow = timeparse.parse_text(pl.when(left).then(text), timezone)
            df = df.with_columns(pl.coalesce(pl.col(out), slow).alias(out))
    return df.drop([f"{out}_text" for out in columns])


def _nonempty(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr != "").then(expr)


def _records(ent: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Typed columns, time derivation and the reject reason of every entry."""
    host, ip = pl.col("client_hostname"), pl.col("client_ip")
    qt = pl.col("query_time").cast(pl.Float64, strict=False)
    dur = pl.duration(microseconds=pl.when(qt < _MAX_QUERY_S).then((qt * 1e6).round(0)).cast(pl.Int64))
    has_time = pl.col("time_raw").is_not_null()
    # Inherited `# Time`: the last one written before this entry. An unreadable one is inherited as
    # unreadable (a sentinel keeps forward_fill from skipping it and reaching further back).
    bad = pl.datetime(1, 1, 1, time_zone="UTC").cast(timeparse.UTC_US)
    times = (
        _parse_times(ent, {"own_time": "time_raw", "start": "start_raw", "end": "end_raw"}, ctx.timezone)
        .with_columns(
            inh_time=pl.when(has_time).then(pl.coalesce(pl.col("own_time"), bad)).forward_fill(),
            inh_time_naive=pl.when(has_time).then(pl.col("own_time_naive")).forward_fill(),
            set_time=pl.from_epoch(pl.col("set_ts").cast(pl.Int64, strict=False), time_unit="s")
            .dt.replace_time_zone("UTC")
            .cast(timeparse.UTC_US),
            dur=dur,
        )
        .with_columns(inh_time=pl.when(pl.col("inh_time") != bad).then(pl.col("inh_time")))
    )
    own_time, inh_time, set_ts, start, dur = (
        pl.col(c) for c in ("own_time", "inh_time", "set_time", "start", "dur")
    )
    # An implausible Query_time leaves only the log time: the entry's end, taken as its start.
    ts = pl.coalesce(start, own_time - dur, set_ts, inh_time - dur, own_time, inh_time).cast(timeparse.UTC_US)
    statement = (
        pl.when(pl.col("body").str.strip_chars() != "")
        .then(pl.col("body"))
        .otherwise(pl.col("use_line"))
        .str.strip_chars_end(" \t\r\n")
        .str.strip_suffix(";")
        .str.strip_chars_end(" \t\r\n")
    )
    times = times.with_columns(statement=statement)
    # `# administrator command: Quit;` is kept without its `# `
    admin = times["statement"].str.starts_with("# administrator command: ").fill_null(False)
    if admin.any():
        at = admin.arg_true()
        fixed = times["statement"].gather(at).str.slice(2)
        times = times.with_columns(times["statement"].clone().scatter(at, fixed))
    df = times.with_columns(
        qt=qt,
        ts=ts,
        db=pl.coalesce(pl.col("use_db"), pl.col("schema_db"), pl.col("use_db").forward_fill()),
        # `priv_user[user]`; replication threads write `[SQL_SLAVE]` with no name before the bracket.
        # A log has few users: each is read once.
        db_user=base.map_distinct(
            times["user_name"],
            lambda who: pl.coalesce(
                _nonempty(who.str.extract(r"^([^\[]*)\[", 1).str.strip_chars()),
                _nonempty(who.str.extract(r"\[([^\[\]]*)\]", 1).str.strip_chars()),
                _nonempty(who),
            ),
        ),
        client_host=pl.coalesce(_nonempty(ip), _nonempty(host)),
        # open: the value would come from before the chunk (filled by the steps of _carry)
        open_db=pl.col("use_db").forward_fill().is_null() & pl.col("schema_db").is_null(),
        open_time=(has_time.cast(pl.UInt32).cum_sum() == 0) & start.is_null() & set_ts.is_null(),
        tz_assumed=start.is_null()
        & (
            (own_time.is_not_null() & pl.col("own_time_naive"))
            | (own_time.is_null() & set_ts.is_null() & pl.col("inh_time_naive"))
        ),
    )
    return df.with_columns(
        end_ts=pl.coalesce(pl.col("end"), pl.col("ts") + dur).cast(timeparse.UTC_US),
        # the log has microseconds; rounding keeps 0.058153 s from becoming 58.153000000000006 ms
        duration_ms=(pl.col("qt") * 1000.0).round(3),
        lock_ms=(pl.col("lock_time").cast(pl.Float64, strict=False) * 1000.0).round(3),
        rows_sent=pl.col("rows_sent").cast(pl.Int64, strict=False),
        rows_examined=pl.col("rows_examined").cast(pl.Int64, strict=False),
        reason=pl.when(pl.col("qt").is_null())
        .then(pl.lit("slow-log entry without a '# Query_time:' line"))
        .when(pl.col("bad_user_line"))
        .then(pl.lit("unreadable '# User@Host:' line"))
        .when(pl.col("statement").is_null() | (pl.col("statement") == ""))
        .then(pl.lit("slow-log entry without a statement"))
        .when(pl.col("ts").is_null() & pl.col("time_raw").is_not_null())
        .then(pl.format("unreadable '# Time: {}' and no SET timestamp= or Start:", pl.col("time_raw")))
        # An entry with no time at all (the log writes '# Time' only when it changes, and test fragments
        # have none) is still a statement the server ran: it stays a record with a null ts, as
        # pt-query-digest counts it; it can still be placed on a span by its traceparent comment.
        .otherwise(pl.lit(None, dtype=pl.String)),
    )


def _carry(rec: pl.DataFrame, good: pl.DataFrame) -> dict[str, carry.Step]:
    """Steps that give the entries before the chunk's first ``use db;`` / ``# Time:`` the values left by the
    chunks before it, as :func:`_records` does within a chunk. ``rec``: every entry; ``good``: the records."""
    used = rec["use_db"].drop_nulls()
    stated = rec.filter(pl.col("time_raw").is_not_null())
    last_time = (stated["own_time"][-1], bool(stated["own_time_naive"][-1])) if stated.height else None
    db_rows = good["open_db"].arg_true().to_numpy()
    time_rows = good["open_time"].arg_true().to_numpy()
    dur = good.filter(pl.col("open_time"))["dur"]

    def fill_db(result: ParseResult, before: object) -> None:
        value = pl.Series([before] * len(db_rows), dtype=pl.String)
        result.records = carry.set_rows(result.records, "db", db_rows, value)

    def fill_time(result: ParseResult, before: object) -> None:
        time, naive = cast(tuple[dt.datetime | None, bool], before)
        if time is not None:
            inherited = pl.lit(time, dtype=timeparse.UTC_US)
            known_end = pl.Series(result.records.column("end_ts").take(time_rows))
            filled = pl.DataFrame({"dur": dur, "end": known_end}).with_columns(
                ts=pl.coalesce(inherited - pl.col("dur"), inherited)
            )
            filled = filled.with_columns(end_ts=pl.coalesce("end", pl.col("ts") + pl.col("dur")))
            for column in ("ts", "end_ts"):
                result.records = carry.set_rows(result.records, column, time_rows, filled[column])
        if naive:
            result.tz_assumed += len(time_rows)

    return {
        "mysql.db": carry.last_value(used[-1] if len(used) else None, fill_db),
        "mysql.time": carry.last_value(last_time, fill_time),
    }


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse whole slow-log entries (see the module docstring)."""
    lines = lines.cast(pl.String)
    # CRLF files (a \r inside a line would leave the strip nothing to do, so the ends are what counts)
    if lines.str.ends_with("\r").any():
        lines = lines.str.strip_suffix("\r")
    hdr = lines.str.contains(_HEADER)
    df = pl.DataFrame(
        {"line": lines, "banner": _banners(lines), "hdr": hdr, "entry": _starts(lines, hdr).cum_sum()}
    ).with_row_index("line_no")
    outside = df.filter((pl.col("entry") == 0) & ~pl.col("banner"))
    stray = outside.filter(~pl.col("line").str.contains(r"^\s*$"))
    skipped = int(df["banner"].sum()) + (outside.height - stray.height)

    entry_lines = df.filter((pl.col("entry") > 0) & ~pl.col("banner"))
    ent, attributes = _entries(entry_lines)
    rec = _records(ent, ctx)
    rejected = pl.col("reason").is_not_null()
    if rec["reason"].null_count() < rec.height:
        good = rec.filter(~rejected)
        attributes = attributes.filter(rec["reason"].is_null().to_arrow())
    else:
        good = rec
    bad = rec.filter(rejected)

    out, tags = sqltext.statement_frame(good, "mysql")
    out = out.with_columns(
        engine=pl.lit(ENGINE),
        server=pl.lit(None, dtype=pl.String),
    )

    raw = (
        entry_lines.join(bad.select("entry", "reason"), on="entry", how="inner")
        .group_by("entry", maintain_order=True)
        .agg(pl.col("line_no").first(), pl.col("reason").first(), pl.col("line").str.join("\n").alias("raw"))
    )
    rejects = pl.concat(
        [
            stray.select(
                "line_no",
                pl.lit(_OUTSIDE).alias("reason"),
                pl.col("line").alias("raw"),
            ),
            raw.select("line_no", "reason", "raw"),
        ]
    ).sort("line_no")

    records = base.finish(out, ctx, name, schema.SLOW_QUERIES)
    # the bags were built in Arrow: they go in as they are (a polars round trip would cost more)
    for column, bag in (("attributes", attributes), ("comment_tags", mysql_header.to_map(tags))):
        at = records.schema.get_field_index(column)
        records = records.set_column(at, records.schema.field(at), pa.chunked_array([bag], schema.MAP))
    return ParseResult(
        records=records,
        rejects=base.rejects_frame(rejects, ctx, name),
        record_lines=int(good["n_lines"].sum()),
        reject_lines=int(bad["n_lines"].sum()) + stray.height,
        skipped_lines=skipped,
        tz_assumed=int(good["tz_assumed"].sum()),
        carry=_carry(rec, good),
    )
