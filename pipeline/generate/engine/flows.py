"""order-service's endpoints: checkout, order lookup and the fan-out of order details.

A flow interprets its :class:`Knobs`: a fault changes what a downstream does (a lock wait, a slow SELECT, an
exhausted pool, ...) and the flow works out the consequences (timeouts, retries, an open breaker, error
statuses, the ``upstream service error`` record the on-call engineer starts from).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.generate.engine import payment
from pipeline.generate.engine import services as svc
from pipeline.generate.engine.calls import (
    Call,
    Handler,
    http_call,
)
from pipeline.generate.engine.core import Req
from pipeline.generate.engine.services import Knobs
from pipeline.generate.engine.sinks import Ref
from pipeline.generate.model import MS, Span

_CONTROLLER = "c.e.order.web.OrderController"
USER_TIMEOUT_MS = 1000
INVENTORY_TIMEOUT_MS = 2000
PAYMENT_TIMEOUT_MS = 1000
CATALOG_TIMEOUT_MS = 400
SYMPTOM = "upstream service error"
_ERROR_BODY = {400: 96, 404: 64, 500: 87, 502: 87, 503: 91, 504: 91}


@dataclass(slots=True)
class Outcome:
    """What the ground truth needs from a request: its symptom record and the consumer trace it started."""

    symptom: Ref | None = None
    message: str = ""
    symptom_service: str = ""
    consumer: Req | None = None
    producer_span: Span | None = None


# --- order-service ----------------------------------------------------------------------------------------


def _symptom(oc: Call, out: Outcome, message: str, stack: tuple[str, ...]) -> None:
    out.symptom = oc.log("ERROR", _CONTROLLER, message, stack=stack, keep=True)
    out.message = message
    out.symptom_service = oc.host.service


_TIMED_OUT = ("org.springframework.web.client.ResourceAccessException", "Read timed out")
_HTTP_500 = (
    "org.springframework.web.client.HttpServerErrorException$InternalServerError",
    "500 Internal Server Error",
)


def _client_stack(error: tuple[str, str], client_class: str) -> tuple[str, ...]:
    """The Java stack trace of a failed RestClient call (``error``: exception class and message)."""
    return (
        f"{error[0]}: {error[1]}",
        f"\tat com.example.order.client.{client_class}(RestClientAdapter.java:58)",
        "\tat com.example.order.service.OrderService.placeOrder(OrderService.java:81)",
        "\tat com.example.order.web.OrderController.create(OrderController.java:44)",
        "\t... 87 common frames omitted",
    )


@dataclass(slots=True)
class Checkout:
    """The knobs of one ``POST /orders`` that are not faults."""

    user_id: int
    sku: str
    qty: int
    stock_check: bool
    comment: bool  # inventory-service's primary pool goes through the sqlcommenter middleware
    user_comment: bool
    request_id: str


def checkout(oc: Call, k: Knobs, p: Checkout, out: Outcome) -> int:
    """order-service ``POST /orders``: user, inventory, payment (breaker, retries), Kafka, notification."""
    eng = oc.eng
    has = eng.services
    if p.qty <= 0:
        oc.log("WARN", _CONTROLLER, "validation failed: quantity must be positive")
        return oc.end(400)
    oc.log("INFO", _CONTROLLER, f"creating order for user {p.user_id}: {p.sku} x{p.qty}")
    select_us = eng.us(1.5, 9.0)
    if k.kind == "slow_query":
        select_us = eng.us(1150, 1400)
    elif k.affected == "slow_query":
        select_us = eng.us(200, 600)
    user_url = f"/users/{p.user_id}"
    comment = p.user_comment if k.kind != "slow_query" else k.comment
    res = http_call(
        oc,
        "user-service",
        "GET",
        user_url,
        "/users/{id}",
        lambda c: svc.get_user(c, k, p.user_id, select_us, comment),
        timeout_us=USER_TIMEOUT_MS * MS,
    )
    if res.timed_out:
        msg = f"{SYMPTOM}: GET http://user-service{user_url} timed out after {USER_TIMEOUT_MS} ms"
        if k.kind == "slow_query":
            k.root = k.extra["user_db"]
        _symptom(oc, out, msg, _client_stack(_TIMED_OUT, "UserClient.getUser"))
        return oc.end(504)
    oc.log("INFO", "c.e.order.client.UserClient", f"user {p.user_id} verified")
    res = http_call(
        oc,
        "inventory-service",
        "POST",
        "/inventory/reserve",
        "/inventory/reserve",
        lambda c: svc.reserve(c, k, p.sku, p.qty, p.stock_check, p.comment),
        timeout_us=INVENTORY_TIMEOUT_MS * MS,
    )
    if res.status >= 500 or res.timed_out:
        msg = f"{SYMPTOM}: POST http://inventory-service/inventory/reserve returned 500"
        _symptom(oc, out, msg, _client_stack(_HTTP_500, "InventoryClient.reserve"))
        return oc.end(502)
    oc.log("INFO", "c.e.order.client.InventoryClient", f"reserved {p.sku} x{p.qty}")
    order_id = eng.order_id()
    amount = 990 * p.qty + eng.rng.randint(0, 20000)
    if "payment-service" in has and not _pay(oc, k, order_id, amount, out):
        return oc.end(503 if k.phase == "open" else 502)
    if "fulfillment-worker" in has:
        producer = oc.child("producer", "order-created publish", "PRODUCER")
        producer.end_us = producer.start_us + eng.us(0.4, 2.5)
        producer.attributes.update(
            {
                "messaging.system": "kafka",
                "messaging.destination.name": "order-created",
                "messaging.operation.type": "publish",
                "messaging.kafka.message.key": str(order_id),
            }
        )
        oc.t = producer.end_us
        out.producer_span = producer
        oc.log("INFO", "c.e.order.events.OrderEvents", f"published order-created for order {order_id}")
    if "notification-service" in has:
        http_call(
            oc,
            "notification-service",
            "POST",
            "/notifications",
            "/notifications",
            lambda c: svc.notify(c, k, p.user_id, order_id, p.request_id),
            timeout_us=1000 * MS,
        )
    total = f"{amount // 100}.{amount % 100:02d}"
    oc.log(
        "INFO",
        "c.e.order.service.OrderService",
        f"order {order_id} created for user {p.user_id} total={total} EUR",
    )
    oc.server.attributes["order.id"] = order_id
    return oc.end(201)


def _pay(oc: Call, k: Knobs, order_id: int, amount: int, out: Outcome) -> bool:
    """order-service → payment-service through its breaker (and retries); False: the user got an error."""
    eng = oc.eng
    url = "http://payment-service/payments"
    if k.kind == "circuit_breaker" and k.phase == "open":
        cb = oc.child("internal", "CircuitBreaker payment-service", "INTERNAL")
        cb.end_us = cb.start_us + eng.us(0.02, 0.2)
        msg = "CircuitBreaker 'payment-service' is OPEN and does not permit further calls"
        cb.attributes.update(
            {"resilience4j.circuitbreaker.name": "payment-service", "resilience4j.state": "OPEN"}
        )
        cb.fail(msg, "io.github.resilience4j.circuitbreaker.CallNotPermittedException", cb.end_us)
        oc.t = cb.end_us
        k.root = cb
        _symptom(oc, out, f"{SYMPTOM}: POST {url} not permitted: {msg}", ())
        return False
    attempts = 3 if k.kind == "retry_timeout" else 1
    for attempt in range(1, attempts + 1):
        mode = _payment_mode(k, attempt, attempts)
        res = http_call(
            oc,
            "payment-service",
            "POST",
            "/payments",
            "/payments",
            lambda c, mode=mode: payment.charge(c, k, order_id, amount, mode),  # type: ignore[misc]
            timeout_us=PAYMENT_TIMEOUT_MS * MS,
        )
        res.client.attributes["http.request.resend_count"] = attempt - 1
        if not res.timed_out and res.status < 500:
            return True
        if attempt < attempts:
            why = "Read timed out" if res.timed_out else f"{res.status}"
            oc.log(
                "WARN",
                "c.e.order.client.PaymentClient",
                f"retrying POST {url} (attempt {attempt + 1} of {attempts}) after: {why}",
            )
            oc.step(100, 200)  # back-off
    suffix = f" after {attempts} attempts" if attempts > 1 else ""
    msg = f"{SYMPTOM}: POST {url} returned 500{suffix}"
    _symptom(oc, out, msg, _client_stack(_HTTP_500, "PaymentClient.charge"))
    return False


def _payment_mode(k: Knobs, attempt: int, attempts: int) -> str:
    if k.kind == "retry_timeout":
        return "psp_slow" if attempt < attempts else "serialize"
    if k.kind == "pool_exhaustion":
        return "pool_fail"
    if k.kind == "downstream_exception" and k.variant % 2 == 0:
        return "exception"
    if k.kind == "circuit_breaker":
        return "psp_fail"
    if k.affected == "pool_exhaustion":
        return "pool_slow"
    return "ok"


def lookup(oc: Call, k: Knobs, order_id: int, found: bool) -> int:
    """order-service ``GET /orders/{id}`` (its own, uninstrumented database; 404 for unknown orders)."""
    oc.log("INFO", _CONTROLLER, f"fetching order {order_id}")
    oc.step(1.5, 9.0)
    if not found:
        oc.log("WARN", "c.e.order.service.OrderService", f"order {order_id} not found")
        return oc.end(404)
    oc.log("INFO", "c.e.order.service.OrderService", f"order {order_id} found")
    return oc.end(200)


def details(oc: Call, k: Knobs, order_id: int, user_id: int, sku: str, out: Outcome) -> int:
    """order-service ``GET /orders/{id}/details``: every branch in parallel, with staggered starts.

    In a fan-out case the user branch starts first and runs long (the longest span) but ends in time; the
    catalog branch starts later and is cut off by its 400 ms timeout: it ends last and decides the answer.
    """
    eng = oc.eng
    oc.log("INFO", _CONTROLLER, f"loading details of order {order_id}")
    t0 = oc.t + eng.us(0.2, 0.8)
    fan = k.kind == "fanout"
    branches: list[tuple[str, str, str, Handler, int]] = []
    select_us = eng.us(550, 600) if fan else eng.us(1.5, 9.0)
    branches.append(
        (
            "user-service",
            f"/users/{user_id}",
            "/users/{id}",
            lambda c: svc.get_user(c, k, user_id, select_us, True),
            USER_TIMEOUT_MS,
        )
    )
    branches.append(
        (
            "inventory-service",
            f"/inventory/reservations/{order_id}",
            "/inventory/reservations/{order}",
            lambda c: svc.reservations(c, k, order_id),
            INVENTORY_TIMEOUT_MS,
        )
    )
    if "payment-service" in eng.services:
        branches.append(
            (
                "payment-service",
                f"/payments/{order_id}",
                "/payments/{order}",
                lambda c: payment.payment_of(c, k, order_id),
                PAYMENT_TIMEOUT_MS,
            )
        )
    for name in list(eng.services)[8:]:
        short = name.split("-")[0]
        branches.append(
            (
                name,
                f"/{short}/orders/{order_id}",
                f"/{short}/orders/{{order}}",
                lambda c: svc.extra_branch(c, k, order_id),
                1000,
            )
        )
    results = []
    start = t0
    for target, path, route, handler, timeout in branches:
        results.append(
            http_call(oc, target, "GET", path, route, handler, timeout_us=timeout * MS, start_us=start)
        )
        start += eng.us(0.5, 6.0)
    cat_start = t0 + (eng.us(250, 300) if fan else eng.us(3, 15))
    cat_path = f"/catalog/products?order={order_id}"
    cat = http_call(
        oc,
        "catalog-service",
        "GET",
        cat_path,
        "/catalog/products",
        lambda c: svc.products_for_order(c, k, order_id, sku),
        timeout_us=CATALOG_TIMEOUT_MS * MS,
        start_us=cat_start,
    )
    results.append(cat)
    oc.t = max(r.client.end_us for r in results)
    if cat.timed_out:
        msg = f"{SYMPTOM}: GET http://catalog-service{cat_path} timed out after {CATALOG_TIMEOUT_MS} ms"
        _symptom(oc, out, msg, _client_stack(_TIMED_OUT, "CatalogClient.products"))
        return oc.end(504)
    oc.log("INFO", _CONTROLLER, f"details of order {order_id} assembled from {len(results)} services")
    return oc.end(200)
