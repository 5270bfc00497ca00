"""Fault episodes: when each fault kind strikes, which requests become its cases, and their bookkeeping.

Faults come in episodes (a blocker holding row locks for a while, a slow period of a database, a breaker
that opens), spread over the window. While an episode is active, arriving requests of the flow it hits are
claimed as its cases until it has enough; further requests in the window are merely affected (slower,
no error), which is what makes linking by time window genuinely ambiguous. The plan is a short list of
episodes, not a per-trace table, so memory does not grow with ``--traces``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pipeline.generate.engine.core import Engine
from pipeline.generate.engine.params import FAULT_KINDS
from pipeline.generate.engine.sinks import Ref
from pipeline.generate.model import SECOND, SlowQuery, Span

CASE_SHARE = 0.01  # cases per fault kind, as a share of --traces
PER_EPISODE = {"lock_wait": 4, "circuit_breaker": 6}
TRIP_FAILURES = 3  # failed payment calls before order-service's breaker opens
FLOW_OF: dict[str, str] = {str(kind): "checkout" for kind in FAULT_KINDS} | {"fanout": "details"}
AFFECTS = {"lock_wait", "slow_query", "pool_exhaustion"}  # kinds that slow their episode's other requests
DESCRIPTIONS = {
    "lock_wait": "The restock job's UPDATE of warehouse 3 holds row locks; checkouts reserving those SKUs "
    "wait on the lock and fail (MySQL 1213 deadlock or 1205 lock wait timeout); order-service answers 502.",
    "slow_query": "user-service's SELECT on PostgreSQL takes over a second; order-service's call to "
    "user-service times out after 1000 ms (504) while user-service finishes without error.",
    "pool_exhaustion": "payment-service's HikariCP pool is exhausted: getConnection times out after 250 ms, "
    "no statement is issued, payment-service answers 500.",
    "downstream_exception": "A handler deep in the call chain throws (payment-service's charge or "
    "inventory-service's reserve handler); the callers propagate 500.",
    "retry_timeout": "order-service calls payment-service three times: attempts 1-2 time out while the "
    "payment provider is slow, attempt 3 fails fast on a serialization error in payment-service's UPDATE.",
    "circuit_breaker": "The payment provider fails; after three failed payments order-service's breaker "
    "for payment-service opens and rejects calls at once (no downstream span).",
    "fanout": "order details fan out in parallel; the catalog branch (started last) is cut by its 400 ms "
    "timeout while the longest span is the user branch, which ended in time; the cause is the price query.",
    "async_error": "fulfillment-worker consumes order-created from Kafka in a new trace linked to the "
    "producer span and fails on its database insert or the carrier call.",
}


@dataclass(frozen=True, slots=True)
class RootCause:
    """The span a correct tool blames (only what the truth reports: spans are not kept)."""

    trace_id: str
    span_id: str
    service: str
    name: str

    @classmethod
    def of(cls, span: Span) -> RootCause:
        return cls(span.trace_id, span.span_id, span.service, span.name)


@dataclass(slots=True)
class Case:
    """One request that shows a fault's symptom, with what a correct tool blames."""

    trace_id: str
    sampled: bool
    symptom: Ref
    symptom_service: str
    message: str
    root: RootCause
    slow: Ref | None
    linked_trace_id: str | None = None
    phase: str | None = None
    culprit_service: str | None = None


@dataclass(slots=True)
class Episode:
    """One occurrence of a fault kind: a time window and how many cases it takes."""

    kind: str
    number: int
    start_us: int
    end_us: int
    want: int
    got: int = 0
    trips: int = 0  # circuit_breaker: failed calls so far (the breaker opens at TRIP_FAILURES)
    open_from: int | None = None
    cases: list[Case] = field(default_factory=list)
    affected: list[str] = field(default_factory=list)
    blocker: Ref | None = None
    blocker_query: SlowQuery | None = None

    @property
    def fault_id(self) -> str:
        return f"{self.kind}-{self.number:03d}"


@dataclass(slots=True)
class Claim:
    """What the plan decided for one arriving request."""

    kind: str | None = None
    affected: str | None = None
    phase: str | None = None
    episode: Episode | None = None
    variant: int = 0


class FaultPlan:
    """Episodes of every selected fault kind, and the claim of arriving requests."""

    def __init__(self, eng: Engine, first_us: int, last_us: int, flow_rate: dict[str, float]) -> None:
        self.eng = eng
        self.episodes: list[Episode] = []
        self.case_counts: dict[str, int] = dict.fromkeys(eng.params.fault_kinds, 0)
        n = eng.params.traces
        kinds = eng.params.fault_kinds
        span = last_us - first_us
        for ki, kind in enumerate(kinds):
            total = max(3, round(n * CASE_SHARE))
            per = PER_EPISODE.get(kind, 4)
            count = math.ceil(total / per)
            rate = max(flow_rate.get(FLOW_OF[kind], 0.0), 1e-9)  # eligible arrivals per second
            length = min(round(per / rate * 2.0 * SECOND), span // count)
            for j in range(count):
                want = min(per, total - j * per)
                if kind == "circuit_breaker":  # the trip failures are cases too
                    want = max(1, want - TRIP_FAILURES)
                center = first_us + round((j + (ki + 0.5) / len(kinds)) / count * span)
                start = max(first_us, center - length // 2)
                self.episodes.append(Episode(kind, j + 1, start, min(last_us, start + length), want))
        self.episodes.sort(key=lambda e: (e.start_us, e.kind))
        self._next = 0
        self.active: list[Episode] = []

    def advance(self, t_us: int) -> list[Episode]:
        """Episodes that start by ``t_us`` become active; returns the newly started ones."""
        started = []
        while self._next < len(self.episodes) and self.episodes[self._next].start_us <= t_us:
            started.append(self.episodes[self._next])
            self.active.append(self.episodes[self._next])
            self._next += 1
        self.active = [e for e in self.active if e.end_us > t_us]
        return started

    def claim(self, flow: str, t_us: int) -> Claim:
        """Make an arriving request of ``flow`` a case (or an affected request) of an active episode."""
        affected: Episode | None = None
        for ep in self.active:
            if FLOW_OF[ep.kind] != flow or not ep.start_us <= t_us < ep.end_us:
                continue
            if ep.kind == "circuit_breaker":
                claim = self._breaker(ep, t_us)
                if claim is not None:
                    return claim
                continue
            if ep.got < ep.want:
                ep.got += 1
                self.case_counts[ep.kind] += 1
                return Claim(ep.kind, None, None, ep, self.case_counts[ep.kind])
            if ep.kind in AFFECTS and affected is None:
                affected = ep
        if affected is not None:
            return Claim(None, affected.kind, None, affected)
        return Claim()

    def _breaker(self, ep: Episode, t_us: int) -> Claim | None:
        if ep.trips < TRIP_FAILURES:
            ep.trips += 1
            self.case_counts[ep.kind] += 1
            return Claim(ep.kind, None, "trip", ep, self.case_counts[ep.kind])
        if ep.open_from is None:
            ep.open_from = t_us
        if ep.got < ep.want and t_us - ep.open_from < 30 * SECOND:
            ep.got += 1
            self.case_counts[ep.kind] += 1
            return Claim(ep.kind, None, "open", ep, self.case_counts[ep.kind])
        return None

    def sampled(self, kind: str, number: int) -> bool:
        """Head sampling of a case: the 2nd (and every 6th after) is sampled out, the 1st always in."""
        if not self.eng.params.has("sampling"):
            return True
        if number % 6 == 2:
            return False
        if number % 6 == 1:
            return True
        return self.eng.rng.random() < self.eng.params.sample_rate


def blocker(eng: Engine, ep: Episode) -> None:
    """The restock job's long UPDATE that holds warehouse 3's row locks through a lock_wait episode."""
    start = ep.start_us - eng.us(200, 900)
    end = ep.end_us + eng.us(300, 2000)
    statement = "UPDATE inventory SET on_hand = on_hand + 40 WHERE warehouse_id = 3"
    query = SlowQuery(start, end, eng.us(0.15, 0.3), "restock", "10.0.9.5", 9021, statement)
    query.rows_examined = query.read_next = 1840
    ep.blocker_query = query
    ep.blocker = eng.mysql_entry(query, ("slow_query", "restock-job", None, None, "none", False, None, False))
