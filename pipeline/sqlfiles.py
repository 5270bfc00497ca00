"""Find and read the SQL shipped with the package (``sql/`` in a checkout, ``pipeline/sql`` in a wheel)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_PARAM_RE = re.compile(r"\$([a-z_][a-z0-9_]*)")


@cache
def sql_dir() -> Path:
    """The directory holding the SQL files: inside the installed package, else the checkout's ``sql/``."""
    for candidate in (_HERE / "sql", _HERE.parent / "sql"):
        if (candidate / "macros.sql").is_file():
            return candidate
    raise FileNotFoundError("tracejoin's sql/ directory is missing from this installation")


def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``; ``name`` may name a sub-directory (``reports/slow_queries``)."""
    return (sql_dir() / f"{name}.sql").read_text(encoding="utf-8")


def model_files() -> list[Path]:
    """The correlation queries, in the order they run."""
    return sorted((sql_dir() / "model").glob("*.sql"))


def report_names() -> list[str]:
    """Report names as the CLI spells them (file ``slow_queries.sql`` -> ``slow-queries``)."""
    return sorted(p.stem.replace("_", "-") for p in (sql_dir() / "reports").glob("*.sql"))


def params_of(sql: str) -> set[str]:
    """The ``$name`` parameters a query uses, so only those are bound."""
    return set(_PARAM_RE.findall(re.sub(r"--[^\n]*", "", sql)))


def purpose(sql: str) -> str:
    """The first comment line of a query: what it produces."""
    for line in sql.splitlines():
        if line.startswith("--"):
            return line.lstrip("- ").strip()
    return ""
