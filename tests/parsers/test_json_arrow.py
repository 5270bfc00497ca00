"""JSON lines: Arrow's reader (the fast path) and DuckDB give the same records and rejects, and the fast
path steps aside whenever it could not be exact."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from parsers import json_lines
from tests.parsers.helpers import attrs, run_parser
from tests.parsers.test_json_lines import ECS, LOGSTASH, OTEL, OTEL_NO_TRACE

FLAT = [
    OTEL,
    OTEL_NO_TRACE,
    LOGSTASH,
    "",
    '["not", "an", "object"]',
    '{"timestamp":"2026-11-17T14:32:06Z","severity_text":"INFO","body":"late key","late.key":"x"}',
    '{"timestamp":"2026-11-17T14:32:07Z","body":"truncated',
    "plain text line",
    '{"body":"no time at all"}',
]
# pino: epoch-ms time and numeric levels (a file of its own: a key whose type changes sends a chunk to DuckDB)
PINO = [
    '{"time":1763389925101,"level":50,"msg":"pino error","pid":7,"hostname":"h1","ok":false,"n":null}',
    '{"time":1763389925102,"level":30,"msg":"pino info","pid":7,"hostname":"h1","reqId":"r-1"}',
]
# logstash with Datadog IDs and `service` as a plain string (ECS aliases look inside it: nothing there)
DATADOG = [
    '{"@timestamp":"2026-11-17T14:32:05.238Z","message":"charge failed","level":"ERROR","level_value":40000,'
    '"service":"payment-service","host":"payment-1","dd.trace_id":"7553764910412358406",'
    '"dd.span_id":"2482364920193847562","order.id":"o-17"}',
    '{"@timestamp":"2026-11-17T14:32:05.300Z","message":"retry","level":"INFO","level_value":20000,'
    '"service":"payment-service","host":"payment-1"}',
]
# each of these sends its chunk to DuckDB: a number that is not an integer, a nested object other than a
# flat `attributes`, a key repeated in one object, a type that changes between lines, an unparsable object
FALLBACK = {
    "double": '{"timestamp":"2026-11-17T14:32:09Z","body":"slow","duration_ms":3.0,"ratio":1e20}',
    "nested": ECS,
    "nested attributes": '{"timestamp":"2026-11-17T14:32:09Z","body":"x","attributes":{"a":{"b":1}}}',
    "repeated key": '{"timestamp":"2026-11-17T14:32:09Z","body":"x","body":"y"}',
    "bag not an object": '{"timestamp":"2026-11-17T14:32:08Z","body":"no level", "attributes": "scalar"}',
    "type change": '{"timestamp":"2026-11-17T14:32:09Z","body":"x","severity_number":"nine"}',
    "broken inside": '{"timestamp":"2026-11-17T14:32:09Z","body":"x",}',
}


def _both(lines: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[object, object, bool]:
    calls: list[bool] = []
    real = json_lines._read_arrow

    def spy(df):  # type: ignore[no-untyped-def]
        out = real(df)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(json_lines, "_read_arrow", spy)
    fast = run_parser(json_lines, lines, "app.jsonl", first_line=3)
    monkeypatch.setattr(json_lines, "_read_arrow", lambda df: None)
    slow = run_parser(json_lines, lines, "app.jsonl", first_line=3)
    return fast, slow, calls[0]


def _assert_same(fast: object, slow: object) -> None:
    (frecs, frej, fres), (srecs, srej, sres) = fast, slow  # type: ignore[misc]
    assert_frame_equal(frecs, srecs, check_exact=True)
    assert_frame_equal(frej, srej, check_exact=True)
    assert (fres.record_lines, fres.reject_lines, fres.skipped_lines, fres.tz_assumed) == (
        sres.record_lines,
        sres.reject_lines,
        sres.skipped_lines,
        sres.tz_assumed,
    )


def test_flat_lines_take_the_arrow_path_and_match_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow, took_arrow = _both(FLAT, monkeypatch)
    assert took_arrow
    _assert_same(fast, slow)
    recs, rejects, _ = fast  # type: ignore[misc]
    assert recs.height == 4 and rejects.height == 4  # array, truncated, plain text, no time


def test_datadog_logstash_takes_the_arrow_path(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow, took_arrow = _both(DATADOG, monkeypatch)
    assert took_arrow
    _assert_same(fast, slow)
    first = fast[0].row(0, named=True)  # type: ignore[index]
    assert first["service"] == "payment-service" and first["trace_id"] == "000000000000000068d45d2a19f06306"


def test_pino_takes_the_arrow_path(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow, took_arrow = _both(PINO, monkeypatch)
    assert took_arrow
    _assert_same(fast, slow)
    recs = fast[0]  # type: ignore[index]
    pino = recs.filter(recs["message"] == "pino error").row(0, named=True)
    assert pino["level"] == "ERROR" and pino["host"] == "h1"
    assert {"pid": "7", "ok": "false"}.items() <= attrs(pino).items()


@pytest.mark.parametrize("case", sorted(FALLBACK))
def test_what_arrow_cannot_read_exactly_goes_to_duckdb(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow, took_arrow = _both([*FLAT, FALLBACK[case]], monkeypatch)
    assert not took_arrow
    _assert_same(fast, slow)


def test_sample_file_is_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(__file__).resolve().parents[2]
    lines = (root / "sample_logs/user-service/user-service.jsonl").read_text().splitlines()
    fast, slow, took_arrow = _both(lines, monkeypatch)
    assert took_arrow  # its one broken line (cut short) is rejected without leaving the fast path
    _assert_same(fast, slow)
