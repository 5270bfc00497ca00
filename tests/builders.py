"""Build small staged inputs in Python, so correlation rules are tested without any parser."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from parsers import schema
from pipeline.paths import STAGING

T0 = dt.datetime(2026, 11, 17, 14, 32, 5, tzinfo=dt.UTC)


def at(ms: float) -> dt.datetime:
    """T0 + ms."""
    return T0 + dt.timedelta(milliseconds=ms)


def tid(n: int) -> str:
    return f"{n:032x}"


def sid(n: int) -> str:
    return f"{n:016x}"


def span(
    trace: int,
    span_id: int,
    parent: int | None,
    service: str,
    name: str,
    start: float,
    end: float,
    **extra: Any,
) -> dict[str, Any]:
    row = {
        "trace_id": tid(trace),
        "span_id": sid(span_id),
        "parent_span_id": sid(parent) if parent else None,
        "service": service,
        "name": name,
        "kind": extra.pop("kind", "INTERNAL"),
        "start_ts": at(start),
        "end_ts": at(end),
        "duration_ms": end - start,
        "status": extra.pop("status", "UNSET"),
        "format": "test",
        "source_file": "spans.json",
        "source_line": span_id,
        "events": extra.pop("events", []),
        "links": [],
        "attributes": extra.pop("attributes", []),
        "resource_attributes": [],
    }
    row.update(extra)
    return row


def log(
    line: int,
    ms: float,
    service: str,
    level: str,
    message: str,
    trace: int | None = None,
    span_id: int | None = None,
    source_file: str | None = None,
    host: str | None = None,
) -> dict[str, Any]:
    return {
        "ts": at(ms),
        "host": host,
        "service": service,
        "level": level,
        "message": message,
        "trace_id": tid(trace) if trace else None,
        "span_id": sid(span_id) if span_id else None,
        "attributes": [],
        "format": "test",
        "source_file": source_file or f"{service}.log",
        "source_line": line,
    }


def query(
    line: int,
    start: float,
    end: float,
    statement: str,
    fingerprint: str,
    lock_ms: float = 0.0,
    trace: int | None = None,
    span_id: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    row = {
        "ts": at(start),
        "end_ts": at(end),
        "duration_ms": end - start,
        "lock_ms": lock_ms,
        "engine": "mysql",
        "db": "inventory",
        "statement": statement,
        "fingerprint": fingerprint,
        "fingerprint_id": "f" * 16,
        "trace_id": tid(trace) if trace else None,
        "span_id": sid(span_id) if span_id else None,
        "comment_tags": [],
        "attributes": extra.pop("attributes", []),
        "format": "test",
        "source_file": "slow.log",
        "source_line": line,
    }
    row.update(extra)
    return row


def stage(
    out: Path,
    logs: list[dict[str, Any]] = (),
    spans: list[dict[str, Any]] = (),  # type: ignore[assignment]
    queries: list[dict[str, Any]] = (),
) -> Path:  # type: ignore[assignment]
    """Write ``<out>/_staging`` as ingest would."""
    staging = out / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    for name, rows in (("logs", logs), ("spans", spans), ("slow_queries", queries), ("rejects", [])):
        table = schema.conform(_arrow(rows, schema.SCHEMAS[name]), schema.SCHEMAS[name])
        pq.write_table(table, staging / f"{name}.parquet")
    return out


def _arrow(rows: list[dict[str, Any]], target: Any) -> Any:
    import pyarrow as pa

    cols = {f.name: [r.get(f.name) for r in rows] for f in target}
    arrays = []
    for f in target:
        values = cols[f.name]
        if pa.types.is_map(f.type):
            arrays.append(
                pa.array([list(v.items()) if isinstance(v, dict) else (v or []) for v in values], f.type)
            )
        else:
            arrays.append(pa.array(values, f.type))
    return pa.Table.from_arrays(arrays, schema=target)
