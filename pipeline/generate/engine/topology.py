"""The simulated system: services, their hosts, log formats and span exporters, and the output files.

Which service writes which format is fixed here (one place), and the conditions switch a few of them:
without ``mixed_ids`` the access log carries ``traceparent`` and payment-service logs hex IDs; without
``uninstrumented`` notification-service logs carry IDs like everyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.generate.engine.params import ScenarioParams, service_names
from pipeline.generate.model import Scope

LogFormat = Literal[
    "nginx",
    "spring",
    "otel_json",
    "dd_json",
    "logfmt_trace",
    "logfmt_span",
    "text_otel",
    "plain",
    "logstash_json",
]
Exporter = Literal["otlp", "jaeger", "zipkin"]
Role = Literal["server", "client", "db", "internal", "producer", "consumer", "cache"]

OTLP_FILE = "traces/otelcol-traces.json"
JAEGER_FILE = "traces/jaeger-traces.json"
ZIPKIN_FILE = "traces/zipkin-spans.json"
MYSQL_FILE = "mysql/inventory-db-slow.log"
PG_FILE = "postgresql/postgresql-2026-11-17_140000.log"
ACCESS_FILE = "api-gateway/access.log"
EXPORT_FILES: dict[Exporter, str] = {"otlp": OTLP_FILE, "jaeger": JAEGER_FILE, "zipkin": ZIPKIN_FILE}

# Formats whose timestamps keep only milliseconds: a record's time is rounded up to the next millisecond
# so the written time still lies inside its span.
MS_FORMATS: frozenset[str] = frozenset({"spring", "dd_json", "text_otel", "plain", "logstash_json"})
# The line carries trace and span IDs (some form) / only the trace ID / no ID at all.
ID_FORM: dict[str, str] = {
    "nginx": "span_id",
    "spring": "span_id",
    "otel_json": "span_id",
    "dd_json": "span_id",
    "logfmt_trace": "trace_id",
    "logfmt_span": "span_id",
    "text_otel": "span_id",
    "plain": "none",
    "logstash_json": "span_id",
}


@dataclass(frozen=True, slots=True)
class Host:
    """One host (pod) of a service: its log file, its address as databases see it, its span exporter."""

    name: str
    service: str
    ip: str
    log_file: str
    exporter: Exporter


@dataclass(frozen=True, slots=True)
class Service:
    """A service: language, version, log format, the scopes of its spans and its hosts."""

    name: str
    language: str
    version: str
    log_format: LogFormat
    scopes: dict[Role, Scope]
    hosts: tuple[Host, ...]


def _java(server: str = "io.opentelemetry.spring-webmvc-6.0") -> dict[Role, Scope]:
    v = "2.10.0-alpha"
    return {
        "server": Scope(server, v),
        "client": Scope("io.opentelemetry.spring-web-6.0", v),
        "db": Scope("io.opentelemetry.jdbc", v),
        "internal": Scope("io.opentelemetry.methods", v),
        "producer": Scope("io.opentelemetry.kafka-clients-2.6", v),
        "consumer": Scope("io.opentelemetry.kafka-clients-2.6", v),
        "cache": Scope("io.opentelemetry.lettuce-5.1", v),
    }


def _python() -> dict[Role, Scope]:
    v = "0.49b2"
    return {
        "server": Scope("opentelemetry.instrumentation.fastapi", v),
        "client": Scope("opentelemetry.instrumentation.httpx", v),
        "db": Scope("opentelemetry.instrumentation.asyncpg", v),
        "internal": Scope("fulfillment", "1.0.0"),
        "producer": Scope("opentelemetry.instrumentation.aiokafka", v),
        "consumer": Scope("opentelemetry.instrumentation.aiokafka", v),
        "cache": Scope("opentelemetry.instrumentation.redis", v),
    }


def _go() -> dict[Role, Scope]:
    http = Scope("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "0.57.0")
    return {
        "server": http,
        "client": http,
        "db": Scope("github.com/XSAM/otelsql", "0.35.0"),
        "internal": Scope("inventory", "1.14.2"),
        "producer": Scope("github.com/IBM/sarama/otelsarama", "0.57.0"),
        "consumer": Scope("github.com/IBM/sarama/otelsarama", "0.57.0"),
        "cache": Scope("github.com/redis/go-redis/extra/redisotel", "9.7.0"),
    }


def _sidecar() -> dict[Role, Scope]:
    envoy = Scope("envoy", "1.31.2")
    roles: tuple[Role, ...] = ("server", "client", "db", "internal", "producer", "consumer", "cache")
    return dict.fromkeys(roles, envoy)


# name -> (language, version, log format, host names, exporter of each host)
_SPECS: dict[str, tuple[str, str, LogFormat, tuple[str, ...], tuple[Exporter, ...]]] = {
    "api-gateway": ("cpp", "1.27.2", "nginx", ("gw-edge-1",), ("zipkin",)),
    "order-service": ("java", "2.7.1", "spring", ("order-6b7d-1", "order-6b7d-2"), ("otlp", "otlp")),
    "user-service": ("python", "1.12.0", "otel_json", ("user-7f9c-1", "user-7f9c-2"), ("otlp", "otlp")),
    "inventory-service": (
        "go",
        "1.14.2",
        "logfmt_trace",
        ("inventory-5d8b-1", "inventory-5d8b-2"),
        ("otlp", "otlp"),
    ),
    "payment-service": ("java", "3.4.0", "dd_json", ("payment-84c2-1",), ("jaeger",)),
    "catalog-service": (
        "java",
        "5.0.3",
        "logstash_json",
        ("catalog-3e1a-1", "catalog-3e1a-2"),
        ("otlp", "otlp"),
    ),
    # a migration in progress: one worker still on the Jaeger agent (FOLLOWS_FROM), one on OTLP (links)
    "fulfillment-worker": (
        "python",
        "0.9.4",
        "text_otel",
        ("fulfillment-0", "fulfillment-1"),
        ("otlp", "jaeger"),
    ),
    "notification-service": ("java", "1.3.0", "plain", ("notification-5f6d-1",), ("zipkin",)),
}
_EXTRA_FORMATS: tuple[LogFormat, ...] = ("spring", "otel_json", "logfmt_span")
SKEWED_SERVICE = "inventory-service"
SKEWED_HOST = "inventory-5d8b-2"


def _ext(fmt: LogFormat) -> str:
    return "jsonl" if fmt in ("otel_json", "dd_json", "logstash_json") else "log"


def _scopes(name: str, language: str) -> dict[Role, Scope]:
    if name == "notification-service":
        return _sidecar()  # the app is not instrumented: its spans come from the mesh sidecar
    if language == "python":
        return _python()
    if language == "go":
        return _go()
    return _java()


def build(params: ScenarioParams) -> dict[str, Service]:
    """The services of a scenario, in their canonical order."""
    out: dict[str, Service] = {}
    for index, name in enumerate(service_names(params.services)):
        if name in _SPECS:
            language, version, fmt, host_names, exporters = _SPECS[name]
        else:
            fmt = _EXTRA_FORMATS[index % len(_EXTRA_FORMATS)]
            language = {"spring": "java", "otel_json": "python", "logfmt_span": "go"}[fmt]
            short = name.split("-")[0][:6] if not name.startswith("search-shard") else f"shard{name[-1]}"
            version, host_names, exporters = "1.0.0", (f"{short}-{index:02d}a1-1",), ("otlp",)
        if name == "payment-service" and not params.has("mixed_ids"):
            fmt = "logstash_json"  # hex IDs; the Datadog decimal form is the mixed_ids condition
        if name == "notification-service" and not params.has("uninstrumented"):
            fmt = "logfmt_span"
        hosts = tuple(
            Host(
                host,
                name,
                f"10.0.{index + 1}.{10 + i}",
                "api-gateway/access.log" if fmt == "nginx" else f"{name}/{host}.{_ext(fmt)}",
                exporters[i],
            )
            for i, host in enumerate(host_names)
        )
        out[name] = Service(name, language, version, fmt, _scopes(name, language), hosts)
    return out


@dataclass(frozen=True, slots=True)
class Database:
    """A database as its clients see it (span attributes) and as its log shows the session."""

    system: Literal["mysql", "postgresql"]
    name: str
    user: str
    server: str
    port: int


INVENTORY_DB = Database("mysql", "inventory", "inventory", "inventory-db", 3306)
USERS_DB = Database("postgresql", "users", "users_app", "pg-main", 5432)
PAYMENTS_DB = Database("postgresql", "payments", "payments", "pg-main", 5432)
CATALOG_DB = Database("postgresql", "catalog", "catalog", "pg-main", 5432)
FULFILLMENT_DB = Database("postgresql", "fulfillment", "fulfillment", "pg-main", 5432)
