"""Any slow log, cut anywhere the reader may cut it, parses to what it gives whole.

:mod:`tests.test_chunk_carry` checks the carried values one by one (MySQL's inherited ``use db;`` and
``# Time:``; PostgreSQL's statement and its late duration, a record and its parameters, a lock wait and its
record); here Hypothesis draws logs that mix them in every order: for PostgreSQL over three sessions, with
the entries that end a pair (another statement, a record) in between, continuation lines, stray lines and
an unreadable time, and the parameters' window shrunk to 3 entries so that its edge is crossed often; for
MySQL entries with and without each header line, server banners and administrator commands between them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import mysql_slow, postgres, postgres_chunks
from tests.test_chunk_carry import assert_cut_anywhere_is_whole, assert_tiny_blocks_are_whole

MESSAGES = [
    "LOG:  statement: UPDATE stock SET n = n - 1 WHERE sku = 'a'",
    "LOG:  execute S_1: SELECT * FROM t WHERE id = $1",
    "LOG:  duration: 12.500 ms  statement: SELECT 1",
    "LOG:  duration: 1.250 ms  execute <unnamed>: SELECT * FROM t WHERE id = $1",
    "LOG:  duration: 0.125 ms  bind S_1: SELECT * FROM t WHERE id = $1",
    "LOG:  duration: 0.100 ms  parse S_1: SELECT * FROM t WHERE id = $1",
    "LOG:  duration: 3.000 ms",
    "DETAIL:  parameters: $1 = '42'",
    "LOG:  process {pid} still waiting for ShareLock on transaction 9 after 1000.000 ms",
    "LOG:  process {pid} acquired ShareLock on transaction 9 after 1500.000 ms",
    "LOG:  checkpoint starting: time",
    "ERROR:  canceling statement due to lock timeout",
    "STATEMENT:  UPDATE stock SET n = 0",
]
# lines that are not an entry's first line: a statement's next line, a stray line (a reject), a blank
EXTRA = ["\tWHERE sku = 'b'", "garbage between entries", ""]


@st.composite
def entries(draw: st.DrawFn) -> list[str]:
    """An entry's lines: a first line (a session, a time that only goes forward by the draw's index, now and
    then unreadable) and, sometimes, a line that is not an entry's first."""
    pid = draw(st.sampled_from([101, 102, 103]))
    ms = draw(st.integers(0, 999))
    seconds = "99" if draw(st.integers(0, 19)) == 0 else "05"
    first = f"2026-11-17 14:32:{seconds}.{ms:03d} UTC [{pid}] app@shop " + draw(st.sampled_from(MESSAGES))
    more = draw(st.lists(st.sampled_from(EXTRA), max_size=1))
    return [first.format(pid=pid), *more]


@settings(max_examples=50, deadline=None)
@given(st.lists(entries(), min_size=2, max_size=14))
def test_any_stderr_log_cut_anywhere_parses_as_whole(log: list[list[str]]) -> None:
    lines = [line for entry in log for line in entry]
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(postgres_chunks, "PARAMS_WINDOW", 3)
        path = Path(tmp) / "pg.log"
        path.write_text("\n".join(lines) + "\n")
        assert_cut_anywhere_is_whole(postgres, path)
        assert_tiny_blocks_are_whole(postgres, path, range(40, 400, 90))


MYSQL_TIMES = ["# Time: 071015 21:43:52", "# Time: 2026-11-17T14:32:05.123456Z", "# Time: 071015 99:45:10"]
MYSQL_HEADERS = [
    "# User@Host: app[app] @ 10.0.0.1 []",
    "# User@Host: root[root] @ localhost []  Id:     7",
    "# Query_time: 2  Lock_time: 0  Rows_sent: 1  Rows_examined: 0",
    "# Query_time: 0.190512  Lock_time: 0.190000 Rows_sent: 0  Rows_examined: 1",
    "use shop;",
    "use other;",
    "SET timestamp=1192484710;",
]
MYSQL_BODIES = [
    ["select sleep(2) from n;"],
    ["UPDATE stock", "   SET n = n - 1 WHERE sku = 'a';"],
    ["# administrator command: Quit;"],
    ["/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:",
     "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock",
     "Time                 Id Command    Argument"],
    ["garbage that is no statement"],
]  # fmt: skip


@st.composite
def mysql_entries(draw: st.DrawFn) -> list[str]:
    """An entry: header lines (a time now and then, some of the others, in the order MySQL writes them) and
    a body (a statement, an administrator command, a server banner or junk)."""
    time = draw(st.lists(st.sampled_from(MYSQL_TIMES), max_size=1))
    headers = sorted(set(draw(st.lists(st.sampled_from(MYSQL_HEADERS), max_size=4))), key=MYSQL_HEADERS.index)
    return [*time, *headers, *draw(st.sampled_from(MYSQL_BODIES))]


@settings(max_examples=50, deadline=None)
@given(st.lists(mysql_entries(), min_size=2, max_size=10))
def test_any_mysql_slow_log_cut_anywhere_parses_as_whole(log: list[list[str]]) -> None:
    lines = [line for entry in log for line in entry]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "slow.log"
        path.write_text("\n".join(lines) + "\n")
        assert_cut_anywhere_is_whole(mysql_slow, path)
        assert_tiny_blocks_are_whole(mysql_slow, path, range(40, 400, 90))
