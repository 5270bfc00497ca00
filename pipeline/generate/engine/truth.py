"""The scenario's ground truth: ``ground_truth.json`` (faults, cases, conditions, counts) and
``ground_truth_records.parquet`` (the true trace and span of every log record and slow-log entry).

Written after every sink closed, because only then does each record know its line.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from pipeline.generate.engine.background import Planted
from pipeline.generate.engine.core import Engine
from pipeline.generate.engine.faults import DESCRIPTIONS, Case, Episode
from pipeline.generate.engine.sinks import TRUTH_SCHEMA
from pipeline.generate.render import iso_z

RECORDS = "ground_truth_records.parquet"


def write_records(eng: Engine, out_dir: Path) -> int:
    """Merge every file's truth spill into one Parquet file sorted by (source_file, source_line)."""
    rows = 0
    with pq.ParquetWriter(out_dir / RECORDS, TRUTH_SCHEMA, compression="zstd") as writer:
        for rel in sorted(eng.files):
            for batch in eng.files[rel].truth.batches():
                writer.write_batch(batch)
                rows += batch.num_rows
    return rows


def _case(kind: str, c: Case) -> dict[str, object]:
    root = c.root
    root_doc: dict[str, object] = {
        "trace_id": root.trace_id,
        "span_id": root.span_id,
        "service": root.service,
        "name": root.name,
    }
    if c.culprit_service is not None:
        root_doc["culprit_service"] = c.culprit_service
    doc: dict[str, object] = {
        "trace_id": c.trace_id,
        "sampled": c.sampled,
        "symptom": {
            "service": c.symptom_service,
            "source_file": c.symptom.source_file,
            "source_line": c.symptom.source_line,
            "message": c.message,
        },
        "root_cause": root_doc,
        "slow_log": None
        if c.slow is None
        else {"source_file": c.slow.source_file, "source_line": c.slow.source_line},
        "linked_trace_id": c.linked_trace_id,
    }
    if c.phase is not None:
        doc["phase"] = c.phase
    return doc


def _fault(ep: Episode) -> dict[str, object]:
    doc: dict[str, object] = {
        "id": ep.fault_id,
        "kind": ep.kind,
        "description": DESCRIPTIONS[ep.kind],
        "window": [iso_z(ep.start_us), iso_z(ep.end_us)],
        "cases": [
            _case(ep.kind, c)
            for c in sorted(ep.cases, key=lambda c: (c.symptom.source_file, c.symptom.source_line))
        ],
        "affected_trace_ids": sorted(ep.affected),
    }
    if ep.blocker is not None and ep.blocker_query is not None:
        q = ep.blocker_query
        doc["blocker"] = {
            "source_file": ep.blocker.source_file,
            "source_line": ep.blocker.source_line,
            "db_user": q.db_user,
            "client_host": q.client_ip,
            "statement": q.statement,
        }
    return doc


def ground_truth(
    eng: Engine, episodes: list[Episode], planted: Planted, records: int, counts: dict[str, object]
) -> dict[str, object]:
    """The ground_truth.json document (the caller writes it with sorted keys)."""
    p = eng.params
    skew = None
    if eng.skew_host is not None:
        skew = {"host": eng.skew_host, "service": eng.hosts[eng.skew_host].service, "ms": p.skew_ms}
    uninstrumented = None
    if p.has("uninstrumented") and "notification-service" in eng.services:
        uninstrumented = "notification-service"
    files = {
        rel: {"lines": sink.lines, "records": sink.records} for rel, sink in sorted(eng.files.items())
    } | {
        rel: {"lines": s.lines, "spans": s.spans} for rel, s in ((s.rel, s) for s in eng.span_sinks.values())
    }
    return {
        "generated_by": "tracejoin generate",
        "seed": p.seed,
        "params": p.as_dict(),
        "window": [iso_z(eng.start_us), iso_z(eng.end_us)],
        "faults": [_fault(ep) for ep in episodes if ep.cases],
        "skew": skew,
        "uninstrumented_service": uninstrumented,
        "records": RECORDS,
        "malformed": sorted(
            (
                {"source_file": ref.source_file, "source_line": ref.source_line, "reason": reason}
                for ref, reason in planted.malformed
            ),
            key=lambda m: (str(m["source_file"]), int(str(m["source_line"]))),
        ),
        "unrelated_errors": [
            {
                "service": service,
                "source_file": ref.source_file,
                "source_line": ref.source_line,
                "message": msg,
            }
            for ref, service, msg in planted.unrelated
        ],
        "hosts": {
            name: {"service": h.service, "ip": h.ip, "log_file": h.log_file, "exporter": h.exporter}
            for name, h in sorted(eng.hosts.items())
        },
        "formats": {name: s.log_format for name, s in eng.services.items()},
        "files": files,
        "counts": {**counts, "records": records},
    }
