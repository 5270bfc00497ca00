"""ID normalization over a chunk-sized column: the canonical fast path gives what the full rules give."""

from __future__ import annotations

import polars as pl
import pytest

from parsers import ids

FORMS = [
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "4BF92F3577B34DA6A3CE929D0E0E4736",
    "0x4bf92f3577b34da6a3ce929d0e0e4736",
    " 4bf92f3577b34da6a3ce929d0e0e4736 ",
    "00000000000000000000000000000000",
    "53995c3f42cd8ad8",
    "00f067aa0ba902b7",
    "0000000000000000",
    "3577b34da6a3ce929d0e0e4736",
    "4bf92f3577b34da6a3ce929d0e0e4736ff",
    "not-hex-at-all",
    "N/A",
    "-",
    "",
    "0",
    None,
]


@pytest.mark.parametrize("width", [ids.TRACE_WIDTH, ids.SPAN_WIDTH])
def test_chunk_sized_column_matches_the_rules(width: int) -> None:
    values = pl.Series("v", FORMS * 200, dtype=pl.String)  # past the small-input shortcut
    assert ids._normalize_series(values, width).to_list() == ids._normalize_rules(values, width).to_list()


def test_chunk_of_canonical_ids_is_returned_as_is() -> None:
    values = pl.Series("v", [f"{i:032x}" for i in range(1, 3000)])
    assert ids._normalize_series(values, ids.TRACE_WIDTH).to_list() == values.to_list()
