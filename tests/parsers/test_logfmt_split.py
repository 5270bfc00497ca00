"""logfmt's split path: which lines it takes, and that it reads them as the pair regex does."""

from __future__ import annotations

import numpy as np
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


def _split_reference(lines: pl.Series) -> list[tuple[int, str, str | None]]:
    """The pairs of simple lines as polars string splits read them: the line cut at its quotes, the pieces
    outside quotes cut at blanks, a key up to its first "=" (a bare word is all key), the last token before
    a quote taking the quoted text."""
    segs = pl.DataFrame({"text": lines.str.split('"')}).with_row_index("row")
    n = pl.col("text").list.len().cast(pl.Int64)
    segs = segs.with_columns(start=n.cum_sum() - n, last=n - 1).explode("text")
    segs = segs.with_columns(k=pl.int_range(pl.len(), dtype=pl.Int64) - pl.col("start")).with_row_index("seg")
    text = pl.col("text")
    tokens = (
        segs.filter(pl.col("k") % 2 == 0)
        .select("row", "seg", text.str.split(" "), quoted_next=pl.col("k") < pl.col("last"))
        .explode("text")
        .filter(text != "")
        .with_columns(kv=text.str.splitn("=", 2))
        .select(
            "row",
            "seg",
            pl.col("kv").struct.field("field_0").alias("key"),
            pl.col("kv").struct.field("field_1").alias("value"),
            (pl.col("quoted_next") & (pl.col("seg") != pl.col("seg").shift(-1)).fill_null(True)).alias("end"),
        )
    )
    quoted = segs.select((pl.col("seg") - 1).alias("seg"), pl.col("text").alias("quoted"))
    tokens = tokens.join(quoted, on="seg", how="left", maintain_order="left")
    value = pl.when(pl.col("end")).then(pl.col("quoted")).otherwise(pl.col("value"))
    return tokens.select(pl.col("row").cast(pl.Int64), "key", value).rows()


# keys around the byte scan's limits: 8 and 16 bytes read at a time, aliases longer than 8 bytes and keys
# that differ from one only after them, NUL bytes (a key is compared with its length), non-ASCII keys
SHORT = [" ", "  ", "=", "==", '"', "a", "é", "\x00", "=v", '="q r"', "ts", "msg", "x" * 13]
KEYS = ["trace_id", "trace_idx", "timestamp", "service.name", "service.namX", "hostname", "component"]
PIECES = st.sampled_from([*SHORT, *KEYS, "a_key_longer_than_16"])
KEYED_LINES = st.lists(st.lists(PIECES, max_size=14).map("".join), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(KEYED_LINES)
def test_byte_scan_reads_simple_lines_as_the_string_splits(lines: list[str]) -> None:
    series = pl.Series(lines, dtype=pl.String)
    simple = logfmt._simple_rows(series, logfmt._segments(series)).to_numpy()
    assert simple.tolist() == series.str.contains(logfmt._SIMPLE).to_list()
    mine = logfmt._pairs_split(logfmt._segments(series)).rows()
    rows = [i for i, s in enumerate(simple) if s]
    reference = _split_reference(series.gather(rows)) if rows else []
    assert mine == [(rows[r], k, v) for r, k, v in reference]


@settings(max_examples=100, deadline=None)
@given(KEYED_LINES)
def test_columns_take_the_aliases_by_their_whole_key(lines: list[str]) -> None:
    series = pl.Series(lines, dtype=pl.String)
    pairs = logfmt._pairs(series)
    cols, made = logfmt._columns(*logfmt._long(series), len(series))
    bags = made.build(None).to_pylist()
    for row in range(len(series)):
        mine = pairs.filter(pl.col("row") == row).select("key", "value").rows()
        expected: dict[str, str | None] = {}
        taken: set[int] = set()
        for column, keys in logfmt.ALIASES.items():
            for key in keys:  # the first alias, then its first pair, wins
                at = next((i for i, (k, _) in enumerate(mine) if k == key), None)
                if at is not None:
                    expected[column] = mine[at][1]
                    taken.add(at)
                    break
        assert {c: cols[c][row] for c in logfmt.ALIASES if cols[c][row] is not None} == {
            c: v for c, v in expected.items() if v is not None
        }
        rest = [(k, v or "") for i, (k, v) in enumerate(mine) if i not in taken]
        assert bags[row] == rest
        assert cols["pairs"][row] == sum(v is not None for _, v in mine)


def test_regex_lines_interleave_with_the_byte_scans() -> None:
    long_value = "v" * 40
    lines = [
        f"ts=1 a_key_longer_than_16={long_value} msg=one",
        f'ts=2 err="escaped \\"{long_value}\\"" another_long_key_name=x msg=two',
        "ts=3\tlevel=info\ttabbed_key_of_some_length=y",
        f'ts=4 service.name=checkout k="{long_value}"',
    ]
    cols, bags = logfmt._columns(*logfmt._long(pl.Series(lines)), len(lines))
    attributes = bags.build(None)
    assert cols["message"].to_list() == ["one", "two", None, None]
    assert cols["service"].to_list() == [None, None, None, "checkout"]
    assert cols["level"].to_list() == [None, None, "info", None]
    assert attributes.to_pylist() == [
        [("a_key_longer_than_16", long_value)],
        [("err", f'escaped "{long_value}"'), ("another_long_key_name", "x")],
        [("tabbed_key_of_some_length", "y")],
        [("k", long_value)],
    ]


def test_no_line_or_blank_lines_only() -> None:
    for lines in ([], ["", "   ", "  "]):
        series = pl.Series(lines, dtype=pl.String)
        assert logfmt._pairs(series).height == 0
        cols, bags = logfmt._columns(*logfmt._long(series), len(series))
        attributes = bags.build(None)
        assert cols.height == len(lines) and attributes.to_pylist() == [[] for _ in lines]


@given(KEYED_LINES, st.data())
def test_bags_built_for_some_lines_are_those_lines_bags(lines: list[str], data: st.DataObject) -> None:
    # the parser builds the bags of the lines that become records only; they must be those lines' bags
    series = pl.Series(lines, dtype=pl.String)
    _, bags = logfmt._columns(*logfmt._long(series), len(series))
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines))), dtype=bool)
    whole = bags.build(None).to_pylist()
    assert bags.build(keep).to_pylist() == [bag for bag, k in zip(whole, keep, strict=True) if k]
