"""The engine's shared state: one seeded RNG, ID and sequence counters, the sinks, and the helpers that
turn a simulated action into output (a span, a log record, a slow-log entry).

Times are integer microseconds since the epoch. A log record is written at its true time plus its host's
clock error (only the skewed host has one); spans always carry true times (the tracing agent's clock).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.generate.engine import logformats
from pipeline.generate.engine.exports import Exports
from pipeline.generate.engine.params import ScenarioParams
from pipeline.generate.engine.sinks import FileSink, Ref, SpanSink, TruthRow
from pipeline.generate.engine.topology import (
    ACCESS_FILE,
    EXPORT_FILES,
    ID_FORM,
    MS_FORMATS,
    MYSQL_FILE,
    PG_FILE,
    SKEWED_HOST,
    Database,
    Exporter,
    Host,
    Role,
    Service,
    build,
)
from pipeline.generate.model import MS, SECOND, SlowQuery, Span, SpanKind, Trace, at
from pipeline.generate.render import SLOW_LOG_BANNER, slow_entry

WINDOW_START = at(14, 0)
BATCH_WINDOW_US = 10 * SECOND  # the span exporters' batch timeout
PG_THRESHOLD_US = 50 * MS  # log_min_duration_statement = 50
MYSQL_THRESHOLD_US = 50 * MS  # long_query_time = 0.05


@dataclass(slots=True)
class Req(Trace):
    """A trace being simulated (the incident day's Trace: ID, head-sampling decision, the web client's span,
    the spans), plus whether its ID has only 64 bits and the fault it carries (a case or merely affected)."""

    id64: bool = False
    fault: str | None = None


class SlowLogSink(FileSink):
    """The MySQL slow log: entries render at write time (``use db;`` only on a connection's first entry)."""

    def __init__(self, out_dir: Path, rel: str, spill_dir: Path) -> None:
        super().__init__(out_dir, rel, spill_dir)
        self._seen: set[int] = set()
        self.header(list(SLOW_LOG_BANNER))

    def render(self, payload: Any) -> tuple[list[str], TruthRow | None, Ref | None]:
        query: SlowQuery = payload[0]
        row: TruthRow = payload[1]
        ref: Ref = payload[2]
        lines = slow_entry(query, query.thread_id not in self._seen)
        self._seen.add(query.thread_id)
        return lines, row, ref


class Engine:
    """Shared state of one scenario run."""

    def __init__(self, out_dir: Path, params: ScenarioParams, spill_dir: Path) -> None:
        self.params = params
        self.rng = random.Random(params.seed)
        self.services: dict[str, Service] = build(params)
        self.hosts: dict[str, Host] = {h.name: h for s in self.services.values() for h in s.hosts}
        self.start_us = WINDOW_START
        self.end_us = WINDOW_START + round(params.hours * 3600 * SECOND)
        self.skew_host = SKEWED_HOST if params.has("clock_skew") and SKEWED_HOST in self.hosts else None
        self.skew_us = round(params.skew_ms * MS) if self.skew_host else 0
        self._seq = 0
        self._order_id = 200_000
        self._pools: dict[tuple[str, str], list[list[int]]] = {}  # (host, db) -> [[conn id, busy until]]
        self._next_conn = {"mysql": 4711, "postgresql": 21400}
        exports = Exports(self.services)
        renderers: dict[Exporter, Callable[[list[Span]], str]] = {
            "otlp": exports.otlp,
            "jaeger": exports.jaeger,
            "zipkin": exports.zipkin,
        }
        used = sorted({h.exporter for h in self.hosts.values()})
        self.span_sinks = {e: SpanSink(out_dir, EXPORT_FILES[e], renderers[e], BATCH_WINDOW_US) for e in used}
        self.files: dict[str, FileSink] = {}
        for host in self.hosts.values():
            if host.log_file not in self.files:
                self.files[host.log_file] = FileSink(out_dir, host.log_file, spill_dir)
        self.mysql: FileSink = SlowLogSink(out_dir, MYSQL_FILE, spill_dir)
        self.pg = FileSink(out_dir, PG_FILE, spill_dir)
        self.files[MYSQL_FILE] = self.mysql
        self.files[PG_FILE] = self.pg
        self.counts: dict[str, int] = {"traces": 0, "traces_sampled_out": 0, "consumer_traces": 0}

    # --- ids and randomness ---------------------------------------------------------------------------

    def seq(self) -> int:
        self._seq += 1
        return self._seq

    def us(self, lo_ms: float, hi_ms: float) -> int:
        """A random duration between ``lo_ms`` and ``hi_ms`` milliseconds, in microseconds."""
        return round(self.rng.uniform(lo_ms, hi_ms) * MS)

    def hex_id(self, bits: int = 64) -> str:
        value = 0
        while value == 0:  # an all-zero ID is invalid
            value = self.rng.getrandbits(bits)
        return f"{value:0{bits // 4}x}"

    def order_id(self) -> int:
        """The next order number (orders are numbered in the order they are created)."""
        self._order_id += 1
        return self._order_id

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def new_trace(self, sampled: bool, id64: bool, fault: str | None = None) -> Req:
        """Start a trace; a 64-bit trace ID is stored canonically (16 zeros in front)."""
        trace_id = ("0" * 16 + self.hex_id(64)) if id64 else self.hex_id(128)
        self.counts["traces"] += 1
        self.counts["traces_sampled_out"] += not sampled
        return Req(trace_id, sampled, None, id64=id64, fault=fault)

    # --- spans ----------------------------------------------------------------------------------------

    def span(
        self, req: Req, parent: str | None, host: Host, role: Role, name: str, kind: SpanKind, start_us: int
    ) -> Span:
        """Open a span on ``host`` (the caller sets its end, attributes and status)."""
        scope = self.services[host.service].scopes[role]
        span = Span(req.trace_id, self.hex_id(64), parent, host.service, scope, name, kind, start_us)
        span.seq = self.seq()
        span.host = host.name
        req.spans.append(span)
        return span

    def finish(self, req: Req) -> None:
        """Hand a finished trace's spans to the exporters (only when it was sampled)."""
        if req.sampled:
            for span in req.spans:
                self.span_sinks[self.hosts[span.host].exporter].push(span)
        req.spans = []

    # --- log records ----------------------------------------------------------------------------------

    def log_time(self, host: Host, ts_us: int) -> int:
        """The true time a record can carry: rounded up to whole ms where the format keeps only ms."""
        if self.services[host.service].log_format in MS_FORMATS:
            return -(-ts_us // MS) * MS
        return ts_us

    def log(
        self,
        req: Req | None,
        host: Host,
        span: Span | None,
        ts_us: int,
        level: str,
        logger: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        thread: str = "main",
        stack: tuple[str, ...] = (),
        keep: bool = False,
    ) -> tuple[int, Ref | None]:
        """Write a service log record at true time ``ts_us`` (rounded, see :meth:`log_time`).

        Returns the true time used and, with ``keep``, the ref that learns the record's line.
        """
        ts = self.log_time(host, ts_us)
        fmt = self.services[host.service].log_format
        in_trace = req is not None and span is not None
        shows_ids = in_trace and fmt != "plain"
        event = logformats.Event(
            ts + (self.skew_us if host.name == self.skew_host else 0),
            host.service,
            host.name,
            level,
            logger,
            message,
            req.trace_id if shows_ids and req else None,
            span.span_id if shows_ids and span else None,
            req.id64 if req else False,
            req.sampled if req else True,
            thread,
            fields or {},
            stack,
        )
        lines = logformats.RENDERERS[fmt](event)
        ref = Ref(host.log_file) if keep else None
        row: TruthRow = (
            "log",
            host.service,
            req.trace_id if in_trace and req else None,
            span.span_id if in_trace and span else None,
            ID_FORM[fmt] if shows_ids else "none",
            bool(req.sampled) if in_trace and req else False,
            req.fault if in_trace and req else None,
            False,
        )
        self.files[host.log_file].push(event.ts_us, self.seq(), (lines, row, ref))
        return ts, ref

    def raw_line(self, rel: str, ts_us: int, line: str) -> Ref:
        """A line that is no record (planted garbage): written in time order, no truth row."""
        ref = Ref(rel)
        self.files[rel].push(ts_us, self.seq(), ([line], None, ref))
        return ref

    def access(self, key_us: int, line: str, row: TruthRow, keep: bool = False) -> Ref | None:
        """An nginx access-log line, written when the response is done."""
        ref = Ref(ACCESS_FILE) if keep else None
        self.files[ACCESS_FILE].push(key_us, self.seq(), ([line], row, ref))
        return ref

    # --- databases ------------------------------------------------------------------------------------

    def connection(self, host_name: str, db: Database, start_us: int, end_us: int) -> int:
        """A pooled connection free at ``start_us`` (MySQL thread id / PostgreSQL backend pid)."""
        pool = self._pools.setdefault((host_name, db.name), [])
        free = [c for c in pool if c[1] <= start_us]
        if free:
            conn = self.rng.choice(free)
        elif len(pool) < 8:
            conn = [self._next_conn[db.system], 0]
            self._next_conn[db.system] += 1
            pool.append(conn)
        else:
            conn = min(pool, key=lambda c: c[1])
        conn[1] = max(conn[1], end_us)
        return conn[0]

    def mysql_entry(self, query: SlowQuery, row: TruthRow) -> Ref:
        """A MySQL slow-log entry, written at the statement's end."""
        ref = Ref(MYSQL_FILE)
        self.mysql.push(query.end_us, self.seq(), (query, row, ref))
        return ref

    def pg_lines(self, ts_us: int, lines: list[str], row: TruthRow | None) -> Ref:
        """PostgreSQL log lines of one entry, written at ``ts_us``."""
        ref = Ref(PG_FILE)
        self.pg.push(ts_us, self.seq(), (lines, row, ref))
        return ref

    # --- streaming ------------------------------------------------------------------------------------

    def flush(self, until_us: int | None = None) -> None:
        """Write everything older than ``until_us`` (everything when None)."""
        for sink in self.files.values():
            sink.flush(until_us)
        for spans in self.span_sinks.values():
            spans.flush(until_us)

    def close(self) -> None:
        for sink in self.files.values():
            sink.close()
        for spans in self.span_sinks.values():
            spans.close()
