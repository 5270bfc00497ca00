"""What each downstream service does with a request: its log records, child spans and statements.

Each handler takes the callee's :class:`Call` and a :class:`Knobs` (what a fault changed) and returns the
HTTP status; it records in ``Knobs`` the spans and slow-log entries the ground truth needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.generate.engine.calls import Call, DbError, Statement, db_call, http_call
from pipeline.generate.engine.sinks import Ref
from pipeline.generate.engine.topology import CATALOG_DB, INVENTORY_DB, USERS_DB
from pipeline.generate.model import MS, Span


@dataclass(slots=True)
class Knobs:
    """What a fault changes in one request, and what the request produced that the truth points at."""

    kind: str | None = None  # the fault kind of this case (None: healthy or merely affected)
    affected: str | None = None  # the fault kind that slows this request down without an error
    phase: str | None = None  # circuit_breaker: "trip" or "open"
    variant: int = 0
    comment: bool = True  # sqlcommenter on the case's slow statement
    root: Span | None = None
    slow: Ref | None = None
    extra: dict[str, Span] = field(default_factory=dict)


USER_SELECT = Statement(
    USERS_DB,
    "SELECT users",
    "SELECT u.id, u.email, a.city FROM users u JOIN addresses a ON a.user_id = u.id WHERE u.id = $1",
    prepared="__asyncpg_stmt_1a__",
)
STOCK_SELECT = Statement(
    INVENTORY_DB, "SELECT inventory", "SELECT on_hand, reserved FROM inventory WHERE sku = ?"
)
RESERVE_UPDATE = Statement(
    INVENTORY_DB,
    "UPDATE inventory",
    "UPDATE inventory SET reserved = reserved + ? WHERE sku = ? AND reserved + ? <= on_hand",
)
RESERVATIONS_SELECT = Statement(
    INVENTORY_DB, "SELECT reservations", "SELECT sku, qty, state FROM reservations WHERE order_id = ?"
)
PRODUCT_SELECT = Statement(
    CATALOG_DB, "SELECT products", "SELECT id, title, brand, image_url FROM products WHERE sku = $1"
)
PRICES_SELECT = Statement(
    CATALOG_DB,
    "SELECT prices",
    "SELECT sku, amount_cents, currency FROM prices WHERE sku = $1 AND valid_from <= now() "
    "ORDER BY valid_from DESC",
)
DEADLOCK = DbError(
    "Error 1213 (40001): Deadlock found when trying to get lock; try restarting transaction",
    "*mysql.MySQLError",
    1213,
)
LOCK_TIMEOUT = DbError(
    "Error 1205 (HY000): Lock wait timeout exceeded; try restarting transaction", "*mysql.MySQLError", 1205
)
LOCKED_SKUS = ("sku-245", "sku-312", "sku-456", "sku-634", "sku-789")  # warehouse 3: the restock job's rows
FREE_SKUS = (
    "sku-101",
    "sku-118",
    "sku-134",
    "sku-156",
    "sku-203",
    "sku-267",
    "sku-338",
    "sku-371",
    "sku-402",
)


# --- user-service ---------------------------------------------------------------------------------------


def get_user(c: Call, k: Knobs, user_id: int, select_us: int, comment: bool) -> int:
    """``GET /users/{id}``: one SELECT on PostgreSQL; a WARN when it was slow."""
    uid = str(user_id)
    c.log("INFO", "user_service.repo", f"loading user {uid}", fields={"user.id": uid})
    stmt = Statement(USER_SELECT.db, USER_SELECT.name, USER_SELECT.sql, (uid,), USER_SELECT.prepared)
    db, slow = db_call(c, stmt, select_us, comment=comment, route="/users/{id}", fault=c.req.fault)
    db.status = "OK"  # the Python instrumentation sets OK explicitly
    if k.kind == "slow_query":
        k.slow, k.extra["user_db"] = slow, db
    took = f"{select_us / MS:.1f}"
    if select_us >= 300 * MS:
        fields = {"db.system": "postgresql", "duration_ms": took}
        c.log("WARN", "user_service.repo", f"slow query users.by_id took {took}ms", fields=fields)
    status = c.end(200)
    c.server.status = "OK"
    total = f"{(c.t - c.server.start_us) / MS:.1f}"
    c.log("INFO", "user_service.api", f"GET /users/{uid} 200 {total}ms", fields={"http.route": "/users/{id}"})
    c.server.end_us = c.t
    return status


# --- inventory-service ----------------------------------------------------------------------------------


def reserve(c: Call, k: Knobs, sku: str, qty: int, stock_check: bool, comment: bool) -> int:
    """``POST /inventory/reserve``: optional stock check, then the UPDATE (where lock waits happen)."""
    item = {"sku": sku, "qty": str(qty)}
    c.server.attributes.update({"item.id": sku, "item.quantity": qty})
    c.log("INFO", "handler.go:42", "reserve request", fields=item)
    if stock_check:
        stmt = Statement(STOCK_SELECT.db, STOCK_SELECT.name, STOCK_SELECT.sql, (f"'{sku}'",))
        db_call(c, stmt, c.eng.us(0.4, 2.5), comment=comment, route="/inventory/reserve", fault=c.req.fault)
        c.log(
            "INFO",
            "reserve.go:57",
            "stock checked",
            fields={"sku": sku, "available": str(c.eng.rng.randint(5, 400))},
        )
    if k.kind == "downstream_exception":  # a nil map in the reservation rules: the handler panics
        msg = "runtime error: invalid memory address or nil pointer dereference"
        c.step(0.1, 0.6)
        c.server.fail(msg, "runtime.Error", c.t)
        c.log(
            "ERROR",
            "recover.go:29",
            f"panic recovered: {msg}",
            fields={**item, "stack": "goroutine 8812 [running]"},
        )
        k.root = c.server
        return c.end(500)
    stmt = Statement(
        RESERVE_UPDATE.db, RESERVE_UPDATE.name, RESERVE_UPDATE.sql, (str(qty), f"'{sku}'", str(qty))
    )
    error = None
    lock_us = c.eng.us(0.005, 0.06)
    exec_us = c.eng.us(1.0, 8.0)
    if k.kind == "lock_wait":
        error = DEADLOCK if k.variant % 2 == 0 else LOCK_TIMEOUT
        wait = c.eng.us(150, 400) if error is DEADLOCK else c.eng.us(1000, 1004)
        lock_us, exec_us = wait, wait + c.eng.us(0.3, 1.0)
    elif k.affected == "lock_wait":  # healthy but slow: same shape as the fault's statements, no error
        exec_us = c.eng.us(52, 90)
    span, slow = db_call(
        c,
        stmt,
        exec_us,
        comment=comment,
        route="/inventory/reserve",
        lock_us=lock_us,
        error=error,
        fault=c.req.fault,
    )
    if error is not None:
        k.root, k.slow = span, slow
        c.log("ERROR", "reserve.go:88", "reserve failed", fields={**item, "err": error.message})
        status = 500
    else:
        c.log("INFO", "reserve.go:71", "reserved", fields=item)
        status = 200
    c.server.attributes["reservation.success"] = status == 200
    c.end(status)
    took = f"{(c.t - c.server.start_us) / MS:.3f}"
    done = {"method": "POST", "path": "/inventory/reserve", "status": str(status), "duration_ms": took}
    c.log("INFO", "middleware.go:35", "request completed", fields=done)
    c.server.end_us = c.t
    return status


def reservations(c: Call, k: Knobs, order_id: int) -> int:
    """``GET /inventory/reservations/{order}`` (a fan-out branch)."""
    stmt = Statement(
        RESERVATIONS_SELECT.db, RESERVATIONS_SELECT.name, RESERVATIONS_SELECT.sql, (str(order_id),)
    )
    db_call(
        c, stmt, c.eng.us(0.5, 4.0), comment=True, route="/inventory/reservations/{order}", fault=c.req.fault
    )
    c.log("INFO", "reservations.go:33", "reservations listed", fields={"order_id": str(order_id)})
    return c.end(200)


def stock(c: Call, k: Knobs, sku: str) -> int:
    """``GET /inventory/stock/{sku}`` (catalog pages)."""
    stmt = Statement(STOCK_SELECT.db, STOCK_SELECT.name, STOCK_SELECT.sql, (f"'{sku}'",))
    db_call(c, stmt, c.eng.us(0.4, 3.0), comment=True, route="/inventory/stock/{sku}", fault=c.req.fault)
    c.log("INFO", "stock.go:21", "stock read", fields={"sku": sku})
    return c.end(200)


# --- catalog-service ------------------------------------------------------------------------------------


def product(c: Call, k: Knobs, sku: str, with_stock: bool) -> int:
    """``GET /catalog/products/{sku}``: cache miss, product row, optionally the stock from inventory."""

    c.log("INFO", "c.e.catalog.ProductController", f"product {sku} requested")
    cache = c.child("cache", "GET", "CLIENT")
    cache.end_us = cache.start_us + c.eng.us(0.1, 0.8)
    cache.attributes.update({"db.system": "redis", "db.operation": "GET", "server.address": "catalog-cache"})
    c.t = cache.end_us
    stmt = Statement(PRODUCT_SELECT.db, PRODUCT_SELECT.name, PRODUCT_SELECT.sql, (f"'{sku}'",))
    db_call(c, stmt, c.eng.us(0.8, 6.0), comment=False, route="/catalog/products/{sku}", fault=c.req.fault)
    if with_stock:
        http_call(
            c,
            "inventory-service",
            "GET",
            f"/inventory/stock/{sku}",
            "/inventory/stock/{sku}",
            lambda cc: stock(cc, k, sku),
        )
    c.log("INFO", "c.e.catalog.ProductController", f"product {sku} served")
    return c.end(200)


def products_for_order(c: Call, k: Knobs, order_id: int, sku: str) -> int:
    """``GET /catalog/products?order=N`` (a fan-out branch): product and price rows read in parallel.

    In a fan-out case the product query starts first and runs long, but the price query, started later,
    ends last: it is on the critical path and has the largest self time (the true root cause).
    """
    eng = c.eng
    c.log("INFO", "c.e.catalog.ProductController", f"products of order {order_id} requested")
    t0 = c.t
    slow = k.kind == "fanout"
    p_stmt = Statement(PRODUCT_SELECT.db, PRODUCT_SELECT.name, PRODUCT_SELECT.sql, (f"'{sku}'",))
    p_us = eng.us(300, 350) if slow else eng.us(0.8, 5.0)
    first, _ = db_call(
        c,
        p_stmt,
        p_us,
        comment=False,
        route="/catalog/products",
        start_us=t0 + eng.us(0.1, 0.5),
        fault=c.req.fault,
    )
    q_stmt = Statement(PRICES_SELECT.db, PRICES_SELECT.name, PRICES_SELECT.sql, (f"'{sku}'",))
    q_start = t0 + (eng.us(40, 60) if slow else eng.us(0.2, 1.0))
    q_us = eng.us(380, 420) if slow else eng.us(0.8, 5.0)
    second, q_slow = db_call(
        c, q_stmt, q_us, comment=k.comment, route="/catalog/products", start_us=q_start, fault=c.req.fault
    )
    if slow:
        k.root, k.slow = second, q_slow
        k.extra["decoy_db"] = first
    c.t = max(first.end_us, second.end_us)
    c.log("INFO", "c.e.catalog.ProductController", f"products of order {order_id} served")
    return c.end(200)


# --- generic extra services (fan-out branches beyond the core eight) --------------------------------------


def extra_branch(c: Call, k: Knobs, order_id: int) -> int:
    """An extra service's branch: some work in an INTERNAL span, a record before and after."""
    svc = c.host.service
    c.log("INFO", f"{svc.split('-')[0]}.handler", f"{svc} handling order {order_id}")
    work = c.child("internal", f"{svc.split('-')[0]}.compute", "INTERNAL")
    work.end_us = work.start_us + c.eng.us(0.5, 6.0)
    c.t = work.end_us
    c.log("INFO", f"{svc.split('-')[0]}.handler", f"{svc} done with order {order_id}")
    return c.end(200)


# --- notification-service (its logs carry no IDs) ---------------------------------------------------------


def notify(c: Call, k: Knobs, user_id: int, order_id: int, request_id: str) -> int:
    """``POST /notifications``: the sidecar's SERVER span carries the request attributes the logs show."""
    c.server.attributes.update(
        {
            "url.path": "/notifications",
            "http.target": "/notifications",
            "http.request.header.x-request-id": request_id,
            "enduser.id": str(user_id),
        }
    )
    logger = "c.e.notify.NotificationHandler"
    c.log("INFO", logger, f"POST /notifications request_id={request_id} user={user_id} received")
    c.step(0.5, 4.0)
    c.log(
        "INFO",
        logger,
        f"queued order_confirmation email for order {order_id} request_id={request_id} user={user_id}",
    )
    return c.end(202)
