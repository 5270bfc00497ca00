"""Span exports: OTLP JSON (Collector file exporter), Jaeger JSON (query API) and Zipkin v2 JSON.

Each renderer turns one batch of spans (those that ended in one batch window, in end order) into one line.
A 64-bit trace keeps its 16-digit form where the system keeps it (Zipkin, Jaeger); OTLP always has 32.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from pipeline.generate.engine.topology import Host, Service
from pipeline.generate.model import AttrValue, Span
from pipeline.generate.otlp import attributes_json, span_json

Renderer = Callable[[list[Span]], str]


def _dumps(doc: object) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _trace_form(trace_id: str) -> str:
    """Zipkin and Jaeger write a 64-bit trace ID (upper half zero) with 16 digits."""
    return trace_id[16:] if trace_id.startswith("0" * 16) else trace_id


class Exports:
    """The three renderers, bound to the services (for resources and processes)."""

    def __init__(self, services: dict[str, Service]) -> None:
        self._hosts: dict[str, Host] = {h.name: h for s in services.values() for h in s.hosts}
        self._services = services

    def _resource(self, host: Host) -> dict[str, AttrValue]:
        svc = self._services[host.service]
        return {
            "service.name": svc.name,
            "service.version": svc.version,
            "host.name": host.name,
            "telemetry.sdk.language": svc.language,
            "deployment.environment": "prod",
        }

    def otlp(self, spans: list[Span]) -> str:
        """One ``ExportTraceServiceRequest``: a ``resourceSpans`` per host, a ``scopeSpans`` per scope."""
        by_host: dict[str, dict[tuple[str, str], list[dict[str, object]]]] = {}
        for s in spans:
            by_host.setdefault(s.host, {}).setdefault((s.scope.name, s.scope.version), []).append(
                span_json(s)
            )
        resource_spans = [
            {
                "resource": {"attributes": attributes_json(self._resource(self._hosts[host]))},
                "scopeSpans": [
                    {"scope": {"name": name, "version": version}, "spans": docs}
                    for (name, version), docs in sorted(scopes.items())
                ],
            }
            for host, scopes in sorted(by_host.items())
        ]
        return _dumps({"resourceSpans": resource_spans})

    def jaeger(self, spans: list[Span]) -> str:
        """``{"data": [trace, ...]}`` as the Jaeger query API returns it: a process per host."""
        traces: dict[str, list[Span]] = {}
        for s in spans:
            traces.setdefault(s.trace_id, []).append(s)
        data = []
        for trace_id, members in sorted(traces.items()):
            pids: dict[str, str] = {}
            for s in members:
                pids.setdefault(s.host, f"p{len(pids) + 1}")
            data.append(
                {
                    "traceID": _trace_form(trace_id),
                    "spans": [_jaeger_span(s, pids[s.host]) for s in members],
                    "processes": {
                        pid: {
                            "serviceName": self._hosts[host].service,
                            "tags": [
                                _tag("hostname", host),
                                _tag("ip", self._hosts[host].ip),
                                _tag("jaeger.version", "Java-1.8.1"),
                            ],
                        }
                        for host, pid in pids.items()
                    },
                    "warnings": None,
                }
            )
        return _dumps({"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None})

    def zipkin(self, spans: list[Span]) -> str:
        """A Zipkin v2 ``POST /api/v2/spans`` body: an array of spans."""
        return _dumps([self._zipkin_span(s) for s in spans])

    def _zipkin_span(self, s: Span) -> dict[str, object]:
        host = self._hosts[s.host]
        doc: dict[str, object] = {"traceId": _trace_form(s.trace_id)}
        if s.parent_span_id:
            doc["parentId"] = s.parent_span_id
        doc.update(
            id=s.span_id,
            kind=s.kind,
            name=s.name.lower(),
            timestamp=s.start_us,
            duration=max(1, s.end_us - s.start_us),
            localEndpoint={"serviceName": host.service, "ipv4": host.ip},
        )
        tags = {k: _zipkin_value(v) for k, v in s.attributes.items()}
        if s.status == "ERROR":
            tags["error"] = s.status_message or "true"
        doc["tags"] = tags
        return doc


def _zipkin_value(v: AttrValue) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _tag(key: str, value: AttrValue) -> dict[str, object]:
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    return {"key": key, "type": "string", "value": value}


def _jaeger_span(s: Span, pid: str) -> dict[str, object]:
    refs: list[dict[str, object]] = []
    if s.parent_span_id:
        refs.append({"refType": "CHILD_OF", "traceID": _trace_form(s.trace_id), "spanID": s.parent_span_id})
    for trace_id, span_id in s.links:  # a consumer continues the producer's work: FOLLOWS_FROM
        refs.append({"refType": "FOLLOWS_FROM", "traceID": _trace_form(trace_id), "spanID": span_id})
    tags = [_tag("span.kind", s.kind.lower()), *(_tag(k, v) for k, v in s.attributes.items())]
    if s.status == "ERROR":
        tags += [_tag("error", True), _tag("otel.status_code", "ERROR")]
        if s.status_message:
            tags.append(_tag("otel.status_description", s.status_message))
    logs = [
        {
            "timestamp": e.ts_us,
            "fields": [_tag("event", e.name), *(_tag(k, v) for k, v in e.attributes.items())],
        }
        for e in s.events
    ]
    return {
        "traceID": _trace_form(s.trace_id),
        "spanID": s.span_id,
        "operationName": s.name,
        "references": refs,
        "flags": 1,
        "startTime": s.start_us,
        "duration": s.end_us - s.start_us,
        "tags": tags,
        "logs": logs,
        "processID": pid,
        "warnings": None,
    }
