"""One renderer per text format, each writing its records sorted by time, exactly in the shapes of
sample_logs/README.md. A renderer sets ``record.line`` (1-based line where the record starts; stack
traces and slow-log entries span several lines) so the ground truth can point at it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TextIO

from pipeline.generate.model import SECOND, SERVICES, AccessRecord, LogRecord, SlowQuery, utc

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_BERLIN_OFFSET_US = 3600 * SECOND  # Europe/Berlin is CET (+01:00) all of November: no DST switch to handle
_SEVERITY = {"DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17}
SLOW_LOG_BANNER = (
    "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:",
    "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock",
    "Time                 Id Command    Argument",
)


class LineWriter:
    """Writes lines to a text file and counts them, so each record learns the line it starts on."""

    def __init__(self, fh: TextIO) -> None:
        self._fh = fh
        self.lines = 0

    def write(self, lines: Sequence[str]) -> int:
        """Write one record's lines; return the 1-based number of its first line."""
        first = self.lines + 1
        for line in lines:
            self._fh.write(line)
            self._fh.write("\n")
        self.lines += len(lines)
        return first


def iso_z(us: int) -> str:
    """``2026-11-17T14:32:05.238901Z`` (UTC, microseconds), as Go, Python and MySQL 8 write it."""
    return utc(us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def time_local(us: int) -> str:
    """nginx ``$time_local`` of a UTC host: ``17/Nov/2026:14:32:05 +0000``."""
    t = utc(us)
    return f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S} +0000"


def seconds(us: int, places: int) -> str:
    """Seconds with ``places`` decimals from integer microseconds (truncated, like nginx and MySQL)."""
    whole, frac = divmod(us, SECOND)
    return f"{whole}.{frac:06d}"[: len(str(whole)) + 1 + places]


def _cut(line: str) -> str:
    """A write interrupted partway: the first 3/5 of the line survive."""
    return line[: len(line) * 3 // 5]


def _by_time(records: Iterable[LogRecord]) -> list[LogRecord]:
    return sorted(records, key=lambda r: (r.ts_us, r.seq))


def access_line(r: AccessRecord) -> str:
    """nginx ``log_format trace`` (README): the header and the upstream time are ``-`` when absent."""
    upstream = "-" if r.upstream_us is None else seconds(r.upstream_us, 3)
    return (
        f'{r.remote_addr} - - [{time_local(r.end_us)}] "{r.request}" {r.status} {r.body_bytes} "-" '
        f'"{r.user_agent}" '
        f'"{r.traceparent or "-"}" {seconds(r.request_time_us, 3)} {upstream}'
    )


def render_access(records: Iterable[AccessRecord], out: LineWriter) -> None:
    """api-gateway/access.log, in the order nginx writes it (when each response is done)."""
    for r in sorted(records, key=lambda r: (r.end_us, r.seq)):
        line = access_line(r)
        r.line = out.write([_cut(line) if r.cut else line])


def spring_lines(r: LogRecord) -> list[str]:
    """Spring Boot 3 console pattern with Micrometer's ``[app,traceId,spanId]`` and +01:00 times."""
    local = utc(r.ts_us + _BERLIN_OFFSET_US)
    ts = f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}+01:00"
    thread = r.thread[-15:].rjust(15)  # %15.15t keeps the end of long thread names
    logger = r.logger[-40:].ljust(40)  # %-40.40logger{39}
    ctx = f"[{r.service},{r.trace_id or ''},{r.span_id or ''}]"
    return [f"{ts} {r.level:>5} {ctx} 1 --- [{thread}] {logger} : {r.message}", *r.stack]


def render_spring(records: Iterable[LogRecord], out: LineWriter) -> None:
    """order-service/order-service.log; a record with a stack trace spans several lines."""
    for r in _by_time(records):
        r.line = out.write(spring_lines(r))


def otel_log_doc(
    ts_us: int, level: str, service: str, host: str, logger: str, body: str
) -> dict[str, object]:
    """The head of an OTel-log-model JSON record, keys in the README's order (IDs and attributes follow)."""
    return {
        "timestamp": iso_z(ts_us),
        "severity_text": level,
        "severity_number": _SEVERITY[level],
        "service.name": service,
        "host.name": host,
        "logger": logger,
        "body": body,
    }


def json_line(r: LogRecord) -> str:
    """OTel-log-model JSON line; the keys in the README's order, trace keys only inside a request."""
    doc = otel_log_doc(r.ts_us, r.level, r.service, SERVICES[r.service].host, r.logger, r.message)
    if r.trace_id is not None:
        doc["trace_id"] = r.trace_id
        doc["span_id"] = r.span_id
    doc["attributes"] = r.fields
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def render_jsonl(records: Iterable[LogRecord], out: LineWriter) -> None:
    """user-service/user-service.jsonl."""
    for r in _by_time(records):
        line = json_line(r)
        r.line = out.write([_cut(line) if r.cut else line])


def logfmt_value(value: str) -> str:
    # go-kit/log quotes only values that need it (space, '=', '"', control characters, empty)
    if value and value.isprintable() and not any(c in value for c in ' ="\\'):
        return value
    return json.dumps(value, ensure_ascii=False)


def logfmt_line(r: LogRecord) -> str:
    """Go service logfmt: ts, level, service, host, caller, [trace_id, span_id], msg, then the fields."""
    pairs = [
        ("ts", iso_z(r.ts_us)),
        ("level", r.level.lower()),
        ("service", r.service),
        ("host", SERVICES[r.service].host),
        ("caller", r.logger),
    ]
    if r.trace_id is not None and r.span_id is not None:
        pairs += [("trace_id", r.trace_id), ("span_id", r.span_id)]
    pairs += [("msg", r.message), *r.fields.items()]
    return " ".join(f"{k}={logfmt_value(v)}" for k, v in pairs)


def render_logfmt(records: Iterable[LogRecord], out: LineWriter) -> None:
    """inventory-service/inventory-service.log; ``raw`` records are written verbatim (planted garbage)."""
    for r in _by_time(records):
        r.line = out.write([r.raw if r.raw is not None else logfmt_line(r)])


def slow_entry(q: SlowQuery, first_on_connection: bool) -> list[str]:
    """A MySQL 8.0 slow-log entry with ``log_slow_extra=ON`` (spacing as mysqld writes it)."""
    statement = q.statement + (f" {q.comment}" if q.comment else "")
    stats = (
        f"# Query_time: {seconds(q.end_us - q.start_us, 6)}  Lock_time: {seconds(q.lock_us, 6)} "
        f"Rows_sent: {q.rows_sent}  Rows_examined: {q.rows_examined} Thread_id: {q.thread_id} "
        f"Errno: {q.errno} Killed: 0 Bytes_received: {len(statement) + 5} Bytes_sent: {q.bytes_sent} "
        f"Read_first: 0 Read_last: 0 Read_key: 1 Read_next: {q.read_next} Read_prev: 0 Read_rnd: 0 "
        "Read_rnd_next: 0 Sort_merge_passes: 0 Sort_range_count: 0 Sort_rows: 0 Sort_scan_count: 0 "
        f"Created_tmp_disk_tables: 0 Created_tmp_tables: 0 Start: {iso_z(q.start_us)} End: {iso_z(q.end_us)}"
    )
    lines = [
        f"# Time: {iso_z(q.end_us)}",
        f"# User@Host: {q.db_user}[{q.db_user}] @  [{q.client_ip}]  Id: {q.thread_id:>5}",
        stats,
    ]
    if first_on_connection:
        lines.append("use inventory;")
    lines += [f"SET timestamp={q.start_us // SECOND};", f"{statement};"]
    return lines


def render_slow(queries: Iterable[SlowQuery], out: LineWriter) -> None:
    """mysql/inventory-slow.log: banner, then entries in the order mysqld writes them (at statement end)."""
    out.write(SLOW_LOG_BANNER)
    seen: set[int] = set()
    for q in sorted(queries, key=lambda q: (q.end_us, q.seq)):
        q.line = out.write(slow_entry(q, q.thread_id not in seen))
        seen.add(q.thread_id)
