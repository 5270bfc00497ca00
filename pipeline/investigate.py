"""Incident investigation: "what failed around 14:32?" — error records in a window with their causes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
from dateutil import parser as du_parser

from pipeline.catalog import open_catalog, query
from pipeline.errors import ConfigError, did_you_mean

_DURATION_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> dt.timedelta:
    """'5m', '90s', '1h', '250ms' (a bare number is seconds)."""
    m = _DURATION_RE.match(text)
    if not m:
        raise ConfigError(f"cannot read the duration {text!r}", "write it like 30s, 5m or 1h")
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2) or "s"])


def parse_time(text: str, timezone: str = "UTC") -> dt.datetime:
    """A user-typed time ('2026-11-17 14:32', ISO with offset, ...) as UTC; zone-less means ``timezone``."""
    try:
        value = du_parser.isoparse(text) if "T" in text else du_parser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise ConfigError(
            f"cannot read the time {text!r}", "write it like '2026-11-17 14:32' or ISO 8601"
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(dt.UTC)


@dataclass
class Investigation:
    since: dt.datetime
    until: dt.datetime
    service: str | None
    causes: pa.Table  # grouped, most errors first
    errors: pa.Table  # one row per error record


def window_around(
    at: dt.datetime, window: dt.timedelta, minute_precision: bool
) -> tuple[dt.datetime, dt.datetime]:
    """The window centred on ``at`` — on the middle of the minute when the time was given to the minute."""
    centre = at + dt.timedelta(seconds=30) if minute_precision else at
    return centre - window / 2, centre + window / 2


def investigate(
    out: Path, at_text: str, window_text: str = "5m", service: str | None = None, timezone: str = "UTC"
) -> Investigation:
    at = parse_time(at_text, timezone)
    window = parse_duration(window_text)
    minute_precision = re.search(r"[0-9]{1,2}:[0-9]{2}:[0-9]{2}", at_text) is None
    since, until = window_around(at, window, minute_precision)
    params = {"since": since, "until": until, "service": service}
    con = open_catalog(out)
    try:
        if service is not None:
            known = {r[0] for r in con.sql("SELECT DISTINCT service FROM logs").fetchall() if r[0]}
            if service not in known:
                hint = did_you_mean(service, known, f"known services: {', '.join(sorted(known))}")
                raise ConfigError(f"no service named {service!r} in the logs", hint)
        causes = query(con, "reports/root_causes", params)
        errors = query(con, "investigate", params)
    finally:
        con.close()
    return Investigation(since, until, service, causes, errors)
