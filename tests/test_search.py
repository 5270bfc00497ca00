"""`tracejoin search`: attribute expressions become bound parameters, never SQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.search import compile_search
from tests.conftest import invoke


def test_keys_and_values_are_bound_parameters() -> None:
    where, params = compile_search(
        'item.id = "sku-789" and reservation.success = false or duration_ms >= 150'
    )
    assert "sku-789" not in where and "item.id" not in where
    assert params == {
        "k0": "item.id",
        "v0": "sku-789",
        "k1": "reservation.success",
        "v1": "false",
        "v2": 150.0,
    }
    assert where.count(" OR ") == 1 and "TRY_CAST(CAST(duration_ms AS VARCHAR) AS DOUBLE) >= $v2" in where


def _search(out: Path, *args: str) -> list[str]:
    result = invoke("search", *args, "--out", out, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    return result.output.splitlines()[1:]


def test_search_finds_the_lock_wait_spans_of_the_incident(sample_out: Path) -> None:
    rows = _search(sample_out, "name = 'UPDATE inventory' and status = ERROR and duration_ms > 150")
    assert len(rows) == 10  # the ten traced lock-wait cases of sample_logs/ground_truth.json
    assert all(",inventory-service,UPDATE inventory,CLIENT," in r for r in rows)
    assert rows[0].startswith("2026-11-17 14:32:05.011,3d62eb54a97e2f3ba09ec2dd34de46c7,")


def test_search_by_a_span_attribute_with_contains(sample_out: Path) -> None:
    rows = _search(
        sample_out, "db.statement ~ 'UPDATE INVENTORY' and service = inventory-service", "--limit", "2"
    )
    assert len(rows) == 2 and all("UPDATE inventory" in r for r in rows)


def test_quoted_sql_in_a_value_is_only_a_value(sample_out: Path) -> None:
    assert _search(sample_out, 'name = "x\' OR 1=1 --"') == []


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("service =", "a condition needs a key, an operator and a value"),
        ("service = a but name = b", "expected 'and' or 'or', found 'but'"),
        ("= a b", "expected key OP value near '='"),
        ("name = 'open", "cannot read"),
    ],
)
def test_a_bad_expression_is_one_line_with_an_example(sample_out: Path, expr: str, problem: str) -> None:
    result = invoke("search", expr, "--out", sample_out)
    assert result.exit_code == 1
    assert problem in result.stderr and 'e.g. item.id = "sku-789"' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
