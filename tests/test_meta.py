"""Meta-tests: declared dependencies, every SQL file used, every parser keeping the contract."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

import pytest

from parsers import schema
from parsers.registry import REGISTRY
from pipeline import sqlfiles
from tests.conftest import ROOT

# distribution name for an import name, where they differ
_DIST = {"dateutil": "python-dateutil"}


def _imports(package: str) -> set[str]:
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_every_third_party_import_of_the_package_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~ \[]", d)[0].lower() for d in project["dependencies"]}
    ours = {"pipeline", "parsers"}
    imported = (_imports("pipeline") | _imports("parsers")) - set(sys.stdlib_module_names) - ours
    missing = {_DIST.get(m, m) for m in imported} - declared
    assert not missing, f"imported but not in [project.dependencies]: {sorted(missing)}"


def test_every_sql_file_is_used() -> None:
    code = "\n".join(p.read_text() for p in (ROOT / "pipeline").rglob("*.py"))
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))
    root = sqlfiles.sql_dir()
    for path in sorted(root.rglob("*.sql")):
        rel = path.relative_to(root)
        if rel.parts[0] in ("model", "checks"):
            continue  # run by glob: correlate runs every model file, the tests run every check
        if rel.parts[0] == "reports":
            assert rel.stem.replace("_", "-") in sqlfiles.report_names()
            continue
        assert f'"{rel.with_suffix("").as_posix()}"' in code + tests, f"{rel} is never loaded"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_parser_declares_the_contract_and_parses_its_own_example(name: str) -> None:
    import polars as pl

    from parsers.base import ParseContext

    parser = REGISTRY[name]
    assert parser.name == name and parser.description and parser.example
    assert parser.kind in ("logs", "slow_queries", "spans")
    result = parser.parse(pl.Series([parser.example], dtype=pl.String), ParseContext("example.log"))
    assert result.records.schema == schema.SCHEMAS[parser.kind]
    assert result.rejects.schema == schema.REJECTS
    assert result.record_lines + result.reject_lines + result.skipped_lines == 1
