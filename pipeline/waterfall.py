"""The terminal waterfall of one trace (DESIGN §7): spans as an indented tree with their offsets, the
root cause marked, and the log lines and slow queries placed on each span shown beneath it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parsers.ids import normalize_trace_id
from pipeline.catalog import open_catalog, query
from pipeline.errors import TracejoinError
from pipeline.render import cell

INDENT = "  "


@dataclass
class Waterfall:
    trace_id: str
    spans: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    causes: list[dict[str, Any]]


def load(out: Path, trace_id: str) -> Waterfall:
    canonical = normalize_trace_id(trace_id)
    if canonical is None:
        raise TracejoinError(f"not a trace ID: {trace_id!r}", "give the 32 (or 16) hex digits of a trace ID")
    con = open_catalog(out)
    try:
        spans = query(con, "trace_spans", {"trace_id": canonical}).to_pylist()
        if not spans:
            raise TracejoinError(
                f"trace {canonical} has no spans in {out}",
                "check the ID (e.g. 'tracejoin report upstream-errors' lists traced errors); "
                "a sampled-out trace has log lines but no spans",
            )
        full_id = spans[0]["trace_id"]
        evidence = query(con, "trace_evidence", {"trace_id": full_id}).to_pylist()
        causes = query(con, "trace_root_causes", {"trace_id": full_id}).to_pylist()
    finally:
        con.close()
    return Waterfall(full_id, spans, evidence, causes)


def _ms(value: float) -> str:
    return f"{value:.1f}ms" if abs(value) < 10 else f"{value:.0f}ms"


def _mark(cause: dict[str, Any], span: dict[str, Any]) -> str:
    if cause.get("lock_ms"):
        why = f"{cause['lock_ms']:.0f}ms lock wait (slow log)"
    elif cause["reason"] == "critical_path" and span.get("self_ms") is not None:
        why = f"{_ms(span['self_ms'])} self time on the critical path"
    else:
        why = str(cause.get("key_evidence") or cause["reason"])
        why = why if len(why) <= 80 else why[:79] + "…"
    return f"← root cause ({cause['reason']}): {why}"


def _order(spans: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Depth-first order (children by start time); spans whose parent is absent are roots."""
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for s in spans:
        parent = s["parent_span_id"] if s["parent_span_id"] in ids else None
        children[parent].append(s)
    ordered: list[tuple[int, dict[str, Any]]] = []
    stack: list[tuple[int, dict[str, Any]]] = [(0, s) for s in reversed(children[None])]
    seen: set[str] = set()
    while stack:
        depth, span = stack.pop()
        if span["span_id"] in seen:
            continue
        seen.add(span["span_id"])
        ordered.append((depth, span))
        stack += [(depth + 1, c) for c in reversed(children[span["span_id"]])]
    return ordered


def render(wf: Waterfall, *, show_evidence: bool = True) -> str:
    """The waterfall as fixed-width text (no colour)."""
    ordered = _order(wf.spans)
    t0 = min(s["start_ts"] for s in wf.spans)
    t1 = max(s["end_ts"] for s in wf.spans)
    services = sorted({s["service"] or "?" for s in wf.spans})
    causes = {c["root_span_id"]: c for c in wf.causes}
    by_span: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in wf.evidence:
        by_span[item["span_id"]].append(item)
    labels = [f"{INDENT * d}[{s['service'] or '?'}] {s['name']}" for d, s in ordered]
    width = min(max(len(x) for x in labels) + 2, 72)
    lines = [
        f"trace {wf.trace_id}: {len(wf.spans)} spans, {len(services)} services ({', '.join(services)}), "
        f"{_ms((t1 - t0).total_seconds() * 1000)}, from {cell(t0)} UTC",
        "",
    ]
    for (depth, span), label in zip(ordered, labels, strict=True):
        start = (span["start_ts"] - t0).total_seconds() * 1000
        end = (span["end_ts"] - t0).total_seconds() * 1000
        status = ""
        if span["is_error"]:
            status = "ERROR" + (f" {span['http_status']}" if span["http_status"] else "")
        text = f"{label.ljust(width)}{_ms(start):>7} - {_ms(end):<7} {status}".rstrip()
        if span["span_id"] in causes:
            text += "  " + _mark(causes[span["span_id"]], span)
        lines.append(text)
        if show_evidence:
            pad = INDENT * (depth + 2)
            for item in by_span.get(span["span_id"], []):
                where = f"{item['source_file']}:{item['source_line']}"
                stamp = cell(item["ts"])[11:] if item["ts"] else ""
                lines.append(
                    f"{pad}{'·' if item['kind'] == 'log' else '⛁'} {stamp} {item['text']}  ({where})"
                )
    return "\n".join(lines)
