"""Data model of the simulated day, and the shared simulation state.

Everything a renderer writes is one of the record types here (spans grouped in traces, log records,
access-log records, slow-log entries). Times are integer microseconds since the Unix epoch, so the
simulation never rounds a float differently on another machine. Renderers set ``line`` on each record
(the 1-based line where it starts in its file) so the ground truth can point at it afterwards.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

SpanKind = Literal["SERVER", "CLIENT", "INTERNAL", "PRODUCER", "CONSUMER"]
Status = Literal["UNSET", "OK", "ERROR"]
Level = Literal["DEBUG", "INFO", "WARN", "ERROR"]
FaultKind = Literal["db_lock_wait", "upstream_timeout"]
AttrValue = str | int | float | bool

MS = 1_000
SECOND = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def at(hour: int, minute: int, second: int = 0, micro: int = 0) -> int:
    """Microseconds since the epoch of a wall-clock time on the simulated day (UTC)."""
    moment = datetime(2026, 11, 17, hour, minute, second, micro, tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def utc(us: int) -> datetime:
    """The UTC datetime of a microsecond timestamp (exact: no float on the way)."""
    return EPOCH + timedelta(microseconds=us)


WINDOW_START = at(14, 0)
WINDOW_END = at(15, 0)

GATEWAY = "api-gateway"
ORDER = "order-service"
USER = "user-service"
INVENTORY = "inventory-service"
MYSQL = "mysql"
OTLP = "otlp"

# Output file of each source, relative to the sample_logs root (forward slashes, as ground truth writes them).
FILES: dict[str, str] = {
    GATEWAY: "api-gateway/access.log",
    ORDER: "order-service/order-service.log",
    USER: "user-service/user-service.jsonl",
    INVENTORY: "inventory-service/inventory-service.log",
    MYSQL: "mysql/inventory-slow.log",
    OTLP: "traces/otelcol-traces.json",
}


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """Resource attributes of an instrumented service."""

    name: str
    version: str
    host: str
    language: str


SERVICES: dict[str, ServiceInfo] = {
    ORDER: ServiceInfo(ORDER, "2.7.1", "order-6b7d-1", "java"),
    USER: ServiceInfo(USER, "1.12.0", "user-7f9c-2", "python"),
    INVENTORY: ServiceInfo(INVENTORY, "1.14.2", "inventory-5d8b-1", "go"),
}


@dataclass(frozen=True, slots=True)
class Scope:
    """Instrumentation scope (library) that produced a span."""

    name: str
    version: str


SPRING_WEBMVC = Scope("io.opentelemetry.spring-webmvc-6.0", "2.10.0-alpha")
SPRING_WEB = Scope("io.opentelemetry.spring-web-6.0", "2.10.0-alpha")
FASTAPI = Scope("opentelemetry.instrumentation.fastapi", "0.49b2")
ASYNCPG = Scope("opentelemetry.instrumentation.asyncpg", "0.49b2")
OTELHTTP = Scope("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "0.57.0")
OTELSQL = Scope("github.com/XSAM/otelsql", "0.35.0")


@dataclass(slots=True)
class SpanEvent:
    """A span event; only ``exception`` events are simulated."""

    name: str
    ts_us: int
    attributes: dict[str, AttrValue]


@dataclass(slots=True)
class Span:
    """One span. ``attributes`` keeps insertion order, which is the order the renderer writes."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    service: str
    scope: Scope
    name: str
    kind: SpanKind
    start_us: int
    end_us: int = 0
    attributes: dict[str, AttrValue] = field(default_factory=dict)
    status: Status = "UNSET"
    status_message: str = ""
    events: list[SpanEvent] = field(default_factory=list)
    seq: int = 0
    host: str = ""  # the host that ran it (scenario engine: one resource per host)
    links: list[tuple[str, str]] = field(default_factory=list)  # (trace_id, span_id) of linked spans

    def fail(self, message: str, exception_type: str | None = None, at_us: int | None = None) -> None:
        """Mark the span ERROR; with ``exception_type``, record the exception event as SDKs do."""
        self.status = "ERROR"
        self.status_message = message
        if exception_type is not None:
            attrs: dict[str, AttrValue] = {"exception.type": exception_type, "exception.message": message}
            self.events.append(SpanEvent("exception", self.end_us if at_us is None else at_us, attrs))


@dataclass(slots=True)
class Trace:
    """A request's trace. ``client_span_id`` is the web client's span: in the traceparent, never exported."""

    trace_id: str
    sampled: bool
    client_span_id: str | None
    spans: list[Span] = field(default_factory=list)

    @property
    def flags(self) -> str:
        """W3C trace-flags: ``01`` sampled, ``00`` sampled out."""
        return "01" if self.sampled else "00"

    def header(self, span_id: str) -> str:
        """The W3C ``traceparent`` value that names ``span_id`` as the caller."""
        return f"00-{self.trace_id}-{span_id}-{self.flags}"

    @property
    def traceparent(self) -> str | None:
        """The header the web client sent (its own span as the parent), or None when it sent none."""
        return None if self.client_span_id is None else self.header(self.client_span_id)


@dataclass(slots=True)
class LogRecord:
    """A service log record. ``fields`` are the logfmt keys / JSON attributes after the message.

    ``raw`` replaces the rendered text (a garbage line); ``cut`` writes only the first part of the
    rendered line (a truncated write). Both exist to plant malformed input.
    """

    ts_us: int
    service: str
    level: Level
    logger: str
    message: str
    trace_id: str | None = None
    span_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    thread: str = "main"
    stack: tuple[str, ...] = ()
    raw: str | None = None
    cut: bool = False
    seq: int = 0
    line: int = 0


@dataclass(slots=True)
class AccessRecord:
    """An nginx access-log line; nginx writes it when the response is done, so ``end_us`` orders it."""

    end_us: int
    remote_addr: str
    request: str
    status: int
    body_bytes: int
    user_agent: str
    traceparent: str | None
    request_time_us: int
    upstream_us: int | None
    trace_id: str | None = None
    cut: bool = False
    seq: int = 0
    line: int = 0


@dataclass(slots=True)
class SlowQuery:
    """A MySQL slow-log entry (server-side times: ``start_us``/``end_us`` bracket the execution)."""

    start_us: int
    end_us: int
    lock_us: int
    db_user: str
    client_ip: str
    thread_id: int
    statement: str  # with literal values, without the trailing ';'
    comment: str | None = None  # sqlcommenter comment, appended before the ';'
    errno: int = 0
    rows_sent: int = 0
    rows_examined: int = 1
    read_next: int = 0
    bytes_sent: int = 11
    trace_id: str | None = None
    seq: int = 0
    line: int = 0


@dataclass(slots=True)
class FaultCase:
    """One request that shows a fault's symptom, with what the pipeline should blame."""

    fault_id: str
    trace: Trace
    symptom: LogRecord
    root_cause: Span
    access: AccessRecord
    slow: SlowQuery | None


@dataclass(slots=True)
class Fault:
    """An injected fault: its cases plus context the ground truth reports."""

    fault_id: str
    kind: FaultKind
    description: str
    window: tuple[int, int]
    cases: list[FaultCase] = field(default_factory=list)
    blocker: SlowQuery | None = None  # the statement holding the locks (db_lock_wait)
    affected: list[Trace] = field(default_factory=list)  # slowed down, no error


@dataclass(slots=True)
class Day:
    """Everything one simulation produced, before rendering."""

    seed: int
    traces: list[Trace] = field(default_factory=list)
    logs: dict[str, list[LogRecord]] = field(default_factory=lambda: {ORDER: [], USER: [], INVENTORY: []})
    access: list[AccessRecord] = field(default_factory=list)
    slow: list[SlowQuery] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    malformed: list[tuple[str, LogRecord | AccessRecord]] = field(default_factory=list)
    unrelated_errors: list[LogRecord] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class Sim:
    """Shared state of one run: the seeded RNG, ID/sequence counters and the sinks records go to.

    Every random choice goes through ``self.rng`` in a fixed program order, so one seed gives one day.
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.day = Day(seed=seed)
        self._seq = 0
        self._order_id = 100230

    def _next_seq(self) -> int:
        # Ties in time sort by creation order, which is as deterministic as the RNG.
        self._seq += 1
        return self._seq

    def _hex_id(self, bits: int) -> str:
        value = 0
        while value == 0:  # an all-zero ID is invalid (W3C, DESIGN §4)
            value = self.rng.getrandbits(bits)
        return f"{value:0{bits // 4}x}"

    def span_id(self) -> str:
        """A fresh 16-hex span ID."""
        return self._hex_id(64)

    def us(self, lo_ms: float, hi_ms: float) -> int:
        """A random duration between ``lo_ms`` and ``hi_ms`` milliseconds, in microseconds."""
        return round(self.rng.uniform(lo_ms, hi_ms) * MS)

    def order_id(self) -> int:
        """The next order number (orders are numbered in the order they are created)."""
        self._order_id += 1
        return self._order_id

    def new_trace(self, sampled: bool, from_client: bool = True) -> Trace:
        """Start a trace; ``from_client`` means the web client sent a traceparent (its span is the parent)."""
        trace = Trace(self._hex_id(128), sampled, self.span_id() if from_client else None)
        self.day.traces.append(trace)
        return trace

    def span(
        self,
        trace: Trace,
        parent: str | None,
        service: str,
        scope: Scope,
        name: str,
        kind: SpanKind,
        start_us: int,
    ) -> Span:
        """Open a span in ``trace`` (the caller sets its end, attributes and status)."""
        span = Span(trace.trace_id, self.span_id(), parent, service, scope, name, kind, start_us)
        span.seq = self._next_seq()
        trace.spans.append(span)
        return span

    def log(self, record: LogRecord) -> LogRecord:
        """Emit a service log record."""
        record.seq = self._next_seq()
        self.day.logs[record.service].append(record)
        return record

    def access(self, record: AccessRecord) -> AccessRecord:
        """Emit an access-log record."""
        record.seq = self._next_seq()
        self.day.access.append(record)
        return record

    def slow(self, query: SlowQuery) -> SlowQuery:
        """Emit a slow-log entry."""
        query.seq = self._next_seq()
        self.day.slow.append(query)
        return query
