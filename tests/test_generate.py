"""The sample-data generator: deterministic, in the README's shapes, and its ground truth is true.

The ground-truth checks re-derive every claim from the written files (not from the generator's own
objects): the symptom line is read back from order-service.log, the root cause is recomputed from the
OTLP spans with the DESIGN §6 rule, slow-log entries are read back from the slow log.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.generate import GROUND_TRUTH, generate
from pipeline.generate.model import FILES
from tests.conftest import SAMPLE, invoke

Span = dict[str, Any]
DATA_FILES = sorted(FILES.values())
ACCESS_RE = re.compile(
    r"^[0-9.]+ - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} \+0000\] "
    r'"[A-Z]+ /\S* HTTP/1\.1" [0-9]{3} [0-9]+ '
    r'"-" "[^"]+" "(-|00-[0-9a-f]{32}-[0-9a-f]{16}-0[01])" [0-9]+\.[0-9]{3} (-|[0-9]+\.[0-9]{3})$'
)
SPRING_RE = re.compile(
    r"^(?P<ts>[0-9-]{10}T[0-9:]{8}\.[0-9]{3}\+01:00) (?P<level>ERROR| WARN| INFO|DEBUG) "
    r"\[order-service,(?P<trace>[0-9a-f]{32})?,(?P<span>[0-9a-f]{16})?\] 1 --- \[.{15}\] .{40} : (?P<msg>.+)$"
)
STACK_RE = re.compile(
    r"^(\t(at |\.\.\. [0-9]+ common frames omitted)|Caused by: |[a-z]+(\.[A-Za-z0-9_$]+)+: )"
)
LOGFMT_RE = re.compile(
    r"^ts=[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z level=(debug|info|warn|error) service=inventory-service "
    r"host=\S+ caller=\S+( trace_id=[0-9a-f]{32} span_id=[0-9a-f]{16})? "
    r"msg=(\"[^\"]+\"|\S+)( [a-z_]+=(\"[^\"]*\"|\S+))*$"
)
JSON_KEYS = ["timestamp", "severity_text", "severity_number", "service.name", "host.name", "logger", "body"]
TRACEPARENT_RE = re.compile(r"traceparent='00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])'")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("seed17")
    return out, generate(out, 17)


@pytest.fixture(scope="module")
def root(run: tuple[Path, dict[str, Any]]) -> Path:
    return run[0]


@pytest.fixture(scope="module")
def truth(root: Path) -> dict[str, Any]:
    return json.loads((root / GROUND_TRUTH).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def spans(root: Path) -> dict[str, dict[str, Span]]:
    """trace_id -> span_id -> span (with ``service`` added from its resource)."""
    by_trace: dict[str, dict[str, Span]] = defaultdict(dict)
    for line in _lines(root, FILES["otlp"]):
        for rs in json.loads(line)["resourceSpans"]:
            service = next(
                a["value"]["stringValue"] for a in rs["resource"]["attributes"] if a["key"] == "service.name"
            )
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    assert s["spanId"] not in by_trace[s["traceId"]], "span exported twice"
                    by_trace[s["traceId"]][s["spanId"]] = {**s, "service": service}
    return dict(by_trace)


def _lines(root: Path, rel: str) -> list[str]:
    return (root / rel).read_text(encoding="utf-8").split("\n")[:-1]


def _all_bytes(root: Path) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in [*DATA_FILES, GROUND_TRUTH]}


def _cases(truth: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return next(f for f in truth["faults"] if f["kind"] == kind)["cases"]


def _all_cases(truth: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for fault in truth["faults"]:
        yield from fault["cases"]


def _malformed(truth: dict[str, Any], rel: str) -> set[int]:
    return {m["source_line"] for m in truth["malformed"] if m["source_file"] == rel}


# --- determinism and files ---------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(root: Path, tmp_path: Path) -> None:
    generate(tmp_path, 17)
    assert _all_bytes(tmp_path) == _all_bytes(root)


def test_cli_without_traces_writes_the_committed_sample_logs(tmp_path: Path) -> None:
    """``tracejoin generate OUT --seed 17`` (no scenario option) is the committed day, byte for byte."""
    result = invoke("generate", tmp_path, "--seed", "17")
    assert result.exit_code == 0, result.output
    assert _all_bytes(tmp_path) == _all_bytes(SAMPLE)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        p.name for p in SAMPLE.rglob("*") if p.is_file() and p.name != "README.md"
    )


def test_other_seed_gives_other_files(root: Path, tmp_path: Path) -> None:
    generate(tmp_path, 18)
    first, other = _all_bytes(root), _all_bytes(tmp_path)
    assert [rel for rel in first if first[rel] == other[rel]] == []


def test_every_file_present_non_empty_and_small(root: Path, run: tuple[Path, dict[str, Any]]) -> None:
    sizes = {rel: (root / rel).stat().st_size for rel in [*DATA_FILES, GROUND_TRUTH]}
    assert all(size > 0 for size in sizes.values()), sizes
    assert sum(sizes.values()) < 5_500_000, sizes
    summary = run[1]["files"]
    assert {rel: len(_lines(root, rel)) for rel in DATA_FILES} == {
        rel: summary[rel]["lines"] for rel in DATA_FILES
    }


def test_counts_match_ground_truth(truth: dict[str, Any], spans: dict[str, dict[str, Span]]) -> None:
    counts = truth["counts"]
    assert counts["spans"] == sum(len(t) for t in spans.values())
    assert counts["traces"] - counts["traces_sampled_out"] == len(spans)
    assert 0.10 < counts["traces_sampled_out"] / counts["traces"] < 0.20
    assert 600 <= counts["checkouts"] <= 800 and 250 <= counts["order_lookups"] <= 350


# --- line shapes (sample_logs/README.md) ---------------------------------------------------------------


def test_access_log_shape_and_order(root: Path, truth: dict[str, Any]) -> None:
    rel = FILES["api-gateway"]
    bad = _malformed(truth, rel)
    lines = _lines(root, rel)
    assert [n for n, line in enumerate(lines, 1) if not ACCESS_RE.match(line)] == sorted(bad)
    times = [line.split("[", 1)[1][:20] for n, line in enumerate(lines, 1) if n not in bad]
    assert times == sorted(times)


def test_spring_log_shape_and_order(root: Path) -> None:
    lines = _lines(root, FILES["order-service"])
    starts = [SPRING_RE.match(line) for line in lines]
    assert [line for line, m in zip(lines, starts, strict=True) if not m and not STACK_RE.match(line)] == []
    stamps = [m["ts"] for m in starts if m]
    assert stamps == sorted(stamps) and stamps[0].startswith("2026-11-17T15:00")
    assert any(m["trace"] is None for m in starts if m), "startup/background lines have no trace context"


def test_jsonl_shape_and_order(root: Path, truth: dict[str, Any]) -> None:
    rel = FILES["user-service"]
    bad = _malformed(truth, rel)
    docs = [json.loads(line) for n, line in enumerate(_lines(root, rel), 1) if n not in bad]
    for doc in docs:
        keys = list(doc)
        assert keys[:7] == JSON_KEYS and keys[-1] == "attributes"
        assert keys[7:-1] in ([], ["trace_id", "span_id"])
    stamps = [d["timestamp"] for d in docs]
    assert stamps == sorted(stamps)


def test_logfmt_shape_and_order(root: Path, truth: dict[str, Any]) -> None:
    rel = FILES["inventory-service"]
    bad = _malformed(truth, rel)
    lines = _lines(root, rel)
    assert [n for n, line in enumerate(lines, 1) if not LOGFMT_RE.match(line)] == sorted(bad)
    stamps = [line[3:30] for n, line in enumerate(lines, 1) if n not in bad]
    assert stamps == sorted(stamps)


def _slow_entries(root: Path) -> dict[int, list[str]]:
    """Slow-log entries by the line of their ``# Time:`` header."""
    lines = _lines(root, FILES["mysql"])
    starts = [n for n, line in enumerate(lines, 1) if line.startswith("# Time: ")]
    ends = [*(s - 1 for s in starts[1:]), len(lines)]
    return {s: lines[s - 1 : e] for s, e in zip(starts, ends, strict=True)}


def test_slow_log_shape(root: Path) -> None:
    entries = _slow_entries(root)
    assert _lines(root, FILES["mysql"])[0].startswith("/usr/sbin/mysqld, Version: 8.0")
    seen: set[str] = set()
    ends = []
    for entry in entries.values():
        thread = re.fullmatch(r"# User@Host: (\w+)\[\1\] @  \[[0-9.]+\]  Id: +([0-9]+)", entry[1])
        assert thread, entry[1]
        stats = re.match(
            r"# Query_time: ([0-9.]+)  Lock_time: ([0-9.]+) Rows_sent: [0-9]+  Rows_examined: ", entry[2]
        )
        assert stats and float(stats[1]) >= 0.05 and float(stats[2]) <= float(stats[1])
        assert entry[2].endswith(f"End: {entry[0][8:]}")  # # Time: is the end time
        assert (entry[3] == "use inventory;") == (thread[2] not in seen)  # only on a connection's first entry
        seen.add(thread[2])
        start = re.search(r"Start: (\S+)", entry[2])
        assert start and entry[-2] == f"SET timestamp={int(_parse_z(start[1]).timestamp())};"
        assert entry[-1].endswith(";") and "?" not in entry[-1]
        ends.append(entry[0])
    assert ends == sorted(ends)


def _parse_z(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def test_otlp_lines_group_by_service(root: Path) -> None:
    for line in _lines(root, FILES["otlp"]):
        services = [
            next(
                a["value"]["stringValue"] for a in rs["resource"]["attributes"] if a["key"] == "service.name"
            )
            for rs in json.loads(line)["resourceSpans"]
        ]
        assert services == sorted(set(services))


def test_span_trees_are_consistent(root: Path, spans: dict[str, dict[str, Span]]) -> None:
    """Children inside parents, CLIENT→SERVER gaps of 0.5–2 ms, and the web client's span never exported."""
    access = (root / FILES["api-gateway"]).read_text(encoding="utf-8")
    web_client = dict(re.findall(r'"00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]"', access))
    assert len([t for t in spans if t not in web_client]) <= 1 + access.count('"curl/')  # + the cut line
    for tid, trace in spans.items():
        roots = [s for s in trace.values() if s.get("parentSpanId") not in trace]
        assert len(roots) == 1 and roots[0]["service"] == "order-service" and roots[0]["kind"] == 2
        assert roots[0].get("parentSpanId") == web_client.get(tid, roots[0].get("parentSpanId"))
        for s in trace.values():
            parent = trace.get(s.get("parentSpanId", ""))
            if parent is None:
                continue
            assert (
                int(parent["startTimeUnixNano"]) <= int(s["startTimeUnixNano"]) <= int(s["endTimeUnixNano"])
            )
            gave_up = (
                parent["status"].get("message") == "Read timed out"
            )  # the callee goes on after a timeout
            assert gave_up or int(s["endTimeUnixNano"]) <= int(parent["endTimeUnixNano"])
            if s["kind"] == 2:
                gap = int(s["startTimeUnixNano"]) - int(parent["startTimeUnixNano"])
                assert 500_000 <= gap <= 2_000_000


# --- ground truth ------------------------------------------------------------------------------------------


def test_ground_truth_fault_inventory(truth: dict[str, Any]) -> None:
    assert truth["seed"] == 17 and truth["window"] == [
        "2026-11-17T14:00:00.000000Z",
        "2026-11-17T15:00:00.000000Z",
    ]
    lock = _cases(truth, "db_lock_wait")
    assert len(lock) == 12 and sum(not c["sampled"] for c in lock) == 2
    assert sum(c["sampled"] and not c["slow_log"]["has_comment"] for c in lock) >= 3
    story = [c for c in lock if c["symptom"]["ts"].startswith("2026-11-17T14:32:05")]
    assert len(story) == 1 and story[0]["sampled"] and story[0]["slow_log"]["has_comment"]
    timeouts = _cases(truth, "upstream_timeout")
    assert len(timeouts) == 2 and all(c["sampled"] and c["slow_log"] is None for c in timeouts)
    assert {c["root_cause"]["name"] for c in lock} == {"UPDATE inventory"}
    assert {c["root_cause"]["name"] for c in timeouts} == {"SELECT users"}
    assert (
        len(next(f for f in truth["faults"] if f["kind"] == "upstream_timeout")["affected_trace_ids"]) >= 20
    )


def test_symptom_is_the_upstream_error_line(root: Path, truth: dict[str, Any]) -> None:
    lines = _lines(root, FILES["order-service"])
    for case in _all_cases(truth):
        symptom = case["symptom"]
        assert symptom["source_file"] == FILES["order-service"]
        m = SPRING_RE.match(lines[symptom["source_line"] - 1])
        assert m and m["level"] == "ERROR" and m["msg"] == symptom["message"]
        assert m["msg"].startswith("upstream service error: ")
        assert (m["trace"], m["span"]) == (case["trace_id"], symptom["span_id"])
        local = datetime.strptime(m["ts"], "%Y-%m-%dT%H:%M:%S.%f%z")
        assert local == _parse_z(symptom["ts"])
        assert STACK_RE.match(lines[symptom["source_line"]]), "a stack trace follows the error"


def test_fault_traces_appear_in_every_log_on_their_path(root: Path, truth: dict[str, Any]) -> None:
    texts = {rel: (root / rel).read_text(encoding="utf-8") for rel in DATA_FILES}
    access = _lines(root, FILES["api-gateway"])
    for case in _all_cases(truth):
        tid = case["trace_id"]
        assert tid in texts[FILES["order-service"]] and tid in texts[FILES["user-service"]]
        line = access[case["access_log"]["source_line"] - 1]
        flags = "01" if case["sampled"] else "00"
        assert re.search(f'"00-{tid}-[0-9a-f]{{16}}-{flags}"', line), line
        assert f'" {case["access_log"]["status"]} ' in line
    for case in _cases(truth, "db_lock_wait"):
        assert f"trace_id={case['trace_id']}" in texts[FILES["inventory-service"]]


def test_root_cause_spans_are_exported_unless_sampled_out(
    truth: dict[str, Any], spans: dict[str, dict[str, Span]]
) -> None:
    kinds = {"CLIENT": 3, "SERVER": 2}
    for case in _all_cases(truth):
        rc = case["root_cause"]
        if not case["sampled"]:
            assert case["trace_id"] not in spans
            continue
        span = spans[case["trace_id"]][rc["span_id"]]
        assert (span["name"], span["service"], span["kind"]) == (rc["name"], rc["service"], kinds[rc["kind"]])


def _end(s: Span) -> int:
    return int(s["endTimeUnixNano"])


def _is_error(s: Span) -> bool:
    http = next(
        (
            int(a["value"]["intValue"])
            for a in s.get("attributes", [])
            if a["key"] == "http.response.status_code"
        ),
        0,
    )
    return (
        s["status"].get("code") == 2
        or http >= 500
        or any(e["name"] == "exception" for e in s.get("events", []))
    )


def _design_root_cause(trace: dict[str, Span], anchor: str) -> str:
    """DESIGN §6 steps 2–3, written independently of the generator."""
    children: dict[str, list[Span]] = defaultdict(list)
    for s in trace.values():
        children[s.get("parentSpanId", "")].append(s)

    def subtree(sid: str) -> list[Span]:
        return [trace[sid], *(d for c in children[sid] for d in subtree(c["spanId"]))]

    def self_ns(s: Span) -> int:
        start, end = int(s["startTimeUnixNano"]), _end(s)
        covered = sum(
            max(0, min(_end(c), end) - max(int(c["startTimeUnixNano"]), start)) for c in children[s["spanId"]]
        )
        return end - start - covered

    errors = [s for s in subtree(anchor) if _is_error(s)]
    if errors:
        leaves = [s for s in errors if not any(_is_error(d) for d in subtree(s["spanId"])[1:])]
        origin = min(leaves, key=_end)
        callees = children[origin["spanId"]]
        if "timed out" not in origin["status"].get("message", "") or not callees:
            return str(origin["spanId"])
        anchor = max(callees, key=_end)["spanId"]  # gave up waiting: the cause lies in the callee
    path = [trace[anchor]]
    while children[path[-1]["spanId"]]:
        path.append(max(children[path[-1]["spanId"]], key=_end))
    return str(max(path, key=self_ns)["spanId"])


def test_root_cause_follows_design_rule(truth: dict[str, Any], spans: dict[str, dict[str, Span]]) -> None:
    for case in _all_cases(truth):
        if case["sampled"]:
            trace = spans[case["trace_id"]]
            assert _design_root_cause(trace, case["symptom"]["span_id"]) == case["root_cause"]["span_id"]


def test_slow_log_entries_of_the_lock_wait(root: Path, truth: dict[str, Any]) -> None:
    entries = _slow_entries(root)
    fault = next(f for f in truth["faults"] if f["kind"] == "db_lock_wait")
    blocker = entries[fault["blocker"]["source_line"]]
    assert "restock[restock] @  [10.0.9.5]" in blocker[1] and "/*" not in blocker[-1]
    blocker_query = float(re.findall(r"Query_time: ([0-9.]+)", blocker[2])[0])
    assert 45 < blocker_query < 52 and blocker[-1] == f"{fault['blocker']['statement']};"
    for case in fault["cases"]:
        entry = entries[case["slow_log"]["source_line"]]
        query, lock = map(float, re.findall(r"(?:Query|Lock)_time: ([0-9.]+)", entry[2]))
        assert "Errno: 1213 " in entry[2] and 0.15 <= query <= 0.261 and 0.0003 <= query - lock <= 0.001
        assert entry[0] < blocker[0], "the waiting UPDATE ends while the restock job still holds the locks"
        tp = TRACEPARENT_RE.search(entry[-1])
        assert (tp is not None) == case["slow_log"]["has_comment"]
        if tp:
            flags = "01" if case["sampled"] else "00"
            assert tp.groups() == (case["trace_id"], case["root_cause"]["span_id"], flags)


def test_noise_is_recorded(root: Path, truth: dict[str, Any]) -> None:
    noise = truth["noise"]
    assert noise["validation_errors"] > 0 and noise["not_found"] > 0
    for err in noise["unrelated_errors"]:
        doc = json.loads(_lines(root, err["source_file"])[err["source_line"] - 1])
        assert doc["severity_text"] == "ERROR" and doc["body"] == err["message"] and "trace_id" not in doc
    entries = _slow_entries(root)
    for q in noise["slow_queries_without_lock"]:
        assert "Errno: 0 " in entries[q["source_line"]][2]
    text = (root / FILES["order-service"]).read_text(encoding="utf-8")
    assert text.count("validation failed: quantity must be positive") == noise["validation_errors"]


def test_malformed_lines_are_really_malformed(root: Path, truth: dict[str, Any]) -> None:
    assert sorted(m["source_file"] for m in truth["malformed"]) == sorted(
        [FILES["api-gateway"], FILES["inventory-service"], FILES["user-service"]]
    )
    for m in truth["malformed"]:
        line = _lines(root, m["source_file"])[m["source_line"] - 1]
        assert "\x00" not in line
        if m["source_file"].endswith(".jsonl"):
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
        else:
            assert not ACCESS_RE.match(line) and not LOGFMT_RE.match(line)


def test_ground_truth_file_is_sorted_json(root: Path, truth: dict[str, Any]) -> None:
    text = (root / GROUND_TRUTH).read_text(encoding="utf-8")
    assert text == json.dumps(truth, sort_keys=True, indent=2) + "\n"


def test_berlin_offset_is_one_hour(root: Path) -> None:
    first = next(m for m in map(SPRING_RE.match, _lines(root, FILES["order-service"])) if m)
    local = datetime.strptime(first["ts"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert local.utcoffset() == timedelta(hours=1) and local.astimezone(UTC).hour == 14
