"""Conformance: every file of ../shared/corpora is detected as its format and parsed, with counts derived
independently of the parsers, no unexplained rejects, and the line accounting reconciling.

Files that are not a log, a trace export or a slow log are skipped, each with its reason (SKIP). Formats we
do not read yet are expected failures with their reason (GAPS): when one starts to pass, the strict xfail
says so and the entry must go.
"""

from __future__ import annotations

import bz2
import fnmatch
import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from parsers.base import ParseContext
from pipeline import reader
from pipeline.discover import detect, resolve_format
from tests.conftest import CORPORA

SKIP = {
    "*/LICENSE": "license text",
    "*/COPYING": "license text",
    "*README.md": "documentation",
    "*-expected.json": "Filebeat's expected output (an oracle the parser tests compare with), not a log",
    "jaeger/internal/storage/integration/fixtures/queries.json": "trace search queries, not traces",
    "percona-toolkit/t/lib/samples/slowlogs/empty": "empty file (the reader test covers empty input)",
    "percona-toolkit/t/lib/samples/slowlogs/slow006-session-*": "pt-log-player session file, not a slow log",
}

GAPS: dict[str, str] = {}

# Malformed on purpose: detection finds no parser; named explicitly, the parser rejects them with a reason.
NEGATIVE = {
    "jaeger/cmd/anonymizer/app/uiconv/fixtures/trace_invalid_json.json": "jaeger-json",
    "jaeger/cmd/anonymizer/app/uiconv/fixtures/trace_scan_error.json": "jaeger-json",
    "jaeger/cmd/anonymizer/app/uiconv/fixtures/trace_wrong_format.json": "jaeger-json",
}

# path pattern -> format; the first match wins
RULES = [
    ("*/mysql/slowlog/test/*", "mysql-slow"),
    ("percona-toolkit/t/lib/samples/slowlogs/*", "mysql-slow"),
    ("*/postgresql/log/test/*.csv.log", "postgresql-csv"),
    ("*/postgresql/log/test/*", "postgresql"),
    ("pgbadger/t/fixtures/anonymize.log", "postgresql-csv"),
    ("pgbadger/t/fixtures/csv_statement_without_duration.log", "postgresql-csv"),
    ("pgbadger/t/fixtures/weeknumber.log", "postgresql-csv"),
    ("pgbadger/t/fixtures/*.json*", "postgresql-json"),
    ("pgbadger/t/fixtures/cnpg.log.gz", "postgresql-json"),
    ("pgbadger/t/fixtures/cloudsql.log.gz", "postgresql-json"),
    ("pgbadger/t/fixtures/*", "postgresql"),
    ("loki/*", "logfmt"),
    ("zipkin/*", "zipkin-json"),
    ("otel-collector-contrib/receiver/zipkinreceiver/*", "zipkin-json"),
    ("tempo/*", "otlp-json"),
    ("opentelemetry-proto/examples/logs.json", "otlp-logs"),
    ("opentelemetry-proto/examples/events.json", "otlp-logs"),
    ("opentelemetry-proto/*", "otlp-json"),
    ("*otel_traces_01.json", "otlp-json"),
    ("jaeger/internal/storage/integration/fixtures/traces/*", "otlp-json"),
    ("*/apiv3/snapshots/*", "otlp-json"),
    ("*otlp2jaeger-in*", "otlp-json"),
    ("*otlp2jaeger-multi-in*", "otlp-json"),
    ("jaeger*", "jaeger-json"),
]

# Reasons a parser may give for a reject in a real file, per format (anything else is unexplained).
EXPLAINED = {
    "mysql-slow": (
        "line outside any slow-log entry",
        "slow-log entry without a '# Query_time:'",
        "unreadable '# Time:",
    ),
}


def _manifest() -> list[str]:
    path = CORPORA / "MANIFEST.tsv"
    if not path.is_file():
        return []
    return [line.split("\t")[0] for line in path.read_text().splitlines()[1:] if line.strip()]


def _params() -> list[Any]:
    out = []
    for rel in _manifest():
        if rel in GAPS:
            out.append(pytest.param(rel, marks=pytest.mark.xfail(strict=True, reason=GAPS[rel])))
        else:
            out.append(rel)
    return out or [
        pytest.param("", marks=pytest.mark.skip(reason="../shared/corpora is not beside this checkout"))
    ]


def _expected(rel: str) -> str:
    return next(fmt for pattern, fmt in RULES if fnmatch.fnmatch(rel, pattern))


def _text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    elif path.suffix == ".bz2":
        data = bz2.decompress(data)
    return data.decode("utf-8", "replace")


def _json_docs(text: str) -> list[Any]:
    try:
        return [json.loads(text)]
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _count_spans(node: Any, fmt: str) -> int:
    """Spans in a decoded document, counted by walking the JSON (independent of the parsers)."""
    if isinstance(node, list):
        return sum(_count_spans(n, fmt) for n in node)
    if not isinstance(node, dict):
        return 0
    if fmt == "zipkin-json":
        return 1 if "traceId" in node and "id" in node else 0
    if fmt == "jaeger-json" and "spans" in node:
        return len(node["spans"])
    if fmt == "jaeger-json" and ("spanID" in node or "spanId" in node) and "operationName" in node:
        return 1  # a single span (UI model or domain model)
    if fmt == "jaeger-json" and "SpanID" in node and "OperationName" in node:
        return 1  # a Cassandra span row (Jaeger's storage model)
    if fmt == "otlp-json" and "spans" in node and "traceId" not in node:
        return len(node["spans"])
    return sum(_count_spans(v, fmt) for v in node.values() if isinstance(v, dict | list))


def _independent_count(fmt: str, text: str) -> int | None:
    if fmt == "mysql-slow":
        return len(re.findall(r"^# Query_time:", text, re.M))
    if fmt.startswith("postgresql"):
        return len(re.findall(r"duration: [0-9.]+ ms", text))
    if fmt == "logfmt":
        return sum(1 for line in text.splitlines() if line.strip())
    if fmt == "otlp-logs":
        return text.count('"timeUnixNano"') or text.count('"observedTimeUnixNano"')
    if fmt in ("otlp-json", "jaeger-json", "zipkin-json"):
        return _count_spans(_json_docs(text), fmt)
    return None


def _parse(path: Path, fmt: str) -> tuple[int, int, list[str], int, int]:
    parser = resolve_format(fmt)
    records = accounted = lines = 0
    reasons: list[str] = []
    for chunk in reader.iter_records(path, parser.record_start):
        result = parser.parse(chunk.lines, ParseContext(path.name, chunk.first_line))
        records += result.records.num_rows
        reasons += result.rejects.column("reason").to_pylist()
        accounted += result.record_lines + result.reject_lines + result.skipped_lines
        lines += len(chunk.lines)
    return records, len(reasons), reasons, accounted, lines


@pytest.mark.corpus
@pytest.mark.parametrize("rel", _params())
def test_corpus_file(rel: str) -> None:
    for pattern, reason in SKIP.items():
        if fnmatch.fnmatch(rel, pattern):
            pytest.skip(reason)
    path = CORPORA / rel
    if rel in NEGATIVE:
        assert detect(path).format is None
        records, n_rejects, reasons, accounted, lines = _parse(path, NEGATIVE[rel])
        assert records == 0 and n_rejects >= 1 and all(reasons)
        assert accounted == lines
        return
    fmt = _expected(rel)
    assert detect(path).format == fmt
    records, n_rejects, reasons, accounted, lines = _parse(path, fmt)
    assert accounted == lines, "lines = record lines + reject lines + skipped lines"
    unexplained = [r for r in reasons if not r.startswith(EXPLAINED.get(fmt, ()))]
    assert unexplained == []
    expected = _independent_count(fmt, _text(path))
    if expected is not None:
        # entries the slow log has a '# Query_time:' line for but that were rejected (a garbled time)
        rejected_entries = sum(1 for r in reasons if r.startswith("unreadable '# Time:"))
        assert records + (rejected_entries if fmt == "mysql-slow" else 0) == expected


@pytest.mark.corpus
def test_the_whole_corpus_runs_end_to_end(tmp_path: Path) -> None:
    """`tracejoin run` over every corpus file at once: it finishes, every file's lines reconcile, and the
    output invariants (sql/checks) hold."""
    import duckdb

    from pipeline import sqlfiles
    from tests.conftest import invoke

    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora is not beside this checkout")
    out = tmp_path / "out"
    result = invoke("run", CORPORA, "--out", out)
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "_staging" / "manifest.json").read_text())
    assert {f["source_file"] for f in manifest["files"]} == {*_manifest(), "MANIFEST.tsv", "README.md"}
    for f in manifest["files"]:
        assert f["lines"] == f["record_lines"] + f["reject_lines"] + f["skipped_lines"], f["source_file"]
    con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)
    try:
        for check in sorted((sqlfiles.sql_dir() / "checks").glob("*.sql")):
            assert con.sql(check.read_text()).limit(3).fetchall() == [], check.stem
        assert con.sql("SELECT count(*) FROM slow_queries").fetchall()[0][0] > 200_000
        assert con.sql("SELECT count(DISTINCT format) FROM spans").fetchall()[0][0] == 3
    finally:
        con.close()
