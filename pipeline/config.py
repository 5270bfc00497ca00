"""Run configuration: sources (paths with optional format, service, time zone) and output options.

A config file is TOML::

    symptom_patterns = ["upstream service error"]

    [[format]]                          # a user-defined format: a regex with named groups
    name = "skywalking"
    pattern = '^(?P<ts>[0-9-]+ [0-9:.]+) (?P<level>[A-Z]+) (?P<message>.*)$'
    timestamp_format = "%Y-%m-%d %H:%M:%S%.f"   # optional (chrono); default ISO 8601 with offset
    record_start = '^[0-9]{4}-'                 # optional: lines that start a (multi-line) record

    [[source]]
    path = "logs/order-service/*.log"   # file, directory or glob, relative to the config file
    format = "spring"                   # optional: detected when absent
    service = "order-service"           # optional: else from the records, else the parent directory
    timezone = "Europe/Berlin"          # optional: for zone-less timestamps (default UTC)
    log_line_prefix = "%m [%p] %q%u@%d " # optional, PostgreSQL stderr logs: the server's log_line_prefix
    envoy_format = '[%START_TIME%] "%REQ(:METHOD)% %REQ(:PATH)%" %RESPONSE_CODE% %REQ(TRACEPARENT)%'
                                        # optional, Envoy access logs: the proxy's format string or its
                                        # json_format as a JSON object (implies format = "envoy")
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parsers.regex_format import COLUMNS, RegexFormat
from pipeline.errors import ConfigError, did_you_mean

DEFAULT_SYMPTOMS = ("upstream service error", "upstream error", "bad gateway", "gateway timeout")

_SOURCE_KEYS = {"path", "format", "service", "timezone", "log_line_prefix", "envoy_format"}
_OPTION_KEYS = ("log_line_prefix", "envoy_format")  # handed to the parser as ParseContext.options
_FORMAT_KEYS = {"name", "pattern", "timestamp_format", "record_start", "description", "example"}
_TOP_KEYS = {"source", "format", "symptom_patterns", "timezone"}


@dataclass(frozen=True)
class Source:
    path: str
    format: str | None = None
    service: str | None = None
    timezone: str = "UTC"
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Config:
    sources: tuple[Source, ...] = ()
    timezone: str = "UTC"
    symptom_patterns: tuple[str, ...] = DEFAULT_SYMPTOMS
    base_dir: Path = field(default_factory=Path)
    formats: tuple[RegexFormat, ...] = ()


def check_timezone(name: str, where: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r} in {where}", "use an IANA name such as 'UTC' or 'Europe/Berlin'"
        ) from exc
    return name


def _unknown_key(key: str, allowed: set[str], where: str, path: str) -> ConfigError:
    hint = did_you_mean(key, allowed, f"allowed keys: {', '.join(sorted(allowed))}")
    return ConfigError(f"unknown key {key!r} in {where} of {path}", hint, path=path, key=key)


def load(path: Path) -> Config:
    """Read and validate a TOML config file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"config file not found: {path}", "check the --config path", path=str(path)
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}", "fix the syntax", path=str(path)
        ) from exc
    for key in data:
        if key not in _TOP_KEYS:
            raise _unknown_key(key, _TOP_KEYS, "the top level", str(path))
    default_tz = check_timezone(str(data.get("timezone", "UTC")), str(path))
    sources = []
    for i, raw in enumerate(data.get("source", [])):
        where = f"[[source]] #{i + 1}"
        for key in raw:
            if key not in _SOURCE_KEYS:
                raise _unknown_key(key, _SOURCE_KEYS, where, str(path))
        if "path" not in raw:
            raise ConfigError(
                f"{where} of {path} has no 'path'", 'add path = "<file, dir or glob>"', path=str(path)
            )
        tz = check_timezone(str(raw.get("timezone", default_tz)), f"{where} of {path}")
        options = tuple((k, str(raw[k])) for k in _OPTION_KEYS if k in raw)
        if "log_line_prefix" in raw:
            _check_prefix(str(raw["log_line_prefix"]), f"{where} of {path}")
        fmt = raw.get("format")
        if "envoy_format" in raw:
            _check_envoy_format(str(raw["envoy_format"]), f"{where} of {path}")
            fmt = fmt or "envoy"  # the format string says what the file is
        sources.append(Source(str(raw["path"]), fmt, raw.get("service"), tz, options))
    formats = tuple(_format(i, raw, str(path)) for i, raw in enumerate(data.get("format", [])))
    symptoms = data.get("symptom_patterns", list(DEFAULT_SYMPTOMS))
    if not isinstance(symptoms, list) or not all(isinstance(s, str) for s in symptoms):
        raise ConfigError(
            f"symptom_patterns in {path} must be a list of strings", 'e.g. ["upstream service error"]'
        )
    return Config(tuple(sources), default_tz, tuple(symptoms), path.parent, formats)


def _check_prefix(prefix: str, where: str) -> None:
    from parsers.postgres_prefix import prefix_regex

    try:
        _check_regex(prefix_regex(prefix), f"log_line_prefix in {where}")
    except ValueError as exc:
        raise ConfigError(
            f"log_line_prefix {prefix!r} in {where}: {exc}",
            "copy log_line_prefix from the server's postgresql.conf (escapes as in the PostgreSQL docs)",
        ) from exc


def _check_envoy_format(fmt: str, where: str) -> None:
    from parsers import envoy_format

    try:
        envoy_format.check(fmt)
    except ValueError as exc:
        raise ConfigError(
            f"envoy_format in {where}: {exc}",
            "copy the access log format from the Envoy (or Istio) config; operators as in Envoy's docs",
            key="envoy_format",
        ) from exc
    if not fmt.lstrip().startswith("{"):
        _check_regex(envoy_format.text_regex(fmt)[0], f"envoy_format in {where}")


def _check_regex(pattern: str, what: str) -> None:
    """The pattern must compile for both Python's ``re`` (group names) and polars' Rust regex engine."""
    import polars as pl

    try:
        re.compile(pattern)
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except (re.error, pl.exceptions.ComputeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ConfigError(
            f"{what} is not a valid regex: {first}", "fix the pattern (TOML '...' strings keep \\ as is)"
        ) from exc


def _format(i: int, raw: dict[str, object], path: str) -> RegexFormat:
    from parsers.registry import ALIASES, REGISTRY

    where = f"[[format]] #{i + 1} of {path}"
    for key in raw:
        if key not in _FORMAT_KEYS:
            raise _unknown_key(key, _FORMAT_KEYS, where, path)
    for key in ("name", "pattern"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ConfigError(f"{where} has no {key!r}", f'add {key} = "..."', path=path, key=key)
    name, pattern = str(raw["name"]), str(raw["pattern"])
    if name in REGISTRY or name in ALIASES:
        raise ConfigError(
            f"{where}: {name!r} is a built-in format", "give the user-defined format another name"
        )
    _check_regex(pattern, f"{where} pattern")
    groups = set(re.compile(pattern).groupindex)
    if not groups & set(COLUMNS):
        raise ConfigError(
            f"{where} pattern has no named group tracejoin knows",
            f"name groups like (?P<ts>...), (?P<message>...); known: {', '.join(COLUMNS)}",
        )
    start = raw.get("record_start")
    if start is not None:
        _check_regex(str(start), f"{where} record_start")
    return RegexFormat(
        name=name,
        pattern=pattern,
        timestamp_format=str(raw["timestamp_format"]) if raw.get("timestamp_format") else None,
        record_start_pattern=str(start) if start is not None else None,
        description=str(raw.get("description") or "user-defined regex format (config file)"),
        example=str(raw.get("example") or ""),
    )
