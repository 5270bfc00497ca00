"""The one registry of parsers: name -> parser module, plus aliases.

Each module listed here provides the :class:`parsers.base.Parser` contract as module-level names
(``name``, ``kind``, ``description``, ``example``, ``sniff``, ``record_start``, ``parse``).
"""

from __future__ import annotations

from parsers import (
    cri,
    docker_json,
    envoy,
    jaeger_json,
    json_lines,
    logfmt,
    mysql_slow,
    nginx,
    otlp_json,
    otlp_logs,
    postgres,
    postgres_csv,
    postgres_json,
    spring,
    text,
    zipkin_json,
)
from parsers.base import Parser

_MODULES: tuple[Parser, ...] = (
    json_lines,
    logfmt,
    spring,
    nginx,
    envoy,
    docker_json,
    cri,
    mysql_slow,
    postgres,
    postgres_csv,
    postgres_json,
    otlp_json,
    otlp_logs,
    jaeger_json,
    zipkin_json,
    text,  # the fallback: its sniff stays below every specific format's
)

REGISTRY: dict[str, Parser] = {p.name: p for p in _MODULES}

ALIASES: dict[str, str] = {
    "jsonl": "json",
    "ndjson": "json",
    "logback": "spring",
    "access": "nginx",
    "nginx-access": "nginx",
    "envoy-access": "envoy",
    "istio": "envoy",
    "docker": "docker-json",
    "k8s": "cri",
    "containerd": "cri",
    "mysql": "mysql-slow",
    "slowlog": "mysql-slow",
    "postgres": "postgresql",
    "pg": "postgresql",
    "pg-stderr": "postgresql",
    "csvlog": "postgresql-csv",
    "pg-csv": "postgresql-csv",
    "jsonlog": "postgresql-json",
    "pg-json": "postgresql-json",
    "cnpg": "postgresql-json",
    "otlp": "otlp-json",
    "otlp-log": "otlp-logs",
    "jaeger": "jaeger-json",
    "zipkin": "zipkin-json",
    "plain": "text",
}
