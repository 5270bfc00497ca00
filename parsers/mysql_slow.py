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

import polars as pl

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
_OUTSIDE = "line outside any slow-log entry (before the first '# Time:'/'# User@Host:' header)"


def _starts(line: pl.Expr) -> pl.Expr:
    """An entry starts at `# Time:` or at the first header line after a non-header line."""
    hdr = line.str.contains(_HEADER)
    return line.str.starts_with("# Time:") | (hdr & ~hdr.shift(1, fill_value=False))


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
    return lines.to_frame("line").select(_starts(pl.col("line"))).to_series()


def _sql_entries(sql: pl.DataFrame) -> pl.DataFrame:
    """Non-header lines -> one row per entry: `use db;`, `SET timestamp=N;` and the statement text.

    `use` and `SET timestamp`/`insert_id` lines before the statement are metadata; from the first other
    non-blank line on, everything is the statement (so a statement may itself contain `SET` or `use`).
    """
    line = pl.col("line")
    df = sql.with_columns(use_db=line.str.extract(_USE, 1).str.strip_chars("`"))
    df = df.with_columns(
        meta=pl.col("use_db").is_not_null() | line.str.contains(_SET_META),
        nonblank=line.str.contains(r"\S"),
    )
    df = df.with_columns(content=(~pl.col("meta") & pl.col("nonblank")).cast(pl.UInt32))
    df = df.with_columns(
        before=pl.col("content").cum_sum() - pl.col("content"),  # content lines before this one, in the chunk
        entry_first=pl.col("entry") != pl.col("entry").shift(1, fill_value=0),
    )
    # ... and in this entry
    df = df.with_columns(seen=pl.col("before") - pl.when("entry_first").then("before").forward_fill())
    preamble = pl.col("meta") & (pl.col("seen") == 0)
    df = df.with_columns(pre=preamble, body=~preamble & ((pl.col("seen") > 0) | (pl.col("content") > 0)))
    meta = (
        df.filter("pre")
        .with_columns(
            set_ts=line.str.extract(_SET_TS, 1), use_line=pl.when(pl.col("use_db").is_not_null()).then(line)
        )
        .group_by("entry", maintain_order=True)
        .agg(
            pl.col("use_db").drop_nulls().last(),
            pl.col("set_ts").drop_nulls().first(),
            pl.col("use_line").drop_nulls().first(),
        )
    )
    return meta.join(_bodies(df.filter("body")), on="entry", how="full", coalesce=True)


def _bodies(body: pl.DataFrame) -> pl.DataFrame:
    """``entry``, ``body``: the statement lines of each entry joined; most are one line (no join needed)."""
    entry = pl.col("entry")
    body = body.select("entry", "line").with_columns(
        single=(entry != entry.shift(1)).fill_null(True) & (entry != entry.shift(-1)).fill_null(True)
    )
    single = body.filter("single").select("entry", body="line")
    multi = body.filter(~pl.col("single"))
    if not multi.height:
        return single
    joined = multi.group_by("entry", maintain_order=True).agg(pl.col("line").str.join("\n").alias("body"))
    return pl.concat([single, joined]).sort("entry")


def _entries(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per entry with the raw header values and the statement text."""
    ent = lines.group_by("entry", maintain_order=True).agg(
        pl.col("line_no").first(), pl.len().alias("n_lines")
    )
    hdr = mysql_header.entries(lines.filter(pl.col("hdr")).select("line_no", "line", "entry"))
    sql = _sql_entries(lines.filter(~pl.col("hdr")))
    # both are in entry order and every entry starts with a header line: side by side, no join
    both = (
        pl.concat([ent, hdr.drop("entry")], how="horizontal")
        if ent["entry"].equals(hdr["entry"])
        else ent.join(hdr, on="entry", how="left", maintain_order="left")
    )
    return both.join(sql, on="entry", how="left", maintain_order="left")


def _time_text(raw: pl.Expr) -> pl.Expr:
    """Old `# Time: YYMMDD H:MM:SS[.f]` -> `20YY-MM-DD HH:MM:SS[.ffffff]`; ISO values pass unchanged."""
    old = (
        raw.str.replace(_OLD_TIME, "20${1}-${2}-${3} ${4}:${5}:${6}${7}")
        .str.replace(r" ([0-9]):", " 0${1}:")
        .str.replace(r"(\.[0-9]{6})[0-9]+$", "${1}")
    )
    return pl.when(raw.str.contains(_OLD_TIME)).then(old).otherwise(raw)


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
        own_time_naive=timeparse.zone_assumed(pl.col("own_time_text")),
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
    who, host, ip = pl.col("user_name"), pl.col("client_hostname"), pl.col("client_ip")
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
        .str.replace(r"^# (administrator command: )", "${1}")
    )
    df = times.with_columns(
        qt=qt,
        ts=ts,
        statement=statement,
        db=pl.coalesce(pl.col("use_db"), pl.col("schema_db"), pl.col("use_db").forward_fill()),
        # `priv_user[user]`; replication threads write `[SQL_SLAVE]` with no name before the bracket
        db_user=pl.coalesce(
            _nonempty(who.str.extract(r"^([^\[]*)\[", 1).str.strip_chars()),
            _nonempty(who.str.extract(r"\[([^\[\]]*)\]", 1).str.strip_chars()),
            _nonempty(who),
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
    if lines.str.contains("\r", literal=True).any():  # CRLF files
        lines = lines.str.strip_suffix("\r")
    line, hdr = pl.col("line"), pl.col("hdr")
    df = (
        pl.DataFrame({"line": lines, "banner": _banners(lines)})
        .with_row_index("line_no")
        .with_columns(hdr=line.str.contains(_HEADER), blank=line.str.contains(r"^\s*$"))
        .with_columns(start=line.str.starts_with("# Time:") | (hdr & ~hdr.shift(1, fill_value=False)))
        .with_columns(entry=pl.col("start").cum_sum())
    )
    outside = df.filter((pl.col("entry") == 0) & ~pl.col("banner"))
    stray = outside.filter(~pl.col("blank"))
    skipped = int(df["banner"].sum()) + (outside.height - stray.height)

    entry_lines = df.filter((pl.col("entry") > 0) & ~pl.col("banner"))
    rec = _records(_entries(entry_lines), ctx)
    rejected = pl.col("reason").is_not_null()
    good = rec.filter(~rejected) if rec["reason"].null_count() < rec.height else rec
    bad = rec.filter(rejected)

    out = sqltext.statement_columns(good, "mysql")
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

    return ParseResult(
        records=base.finish(out, ctx, name, schema.SLOW_QUERIES),
        rejects=base.rejects_frame(rejects, ctx, name),
        record_lines=int(good["n_lines"].sum()),
        reject_lines=int(bad["n_lines"].sum()) + stray.height,
        skipped_lines=skipped,
        tz_assumed=int(good["tz_assumed"].sum()),
        carry=_carry(rec, good),
    )
