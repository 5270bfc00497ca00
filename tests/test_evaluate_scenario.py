"""Issue 4's acceptance figures, on a generated day with every fault kind (small here; full size in
``bench/scenario.py``): generate → run → evaluate, and each figure must meet its target.

Targets: log links with IDs in the line — precision and recall 100%; log links without any ID — precision
≥ 99%; query links precision ≥ 99%, recall ≥ 95%; root cause top-1 ≥ 99% where the trace has spans; no-trace
root-cause service in the top 3 for ≥ 90%.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.generate.engine import GROUND_TRUTH, ScenarioParams, generate_scenario
from tests.conftest import invoke

PARAMS = ScenarioParams(seed=11, traces=3000)


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("evaluate")
    logs, out = base / "logs", base / "out"
    generate_scenario(logs, PARAMS)
    result = invoke("run", logs, "--out", out)
    assert result.exit_code == 0, result.stderr
    result = invoke("evaluate", "--truth", logs / GROUND_TRUTH, "--out", out, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.output))


def test_every_fault_kind_is_measured(figures: dict[str, Any]) -> None:
    kinds = set(figures["kinds"]) - {"none"}
    assert kinds == {
        "async_error",
        "circuit_breaker",
        "downstream_exception",
        "fanout",
        "lock_wait",
        "pool_exhaustion",
        "retry_timeout",
        "slow_query",
    }
    assert all(
        figures["kinds"][k]["traced_cases"] >= 5 and figures["kinds"][k]["no_trace_cases"] for k in kinds
    )


@pytest.mark.parametrize("form", ["span_id", "trace_id"])
def test_log_lines_with_ids_are_placed_exactly(figures: dict[str, Any], form: str) -> None:
    links = figures["overall"]["log_links"][form]
    assert links["expected"] > 1000
    assert (links["precision"], links["recall"]) == (1.0, 1.0), links


def test_log_lines_without_ids_are_placed_only_when_sure(figures: dict[str, Any]) -> None:
    links = figures["overall"]["log_links"]["none"]
    assert links["linked"] > 500
    assert links["precision"] >= 0.99, links


def test_slow_queries_are_placed_on_their_database_span(figures: dict[str, Any]) -> None:
    for form in ("comment", "no_comment"):
        links = figures["overall"]["query_links"][form]
        assert links["expected"] > 20
        assert links["precision"] >= 0.99 and links["recall"] >= 0.95, (form, links)


def test_root_causes_meet_their_targets(figures: dict[str, Any]) -> None:
    overall = figures["overall"]
    assert overall["root_cause_top1_traced"] >= 0.99
    assert overall["root_cause_top3_no_trace"] >= 0.9
    for kind, fig in figures["kinds"].items():
        if kind != "none":
            assert fig["root_cause_top1_traced"] >= 0.95, kind


def test_every_error_line_is_answered(figures: dict[str, Any]) -> None:
    assert figures["overall"]["error_lines"] > 300
    assert figures["overall"]["error_lines_answered"] >= 0.99
