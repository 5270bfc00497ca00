"""Everything outside a request: startup banners, periodic jobs, health checks, batch jobs on the databases,
a few unrelated errors and the planted malformed lines. None of these carry trace context.

Background work is a heap of timed tasks run up to each request's arrival, so it interleaves with the
requests in time order like everything else (and needs no memory beyond the pending tasks).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.generate.engine.calls import PG_LOCK_HOLDER, pg_prefix
from pipeline.generate.engine.core import Engine
from pipeline.generate.engine.sinks import Ref
from pipeline.generate.engine.topology import ACCESS_FILE, PAYMENTS_DB, Host
from pipeline.generate.model import MS, SECOND
from pipeline.generate.render import iso_z, time_local

HEALTH_EVERY_US = 10 * SECOND
PERIODIC_EVERY_US = 60 * SECOND
SETTLEMENT_EVERY_US = 300 * SECOND
_STARTUP: dict[str, tuple[tuple[str, str], ...]] = {
    "spring": (
        ("c.e.Application", "Starting Application using Java 21.0.5 with PID 1"),
        ("o.s.b.w.embedded.tomcat.TomcatWebServer", "Tomcat started on port 8080 (http)"),
        ("c.e.Application", "Started Application in 4.873 seconds (process running for 5.412)"),
    ),
    "otel_json": (
        ("uvicorn.error", "Started server process [1]"),
        ("uvicorn.error", "Application startup complete."),
    ),
    "logfmt_trace": (
        ("main.go:31", "starting"),
        ("db.go:22", "connected to mysql"),
        ("main.go:58", "listening"),
    ),
    "logfmt_span": (("main.go:31", "starting"), ("main.go:58", "listening")),
    "dd_json": (
        ("datadog.trace.agent", 'DATADOG TRACER CONFIGURATION {"version":"1.42.0","env":"prod"}'),
        ("c.e.payment.PaymentApplication", "Started PaymentApplication in 6.12 seconds"),
    ),
    "logstash_json": (("c.e.catalog.CatalogApplication", "Started CatalogApplication in 5.40 seconds"),),
    "text_otel": (
        ("fulfillment.main", "connecting to kafka-1:9092,kafka-2:9092"),
        ("fulfillment.consumer", "joined consumer group fulfillment"),
    ),
    "plain": (("c.e.notify.NotifyApplication", "Started NotifyApplication in 3.02 seconds"),),
}
_PERIODIC: dict[str, tuple[str, str]] = {
    "spring": ("c.e.cache.PriceCache", "refreshed product price cache (412 entries)"),
    "otel_json": ("user_service.flags", "refreshed feature flags (14 flags)"),
    "logfmt_trace": ("pool.go:61", "pool stats"),
    "logfmt_span": ("pool.go:61", "pool stats"),
    "dd_json": (
        "com.zaxxer.hikari.pool.HikariPool",
        "HikariPool-1 - Pool stats (total=10, active=2, idle=8, waiting=0)",
    ),
    "logstash_json": ("c.e.catalog.IndexRefresher", "search index refreshed"),
    "text_otel": ("fulfillment.consumer", "committed offsets for 6 partitions"),
    "plain": ("c.e.notify.SmtpPool", "smtp pool: 4 connections, 0 waiting"),
}
_UNRELATED: tuple[tuple[str, str, str], ...] = (
    ("user-service", "user_service.flags", "failed to refresh feature flags: connection reset"),
    ("notification-service", "c.e.notify.SmtpPool", "smtp connection to mail-relay:587 lost, reconnecting"),
    (
        "catalog-service",
        "c.e.catalog.IndexRefresher",
        "search index refresh failed: read timeout on search-1",
    ),
)


@dataclass(slots=True)
class Planted:
    """What background wrote that the ground truth lists."""

    malformed: list[tuple[Ref, str]] = field(default_factory=list)
    unrelated: list[tuple[Ref, str, str]] = field(default_factory=list)  # ref, service, message
    health_checks: int = 0
    batch_statements: int = 0


class Background:
    """Timed tasks, run in time order up to each arrival."""

    def __init__(self, eng: Engine) -> None:
        self.eng = eng
        self.planted = Planted()
        self._tasks: list[tuple[int, int, Callable[[int], None]]] = []
        start, end = eng.start_us, eng.end_us
        for host in eng.hosts.values():
            if eng.services[host.service].log_format != "nginx":
                self._at(start + eng.us(200, 2000), lambda t, h=host: self._startup(h, t))  # type: ignore[misc]
                self._at(start + PERIODIC_EVERY_US + eng.us(0, 900), lambda t, h=host: self._periodic(h, t))  # type: ignore[misc]
        self._at(start + 7 * SECOND, self._health)
        if "payment-service" in eng.services:
            self._at(start + 150 * SECOND, self._settlement)
        span = end - start
        for i, (service, logger, message) in enumerate(_UNRELATED):
            if service in eng.services:
                t = start + span * (23 + 31 * i) // 100
                self._at(t, lambda t, s=service, lg=logger, m=message: self._unrelated(s, lg, m, t))  # type: ignore[misc]
        self._at(start + span * 41 // 100, self._torn_json)
        self._at(start + span * 58 // 100, self._cut_access)
        self._at(start + span * 77 // 100, self._garbage_logfmt)

    def _at(self, t_us: int, task: Callable[[int], None]) -> None:
        if t_us < self.eng.end_us:
            heapq.heappush(self._tasks, (t_us, self.eng.seq(), task))

    def run_until(self, t_us: int) -> None:
        """Run every task due before ``t_us`` (tasks may schedule their next run)."""
        while self._tasks and self._tasks[0][0] < t_us:
            when, _, task = heapq.heappop(self._tasks)
            task(when)

    def _startup(self, host: Host, t: int) -> None:
        fmt = self.eng.services[host.service].log_format
        for logger, message in _STARTUP[fmt]:
            t, _ = self.eng.log(None, host, None, t + self.eng.us(5, 400), "INFO", logger, message)

    def _periodic(self, host: Host, t: int) -> None:
        fmt = self.eng.services[host.service].log_format
        logger, message = _PERIODIC[fmt]
        fields = (
            {"pool": "primary", "open": "8", "in_use": str(self.eng.rng.randint(0, 4))}
            if "pool" in message
            else None
        )
        self.eng.log(None, host, None, t, "INFO", logger, message, fields=fields, thread="scheduling-1")
        self._at(t + PERIODIC_EVERY_US + self.eng.us(0, 900), lambda t2: self._periodic(host, t2))

    def _health(self, t: int) -> None:
        """The load balancer asks nginx for /healthz (answered by nginx itself: no upstream, no trace)."""
        request = '"GET /healthz HTTP/1.1" 200 2 "-" "ELB-HealthChecker/2.0" "-" 0.000 -'
        line = f"10.0.0.2 - - [{time_local(t)}] {request}"
        self.eng.access(t, line, ("log", "api-gateway", None, None, "none", False, None, False))
        self.planted.health_checks += 1
        self._at(t + HEALTH_EVERY_US, self._health)

    def _settlement(self, t: int) -> None:
        """The settlement batch job: a long UPDATE on payments every 5 minutes (no trace, no comment)."""
        eng = self.eng
        duration = eng.us(1800, 6000)
        end = t + duration
        prefix = pg_prefix(end, PG_LOCK_HOLDER, PAYMENTS_DB, "settlement-job", "10.0.9.7")
        batch = eng.rng.randint(1000, 9999)
        line = (
            f"{prefix}LOG:  duration: {duration / MS:.3f} ms  statement: "
            "UPDATE accounts SET reserved_cents = 0, "
            f"settled_cents = settled_cents + reserved_cents WHERE settlement_batch = {batch}"
        )
        eng.pg_lines(end, [line], ("slow_query", "settlement-job", None, None, "none", False, None, False))
        self.planted.batch_statements += 1
        self._at(t + SETTLEMENT_EVERY_US + eng.us(0, 5000), self._settlement)

    def _unrelated(self, service: str, logger: str, message: str, t: int) -> None:
        host = self.eng.services[service].hosts[0]
        _, ref = self.eng.log(None, host, None, t, "ERROR", logger, message, keep=True)
        assert ref is not None
        self.planted.unrelated.append((ref, service, message))

    def _torn_json(self, t: int) -> None:
        host = self.eng.services["user-service"].hosts[0]
        line = (
            f'{{"timestamp":"{iso_z(t)}","severity_text":"INFO","severity_number":9,"service.name":"user-se'
        )
        self.planted.malformed.append(
            (self.eng.raw_line(host.log_file, t, line), "JSON line cut off mid-record")
        )

    def _cut_access(self, t: int) -> None:
        line = f'10.0.3.17 - - [{time_local(t)}] "POST /ord'
        self.planted.malformed.append(
            (self.eng.raw_line(ACCESS_FILE, t, line), "access-log line cut off mid-line")
        )

    def _garbage_logfmt(self, t: int) -> None:
        host = self.eng.services["inventory-service"].hosts[0]
        ref = self.eng.raw_line(host.log_file, t, "\\x00\\x00\\x00 truncated write")
        self.planted.malformed.append((ref, "garbage text, not logfmt"))
