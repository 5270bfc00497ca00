"""Discovery: turn paths, globs, directories and config sources into input files with a format each.

Detection sniffs each file's head with every registered parser and returns what it chose (and the
score), so the run summary can show it. An explicit format wins. Two close scores are an error that names
both candidates, not a coin toss.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from parsers.base import Parser
from parsers.registry import ALIASES, REGISTRY
from pipeline import reader
from pipeline.config import Config, Source
from pipeline.errors import ConfigError, InputError, did_you_mean

MIN_SCORE = 0.5  # below this no parser claims the file
TIE_MARGIN = 0.1  # two scores closer than this are ambiguous


@dataclass(frozen=True)
class InputFile:
    path: Path
    source_file: str  # the name recorded in every output row (relative to the input root, '/' separated)
    format: str | None  # explicit format, or None to detect
    service: str | None
    timezone: str
    explicit: bool  # named directly (an undetectable format is an error) or found in a directory (skipped)
    options: tuple[tuple[str, str], ...] = ()  # format options from the config (ParseContext.options)


@dataclass(frozen=True)
class Detection:
    format: str | None
    score: float
    detected: bool  # False when the format was given explicitly
    note: str = ""


def parser_table(config: Config | None) -> dict[str, Parser]:
    """Built-in parsers plus the config's user-defined formats."""
    table: dict[str, Parser] = dict(REGISTRY)
    if config is not None:
        table.update({f.name: f for f in config.formats})
    return table


def resolve_format(name: str, parsers: Mapping[str, Parser] | None = None) -> Parser:
    """The parser for a format name or alias; unknown names get a did-you-mean."""
    table = REGISTRY if parsers is None else parsers
    key = ALIASES.get(name, name)
    if key in table:
        return table[key]
    raise ConfigError(
        f"unknown format {name!r}",
        did_you_mean(name, [*table, *ALIASES], "run 'tracejoin formats' to list them"),
    )


def _expand(spec: str, base: Path) -> list[tuple[Path, Path | None, bool]]:
    """(file, root it was found under or None, explicit?) for one path/dir/glob."""
    path = Path(spec) if Path(spec).is_absolute() else base / spec
    if any(ch in spec for ch in "*?["):
        matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
        files = [m for m in matches if m.is_file()]
        if not files:
            raise InputError(
                f"no files match {spec!r}", "check the pattern (quote it so the shell leaves it alone)"
            )
        return [(f, None, True) for f in files]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        return [(f, path, False) for f in files]
    if path.is_file():
        return [(path, None, True)]
    raise InputError(f"input not found: {spec}", "give an existing file, directory or glob")


def _source_name(path: Path, root: Path | None) -> str:
    if root is not None:
        return path.relative_to(root).as_posix()
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def discover(inputs: list[str], config: Config | None = None, fmt: str | None = None) -> list[InputFile]:
    """Every input file, deduplicated, in a stable order."""
    sources: list[tuple[Source, Path]] = [
        (Source(p, fmt, None, config.timezone if config else "UTC"), Path.cwd()) for p in inputs
    ]
    if config is not None:
        sources += [(s, config.base_dir) for s in config.sources]
    if not sources:
        raise InputError(
            "no inputs given", "pass files, directories or globs, or a --config with [[source]] entries"
        )
    seen: dict[Path, InputFile] = {}
    for source, base in sources:
        if source.format is not None:
            resolve_format(source.format, parser_table(config))
        for path, root, explicit in _expand(source.path, base):
            key = path.resolve()
            if key in seen:
                continue
            service = source.service or (path.parent.name if path.parent != root or root is None else None)
            seen[key] = InputFile(
                path,
                _source_name(path, root),
                source.format,
                service,
                source.timezone,
                explicit,
                source.options,
            )
    return sorted(seen.values(), key=lambda f: f.source_file)


def detect(
    path: Path, head: list[str] | None = None, parsers: Mapping[str, Parser] | None = None
) -> Detection:
    """Sniff a file's head with every parser; return the best format, or None with the reason."""
    head = reader.read_head(path) if head is None else head
    table = REGISTRY if parsers is None else parsers
    if not any(line.strip() for line in head):
        return Detection(None, 0.0, True, "empty file")
    scores = sorted(((float(p.sniff(head)), name) for name, p in table.items()), reverse=True)
    best_score, best = scores[0]
    if best_score < MIN_SCORE:
        return Detection(None, best_score, True, "no parser recognises it")
    # a fallback parser (generic text) loses a near tie instead of making it ambiguous
    rivals = [(s, n) for s, n in scores[1:] if not getattr(table[n], "fallback", False)]
    if getattr(table[best], "fallback", False) and rivals and best_score - rivals[0][0] < TIE_MARGIN:
        return (
            Detection(rivals[0][1], rivals[0][0], True)
            if rivals[0][0] >= MIN_SCORE
            else Detection(best, best_score, True)
        )
    runner_score, runner = rivals[0] if rivals else (0.0, "")
    if runner_score >= MIN_SCORE and best_score - runner_score < TIE_MARGIN:
        raise InputError(
            f"{path}: format is ambiguous between {best!r} ({best_score:.2f}) "
            f"and {runner!r} ({runner_score:.2f})",
            "name it with --format or in the config's [[source]] format",
            path=str(path),
        )
    return Detection(best, best_score, True)


def choose(file: InputFile, parsers: Mapping[str, Parser] | None = None) -> Detection:
    """The format for one input file: explicit, or detected."""
    if file.format is not None:
        return Detection(resolve_format(file.format, parsers).name, 1.0, False)
    det = detect(file.path, parsers=parsers)
    if det.format is None and file.explicit:
        raise InputError(
            f"{file.source_file}: cannot detect its format ({det.note})",
            "name it with --format (see 'tracejoin formats')",
            path=str(file.path),
        )
    return det
