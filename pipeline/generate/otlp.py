"""traces/otelcol-traces.json: OTLP JSON lines as the Collector's file exporter writes them.

Each line is one ``ExportTraceServiceRequest``: the spans that ended in one batch window (the batch
processor's timeout), grouped by resource (one ``resourceSpans`` per service) and by instrumentation
scope. Only sampled traces are exported.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable

from pipeline.generate.model import SECOND, SERVICES, AttrValue, Span, Trace
from pipeline.generate.render import LineWriter

BATCH_WINDOW_US = 10 * SECOND  # batch processor timeout
MAX_BATCH = 512  # batch processor send_batch_max_size
_KIND = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
_STATUS_CODE = {"OK": 1, "ERROR": 2}


def _value(v: AttrValue) -> dict[str, object]:
    # bool before int: bool is an int subclass. OTLP JSON carries 64-bit ints as strings.
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": v}


def attributes_json(attrs: dict[str, AttrValue]) -> list[dict[str, object]]:
    return [{"key": k, "value": _value(v)} for k, v in attrs.items()]


def _nanos(us: int) -> str:
    return str(us * 1000)


def span_json(s: Span) -> dict[str, object]:
    """One span in OTLP JSON (pdata's field order; empty fields omitted as the Collector does)."""
    doc: dict[str, object] = {"traceId": s.trace_id, "spanId": s.span_id}
    if s.parent_span_id:
        doc["parentSpanId"] = s.parent_span_id
    doc.update(
        name=s.name,
        kind=_KIND[s.kind],
        startTimeUnixNano=_nanos(s.start_us),
        endTimeUnixNano=_nanos(s.end_us),
    )
    if s.attributes:
        doc["attributes"] = attributes_json(s.attributes)
    if s.events:
        doc["events"] = [
            {"timeUnixNano": _nanos(e.ts_us), "name": e.name, "attributes": attributes_json(e.attributes)}
            for e in s.events
        ]
    if s.links:  # a consumer's link to the producer span (another trace)
        doc["links"] = [{"traceId": trace_id, "spanId": span_id} for trace_id, span_id in s.links]
    status: dict[str, object] = {}
    if s.status_message:
        status["message"] = s.status_message
    if s.status in _STATUS_CODE:
        status["code"] = _STATUS_CODE[s.status]
    doc["status"] = status
    return doc


def _resource(service: str) -> dict[str, object]:
    info = SERVICES[service]
    attrs: dict[str, AttrValue] = {
        "service.name": info.name,
        "service.version": info.version,
        "host.name": info.host,
        "telemetry.sdk.language": info.language,
    }
    return {"attributes": attributes_json(attrs)}


def export_request(spans: list[Span]) -> dict[str, object]:
    """An ``ExportTraceServiceRequest`` for spans already in end-time order."""
    resource_spans = []
    for service in sorted({s.service for s in spans}):
        mine = [s for s in spans if s.service == service]
        scopes = []
        for scope in sorted({s.scope for s in mine}, key=lambda sc: sc.name):
            scoped = [span_json(s) for s in mine if s.scope == scope]
            scopes.append({"scope": {"name": scope.name, "version": scope.version}, "spans": scoped})
        resource_spans.append({"resource": _resource(service), "scopeSpans": scopes})
    return {"resourceSpans": resource_spans}


def render_otlp(traces: Iterable[Trace], out: LineWriter) -> int:
    """Write the exported spans, one request per line; returns the number of spans written."""
    spans = sorted((s for t in traces if t.sampled for s in t.spans), key=lambda s: (s.end_us, s.seq))
    for _, window in itertools.groupby(spans, key=lambda s: s.end_us // BATCH_WINDOW_US):
        batch = list(window)
        for i in range(0, len(batch), MAX_BATCH):
            out.write([json.dumps(export_request(batch[i : i + MAX_BATCH]), separators=(",", ":"))])
    return len(spans)
