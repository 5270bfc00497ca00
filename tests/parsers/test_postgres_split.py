"""PostgreSQL's line and message cuts read lines as the whole-line regexes they replace.

The parser cuts an entry's first line at its severity token and reads only the short heads with captures
(:func:`parsers.postgres_prefix.line_fields`, the heads in :func:`parsers.postgres_records._classify`); the
regexes that capture the whole line (``LINE``, ``_PREFIX_SEV``, ``_DURATION``, ``_STATEMENT``, ``_PARAMS``)
stay the definition. These tests build lines from the pieces that decide a cut (times, zones, prefixes with
the delimiters before a severity, severity words in odd places, blanks, non-ASCII text) and compare.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import postgres, postgres_prefix, postgres_records

TIMES = st.sampled_from(
    ["2026-11-17 14:32:05", "2026-11-17 14:32:05.123", "2026-11-17T14:32:05,5", "< 2026-11-17 14:32:05.1"]
)
ZONES = st.sampled_from(["", " UTC", " CET", " +02", " -0530", "+02:00", " LOG", " INFO", " db", " ABCDEF"])
PIECES = st.sampled_from(
    [" ", ":", "]", ">", "[", "[4711]", " [4711] ", "app@shop", " user=ü,db=d ", ":10.0.0.1(5432):",
     "LOG", "LOG:", "INFO:x", " DEBUG1", "é", "\t", "[unknown]", "=", ","]
)  # fmt: skip
SEVERITIES = st.sampled_from(
    ["LOG", "ERROR", "DETAIL", "DEBUG1", "DEBUG", "STATEMENT", "HINT", "LOGX", "log"]
)
BLANKS = st.sampled_from([" ", "  ", "\t", " \t ", ""])
MESSAGES = st.lists(
    st.sampled_from(
        ["duration: 1.5 ms", " ", "statement: ", "SELECT 1", "LOG:  again", "é", "ü:", "\t", ":", "x", "]"]
    ),
    max_size=6,
).map("".join)


@st.composite
def first_lines(draw: st.DrawFn) -> str:
    """An entry's first line (one line: no line feed): a time (mostly), a zone, prefix pieces, a severity,
    blanks, a message."""
    time = draw(TIMES) if draw(st.integers(0, 9)) else ""
    prefix = "".join(draw(st.lists(PIECES, max_size=5)))
    return time + draw(ZONES) + prefix + draw(SEVERITIES) + ":" + draw(BLANKS) + draw(MESSAGES)


def _by_regex(lines: list[str], pattern: str, names: list[str]) -> list[dict[str, str | None]]:
    frame = pl.DataFrame({"line": pl.Series(lines, dtype=pl.String)}).select(
        pl.col("line").str.extract_groups(pattern).struct.rename_fields(names)
    )
    return frame.unnest("line").to_dicts()


_LINE_COLUMNS = ["ts_text", "zone", "after_zone", "rest", "sev", "msg1"]


@settings(max_examples=300, deadline=None)
@given(st.lists(first_lines(), min_size=1, max_size=30))
def test_line_fields_read_what_the_line_regexes_read(lines: list[str]) -> None:
    # absurd, left out (PostgreSQL writes a zone and a blank or a delimiter between): a severity right after
    # the time ("14:32:05LOG:  ") or after the zone and ':' with one more character ("UTC:xLOG:  "), which
    # the regex reads and the cut does not (a reject: the explicit example below), and a zone directly
    # followed by ':' and a severity ("UTC:LOG:  "), where the regex takes the zone and looks for a later
    # severity
    lines = [line for line in lines if not _absurd(line)]
    got = postgres_prefix.line_fields(pl.DataFrame({"line": pl.Series(lines, dtype=pl.String)}), "line")
    want = _by_regex(lines, postgres_prefix.LINE, _LINE_COLUMNS)
    assert got.select(_LINE_COLUMNS).to_dicts() == want
    any_cut = _by_regex(lines, postgres._PREFIX_SEV, ["pre", "any_sev", "any_msg"])
    assert got.select("pre", "any_sev", "any_msg").to_dicts() == any_cut


def _absurd(line: str) -> bool:
    zone, severities = postgres_records.ZONE, postgres_prefix.SEVERITIES
    lead = rf"^{postgres_prefix._LEAD_TS}(?: ?(?:{zone}):[^ \t]?)?(?:{severities}):"
    return bool(pl.Series([line]).str.contains(lead).item())


def test_a_severity_right_after_the_time_is_no_entry_line() -> None:
    line = "2026-11-17 14:32:05LOG:  statement: SELECT 1"
    got = postgres_prefix.line_fields(pl.DataFrame({"line": [line]}), "line")
    assert got["sev"].to_list() == [None]


def test_a_zone_followed_by_a_colon_and_a_severity_is_cut_at_that_severity() -> None:
    # log_line_prefix = '%t:' — the regex took "UTC" for the zone and its ":L" for the character after it,
    # then found the severity in the SQL; the cut is at the first severity token
    line = "2026-11-17 14:32:05 UTC:LOG:  statement: SELECT 'x LOG:  y'"
    got = postgres_prefix.line_fields(pl.DataFrame({"line": [line]}), "line").row(0, named=True)
    assert (got["ts_text"], got["zone"], got["sev"]) == ("2026-11-17 14:32:05", None, "LOG")
    assert got["msg1"] == "statement: SELECT 'x LOG:  y'"


STEPS = st.sampled_from(["statement", "execute", "parse", "bind", "fastpath function call", "exec", ""])
NAMES = st.sampled_from(["", " <unnamed>", " S_1", " a:b", " é", " \n x", " "])
TAILS = st.sampled_from(["", " ", ":", ": ", ":\t", ":SELECT 1", ": SELECT é\nFROM t", "x", ":  x $1"])


@st.composite
def messages(draw: st.DrawFn) -> str:
    """A message: a duration (with or without a step), a statement, parameters or something else."""
    step = draw(STEPS) + draw(NAMES) + draw(TAILS)
    number = draw(st.sampled_from(["1", "1.5", "0.001", "1.", "x"]))
    duration = f"duration: {number} ms" + draw(st.sampled_from(["", " ", "  ", "\t", " ms"]))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return duration + (step if draw(st.booleans()) else "")
    if kind == 1:
        return step
    if kind == 2:
        return "parameters: " + draw(TAILS)
    return draw(st.sampled_from(["", "parameters:", "Parameters: x", "process 12 still waiting"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(messages(), min_size=1, max_size=30))
def test_message_heads_read_what_the_message_regexes_read(msgs: list[str]) -> None:
    frame = pl.DataFrame({"msg": msgs, "detail": msgs, "sev": ["LOG"] * len(msgs)})
    got = postgres_records._classify(frame)
    duration = _by_regex(msgs, postgres_records._DURATION, ["dur", "d_step", "d_name", "d_text"])
    statement = _by_regex(msgs, postgres_records._STATEMENT, ["s_step", "s_name", "s_text"])
    assert got.select("dur", "d_step", "d_name", "d_text").to_dicts() == duration
    assert got.select("s_step", "s_name", "s_text").to_dicts() == statement
    params = pl.Series(msgs).str.extract(postgres_records._PARAMS, 1).to_list()
    assert got["p_text"].to_list() == params
    assert got["params_same"].to_list() == params
