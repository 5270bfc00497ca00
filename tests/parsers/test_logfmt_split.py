"""logfmt's split path: which lines it takes, and that it reads them as the pair regex does."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import logfmt

# short lines over the characters that decide the path: quotes, "=", blanks, escapes
LINES = st.lists(st.text(alphabet='ab="  \\\té', max_size=24), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(LINES)
def test_split_path_takes_exactly_the_lines_the_simple_pattern_matches(lines: list[str]) -> None:
    series = pl.Series(lines, dtype=pl.String)
    simple = logfmt._simple_rows(series, logfmt._segments(series))
    assert simple.to_list() == series.str.contains(logfmt._SIMPLE).to_list()


@settings(max_examples=150, deadline=None)
@given(LINES)
def test_pairs_keep_line_order_across_both_paths(lines: list[str]) -> None:
    series = pl.Series([line for line in lines if line.strip()] or ["a=b"], dtype=pl.String)
    pairs = logfmt._pairs(series)
    rows = pairs["row"].to_list()
    assert rows == sorted(rows)
    simple = series.str.contains(logfmt._SIMPLE)
    for row, line in enumerate(series.to_list()):
        mine = pairs.filter(pl.col("row") == row).select("key", "value").rows()
        if simple[row]:
            split = logfmt._pairs_split(logfmt._segments(pl.Series([line])))
            assert mine == split.select("key", "value").rows()
        else:
            regex = logfmt._pairs_regex(pl.Series([line]), pl.Series([0], dtype=pl.UInt32))
            assert mine == regex.select("key", "value").rows()


def test_a_quoted_value_is_taken_by_the_key_before_it() -> None:
    pairs = logfmt._pairs(pl.Series(['a=1 msg="x y" b', 'k="" z="=" bad="x"y', 'e=""']))
    assert pairs.rows() == [
        (0, "a", "1"),
        (0, "msg", "x y"),
        (0, "b", None),
        (1, "k", ""),
        (1, "z", "="),
        (1, "bad", "x"),
        (1, "y", None),
        (2, "e", ""),
    ]
