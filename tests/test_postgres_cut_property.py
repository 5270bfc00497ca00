"""Any PostgreSQL stderr log, cut anywhere the reader may cut it, parses to what it gives whole.

:mod:`tests.test_chunk_carry` checks the pairs one by one (a statement and its late duration, a record and
its parameters, a lock wait and its record); here Hypothesis draws logs that mix them in every order over
three sessions, with the entries that end a pair (another statement, a record) in between, continuation
lines, stray lines and an unreadable time, and the parameters' window shrunk to 3 entries so that its edge
is crossed often.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import postgres, postgres_chunks
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
