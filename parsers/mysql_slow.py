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

import polars as pl

from parsers import base, schema, sqltext, timeparse
from parsers.base import Kind, ParseContext, ParseResult

name = "mysql-slow"
kind: Kind = "slow_queries"
description = "MySQL / MariaDB / Percona slow query log (5.0–8.x, log_slow_extra, Percona extended stats)"
example = "# Query_time: 2.475469  Lock_time: 0.000287 Rows_sent: 10  Rows_examined: 3145718"

ENGINE = "mysql"

# `/usr/sbin/mysqld, Version: 8.0.15 (...). started with:`, `Tcp port: 3306  Unix socket: ...`,
# `Time                 Id Command    Argument` (also written when the server restarts mid-file).
_BANNER = "|".join(
    (
        r"^.*, Version: .*started with:[ \t]*$",
        r"^(?i:tcp port): [0-9]+",
        r"^Time[ \t]+Id[ \t]+Command[ \t]+Argument[ \t]*$",
    )
)
# `# Key: value` header lines, and Percona's `# No InnoDB statistics available for this query`.
# `# administrator command: Quit;` is a statement, not a header (its key has a space).
_HEADER = r"^#[ \t]*(?:[A-Za-z][A-Za-z0-9_@]*:|No InnoDB statistics)"
_TIME = r"^# Time:[ \t]+([^#]*[^# \t])"
_USER_MARK = r"# User(?:@Host)?:"
# `root[root] @ localhost []  Id: 14`, `[SQL_SLAVE] @  []`, `user[user] @ [1.2.3.4]`: user, host, ip, id
_USER = _USER_MARK + r"[ \t]*(.*?)[ \t]*@[ \t]*([^ \t\[]*)[ \t]*\[([^\]]*)\](?:[ \t]+Id:[ \t]*([0-9]+))?"
# A Query_time beyond this is a server bug (negative durations wrapped to 2^64 µs); too big to subtract.
_MAX_QUERY_S = 1e8
_OLD_TIME = r"^([0-9]{2})([0-9]{2})([0-9]{2})[ \t]+([0-9]{1,2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?$"
_USE = r"(?i)^use[ \t]+([^ \t;]+)[ \t]*;[ \t]*$"
_SET_TS = r"(?i)^SET[ \t]+(?:[a-z_]+=[0-9]+,)*timestamp=([0-9]+)[,;]"
_SET_META = r"(?i)^SET[ \t]+(?:(?:last_insert_id|insert_id|timestamp)=[0-9]+,?)+;[ \t]*$"
_OUTSIDE = "line outside any slow-log entry (before the first '# Time:'/'# User@Host:' header)"
# Header keys that become columns rather than attributes.
_MAPPED = r"(?:^|[ \t])(?:Query_time|Lock_time|Rows_sent|Rows_examined|Start|End):[ \t]*[^ \t]*"
_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_SEP, _KV = "\x00", "\x01"  # never in a slow log's header lines


def _num(field: str) -> str:
    return rf"(?:^|[ \t]){field}:[ \t]*([0-9]+(?:\.[0-9]+)?)"


def _starts(line: pl.Expr) -> pl.Expr:
    """An entry starts at `# Time:` or at the first header line after a non-header line."""
    hdr = line.str.contains(_HEADER)
    return line.str.starts_with("# Time:") | (hdr & ~hdr.shift(1, fill_value=False))


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


def _header_entries(hdr: pl.DataFrame) -> pl.DataFrame:
    """Header lines -> one row per entry: time, user, Query_time values, Start/End, Schema, attributes.

    Built in steps of materialized columns: eager polars does not share common subexpressions, and string
    expressions inside ``agg()`` would run group by group.
    """
    line = pl.col("line")
    df = hdr.with_columns(
        user_line=line.str.contains(_USER_MARK),
        user=line.str.extract_groups(_USER).struct.rename_fields(
            ["user_name", "client_hostname", "client_ip", "conn"]
        ),
    ).unnest("user")
    df = df.with_columns(pl.col("user_name", "client_hostname", "client_ip", "conn").str.strip_chars())
    host = pl.col("client_hostname")
    # Attribute text: `Key: value` pairs of every header line except those mapped to columns; the user line
    # contributes its connection Id and host name.
    kv_text = (
        pl.when(pl.col("user_line"))
        .then(
            pl.concat_str(
                pl.lit("Id: ") + pl.col("conn"),
                pl.when(host != "").then(pl.lit("Host: ") + host),
                separator=" ",
                ignore_nulls=True,
            )
        )
        .when(~line.str.starts_with("# Time:"))
        .then(line.str.replace_all(_MAPPED, ""))
    )
    # Every `Key:` becomes \x00Key\x01 (eating the blanks around it), so a split on \x00 yields the pairs and
    # an empty value (`Schema:  Last_errno: 0`) stays empty instead of swallowing the next key.
    kv = (
        kv_text.str.replace_all(rf"[ \t]*({_KEY}):(?:[ \t]+|$)", f"{_SEP}${{1}}{_KV}")
        .str.split(_SEP)
        .list.slice(1)
        .list.eval(pl.element().str.split_exact(_KV, 1).struct.rename_fields(["key", "value"]))
    )
    fields = {
        "time_raw": line.str.extract(_TIME, 1),
        "query_time": line.str.extract(_num("Query_time"), 1),
        "lock_time": line.str.extract(_num("Lock_time"), 1),
        "rows_sent": line.str.extract(_num("Rows_sent"), 1),
        "rows_examined": line.str.extract(_num("Rows_examined"), 1),
        "start_raw": line.str.extract(r"(?:^|[ \t])Start:[ \t]*([^ \t]+)", 1),
        "end_raw": line.str.extract(r"(?:^|[ \t])End:[ \t]*([^ \t]+)", 1),
        "schema_db": line.str.extract(r"(?:^|[ \t])Schema:[ \t]*([^ \t:]+)(?:[ \t]|$)", 1),
    }
    df = df.with_columns(
        bad_user_line=pl.col("user_line") & pl.col("user_name").is_null(), attributes=kv, **fields
    )
    first = [*fields, "user_name", "client_ip", "client_hostname"]
    return df.group_by("entry", maintain_order=True).agg(
        pl.col("bad_user_line").any(),
        pl.col("attributes").explode().drop_nulls(),
        *(pl.col(k).drop_nulls().first() for k in first),
    )


def _sql_entries(sql: pl.DataFrame) -> pl.DataFrame:
    """Non-header lines -> one row per entry: `use db;`, `SET timestamp=N;` and the statement text.

    `use` and `SET timestamp`/`insert_id` lines before the statement are metadata; from the first other
    non-blank line on, everything is the statement (so a statement may itself contain `SET` or `use`).
    """
    line = pl.col("line")
    df = sql.with_columns(use_db=line.str.extract(_USE, 1).str.strip_chars("`"))
    df = df.with_columns(meta=pl.col("use_db").is_not_null() | line.str.contains(_SET_META))
    df = df.with_columns(content=(~pl.col("meta") & (line.str.strip_chars() != "")).cast(pl.UInt32))
    df = df.with_columns(
        before=pl.col("content").cum_sum() - pl.col("content"),  # content lines before this one, in the chunk
        entry_first=pl.col("entry") != pl.col("entry").shift(1, fill_value=0),
    )
    # ... and in this entry
    df = df.with_columns(seen=pl.col("before") - pl.when("entry_first").then("before").forward_fill())
    preamble = pl.col("meta") & (pl.col("seen") == 0)
    df = df.with_columns(
        use_db=pl.when(preamble).then(pl.col("use_db")),
        set_ts=pl.when(preamble).then(line.str.extract(_SET_TS, 1)),
        body=~preamble & ((pl.col("seen") > 0) | (pl.col("content") > 0)),
    )
    return df.group_by("entry", maintain_order=True).agg(
        pl.col("use_db").drop_nulls().last(),
        pl.col("set_ts").drop_nulls().first(),
        line.filter(pl.col("body")).str.join("\n").alias("body"),
        line.filter(pl.col("use_db").is_not_null()).first().alias("use_line"),
    )


def _entries(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per entry with the raw header values and the statement text."""
    ent = lines.group_by("entry", maintain_order=True).agg(
        pl.col("line_no").first(), pl.len().alias("n_lines")
    )
    hdr = _header_entries(lines.filter(pl.col("hdr")))
    sql = _sql_entries(lines.filter(~pl.col("hdr")))
    return ent.join(hdr, on="entry", how="left").join(sql, on="entry", how="left").sort("entry")


def _time_text(raw: pl.Expr) -> pl.Expr:
    """Old `# Time: YYMMDD H:MM:SS[.f]` -> `20YY-MM-DD HH:MM:SS[.ffffff]`; ISO values pass unchanged."""
    old = (
        raw.str.replace(_OLD_TIME, "20${1}-${2}-${3} ${4}:${5}:${6}${7}")
        .str.replace(r" ([0-9]):", " 0${1}:")
        .str.replace(r"(\.[0-9]{6})[0-9]+$", "${1}")
    )
    return pl.when(raw.str.contains(_OLD_TIME)).then(old).otherwise(raw)


def _parse_times(df: pl.DataFrame, columns: dict[str, str], timezone: str) -> pl.DataFrame:
    """Parse text columns (``out -> raw``) to UTC, and ``<out>_naive`` where the zone was assumed.

    The two shapes MySQL writes are read in one pass each; the general parser of :mod:`parsers.timeparse`
    only runs when some value is left over (it tries a dozen formats, so it is not run blindly).
    """
    text = {out: _time_text(pl.col(raw)) for out, raw in columns.items()}
    df = df.with_columns(
        **{f"{out}_text": t for out, t in text.items()},
        **{
            out: pl.coalesce(
                t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us", time_zone="UTC"),
                t.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
                .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
                .dt.convert_time_zone("UTC"),
            )
            for out, t in text.items()
        },
        **{f"{out}_naive": timeparse.zone_assumed(t) for out, t in text.items()},
    )
    for out in columns:
        left = pl.col(out).is_null() & pl.col(f"{out}_text").is_not_null()
        if df.select(left.any()).item():
            slow = timeparse.parse_text(pl.when(left).then(pl.col(f"{out}_text")), timezone)
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


def parse(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse whole slow-log entries (see the module docstring)."""
    df = (
        pl.DataFrame({"line": lines.cast(pl.String).str.strip_suffix("\r")})  # CRLF files
        .with_row_index("line_no")
        .with_columns(
            banner=pl.col("line").str.contains(_BANNER),
            hdr=pl.col("line").str.contains(_HEADER),
            start=_starts(pl.col("line")),
            blank=pl.col("line").str.strip_chars() == "",
        )
        .with_columns(entry=pl.col("start").cum_sum())
    )
    outside = df.filter((pl.col("entry") == 0) & ~pl.col("banner"))
    stray = outside.filter(~pl.col("blank"))
    skipped = int(df["banner"].sum()) + (outside.height - stray.height)

    entry_lines = df.filter((pl.col("entry") > 0) & ~pl.col("banner"))
    rec = _records(_entries(entry_lines), ctx)
    good = rec.filter(pl.col("reason").is_null())
    bad = rec.filter(pl.col("reason").is_not_null())

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
    )
