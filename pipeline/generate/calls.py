"""Downstream calls of a checkout: order-service → user-service and order-service → inventory-service.

Each call opens the caller's CLIENT span, the callee's SERVER span inside it (after a 0.5–2 ms network
gap) and the callee's DB CLIENT span, and writes the callee's log records in its SERVER span's context.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.generate import catalog as cat
from pipeline.generate import stacks
from pipeline.generate.model import (
    ASYNCPG,
    FASTAPI,
    INVENTORY,
    MS,
    ORDER,
    OTELHTTP,
    OTELSQL,
    SPRING_WEB,
    USER,
    Level,
    LogRecord,
    Sim,
    SlowQuery,
    Span,
    Trace,
)
from pipeline.generate.plans import CheckoutPlan, CheckoutResult

SLOW_QUERY_WARN_US = 300 * MS  # user-service warns about queries slower than this


@dataclass(slots=True)
class UserCall:
    """The spans of one ``GET /users/{id}``; ``timed_out``: the caller gave up before the answer."""

    client: Span
    server: Span
    db: Span
    timed_out: bool


def finish_server(span: Span, end_us: int, status: int) -> None:
    """Close a SERVER span with its HTTP status; 5xx makes it ERROR (4xx is the client's fault)."""
    span.end_us = end_us
    span.attributes["http.response.status_code"] = status
    if status >= 500:
        span.status = "ERROR"


def _gap(sim: Sim) -> int:
    """Network time between a CLIENT span and its SERVER span."""
    return sim.us(0.5, 2.0)


def _user_log(
    sim: Sim, server: Span, ts: int, level: Level, logger: str, body: str, attrs: dict[str, str]
) -> None:
    sim.log(LogRecord(ts, USER, level, logger, body, server.trace_id, server.span_id, fields=attrs))


def _serve_user(sim: Sim, trace: Trace, client: Span, user_id: int, db_us: int) -> tuple[Span, Span]:
    """user-service answers ``GET /users/{id}``: its SERVER span, the SELECT below it, its log records."""
    uid, path = str(user_id), f"/users/{user_id}"
    start = client.start_us + _gap(sim)
    server = sim.span(trace, client.span_id, USER, FASTAPI, "GET /users/{id}", "SERVER", start)
    server.attributes.update({"http.request.method": "GET", "http.route": "/users/{id}", "url.path": path})
    t = server.start_us + sim.us(0.1, 0.5)
    _user_log(sim, server, t, "INFO", "user_service.repo", f"loading user {uid}", {"user.id": uid})
    db = sim.span(trace, server.span_id, USER, ASYNCPG, "SELECT users", "CLIENT", t + sim.us(0.3, 0.8))
    db.end_us = db.start_us + db_us
    db.attributes.update({"db.system": "postgresql", "db.name": "users", "db.statement": cat.USER_SELECT})
    db.attributes["net.peer.name"] = "users-db"
    db.status = "OK"  # user-service sets OK explicitly; the other services leave success UNSET
    took = f"{db_us / MS:.1f}"
    if db_us >= SLOW_QUERY_WARN_US:
        attrs = {"db.system": "postgresql", "duration_ms": took}
        t = db.end_us + sim.us(0.05, 0.2)
        _user_log(sim, server, t, "WARN", "user_service.repo", f"slow query users.by_id took {took}ms", attrs)
    finish_server(server, db.end_us + sim.us(0.3, 1.5), 200)
    server.status = "OK"
    took = f"{(server.end_us - server.start_us) / MS:.1f}"
    attrs = {"http.route": "/users/{id}", "user.id": uid}
    _user_log(sim, server, server.end_us, "INFO", "user_service.api", f"GET {path} 200 {took}ms", attrs)
    return server, db


def call_user(sim: Sim, trace: Trace, parent: str, start_us: int, user_id: int, db_us: int) -> UserCall:
    """order-service → user-service ``GET /users/{id}``; the SELECT takes ``db_us``.

    When the answer would come after the client's read timeout, the CLIENT span ends at the timeout
    with ERROR, while user-service carries on and finishes normally later: that is what a timeout is.
    """
    url = f"http://user-service/users/{user_id}"
    client = sim.span(trace, parent, ORDER, SPRING_WEB, "HTTP GET /users/{id}", "CLIENT", start_us)
    client.attributes.update({"http.request.method": "GET", "url.full": url, "server.address": USER})
    server, db = _serve_user(sim, trace, client, user_id, db_us)
    answered = server.end_us + _gap(sim)
    timed_out = answered - start_us > cat.USER_CLIENT_TIMEOUT_US
    if timed_out:
        client.end_us = start_us + cat.USER_CLIENT_TIMEOUT_US + sim.us(0.1, 1.5)
        client.fail("Read timed out", stacks.TIMEOUT_EXCEPTION)
    else:
        client.end_us = answered
        client.attributes["http.response.status_code"] = 200
    return UserCall(client, server, db, timed_out)


def _inventory_log(
    sim: Sim, server: Span, ts: int, level: Level, caller: str, msg: str, kv: dict[str, str]
) -> None:
    sim.log(LogRecord(ts, INVENTORY, level, caller, msg, server.trace_id, server.span_id, fields=kv))


def _mysql_span(sim: Sim, trace: Trace, parent: str, name: str, statement: str, start: int) -> Span:
    """A go-sql-driver CLIENT span (the caller sets its end)."""
    span = sim.span(trace, parent, INVENTORY, OTELSQL, name, "CLIENT", start)
    span.attributes.update({"db.system": "mysql", "db.name": "inventory", "db.statement": statement})
    span.attributes["net.peer.name"] = "inventory-db"
    return span


def _serve_reserve(sim: Sim, trace: Trace, client: Span, p: CheckoutPlan, res: CheckoutResult) -> Span:
    """inventory-service answers ``POST /inventory/reserve``: optional stock check, then the UPDATE."""
    start = client.start_us + _gap(sim)
    server = sim.span(trace, client.span_id, INVENTORY, OTELHTTP, "POST /inventory/reserve", "SERVER", start)
    server.attributes.update({"http.request.method": "POST", "http.route": "/inventory/reserve"})
    server.attributes.update({"item.id": p.sku, "item.quantity": p.qty})
    item = {"sku": p.sku, "qty": str(p.qty)}
    t = server.start_us + sim.us(0.1, 0.4)
    _inventory_log(sim, server, t, "INFO", "handler.go:42", "reserve request", item)
    t += sim.us(0.3, 0.8)
    if p.stock_check:
        check = _mysql_span(sim, trace, server.span_id, "SELECT inventory", cat.STOCK_SELECT, t)
        check.end_us = t + sim.us(0.4, 2.5)
        t = check.end_us + sim.us(0.05, 0.2)
        stock = {"sku": p.sku, "available": str(sim.rng.randint(5, 400))}
        _inventory_log(sim, server, t, "INFO", "reserve.go:57", "stock checked", stock)
        t += sim.us(0.2, 0.6)
    update = _mysql_span(sim, trace, server.span_id, "UPDATE inventory", cat.RESERVE_UPDATE, t)
    db_start = t + sim.us(0.1, 0.4)  # the statement reaches the server a little after the span opens
    update.end_us = db_start + p.update_us + sim.us(0.1, 0.4)
    res.update, res.slow = update, _slow_log(sim, trace, update, p, db_start)
    t = update.end_us + sim.us(0.1, 0.5)
    if p.errno:
        update.fail(cat.DEADLOCK_ERROR, cat.GO_MYSQL_ERROR_TYPE)
        _inventory_log(
            sim, server, t, "ERROR", "reserve.go:88", "reserve failed", {**item, "err": cat.DEADLOCK_ERROR}
        )
    else:
        _inventory_log(sim, server, t, "INFO", "reserve.go:71", "reserved", item)
    status = 500 if p.errno else 200
    server.attributes["reservation.success"] = status == 200
    finish_server(server, t + sim.us(0.2, 1.0), status)
    took = f"{(server.end_us - server.start_us) / MS:.3f}"
    done = {"method": "POST", "path": "/inventory/reserve", "status": str(status), "duration_ms": took}
    _inventory_log(sim, server, server.end_us, "INFO", "middleware.go:35", "request completed", done)
    return server


def call_inventory(
    sim: Sim, trace: Trace, parent: str, start_us: int, p: CheckoutPlan, res: CheckoutResult
) -> Span:
    """order-service → inventory-service ``POST /inventory/reserve``; returns order-service's CLIENT span."""
    url = "http://inventory-service/inventory/reserve"
    client = sim.span(trace, parent, ORDER, SPRING_WEB, "HTTP POST /inventory/reserve", "CLIENT", start_us)
    client.attributes.update({"http.request.method": "POST", "url.full": url, "server.address": INVENTORY})
    server = _serve_reserve(sim, trace, client, p, res)
    client.end_us = server.end_us + _gap(sim)
    status = server.attributes["http.response.status_code"]
    client.attributes["http.response.status_code"] = status
    if server.status == "ERROR":
        client.fail("500 Internal Server Error", stacks.RESERVE_EXCEPTION)
    return client


def _slow_log(sim: Sim, trace: Trace, update: Span, p: CheckoutPlan, db_start: int) -> SlowQuery | None:
    """The UPDATE's slow-log entry when it ran past ``long_query_time``; None otherwise."""
    if p.update_us < cat.SLOW_LOG_THRESHOLD_US:
        return None
    # Only the primary pool's connections go through the sqlcommenter middleware.
    comment = cat.sqlcommenter(trace.header(update.span_id)) if p.pool == "primary" else None
    query = SlowQuery(
        start_us=db_start,
        end_us=db_start + p.update_us,
        lock_us=p.lock_us,
        db_user="inventory",
        client_ip=cat.INVENTORY_DB_IP,
        thread_id=sim.rng.choice(cat.POOL_THREADS[p.pool]),
        statement=cat.literal_update(p.sku, p.qty),
        comment=comment,
        errno=p.errno,
        bytes_sent=98 if p.errno else 52,
    )
    query.trace_id = trace.trace_id
    return sim.slow(query)
