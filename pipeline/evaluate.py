"""Measure a finished run against a generator's ground_truth.json: is the answer right, per fault kind?

Root cause: top-1 = the root-cause span is the true one (traced faults) or, without spans, the root service
is the true service; top-3 (no_trace only) = the true service is among the three best candidates.
Query links: for the slow-log entries the truth names, precision and recall of the span they were placed on.
Answered: the share of symptom lines that got a root cause at all.

With per-record truth (``records`` in ground_truth.json names a Parquet file: every log record's and slow
query's true trace and span), links are measured on every record, per fault kind of the record's trace and
per ID form (``span_id``: the line carries both IDs, ``trace_id``: only the trace ID, ``none``: no ID; slow
queries ``comment``/``no_comment``): precision = right links / links made, recall = right links / records
whose true span was exported. And every error line counts for "answered", not only each case's symptom.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

from pipeline import sqlfiles
from pipeline.catalog import open_catalog
from pipeline.correlate import quote
from pipeline.errors import ConfigError


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def load_truth(path: Path) -> dict[str, Any]:
    try:
        truth = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the ground truth {path}: {exc}",
            "give the ground_truth.json that 'tracejoin generate' wrote beside the logs",
        ) from exc
    if not isinstance(truth, dict) or "faults" not in truth:
        raise ConfigError(
            f"{path} has no 'faults'", "give the ground_truth.json written by 'tracejoin generate'"
        )
    return truth


def evaluate(out: Path, truth_path: Path) -> dict[str, Any]:
    """Figures per fault kind (and overall) for the run in ``out``."""
    truth = load_truth(truth_path)
    records = _records_path(truth, truth_path)
    con = open_catalog(out)
    try:
        by_record = _record_figures(con, records) if records else {}
        causes = {
            (r["source_file"], r["source_line"]): r
            for r in con.sql(
                "SELECT source_file, source_line, root_span_id, root_service, reason, candidate_services "
                "FROM root_causes"
            )
            .to_arrow_table()
            .to_pylist()
        }
        links = {
            (r[0], r[1]): (r[2], r[3])
            for r in con.sql("SELECT source_file, source_line, span_id, method FROM query_links").fetchall()
        }
    finally:
        con.close()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for fault in truth["faults"]:
        kind = fault["kind"]
        for case in fault["cases"]:
            _score_case(counts[kind], case, causes, links)
    kinds = {kind: _figures(c) | by_record.get(kind, {}) for kind, c in sorted(counts.items())}
    for kind in by_record.keys() - kinds.keys() - {"all"}:  # background traffic: kind 'none'
        kinds[kind] = by_record[kind]
    total: dict[str, int] = defaultdict(int)
    for c in counts.values():
        for key, value in c.items():
            total[key] += value
    return {
        "truth": str(truth_path),
        "kinds": dict(sorted(kinds.items())),
        "overall": _figures(total) | by_record.get("all", {}),
    }


def _records_path(truth: dict[str, Any], truth_path: Path) -> Path | None:
    name = truth.get("records")
    if not name:
        return None
    path = truth_path.parent / str(name)
    if not path.is_file():
        raise ConfigError(
            f"the ground truth names {name} for its per-record truth, but {path} is missing",
            "keep the files 'tracejoin generate' wrote together",
        )
    return path


def _record_figures(con: duckdb.DuckDBPyConnection, records: Path) -> dict[str, dict[str, Any]]:
    """Per fault kind ('all': every kind): link figures per record type and ID form, error lines answered."""
    con.execute(f"CREATE TEMP VIEW truth_records AS SELECT * FROM read_parquet({quote(records)})")
    figures: dict[str, dict[str, Any]] = defaultdict(dict)
    for kind, record, form, n, expected, linked, right in con.sql(
        sqlfiles.load_sql("evaluate/links")
    ).fetchall():
        key = "log_links" if record == "log" else "query_links"
        figures[kind or "all"].setdefault(key, {})[form] = {
            "records": n,
            "expected": expected,
            "linked": linked,
            "right": right,
            "precision": _ratio(right, linked),
            "recall": _ratio(right, expected),
        }
    for kind, lines, answered in con.sql(sqlfiles.load_sql("evaluate/answered")).fetchall():
        figures[kind or "all"] |= {"error_lines": lines, "error_lines_answered": _ratio(answered, lines)}
    return dict(figures)


def _score_case(
    c: dict[str, int], case: dict[str, Any], causes: dict[Any, Any], links: dict[Any, Any]
) -> None:
    symptom, want = case["symptom"], case["root_cause"]
    rc = causes.get((symptom["source_file"], symptom["source_line"]))
    c["cases"] += 1
    c["answered"] += bool(rc and rc["root_service"])
    if case["sampled"]:
        c["traced"] += 1
        c["traced_top1"] += bool(rc and rc["root_span_id"] == want["span_id"])
    else:
        c["no_trace"] += 1
        c["no_trace_top1"] += bool(
            rc and rc["reason"] == "no_trace" and rc["root_service"] == want["service"]
        )
        c["no_trace_top3"] += bool(rc and want["service"] in (rc["candidate_services"] or [])[:3])
    slow = case.get("slow_log")
    if slow and case["sampled"]:
        c["queries"] += 1
        got = links.get((slow["source_file"], slow["source_line"]))
        if got is not None:
            c["query_links"] += 1
            c["query_links_right"] += got[0] == want["span_id"]


def _figures(c: dict[str, int]) -> dict[str, Any]:
    return {
        "cases": c["cases"],
        "answered": _ratio(c["answered"], c["cases"]),
        "root_cause_top1_traced": _ratio(c["traced_top1"], c["traced"]),
        "traced_cases": c["traced"],
        "root_cause_top1_no_trace": _ratio(c["no_trace_top1"], c["no_trace"]),
        "root_cause_top3_no_trace": _ratio(c["no_trace_top3"], c["no_trace"]),
        "no_trace_cases": c["no_trace"],
        "query_link_precision": _ratio(c["query_links_right"], c["query_links"]),
        "query_link_recall": _ratio(c["query_links_right"], c["queries"]),
        "slow_queries_in_truth": c["queries"],
    }
