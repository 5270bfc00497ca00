"""The simulated day, from arrivals to faults: :func:`simulate` is the one entry point.

The order of steps is part of the contract: every step draws from the same seeded RNG, so reordering
them changes the day (and the checked-in sample_logs) even though each step alone is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pipeline.generate import background, faults
from pipeline.generate.flows import run_checkout, run_lookup
from pipeline.generate.model import SECOND, WINDOW_END, WINDOW_START, Day, Sim
from pipeline.generate.plans import healthy_checkout, lookup

CHECKOUTS = 690  # expected organic checkouts; the lock-wait fault adds its own 12
LOOKUPS = 300
FIRST_REQUEST = WINDOW_START + 5 * SECOND  # after the services finished starting
LAST_REQUEST = WINDOW_END - 5 * SECOND  # every request ends inside the window


def _checkout_shape(t_us: int) -> float:
    """Relative checkout rate: flat, with a rush around 14:30 (σ 10 min, peak 2.5× the base rate)."""
    x = (t_us - (WINDOW_START + 1800 * SECOND)) / (600 * SECOND)
    return 1.0 + 1.5 * math.exp(-0.5 * x * x)


def _flat(_t_us: int) -> float:
    return 1.0


def arrivals(sim: Sim, expected: int, shape: Callable[[int], float], peak: float) -> list[int]:
    """Non-homogeneous Poisson arrivals by thinning: ``expected`` on average, rate ∝ ``shape``."""
    area = sum(shape(t) for t in range(FIRST_REQUEST, LAST_REQUEST, SECOND))  # ∫shape dt, in seconds
    top_rate = expected / area * peak  # events per second at the shape's maximum
    out: list[int] = []
    t = float(FIRST_REQUEST)
    while True:
        t += sim.rng.expovariate(top_rate) * SECOND
        if t >= LAST_REQUEST:
            return out
        if sim.rng.random() * peak < shape(int(t)):
            out.append(int(t))


def simulate(seed: int) -> Day:
    """Simulate 2026-11-17 14:00–15:00 UTC and return every record and the injected faults."""
    sim = Sim(seed)
    background.startup(sim)
    plans = [healthy_checkout(sim, t) for t in arrivals(sim, CHECKOUTS, _checkout_shape, 2.5)]
    injected = [faults.inject_db_lock_wait(sim, plans), faults.inject_upstream_timeout(sim, plans)]
    faults.inject_noise(sim, plans)
    plans.sort(key=lambda p: p.start_us)
    results = [run_checkout(sim, p) for p in plans]
    faults.collect_cases(injected, results)
    sim.day.faults.extend(injected)
    lookups = [lookup(sim, t) for t in arrivals(sim, LOOKUPS, _flat, 1.0)]
    for plan in lookups:
        run_lookup(sim, plan)
    background.periodic(sim)
    health = background.health_checks(sim)
    background.plant_malformed(sim)
    day = sim.day
    exported = [t for t in day.traces if t.sampled]
    day.counts = {
        "checkouts": len(plans),
        "order_lookups": len(lookups),
        "health_checks": health,
        "validation_errors": sum(1 for p in plans if p.qty <= 0),
        "not_found": sum(1 for p in lookups if not p.found),
        "traces": len(day.traces),
        "traces_sampled_out": len(day.traces) - len(exported),
        "spans": sum(len(t.spans) for t in exported),
        "slow_log_entries": len(day.slow),
    }
    return day
