"""payment-service: ``POST /payments`` (pool, account hold, payment provider, payment row) and the
fan-out branch ``GET /payments/{order}``. Its logs carry Datadog's decimal IDs (``mixed_ids``); its spans
go to Jaeger.
"""

from __future__ import annotations

from pipeline.generate.engine.calls import Call, DbError, Statement, db_call, external_call
from pipeline.generate.engine.services import Knobs
from pipeline.generate.engine.topology import PAYMENTS_DB
from pipeline.generate.model import MS

ACCOUNT_UPDATE = Statement(
    PAYMENTS_DB,
    "UPDATE accounts",
    "UPDATE accounts SET reserved_cents = reserved_cents + $1 WHERE id = $2",
    prepared="S_3",
)
PAYMENT_INSERT = Statement(
    PAYMENTS_DB,
    "INSERT payments",
    "INSERT INTO payments (order_id, account_id, amount_cents, state) VALUES ($1, $2, $3, 'captured')",
    prepared="S_4",
)
PAYMENTS_SELECT = Statement(
    PAYMENTS_DB,
    "SELECT payments",
    "SELECT id, state, amount_cents FROM payments WHERE order_id = $1",
    prepared="S_1",
)
SERIALIZE = DbError(
    "ERROR: could not serialize access due to concurrent update", "org.postgresql.util.PSQLException"
)
POOL_TIMEOUT_MS = 250

_PAY = "c.e.payment.PaymentService"
_POOL_EXC = "java.sql.SQLTransientConnectionException"


def charge(c: Call, k: Knobs, order_id: int, amount_cents: int, mode: str) -> int:
    """``POST /payments``: a pooled connection, the account hold, the provider call, the payment row.

    ``mode``: ``ok``, ``pool_fail`` / ``pool_slow`` (pool exhaustion), ``exception`` (a bug in the charge),
    ``psp_slow`` (retry attempts that time out at the caller), ``serialize`` (the retry that fails fast),
    ``psp_fail`` (the provider is down: the failures that trip order-service's circuit breaker).
    """
    eng = c.eng
    order = {"order.id": str(order_id)}
    c.log(
        "INFO",
        "c.e.payment.PaymentController",
        f"charging order {order_id}: {amount_cents / 100:.2f} EUR",
        fields=order,
    )
    pool = c.child("internal", "HikariPool.getConnection", "INTERNAL")
    wait = {"pool_fail": POOL_TIMEOUT_MS * MS + eng.us(0.1, 2.0), "pool_slow": eng.us(40, 200)}.get(
        mode, eng.us(0.02, 0.4)
    )
    pool.end_us = pool.start_us + wait
    pool.attributes.update({"db.system": "postgresql", "pool.name": "HikariPool-1", "pool.max": 10})
    c.t = pool.end_us
    if mode == "pool_fail":
        msg = f"HikariPool-1 - Connection is not available, request timed out after {POOL_TIMEOUT_MS}ms."
        pool.fail(msg, _POOL_EXC, pool.end_us)
        k.root = pool
        c.log(
            "ERROR",
            _PAY,
            f"payment for order {order_id} failed: {msg}",
            fields=order,
            stack=_java_stack(_POOL_EXC, msg),
        )
        return c.end(500)
    work = c.child("internal", "PaymentService.charge", "INTERNAL")
    account = str(eng.rng.randint(1, 5000))
    stmt = Statement(
        ACCOUNT_UPDATE.db, ACCOUNT_UPDATE.name, ACCOUNT_UPDATE.sql, (str(amount_cents), account), "S_3"
    )
    error = SERIALIZE if mode == "serialize" else None
    exec_us = eng.us(0.3, 0.9) if error else eng.us(0.6, 4.0)
    if mode == "ok" and eng.chance(0.004):  # the settlement job holds the account row now and then
        exec_us = eng.us(130, 380)
    lock_us = exec_us - 2 * MS if exec_us >= 130 * MS else 0
    span, _ = db_call(
        c,
        stmt,
        exec_us,
        comment=False,
        route="/payments",
        lock_us=lock_us,
        error=error,
        parent=work,
        fault=c.req.fault,
    )
    if error is not None:
        work.end_us = c.t + eng.us(0.05, 0.3)
        work.fail(error.message, error.exception, work.end_us)
        c.t = work.end_us
        k.root = span
        c.log(
            "ERROR",
            _PAY,
            f"payment for order {order_id} failed: {error.message}",
            fields=order,
            stack=_java_stack(error.exception, error.message),
        )
        return c.end(500)
    if mode == "exception":
        c.step(0.1, 0.8)
        msg = f"currency mismatch for account {account}: order in EUR, account in USD"
        work.end_us = c.t
        work.fail(msg, "java.lang.IllegalStateException", c.t)
        k.root = work
        c.log(
            "ERROR",
            _PAY,
            f"payment for order {order_id} failed: {msg}",
            fields=order,
            stack=_java_stack("java.lang.IllegalStateException", msg),
        )
        return c.end(500)
    psp_us = eng.us(1150, 1600) if mode == "psp_slow" else eng.us(15, 70)
    psp = external_call(
        c,
        "HTTP POST",
        "https://api.psp.example/v1/charges",
        psp_us,
        503 if mode == "psp_fail" else 201,
        parent=work,
    )
    if mode == "psp_fail":
        work.end_us = c.t + eng.us(0.05, 0.3)
        work.fail("payment provider answered 503", "c.e.payment.ProviderException", work.end_us)
        c.t = work.end_us
        k.root = psp
        c.log(
            "ERROR",
            _PAY,
            f"payment for order {order_id} failed: provider answered 503 Service Unavailable",
            fields=order,
        )
        return c.end(500)
    stmt = Statement(
        PAYMENT_INSERT.db,
        PAYMENT_INSERT.name,
        PAYMENT_INSERT.sql,
        (str(order_id), account, str(amount_cents)),
        "S_4",
    )
    db_call(c, stmt, eng.us(0.6, 3.0), comment=False, route="/payments", parent=work, fault=c.req.fault)
    work.end_us = c.t + eng.us(0.05, 0.3)
    c.t = work.end_us
    c.log("INFO", _PAY, f"payment for order {order_id} captured", fields=order)
    return c.end(201)


def payment_of(c: Call, k: Knobs, order_id: int) -> int:
    """``GET /payments/{order}`` (a fan-out branch)."""
    stmt = Statement(PAYMENTS_SELECT.db, PAYMENTS_SELECT.name, PAYMENTS_SELECT.sql, (str(order_id),), "S_1")
    db_call(c, stmt, c.eng.us(0.5, 3.0), comment=False, route="/payments/{order}", fault=c.req.fault)
    c.log(
        "INFO",
        "c.e.payment.PaymentController",
        f"payment of order {order_id} read",
        fields={"order.id": str(order_id)},
    )
    return c.end(200)


def _java_stack(exception: str, message: str) -> tuple[str, ...]:
    return (
        f"{exception}: {message}",
        "\tat c.e.payment.PaymentService.charge(PaymentService.java:112)",
        "\tat c.e.payment.PaymentController.create(PaymentController.java:57)",
        "\t... 86 common frames omitted",
    )
