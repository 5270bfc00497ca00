"""Plans: the knobs of each simulated request. Faults act on plans; flows interpret them."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.generate.model import AccessRecord, LogRecord, SlowQuery, Span, Trace


@dataclass(slots=True)
class CheckoutPlan:
    """Knobs of one ``POST /orders``; defaults are a healthy checkout, faults turn them."""

    start_us: int
    user_id: int
    sku: str
    qty: int
    sampled: bool
    stock_check: bool
    pool: str  # inventory-service connection pool: "primary" (sqlcommenter) or "batch"
    user_db_us: int  # SELECT users duration
    update_us: int  # UPDATE inventory execution time (server side)
    lock_us: int  # part of update_us spent waiting for row locks
    remote_addr: str
    user_agent: str
    thread: str
    errno: int = 0  # MySQL error the UPDATE ends with (0: none)
    fault_id: str | None = None  # this checkout is a case of that fault
    affected_by: str | None = None  # slowed down by that fault, without an error


@dataclass(slots=True)
class CheckoutResult:
    """What a checkout produced, for fault bookkeeping."""

    plan: CheckoutPlan
    trace: Trace
    access: AccessRecord | None = None
    symptom: LogRecord | None = None
    user_db: Span | None = None
    update: Span | None = None
    slow: SlowQuery | None = None


@dataclass(slots=True)
class LookupPlan:
    """Knobs of one ``GET /orders/{id}``."""

    start_us: int
    order_id: int
    found: bool
    sampled: bool
    from_client: bool  # False: curl without traceparent, order-service starts the trace
    remote_addr: str
    user_agent: str
    thread: str


