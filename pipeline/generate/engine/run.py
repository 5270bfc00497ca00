"""The scenario engine's main loop: arrivals in time order, one trace at a time, streamed to the sinks.

Memory stays flat: after each arrival every buffer older than that arrival (minus a margin for the clock
skew) is written out, and a trace's spans go to the exporters as soon as the trace is simulated.
"""

from __future__ import annotations

import bisect
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.generate.engine import consumer, flows, gateway
from pipeline.generate.engine import services as svc
from pipeline.generate.engine.background import Background
from pipeline.generate.engine.calls import Handler
from pipeline.generate.engine.core import Engine
from pipeline.generate.engine.faults import Case, Claim, Episode, FaultPlan, RootCause, blocker
from pipeline.generate.engine.flows import Checkout, Outcome
from pipeline.generate.engine.gateway import Client
from pipeline.generate.engine.params import ScenarioParams, validate
from pipeline.generate.engine.services import FREE_SKUS, LOCKED_SKUS, Knobs
from pipeline.generate.engine.truth import ground_truth, write_records
from pipeline.generate.model import MS, SECOND

GROUND_TRUTH = "ground_truth.json"
FLOW_SHARES: tuple[tuple[str, float], ...] = (
    ("checkout", 0.45),
    ("details", 0.12),
    ("browse", 0.18),
    ("profile", 0.10),
    ("lookup", 0.15),
)
_AGENTS = (
    "checkout-web/4.2 (Android 14)",
    "checkout-web/4.2 (iOS 17.6)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
)
_LEGACY_AGENT = "shop-legacy/3.9 (zipkin-b3)"  # the legacy app: B3 with 64-bit trace IDs
_CLIENT_ADDRS = tuple(f"10.0.3.{n}" for n in (11, 12, 14, 17, 19, 23, 26, 31))


def _rush(x: float) -> float:
    """Relative arrival rate over the window (0..1): flat, with a rush in the middle (2.5x at the peak)."""
    return 1.0 + 1.5 * math.exp(-0.5 * ((x - 0.5) / 0.17) ** 2)


class Arrivals:
    """Exactly ``n`` arrival times in order, following the rush shape: stratified, jittered, streamed."""

    GRID = 2048

    def __init__(self, eng: Engine, n: int, first_us: int, last_us: int) -> None:
        self.eng, self.n, self.first, self.span = eng, n, first_us, last_us - first_us
        cum = [0.0]
        for k in range(self.GRID):
            cum.append(cum[-1] + _rush((k + 0.5) / self.GRID))
        self._cum = [c / cum[-1] for c in cum]

    def __iter__(self):  # type: ignore[no-untyped-def]
        prev = self.first
        for i in range(self.n):
            u = (i + self.eng.rng.random()) / self.n
            k = min(bisect.bisect_right(self._cum, u) - 1, self.GRID - 1)
            lo, hi = self._cum[k], self._cum[k + 1]
            x = (k + (u - lo) / (hi - lo)) / self.GRID
            t = max(prev, self.first + round(x * self.span))
            prev = t
            yield t


@dataclass(slots=True)
class Scenario:
    """The run's moving parts."""

    eng: Engine
    plan: FaultPlan
    flows: tuple[tuple[str, float], ...]


def _flows(eng: Engine) -> tuple[tuple[str, float], ...]:
    if "catalog-service" in eng.services:
        return FLOW_SHARES
    return (("checkout", 0.62), ("profile", 0.13), ("lookup", 0.25))


def _pick(eng: Engine, weights: tuple[tuple[str, float], ...]) -> str:
    r = eng.rng.random() * sum(w for _, w in weights)
    for name, w in weights:
        r -= w
        if r < 0:
            return name
    return weights[-1][0]


def _client(eng: Engine) -> tuple[Client, bool]:
    """Who sends the next request; True when its trace ID is 64-bit (the legacy B3 app)."""
    mixed = eng.params.has("mixed_ids")
    header = "b3" if mixed else "traceparent"
    r = eng.rng.random()
    addr = eng.rng.choice(_CLIENT_ADDRS)
    if r < 0.03:
        return Client(addr, "curl/8.5.0", None), False
    if r < 0.18 and mixed:
        return Client(addr, _LEGACY_AGENT, header), True
    return Client(addr, eng.rng.choice(_AGENTS), header), False


def _uuid(eng: Engine) -> str:
    h = eng.hex_id(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _request(s: Scenario, t: int) -> None:
    """Simulate one arriving request (and the consumer trace a checkout starts)."""
    eng, plan = s.eng, s.plan
    flow = _pick(eng, s.flows)
    claim = plan.claim(flow, t)
    kind = claim.kind if claim.kind != "async_error" else None
    client, id64 = _client(eng)
    if kind is not None:
        sampled = plan.sampled(kind, claim.variant)
    else:
        sampled = not eng.params.has("sampling") or eng.rng.random() < eng.params.sample_rate
    req = eng.new_trace(sampled, id64, kind or claim.affected)
    req.client_span_id = eng.hex_id(64) if client.header is not None else None
    k = Knobs(kind=kind, affected=claim.affected, phase=claim.phase, variant=claim.variant)
    k.comment = claim.variant % 2 == 0
    out = Outcome()
    route, path, target, handler = _route(s, flow, k, claim, out, t)
    gateway.gateway(eng, req, client, t, route.split(" ")[0], path, route.split(" ", 1)[1], target, handler)
    ep = claim.episode
    if ep is not None and kind is not None:
        ep.cases.append(_case(req.trace_id, req.sampled, k, out, claim))
    elif ep is not None and claim.affected is not None:
        ep.affected.append(req.trace_id)
    if out.producer_span is not None:
        _consume(s, req.trace_id, out, claim)
    eng.finish(req)


def _route(
    s: Scenario, flow: str, k: Knobs, claim: Claim, out: Outcome, t: int
) -> tuple[str, str, str, Handler]:
    eng = s.eng
    rng = eng.rng
    if flow == "checkout":
        locked = any(e.kind == "lock_wait" and e.start_us <= t < e.end_us for e in s.plan.active)
        sku = (
            rng.choice(LOCKED_SKUS)
            if k.kind == "lock_wait"
            else rng.choice(FREE_SKUS if locked else FREE_SKUS + LOCKED_SKUS)
        )
        qty = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
        if claim.kind is None and rng.random() < 0.02:
            qty = 0  # a client bug: validation fails (400)
        p = Checkout(
            rng.randint(1000, 9999),
            sku,
            qty,
            rng.random() < 0.3,
            rng.random() < 0.7,
            rng.random() < 0.5,
            _uuid(eng),
        )
        return "POST /orders", "/orders", "order-service", lambda oc: flows.checkout(oc, k, p, out)
    if flow == "details":
        order_id = rng.randint(150_000, 199_999)
        user_id, sku = rng.randint(1000, 9999), rng.choice(FREE_SKUS)
        path = f"/orders/{order_id}/details"
        return (
            "GET /orders/{id}/details",
            path,
            "order-service",
            lambda oc: flows.details(oc, k, order_id, user_id, sku, out),
        )
    if flow == "browse":
        sku = rng.choice(FREE_SKUS + LOCKED_SKUS)
        return (
            "GET /catalog/products/{sku}",
            f"/catalog/products/{sku}",
            "catalog-service",
            lambda c: svc.product(c, k, sku, with_stock=True),
        )
    if flow == "profile":
        uid = rng.randint(1000, 9999)
        return (
            "GET /users/{id}",
            f"/users/{uid}",
            "user-service",
            lambda c: svc.get_user(c, k, uid, eng.us(1.5, 9.0), rng.random() < 0.5),
        )
    order_id = rng.randint(150_000, 199_999)
    found = rng.random() >= 0.1
    return (
        "GET /orders/{id}",
        f"/orders/{order_id}",
        "order-service",
        lambda oc: flows.lookup(oc, k, order_id, found),
    )


def _case(trace_id: str, sampled: bool, k: Knobs, out: Outcome, claim: Claim) -> Case:
    if out.symptom is None or k.root is None:
        raise AssertionError(f"{claim.kind} case {trace_id} did not produce its symptom and root cause")
    culprit = "payment-service" if claim.kind == "circuit_breaker" else None
    return Case(
        trace_id,
        sampled,
        out.symptom,
        out.symptom_service,
        out.message,
        RootCause.of(k.root),
        k.slow,
        None,
        claim.phase,
        culprit,
    )


def _consume(s: Scenario, producer_trace: str, out: Outcome, claim: Claim) -> None:
    """The consumer trace of a published order-created (a case of async_error when claimed so)."""
    eng, plan = s.eng, s.plan
    assert out.producer_span is not None
    case = claim.kind == "async_error"
    sampled = (
        plan.sampled("async_error", claim.variant)
        if case
        else (not eng.params.has("sampling") or eng.rng.random() < eng.params.sample_rate)
    )
    req = eng.new_trace(sampled, False, "async_error" if case else None)
    eng.counts["consumer_traces"] += 1
    k = Knobs(kind="async_error" if case else None, variant=claim.variant)
    cout = Outcome()
    start = out.producer_span.end_us + eng.us(15, 2500)  # consumer lag
    order_id = int(str(out.producer_span.attributes["messaging.kafka.message.key"]))
    consumer.consume(eng, req, out.producer_span, start, order_id, k, cout)
    if case and claim.episode is not None:
        c = _case(req.trace_id, req.sampled, k, cout, claim)
        c.linked_trace_id = producer_trace
        claim.episode.cases.append(c)
    eng.finish(req)


def generate_scenario(out_dir: Path, params: ScenarioParams) -> dict[str, object]:
    """Write a scenario's logs, slow logs, span exports and ground truth under ``out_dir``."""
    validate(params)
    out_dir.mkdir(parents=True, exist_ok=True)
    spill = out_dir / ".generate-spill"
    shutil.rmtree(spill, ignore_errors=True)
    spill.mkdir()
    eng = Engine(out_dir, params, spill)
    margin = max(0, -eng.skew_us) + 50 * MS
    first = eng.start_us + min(5 * SECOND, (eng.end_us - eng.start_us) // 100)
    last = eng.end_us - min(30 * SECOND, (eng.end_us - eng.start_us) // 20)
    arrivals = Arrivals(eng, params.traces, first, last)
    base_rate = params.traces / ((last - first) / SECOND)
    flow_mix = _flows(eng)
    total = sum(w for _, w in flow_mix)
    plan = FaultPlan(eng, first, last, {name: base_rate * w / total for name, w in flow_mix})
    s = Scenario(eng, plan, flow_mix)
    bg = Background(eng)
    for t in arrivals:
        bg.run_until(t)
        for ep in plan.advance(t):
            if ep.kind == "lock_wait":
                blocker(eng, ep)
        _request(s, t)
        eng.flush(t - margin)
    bg.run_until(eng.end_us)
    eng.close()
    records = write_records(eng, out_dir)
    episodes: list[Episode] = plan.episodes
    counts: dict[str, object] = {
        **eng.counts,
        "spans": sum(sink.spans for sink in eng.span_sinks.values()),
        "cases": {kind: sum(len(e.cases) for e in episodes if e.kind == kind) for kind in params.fault_kinds},
        "health_checks": bg.planted.health_checks,
        "batch_statements": bg.planted.batch_statements,
    }
    truth = ground_truth(eng, episodes, bg.planted, records, counts)
    (out_dir / GROUND_TRUTH).write_text(
        json.dumps(truth, sort_keys=True, indent=2) + "\n", encoding="utf-8", newline="\n"
    )
    shutil.rmtree(spill, ignore_errors=True)
    return {
        "out_dir": str(out_dir),
        "seed": params.seed,
        "traces": eng.counts["traces"],
        "consumer_traces": eng.counts["consumer_traces"],
        "traces_sampled_out": eng.counts["traces_sampled_out"],
        "spans": counts["spans"],
        "records": records,
        "faults": counts["cases"],
        "files": len(eng.files) + len(eng.span_sinks),
    }
