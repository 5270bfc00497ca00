"""Lines cut at offsets keep their fields when non-ASCII text comes before a cut.

The text parsers find a delimiter (``[``, `` --- ``, `` : ``, ``?``, a severity) and cut the line there. The
offset a search gives and the one a slice takes must count the same unit; a user name, thread, path or key
with a multi-byte character before the cut shows at once when they do not (polars 2.2 made
``str.find`` count characters where it counted bytes before).
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from parsers import envoy, logfmt, nginx, postgres, spring
from parsers.base import ParseContext, Parser
from tests.parsers.helpers import attrs, frame, run_parser

WHEN = datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)


NGINX = (
    '10.0.3.17 - jürgen [17/Nov/2026:14:32:05 +0000] "GET /bücher/straße?q=grüße HTTP/1.1" 200 87 "-" '
    '"curl/8.5.0"'
)
ENVOY = (
    '[2026-11-17T14:32:05.000Z] "GET /bücher?q=ü HTTP/1.1" 200 - 0 87 3 2 "10.0.3.17" "curl/8.5.0" '
    '"5c2f6e2a-9e6f-4d7e-8b9a-1f2e3d4c5b6a" "shop.example.com" "10.0.4.21:8080"'
)


@pytest.mark.parametrize(
    ("parser", "line", "want"),
    [
        (nginx, NGINX, {"user.name": "jürgen", "url.path": "/bücher/straße", "url.query": "q=grüße"}),
        (envoy, ENVOY, {"url.path": "/bücher", "url.query": "q=ü"}),
    ],
    ids=["nginx", "envoy"],
)
def test_access_log_user_and_path_with_umlauts(parser: Parser, line: str, want: dict[str, str]) -> None:
    recs, rejects, _ = run_parser(parser, [line], "api-gateway/access.log")
    assert rejects.is_empty()
    (rec,) = recs.to_dicts()
    assert rec["ts"] == WHEN
    assert {key: attrs(rec)[key] for key in want} == want


def test_spring_app_and_thread_with_non_ascii_text() -> None:
    lines = [
        "2026-11-17T14:32:05.000Z ERROR [bestellüng,4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7] "
        "1 --- [主线程-7] c.e.ÖrderController : Fehler: Größe",
        "2026-11-17T14:32:05.000Z  INFO [bestellüng,,] 1 --- [主线程-7] c.e.ÖrderController :",
    ]
    recs, rejects, _ = run_parser(spring, lines, "order-service/order-service.log")
    assert rejects.is_empty()
    assert recs.select("ts", "level", "service", "logger", "message").rows() == [
        (WHEN, "ERROR", "bestellüng", "c.e.ÖrderController", "Fehler: Größe"),
        (WHEN, "INFO", "bestellüng", "c.e.ÖrderController", ""),
    ]
    assert [attrs(r)["thread"] for r in recs.to_dicts()] == ["主线程-7", "主线程-7"]


def test_logfmt_long_keys_after_non_ascii_values() -> None:
    # keys past 16 bytes are found by a string search; its offset is counted in bytes of the line
    lines = [
        f'time=2026-11-17T14:32:05Z level=info msg="grüße {i}" größe_der_bestellung_in_stück=3 '
        "a_key_longer_than_sixteen_bytes=ü"
        for i in range(300)
    ]
    recs, rejects, _ = run_parser(logfmt, lines, "inventory-service/app.log")
    assert rejects.is_empty() and recs.height == 300
    assert {tuple(sorted(attrs(r).items())) for r in recs.to_dicts()} == {
        (("a_key_longer_than_sixteen_bytes", "ü"), ("größe_der_bestellung_in_stück", "3"))
    }
    assert recs["ts"].unique().to_list() == [WHEN]


def test_postgres_prefix_with_non_ascii_user() -> None:
    lines = [
        "2026-11-17 14:32:05.000 UTC [4711] user=jürgen,db=läden LOG:  duration: 1.500 ms  statement: "
        "SELECT 1"
    ]
    ctx = ParseContext("db/postgresql.log")
    result = postgres.parse(pl.Series(lines, dtype=pl.String), ctx)
    (rec,) = frame(result.records).to_dicts()
    # ts: the statement's start, the log time less the duration
    start = datetime(2026, 11, 17, 14, 32, 4, 998500, tzinfo=UTC)
    assert (rec["ts"], rec["db_user"], rec["db"], rec["duration_ms"]) == (start, "jürgen", "läden", 1.5)
