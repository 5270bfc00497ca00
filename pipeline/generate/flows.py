"""Request flows: what each request does in each service (spans, log records, access line, slow log).

A flow only interprets its plan: a fault changes the plan's knobs (a slower SELECT, a lock wait and an
error on the UPDATE) and the flow works out the consequences (timeouts, error statuses, 5xx, logs).
That keeps fault kinds independent of the services they hit.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.generate import catalog as cat
from pipeline.generate import stacks
from pipeline.generate.model import (
    INVENTORY,
    MS,
    ORDER,
    OTELHTTP,
    OTELSQL,
    SPRING_WEB,
    SPRING_WEBMVC,
    USER,
    AccessRecord,
    Level,
    LogRecord,
    Sim,
    SlowQuery,
    Span,
    Trace,
)
from pipeline.generate.services import call_user

# nginx's body size per status when order-service answers with a fixed error document.
_ERROR_BODY = {400: 96, 404: 64, 502: 87, 504: 91}


def _order_log(sim: Sim, server: Span, thread: str, ts: int, level: Level, logger: str, msg: str) -> LogRecord:
    return sim.log(LogRecord(ts, ORDER, level, logger, msg, server.trace_id, server.span_id, thread=thread))


def _inventory_log(sim: Sim, server: Span, ts: int, level: Level, caller: str, msg: str, **kv: str) -> None:
    sim.log(LogRecord(ts, INVENTORY, level, caller, msg, server.trace_id, server.span_id, fields=kv))


def _gateway(sim: Sim, trace: Trace, server: Span, request: str, status: int, body: int, addr: str, ua: str) -> AccessRecord:
    """The nginx line of a proxied request: nginx brackets order-service's SERVER span by a little."""
    begin = server.start_us - sim.us(0.3, 1.2)
    end = server.end_us + sim.us(0.2, 0.9)
    upstream = server.end_us + sim.us(0.1, 0.2) - (begin + sim.us(0.1, 0.25))
    record = AccessRecord(end, addr, request, status, body, ua, trace.traceparent(), end - begin, upstream)
    record.trace_id = trace.trace_id
    return sim.access(record)


def _finish_server(span: Span, end_us: int, status: int) -> None:
    span.end_us = end_us
    span.attributes["http.response.status_code"] = status
    if status >= 500:  # server spans turn ERROR on 5xx only (4xx is the client's fault)
        span.status = "ERROR"


def run_checkout(sim: Sim, p: CheckoutPlan) -> CheckoutResult:
    """Simulate one ``POST /orders`` end to end."""
    trace = sim.new_trace(p.sampled)
    res = CheckoutResult(p, trace)
    server = sim.span(trace, trace.client_span_id, ORDER, SPRING_WEBMVC, "POST /orders", "SERVER", p.start_us)
    server.attributes.update({"http.request.method": "POST", "http.route": "/orders", "url.path": "/orders"})
    t = p.start_us + sim.us(0.2, 0.9)
    controller = "c.e.order.web.OrderController"

    def respond(status: int, body: int, after_us: int) -> CheckoutResult:
        _finish_server(server, after_us, status)
        res.access = _gateway(sim, trace, server, "POST /orders HTTP/1.1", status, body, p.remote_addr, p.user_agent)
        return res

    if p.qty <= 0:
        _order_log(sim, server, p.thread, t, "WARN", controller, "validation failed: quantity must be positive")
        return respond(400, _ERROR_BODY[400], t + sim.us(0.3, 1.5))
    _order_log(sim, server, p.thread, t, "INFO", controller, f"creating order for user {p.user_id}: {p.sku} x{p.qty}")

    user = call_user(sim, trace, server.span_id, t + sim.us(0.5, 2.0), p.user_id, p.user_db_us)
    res.user_db = user.db
    if user.timed_out:
        t = user.client.end_us + sim.us(0.2, 1.0)
        url = f"http://user-service/users/{p.user_id}"
        msg = f"upstream service error: GET {url} timed out after {cat.USER_CLIENT_TIMEOUT_US // MS} ms"
        res.symptom = _order_log(sim, server, p.thread, t, "ERROR", controller, msg)
        res.symptom.stack = stacks.read_timed_out(sim.rng, url)
        return respond(504, _ERROR_BODY[504], t + sim.us(0.5, 1.5))
    t = user.client.end_us + sim.us(0.2, 0.6)
    _order_log(sim, server, p.thread, t, "INFO", "c.e.order.client.UserClient", f"user {p.user_id} verified")

    client = _reserve(sim, trace, server.span_id, t + sim.us(0.3, 2.5), p, res)
    t = client.end_us + sim.us(0.2, 1.0)
    if client.status == "ERROR":
        msg = "upstream service error: POST http://inventory-service/inventory/reserve returned 500"
        res.symptom = _order_log(sim, server, p.thread, t, "ERROR", controller, msg)
        res.symptom.stack = stacks.reserve_failed(sim.rng)
        return respond(502, _ERROR_BODY[502], t + sim.us(0.5, 1.5))
    _order_log(sim, server, p.thread, t, "INFO", "c.e.order.client.InventoryClient", f"reserved {p.sku} x{p.qty}")
    total = cat.SKU_BY_ID[p.sku].price_cents * p.qty
    order_id = sim.order_id()
    t += sim.us(1.0, 4.0)  # the order row is written (order-service's own DB is not instrumented)
    msg = f"order {order_id} created for user {p.user_id} total={total // 100}.{total % 100:02d} EUR"
    _order_log(sim, server, p.thread, t, "INFO", "c.e.order.service.OrderService", msg)
    server.attributes["order.total"] = total / 100
    return respond(201, 120 + len(str(order_id)) + sim.rng.randint(0, 40), t + sim.us(0.2, 0.8))


def run_lookup(sim: Sim, p: LookupPlan) -> None:
    """Simulate one ``GET /orders/{id}`` (order-service only; 404 when the order does not exist)."""
    trace = sim.new_trace(p.sampled, p.from_client)
    path = f"/orders/{p.order_id}"
    server = sim.span(trace, trace.client_span_id, ORDER, SPRING_WEBMVC, "GET /orders/{id}", "SERVER", p.start_us)
    server.attributes.update({"http.request.method": "GET", "http.route": "/orders/{id}", "url.path": path})
    t = p.start_us + sim.us(0.2, 0.8)
    _order_log(sim, server, p.thread, t, "INFO", "c.e.order.web.OrderController", f"fetching order {p.order_id}")
    t += sim.us(1.5, 9.0)
    if p.found:
        _order_log(sim, server, p.thread, t, "INFO", "c.e.order.service.OrderService", f"order {p.order_id} found")
        status, body = 200, 300 + sim.rng.randint(0, 250)
    else:
        _order_log(sim, server, p.thread, t, "WARN", "c.e.order.service.OrderService", f"order {p.order_id} not found")
        status, body = 404, _ERROR_BODY[404]
    _finish_server(server, t + sim.us(0.2, 0.9), status)
    _gateway(sim, trace, server, f"GET {path} HTTP/1.1", status, body, p.remote_addr, p.user_agent)
