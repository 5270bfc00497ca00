"""The scenario engine (``tracejoin generate --traces N``): deterministic, every fault kind present, and its
ground truth true.

The truth is re-derived from the written files, not from the generator's objects: span exports are read
back with plain ``json`` (OTLP, Jaeger, Zipkin), every truth record is found at its line with its trace ID
in the text, every case's root cause is recomputed from the exported spans with the DESIGN §6 rule, and
``tracejoin ingest`` reads every file with no format given.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from pipeline.generate.engine import (
    FAULT_KINDS,
    GROUND_TRUTH,
    RECORDS,
    ScenarioParams,
    generate_scenario,
)
from tests.conftest import invoke

Span = dict[str, Any]
TRACES = 2000
PARAMS = ScenarioParams(seed=5, traces=TRACES)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenario")
    generate_scenario(out, PARAMS)
    return out


@pytest.fixture(scope="module")
def truth(root: Path) -> dict[str, Any]:
    return dict(json.loads((root / GROUND_TRUTH).read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def records(root: Path) -> list[dict[str, Any]]:
    return list(pq.read_table(root / RECORDS).to_pylist())


def _canon(trace_id: str) -> str:
    return trace_id.lower().rjust(32, "0")


@pytest.fixture(scope="module")
def spans(root: Path) -> dict[str, dict[str, Span]]:
    """trace_id -> span_id -> span, read from the three export files with plain json."""
    out: dict[str, dict[str, Span]] = defaultdict(dict)

    def add(trace: str, span: Span) -> None:
        assert span["span_id"] not in out[_canon(trace)], "span exported twice"
        out[_canon(trace)][span["span_id"]] = span

    for line in (root / "traces/otelcol-traces.json").read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            attrs = {a["key"]: a["value"].get("stringValue") for a in rs["resource"]["attributes"]}
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    add(s["traceId"], _otlp(s, attrs["service.name"]))
    for line in (root / "traces/jaeger-traces.json").read_text().splitlines():
        for trace in json.loads(line)["data"]:
            for s in trace["spans"]:
                add(s["traceID"], _jaeger(s, trace["processes"][s["processID"]]["serviceName"]))
    for line in (root / "traces/zipkin-spans.json").read_text().splitlines():
        for s in json.loads(line):
            add(s["traceId"], _zipkin(s))
    return dict(out)


def _otlp(s: dict[str, Any], service: str) -> Span:
    attrs = {a["key"]: next(iter(a["value"].values())) for a in s.get("attributes", [])}
    return {
        "span_id": s["spanId"],
        "parent": s.get("parentSpanId"),
        "name": s["name"],
        "service": service,
        "start": int(s["startTimeUnixNano"]) // 1000,
        "end": int(s["endTimeUnixNano"]) // 1000,
        "error": s["status"].get("code") == 2,
        "message": s["status"].get("message", ""),
        "http": int(attrs.get("http.response.status_code", 0)),
        "links": [(_canon(k["traceId"]), k["spanId"]) for k in s.get("links", [])],
    }


def _jaeger(s: dict[str, Any], service: str) -> Span:
    tags = {t["key"]: t["value"] for t in s["tags"]}
    child_of = [r for r in s["references"] if r["refType"] == "CHILD_OF"]
    follows = [(_canon(r["traceID"]), r["spanID"]) for r in s["references"] if r["refType"] == "FOLLOWS_FROM"]
    return {
        "span_id": s["spanID"],
        "parent": child_of[0]["spanID"] if child_of else None,
        "name": s["operationName"],
        "service": service,
        "start": s["startTime"],
        "end": s["startTime"] + s["duration"],
        "error": tags.get("error") is True,
        "message": tags.get("otel.status_description", ""),
        "http": int(tags.get("http.response.status_code", 0)),
        "links": follows,
    }


def _zipkin(s: dict[str, Any]) -> Span:
    return {
        "span_id": s["id"],
        "parent": s.get("parentId"),
        "name": s["name"],
        "service": s["localEndpoint"]["serviceName"],
        "start": s["timestamp"],
        "end": s["timestamp"] + s["duration"],
        "error": "error" in s["tags"],
        "message": s["tags"].get("error", ""),
        "http": int(s["tags"].get("http.status_code", s["tags"].get("http.response.status_code", 0))),
        "links": [],
    }


# --- DESIGN §6, written again from the text -----------------------------------------------------------------


def _children(trace: dict[str, Span]) -> dict[str | None, list[Span]]:
    kids: dict[str | None, list[Span]] = defaultdict(list)
    for s in trace.values():
        kids[s["parent"]].append(s)
    return kids


def _subtree(kids: dict[str | None, list[Span]], span: Span) -> list[Span]:
    out, todo = [], [span]
    while todo:
        s = todo.pop()
        out.append(s)
        todo.extend(kids[s["span_id"]])
    return out


def _is_error(s: Span) -> bool:
    return bool(s["error"] or s["http"] >= 500)


def _self_ms(kids: dict[str | None, list[Span]], s: Span) -> int:
    covered, cursor = 0, s["start"]
    for c in sorted(kids[s["span_id"]], key=lambda c: c["start"]):
        lo, hi = max(c["start"], cursor), min(c["end"], s["end"])
        if hi > lo:
            covered += hi - lo
            cursor = hi
    return int(s["end"] - s["start"] - covered)


def _critical_path_root(kids: dict[str | None, list[Span]], span: Span) -> Span:
    path = [span]
    while kids[path[-1]["span_id"]]:
        path.append(max(kids[path[-1]["span_id"]], key=lambda c: c["end"]))
    return max(path, key=lambda s: _self_ms(kids, s))


def _retried_attempts(kids: dict[str | None, list[Span]], spans: list[Span]) -> set[str]:
    """Span IDs inside retry attempts that are not the last (same name, same parent, a later sibling)."""
    out: set[str] = set()
    for s in spans:
        later = [x for x in kids[s["parent"]] if x["name"] == s["name"] and x["start"] > s["start"]]
        if s["name"].startswith("HTTP ") and later:
            out |= {x["span_id"] for x in _subtree(kids, s)}
    return out


def root_cause(trace: dict[str, Span], anchor_id: str) -> Span:
    """§6: the deepest error below the anchor (the last retry attempt's; a timeout -> its callee's critical
    path); with no error, the largest self time on the anchor's critical path."""
    kids = _children(trace)
    below = _subtree(kids, trace[anchor_id])
    skip = _retried_attempts(kids, below)
    errors = [s for s in below if _is_error(s) and s["span_id"] not in skip]
    leaves = [s for s in errors if not any(_is_error(d) for d in _subtree(kids, s)[1:])]
    if not leaves:
        return _critical_path_root(kids, trace[anchor_id])
    origin = min(leaves, key=lambda s: s["end"])
    callee = [c for c in kids[origin["span_id"]] if not _is_error(c)]
    if "timed out" in origin["message"] and callee:
        return _critical_path_root(kids, callee[0])
    return origin


# --- determinism and selection --------------------------------------------------------------------------


def _all_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_and_options_give_identical_bytes(root: Path, tmp_path: Path) -> None:
    generate_scenario(tmp_path, PARAMS)
    first, again = _all_bytes(root), _all_bytes(tmp_path)
    assert sorted(first) == sorted(again)
    assert [rel for rel in first if first[rel] != again[rel]] == []


def test_every_fault_kind_has_cases_some_sampled_out(truth: dict[str, Any]) -> None:
    cases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fault in truth["faults"]:
        cases[fault["kind"]].extend(fault["cases"])
    assert sorted(cases) == sorted(FAULT_KINDS)
    for kind, found in cases.items():
        assert len(found) >= 10, kind
        assert any(not c["sampled"] for c in found), f"{kind}: no case in a sampled-out trace"
        assert any(c["sampled"] for c in found), kind


def test_only_the_chosen_fault_kind(tmp_path: Path) -> None:
    params = ScenarioParams(seed=2, traces=600, services=4, faults=("lock_wait",))
    summary = generate_scenario(tmp_path, params)
    truth = json.loads((tmp_path / GROUND_TRUTH).read_text())
    assert {f["kind"] for f in truth["faults"]} == {"lock_wait"}
    assert summary["faults"] == {"lock_wait": 6}
    assert truth["skew"] is None and truth["uninstrumented_service"] is None
    assert not (tmp_path / "payment-service").exists()
    kinds = pq.read_table(tmp_path / RECORDS, columns=["fault_kind"]).column(0).unique().to_pylist()
    assert set(kinds) <= {None, "lock_wait"}


# --- truth consistency --------------------------------------------------------------------------------------


def _id_forms(trace_id: str) -> list[str]:
    """How a trace ID may appear in a line: 32 hex, 16 hex (64-bit ID), low 64 bits in decimal (Datadog)."""
    forms = [trace_id, str(int(trace_id[16:], 16))]
    if trace_id.startswith("0" * 16):
        forms.append(trace_id[16:])
    return forms


def test_every_truth_record_is_at_its_line_with_its_trace_id(
    root: Path, records: list[dict[str, Any]], truth: dict[str, Any]
) -> None:
    lines: dict[str, list[str]] = {}
    assert [(r["source_file"], r["source_line"]) for r in records] == sorted(
        (r["source_file"], r["source_line"]) for r in records
    )
    for i, r in enumerate(records):
        text = lines.setdefault(r["source_file"], (root / r["source_file"]).read_text().split("\n"))
        first = text[r["source_line"] - 1]
        if r["record"] == "slow_query":  # a multi-line entry: the ID sits in its statement line
            nxt = records[i + 1] if i + 1 < len(records) else None
            end = nxt["source_line"] - 1 if nxt and nxt["source_file"] == r["source_file"] else len(text)
            first = "\n".join(text[r["source_line"] - 1 : end])
        if r["id_form"] != "none":
            assert any(form in first for form in _id_forms(r["trace_id"])), (r, first)
        elif r["trace_id"] is not None:
            assert r["trace_id"] not in first and r["trace_id"][16:] not in first, (r, first)
    assert truth["counts"]["records"] == len(records)
    forms = {(r["source_file"].split("/")[0], r["id_form"]) for r in records}
    assert ("inventory-service", "trace_id") in forms  # trace ID only
    assert {f for s, f in forms if s == "notification-service"} == {"none"}  # uninstrumented


def test_truth_records_point_at_sampled_spans(
    records: list[dict[str, Any]], spans: dict[str, dict[str, Span]]
) -> None:
    checked = 0
    for r in records:
        if r["trace_id"] is None:
            continue
        if r["sampled"]:
            assert r["span_id"] in spans[r["trace_id"]], r
            checked += 1
        else:
            assert r["trace_id"] not in spans, r
    assert checked > 5000


def test_every_case_root_exists_iff_sampled_and_matches_design_rule(
    truth: dict[str, Any], records: list[dict[str, Any]], spans: dict[str, dict[str, Span]]
) -> None:
    by_line = {(r["source_file"], r["source_line"]): r for r in records}
    for fault in truth["faults"]:
        for case in fault["cases"]:
            symptom = case["symptom"]
            assert "upstream service error" in symptom["message"] or fault["kind"] == "async_error"
            rec = by_line[(symptom["source_file"], symptom["source_line"])]
            assert rec["trace_id"] == case["trace_id"]
            want = case["root_cause"]
            if not case["sampled"]:
                assert case["trace_id"] not in spans
                continue
            trace = spans[case["trace_id"]]
            assert want["span_id"] in trace
            got = root_cause(trace, rec["span_id"])
            assert (got["span_id"], got["name"]) == (want["span_id"], want["name"]), (fault["kind"], case)
            if fault["kind"] == "async_error":
                consumer = trace[rec["span_id"]]
                assert consumer["links"][0][0] == case["linked_trace_id"]


def test_fanout_root_is_not_the_longest_span(
    truth: dict[str, Any], spans: dict[str, dict[str, Span]]
) -> None:
    fanout = [c for f in truth["faults"] if f["kind"] == "fanout" for c in f["cases"] if c["sampled"]]
    assert fanout
    for case in fanout:
        trace = spans[case["trace_id"]]
        inner = [s for s in trace.values() if s["service"] not in ("api-gateway", "order-service")]
        longest = max(inner, key=lambda s: s["end"] - s["start"])
        assert longest["span_id"] != case["root_cause"]["span_id"]


def test_log_times_lie_in_their_span_and_outside_same_service_children(
    root: Path,
    spans: dict[str, dict[str, Span]],
    truth: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Checked on what the parsers read (times as written): skew only on the skewed host."""
    out = tmp_path_factory.mktemp("ingest-times")
    result = invoke("ingest", root, "--out", out)
    assert result.exit_code == 0, result.output
    truth_path = str(root / RECORDS)
    rows = duckdb.sql(
        f"""SELECT t.source_file, t.trace_id, t.span_id, epoch_us(l.ts) AS ts, l.host
            FROM read_parquet('{out}/_staging/logs.parquet') l
            JOIN read_parquet('{truth_path}') t USING (source_file, source_line)
            WHERE t.sampled AND t.record = 'log' AND t.source_file <> 'api-gateway/access.log'"""
    ).fetchall()
    skew = truth["skew"]
    assert rows
    for source_file, trace_id, span_id, ts, host in rows:
        trace = spans[trace_id]
        span = trace[span_id]
        t = ts - (round(skew["ms"] * 1000) if host == skew["host"] else 0)
        assert span["start"] <= t <= span["end"] + 1000, (source_file, span_id, t)
        same = [c for c in trace.values() if c["parent"] == span_id and c["service"] == span["service"]]
        assert not any(c["start"] < t < c["end"] for c in same), (source_file, span_id, t)


# --- the pipeline reads it all ------------------------------------------------------------------------------


def test_ingest_detects_every_file_and_rejects_only_the_planted_lines(
    root: Path, truth: dict[str, Any], tmp_path: Path
) -> None:
    result = invoke("ingest", root, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "_staging" / "manifest.json").read_text())
    assert manifest, "manifest is empty"
    rejects = duckdb.sql(
        f"SELECT source_file, source_line FROM read_parquet('{tmp_path}/out/_staging/rejects.parquet') "
        "ORDER BY ALL"
    ).fetchall()
    planted = sorted((m["source_file"], m["source_line"]) for m in truth["malformed"])
    assert rejects == planted
    for line in result.output.splitlines():
        if line.startswith(("ground_truth.json", "ground_truth_records.parquet")):
            assert "no parser recognises it" in line
        elif "/" in line.split(" ")[0]:
            assert "(detected)" in line, line


def test_run_skips_the_truth_files(root: Path, tmp_path: Path) -> None:
    small = tmp_path / "small"
    generate_scenario(small, ScenarioParams(seed=9, traces=150, hours=0.1))
    result = invoke("run", small, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("ground_truth")]
    assert len(lines) == 2 and all("no parser recognises it" in line for line in lines)


# --- CLI ----------------------------------------------------------------------------------------------------


def test_cli_writes_a_scenario(tmp_path: Path) -> None:
    result = invoke(
        "generate", tmp_path, "--seed", "4", "--traces", "120", "--faults", "slow_query", "--hours", "0.2"
    )
    assert result.exit_code == 0, result.output
    assert "traces: " in result.output
    truth = json.loads((tmp_path / GROUND_TRUTH).read_text())
    assert truth["params"] == {
        "traces": 120,
        "services": 8,
        "faults": ["slow_query"],
        "hours": 0.2,
        "sample_rate": 0.9,
        "skew_ms": 250.0,
    }
    assert truth["window"] == ["2026-11-17T14:00:00.000000Z", "2026-11-17T14:12:00.000000Z"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--traces", "10", "--faults", "lock_wiat"],
            "Error: unknown fault 'lock_wiat' — did you mean 'lock_wait'? valid: all, lock_wait, slow_query, "
            "pool_exhaustion, downstream_exception, retry_timeout, circuit_breaker, fanout, async_error, "
            "sampling, uninstrumented, clock_skew, mixed_ids\n",
        ),
        (
            ["--traces", "10", "--services", "5"],
            "Error: --services 5 is too few for the chosen faults (they need 8) — "
            "use --services 8 or more, or fewer --faults\n",
        ),
        (
            ["--traces", "10", "--services", "3", "--faults", "lock_wait"],
            "Error: --services 3 is too few for the chosen faults (they need 4) — "
            "use --services 4 or more, or fewer --faults\n",
        ),
        (
            ["--faults", "fanout"],
            "Error: --faults needs --traces — add --traces N to run the scenario engine\n",
        ),
        (["--traces", "0"], "Error: --traces 0 must be positive — give --traces 1 or more\n"),
        (
            ["--traces", "10", "--sample-rate", "1.5"],
            "Error: --sample-rate 1.5 is out of range — give a share above 0, at most 1\n",
        ),
    ],
)
def test_cli_rejects_bad_options_in_one_line(tmp_path: Path, args: list[str], error: str) -> None:
    result = invoke("generate", tmp_path / "out", *args)
    assert result.exit_code == 1
    assert result.stderr == error
