"""Building blocks of a request: a service's handling of it (:class:`Call`), an HTTP call to another
service, and a database statement with its span and slow-log entry.

A :class:`Call` keeps a time cursor that only moves forward: records are logged at the cursor, child spans
start after it and the cursor jumps past their end, so a record never falls inside a child span of its own
service (the rule that lets trace-ID-only logs be placed on the innermost span).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.generate.engine.core import MYSQL_THRESHOLD_US, PG_THRESHOLD_US, Engine, Req
from pipeline.generate.engine.sinks import Ref, TruthRow
from pipeline.generate.engine.topology import Database, Host, Role
from pipeline.generate.model import MS, SlowQuery, Span, SpanKind, utc


class Call:
    """One service's handling of one request on one host: its SERVER (or CONSUMER) span and time cursor."""

    def __init__(self, eng: Engine, req: Req, host: Host, server: Span, thread: str) -> None:
        self.eng = eng
        self.req = req
        self.host = host
        self.server = server
        self.thread = thread
        self.t = server.start_us

    def step(self, lo_ms: float, hi_ms: float) -> None:
        self.t += self.eng.us(lo_ms, hi_ms)

    def log(
        self,
        level: str,
        logger: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        stack: tuple[str, ...] = (),
        span: Span | None = None,
        keep: bool = False,
    ) -> Ref | None:
        """Log in ``span``'s context (default: the SERVER span) a little after the cursor."""
        self.step(0.02, 0.3)
        ts, ref = self.eng.log(
            self.req,
            self.host,
            span or self.server,
            self.t,
            level,
            logger,
            message,
            fields=fields,
            thread=self.thread,
            stack=stack,
            keep=keep,
        )
        self.t = ts
        return ref

    def child(
        self, role: Role, name: str, kind: SpanKind, start_us: int | None = None, parent: Span | None = None
    ) -> Span:
        """Open a child span (of ``parent``, default the SERVER span) at ``start_us`` or after the cursor."""
        if start_us is None:
            self.step(0.02, 0.3)
            start_us = self.t
        return self.eng.span(self.req, (parent or self.server).span_id, self.host, role, name, kind, start_us)

    def end(self, status: int) -> int:
        """Close the SERVER span a little after the cursor with an HTTP status (5xx: ERROR)."""
        self.step(0.05, 0.4)
        self.server.end_us = self.t
        self.server.attributes["http.response.status_code"] = status
        if status >= 500 and self.server.status != "ERROR":
            self.server.status = "ERROR"
        return status


@dataclass(slots=True)
class HttpResult:
    """What the caller sees of an HTTP call."""

    client: Span
    server: Span | None
    status: int  # 0: no answer (timeout)
    timed_out: bool


Handler = Callable[[Call], int]


def http_call(
    c: Call,
    target: str,
    method: str,
    url_path: str,
    route: str,
    handler: Handler,
    *,
    timeout_us: int | None = None,
    start_us: int | None = None,
    thread: str = "main",
    exception: str = "java.net.SocketTimeoutException",
) -> HttpResult:
    """``c`` calls ``target``: the caller's CLIENT span, the callee's SERVER span and its work (``handler``).

    When the answer would come after ``timeout_us`` the CLIENT span ends at the timeout with ERROR while the
    callee carries on and finishes normally: that is what a timeout is.
    """
    eng = c.eng
    client = c.child("client", f"HTTP {method} {route}", "CLIENT", start_us)
    client.attributes.update(
        {
            "http.request.method": method,
            "url.full": f"http://{target}{url_path}",
            "server.address": target,
            "server.port": 8080,
        }
    )
    callee_host = eng.rng.choice(eng.services[target].hosts)
    start = client.start_us + eng.us(0.4, 1.5)
    server = eng.span(c.req, client.span_id, callee_host, "server", f"{method} {route}", "SERVER", start)
    server.attributes.update({"http.request.method": method, "http.route": route, "url.path": url_path})
    callee = Call(eng, c.req, callee_host, server, thread)
    status = handler(callee)
    answered = server.end_us + eng.us(0.4, 1.5)
    if timeout_us is not None and answered - client.start_us > timeout_us:
        client.end_us = client.start_us + timeout_us + eng.us(0.1, 1.5)
        client.fail("Read timed out", exception, client.end_us)
        c.t = client.end_us
        return HttpResult(client, server, 0, True)
    client.end_us = answered
    client.attributes["http.response.status_code"] = status
    if status >= 500:
        client.fail(f"{status} {_REASON.get(status, 'Server Error')}", None)
    c.t = client.end_us
    return HttpResult(client, server, status, False)


_REASON = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def external_call(
    c: Call, name: str, url: str, duration_us: int, status: int, parent: Span | None = None
) -> Span:
    """A CLIENT span to a system outside the traced world (payment provider, carrier): no SERVER span."""
    span = c.child("client", name, "CLIENT", parent=parent)
    span.end_us = span.start_us + duration_us
    span.attributes.update(
        {"http.request.method": "POST", "url.full": url, "http.response.status_code": status}
    )
    if status >= 500:
        span.fail(f"{status} {_REASON.get(status, 'Server Error')}", None)
    c.t = span.end_us
    return span


@dataclass(slots=True)
class Statement:
    """A statement as the client sends it (parameterised) and as the server logs it."""

    db: Database
    name: str  # span name, e.g. "SELECT users"
    sql: str  # parameterised: ``?`` (MySQL) or ``$1`` (PostgreSQL)
    params: tuple[str, ...] = ()
    prepared: str | None = None  # PostgreSQL extended protocol: the logged statement name

    def literal(self) -> str:
        """The text with the bound values in place (what MySQL and the simple protocol log)."""
        text = self.sql
        if self.db.system == "mysql":
            for p in self.params:
                text = text.replace("?", p, 1)
            return text
        for i in range(len(self.params), 0, -1):
            text = text.replace(f"${i}", self.params[i - 1])
        return text


@dataclass(slots=True)
class DbError:
    """How a statement fails: the driver's message and exception type, MySQL's errno."""

    message: str
    exception: str
    errno: int = 0


SQLCOMMENTER = {
    "go": "db_driver='go-sql-driver%2Fmysql'",
    "python": "db_driver='asyncpg'",
    "java": "db_driver='postgresql-jdbc%3A42.7.4'",
}


def db_call(
    c: Call,
    stmt: Statement,
    exec_us: int,
    *,
    comment: bool,
    route: str,
    lock_us: int = 0,
    error: DbError | None = None,
    parent: Span | None = None,
    start_us: int | None = None,
    fault: str | None = None,
) -> tuple[Span, Ref | None]:
    """Run a statement: the DB CLIENT span, and its slow-log entry when it ran past the threshold.

    ``comment``: the driver appends a sqlcommenter comment with the span's ``traceparent``. Returns the
    span and the slow-log entry's ref (None when the statement was fast).
    """
    eng, db = c.eng, stmt.db
    span = c.child("db", stmt.name, "CLIENT", start_us, parent)
    span.attributes.update(
        {
            "db.system": db.system,
            "db.name": db.name,
            "db.user": db.user,
            "db.operation": stmt.name.split(" ")[0],
            "db.statement": stmt.sql,
            "server.address": db.server,
            "server.port": db.port,
            "net.peer.name": db.server,
        }
    )
    begin = span.start_us + eng.us(0.1, 0.4)  # the statement reaches the server a little later
    end = begin + exec_us
    span.end_us = end + eng.us(0.1, 0.4)
    if error is not None:
        span.fail(error.message, error.exception, span.end_us)
    if start_us is None:
        c.t = span.end_us
    threshold = MYSQL_THRESHOLD_US if db.system == "mysql" else PG_THRESHOLD_US
    if exec_us < threshold:
        return span, None
    text = f"{stmt.sql if db.system == 'postgresql' and stmt.prepared else stmt.literal()}"
    tag = ""
    if comment:
        driver = SQLCOMMENTER[eng.services[c.host.service].language]
        route_tag = route.replace("/", "%2F").replace("{", "%7B").replace("}", "%7D")
        tag = f"/*{driver},route='{route_tag}',traceparent='{c.req.header(span.span_id)}'*/"
    row: TruthRow = (
        "slow_query",
        c.host.service,
        c.req.trace_id,
        span.span_id,
        "span_id" if comment else "none",
        c.req.sampled,
        fault,
        comment,
    )
    conn = eng.connection(c.host.name, db, begin, end)
    if db.system == "mysql":
        query = SlowQuery(
            begin, end, lock_us, db.user, c.host.ip, conn, text, tag or None, error.errno if error else 0
        )
        query.bytes_sent = 98 if error else 52
        return span, eng.mysql_entry(query, row)
    if lock_us:  # log_lock_waits: the statement's own backend waited for the settlement job's row lock
        pg_lock_wait(eng, c.host, db, conn, begin, lock_us, stmt.literal())
    return span, pg_duration(eng, c.host, db, conn, begin, end, f"{text} {tag}".rstrip(), stmt, row)


PG_LOG_LINE_PREFIX = "%m [%p] user=%u,db=%d,app=%a,client=%h "  # what pg_prefix writes
PG_LOCK_HOLDER = 9001  # the settlement job's backend, which holds account rows now and then


def pg_prefix(ts_us: int, pid: int, db: Database, app: str, client: str) -> str:
    """The line prefix of :data:`PG_LOG_LINE_PREFIX`."""
    t = utc(ts_us)
    return (
        f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d} UTC [{pid}] "
        f"user={db.user},db={db.name},app={app},client={client} "
    )


PG_APP = {"python": "[unknown]", "java": "PostgreSQL JDBC Driver", "go": "[unknown]"}


def pg_duration(
    eng: Engine,
    host: Host,
    db: Database,
    pid: int,
    begin: int,
    end: int,
    text: str,
    stmt: Statement,
    row: TruthRow | None,
) -> Ref:
    """The ``duration:`` entry (with ``DETAIL: parameters`` for a prepared statement), logged at the end."""
    app = PG_APP.get(eng.services[host.service].language, "[unknown]")
    prefix = pg_prefix(end, pid, db, app, host.ip)
    ms = (end - begin) / MS
    if stmt.prepared:
        lines = [f"{prefix}LOG:  duration: {ms:.3f} ms  execute {stmt.prepared}: {text}"]
        values = ", ".join(f"${i + 1} = '{v.strip(chr(39))}'" for i, v in enumerate(stmt.params))
        lines.append(f"{prefix}DETAIL:  parameters: {values}")
    else:
        lines = [f"{prefix}LOG:  duration: {ms:.3f} ms  statement: {text}"]
    return eng.pg_lines(end, lines, row)


def pg_lock_wait(
    eng: Engine, host: Host, db: Database, pid: int, begin: int, wait_us: int, stmt_text: str
) -> None:
    """``log_lock_waits``: the wait is logged after ``deadlock_timeout`` (100 ms) and again when granted, each
    with its ``STATEMENT`` (a LOG message passes ``log_min_error_statement = error``)."""
    xid = 880_000 + (begin // MS) % 100_000  # the holder's transaction: a new one each time
    first = begin + 100 * MS
    prefix = pg_prefix(first, pid, db, PG_APP["java"], host.ip)
    lines = [
        f"{prefix}LOG:  process {pid} still waiting for ShareLock on transaction {xid} "
        f"after 100.{eng.rng.randint(50, 999):03d} ms",
        f"{prefix}DETAIL:  Process holding the lock: {PG_LOCK_HOLDER}. Wait queue: {pid}.",
        f"{prefix}STATEMENT:  {stmt_text}",
    ]
    eng.pg_lines(first, lines, None)
    granted = begin + wait_us
    prefix = pg_prefix(granted, pid, db, PG_APP["java"], host.ip)
    line = f"{prefix}LOG:  process {pid} acquired ShareLock on transaction {xid} after {wait_us / MS:.3f} ms"
    eng.pg_lines(granted, [line, f"{prefix}STATEMENT:  {stmt_text}"], None)
