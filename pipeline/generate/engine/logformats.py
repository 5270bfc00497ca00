"""One renderer per service log format: a record in, its text lines out.

IDs are rendered the way each stack writes them: Micrometer/Brave prints a 64-bit trace ID as 16 hex digits,
OTel SDKs pad it to 32, Datadog's log injection writes the low 64 bits of trace and span as decimals, the
Go service logs only the trace ID, and the uninstrumented service logs none (only request attributes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.generate.model import SECOND, utc
from pipeline.generate.render import iso_z, logfmt_value, otel_log_doc

_BERLIN_US = 3600 * SECOND  # order-service's hosts run on Europe/Berlin (CET in November)
_LOGSTASH_LEVEL = {"DEBUG": 10000, "INFO": 20000, "WARN": 30000, "ERROR": 40000}


@dataclass(slots=True)
class Event:
    """A log record as written: ``ts_us`` already carries the host's clock error."""

    ts_us: int
    service: str
    host: str
    level: str
    logger: str
    message: str
    trace_id: str | None = None  # canonical 32 hex
    span_id: str | None = None
    id64: bool = False  # the trace has a 64-bit ID (its upper half is zero)
    sampled: bool = True
    thread: str = "main"
    fields: dict[str, str] = field(default_factory=dict)
    stack: tuple[str, ...] = ()


def _ms_iso(us: int) -> str:
    t = utc(us)
    return f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}Z"


def _short_trace(e: Event) -> str:
    assert e.trace_id is not None
    return e.trace_id[16:] if e.id64 else e.trace_id


def spring(e: Event) -> list[str]:
    """Spring Boot 3 console pattern with Micrometer's ``[app,traceId,spanId]``, +01:00 times."""
    local = utc(e.ts_us + _BERLIN_US)
    ts = f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}+01:00"
    ctx = f"[{e.service},{_short_trace(e) if e.trace_id else ''},{e.span_id or ''}]"
    head = f"{ts} {e.level:>5} {ctx} 1 --- [{e.thread[-15:]:>15}] {e.logger[-40:]:<40} : {e.message}"
    return [head, *e.stack]


def _json(doc: dict[str, object]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def otel_json(e: Event) -> list[str]:
    """OTel log data model JSON (Python service); IDs only inside a request, 32 hex even for 64-bit traces."""
    doc = otel_log_doc(e.ts_us, e.level, e.service, e.host, e.logger, e.message)
    if e.trace_id is not None:
        doc["trace_id"] = e.trace_id
        doc["span_id"] = e.span_id
        doc["trace_flags"] = "01" if e.sampled else "00"
    attrs = dict(e.fields)
    if e.stack:
        attrs["exception.stacktrace"] = "\n".join(e.stack)
    doc["attributes"] = attrs
    return [_json(doc)]


def _logstash_doc(e: Event) -> dict[str, object]:
    doc: dict[str, object] = {
        "@timestamp": _ms_iso(e.ts_us),
        "@version": "1",
        "message": e.message,
        "logger_name": e.logger,
        "thread_name": e.thread,
        "level": e.level,
        "level_value": _LOGSTASH_LEVEL[e.level],
        "service": e.service,
        "host": e.host,
    }
    doc.update(e.fields)
    if e.stack:
        doc["stack_trace"] = "\n".join(e.stack)
    return doc


def logstash_json(e: Event) -> list[str]:
    """logstash-logback-encoder JSON with the MDC's ``traceId``/``spanId`` (hex)."""
    doc = _logstash_doc(e)
    if e.trace_id is not None:
        doc["traceId"] = _short_trace(e)
        doc["spanId"] = e.span_id
    return [_json(doc)]


def dd_json(e: Event) -> list[str]:
    """logstash JSON with Datadog's log injection: ``dd.trace_id``/``dd.span_id`` as unsigned decimals."""
    doc = _logstash_doc(e)
    if e.trace_id is not None and e.span_id is not None:
        doc["dd.trace_id"] = str(int(e.trace_id[16:], 16))
        doc["dd.span_id"] = str(int(e.span_id, 16))
    doc["dd.service"] = e.service
    doc["dd.env"] = "prod"
    return [_json(doc)]


def _logfmt(e: Event, with_span: bool) -> list[str]:
    pairs = [
        ("ts", iso_z(e.ts_us)),
        ("level", e.level.lower()),
        ("service", e.service),
        ("host", e.host),
        ("caller", e.logger),
    ]
    if e.trace_id is not None:
        pairs.append(("trace_id", e.trace_id))
        if with_span and e.span_id is not None:
            pairs.append(("span_id", e.span_id))
    pairs += [("msg", e.message), *e.fields.items()]
    return [" ".join(f"{k}={logfmt_value(v)}" for k, v in pairs)]


def logfmt_trace(e: Event) -> list[str]:
    """Go logfmt whose logger middleware adds only ``trace_id`` (no span ID)."""
    return _logfmt(e, with_span=False)


def logfmt_span(e: Event) -> list[str]:
    """Go logfmt with ``trace_id`` and ``span_id``."""
    return _logfmt(e, with_span=True)


def _comma_ms(us: int) -> str:
    t = utc(us)
    return f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d}"


def text_otel(e: Event) -> list[str]:
    """Python ``logging`` with the OTel logging instrumentation's format (``trace_id=0`` outside a span)."""
    trace = e.trace_id or "0"
    span = e.span_id or "0"
    sampled = e.sampled and e.trace_id is not None
    ctx = f"[trace_id={trace} span_id={span} resource.service.name={e.service} trace_sampled={sampled}]"
    return [f"{_comma_ms(e.ts_us)} {e.level} [{e.logger}] [{e.thread}] {ctx} - {e.message}", *e.stack]


def plain(e: Event) -> list[str]:
    """An uninstrumented Java service's logback default pattern: no IDs, request attributes in the text."""
    t = utc(e.ts_us)
    ts = f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d}"
    return [f"{ts} {e.level:<5} [{e.thread}] {e.logger} - {e.message}", *e.stack]


RENDERERS: dict[str, Callable[[Event], list[str]]] = {
    "spring": spring,
    "otel_json": otel_json,
    "dd_json": dd_json,
    "logfmt_trace": logfmt_trace,
    "logfmt_span": logfmt_span,
    "text_otel": text_otel,
    "plain": plain,
    "logstash_json": logstash_json,
}
