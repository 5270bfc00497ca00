"""Our PostgreSQL parsers agree with pgBadger on every PostgreSQL log of the corpus, except the deliberate
differences listed here.

Per file, three figures from pgBadger's JSON report (``-x json``) and from our records:

* ``statements``: statements with a duration: pgBadger's ``overall_stat.queries_number``; our records whose
  ``query_step`` is not ``parse`` or ``bind``. pgBadger adds the time of a ``parse``/``bind`` step to
  ``queries_duration.prepare``/``.bind`` without counting a query; we make a record of every step (the step
  is in the attribute ``query_step``), so the steps are compared apart, not left out.
* ``duration``: total milliseconds of those statements, of the ``parse`` steps and of the ``bind`` steps:
  ``overall_stat.<db>.queries_duration`` ``execute``, ``prepare`` and ``bind``.
* ``classes``: the sorted sizes of the query classes: ``normalyzed_info`` ``count`` per normalized query, our
  ``fingerprint`` (same statements as ``statements``). The two normalizations differ in their text, not in
  what they group, so sizes are compared, not names.
* ``locks``: lock waits (``log_lock_waits``) and the milliseconds waited: pgBadger's ``lock_info``, the
  ``acquired ... after N ms`` lines (it leaves out the ``still waiting`` lines of the same waits); our
  records with a ``lock_ms`` and their sum (a wait counts once, at its longest line).

The deliberate differences (:data:`DELIBERATE`) name the figures that differ, and why: pgBadger counts a
``statement:`` that has no duration, or hands it the duration of another statement; it does not read the
CloudNativePG envelope; its normalizer leaves the dates of a range literal in the text; it leaves empty
statements out of its classes. The test asserts that exactly those figures differ, so an entry that went
stale fails as much as a new difference.

pgBadger sleeps a whole second while it waits for its worker process, so its runs go in a few threads at
once (they mostly sleep), each in a directory of its own (working directory, pid file, temporary files).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from parsers.base import ParseContext
from pipeline.discover import detect, resolve_format
from pipeline.ingest import parse_chunks
from tests.conftest import CORPORA

PGBADGER = "pgbadger/t/fixtures"
FILEBEAT = "beats/filebeat/module/postgresql/log/test"

# corpus file -> pgBadger's options for it: the log format (-f) and the log_line_prefix (--prefix, None: no
# --prefix), read from the file. csvlog and jsonlog carry the prefix's fields as columns or keys.
OPTIONS: dict[str, tuple[str, str | None]] = {
    f"{PGBADGER}/anonymize.log": ("csv", None),  # csvlog, extended query protocol (bind, execute)
    f"{PGBADGER}/begin_end.log": ("stderr", "%t [%p]: db=%d,user=%u,app=%a,client=%h "),
    # Cloud SQL export: a JSON object a line, the log line in "textPayload" ("[%p]: [%l-1] db=%d,user=%u "),
    # which pgBadger takes apart by itself (it applies no --prefix to that layout)
    f"{PGBADGER}/cloudsql.log.gz": ("jsonlog", None),
    f"{PGBADGER}/cnpg.log.gz": ("jsonlog", None),  # CloudNativePG: the jsonlog keys inside "record"
    f"{PGBADGER}/csv_statement_without_duration.log": ("csv", None),
    f"{PGBADGER}/light.postgres.log.bz2": ("stderr", "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h "),
    # Heroku: "<time> app[postgres.<pid>]: [<db colour>] [N-k] " then Heroku's log_line_prefix
    f"{PGBADGER}/logplex.gz": ("logplex", "sql_error_code = %e "),
    f"{PGBADGER}/multiline_param.log": ("stderr", "%m [%p] user=%u,db=%d "),
    # syslog (no year): "Feb 11 13:15:39 <host> postgres[<pid>]: [N-k] " then the prefix
    f"{PGBADGER}/pg-syslog.1.bz2": ("syslog", "db=%d,user=%u,app=%a,client=%h "),
    f"{PGBADGER}/pg-syslog.2.gz": ("syslog", "db=%d,user=%u,app=%a,client=%h "),
    f"{PGBADGER}/pg-timezones.log": ("rds", "%t:%r:%u@%d:[%p]:"),  # RDS, one blank after "LOG:"
    # the %q part (user@db) only in sessions; also two lines of pg_ctl
    f"{PGBADGER}/pg_rawcsv.log": ("stderr", "%m [%p] %q%u@%d "),
    f"{PGBADGER}/pg_vacuums.json.gz": ("jsonlog", None),  # PostgreSQL 15+ jsonlog, autovacuum only
    f"{PGBADGER}/pg_vacuums.log.gz": ("stderr", "%t [%p]: [%l-1] user=%u,db=%d,host=%h,app=%a "),
    # "[0]" is the transaction id (%x)
    f"{PGBADGER}/postgresql_param_range.log": ("stderr", "%t [%p]: [%l-1] [%x] usr=%u,db=%d,appli=%a "),
    f"{PGBADGER}/queryid.log.gz": ("stderr", "%m [%p] [queryid=%Q] %u@%d "),
    f"{PGBADGER}/rds.log.bz2": ("rds", "%t:%r:%u@%d:[%p]:"),  # %r is host(port)
    f"{PGBADGER}/stmt_type.log": ("stderr", "%m [%p] "),
    f"{PGBADGER}/tempfile_only.log.gz": ("stderr", "%t [%p]: [%l-1] user=%u,db=%d "),
    f"{PGBADGER}/weeknumber.log": ("csv", None),
    f"{FILEBEAT}/postgresql-11-duration.csv.log": ("csv", None),  # log_duration + log_statement
    f"{FILEBEAT}/postgresql-12-min-duration-statement.log": ("stderr", "%m [%p] "),
    f"{FILEBEAT}/postgresql-9.6-debian-with-slowlog.log": ("stderr", "%m [%p] %q%u@%d "),
    f"{FILEBEAT}/postgresql-query-steps-slowlog.log": ("stderr", "%m [%p] %q%u@%d "),  # parse + execute
}

# corpus file -> (the figures that differ, why)
DELIBERATE: dict[str, tuple[tuple[str, ...], str]] = {
    f"{PGBADGER}/cloudsql.log.gz": (
        ("statements", "classes"),
        "line 993 'statement: SELECT *  FROM t1' (log_statement, no duration follows): pgBadger counts it as"
        " a query of 0 ms; it is no statement with a duration, we make no record of it",
    ),
    f"{PGBADGER}/cnpg.log.gz": (
        ("statements", "duration", "classes"),
        "pgBadger 12.0 does not read CloudNativePG's envelope (the jsonlog fields inside 'record'): it reads"
        " the 2,022 lines and finds no entry; we read its 400 'duration: ... ms' statements",
    ),
    f"{PGBADGER}/csv_statement_without_duration.log": (
        ("statements", "duration", "classes"),
        "line 2 'statement: SELECT example_schema.health_check()' has no duration: pgBadger 12.0 hands it"
        " the 688786.283 ms of line 1 (another session), a bug pgBadger's own"
        " t/07_csv_statement_duration.t now guards against; we make no record of it",
    ),
    f"{PGBADGER}/postgresql_param_range.log": (
        ("classes",),
        "three executes of one statement with IN lists of 7, 3 and 2 parameters: pgBadger puts the bind"
        " values into the text and its normalizer keeps the dates of the tsrange literal"
        " ('[?-02-24t00:?::tsrange'), so each is a class of its own; we fingerprint the statement (in(?+)):"
        " one class of 3",
    ),
    f"{PGBADGER}/rds.log.bz2": (
        ("classes",),
        "lines 8-10 'duration: 0.0xx ms  statement: ' with an empty query text: pgBadger counts them and"
        " their time but leaves them out of normalyzed_info; we keep them, a class of 3 (empty fingerprint)",
    ),
    f"{FILEBEAT}/postgresql-11-duration.csv.log": (
        ("statements", "duration"),
        "log_duration + log_statement: line 1 'duration: 6.589 ms' (ALTER SYSTEM, its statement not logged)"
        " comes before line 2 'statement: select pg_reload_conf();', whose own duration is not in the file."
        " pgBadger counts the 6.589 ms twice, as a query of its own and as pg_reload_conf's (3 queries,"
        " 161.65 ms); a duration belongs to a statement logged before it, so we make a record of line 1"
        " without text and none of line 2 (2 statements, 155.061 ms, as Filebeat's expected output)",
    ),
}

STEPS_APART = ("parse", "bind")  # pgBadger's "prepare" and "bind" durations
WORKERS = 4  # pgBadger runs at once: they mostly sleep (see the module docstring)
TIMEOUT = 120  # seconds, per pgBadger run


@dataclass(frozen=True)
class Figures:
    statements: int  # statements with a duration, parse and bind steps apart
    duration: tuple[float, float, float]  # total ms of those statements, of parse steps, of bind steps
    classes: tuple[int, ...]  # sorted sizes of the query classes of those statements
    locks: tuple[int, float]  # lock waits, total ms waited


def _files() -> list[str]:
    found = [*(CORPORA / PGBADGER).glob("*"), *(CORPORA / FILEBEAT).glob("*.log")]
    return sorted(str(p.relative_to(CORPORA)) for p in found if p.is_file())


def _pgbadger(rel: str, workdir: Path) -> dict[str, Any]:
    return _pgbadger_report(CORPORA / rel, *OPTIONS[rel], workdir)


def _pgbadger_report(
    path: Path, fmt: str, prefix: str | None, workdir: Path, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    out = workdir / "out.json"
    run = subprocess.run(
        [
            *("pgbadger", "--quiet", "--no-process-info", "-j", "1"),
            # no -I / -l: nothing is remembered (LAST_PARSED) and nothing skipped as already parsed
            *("--pid-dir", str(workdir), "--tempdir", str(workdir)),  # runs at once must not share them
            *("-x", "json", "-o", str(out)),
            *("-f", fmt, *(("--prefix", prefix) if prefix is not None else ())),
            *extra,
            str(path),
        ],
        cwd=workdir,
        env={**os.environ, "TZ": "UTC"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 0, f"pgbadger exited with {run.returncode}: {run.stderr}"
    return dict(json.loads(out.read_text()))


def _pgbadger_figures(report: dict[str, Any]) -> Figures:
    # per database ("postgres" holds all of them without --explode); empty sections are [] in the JSON
    per_db = [v for v in (report.get("overall_stat") or {}).values() if isinstance(v, dict)]
    spent: Counter[str] = Counter()
    for db in per_db:
        spent.update(db.get("queries_duration") or {})
    classes = [q["count"] for db in (report.get("normalyzed_info") or {}).values() for q in db.values()]
    # per database, per lock type (ShareLock, ...): count and duration, and per object type the same
    locks = [t for db in (report.get("lock_info") or {}).values() for t in db.values() if isinstance(t, dict)]
    return Figures(
        statements=int(report["overall_stat"]["queries_number"]),
        duration=(round(spent["execute"], 3), round(spent["prepare"], 3), round(spent["bind"], 3)),
        classes=tuple(sorted(classes)),
        locks=(sum(int(t["count"]) for t in locks), round(sum(float(t["duration"]) for t in locks), 3)),
    )


def _our_figures(rel: str) -> Figures:
    return _figures(_records(CORPORA / rel))


def _records(path: Path) -> pa.Table:
    """Our records of a PostgreSQL log (its format detected), in file order."""
    fmt = detect(path).format
    assert fmt is not None and fmt.startswith("postgresql"), fmt
    parser = resolve_format(fmt)
    return pa.concat_tables(
        result.records for _, result in parse_chunks(path, parser, lambda f: ParseContext(path.name, f), 1)
    )


def _figures(records: pa.Table) -> Figures:
    classes: Counter[str | None] = Counter()
    spent: Counter[str] = Counter()
    columns = (records.column(c).to_pylist() for c in ("duration_ms", "fingerprint", "attributes"))
    for duration, fingerprint, attributes in zip(*columns, strict=True):
        step = dict(attributes or []).get("query_step")
        spent[step if step in STEPS_APART else "statement"] += duration
        if step not in STEPS_APART:
            classes[fingerprint] += 1
    waits = [w for w in records.column("lock_ms").to_pylist() if w is not None]
    return Figures(
        statements=classes.total(),
        duration=(round(spent["statement"], 3), round(spent["parse"], 3), round(spent["bind"], 3)),
        classes=tuple(sorted(classes.values())),
        locks=(len(waits), round(sum(waits), 3)),
    )


@pytest.fixture(scope="module")
def pgbadger_reports(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[dict[str, Any]]]]:
    """pgBadger's report of every file the session's tests ask for, all started at once (largest first)."""
    wanted = {
        str(item.callspec.params["rel"])
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == test_statements_agree_with_pgbadger.__name__
    }
    files = sorted(wanted & set(OPTIONS), key=lambda rel: -(CORPORA / rel).stat().st_size)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {rel: pool.submit(_pgbadger, rel, tmp_path_factory.mktemp(Path(rel).name)) for rel in files}
        yield futures
        for future in futures.values():
            future.cancel()


@pytest.mark.corpus
@pytest.mark.skipif(shutil.which("pgbadger") is None, reason="pgbadger not installed")
@pytest.mark.parametrize("rel", _files() or [pytest.param("", marks=pytest.mark.skip(reason="no corpus"))])
def test_statements_agree_with_pgbadger(
    rel: str, pgbadger_reports: dict[str, Future[dict[str, Any]]]
) -> None:
    assert rel in OPTIONS, f"{rel}: add pgBadger's options for it (format, log_line_prefix) to OPTIONS"
    ours = _our_figures(rel)
    theirs = _pgbadger_figures(pgbadger_reports[rel].result(timeout=2 * TIMEOUT))
    differ = {f.name for f in fields(Figures) if getattr(ours, f.name) != getattr(theirs, f.name)}
    expected, reason = DELIBERATE.get(rel, ((), ""))
    assert differ == set(expected), (
        f"differing figures {sorted(differ)}, DELIBERATE lists {sorted(expected)} (fix or remove the entry)"
        f"\npgBadger {theirs}\nours     {ours}\n{reason}"
    )


@pytest.mark.corpus
def test_the_tables_name_corpus_files(corpora: Path) -> None:
    assert set(OPTIONS) == set(_files()), "OPTIONS names exactly the PostgreSQL logs of the corpus"
    assert set(DELIBERATE) <= set(OPTIONS)
    figures = {f.name for f in fields(Figures)}
    assert all(differ and set(differ) <= figures for differ, _ in DELIBERATE.values())


TOP = 50  # slowest statements compared one by one


@pytest.mark.skipif(shutil.which("pgbadger") is None, reason="pgbadger not installed")
def test_a_generated_day_agrees_with_pgbadger(tmp_path: Path) -> None:
    """The PostgreSQL log of a generated day (what ``bench/parsers.py --input scenario`` repeats to 200 MB:
    extended-protocol executes with parameters, sqlcommenter comments, lock waits, several databases and
    users) agrees with pgBadger in every figure, and its slowest statements agree one by one: duration,
    log time (to the second, as pgBadger keeps it), database, user and client; so do the statements that
    waited on a lock: wait, database and user."""
    from pipeline.generate.engine import ScenarioParams, generate_scenario
    from pipeline.generate.engine.calls import PG_LOG_LINE_PREFIX

    generate_scenario(tmp_path / "day", ScenarioParams(seed=4, traces=5000))
    (log,) = sorted((tmp_path / "day").glob("postgresql/*.log"))
    report = _pgbadger_report(log, "stderr", PG_LOG_LINE_PREFIX, tmp_path, ("--top", str(TOP)))
    records = _records(log)
    ours = _figures(records)
    assert ours == _pgbadger_figures(report)
    assert ours.statements > 2 * TOP  # the top is a part of the statements, not all of them

    theirs = [(float(q[0]), q[1], q[3], q[4], q[5]) for db in report["top_slowest"].values() for q in db]
    records = records.sort_by([("duration_ms", "descending")])
    mine = [
        (r["duration_ms"], r["end_ts"].strftime("%Y-%m-%d %H:%M:%S"), r["db"], r["db_user"], r["client_host"])
        for r in records.slice(0, TOP).to_pylist()
    ]
    assert len(theirs) == TOP and records.column("duration_ms")[TOP - 1] != records.column("duration_ms")[TOP]
    assert sorted(mine, reverse=True) == sorted(theirs, reverse=True)
    # each statement that waited, one by one: pgBadger takes the wait's STATEMENT line, we the session's
    # next record that ran during the wait; the same waits, by the same database user and client
    locked = [(float(q[0]), q[3], q[4]) for db in report["top_locked_info"].values() for q in db]
    waited = records.filter(pc.is_valid(records.column("lock_ms")))
    assert 0 < len(locked) < TOP  # all of them, not a top
    assert sorted(
        zip(*(waited.column(c).to_pylist() for c in ("lock_ms", "db", "db_user")), strict=True)
    ) == sorted(locked)
