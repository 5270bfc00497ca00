"""Fault injection: one function per fault kind, each turning the knobs of some checkout plans.

A fault function runs before the requests are simulated and returns its :class:`Fault` (what the ground
truth reports); :func:`collect_cases` attaches the simulated cases afterwards. Adding a fault kind means
adding one ``inject_*`` function and its entry in ``ROOT_CAUSE``.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.generate import catalog as cat
from pipeline.generate.model import MS, SECOND, Fault, FaultCase, FaultKind, Sim, SlowQuery, Span, at
from pipeline.generate.plans import CheckoutPlan, CheckoutResult, healthy_checkout

LOCK_WAIT_ID = "inventory-lock-wait-1432"
TIMEOUT_ID = "users-select-slow-1410"
STORY_START = at(14, 32, 5)  # the seed story: the checkout every demo starts from


def _plain(p: CheckoutPlan) -> bool:
    """A healthy checkout no fault or noise has claimed yet."""
    return (
        p.fault_id is None and p.affected_by is None and p.qty > 0 and p.update_us < cat.SLOW_LOG_THRESHOLD_US
    )


def _spread(sim: Sim, count: int, lo: int, hi: int, taken: list[int], min_gap: int) -> list[int]:
    """``count`` random times in [lo, hi) at least ``min_gap`` apart from each other and from ``taken``."""
    chosen = list(taken)
    while len(chosen) < count + len(taken):
        t = sim.rng.randrange(lo, hi)
        if all(abs(t - c) >= min_gap for c in chosen):
            chosen.append(t)
    return sorted(chosen[len(taken) :])


def _restock_job(sim: Sim) -> SlowQuery:
    """The nightly restock UPDATE of a whole warehouse: ~48 s holding its row locks (no trace, no comment)."""
    start = at(14, 31, 52, 650_000) + sim.us(0, 150)
    end = start + 48_300 * MS + sim.us(0, 150)
    lock = sim.us(0.15, 0.3)
    query = SlowQuery(start, end, lock, "restock", cat.RESTOCK_IP, cat.RESTOCK_THREAD, cat.RESTOCK_UPDATE)
    query.rows_examined = query.read_next = 1840  # the warehouse's rows, walked through its index
    return sim.slow(query)


def _lock_wait_cases(sim: Sim, start: int, end: int) -> list[CheckoutPlan]:
    """12 checkouts that reserve a locked SKU: the 14:32:05 story plus 11 spread over the lock window.

    Of the 11, two are sampled out (one with, one without a sqlcommenter comment) and four traced ones run
    on the pool without sqlcommenter, so they can only be linked by statement shape and time.
    """
    # 1.1 s apart: no other case shows its symptom in the story's second
    times = _spread(sim, 11, start + SECOND, end - 2 * SECOND, [STORY_START], 1100 * MS)
    order = list(range(len(times)))
    sim.rng.shuffle(order)
    sampled_out, no_comment = set(order[:2]), {order[1], *order[2:6]}
    locked = [s.sku for s in cat.SKUS if s.warehouse == cat.LOCKED_WAREHOUSE]
    story = healthy_checkout(sim, STORY_START)
    story.sku, story.qty, story.stock_check, story.pool, story.sampled = "sku-789", 1, False, "primary", True
    story.update_us, story.lock_us = 190_512, 189_873  # the README's example entry
    cases = [story]
    for i, t in enumerate(times):
        p = healthy_checkout(sim, t)
        p.sku, p.sampled = sim.rng.choice(locked), i not in sampled_out
        p.pool = "batch" if i in no_comment else "primary"
        p.update_us = sim.us(150, 260)
        p.lock_us = p.update_us - sim.us(0.3, 1.0)  # nearly all of it is the wait for the lock
        cases.append(p)
    for p in cases:
        p.errno, p.fault_id = 1213, LOCK_WAIT_ID
    return cases


def inject_db_lock_wait(sim: Sim, plans: list[CheckoutPlan]) -> Fault:
    """The restock job locks warehouse 3's rows for ~48 s; 12 checkouts reserving its SKUs fail with 1213."""
    blocker = _restock_job(sim)
    start, end = blocker.start_us, blocker.end_us
    free = [s.sku for s in cat.SKUS if s.warehouse != cat.LOCKED_WAREHOUSE]
    for p in plans:  # only the injected cases may touch the locked rows
        if (
            start - SECOND <= p.start_us <= end + SECOND
            and cat.SKU_BY_ID[p.sku].warehouse == cat.LOCKED_WAREHOUSE
        ):
            p.sku = sim.rng.choice(free)
    plans.extend(_lock_wait_cases(sim, start, end))
    description = (
        "The restock job's UPDATE of warehouse 3 holds row locks for ~48 s; checkouts reserving those SKUs "
        "wait 150-260 ms on the lock and fail with MySQL error 1213, order-service answers 502."
    )
    return Fault(LOCK_WAIT_ID, "db_lock_wait", description, (start, end), blocker=blocker)


def inject_upstream_timeout(sim: Sim, plans: list[CheckoutPlan]) -> Fault:
    """user-service's SELECT is slow 14:10–14:20: ~25 checkouts slow, 2 hit the 1 s timeout."""
    lo, hi = at(14, 10), at(14, 20)
    candidates = [p for p in plans if lo <= p.start_us < hi - 2 * SECOND and _plain(p)]
    slowed = sim.rng.sample(candidates, min(25, len(candidates)))
    for p in slowed[2:]:
        p.user_db_us, p.affected_by = sim.us(300, 900), TIMEOUT_ID
    for p in slowed[:2]:  # the answer comes after the read timeout; both traced, so spans tell the story
        p.user_db_us, p.fault_id, p.sampled = sim.us(1250, 1350), TIMEOUT_ID, True
    description = (
        "user-service's SELECT on PostgreSQL takes 300-900 ms; twice it takes ~1.3 s and order-service's "
        "call to user-service times out after 1000 ms (504), while user-service finishes without error."
    )
    return Fault(TIMEOUT_ID, "upstream_timeout", description, (lo, hi))


def inject_noise(sim: Sim, plans: list[CheckoutPlan], validation: int = 15, outliers: int = 8) -> None:
    """Harmless trouble: invalid quantities (400) and a few slow-but-fine UPDATEs far from the lock window."""
    for p in sim.rng.sample([p for p in plans if _plain(p)], validation):
        p.qty = sim.rng.choice((0, -1))
    quiet = [p for p in plans if _plain(p) and not at(14, 31) <= p.start_us <= at(14, 34)]
    for p in sim.rng.sample(quiet, outliers):
        p.update_us = sim.us(52, 80)


def _lock_wait_root(res: CheckoutResult) -> Span | None:
    return res.update  # the UPDATE that waited on the lock and failed


def _timeout_root(res: CheckoutResult) -> Span | None:
    return res.user_db  # DESIGN §6: the callee went on; the slow SELECT has the largest self time


ROOT_CAUSE: dict[FaultKind, Callable[[CheckoutResult], Span | None]] = {
    "db_lock_wait": _lock_wait_root,
    "upstream_timeout": _timeout_root,
}


def collect_cases(faults: list[Fault], results: list[CheckoutResult]) -> None:
    """Attach each simulated case (and each merely affected trace) to its fault."""
    by_id = {f.fault_id: f for f in faults}
    for res in results:
        if res.plan.affected_by in by_id:
            by_id[res.plan.affected_by].affected.append(res.trace)
        fault = by_id.get(res.plan.fault_id or "")
        if fault is None:
            continue
        root = ROOT_CAUSE[fault.kind](res)
        if res.symptom is None or root is None or res.access is None:
            raise AssertionError(f"fault case {res.trace.trace_id} did not produce its symptom")
        fault.cases.append(FaultCase(fault.fault_id, res.trace, res.symptom, root, res.access, res.slow))
