"""Issue 4's hard cases, each pinned on a small staged scenario with one exact expected answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipeline.correlate import correlate
from tests.builders import log, query, sid, span, stage, tid

SELECT_STOCK = "select qty from stock where sku = ?"


def _tables(tmp_path: Path, *names: str, **staged: Any) -> list[list[dict[str, Any]]]:
    stage(tmp_path, **staged)
    correlate(tmp_path)
    con = duckdb.connect(str(tmp_path / "catalog.duckdb"), read_only=True)
    try:
        return [
            con.sql(f"SELECT * FROM {name} ORDER BY source_file, source_line").to_arrow_table().to_pylist()
            for name in names
        ]
    finally:
        con.close()


def _root_causes(tmp_path: Path, **staged: Any) -> list[dict[str, Any]]:
    return _tables(tmp_path, "root_causes", **staged)[0]


def _retried_call(trace: int) -> list[dict[str, Any]]:
    """order calls payment three times: two attempts time out (payment goes on, slowly, without error),
    the third fails at once because payment's database rejects the write."""
    timeout = {"status": "ERROR", "status_message": "Read timed out", "kind": "CLIENT"}
    return [
        span(
            trace, 1, None, "order", "POST /orders", 0, 2300, kind="SERVER", status="ERROR", http_status=502
        ),
        span(trace, 2, 1, "order", "HTTP POST /charge", 10, 1010, **timeout),
        span(trace, 3, 2, "payment", "POST /charge", 12, 1500, kind="SERVER", status="OK"),
        span(trace, 4, 3, "payment", "SELECT ledger", 14, 1490, kind="CLIENT", status="OK"),
        span(trace, 5, 1, "order", "HTTP POST /charge", 1100, 2100, **timeout),
        span(trace, 6, 5, "payment", "POST /charge", 1102, 2250, kind="SERVER", status="OK"),
        span(
            trace,
            7,
            1,
            "order",
            "HTTP POST /charge",
            2200,
            2290,
            kind="CLIENT",
            status="ERROR",
            http_status=500,
        ),
        span(
            trace, 8, 7, "payment", "POST /charge", 2202, 2288, kind="SERVER", status="ERROR", http_status=500
        ),
        span(
            trace,
            9,
            8,
            "payment",
            "INSERT ledger",
            2205,
            2280,
            kind="CLIENT",
            status="ERROR",
            status_message="ERROR: duplicate key value violates unique constraint",
        ),
    ]


def test_retries_blame_the_last_failed_attempt_not_the_first_timeout(tmp_path: Path) -> None:
    logs = [log(1, 2295, "order", "ERROR", "upstream service error: POST /charge failed", trace=1, span_id=1)]
    (rc,) = _root_causes(tmp_path, logs=logs, spans=_retried_call(1))
    assert rc["reason"] == "error_origin"
    assert (rc["root_service"], rc["root_name"], rc["root_span_id"]) == ("payment", "INSERT ledger", sid(9))
    assert rc["path"] == [
        "order: POST /orders",
        "order: HTTP POST /charge",
        "payment: POST /charge",
        "payment: INSERT ledger",
    ]


def test_parallel_calls_of_one_name_are_not_retries(tmp_path: Path) -> None:
    # three shard calls at once: the earliest-ending failure is the origin, none supersedes another
    spans = [
        span(2, 1, None, "search", "GET /search", 0, 300, kind="SERVER", status="ERROR"),
        span(2, 2, 1, "search", "GET /shard", 10, 200, kind="CLIENT", status="ERROR", status_message="503"),
        span(2, 3, 1, "search", "GET /shard", 11, 120, kind="CLIENT", status="ERROR", status_message="503"),
        span(2, 4, 1, "search", "GET /shard", 12, 250, kind="CLIENT", status="OK"),
    ]
    logs = [log(1, 290, "search", "ERROR", "upstream service error", trace=2, span_id=1)]
    (rc,) = _root_causes(tmp_path, logs=logs, spans=spans)
    assert rc["root_span_id"] == sid(3)


def test_a_consumer_error_names_the_producer_trace_that_triggered_it(tmp_path: Path) -> None:
    producer = [
        span(3, 1, None, "order", "POST /orders", 0, 50, kind="SERVER", status="OK"),
        span(3, 2, 1, "order", "publish order.created", 20, 25, kind="PRODUCER", status="OK"),
    ]
    link = {"trace_id": tid(4), "span_id": sid(2), "attributes": []}
    consumer = [
        span(4, 11, None, "fulfillment", "process order.created", 900, 1000, kind="CONSUMER", status="ERROR"),
        span(4, 12, 11, "fulfillment", "UPDATE shipments", 910, 990, kind="CLIENT", status="ERROR"),
    ]
    consumer[0]["links"] = [link | {"trace_id": tid(3)}]
    logs = [log(1, 995, "fulfillment", "ERROR", "failed to process order.created", trace=4, span_id=11)]
    (rc,) = _root_causes(tmp_path, logs=logs, spans=producer + consumer)
    assert (rc["root_service"], rc["root_name"]) == ("fulfillment", "UPDATE shipments")
    assert rc["linked_trace_id"] == tid(3)
    assert f"triggered by order: publish order.created in trace {tid(3)} (span link)" in rc["evidence"]


def test_an_open_circuit_breaker_is_the_origin_when_no_call_was_made(tmp_path: Path) -> None:
    spans = [
        span(5, 1, None, "order", "POST /orders", 0, 8, kind="SERVER", status="ERROR", http_status=503),
        span(
            5,
            2,
            1,
            "order",
            "CircuitBreaker payment",
            2,
            3,
            status="ERROR",
            status_message="CircuitBreaker 'payment' is OPEN and does not permit further calls",
        ),
    ]
    logs = [log(1, 7, "order", "ERROR", "upstream service error: payment unavailable", trace=5, span_id=1)]
    (rc,) = _root_causes(tmp_path, logs=logs, spans=spans)
    assert (rc["reason"], rc["root_name"]) == ("error_origin", "CircuitBreaker payment")
    assert (
        "span status ERROR: CircuitBreaker 'payment' is OPEN and does not permit further calls"
        in rc["evidence"]
    )


def _billing(trace: int, start: float, rid: str, user: str, path: str = "/invoices") -> list[dict[str, Any]]:
    """A billing request traced by its sidecar: the SERVER span carries the request attributes."""
    attrs = {"http.request.header.x-request-id": f'["{rid}"]', "url.path": path, "enduser.id": user}
    base = trace * 10
    return [
        span(
            trace,
            base + 1,
            None,
            "billing",
            f"POST {path}",
            start,
            start + 100,
            kind="SERVER",
            attributes=attrs,
        ),
        span(trace, base + 2, base + 1, "billing", "SELECT invoices", start + 40, start + 60, kind="CLIENT"),
    ]


def _plain(line: int, ms: float, message: str, level: str = "INFO") -> dict[str, Any]:
    return log(line, ms, "billing", level, message)


def test_logs_without_ids_link_by_request_id_or_path_and_user_only_when_unambiguous(tmp_path: Path) -> None:
    spans = _billing(6, 0, "r-aaa", "u1") + _billing(7, 20, "r-bbb", "u2") + _billing(8, 30, "r-ccc", "u1")
    logs = [
        _plain(1, 10, "creating invoice request_id=r-aaa user=u1 path=/invoices"),  # request ID → trace 6
        _plain(2, 65, "db call done request_id=r-bbb"),  # inside trace 7's DB span → that span
        _plain(3, 25, "POST /invoices user=u2 took 3ms"),  # path + user → trace 7 only
        _plain(4, 35, "POST /invoices user=u1 started"),  # path + user: traces 6 and 8 both → ambiguous
        _plain(5, 35, "request_id=r-zzz unknown request"),  # no span has it → no link
        _plain(6, 500, "request_id=r-aaa late retry"),  # outside every span → no link
        _plain(7, 36, "heartbeat ok"),  # nothing to match on
    ]
    links, gaps = _tables(tmp_path, "log_links", "log_link_gaps", logs=logs, spans=spans)
    placed = {r["source_line"]: (r["trace_id"], r["span_id"], r["method"], r["confidence"]) for r in links}
    assert placed == {
        1: (tid(6), sid(61), "request_attr", 0.95),
        2: (tid(7), sid(72), "request_attr", 0.95),
        3: (tid(7), sid(71), "request_attr", 0.8),
    }
    reasons = {r["source_line"]: (r["reason"], r["candidates"]) for r in gaps}
    assert reasons == {
        4: ("ambiguous", 2),
        5: ("no_match", None),
        6: ("no_match", None),
        7: ("no_id", None),
    }


def test_an_id_less_error_line_gets_a_root_cause_through_its_request(tmp_path: Path) -> None:
    spans = _billing(9, 0, "r-err", "u9")
    spans[1] |= {"status": "ERROR", "status_message": "ERROR: deadlock detected"}
    logs = [_plain(1, 70, "invoice failed request_id=r-err: deadlock detected", level="ERROR")]
    (rc,) = _root_causes(tmp_path, logs=logs, spans=spans)
    assert rc["anchor_method"] == "request_attr"
    assert (rc["reason"], rc["root_name"]) == ("error_origin", "SELECT invoices")
    assert rc["confidence"] == 0.95


def _select_span(
    trace: int, start: float, end: float, *, service: str = "inventory", **resource: str
) -> dict[str, Any]:
    """A MySQL 'SELECT stock' client span; ``user`` goes to db.user, ``ip``/``host`` to the resource."""
    attributes = {"db.name": "shop", "db.user": resource.pop("user")} if "user" in resource else {}
    names = {"ip": "host.ip", "host": "host.name"}
    return span(
        trace,
        trace * 10 + 1,
        None,
        service,
        "SELECT stock",
        start,
        end,
        kind="CLIENT",
        db_system="mysql",
        db_fingerprint=SELECT_STOCK,
        attributes=attributes,
        resource_attributes={names[k]: v for k, v in resource.items()},
    )


def test_a_slow_query_without_comment_is_told_apart_by_user_and_client_host(tmp_path: Path) -> None:
    spans = [
        _select_span(11, 0, 300, user="inventory", ip="10.0.4.21"),
        # same shape, same time, other user
        _select_span(12, 0, 300, service="reports", user="reporting", ip="10.0.9.7"),
        _select_span(13, 0, 300, user="inventory", ip="10.0.4.22"),  # same user, other host
    ]
    stmt = "SELECT qty FROM stock WHERE sku = 'a'"
    queries = [
        query(1, 2, 298, stmt, SELECT_STOCK, db="shop", db_user="reporting", client_host="10.0.9.7"),
        query(5, 2, 298, stmt, SELECT_STOCK, db="shop", db_user="inventory", client_host="10.0.4.22"),
        query(9, 2, 298, stmt, SELECT_STOCK, db="shop", db_user="inventory"),  # host unknown: two fit
    ]
    (links,) = _tables(tmp_path, "query_links", spans=spans, queries=queries)
    assert [(r["source_line"], r["trace_id"], r["method"]) for r in links] == [
        (1, tid(12), "time_window"),
        (5, tid(13), "time_window"),
    ]


def test_a_late_host_with_only_trace_ids_is_corrected_and_its_lines_land_on_the_right_span(
    tmp_path: Path,
) -> None:
    spans, logs, want = [], [], {}
    for t in range(1, 31):  # 30 requests: an 8 ms server span with a 3 ms database call inside
        base = t * 1000.0
        server, call = t * 10 + 1, t * 10 + 2
        spans += [
            span(t, server, None, "inventory", "POST /reserve", base, base + 8, kind="SERVER"),
            span(t, call, server, "inventory", "UPDATE stock", base + 2, base + 5, kind="CLIENT"),
        ]
        # 'received' at +0.5 ms, 'in call' at +3.5, 'done' at +7.5 — all written 250 ms late
        for i, (offset, on) in enumerate(((0.5, server), (3.5, call), (7.5, server))):
            logs.append(
                log(t * 3 + i, base + offset + 250, "inventory", "INFO", "step", trace=t, host="inv-2")
            )
            want[t * 3 + i] = sid(on)
    (links,) = _tables(tmp_path, "log_links", logs=logs, spans=spans)
    # only corrections in [-250.5, -249.5] fit every line into its request's server span: the midpoint
    assert {r["skew_ms"] for r in links} == {-250.0}
    assert {r["source_line"]: r["span_id"] for r in links} == want
    assert {r["method"] for r in links} == {"trace_time"}


def _call_graph(trace: int) -> list[dict[str, Any]]:
    """Another, exported trace that teaches who calls whom: order → user, order → catalog → pricing."""
    return [
        span(trace, 1, None, "order", "GET /orders/{id}", 0, 50, kind="SERVER"),
        span(trace, 2, 1, "user", "GET /users/{id}", 5, 20, kind="SERVER"),
        span(trace, 3, 1, "catalog", "GET /products", 5, 40, kind="SERVER"),
        span(trace, 4, 3, "pricing", "GET /prices", 10, 30, kind="SERVER"),
    ]


def test_without_spans_the_service_the_error_names_outranks_a_slow_bystander(tmp_path: Path) -> None:
    # trace sampled out; user-service was slow in it (same trace ID), but the caller says catalog timed out
    logs = [
        log(1, 5000, "user", "WARN", "slow query users.by_id took 591 ms", trace=77),
        log(2, 4990, "catalog", "ERROR", "products query failed: statement timeout"),
        log(
            3,
            5010,
            "order",
            "ERROR",
            "upstream service error: GET http://catalog/products timed out",
            trace=77,
        ),
    ]
    rc = next(r for r in _root_causes(tmp_path, logs=logs, spans=_call_graph(1)) if r["source_line"] == 3)
    assert (rc["reason"], rc["root_service"], rc["root_name"]) == (
        "no_trace",
        "catalog",
        "products query failed: statement timeout",
    )
    assert rc["candidate_services"] == ["catalog", "user", "order"]


def test_without_spans_an_open_circuit_breaker_is_the_callers_own_failure(tmp_path: Path) -> None:
    logs = [
        log(1, 4990, "catalog", "ERROR", "products query failed: 503"),
        log(
            2,
            5000,
            "order",
            "ERROR",
            "upstream service error: GET http://catalog/products not permitted: "
            "CircuitBreaker 'catalog' is OPEN and does not permit further calls",
            trace=78,
        ),
    ]
    rc = next(r for r in _root_causes(tmp_path, logs=logs, spans=_call_graph(1)) if r["source_line"] == 2)
    assert (rc["reason"], rc["root_service"]) == ("no_trace", "order")
    assert rc["candidate_services"][:2] == ["order", "catalog"]


def test_the_client_ip_of_a_query_is_learned_from_commented_queries_to_tell_hosts_apart(
    tmp_path: Path,
) -> None:
    spans = [
        _select_span(21, 8, 92, host="inv-1"),
        _select_span(22, 9, 91, host="inv-2"),
        _select_span(23, 508, 592, host="inv-2"),
        _select_span(24, 198, 302, host="inv-1"),
        _select_span(25, 199, 301, host="inv-2"),
    ]
    stmt = "SELECT qty FROM stock WHERE sku = 'a'"
    queries = [
        # commented: teaches that 10.0.4.12 is inv-2
        query(
            1,
            510,
            590,
            stmt + " /*traceparent='00-...'*/",
            SELECT_STOCK,
            trace=23,
            span_id=231,
            client_host="10.0.4.12",
        ),
        # from 10.0.4.11, never seen with a comment: inv-1's and inv-2's spans both fit, so no link
        query(5, 10, 90, stmt, SELECT_STOCK, client_host="10.0.4.11"),
        # from 10.0.4.12 = inv-2: of the two spans that fit, only one is inv-2's
        query(9, 200, 300, stmt, SELECT_STOCK, client_host="10.0.4.12"),
    ]
    (links,) = _tables(tmp_path, "query_links", spans=spans, queries=queries)
    assert [(r["source_line"], r["trace_id"], r["method"]) for r in links] == [
        (1, tid(23), "traceparent_comment"),
        (9, tid(25), "time_window"),
    ]


def test_a_query_inside_another_requests_longer_statement_is_not_placed_on_it(tmp_path: Path) -> None:
    # a 1 s UPDATE of one request (lock wait); inside it, a 60 ms UPDATE of a sampled-out request
    spans = [
        span(
            31,
            311,
            None,
            "inventory",
            "UPDATE inventory",
            0,
            1000,
            kind="CLIENT",
            db_system="mysql",
            db_fingerprint=SELECT_STOCK,
        ),
    ]
    stmt = "SELECT qty FROM stock WHERE sku = 'a'"
    queries = [query(1, 400, 460, stmt, SELECT_STOCK), query(5, 1, 999, stmt, SELECT_STOCK)]
    (links,) = _tables(tmp_path, "query_links", spans=spans, queries=queries)
    assert [(r["source_line"], r["span_id"]) for r in links] == [(5, sid(311))]


def test_query_link_gaps_say_why_a_query_was_not_placed(tmp_path: Path) -> None:
    spans = [_select_span(41, 0, 100, user="inventory", ip="10.0.4.21")]
    spans += [_select_span(42, 1, 99, user="inventory", ip="10.0.4.21")]
    stmt = "SELECT qty FROM stock WHERE sku = 'a'"
    queries = [
        query(1, 2, 98, stmt, SELECT_STOCK, db="shop"),  # fits both spans
        query(5, 500, 560, stmt, SELECT_STOCK, db="shop"),  # fits none
        query(9, 2, 98, stmt, SELECT_STOCK, db="shop", trace=43, span_id=431),  # trace 43 has no spans
        query(
            13, 2, 98, stmt, SELECT_STOCK, db="shop", trace=41, span_id=499
        ),  # trace 41's span, not exported
    ]
    links, gaps = _tables(tmp_path, "query_links", "query_link_gaps", spans=spans, queries=queries)
    assert [(r["source_line"], r["reason"], r["candidates"]) for r in gaps] == [
        (1, "ambiguous", 2),
        (5, "no_candidate", 0),
        (9, "sampled_out", 2),
    ]
    # the comment names trace 41, so its one candidate in that trace is taken
    assert [(r["source_line"], r["trace_id"], r["method"]) for r in links] == [
        (13, tid(41), "comment_trace_time")
    ]


def test_an_error_chain_continues_across_a_queue_into_the_consumers_trace(tmp_path: Path) -> None:
    # order's request published 'order.created' and answered; the consumer's write then failed in its own
    # trace, linked to the publish span. order's later ERROR line about the order is anchored on its request.
    producer = [
        span(3, 1, None, "order", "POST /orders", 0, 50, kind="SERVER", status="OK"),
        span(3, 2, 1, "order", "publish order.created", 20, 25, kind="PRODUCER", status="OK"),
    ]
    consumer = [
        span(4, 11, None, "fulfillment", "process order.created", 900, 1000, kind="CONSUMER", status="ERROR"),
        span(
            4,
            12,
            11,
            "fulfillment",
            "UPDATE shipments",
            910,
            990,
            kind="CLIENT",
            status="ERROR",
            status_message="ERROR: deadlock detected",
        ),
    ]
    consumer[0]["links"] = [{"trace_id": tid(3), "span_id": sid(2), "attributes": []}]
    logs = [
        log(1, 40, "order", "ERROR", "order 17 will not ship: fulfillment failed", trace=3, span_id=1),
        log(2, 995, "fulfillment", "ERROR", "failed to process order.created", trace=4, span_id=11),
    ]
    from_consumer, from_producer = _root_causes(tmp_path, logs=logs, spans=producer + consumer)  # by file
    assert (from_producer["reason"], from_producer["root_name"]) == ("error_origin", "UPDATE shipments")
    assert from_producer["root_trace_id"] == tid(4)
    assert from_producer["path"] == [
        "order: POST /orders",
        "order: publish order.created",
        "fulfillment: process order.created",
        "fulfillment: UPDATE shipments",
    ]
    assert "span status ERROR: ERROR: deadlock detected" in from_producer["evidence"]
    # the consumer's own line: the same cause, in its own trace, naming the producer
    assert (from_consumer["root_name"], from_consumer["root_trace_id"]) == ("UPDATE shipments", tid(4))
    assert from_consumer["linked_trace_id"] == tid(3)


def test_an_error_in_the_request_itself_wins_over_one_across_the_queue(tmp_path: Path) -> None:
    producer = [
        span(5, 1, None, "order", "POST /orders", 0, 50, kind="SERVER", status="ERROR"),
        span(5, 2, 1, "order", "publish order.created", 20, 25, kind="PRODUCER", status="OK"),
        span(5, 3, 1, "order", "INSERT orders", 30, 45, kind="CLIENT", status="ERROR"),
    ]
    consumer = [span(6, 11, None, "fulfillment", "process", 900, 1000, kind="CONSUMER", status="ERROR")]
    consumer[0]["links"] = [{"trace_id": tid(5), "span_id": sid(2), "attributes": []}]
    logs = [log(1, 48, "order", "ERROR", "insert failed", trace=5, span_id=1)]
    (rc,) = _root_causes(tmp_path, logs=logs, spans=producer + consumer)
    assert (rc["root_name"], rc["root_trace_id"]) == ("INSERT orders", tid(5))


def test_a_database_span_shorter_than_the_statement_is_not_its_span(tmp_path: Path) -> None:
    # a sampled-out request's 321.6 ms statement and another request's 315 ms span of the same shape, edges
    # within 5 ms: the client cannot have waited less than the server worked, so it is not placed there
    spans = [_select_span(51, 1.8, 316.8, user="inventory", ip="10.0.4.21")]
    stmt = "SELECT qty FROM stock WHERE sku = 'a'"
    queries = [
        query(1, 0, 321.6, stmt, SELECT_STOCK, db="shop"),
        query(5, 2.0, 316.5, stmt, SELECT_STOCK, db="shop"),  # 314.5 ms inside the 315 ms span: its own
    ]
    (links,) = _tables(tmp_path, "query_links", spans=spans, queries=queries)
    assert [(r["source_line"], r["span_id"]) for r in links] == [(5, sid(511))]
