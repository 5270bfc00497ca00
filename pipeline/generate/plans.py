"""Plans: the knobs of each simulated request. Faults act on plans; flows interpret them."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.generate import catalog as cat
from pipeline.generate.model import AccessRecord, LogRecord, Sim, SlowQuery, Span, Trace

SAMPLED_OUT = 0.15  # share of traces the head sampler drops


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


def healthy_checkout(sim: Sim, start_us: int) -> CheckoutPlan:
    """A checkout with nothing wrong: ~15% sampled out, 30% with a stock check, 70% on the primary pool."""
    rng = sim.rng
    return CheckoutPlan(
        start_us=start_us,
        user_id=rng.randint(1000, 1999),
        sku=rng.choice(cat.SKUS).sku,
        qty=rng.choices((1, 2, 3), weights=(80, 15, 5))[0],
        sampled=rng.random() >= SAMPLED_OUT,
        stock_check=rng.random() < 0.3,
        pool="primary" if rng.random() < 0.7 else "batch",
        user_db_us=sim.us(1.5, 9.0),
        update_us=sim.us(1.0, 8.0),
        lock_us=sim.us(0.005, 0.06),
        remote_addr=rng.choice(cat.CLIENT_ADDRS),
        user_agent=rng.choice(cat.USER_AGENTS),
        thread=_exec_thread(sim),
    )


def lookup(sim: Sim, start_us: int) -> LookupPlan:
    """A ``GET /orders/{id}``: 10% unknown orders, 5% from support staff's curl without a traceparent."""
    rng = sim.rng
    from_client = rng.random() >= 0.05
    found = rng.random() >= 0.1
    return LookupPlan(
        start_us=start_us,
        order_id=rng.randint(98000, 100230) if found else rng.randint(100900, 109999),  # typos miss
        found=found,
        sampled=rng.random() >= SAMPLED_OUT,
        from_client=from_client,
        remote_addr=rng.choice(cat.CLIENT_ADDRS),
        user_agent=rng.choice(cat.USER_AGENTS) if from_client else cat.CURL_AGENT,
        thread=_exec_thread(sim),
    )


def _exec_thread(sim: Sim) -> str:
    return f"http-nio-8080-exec-{sim.rng.randint(1, 10)}"
