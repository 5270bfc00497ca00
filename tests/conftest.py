"""Shared fixtures: one pipeline run over sample_logs/ for the whole session, and the corpus location."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_logs"
CORPORA = ROOT.parent / "shared" / "corpora"

# Property tests draw the same examples on every run, so a failure in CI is one anyone can repeat;
# HYPOTHESIS_PROFILE=explore draws new examples each run (and keeps failures in .hypothesis/) to hunt bugs.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def invoke(*args: str | Path) -> Result:
    """Run the CLI in-process; the result keeps exit code, stdout and stderr apart."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """`tracejoin run sample_logs --out <tmp>` once per test session."""
    out = tmp_path_factory.mktemp("sample") / "out"
    result = invoke("run", SAMPLE, "--out", out)
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return out, result


@pytest.fixture(scope="session")
def sample_out(sample_run: tuple[Path, Result]) -> Path:
    return sample_run[0]


@pytest.fixture(scope="session")
def truth() -> dict[str, Any]:
    return dict(json.loads((SAMPLE / "ground_truth.json").read_text()))


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora is not beside this checkout (it is in CI)")
    return CORPORA
