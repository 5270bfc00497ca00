"""ground_truth.json: what was injected and where its evidence sits (file and line), for the tests.

Built after rendering, because only the renderers know the line each record starts on.
"""

from __future__ import annotations

from pipeline.generate.model import (
    FILES,
    GATEWAY,
    INVENTORY,
    MS,
    MYSQL,
    ORDER,
    USER,
    WINDOW_END,
    WINDOW_START,
    Day,
    Fault,
    FaultCase,
    SlowQuery,
)
from pipeline.generate.render import iso_z

_MALFORMED_REASON = {
    USER: "JSON line cut off mid-record",
    GATEWAY: "access-log line cut off mid-line",
    INVENTORY: "garbage text, not logfmt",
}


def _slow_ref(q: SlowQuery) -> dict[str, object]:
    return {"source_file": FILES[MYSQL], "source_line": q.line, "has_comment": q.comment is not None}


def _case(case: FaultCase) -> dict[str, object]:
    root = case.root_cause
    symptom = case.symptom
    return {
        "trace_id": case.trace.trace_id,
        "sampled": case.trace.sampled,
        "symptom": {
            "service": ORDER,
            "source_file": FILES[ORDER],
            "source_line": symptom.line,
            "ts": iso_z(symptom.ts_us // MS * MS),  # as written: logback keeps milliseconds
            "message": symptom.message,
            "span_id": symptom.span_id,
        },
        "root_cause": {
            "trace_id": root.trace_id,
            "span_id": root.span_id,
            "service": root.service,
            "name": root.name,
            "kind": root.kind,
            "duration_ms": (root.end_us - root.start_us) / MS,
        },
        "slow_log": None if case.slow is None else _slow_ref(case.slow),
        "access_log": {
            "source_file": FILES[GATEWAY],
            "source_line": case.access.line,
            "status": case.access.status,
        },
    }


def _fault(f: Fault) -> dict[str, object]:
    doc: dict[str, object] = {
        "id": f.fault_id,
        "kind": f.kind,
        "description": f.description,
        "window": [iso_z(f.window[0]), iso_z(f.window[1])],
        "cases": [_case(c) for c in sorted(f.cases, key=lambda c: c.symptom.ts_us)],
    }
    if f.blocker is not None:
        q = f.blocker
        doc["blocker"] = {
            **_slow_ref(q),
            "db_user": q.db_user,
            "client_host": q.client_ip,
            "statement": q.statement,
        }
    if f.affected:
        doc["affected_trace_ids"] = [t.trace_id for t in f.affected]
    return doc


def ground_truth(day: Day, lines: dict[str, int]) -> dict[str, object]:
    """The ground-truth document; ``lines`` maps each written file to its line count."""
    in_faults = {id(c.slow) for f in day.faults for c in f.cases} | {id(f.blocker) for f in day.faults}
    outliers = sorted((q for q in day.slow if id(q) not in in_faults), key=lambda q: q.line)
    return {
        "seed": day.seed,
        "generated_by": "tracejoin generate",
        "window": [iso_z(WINDOW_START), iso_z(WINDOW_END)],
        "faults": [_fault(f) for f in day.faults],
        "malformed": [
            {"source_file": FILES[key], "source_line": r.line, "reason": _MALFORMED_REASON[key]}
            for key, r in sorted(day.malformed, key=lambda m: FILES[m[0]])
        ],
        "noise": {
            "validation_errors": day.counts["validation_errors"],
            "not_found": day.counts["not_found"],
            "unrelated_errors": [
                {"source_file": FILES[r.service], "source_line": r.line, "message": r.message}
                for r in day.unrelated_errors
            ],
            "slow_queries_without_lock": [{**_slow_ref(q), "trace_id": q.trace_id} for q in outliers],
        },
        "counts": {**day.counts, "lines": dict(sorted(lines.items()))},
    }
