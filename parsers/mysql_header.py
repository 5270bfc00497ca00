"""The header lines of MySQL slow-log entries -> one row per entry (for :mod:`parsers.mysql_slow`).

Header lines are ``# Time: ...``, ``# User@Host: user[user] @ host [ip]  Id: N`` and lines of ``Key: value``
pairs (read by :mod:`parsers.mysql_pairs`). ``Query_time``, ``Lock_time``, ``Rows_sent``, ``Rows_examined``,
``Start``, ``End`` and ``Schema`` become columns (the first value of each in the entry); every other pair, the
user line's ``Id`` and ``Host`` and ``Schema`` go to the attributes, in line order.

Every kind of line gives per line its *facts* (column values) and its attribute lists; the facts of an entry
are the first of each in line order, its attributes the lists of its lines laid end to end.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from parsers import mysql_pairs, schema
from parsers.mysql_pairs import FIELDS, Lists, Reading

USER_MARK = r"# User(?:@Host)?:"
# `root[root] @ localhost []  Id: 14`, `[SQL_SLAVE] @  []`, `user[user] @ [1.2.3.4]`: user, host, ip, id
_USER = USER_MARK + r"[ \t]*(.*?)[ \t]*@[ \t]*([^ \t\[]*)[ \t]*\[([^\]]*)\](?:[ \t]+Id:[ \t]*([0-9]+))?"
_TIME = r"^# Time:[ \t]+([^#]*[^# \t])"
_USER_FIELDS = ("user_name", "client_hostname", "client_ip", "conn")
_COLUMN_WORDS = [f"{k}:" for k in (*mysql_pairs.COLUMN_KEYS, "Schema")]


def _users(hdr: pl.DataFrame) -> pl.DataFrame:
    """User lines: ``line_no``, ``entry``, the user columns and the column values (a distinct line is read
    once), and ``text``, the pairs the line gives (``Id: N Host: h``) where the tokens may not read them."""
    line = pl.col("line")
    users = hdr.filter(line.str.contains(USER_MARK))  # (its literal start is found as fast as a literal)
    host = pl.col("client_hostname")
    read = (
        users.select("line")
        .unique()
        .with_columns(
            u=line.str.extract_groups(_USER).struct.rename_fields(list(_USER_FIELDS)),
            **mysql_pairs.regex_fields(line),
        )
        .unnest("u")
        .with_columns(pl.col(_USER_FIELDS).str.strip_chars())
        .with_columns(
            host=pl.when(host != "").then(host),
            text=pl.concat_str(
                pl.lit("Id: ") + pl.col("conn"),
                pl.when(host != "").then(pl.lit("Host: ") + host),
                separator=" ",
                ignore_nulls=True,
            ),
        )
    )
    return users.join(read, on="line", how="left", maintain_order="left").drop("line")


def _times(hdr: pl.DataFrame) -> pl.DataFrame:
    """``# Time:`` lines: ``line_no``, ``entry``, ``time_raw``, and the column values of the rare time line
    that has any."""
    line = pl.col("line")
    times = hdr.select("line_no", "entry", time_raw=_time_raw(hdr["line"]))
    worded = hdr.filter(line.str.contains("|".join(_COLUMN_WORDS)))  # (an alternation beats contains_any)
    if not worded.height:
        return times
    fields = worded.select("line_no", **mysql_pairs.regex_fields(line))
    return times.join(fields, on="line_no", how="left", maintain_order="left")


def _time_raw(lines: pl.Series) -> pl.Series:
    """The value of ``# Time:`` lines as :data:`_TIME` reads it (a blank after the colon, the text up to the
    first ``#``, blanks around it trimmed), with literal operations: a regex capture per line costs more."""
    rest = (
        lines.to_frame("line")
        .select(pl.when(pl.col("line").str.slice(7, 1).is_in([" ", "\t"])).then(pl.col("line").str.slice(7)))
        .to_series()
    )
    if rest.str.contains("#", literal=True).any():
        rest = rest.str.split("#").list.first()
    rest = rest.str.strip_chars(" \t")
    return rest.to_frame("r").select(pl.when(pl.col("r") != "").then(pl.col("r"))).to_series()


def _per_entry(lists: Lists, line_entry: np.ndarray, entries: np.ndarray) -> pa.ListArray:
    """Each entry's lists laid end to end (``line_entry``: the entry of each list's line)."""
    arr = lists.lists
    offsets = np.asarray(arr.offsets)
    at = np.searchsorted(line_entry, entries, side="left")
    bounds = np.r_[offsets[at], offsets[-1]].astype(np.int32)
    values = arr.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    return pa.ListArray.from_arrays(pa.array(bounds - bounds[0]), values)


def _common_shape(
    users: pl.DataFrame, readings: list[Reading], others: pl.Series
) -> tuple[pl.DataFrame, Reading]:
    """The entries of the common shape: one user line, then one line of the most used template, and no
    other pair line. Their attributes are made entry by entry in one pass (no lists per line to merge);
    ``t_row`` is the template line's row in the reading."""
    main = max(readings, key=lambda r: r.frame.height)
    rest = [r.frame["entry"] for r in readings if r is not main]
    others = pl.concat([others, *rest]) if rest else others
    u_entry, t_entry = users["entry"].to_numpy(), main.frame["entry"].to_numpy()
    u_rows, t_rows = _single(u_entry), _single(t_entry)
    _, ui, ti = np.intersect1d(u_entry[u_rows], t_entry[t_rows], assume_unique=True, return_indices=True)
    order = np.argsort(ui, kind="stable")  # in the order of the user lines
    u_at, t_at = u_rows[ui[order]], t_rows[ti[order]]
    keep = (users["line_no"].to_numpy()[u_at] < main.frame["line_no"].to_numpy()[t_at]) & ~np.isin(
        u_entry[u_at], others.to_numpy()
    )
    u_at, t_at = u_at[keep], t_at[keep]
    shaped = users[u_at].select("entry", "conn", "host").with_columns(t_row=pl.Series(t_at, dtype=pl.UInt32))
    return shaped, main


def _single(entry: np.ndarray) -> np.ndarray:
    """Rows whose entry no other row has."""
    _, inverse, counts = np.unique(entry, return_inverse=True, return_counts=True)
    return np.flatnonzero(counts[inverse] == 1)


def _shaped_lists(shaped: pl.DataFrame, main: Reading) -> pa.ListArray:
    """The attributes of the common-shape entries: ``Id`` and ``Host`` of the user line (when there), then
    the template line's pairs. The values are gathered in one go, entry by entry."""
    n, k = shaped.height, len(main.keys)
    conn, host = shaped["conn"].cast(pl.String), shaped["host"].cast(pl.String)
    rows = np.arange(n)
    source = np.empty((n, k + 2), dtype=np.int64)
    source[:, 0], source[:, 1] = rows, n + rows
    t_row = shaped["t_row"].to_numpy()
    at = main.at if np.array_equal(t_row, np.arange(len(main.at))) else main.at[t_row]
    source[:, 2:] = 2 * n + at
    present = np.ones((n, k + 2), dtype=bool)
    present[:, 0], present[:, 1] = conn.is_not_null().to_numpy(), host.is_not_null().to_numpy()
    # one chunk: a gather across chunks costs several times more
    values = pl.concat([conn, host, main.values], rechunk=True).gather(source[present])
    keys = _keys(["Id", "Host", *main.keys], present)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(present.sum(axis=1), out=offsets[1:])
    return mysql_pairs.list_array(offsets, keys, values.to_arrow(compat_level=pl.CompatLevel.newest()))


def _keys(names: list[str], present: np.ndarray) -> pa.Array:
    """The keys of ``present`` (entries x ``names``), entry by entry. When every entry has the same ones,
    their text is one block repeated (a take would copy key by key)."""
    if not len(present) or (present == present[0]).all():
        pattern = present[0] if len(present) else np.zeros(len(names), dtype=bool)
        kept = [name.encode() for name, p in zip(names, pattern, strict=True) if p]
        n, lens = len(present), np.array([len(k) for k in kept], dtype=np.int64)
        offsets = np.zeros(n * len(kept) + 1, dtype=np.int64)
        np.cumsum(np.tile(lens, n), out=offsets[1:])
        if offsets[-1] < 2**31:
            data = np.frombuffer(b"".join(kept) * n, dtype=np.uint8) if n else np.zeros(0, np.uint8)
            buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
            return pa.Array.from_buffers(pa.string(), n * len(kept), buffers)
    which = np.broadcast_to(np.arange(len(names), dtype=np.int32), present.shape)[present]
    return pa.array(names, pa.string()).take(pa.array(which))


def to_map(lists: pa.ListArray) -> pa.MapArray:
    """``list<struct<key, value>>`` -> the contract's ``map<string, string>`` (null lists stay null)."""
    offsets = np.asarray(lists.offsets)
    entries = lists.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    keys, values = entries.field("key").cast(pa.string()), entries.field("value").cast(pa.string())
    mask = lists.is_null() if lists.null_count else None
    return pa.MapArray.from_arrays(pa.array(offsets - offsets[0]), keys, values, mask=mask).cast(schema.MAP)


def _attributes(
    entries: pl.Series,
    users: pl.DataFrame,
    odd_users: pl.Series,
    readings: list[Reading],
    general: Lists,
    hdr: pl.DataFrame,
) -> pa.MapArray:
    """Every entry's attributes (the contract's map), in entry order."""
    ids = entries.to_numpy()
    parts: list[tuple[np.ndarray, pa.ListArray]] = []
    others = pl.concat(
        [odd_users, pl.Series(general.line_no, dtype=pl.UInt32)]
    )  # lines, mapped to entries below
    others = hdr.filter(pl.col("line_no").is_in(others.implode()))["entry"]
    shaped = pl.DataFrame()
    if readings and users.height:
        shaped, main = _common_shape(users, readings, others)
        if shaped.height:
            parts.append((shaped["entry"].to_numpy(), _shaped_lists(shaped, main)))
    done = shaped["entry"] if shaped.height else pl.Series("entry", [], dtype=pl.UInt32)
    if len(done) < len(ids):
        is_done = pl.col("entry").is_in(done.implode())
        done_ids = done.to_numpy()
        lines = mysql_pairs.merge(
            [
                mysql_pairs.kv_lists(
                    users.filter(~is_done), [("Id", pl.col("conn")), ("Host", pl.col("host"))]
                ),
                *(
                    r.rows(np.flatnonzero(~np.isin(r.frame["entry"].to_numpy(), done_ids))).lists()
                    for r in readings
                ),
                general,
            ]
        )
        line_entry = (
            pl.DataFrame({"line_no": lines.line_no})
            .join(hdr.select("line_no", "entry"), on="line_no", how="left", maintain_order="left")["entry"]
            .to_numpy()
        )
        rest_ids = np.setdiff1d(ids, done.to_numpy(), assume_unique=True)
        parts.append((rest_ids, _per_entry(lines, line_entry, rest_ids)))
    if not parts:
        return to_map(Lists.empty().lists)
    if len(parts) == 1 and np.array_equal(parts[0][0], ids):
        return to_map(parts[0][1])
    order = np.argsort(np.concatenate([p[0] for p in parts]), kind="stable")
    return to_map(pa.concat_arrays([p[1] for p in parts]).take(pa.array(order)))


def _first_facts(entry: pl.Series, sources: list[pl.DataFrame], users: pl.DataFrame) -> pl.DataFrame:
    """One row per entry of the header lines (``entry``: theirs, ascending): ``bad_user_line`` and of each
    fact the first value in line order among the lines of ``sources`` (``line_no``, ``entry`` and facts).
    Most facts come from one kind of line with one line per entry, taken as it is; only where several
    lines have values are they sorted together."""
    e = entry.to_numpy()
    at = np.flatnonzero(np.r_[True, e[1:] != e[:-1]]) if len(e) else np.zeros(0, dtype=np.int64)
    entries = entry.gather(at)
    ids = e[at]

    def spread(values: pl.Series, of: np.ndarray) -> pl.Series:
        """``values`` of the entries ``of`` (distinct, ascending) at their entries' rows."""
        if len(of) == len(ids):
            return values
        out = pl.repeat(None, len(ids), dtype=values.dtype, eager=True)
        return out.scatter(np.searchsorted(ids, of), values).alias(values.name)

    of_source = [src["entry"].to_numpy() if src.width else np.zeros(0, dtype=np.int64) for src in sources]
    one_each = [len(r) < 2 or bool(np.all(r[1:] > r[:-1])) for r in of_source]
    bad = users.filter(pl.col("user_name").is_null())["entry"].to_numpy()
    columns = [entries, pl.Series("bad_user_line", np.isin(ids, bad))]
    for k in ("time_raw", *FIELDS, "user_name", "client_ip", "client_hostname"):
        valued = [i for i, src in enumerate(sources) if k in src.columns and src[k].null_count() < src.height]
        if not valued:
            columns.append(pl.repeat(None, len(ids), dtype=pl.String, eager=True).alias(k))
        elif len(valued) == 1 and one_each[valued[0]]:
            columns.append(spread(sources[valued[0]][k], of_source[valued[0]]))
        else:
            rows = pl.concat([sources[i].select("line_no", "entry", k).drop_nulls(k) for i in valued])
            if not rows["line_no"].is_sorted():
                rows = rows.sort("line_no", maintain_order=True)
            r = rows["entry"].to_numpy()
            first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
            columns.append(spread(rows[k].gather(first), r[first]))
    return pl.DataFrame(columns)


def entries(hdr: pl.DataFrame) -> tuple[pl.DataFrame, pa.MapArray]:
    """Header lines (``line_no``, ``line``, ``entry``) -> one row per entry: ``entry``, ``time_raw``, the user
    columns, the column values and ``bad_user_line``; and the entries' attributes (the contract's map, pairs
    in line order), row for row."""
    line = pl.col("line")
    users = _users(hdr)
    is_user = pl.col("line_no").is_in(users["line_no"].implode())
    time_line = line.str.starts_with("# Time:")
    times = _times(hdr.filter(time_line))  # a user line may follow the time on the same line
    facts_t, readings, rest = mysql_pairs.templates(hdr.filter(~time_line & ~is_user))
    # user lines whose host ends with ":" give text the tokens would read as one more key
    odd_user = pl.col("host").str.ends_with(":").fill_null(False)
    general_lines = pl.concat(
        [
            rest.select("line_no", "entry", text="line"),
            users.filter(odd_user).select("line_no", "entry", "text"),
        ]
    ).sort("line_no")
    facts_g, lists_g = mysql_pairs.general(general_lines)
    user_facts = users.select("line_no", "entry", *_USER_FIELDS[:3], *FIELDS)
    sources = [
        times,
        user_facts,
        facts_t,
        facts_g.filter(~pl.col("line_no").is_in(users["line_no"].implode())) if facts_g.height else facts_g,
    ]
    out = _first_facts(hdr["entry"], sources, users)
    attributes = _attributes(
        out["entry"], users.filter(~odd_user), users.filter(odd_user)["line_no"], readings, lists_g, hdr
    )
    return out, attributes
