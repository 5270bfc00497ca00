"""The root-cause rule (DESIGN §6) on small, exact scenarios built without parsers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.correlate import correlate
from tests.builders import log, query, sid, span, stage, tid

UPDATE = "update inventory set reserved = reserved + ? where sku = ?"
EXC = [
    {
        "ts": None,
        "name": "exception",
        "attributes": {
            "exception.type": "java.net.SocketTimeoutException",
            "exception.message": "Read timed out",
        },
    }
]


def _checkout(trace: int, *, db_error: bool = True, db_ms: float = 190.0) -> list[dict[str, Any]]:
    """order POST /orders -> client -> inventory server -> DB UPDATE (error optional)."""
    base = trace * 100
    status = "ERROR" if db_error else "OK"
    return [
        span(
            trace,
            base + 1,
            None,
            "order-service",
            "POST /orders",
            0,
            245,
            kind="SERVER",
            status=status,
            http_status=502 if db_error else 200,
        ),
        span(
            trace,
            base + 2,
            base + 1,
            "order-service",
            "HTTP POST /inventory/reserve",
            45,
            240,
            kind="CLIENT",
            status=status,
            http_status=500 if db_error else 200,
        ),
        span(
            trace,
            base + 3,
            base + 2,
            "inventory-service",
            "POST /inventory/reserve",
            46,
            239,
            kind="SERVER",
            status=status,
            http_status=500 if db_error else 200,
        ),
        span(
            trace,
            base + 4,
            base + 3,
            "inventory-service",
            "UPDATE inventory",
            48,
            48 + db_ms,
            kind="CLIENT",
            status=status,
            db_system="mysql",
            db_statement="UPDATE inventory SET reserved = reserved + ? WHERE sku = ?",
            db_fingerprint=UPDATE,
            status_message="Error 1213: Deadlock found" if db_error else None,
        ),
    ]


def _run(tmp_path: Path, **staged: Any) -> list[dict[str, Any]]:
    stage(tmp_path, **staged)
    correlate(tmp_path)
    con = duckdb.connect(str(tmp_path / "catalog.duckdb"), read_only=True)
    rows = con.sql("SELECT * FROM root_causes ORDER BY source_file, source_line").to_arrow_table()
    return rows.to_pylist()


def test_error_origin_is_the_deepest_error_span_with_slow_query_evidence(tmp_path: Path) -> None:
    spans = _checkout(1)
    logs = [
        log(
            10,
            241,
            "order-service",
            "ERROR",
            "upstream service error: POST /inventory/reserve returned 500",
            trace=1,
            span_id=101,
        )
    ]
    queries = [
        query(
            5,
            48.5,
            238,
            "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'sku-789'",
            UPDATE,
            lock_ms=189.9,
            trace=1,
            span_id=104,
        )
    ]
    (rc,) = _run(tmp_path, logs=logs, spans=spans, queries=queries)
    assert rc["reason"] == "error_origin"
    assert (rc["root_service"], rc["root_name"], rc["root_span_id"]) == (
        "inventory-service",
        "UPDATE inventory",
        sid(104),
    )
    assert rc["anchor_span_id"] == sid(101)
    assert rc["path"] == [
        "order-service: POST /orders",
        "order-service: HTTP POST /inventory/reserve",
        "inventory-service: POST /inventory/reserve",
        "inventory-service: UPDATE inventory",
    ]
    assert rc["is_upstream_symptom"] is True
    assert rc["root_lock_ms"] == pytest.approx(189.9)
    assert rc["confidence"] == 1.0
    assert any(e.startswith("slow query slow.log:5: 189.5 ms, lock wait 189.9 ms") for e in rc["evidence"])


def test_ties_go_to_the_earliest_ending_error_leaf(tmp_path: Path) -> None:
    spans = [
        span(2, 1, None, "a", "root", 0, 100, status="ERROR"),
        span(2, 2, 1, "b", "late", 10, 90, status="ERROR"),
        span(2, 3, 1, "c", "early", 10, 50, status="ERROR"),
    ]
    (rc,) = _run(tmp_path, logs=[log(1, 95, "a", "ERROR", "boom", trace=2, span_id=1)], spans=spans)
    assert (rc["root_service"], rc["root_name"]) == ("c", "early")


def test_log_with_trace_id_only_anchors_on_innermost_span_of_its_service(tmp_path: Path) -> None:
    spans = _checkout(3, db_error=False)
    spans[3]["self_ms"] = None
    # inventory-service logs an error without span id: anchored on the innermost inventory-service span
    # containing its time — the server span before the DB call starts, the DB span during it
    logs = [
        log(7, 42, "inventory-service", "ERROR", "reserve slow", trace=3),
        log(8, 100, "inventory-service", "ERROR", "reserve slow", trace=3),
    ]
    before, during = _run(tmp_path, logs=logs, spans=spans)
    assert during["anchor_span_id"] == sid(304)
    rc = before
    assert rc["anchor_span_id"] == sid(303)
    assert rc["anchor_method"] == "trace_time"
    # nothing failed below the anchor: the latency origin on the critical path is the DB span
    assert rc["reason"] == "critical_path"
    assert rc["root_name"] == "UPDATE inventory"
    assert rc["confidence"] == pytest.approx(0.72)


def test_timeout_continues_in_the_callee_that_went_on(tmp_path: Path) -> None:
    spans = [
        span(
            4,
            1,
            None,
            "order-service",
            "POST /orders",
            0,
            1010,
            kind="SERVER",
            status="ERROR",
            http_status=504,
        ),
        span(
            4,
            2,
            1,
            "order-service",
            "HTTP GET /users/{id}",
            5,
            1005,
            kind="CLIENT",
            status="ERROR",
            status_message="Read timed out",
            events=EXC,
        ),
        span(4, 3, 2, "user-service", "GET /users/{id}", 7, 1300, kind="SERVER", status="OK"),
        span(
            4,
            4,
            3,
            "user-service",
            "SELECT users",
            9,
            1295,
            kind="CLIENT",
            status="OK",
            db_system="postgresql",
        ),
    ]
    logs = [log(1, 1006, "order-service", "ERROR", "upstream service error: GET /users/1 timed out", 4, 1)]
    (rc,) = _run(tmp_path, logs=logs, spans=spans)
    assert rc["reason"] == "critical_path"
    assert (rc["root_service"], rc["root_name"]) == ("user-service", "SELECT users")
    assert rc["path"][-2:] == ["user-service: GET /users/{id}", "user-service: SELECT users"]
    assert any(e.startswith("gave up waiting: order-service: HTTP GET /users/{id}") for e in rc["evidence"])


def test_critical_path_takes_the_branch_that_ends_last_not_the_longest_span(tmp_path: Path) -> None:
    spans = [
        span(5, 1, None, "api", "GET /page", 0, 500),
        span(5, 2, 1, "a", "long but early", 0, 300),  # longest child, ends first
        span(5, 3, 1, "b", "short but last", 310, 499),
        span(5, 4, 3, "b", "db call", 311, 498),
    ]
    (rc,) = _run(tmp_path, logs=[log(1, 499, "api", "ERROR", "slow page", trace=5, span_id=1)], spans=spans)
    # self times: root 11, 'long but early' 300 (off the critical path), 'short but last' 2, 'db call' 187
    assert rc["reason"] == "critical_path"
    assert rc["root_name"] == "db call"
    assert rc["root_self_ms"] == pytest.approx(187)
    assert rc["path"] == ["api: GET /page", "b: short but last", "b: db call"]


def test_sampled_out_trace_falls_back_to_ranked_evidence_with_low_confidence(tmp_path: Path) -> None:
    spans = _checkout(6)  # another trace that teaches which service issues the UPDATE shape
    logs = [
        log(
            1,
            300,
            "order-service",
            "ERROR",
            "upstream service error: reserve returned 500",
            trace=7,
            span_id=71,
        ),
        log(2, 290, "inventory-service", "ERROR", "reserve failed: deadlock", trace=7, span_id=72),
        log(3, 250, "user-service", "WARN", "cache miss storm"),
    ]
    queries = [
        query(
            9,
            50,
            280,
            "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'a'",
            UPDATE,
            lock_ms=220,
            trace=7,
            span_id=73,
        )
    ]
    rcs = {
        r["source_line"]: r
        for r in _run(tmp_path, logs=logs, spans=spans, queries=queries)
        if r["source_file"] == "order-service.log"
    }
    rc = rcs[1]
    assert rc["reason"] == "no_trace"
    assert rc["root_span_id"] is None
    assert (rc["root_service"], rc["root_name"]) == ("inventory-service", "UPDATE inventory")
    assert rc["confidence"] == 0.5
    assert rc["evidence"][0].startswith("candidate 1: inventory-service slow_query slow.log:9")


def test_slow_query_without_comment_links_by_shape_and_time_only_when_unambiguous(tmp_path: Path) -> None:
    q_unique = query(1, 48.5, 237.0, "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'x'", UPDATE)
    stage(tmp_path, spans=_checkout(8), queries=[q_unique])
    correlate(tmp_path)
    con = duckdb.connect(str(tmp_path / "catalog.duckdb"), read_only=True)
    links = con.execute("SELECT trace_id, span_id, method, confidence FROM query_links").fetchall()
    assert links == [(tid(8), sid(804), "time_window", 0.8)]
    con.close()

    # trace 9 runs at the same time as trace 8 with the same statement: two candidates, no link
    ambiguous = tmp_path / "amb"
    stage(ambiguous, spans=_checkout(8) + _checkout(9), queries=[q_unique])
    correlate(ambiguous)
    con = duckdb.connect(str(ambiguous / "catalog.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM query_links").fetchone() == (0,)
    con.close()


def test_query_with_comment_of_a_sampled_out_trace_is_not_placed_elsewhere(tmp_path: Path) -> None:
    q = query(
        1,
        48.5,
        237.0,
        "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'x'",
        UPDATE,
        trace=99,
        span_id=9904,
    )
    stage(tmp_path, spans=_checkout(8), queries=[q])
    correlate(tmp_path)
    con = duckdb.connect(str(tmp_path / "catalog.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM query_links").fetchone() == (0,)
    con.close()


def test_64_bit_log_trace_id_matches_a_128_bit_span_trace_on_low_bits(tmp_path: Path) -> None:
    spans = [span(0xABCDEF0000000000_1122334455667788, 1, None, "svc", "op", 0, 10, status="ERROR")]
    logs = [log(1, 5, "svc", "ERROR", "boom")]
    logs[0]["trace_id"] = "0000000000000000" + "1122334455667788"
    logs[0]["span_id"] = sid(1)
    (rc,) = _run(tmp_path, logs=logs, spans=spans)
    assert rc["anchor_method"] == "span_id"
    assert rc["root_name"] == "op"


def test_no_trace_prefers_services_downstream_and_falls_back_to_the_record_itself(tmp_path: Path) -> None:
    spans = _checkout(6)  # teaches the call graph: order-service -> inventory-service
    logs = [
        # a sampled-out trace 7: the inventory error is downstream of order-service, upstream of nothing
        log(1, 300, "order-service", "ERROR", "upstream service error: reserve 500", trace=7, span_id=71),
        log(2, 290, "inventory-service", "ERROR", "reserve failed: deadlock", trace=7, span_id=72),
        # an error with no trace and nothing around it
        log(3, 90_000, "user-service", "ERROR", "failed to refresh feature flags"),
    ]
    rcs = {r["source_line"]: r for r in _run(tmp_path, logs=logs, spans=spans) if r["reason"] == "no_trace"}
    assert (rcs[1]["root_service"], rcs[1]["root_name"], rcs[1]["confidence"]) == (
        "inventory-service",
        "reserve failed: deadlock",
        0.5,
    )
    # the inventory record's only other evidence is its caller's symptom: its own service is the answer
    assert (rcs[2]["root_service"], rcs[2]["confidence"]) == ("inventory-service", 0.3)
    assert (rcs[3]["root_service"], rcs[3]["root_name"], rcs[3]["confidence"]) == (
        "user-service",
        "failed to refresh feature flags",
        0.3,
    )
    assert rcs[3]["evidence"] == [
        "candidate 1: user-service self user-service.log:3 failed to refresh feature flags"
        " (the record itself)"
    ]


def test_a_lock_wait_names_the_long_statement_running_across_it(tmp_path: Path) -> None:
    waiting = query(
        5,
        48.5,
        238,
        "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'a'",
        UPDATE,
        lock_ms=189.0,
        trace=1,
        span_id=104,
    )
    blocker = query(
        3,
        -40_000,
        9_000,
        "UPDATE inventory SET on_hand = on_hand + 40 WHERE warehouse_id = 3",
        "update inventory set on_hand = on_hand + ? where warehouse_id = ?",
        db_user="restock",
    )
    finished_before = query(
        4, -60_000, -50_000, "UPDATE inventory SET on_hand = 0", "update inventory set on_hand = ?"
    )
    logs = [log(10, 241, "order-service", "ERROR", "upstream service error", trace=1, span_id=101)]
    (rc,) = _run(tmp_path, logs=logs, spans=_checkout(1), queries=[waiting, blocker, finished_before])
    blockers = [e for e in rc["evidence"] if e.startswith("likely blocker")]
    assert blockers == [
        "likely blocker (running across the lock wait) slow.log:3: 49000 ms, restock"
        " — UPDATE inventory SET on_hand = on_hand + 40 WHERE warehouse_id = 3"
    ]


def test_a_host_whose_clock_runs_late_gets_a_skew_correction_used_for_placement(tmp_path: Path) -> None:
    spans, logs = [], []
    for t in range(1, 26):  # 25 requests, 1 s apart; inventory-service's server span lasts 100 ms
        base = t * 1000
        spans.append(
            span(t, t * 10 + 1, None, "inventory-service", "POST /reserve", base, base + 100, kind="SERVER")
        )
        # host inv-2 writes its lines 250 ms late; host inv-1 is on time
        logs.append(
            log(t, base + 50 + 250, "inventory-service", "INFO", "reserved", t, t * 10 + 1, host="inv-2")
        )
        logs.append(
            log(100 + t, base + 50, "inventory-service", "INFO", "reserved", t, t * 10 + 1, host="inv-1")
        )
    # a line of the late host with only a trace ID: 280 ms after the span start, i.e. 30 ms in, corrected
    logs.append(log(999, 5000 + 280, "inventory-service", "WARN", "slow", trace=5, host="inv-2"))
    stage(tmp_path, logs=logs, spans=spans)
    correlate(tmp_path)
    con = duckdb.connect(str(tmp_path / "catalog.duckdb"), read_only=True)
    skews = dict(
        con.sql(
            "SELECT l.host, any_value(k.skew_ms) FROM log_links AS k JOIN logs AS l "
            "USING (source_file, source_line) GROUP BY l.host"
        ).fetchall()
    )
    placed = con.sql("SELECT method, span_id, skew_ms FROM log_links WHERE source_line = 999").fetchall()
    con.close()
    assert skews["inv-1"] == 0.0
    # every inv-2 line fits its span for corrections in [-300, -200]; the trace-only line in [-280, -180]:
    # all 26 agree on [-280, -200], whose midpoint is the correction
    assert skews["inv-2"] == pytest.approx(-240.0)
    assert placed == [("trace_time", sid(51), pytest.approx(-240.0))]
