"""Streaming reader (chunking at record boundaries, compression) and config validation."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline import config, reader
from pipeline.errors import ConfigError


def _starts(lines: pl.Series) -> pl.Series:
    return lines.str.starts_with("2026")


def test_chunks_never_split_a_multi_line_record(tmp_path: Path) -> None:
    records = [f"2026-11-17 record {i}\n\tat frame {i}\n\tat frame {i}b" for i in range(2000)]
    path = tmp_path / "app.log"
    path.write_text("\n".join(records) + "\n")
    chunks = list(reader.iter_records(path, _starts, block_bytes=4096))
    assert len(chunks) > 10
    assert sum(len(c.lines) for c in chunks) == 6000
    for c in chunks:
        assert c.lines[0].startswith("2026")
        assert c.first_line % 3 == 1  # every chunk starts at a record's first line
    assert [c.first_line for c in chunks] == sorted(c.first_line for c in chunks)


def test_gzip_and_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "x.log.gz"
    path.write_bytes(gzip.compress(b"a\r\nb\r\nc"))
    chunks = list(reader.iter_chunks(path))
    assert [line for c in chunks for line in c.lines.to_list()] == ["a", "b", "c"]


def test_invalid_utf8_is_kept_with_replacement_characters(tmp_path: Path) -> None:
    path = tmp_path / "latin1.log"
    path.write_bytes("caf\xe9 ok\n".encode("latin-1"))
    (chunk,) = reader.iter_chunks(path)
    assert chunk.lines.to_list() == ["caf\ufffd ok"]


# pieces that make the reader's edge cases likely: CRLF, lone CR, blank lines, multi-byte characters (cut
# at block boundaries), invalid UTF-8, short lines (held inside a string view) and long ones
_PIECES = st.sampled_from(
    [
        b"\n",
        b"\r\n",
        b"\r",
        b"a",
        b"xyz",
        b"\xc3\xa9",
        b"\xe2\x82\xac",
        b"\xe9",
        b"\xff",
        b" ",
        b"0123456789abc",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60), st.integers(1, 40), st.booleans())
# a line "\r\r" whose line feed starts a block: only one carriage return goes
@example([b"\n"] * 6 + [b"\r\n"] * 5 + [b"\r", b"\r\n"], 17, True)
def test_lines_are_the_text_split_at_line_feeds(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes], block: int, bom: bool
) -> None:
    # the reference: decode (bad bytes replaced), split at "\n", one "\r" before it dropped; a final line
    # feed makes no empty line
    data = (b"\xef\xbb\xbf" if bom else b"") + b"".join(pieces)
    path = tmp_path_factory.mktemp("r") / "x.log"
    path.write_bytes(data)
    text = data.removeprefix(b"\xef\xbb\xbf")
    expected = (
        []
        if not text
        else [
            line.removesuffix("\r") for line in text.decode("utf-8", "replace").removesuffix("\n").split("\n")
        ]
    )
    chunks = list(reader.iter_chunks(path, block_bytes=block))
    assert [line for c in chunks for line in c.lines.to_list()] == expected
    assert [c.first_line for c in chunks] == [
        1 + sum(len(c.lines) for c in chunks[:i]) for i in range(len(chunks))
    ]


def test_config_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = tmp_path / "tj.toml"
    path.write_text('[[source]]\npath = "logs"\nservcie = "x"\n')
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert (
        err.value.one_line() == f"unknown key 'servcie' in [[source]] #1 of {path} — did you mean 'service'?"
    )


def test_config_bad_timezone_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "tj.toml"
    path.write_text('timezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'") as err:
        config.load(path)
    assert err.value.fix == "use an IANA name such as 'UTC' or 'Europe/Berlin'"


def test_config_sources_resolve_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "tj.toml"
    path.write_text('[[source]]\npath = "logs/*.log"\nservice = "billing"\ntimezone = "Europe/Berlin"\n')
    cfg = config.load(path)
    assert cfg.base_dir == tmp_path
    assert cfg.sources == (config.Source("logs/*.log", None, "billing", "Europe/Berlin"),)


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"msg": "a"}\n{"msg": "b"}\n')
    assert reader.read_head(path)[0] == '{"msg": "a"}'
    (chunk,) = reader.iter_chunks(path)
    assert chunk.lines.to_list() == ['{"msg": "a"}', '{"msg": "b"}']


def test_a_document_format_gets_the_whole_file_as_one_chunk(tmp_path: Path) -> None:
    path = tmp_path / "trace.json"
    path.write_text("{\n" + "".join(f'  "k{i}": {i},\n' for i in range(5000)) + '  "end": 0\n}\n')

    def only_line_one(lines: pl.Series) -> pl.Series:
        return (
            pl.Series([False] * len(lines))
            if lines[0] != "{"
            else pl.Series([True] + [False] * (len(lines) - 1))
        )

    chunks = list(reader.iter_records(path, only_line_one, block_bytes=1024))
    assert len(chunks) == 1 and chunks[0].first_line == 1 and len(chunks[0].lines) == 5003


def test_record_start_sees_the_previous_line_across_blocks(tmp_path: Path) -> None:
    # a record starts at "B" only when the line before it is not "A" (as slow-log headers do)
    path = tmp_path / "x.log"
    path.write_text("A\nB\nx\nB\nx\n" * 400)

    def starts(lines: pl.Series) -> pl.Series:
        return lines.to_frame("l").select(
            (pl.col("l") == "A") | ((pl.col("l") == "B") & (pl.col("l").shift(1) != "A"))
        )["l"]

    chunks = list(reader.iter_records(path, starts, block_bytes=37))
    assert sum(len(c.lines) for c in chunks) == 2000
    for c in chunks:
        assert c.lines[0] in ("A", "B") and not (c.lines[0] == "B" and c.first_line % 5 == 2)


def _inside_pairs(lines: pl.Series) -> pl.Series:
    """Every line starts a record except those after an "open" up to its "close" (or the end of the lines)."""
    opened, closed = ((pl.col("l") == w).cast(pl.Int32).cum_sum() for w in ("open", "close"))
    df = lines.to_frame("l").with_columns(depth=opened - closed)
    return df.select(~((pl.col("depth") > 0) | (pl.col("l") == "close")))["depth"]


def test_record_start_sees_every_line_held_back_since_the_last_cut(tmp_path: Path) -> None:
    # PostgreSQL's statement and its duration come with other lines between them: a pair must stay in one
    # chunk however small the blocks, so record_start must see the open line although it was read blocks ago
    path = tmp_path / "x.log"
    path.write_text("x\nopen\nx\nx\nx\nclose\n" * 50)
    for block in (3, 7, 13, 40):
        chunks = list(reader.iter_records(path, _inside_pairs, block_bytes=block))
        assert sum(len(c.lines) for c in chunks) == 300
        for c in chunks:
            assert (c.lines == "open").sum() == (c.lines == "close").sum(), (block, c.first_line)
    # past hold_bytes held, only the last held line is shown: bounded work, and a pair may be split
    chunks = list(reader.iter_records(path, _inside_pairs, block_bytes=3, hold_bytes=0))
    assert any((c.lines == "open").sum() != (c.lines == "close").sum() for c in chunks)
