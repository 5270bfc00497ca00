"""Format detection: the best sniff score wins, a near tie is an error naming both, explicit formats win."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.discover import InputFile, choose, detect
from pipeline.errors import InputError
from tests.conftest import SAMPLE


class _Fake:
    def __init__(self, name: str, score: float) -> None:
        self.name, self.score = name, score

    def sniff(self, head: list[str]) -> float:
        return self.score


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "x.log"
    path.write_text("some line\n")
    return path


def test_close_scores_are_an_error_that_lists_both_candidates(tmp_path: Path) -> None:
    table: dict[str, Any] = {"alpha": _Fake("alpha", 0.9), "beta": _Fake("beta", 0.85)}
    with pytest.raises(InputError) as err:
        detect(_file(tmp_path), parsers=table)
    assert "format is ambiguous between 'alpha' (0.90) and 'beta' (0.85)" in err.value.problem
    assert err.value.fix == "name it with --format or in the config's [[source]] format"


def test_a_clear_winner_is_returned_with_its_score(tmp_path: Path) -> None:
    table: dict[str, Any] = {"alpha": _Fake("alpha", 0.9), "beta": _Fake("beta", 0.6)}
    det = detect(_file(tmp_path), parsers=table)
    assert (det.format, det.score, det.detected) == ("alpha", 0.9, True)


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("api-gateway/access.log", "nginx"),
        ("order-service/order-service.log", "spring"),
        ("user-service/user-service.jsonl", "json"),
        ("inventory-service/inventory-service.log", "logfmt"),
        ("mysql/inventory-slow.log", "mysql-slow"),
        ("traces/otelcol-traces.json", "otlp-json"),
    ],
)
def test_every_sample_file_is_detected(sample: str, expected: str) -> None:
    assert detect(SAMPLE / sample).format == expected


def test_an_explicit_format_wins_over_detection() -> None:
    file = InputFile(SAMPLE / "api-gateway/access.log", "access.log", "logfmt", None, "UTC", True)
    det = choose(file)
    assert (det.format, det.detected) == ("logfmt", False)


def test_the_fallback_parser_loses_a_near_tie_instead_of_making_it_ambiguous(tmp_path: Path) -> None:
    fallback = _Fake("text", 0.6)
    fallback.fallback = True  # type: ignore[attr-defined]
    table: dict[str, Any] = {"text": fallback, "beta": _Fake("beta", 0.55)}
    assert detect(_file(tmp_path), parsers=table).format == "beta"
    table = {"text": fallback, "beta": _Fake("beta", 0.2)}
    assert detect(_file(tmp_path), parsers=table).format == "text"
