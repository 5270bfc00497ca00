"""State that crosses chunk boundaries: a file cut into many chunks parses to exactly what it gives whole.

Each file is parsed whole, then cut at every point where the reader may cut it (two chunks), then read by
the pipeline with tiny blocks (many chunks, through ``pipeline.reader`` and ``parse_chunks``). Records,
rejects and line accounting must not change: MySQL's inherited ``use db;`` / ``# Time:`` and the syslog
year come through :mod:`parsers.carry`; PostgreSQL's statement/duration, parameter and lock pairs are never
cut apart (:mod:`parsers.postgres_chunks`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from parsers import carry, mysql_slow, postgres, postgres_chunks, postgres_csv, postgres_json, text
from parsers.base import ParseContext, Parser, ParseResult
from pipeline import reader
from pipeline.ingest import parse_chunks
from tests.parsers.helpers import frame


@dataclass
class Parsed:
    records: pl.DataFrame
    rejects: pl.DataFrame
    counts: tuple[int, int, int, int]  # record, reject, skipped lines; zones assumed
    notes: dict[str, int]


def _combine(results: list[ParseResult]) -> Parsed:
    notes: dict[str, int] = {}
    for r in results:
        for key, n in r.notes.items():
            notes[key] = notes.get(key, 0) + n
    return Parsed(
        pl.concat([frame(r.records) for r in results]),
        pl.concat([frame(r.rejects) for r in results]),
        (
            sum(r.record_lines for r in results),
            sum(r.reject_lines for r in results),
            sum(r.skipped_lines for r in results),
            sum(r.tz_assumed for r in results),
        ),
        notes,
    )


def _parse_cut(parser: Parser, lines: pl.Series, points: list[int], year: int | None) -> Parsed:
    """Parse the chunks between ``points`` independently, then carry the state in file order (as ingest)."""
    bounds = [0, *points, len(lines)]
    state: dict[str, object] = {}
    results = []
    for a, b in itertools.pairwise(bounds):
        ctx = ParseContext("f.log", a + 1, timezone="Europe/Berlin", year=year)
        results.append(carry.apply(parser.parse(lines.slice(a, b - a), ctx), state))
    return _combine(results)


def _assert_same(got: Parsed, want: Parsed, where: str) -> None:
    assert_frame_equal(got.records, want.records, check_exact=True), where
    assert_frame_equal(got.rejects, want.rejects, check_exact=True), where
    assert (got.counts, got.notes) == (want.counts, want.notes), where


def _file_lines(path: Path) -> pl.Series:
    return pl.concat([c.lines for c in reader.iter_chunks(path)])


def assert_cut_anywhere_is_whole(parser: Parser, path: Path, year: int | None = None) -> int:
    """Whole vs. cut in two at every record start; returns how many cuts were tried."""
    lines = _file_lines(path)
    whole = _parse_cut(parser, lines, [], year)
    mask = parser.record_start(lines)
    points = [i for i in (mask.arg_true().to_list() if mask is not None else range(len(lines))) if i > 0]
    for i in points:
        _assert_same(_parse_cut(parser, lines, [i], year), whole, f"cut before line {i + 1}")
    return len(points)


def assert_tiny_blocks_are_whole(parser: Parser, path: Path, sizes: range, year: int | None = None) -> None:
    """Whole vs. the pipeline reading ``path`` in blocks of each size (many chunks, two worker threads)."""
    whole = _parse_cut(parser, _file_lines(path), [], year)

    def ctx(first: int) -> ParseContext:
        return ParseContext("f.log", first, timezone="Europe/Berlin", year=year)

    for size in sizes:
        results = [r for _, r in parse_chunks(path, parser, ctx, workers=2, block_bytes=size)]
        _assert_same(_combine(results), whole, f"blocks of {size} bytes ({len(results)} chunks)")


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


# --- MySQL: `use db;` and `# Time:` are written only when they change ---------------------------------------

MYSQL = [
    "# Time: 071015 21:43:52",
    "# User@Host: root[root] @ localhost []",
    "# Query_time: 2  Lock_time: 0  Rows_sent: 1  Rows_examined: 0",
    "use test;",
    "select sleep(2) from n;",
    "# User@Host: root[root] @ localhost []",
    "# Query_time: 1  Lock_time: 0  Rows_sent: 1  Rows_examined: 0",
    "select sleep(1) from n;",
    "# Time: 071015 21:45:10",
    "# User@Host: app[app] @ 10.0.0.1 []",
    "# Query_time: 0.5  Lock_time: 0  Rows_sent: 1  Rows_examined: 0",
    "SET timestamp=1192484710;",
    "select 1;",
    "# User@Host: app[app] @ 10.0.0.1 []",
    "# Query_time: 3.25  Lock_time: 0.5  Rows_sent: 1  Rows_examined: 0",
    "select 2;",
    "# Time: 071015 99:45:10",
    "# User@Host: app[app] @ 10.0.0.1 []",
    "# Query_time: 4  Lock_time: 0  Rows_sent: 0  Rows_examined: 0",
    "update t set x = 1;",
    "# User@Host: app[app] @ 10.0.0.1 []",
    "# Query_time: 5  Lock_time: 0  Rows_sent: 0  Rows_examined: 0",
    "use other;",
    "update t set x = 2;",
]


def test_mysql_inherited_db_and_time_survive_every_cut(tmp_path: Path) -> None:
    path = _write(tmp_path, "slow.log", MYSQL)
    assert assert_cut_anywhere_is_whole(mysql_slow, path) == 5
    assert_tiny_blocks_are_whole(mysql_slow, path, range(20, 700, 53))
    whole = _parse_cut(mysql_slow, _file_lines(path), [], None)
    # the values really are inherited: entry 2 takes entry 1's db and time, entry 4 entry 3's
    assert whole.records["db"].to_list() == ["test", "test", "test", "test", "other"]
    assert whole.records["ts"][1] == dt.datetime(2007, 10, 15, 19, 43, 51, tzinfo=dt.UTC)  # Berlin, - 1 s
    assert whole.records["ts"][3] == dt.datetime(2007, 10, 15, 19, 45, 6, 750000, tzinfo=dt.UTC)
    # the last entry inherits the unreadable '# Time' (its own entry is rejected): no time, not a guess
    assert whole.records["ts"][4] is None
    assert whole.rejects["source_line"].to_list() == [17]


def test_without_the_carry_a_cut_loses_the_inherited_values() -> None:
    """The control: the chunk after the cut knows neither the db nor the time by itself."""
    lines = pl.Series(MYSQL)
    second = mysql_slow.parse(lines.slice(5), ParseContext("f.log", 6, timezone="Europe/Berlin"))
    first_records = frame(second.records).row(0, named=True)
    assert (first_records["db"], first_records["ts"]) == (None, None)
    assert set(second.carry) == {"mysql.db", "mysql.time"}


def test_mysql_carry_keeps_the_zone_assumed_count() -> None:
    lines = pl.Series(MYSQL[:8])
    whole = _parse_cut(mysql_slow, lines, [], None)
    assert _parse_cut(mysql_slow, lines, [5], None).counts == whole.counts
    assert whole.counts[3] == 2  # both entries' times are zone-less (old format): the zone was assumed


# --- PostgreSQL: entries joined into one record stay in one chunk, or are carried to the later one ----------

P = "2026-11-17 14:32:05.{} UTC [{}] app@shop "
STDERR = [
    P.format(100, 101) + "LOG:  statement: SELECT 1",
    P.format(110, 102) + "LOG:  statement: UPDATE stock SET n = n - 1 WHERE sku = 'a'",
    P.format(120, 101) + "LOG:  duration: 20.000 ms",
    P.format(130, 103) + "LOG:  process 103 still waiting for ShareLock on transaction 9 after 1000.123 ms",
    P.format(140, 102) + "LOG:  duration: 30.000 ms",
    P.format(150, 104) + "LOG:  duration: 1.500 ms  execute <unnamed>: SELECT * FROM t WHERE id = $1",
    P.format(150, 105) + "LOG:  connection received: host=10.0.4.21",
    P.format(151, 104) + "DETAIL:  parameters: $1 = '42'",
    P.format(160, 103) + "LOG:  duration: 1200.000 ms  statement: UPDATE stock SET n = 0",
    "\tWHERE sku = 'b'",
    P.format(170, 101) + "LOG:  statement: SELECT 2",
    P.format(180, 106) + "LOG:  checkpoint starting: time",
    P.format(190, 101) + "LOG:  duration: 2.000 ms",
    P.format(200, 107) + "LOG:  statement: SELECT 'never timed'",
]


def test_postgres_pairs_are_never_cut_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_chunks, "PARAMS_WINDOW", 3)  # parameters come at most 3 entries later
    path = _write(tmp_path, "pg.log", STDERR)
    mask = postgres.record_start(pl.Series(STDERR)).to_list()
    # cut points: every entry but inside 104's record and its parameters (7, 8) and the continuation line
    # (10). 101's and 102's statement/duration pairs may be cut apart (the statement is carried to its
    # duration), and so may 103's lock wait and its record (the wait is carried to the record)
    assert [i + 1 for i, m in enumerate(mask) if m] == [1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14]
    assert assert_cut_anywhere_is_whole(postgres, path) == 10
    assert_tiny_blocks_are_whole(postgres, path, range(30, 900, 67))
    # without the lock wait, nothing held the cut between 104's record and its parameters (another session's
    # line comes between): a block ending there lost them
    no_wait = _write(tmp_path, "pg2.log", [line for line in STDERR if "still waiting" not in line])
    assert_tiny_blocks_are_whole(postgres, no_wait, range(20, 900, 7))
    whole = _parse_cut(postgres, _file_lines(path), [], None)
    got = whole.records.select("statement", "duration_ms", "lock_ms", "source_line").rows()
    assert got == [
        ("SELECT 1", 20.0, None, 1),
        ("UPDATE stock SET n = n - 1 WHERE sku = 'a'", 30.0, None, 2),
        ("SELECT * FROM t WHERE id = $1", 1.5, None, 6),
        ("UPDATE stock SET n = 0\nWHERE sku = 'b'", 1200.0, 1000.123, 9),
        ("SELECT 2", 2.0, None, 11),
    ]


def test_postgres_lock_waits_cut_anywhere_add_up_as_whole(tmp_path: Path) -> None:
    # 103 waits on two locks in turn, each logged twice (still waiting, acquired), other sessions' records
    # between: a cut may fall between the two lines of one wait, or between the waits and the record; 108's
    # wait began before its logged statement did (a statement not logged waited): it is nobody's
    wait = "LOG:  process 103 still waiting for ShareLock on transaction"
    lines = [
        P.format(100, 103) + f"{wait} 9 after 1000.123 ms",
        P.format(105, 108) + "LOG:  process 108 acquired ShareLock on transaction 12 after 100.000 ms",
        P.format(110, 101) + "LOG:  duration: 1.000 ms  statement: SELECT 1",
        P.format(120, 103) + "LOG:  process 103 acquired ShareLock on transaction 9 after 1300.500 ms",
        P.format(130, 101) + "LOG:  duration: 1.000 ms  statement: SELECT 2",
        P.format(140, 103) + "LOG:  process 103 still waiting for ExclusiveLock on tuple (0,5) of relation 7 "
        "of database 5 after 1000.000 ms",
        P.format(150, 101) + "LOG:  duration: 1.000 ms  statement: SELECT 3",
        P.format(160, 103) + "LOG:  process 103 acquired ExclusiveLock on tuple (0,5) of relation 7 of "
        "database 5 after 1200.250 ms",
        P.format(170, 101) + "LOG:  duration: 1.000 ms  statement: SELECT 4",
        P.format(180, 103) + "LOG:  duration: 2600.000 ms  statement: UPDATE stock SET n = 0",
        P.format(190, 103) + f"{wait} 11 after 1000.000 ms",
        P.format(195, 108) + "LOG:  duration: 50.000 ms  statement: UPDATE stock SET n = 2",
        P.format(199, 103) + "LOG:  duration: 1100.000 ms  statement: UPDATE stock SET n = 1",
    ]
    path = _write(tmp_path, "pg.log", lines)
    assert assert_cut_anywhere_is_whole(postgres, path) == len(lines) - 1
    assert_tiny_blocks_are_whole(postgres, path, range(40, 1200, 53))
    whole = _parse_cut(postgres, _file_lines(path), [], None)
    got = whole.records.filter(pl.col("lock_ms").is_not_null())
    waited_for = [dict(bag)["lock_wait_for"] for bag in got["attributes"].to_list()]
    assert list(zip(got["statement"], got["lock_ms"], waited_for, strict=True)) == [
        ("UPDATE stock SET n = 0", 2500.75, "ShareLock on transaction 9"),
        ("UPDATE stock SET n = 1", 1000.0, "ShareLock on transaction 11"),
    ]


def test_postgres_statement_of_an_idle_session_reaches_its_late_duration(tmp_path: Path) -> None:
    # log_statement = 'all' + log_min_duration_statement: the statement is logged at once, its duration (no
    # text: already logged) only when it ran long. Session 301 goes idle between them while others run on;
    # the reader must not hold its cut for that (an idle pooled connection would hold it for ever)
    others = [P.format(100 + i % 900, 400 + i % 7) + f"LOG:  statement: SELECT {i}" for i in range(60)]
    lines = [
        P.format(100, 301) + "LOG:  execute S_1: UPDATE stock SET n = n - 1 WHERE sku = $1",
        P.format(100, 301) + "DETAIL:  parameters: $1 = 'a'",
        *others[:30],
        P.format(101, 302) + "LOG:  statement: SELECT 'replaced'",
        P.format(102, 302) + "LOG:  statement: SELECT 'timed'",
        *others[30:],
        P.format(900, 301) + "LOG:  duration: 812.500 ms",
        P.format(901, 302) + "LOG:  duration: 3.000 ms",
    ]
    path = _write(tmp_path, "pg.log", lines)
    _assert_whole_cut_anywhere_but_at_one_parameters_entry(path, lines, range(200, 3000, 311))
    whole = _parse_cut(postgres, _file_lines(path), [], None)
    got = whole.records.select("statement", "duration_ms", "source_line").rows()
    assert got == [
        ("UPDATE stock SET n = n - 1 WHERE sku = $1", 812.5, 1),
        ("SELECT 'timed'", 3.0, 34),
    ]
    assert dict(whole.records["attributes"][0])["parameters"] == "$1 = 'a'"
    # the two statements with their durations (and the parameters) are in records; the others are skipped
    assert whole.counts[:3] == (5, 0, len(lines) - 5)


def test_postgres_duration_with_an_unreadable_time_is_rejected_at_its_statement_however_cut(
    tmp_path: Path,
) -> None:
    # the duration's log time is unreadable (14:32:99): its record is rejected, and the reject row names the
    # record's first line (the statement's), as when both are in one chunk, also when the statement came
    # in an earlier chunk (its lines then move to the rejects with it)
    timed = [
        P.format(110 + i, 400 + i % 3) + f"LOG:  duration: 1.000 ms  statement: SELECT {i}" for i in range(8)
    ]
    lines = [
        P.format(100, 301) + "LOG:  statement: UPDATE stock SET n = 1",
        *timed,
        "2026-11-17 14:32:99.000 UTC [301] app@shop LOG:  duration: 5.000 ms",
        P.format(300, 302) + "LOG:  duration: 2.000 ms  statement: SELECT 'after'",
    ]
    path = _write(tmp_path, "pg.log", lines)
    assert assert_cut_anywhere_is_whole(postgres, path) == len(lines) - 1
    assert_tiny_blocks_are_whole(postgres, path, range(150, 1500, 97))
    whole = _parse_cut(postgres, _file_lines(path), [], None)
    assert whole.rejects.select("source_line", "reason").rows() == [
        (1, "unreadable log time '2026-11-17 14:32:99.000 UTC'")
    ]
    assert whole.counts[:3] == (9, 2, 0)


def test_postgres_parameters_too_far_from_their_record_are_not_its(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL writes a record's DETAIL lines with it; only other sessions' lines (syslog) come between.
    # Past the window the parameters are not the record's, so the reader need not hold its cut for them
    monkeypatch.setattr(postgres_chunks, "PARAMS_WINDOW", 3)
    others = [P.format(150 + i, 200 + i) + "LOG:  checkpoint starting: time" for i in range(4)]
    record = P.format(140, 104) + "LOG:  duration: 1.500 ms  execute <unnamed>: SELECT $1"
    params = P.format(190, 104) + "DETAIL:  parameters: $1 = '42'"
    for between, attached in ((others[:2], True), (others, False)):
        path = _write(tmp_path, "pg.log", [record, *between, params])
        whole = _parse_cut(postgres, _file_lines(path), [], None)
        assert ("parameters" in dict(whole.records["attributes"][0])) is attached
        assert_cut_anywhere_is_whole(postgres, path)
        assert_tiny_blocks_are_whole(postgres, path, range(20, 600, 37))


def test_postgres_parameters_belong_only_to_a_step_that_takes_them(tmp_path: Path) -> None:
    # PostgreSQL writes `DETAIL:  parameters:` only after an extended-protocol `execute`/`bind` step, and the
    # reader holds its cut only for those: parameters after a simple `statement:` (an edited or forged log)
    # are no record's, skipped lines as a checkpoint is
    others = [P.format(150 + i, 200 + i) + "LOG:  checkpoint starting: time" for i in range(3)]
    lines = [
        P.format(100, 104) + "LOG:  duration: 1.500 ms  statement: SELECT 'simple'",
        P.format(101, 104) + "DETAIL:  parameters: $1 = 'forged'",
        *others,
        P.format(110, 105) + "LOG:  statement: SELECT 'logged first'",
        P.format(111, 105) + "DETAIL:  parameters: $1 = 'forged too'",
        P.format(120, 105) + "LOG:  duration: 2.000 ms",
        P.format(130, 106) + "LOG:  duration: 3.000 ms  execute <unnamed>: SELECT $1",
        P.format(131, 106) + "DETAIL:  parameters: $1 = '42'",
    ]
    path = _write(tmp_path, "pg.log", lines)
    whole = _parse_cut(postgres, _file_lines(path), [], None)
    got = [
        (r["statement"], dict(r["attributes"]).get("parameters")) for r in whole.records.iter_rows(named=True)
    ]
    assert got == [("SELECT 'simple'", None), ("SELECT 'logged first'", None), ("SELECT $1", "$1 = '42'")]
    assert whole.counts[:3] == (5, 0, 5)
    _assert_whole_cut_anywhere_but_at_one_parameters_entry(path, lines, range(20, 900, 7))


def _assert_whole_cut_anywhere_but_at_one_parameters_entry(
    path: Path, lines: list[str], sizes: range
) -> None:
    """Every entry of the one-line-entry log ``lines`` may start a chunk but one (the parameters of an
    execute), and the log parses as whole cut at any of them or read in blocks of ``sizes``."""
    mask = postgres.record_start(pl.Series(lines))
    assert mask.sum() == len(lines) - 1
    assert assert_cut_anywhere_is_whole(postgres, path) == len(lines) - 2
    assert_tiny_blocks_are_whole(postgres, path, sizes)


def _csv(ms: int, pid: int, message: str) -> str:
    quoted = message.replace('"', '""')
    return (
        f'2026-11-17 14:32:05.{ms} UTC,"app","shop",{pid},"10.0.4.21:5432",6383b339.{pid},1,"SELECT",'
        f'2026-11-17 14:00:00 UTC,3/0,0,LOG,00000,"{quoted}",,,,,,,,,"api"'
    )


def _jsonlog(ms: int, pid: int, message: str) -> str:
    return json.dumps(
        {"timestamp": f"2026-11-17 14:32:05.{ms} UTC", "user": "app", "dbname": "shop", "pid": pid,
         "session_id": f"6383b339.{pid}", "error_severity": "LOG", "message": message}
    )  # fmt: skip


@pytest.mark.parametrize(("parser", "line"), [(postgres_csv, _csv), (postgres_json, _jsonlog)])
def test_postgres_csvlog_and_jsonlog_statements_reach_their_duration_across_any_cut(
    tmp_path: Path, parser: Parser, line: Callable[[int, int, str], str]
) -> None:
    lines = [
        line(100, 101, "statement: SELECT 1"),
        line(110, 102, 'statement: SELECT "x"'),
        line(120, 101, "duration: 20.000 ms"),
        line(130, 102, "duration: 30.000 ms"),
        line(140, 103, "duration: 1.000 ms  statement: SELECT\n 3"),
    ]
    path = _write(tmp_path, "pg.log", lines)
    # every entry may start a chunk: a statement waiting for its duration is carried to it
    assert assert_cut_anywhere_is_whole(parser, path) == 4
    assert_tiny_blocks_are_whole(parser, path, range(40, 900, 71))
    assert _parse_cut(parser, _file_lines(path), [], None).records["statement"].to_list() == [
        "SELECT 1",
        'SELECT "x"',
        "SELECT\n 3",
    ]


def test_postgres_csvlog_statement_keeps_the_parameters_of_its_own_row(tmp_path: Path) -> None:
    # csvlog writes a statement's parameters in the detail column of its own row; the duration row that
    # comes later (log_duration) has none: the record takes the statement's
    statement = _csv(100, 101, "execute S_1: SELECT * FROM t WHERE id = $1").replace(
        '"execute S_1: SELECT * FROM t WHERE id = $1",',
        '"execute S_1: SELECT * FROM t WHERE id = $1","parameters: $1 = \'42\'"',
    )
    lines = [statement, _csv(110, 102, "statement: SELECT 2"), _csv(120, 101, "duration: 2.000 ms")]
    path = _write(tmp_path, "pg.csv", lines)
    assert assert_cut_anywhere_is_whole(postgres_csv, path) == 2
    whole = _parse_cut(postgres_csv, _file_lines(path), [], None)
    assert whole.records["statement"].to_list() == ["SELECT * FROM t WHERE id = $1"]
    assert dict(whole.records["attributes"][0])["parameters"] == "$1 = '42'"


# --- syslog: the year of year-less times rolls over at the change of year -----------------------------------

SYSLOG = [
    "Dec 31 23:59:58 db1 postgres[201]: [1-1] LOG:  duration: 5.000 ms  statement: SELECT 1",
    "Dec 31 23:59:59 db1 postgres[202]: [2-1] LOG:  duration: 1.000 ms  statement: SELECT 2",
    "Jan  1 00:00:01 db1 postgres[202]: [3-1] LOG:  duration: 3000.000 ms  statement: SELECT 3",
    "Jan  1 00:00:01 db1 systemd[1]: Started something.",
    "Jan  1 00:00:02 db1 postgres[201]: [4-1] LOG:  duration: 1.000 ms  statement: SELECT 4",
    "Jan  2 10:00:00 db1 postgres[201]: [5-1] LOG:  duration: 1.000 ms  statement: SELECT 5",
]


TEXT_SYSLOG = [
    "Dec 31 23:59:58 web1 checkout[311]: ERROR payment failed trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
    "    at com.shop.Pay.charge(Pay.java:42)",
    "Dec 31 23:59:59 web1 checkout[311]: INFO retrying",
    "Jan  1 00:00:01 web1 checkout[311]: INFO retry ok",
    "Jan  1 00:00:02 web1 checkout[311]: WARN slow response",
    "Jan  2 10:00:00 web1 checkout[311]: INFO next day",
]


@pytest.mark.parametrize(
    ("parser", "lines", "column", "cuts", "year"),
    [
        (postgres, SYSLOG, "end_ts", 5, 2025),
        (postgres, SYSLOG, "end_ts", 5, None),  # the fixed fallback year
        (text, TEXT_SYSLOG, "ts", 4, 2025),  # a stack trace line between the records
    ],
    ids=["postgres", "postgres-no-year", "text"],
)
def test_syslog_year_rollover_survives_every_cut(
    tmp_path: Path, parser: Parser, lines: list[str], column: str, cuts: int, year: int | None
) -> None:
    path = _write(tmp_path, "syslog", lines)
    assert assert_cut_anywhere_is_whole(parser, path, year) == cuts
    assert_tiny_blocks_are_whole(parser, path, range(40, 600, 47), year)
    whole = _parse_cut(parser, _file_lines(path), [], year)
    first = year if year is not None else postgres.FALLBACK_YEAR
    local = whole.records[column].dt.convert_time_zone("Europe/Berlin").dt.year().to_list()
    assert local == [first] * 2 + [first + 1] * 3


# --- real files ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "parser", "cuts"),
    [
        ("percona-toolkit/t/lib/samples/slowlogs/slow002.txt", mysql_slow, 7),
        ("percona-toolkit/t/lib/samples/slowlogs/slow006.txt", mysql_slow, 5),
        ("percona-toolkit/t/lib/samples/slowlogs/slow022.txt", mysql_slow, 5),
        ("beats/filebeat/module/mysql/slowlog/test/mysql-5.7.22.log", mysql_slow, 3),
        ("pgbadger/t/fixtures/multiline_param.log", postgres, 7),
        ("pgbadger/t/fixtures/csv_statement_without_duration.log", postgres_csv, 1),
        ("beats/filebeat/module/postgresql/log/test/postgresql-9.6-debian-with-slowlog.log", postgres, 17),
    ],
)
def test_corpus_files_cut_anywhere_parse_as_whole(corpora: Path, rel: str, parser: Parser, cuts: int) -> None:
    assert assert_cut_anywhere_is_whole(parser, corpora / rel) == cuts
    assert_tiny_blocks_are_whole(parser, corpora / rel, range(64, 2048, 223))
