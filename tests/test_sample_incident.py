"""End to end over sample_logs/: the pipeline's answers measured against ground_truth.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import ROOT, invoke

GOLDEN = ROOT / "tests" / "golden"


def _root_causes(out: Path) -> dict[tuple[str, int], dict[str, Any]]:
    con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)
    rows = con.sql("SELECT * FROM root_causes").to_arrow_table().to_pylist()
    con.close()
    return {(r["source_file"], r["source_line"]): r for r in rows}


def _cases(truth: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(fault["kind"], case) for fault in truth["faults"] for case in fault["cases"]]


def test_every_traced_fault_gets_the_true_root_cause_span(sample_out: Path, truth: dict[str, Any]) -> None:
    found = _root_causes(sample_out)
    traced = [(kind, c) for kind, c in _cases(truth) if c["sampled"]]
    assert len(traced) >= 10
    expected_reason = {"db_lock_wait": "error_origin", "upstream_timeout": "critical_path"}
    for kind, case in traced:
        symptom = case["symptom"]
        rc = found[(symptom["source_file"], symptom["source_line"])]
        want = case["root_cause"]
        assert (rc["root_span_id"], rc["root_service"], rc["root_name"]) == (
            want["span_id"],
            want["service"],
            want["name"],
        ), f"{kind} {case['trace_id']}"
        assert rc["reason"] == expected_reason[kind]
        assert rc["is_upstream_symptom"]
        assert rc["confidence"] >= 0.8


def test_sampled_out_faults_say_no_trace_and_rank_the_right_service(
    sample_out: Path, truth: dict[str, Any]
) -> None:
    found = _root_causes(sample_out)
    sampled_out = [c for _, c in _cases(truth) if not c["sampled"]]
    assert sampled_out
    for case in sampled_out:
        rc = found[(case["symptom"]["source_file"], case["symptom"]["source_line"])]
        assert rc["reason"] == "no_trace"
        assert rc["root_span_id"] is None
        assert rc["confidence"] <= 0.5
        assert rc["root_service"] == case["root_cause"]["service"]
        assert rc["evidence"] and rc["evidence"][0].startswith(
            "candidate 1: " + case["root_cause"]["service"]
        )


def test_lock_wait_cases_carry_the_slow_log_lock_evidence(sample_out: Path, truth: dict[str, Any]) -> None:
    found = _root_causes(sample_out)
    commented = [
        c
        for kind, c in _cases(truth)
        if kind == "db_lock_wait" and c["sampled"] and c["slow_log"]["has_comment"]
    ]
    assert commented
    for case in commented:
        rc = found[(case["symptom"]["source_file"], case["symptom"]["source_line"])]
        where = f"slow query {case['slow_log']['source_file']}:{case['slow_log']['source_line']}:"
        assert any(e.startswith(where) and "lock wait" in e for e in rc["evidence"]), rc["evidence"]
        assert rc["root_lock_ms"] > 100
        blocker = next(f["blocker"] for f in truth["faults"] if f["kind"] == "db_lock_wait")
        where = f"{blocker['source_file']}:{blocker['source_line']}:"
        expected = f"likely blocker (running across the lock wait) {where}"
        assert any(e.startswith(expected) and blocker["statement"] in e for e in rc["evidence"]), rc[
            "evidence"
        ]


def test_malformed_lines_land_in_rejects_with_a_reason(sample_out: Path, truth: dict[str, Any]) -> None:
    con = duckdb.connect(str(sample_out / "catalog.duckdb"), read_only=True)
    rejects = {
        (r[0], r[1]): r[2] for r in con.sql("SELECT source_file, source_line, reason FROM rejects").fetchall()
    }
    con.close()
    for bad in truth["malformed"]:
        reason = rejects.get((bad["source_file"], bad["source_line"]))
        assert reason, f"{bad['source_file']}:{bad['source_line']} not rejected"
    assert len(rejects) == len(truth["malformed"])


def test_the_1432_case_end_to_end(sample_out: Path, truth: dict[str, Any]) -> None:
    case = next(c for _, c in _cases(truth) if c["symptom"]["ts"].startswith("2026-11-17T14:32:05"))
    rc = _root_causes(sample_out)[(case["symptom"]["source_file"], case["symptom"]["source_line"])]
    assert rc["root_name"] == "UPDATE inventory" and rc["root_service"] == "inventory-service"
    assert rc["path"][0] == "order-service: POST /orders"
    assert rc["path"][-1] == "inventory-service: UPDATE inventory"


def test_investigate_lists_the_upstream_errors_of_the_minute(sample_out: Path, truth: dict[str, Any]) -> None:
    result = invoke(
        "investigate", "--at", "2026-11-17 14:32", "--service", "order-service", "--out", sample_out
    )
    assert result.exit_code == 0, result.stderr
    expected = _golden("investigate_1432.txt", result.output)
    assert result.output == expected
    assert "inventory-service  UPDATE inventory  error_origin" in result.output


def test_trace_waterfall_of_the_1432_case(sample_out: Path, truth: dict[str, Any]) -> None:
    case = next(c for _, c in _cases(truth) if c["symptom"]["ts"].startswith("2026-11-17T14:32:05"))
    result = invoke("trace", case["trace_id"], "--out", sample_out)
    assert result.exit_code == 0, result.stderr
    assert result.output == _golden("waterfall_1432.txt", result.output)
    marked = [line for line in result.output.splitlines() if "← root cause" in line]
    assert (
        len(marked) == 1 and "[inventory-service] UPDATE inventory" in marked[0] and "lock wait" in marked[0]
    )


@pytest.mark.parametrize(
    "name", ["root-causes", "upstream-errors", "slow-queries", "link-coverage", "clock-skew"]
)
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_reports_render_in_every_format(sample_out: Path, name: str, fmt: str) -> None:
    result = invoke("report", name, "--format", fmt, "--out", sample_out)
    assert result.exit_code == 0, result.stderr
    assert result.output.strip()
    if fmt == "table":
        assert result.output == _golden(f"report_{name}.txt", result.output)


def test_report_filters_by_time_and_service(sample_out: Path) -> None:
    result = invoke(
        "report",
        "upstream-errors",
        "--since",
        "2026-11-17 14:31",
        "--until",
        "2026-11-17 14:33",
        "--service",
        "order-service",
        "--format",
        "csv",
        "--out",
        sample_out,
    )
    rows = result.output.splitlines()[1:]
    assert rows and all(r.startswith("2026-11-17 14:3") and ",order-service," in r for r in rows)


def _golden(name: str, actual: str) -> str:
    """The expected text; with TRACEJOIN_UPDATE_GOLDEN=1 the file is (re)written from ``actual`` first."""
    import os

    path = GOLDEN / name
    if os.environ.get("TRACEJOIN_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    return path.read_text()


def test_trace_waterfall_of_a_timeout_marks_the_slow_callee(sample_out: Path, truth: dict[str, Any]) -> None:
    case = next(c for kind, c in _cases(truth) if kind == "upstream_timeout" and c["sampled"])
    result = invoke("trace", case["trace_id"], "--no-evidence", "--out", sample_out)
    assert result.exit_code == 0, result.stderr
    assert result.output == _golden("waterfall_timeout.txt", result.output)
    (marked,) = [line for line in result.output.splitlines() if "← root cause" in line]
    assert "[user-service] SELECT users" in marked and "self time on the critical path" in marked


@pytest.mark.parametrize("seed", [3, 11])
def test_other_generated_days_get_every_root_cause_right(tmp_path: Path, seed: int) -> None:
    """Not tuned to seed 17: other generated days give the true root cause for every fault case."""
    import json

    day, out = tmp_path / "day", tmp_path / "out"
    assert invoke("generate", day, "--seed", str(seed)).exit_code == 0
    assert invoke("run", day, "--out", out).exit_code == 0
    truth = json.loads((day / "ground_truth.json").read_text())
    found = _root_causes(out)
    for kind, case in _cases(truth):
        rc = found[(case["symptom"]["source_file"], case["symptom"]["source_line"])]
        if case["sampled"]:
            assert rc["root_span_id"] == case["root_cause"]["span_id"], (kind, case["trace_id"])
        else:
            assert (rc["reason"], rc["root_service"]) == ("no_trace", case["root_cause"]["service"])


def test_evaluate_measures_the_run_against_the_ground_truth(sample_out: Path) -> None:
    import json

    result = invoke(
        "evaluate",
        "--truth",
        ROOT / "sample_logs" / "ground_truth.json",
        "--out",
        sample_out,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.output)
    assert figures == json.loads((sample_out / "evaluation.json").read_text())
    lock, timeout = figures["kinds"]["db_lock_wait"], figures["kinds"]["upstream_timeout"]
    assert (lock["cases"], lock["traced_cases"], lock["no_trace_cases"]) == (12, 10, 2)
    assert lock["root_cause_top1_traced"] == lock["root_cause_top1_no_trace"] == 1.0
    assert lock["root_cause_top3_no_trace"] == 1.0
    assert (lock["query_link_precision"], lock["query_link_recall"], lock["slow_queries_in_truth"]) == (
        1.0,
        1.0,
        10,
    )
    assert (timeout["cases"], timeout["root_cause_top1_traced"]) == (2, 1.0)
    assert figures["overall"]["answered"] == 1.0


def test_evaluate_without_a_readable_truth_says_what_to_give(sample_out: Path, tmp_path: Path) -> None:
    result = invoke("evaluate", "--truth", tmp_path / "nope.json", "--out", sample_out)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot read the ground truth {tmp_path / 'nope.json'}")
    assert result.stderr.rstrip().endswith(
        "give the ground_truth.json that 'tracejoin generate' wrote beside the logs"
    )
