"""Fingerprint classes agree with pt-query-digest on every slow log of the corpus, except the deliberate
differences listed here (the comparison is of class sizes per file: fingerprints group the same entries)."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from parsers import mysql_slow
from parsers.base import ParseContext
from pipeline.ingest import parse_chunks
from tests.conftest import CORPORA

SLOWLOGS = CORPORA / "percona-toolkit/t/lib/samples/slowlogs"

DELIBERATE = {
    "slow017.txt": "a wrapped-around negative Query_time: pt drops the entry, we keep the statement",
    "slow022.txt": "an invalid '# Time' token: we reject those entries with that reason, pt ignores time",
    "slow024.txt": "a huge multi-row INSERT ... ON DUPLICATE KEY UPDATE: pt loses the tail of very long"
    " statements and groups it with the plain INSERT; we fingerprint all of it (short ones agree)",
    "slow041.txt": "'# administrator command: Quit;' before any header: a reject for us, a Quit for pt",
}
NOT_SLOW_LOGS = ("empty", "slow006-session-")  # an empty file; pt-log-player session files


def _files() -> list[str]:
    if not SLOWLOGS.is_dir():
        return []
    return sorted(p.name for p in SLOWLOGS.iterdir() if not p.name.startswith(NOT_SLOW_LOGS))


def _pt_classes(path: Path, tmp_path: Path) -> list[int]:
    if path.suffix == ".gz":
        plain = tmp_path / path.stem
        plain.write_bytes(gzip.decompress(path.read_bytes()))
        path = plain
    out = subprocess.run(
        ["pt-query-digest", "--output", "json", "--limit", "100%:100000", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    classes = json.loads(out).get("classes", []) if out.strip() else []
    return sorted(c["query_count"] for c in classes)


def _our_classes(path: Path) -> list[int]:
    counts: Counter[str] = Counter()
    for _, result in parse_chunks(path, mysql_slow, lambda first: ParseContext(path.name, first), 1):
        counts.update(result.records.column("fingerprint").to_pylist())
    return sorted(counts.values())


@pytest.mark.corpus
@pytest.mark.skipif(
    shutil.which("pt-query-digest") is None, reason="pt-query-digest (percona-toolkit) not installed"
)
@pytest.mark.parametrize("name", _files() or [pytest.param("", marks=pytest.mark.skip(reason="no corpus"))])
def test_fingerprint_classes_agree_with_pt_query_digest(name: str, tmp_path: Path) -> None:
    path = SLOWLOGS / name
    pt, ours = _pt_classes(path, tmp_path), _our_classes(path)
    if name in DELIBERATE:
        assert pt != ours, f"{name} now agrees: remove it from DELIBERATE ({DELIBERATE[name]})"
    else:
        assert ours == pt
