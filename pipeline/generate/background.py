"""Records outside any request: startup banners, periodic jobs, load-balancer health checks, bad lines.

None of these carry trace context, which is the point: the pipeline must keep them without a link.
"""

from __future__ import annotations

from pipeline.generate import catalog as cat
from pipeline.generate.model import (
    GATEWAY,
    INVENTORY,
    MS,
    ORDER,
    SECOND,
    USER,
    WINDOW_END,
    WINDOW_START,
    AccessRecord,
    Level,
    LogRecord,
    Sim,
    at,
)

MINUTE = 60 * SECOND

_ORDER_STARTUP = (
    (
        "c.e.order.OrderServiceApplication",
        "Starting OrderServiceApplication v2.7.1 using Java 21.0.5 with PID 1",
    ),
    ("c.e.order.OrderServiceApplication", 'The following 1 profile is active: "prod"'),
    ("o.s.b.w.embedded.tomcat.TomcatWebServer", "Tomcat initialized with port 8080 (http)"),
    ("o.s.b.w.embedded.tomcat.TomcatWebServer", "Tomcat started on port 8080 (http)"),
    (
        "c.e.order.OrderServiceApplication",
        "Started OrderServiceApplication in 4.873 seconds (process running for 5.412)",
    ),
)
_USER_STARTUP = (
    ("uvicorn.error", "Started server process [1]", {"process.pid": "1"}),
    ("uvicorn.error", "Waiting for application startup.", {"process.pid": "1"}),
    ("user_service.db", "connected to postgresql users-db:5432/users", {"db.pool.max": "10"}),
    ("uvicorn.error", "Application startup complete.", {"process.pid": "1"}),
    (
        "uvicorn.error",
        "Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
        {"server.port": "8000"},
    ),
)
_INVENTORY_STARTUP = (
    ("main.go:31", "starting inventory-service", {"version": "1.14.2"}),
    ("db.go:22", "connected to mysql", {"pool": "primary", "max_open": "8", "sqlcommenter": "true"}),
    ("db.go:22", "connected to mysql", {"pool": "batch", "max_open": "4", "sqlcommenter": "false"}),
    ("main.go:58", "listening", {"addr": ":8080"}),
)
INVENTORY_GARBAGE = "\\x00\\x00\\x00 truncated write"  # the escapes as text: no NUL bytes in the file


def _plain_log(
    sim: Sim, ts: int, service: str, level: Level, logger: str, msg: str, kv: dict[str, str]
) -> LogRecord:
    """A record outside any request: no trace context."""
    return sim.log(LogRecord(ts, service, level, logger, msg, fields=dict(kv)))


def startup(sim: Sim) -> None:
    """Each service (re)starts just after 14:00 and logs its banner lines."""
    t = WINDOW_START + sim.us(300, 500)
    for logger, msg in _ORDER_STARTUP:
        t += sim.us(40, 900)
        _plain_log(sim, t, ORDER, "INFO", logger, msg, {})
    t = WINDOW_START + sim.us(800, 1200)
    for logger, msg, attrs in _USER_STARTUP:
        t += sim.us(5, 300)
        _plain_log(sim, t, USER, "INFO", logger, msg, attrs)
    t = WINDOW_START + sim.us(200, 600)
    for caller, msg, kv in _INVENTORY_STARTUP:
        t += sim.us(2, 120)
        _plain_log(sim, t, INVENTORY, "INFO", caller, msg, kv)


def periodic(sim: Sim) -> None:
    """Background jobs of every service, none of them in a request."""
    _price_cache(sim)
    _feature_flags(sim)
    _pool_stats(sim)


def _price_cache(sim: Sim) -> None:
    """order-service refreshes its price cache every 5 minutes on its scheduler thread."""
    for n in range(1, 12):
        t = at(14, 5 * n) + sim.us(50, 400)
        msg = "refreshed product price cache (412 entries)"
        record = _plain_log(sim, t, ORDER, "INFO", "c.e.order.cache.PriceCache", msg, {})
        record.thread = "scheduling-1"


def _feature_flags(sim: Sim, failing_minute: int = 44) -> None:
    """user-service refreshes feature flags every minute; once it fails: an ERROR unrelated to any request."""
    job = {"job": "feature_flags"}
    for minute in range(60):
        t = at(14, minute, 30) + sim.us(1, 90)
        if minute == failing_minute:
            msg = "failed to refresh feature flags: connection reset"
            sim.day.unrelated_errors.append(_plain_log(sim, t, USER, "ERROR", "user_service.flags", msg, job))
        else:
            _plain_log(sim, t, USER, "INFO", "user_service.flags", "refreshed feature flags (14 flags)", job)


def _pool_stats(sim: Sim) -> None:
    """inventory-service reports both MySQL connection pools every minute."""
    for minute in range(1, 60):
        t = at(14, minute, 15) + sim.us(0, 5)
        for pool, size in (("primary", 8), ("batch", 4)):
            busy = sim.rng.randint(0, size // 2)
            stats = {"pool": pool, "open": str(size), "in_use": str(busy), "idle": str(size - busy)}
            _plain_log(sim, t, INVENTORY, "INFO", "pool.go:61", "pool stats", stats)


def health_checks(sim: Sim, every_us: int = 10 * SECOND) -> int:
    """The load balancer asks nginx for ``/healthz`` (answered by nginx itself: no upstream, no trace)."""
    count = 0
    for t in range(WINDOW_START + 7 * SECOND, WINDOW_END, every_us):
        request = "GET /healthz HTTP/1.1"
        sim.access(
            AccessRecord(t + sim.us(0, 5), cat.HEALTH_ADDR, request, 200, 2, cat.HEALTH_AGENT, None, 0, None)
        )
        count += 1
    return count


def plant_malformed(sim: Sim) -> None:
    """One truncated JSON line, one access line cut short, one garbage line in the logfmt file.

    The damaged records are picked among quiet-time healthy requests, far from the faults, so the
    damage never hides a fault's evidence.
    """
    lo, hi = at(14, 46), at(14, 50)
    users = [
        r for r in sim.day.logs[USER] if lo <= r.ts_us < hi and r.trace_id and r.logger == "user_service.api"
    ]
    victim = sim.rng.choice(users)
    victim.cut = True
    sim.day.malformed.append((USER, victim))
    lines = [r for r in sim.day.access if lo <= r.end_us < hi and r.status == 201]
    cut = sim.rng.choice(lines)
    cut.cut = True
    sim.day.malformed.append((GATEWAY, cut))
    t = sim.rng.randrange(lo, hi - MS)
    garbage = _plain_log(sim, t, INVENTORY, "INFO", "", "", {})
    garbage.raw = INVENTORY_GARBAGE
    sim.day.malformed.append((INVENTORY, garbage))
