"""Request flows at the edge: what order-service and the nginx gateway do for each request.

A flow only interprets its plan: a fault changes the plan's knobs (a slower SELECT, a lock wait and an
error on the UPDATE) and the flow works out the consequences (timeouts, error statuses, 5xx, logs).
That keeps fault kinds independent of the services they hit.
"""

from __future__ import annotations

from pipeline.generate import catalog as cat
from pipeline.generate import stacks
from pipeline.generate.calls import call_inventory, call_user, finish_server
from pipeline.generate.model import MS, ORDER, SPRING_WEBMVC, AccessRecord, Level, LogRecord, Sim, Span, Trace
from pipeline.generate.plans import CheckoutPlan, CheckoutResult, LookupPlan

# Body size of order-service's fixed error documents, per status.
_ERROR_BODY = {400: 96, 404: 64, 502: 87, 504: 91}
_CONTROLLER = "c.e.order.web.OrderController"
_SERVICE = "c.e.order.service.OrderService"


def _order_log(
    sim: Sim, server: Span, thread: str, ts: int, level: Level, logger: str, msg: str
) -> LogRecord:
    """An order-service record; Micrometer puts the SERVER span (the active one) in the MDC."""
    record = LogRecord(ts, ORDER, level, logger, msg, server.trace_id, server.span_id, thread=thread)
    return sim.log(record)


def gateway(
    sim: Sim, trace: Trace, server: Span, request: str, status: int, body: int, addr: str, ua: str
) -> AccessRecord:
    """The nginx line of a proxied request: nginx's times bracket order-service's SERVER span by a little."""
    begin = server.start_us - sim.us(0.3, 1.2)
    end = server.end_us + sim.us(0.2, 0.9)
    upstream = server.end_us + sim.us(0.1, 0.2) - (begin + sim.us(0.1, 0.25))
    record = AccessRecord(end, addr, request, status, body, ua, trace.traceparent, end - begin, upstream)
    record.trace_id = trace.trace_id
    return sim.access(record)


def run_checkout(sim: Sim, p: CheckoutPlan) -> CheckoutResult:
    """Simulate one ``POST /orders`` end to end and return what the fault bookkeeping needs."""
    trace = sim.new_trace(p.sampled)
    res = CheckoutResult(p, trace)
    server = sim.span(trace, trace.client_span_id, ORDER, SPRING_WEBMVC, "POST /orders", "SERVER", p.start_us)
    server.attributes.update({"http.request.method": "POST", "http.route": "/orders", "url.path": "/orders"})

    def respond(status: int, body: int, end_us: int) -> CheckoutResult:
        finish_server(server, end_us, status)
        request = "POST /orders HTTP/1.1"
        res.access = gateway(sim, trace, server, request, status, body, p.remote_addr, p.user_agent)
        return res

    def log(ts: int, level: Level, logger: str, msg: str) -> LogRecord:
        return _order_log(sim, server, p.thread, ts, level, logger, msg)

    t = p.start_us + sim.us(0.2, 0.9)
    if p.qty <= 0:  # rejected before any downstream call
        log(t, "WARN", _CONTROLLER, "validation failed: quantity must be positive")
        return respond(400, _ERROR_BODY[400], t + sim.us(0.3, 1.5))
    log(t, "INFO", _CONTROLLER, f"creating order for user {p.user_id}: {p.sku} x{p.qty}")

    user = call_user(sim, trace, server.span_id, t + sim.us(0.5, 2.0), p.user_id, p.user_db_us)
    res.user_db = user.db
    if user.timed_out:
        t = user.client.end_us + sim.us(0.2, 1.0)
        url = f"http://user-service/users/{p.user_id}"
        msg = f"upstream service error: GET {url} timed out after {cat.USER_CLIENT_TIMEOUT_US // MS} ms"
        res.symptom = log(t, "ERROR", _CONTROLLER, msg)
        res.symptom.stack = stacks.read_timed_out(sim.rng, url)
        return respond(504, _ERROR_BODY[504], t + sim.us(0.5, 1.5))
    t = user.client.end_us + sim.us(0.2, 0.6)
    log(t, "INFO", "c.e.order.client.UserClient", f"user {p.user_id} verified")

    client = call_inventory(sim, trace, server.span_id, t + sim.us(0.3, 2.5), p, res)
    t = client.end_us + sim.us(0.2, 1.0)
    if client.status == "ERROR":
        msg = "upstream service error: POST http://inventory-service/inventory/reserve returned 500"
        res.symptom = log(t, "ERROR", _CONTROLLER, msg)
        res.symptom.stack = stacks.reserve_failed(sim.rng)
        return respond(502, _ERROR_BODY[502], t + sim.us(0.5, 1.5))
    log(t, "INFO", "c.e.order.client.InventoryClient", f"reserved {p.sku} x{p.qty}")
    t += sim.us(1.0, 4.0)  # the order row is written (order-service's own DB is not instrumented)
    order_id = sim.order_id()
    total = cat.SKU_BY_ID[p.sku].price_cents * p.qty
    log(
        t,
        "INFO",
        _SERVICE,
        f"order {order_id} created for user {p.user_id} total={total // 100}.{total % 100:02d} EUR",
    )
    server.attributes["order.total"] = total / 100
    return respond(201, 120 + sim.rng.randint(0, 40), t + sim.us(0.2, 0.8))


def run_lookup(sim: Sim, p: LookupPlan) -> None:
    """Simulate one ``GET /orders/{id}`` (order-service only; 404 when the order does not exist)."""
    trace = sim.new_trace(p.sampled, p.from_client)
    path = f"/orders/{p.order_id}"
    server = sim.span(
        trace, trace.client_span_id, ORDER, SPRING_WEBMVC, "GET /orders/{id}", "SERVER", p.start_us
    )
    server.attributes.update({"http.request.method": "GET", "http.route": "/orders/{id}", "url.path": path})
    t = p.start_us + sim.us(0.2, 0.8)
    _order_log(sim, server, p.thread, t, "INFO", _CONTROLLER, f"fetching order {p.order_id}")
    t += sim.us(1.5, 9.0)
    if p.found:
        _order_log(sim, server, p.thread, t, "INFO", _SERVICE, f"order {p.order_id} found")
        status, body = 200, 300 + sim.rng.randint(0, 250)
    else:
        _order_log(sim, server, p.thread, t, "WARN", _SERVICE, f"order {p.order_id} not found")
        status, body = 404, _ERROR_BODY[404]
    finish_server(server, t + sim.us(0.2, 0.9), status)
    gateway(sim, trace, server, f"GET {path} HTTP/1.1", status, body, p.remote_addr, p.user_agent)
