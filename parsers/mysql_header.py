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

from parsers import mysql_pairs
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
    users = hdr.filter(line.str.contains("# User", literal=True)).filter(line.str.contains(USER_MARK))
    read = (
        users.select("line")
        .unique()
        .with_columns(
            u=line.str.extract_groups(_USER).struct.rename_fields(list(_USER_FIELDS)),
            **mysql_pairs.regex_fields(line),
        )
        .unnest("u")
        .with_columns(pl.col(_USER_FIELDS).str.strip_chars())
    )
    users = users.join(read, on="line", how="left", maintain_order="left").drop("line")
    host = pl.col("client_hostname")
    return users.with_columns(
        host=pl.when(host != "").then(host),
        text=pl.concat_str(
            pl.lit("Id: ") + pl.col("conn"),
            pl.when(host != "").then(pl.lit("Host: ") + host),
            separator=" ",
            ignore_nulls=True,
        ),
    )


def _times(hdr: pl.DataFrame) -> pl.DataFrame:
    """``# Time:`` lines: ``line_no``, ``entry``, ``time_raw``, and the column values of the rare time line
    that has any."""
    line = pl.col("line")
    times = hdr.select("line_no", "entry", time_raw=line.str.extract(_TIME, 1))
    worded = hdr.filter(line.str.contains_any(_COLUMN_WORDS))
    if not worded.height:
        return times
    fields = worded.select("line_no", **mysql_pairs.regex_fields(line))
    return times.join(fields, on="line_no", how="left", maintain_order="left")


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
    other pair line. Their attributes are made entry by entry in one pass (no lists per line to merge)."""
    main = max(readings, key=lambda r: r.frame.height)
    rest = [r.frame["entry"] for r in readings if r is not main]
    others = pl.concat([others, *rest]) if rest else others
    entry = pl.col("entry")
    u = users.select("entry", u_line="line_no", conn="conn", host="host").filter(entry.is_unique())
    t = main.frame.rename({"line_no": "t_line"}).filter(entry.is_unique())
    shaped = u.join(t, on="entry", maintain_order="left").filter(
        (pl.col("u_line") < pl.col("t_line")) & ~entry.is_in(others.implode())
    )
    return shaped, main


def _attributes(
    entries: pl.Series,
    users: pl.DataFrame,
    odd_users: pl.Series,
    readings: list[Reading],
    general: Lists,
    hdr: pl.DataFrame,
) -> pl.Series:
    """Every entry's attributes (``list[struct{key, value}]``), in entry order."""
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
            pairs = [("Id", pl.col("conn")), ("Host", pl.col("host")), *main.pairs]
            parts.append(
                (
                    shaped["entry"].to_numpy(),
                    mysql_pairs.kv_lists(shaped.rename({"t_line": "line_no"}), pairs).lists,
                )
            )
    done = shaped["entry"] if shaped.height else pl.Series("entry", [], dtype=pl.UInt32)
    if len(done) < len(ids):
        is_done = pl.col("entry").is_in(done.implode())
        lines = mysql_pairs.merge(
            [
                mysql_pairs.kv_lists(
                    users.filter(~is_done), [("Id", pl.col("conn")), ("Host", pl.col("host"))]
                ),
                *(Reading(r.frame.filter(~is_done), r.pairs).lists() for r in readings),
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
        return pl.Series("attributes", Lists.empty().lists)
    if len(parts) == 1 and np.array_equal(parts[0][0], ids):
        return pl.Series("attributes", parts[0][1])
    order = np.argsort(np.concatenate([p[0] for p in parts]), kind="stable")
    combined = pa.concat_arrays([p[1] for p in parts]).take(pa.array(order))
    return pl.Series("attributes", combined)


def entries(hdr: pl.DataFrame) -> pl.DataFrame:
    """Header lines (``line_no``, ``line``, ``entry``) -> one row per entry: ``time_raw``, the user columns,
    the column values, ``bad_user_line`` and ``attributes`` (``list[struct{key, value}]``, in line order)."""
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
    facts = pl.concat(
        [
            times,
            users.select("line_no", "entry", *_USER_FIELDS[:3], *FIELDS, user_line=pl.lit(True)),
            facts_t,
            facts_g.filter(~pl.col("line_no").is_in(users["line_no"].implode()))
            if facts_g.height
            else facts_g,
        ],
        how="diagonal",
    ).sort("line_no")
    first = ("time_raw", *FIELDS, "user_name", "client_ip", "client_hostname")
    out = facts.group_by("entry", maintain_order=True).agg(
        (pl.col("user_line").fill_null(False) & pl.col("user_name").is_null()).any().alias("bad_user_line"),
        *(pl.col(k).drop_nulls().first() for k in first),
    )
    attributes = _attributes(
        out["entry"], users.filter(~odd_user), users.filter(odd_user)["line_no"], readings, lists_g, hdr
    )
    return out.with_columns(attributes)
