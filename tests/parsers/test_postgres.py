"""PostgreSQL stderr, csvlog and jsonlog parsers: realistic lines inline, then Filebeat and pgBadger files."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from parsers import mysql_slow, postgres, postgres_csv, postgres_json, sqltext, text
from parsers.base import Parser
from parsers.registry import REGISTRY
from tests.parsers.helpers import attrs, run_parser

UTC = dt.UTC
CORPORA = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora"
FILEBEAT = CORPORA / "beats/filebeat/module/postgresql/log/test"
PGBADGER = CORPORA / "pgbadger/t/fixtures"
needs_corpus = pytest.mark.skipif(
    not FILEBEAT.is_dir(), reason="shared corpora not present (../shared/corpora)"
)


def read_lines(path: Path) -> list[str]:
    opener: Any = bz2.open if path.suffix == ".bz2" else gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        text: str = fh.read()
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def rows(records: pl.DataFrame) -> list[dict[str, Any]]:
    return records.to_dicts()


# --- stderr: prefixes ---------------------------------------------------------------------------------------

MSG = "LOG:  duration: 12.345 ms  statement: SELECT * FROM orders WHERE id = 42"
PREFIXES = [
    # (line prefix, pid, user, db, app, client)
    ("2026-11-17 14:32:05 UTC [4711]: [3-1] user=shop,db=orders,app=checkout,client=10.0.4.21 ",
     "4711", "shop", "orders", "checkout", "10.0.4.21"),
    ("2026-11-17 14:32:05.000 UTC [4711] ", "4711", None, None, None, None),
    ("2026-11-17 14:32:05.000 UTC [4711] shop@orders ", "4711", "shop", "orders", None, None),
    ("< 2026-11-17 14:32:05.000 UTC > ", None, None, None, None, None),
    ("2026-11-17 14:32:05 UTC [4711-1] shop@orders ", "4711", "shop", "orders", None, None),
    ("2026-11-17 14:32:05 UTC:10.0.4.21(52811):shop@orders:[4711]:",
     "4711", "shop", "orders", None, "10.0.4.21"),
    ("2026-11-17 14:32:05 UTC [4711]: [1-1] user=shop,db=orders,host=10.0.4.21,app=psql ",
     "4711", "shop", "orders", "psql", "10.0.4.21"),
    ("2026-11-17 14:32:05.000 UTC [4711] [unknown]@[unknown] ", "4711", None, None, None, None),
]  # fmt: skip


@pytest.mark.parametrize(("prefix", "pid", "user", "db", "app", "client"), PREFIXES)
def test_log_line_prefixes(
    prefix: str, pid: str | None, user: str | None, db: str | None, app: str | None, client: str | None
) -> None:
    records, rejects, result = run_parser(postgres, [prefix + MSG], "pg.log")
    [row] = rows(records)
    assert rejects.is_empty()
    assert row["end_ts"] == dt.datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC)
    assert row["ts"] == dt.datetime(2026, 11, 17, 14, 32, 4, 987655, tzinfo=UTC)
    assert row["duration_ms"] == pytest.approx(12.345)
    assert (row["db_user"], row["db"], row["client_host"]) == (user, db, client)
    assert attrs(row).get("pid") == pid
    assert attrs(row).get("application_name") == app
    assert row["engine"] == "postgresql"
    assert row["fingerprint"] == "select * from orders where id = ?"
    assert result.tz_assumed == 0


def test_multiline_statement_and_other_lines_are_skipped() -> None:
    lines = [
        '2020-04-16 12:48:44.696 CEST [34492] ERROR:  column "name" does not exist at character 8',
        "2020-04-16 12:48:44.696 CEST [34492] STATEMENT:  select name from user;",
        "2020-04-16 12:49:16.871 CEST [34492] LOG:  duration: 3.431 ms  statement: CREATE TABLE weather (",
        "\t    city            varchar(80),",
        "\t    temp_lo         int",
        "\t);",
        "2020-04-16 12:50:00.000 CEST [34492] LOG:  checkpoint starting: time",
    ]
    records, _, result = run_parser(postgres, lines, "pg.log")
    [row] = rows(records)
    assert (
        row["statement"]
        == "CREATE TABLE weather (\n    city            varchar(80),\n    temp_lo         int\n);"
    )
    assert row["end_ts"] == dt.datetime(2020, 4, 16, 10, 49, 16, 871000, tzinfo=UTC)  # CEST = +02:00
    assert row["source_line"] == 3
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (4, 0, 3)


def test_extended_protocol_steps_with_parameters() -> None:
    p = "2023-03-07 09:06:08 CET [130096]: [247-1] user=app,db=progdb "
    lines = [
        p + "LOG:  duration: 0.145 ms  parse <unnamed>: SELECT * FROM t WHERE a = $1 AND b = $2",
        p + "LOG:  duration: 0.131 ms  bind S_1: SELECT * FROM t WHERE a = $1 AND b = $2",
        p + "DETAIL:  parameters: $1 = '1234', $2 = 'two",
        "\tlines'",
        p + "LOG:  duration: 778.166 ms  execute S_1: SELECT * FROM t WHERE a = $1 AND b = $2",
        p + "DETAIL:  parameters: $1 = '1234', $2 = 'x'",
    ]
    records, _, result = run_parser(postgres, lines, "pg.log")
    got = [
        (attrs(r)["query_step"], attrs(r).get("statement_name"), attrs(r).get("parameters"))
        for r in rows(records)
    ]
    assert got == [
        ("parse", "<unnamed>", None),
        ("bind", "S_1", "$1 = '1234', $2 = 'two\nlines'"),
        ("execute", "S_1", "$1 = '1234', $2 = 'x'"),
    ]
    assert (result.record_lines, result.skipped_lines) == (6, 0)
    # $1 placeholders fingerprint like the literals they stand for
    literal = pl.select(
        sqltext.fingerprint(pl.lit("SELECT * FROM t WHERE a = 1 AND b = 'x'"), dialect="postgresql")
    )
    assert records["fingerprint"][0] == literal.item()


def test_log_statement_and_log_duration_join_by_session() -> None:
    lines = [
        "2026-11-17 14:32:05.000 UTC [100] LOG:  statement: UPDATE stock SET n = n - 1 WHERE sku = 'a'",
        "2026-11-17 14:32:05.001 UTC [200] LOG:  statement: SELECT pg_sleep(1)",  # never gets a duration
        "2026-11-17 14:32:05.500 UTC [100] LOG:  duration: 500.000 ms",
        "2026-11-17 14:32:06.000 UTC [300] LOG:  duration: 2.000 ms",  # its statement was before the file
    ]
    records, _, result = run_parser(postgres, lines, "pg.log")
    got = [(r["statement"], r["duration_ms"], r["source_line"], r["ts"]) for r in rows(records)]
    assert got == [
        (
            "UPDATE stock SET n = n - 1 WHERE sku = 'a'",
            500.0,
            1,
            dt.datetime(2026, 11, 17, 14, 32, 5, tzinfo=UTC),
        ),
        (None, 2.0, 4, dt.datetime(2026, 11, 17, 14, 32, 5, 998000, tzinfo=UTC)),
    ]
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (3, 0, 1)


def test_lock_wait_goes_to_next_statement_of_the_same_pid() -> None:
    lines = [
        "2026-11-17 14:32:06.000 UTC [4882] LOG:  process 4882 still waiting for ShareLock on "
        "transaction 5678 after 1000.119 ms",
        "2026-11-17 14:32:06.000 UTC [4882] DETAIL:  Process holding the lock: 4821. Wait queue: 4882.",
        "2026-11-17 14:32:06.500 UTC [4999] LOG:  duration: 1.000 ms  statement: SELECT 1",
        "2026-11-17 14:32:07.000 UTC [4882] LOG:  process 4882 acquired ShareLock on transaction 5678 after "
        "2000.250 ms",
        "2026-11-17 14:32:07.100 UTC [4882] LOG:  duration: 2100.000 ms  statement: UPDATE t SET x = 1",
        "2026-11-17 14:32:08.100 UTC [4882] LOG:  duration: 1.000 ms  statement: COMMIT",
    ]
    records, _, result = run_parser(postgres, lines, "pg.log")
    by_stmt = {r["statement"]: r for r in rows(records)}
    assert by_stmt["UPDATE t SET x = 1"]["lock_ms"] == pytest.approx(2000.25)
    lock = {k: v for k, v in attrs(by_stmt["UPDATE t SET x = 1"]).items() if k.startswith("lock")}
    assert lock == {"lock_wait_ms": "2000.25", "lock_wait_for": "ShareLock on transaction 5678"}
    assert by_stmt["SELECT 1"]["lock_ms"] is None
    assert by_stmt["COMMIT"]["lock_ms"] is None
    assert result.skipped_lines == 3


def test_a_statement_that_waited_on_two_locks_waited_the_sum() -> None:
    # one wait logs "still waiting" after deadlock_timeout and "acquired" when it ends: a wait counts once,
    # at its longest; waits on two locks in turn add up (as MySQL's Lock_time); the lock waited on longest
    # is named
    pid = "2026-11-17 14:32:0{} UTC [4882] LOG:  process 4882 "
    tuple_lock = "ExclusiveLock on tuple (0,5) of relation 16385 of database 16384"
    lines = [
        pid.format("6.800") + "still waiting for ShareLock on transaction 5678 after 1000.000 ms",
        pid.format("7.300") + "acquired ShareLock on transaction 5678 after 1500.250 ms",
        pid.format("8.310") + f"still waiting for {tuple_lock} after 1000.000 ms",
        pid.format("9.050") + f"acquired {tuple_lock} after 1740.500 ms",
        "2026-11-17 14:32:09.100 UTC [4882] LOG:  duration: 3400.000 ms  statement: UPDATE t SET x = 1",
    ]
    records, _, _ = run_parser(postgres, lines, "pg.log")
    (rec,) = rows(records)
    assert rec["lock_ms"] == pytest.approx(3240.75)
    assert (attrs(rec)["lock_wait_ms"], attrs(rec)["lock_wait_for"]) == ("3240.75", tuple_lock)


def test_a_wait_that_began_before_the_statement_is_not_its_evidence() -> None:
    # log_lock_waits logs every wait past deadlock_timeout; log_min_duration_statement only the slow
    # statements: the statement that waited here (14:32:05.000 - 05.400) was not logged, and the session's
    # next logged statement began after the wait had ended. Times in whole seconds (%t) are a second coarse.
    share = "ShareLock on transaction"
    lines = [
        "2026-11-17 14:32:05.400 UTC [4882] LOG:  process 4882 acquired ShareLock on transaction 5678 after "
        "390.000 ms",
        "2026-11-17 14:32:09.100 UTC [4882] LOG:  duration: 3000.000 ms  statement: UPDATE t SET x = 1",
        f"2026-11-17 14:32:10 UTC [4883] LOG:  process 4883 acquired {share} 5679 after 500.0 ms",
        "2026-11-17 14:32:11 UTC [4883] LOG:  duration: 900.000 ms  statement: UPDATE t SET x = 2",
        f"2026-11-17 14:32:13 UTC [4883] LOG:  process 4883 acquired {share} 5680 after 500.0 ms",
        "2026-11-17 14:32:15 UTC [4883] LOG:  duration: 900.000 ms  statement: UPDATE t SET x = 3",
    ]
    records, _, result = run_parser(postgres, lines, "pg.log")
    assert [(r["statement"], r["lock_ms"]) for r in rows(records)] == [
        ("UPDATE t SET x = 1", None),
        ("UPDATE t SET x = 2", 500.0),  # began 14:32:10.1, the wait 09.5: within the second of %t
        ("UPDATE t SET x = 3", None),  # began 14:32:14.1, the wait 12.5
    ]
    assert result.skipped_lines == 3


def test_zones_unknown_zone_takes_context_timezone() -> None:
    lines = [
        "2026-01-17 14:32:05.000 EST [1] LOG:  duration: 1.000 ms  statement: SELECT 1",
        "2026-01-17 14:32:05.000 +0530 [1] LOG:  duration: 1.000 ms  statement: SELECT 2",
        "2026-01-17 14:32:05.000 XYZT [1] LOG:  duration: 1.000 ms  statement: SELECT 3",
        "2026-01-17 14:32:05.000 [1] LOG:  duration: 1.000 ms  statement: SELECT 4",
    ]
    records, _, result = run_parser(postgres, lines, "pg.log", timezone="Europe/Paris")
    assert records["end_ts"].to_list() == [
        dt.datetime(2026, 1, 17, 19, 32, 5, tzinfo=UTC),
        dt.datetime(2026, 1, 17, 9, 2, 5, tzinfo=UTC),
        dt.datetime(2026, 1, 17, 13, 32, 5, tzinfo=UTC),
        dt.datetime(2026, 1, 17, 13, 32, 5, tzinfo=UTC),
    ]
    assert result.tz_assumed == 2


def test_unparsable_prefixed_line_and_stray_lines_are_rejected() -> None:
    lines = [
        "some banner before the first entry",
        "",
        "2026-11-17 14:32:05.000 UTC [1] this line has no severity",
        "2026-11-17 14:32:06.000 UTC [1] LOG:  duration: 1.000 ms  statement: SELECT 1",
    ]
    records, rejects, result = run_parser(postgres, lines, "pg.log")
    assert records.height == 1
    assert rejects["source_line"].to_list() == [1, 3]
    assert "does not match a PostgreSQL log_line_prefix" in rejects["reason"][1]
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 2, 1)


def test_sqlcommenter_trace_context() -> None:
    line = (
        "2026-11-17 14:32:05.238 UTC [4711] shop@shop LOG:  duration: 190.512 ms  statement: "
        "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'sku-789' /*route='%2Freserve',"
        "traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-c4e1a2b3d4e5f607-01'*/"
    )
    records, _, _ = run_parser(postgres, [line], "pg.log")
    [row] = rows(records)
    assert (row["trace_id"], row["span_id"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "c4e1a2b3d4e5f607")
    assert dict(row["comment_tags"])["route"] == "/reserve"
    assert row["fingerprint"] == "update inventory set reserved = reserved + ? where sku = ?"
    assert len(row["fingerprint_id"]) == 16


# --- syslog and Heroku logplex ------------------------------------------------------------------------------

SYSLOG = [
    "Feb 11 13:15:39 db1 postgres[10808]: [3-1] db=,user=,app=,client= LOG:  ending log output to stderr",
    "Feb 11 13:15:39 db1 postgres[10808]: [3-2] db=,user=,app=,client= "
    'HINT:  Future log output will go to "syslog".',
    "Feb 11 13:15:40 db1 postgres[10819]: [7-1] db=shop,user=app,app=psql,client=[local] "
    "LOG:  duration: 13.997 ms  statement: SELECT d.datname,",
    "Feb 11 13:15:40 db1 postgres[10822]: [7-1] db=shop,user=bob,app=psql,client=10.0.4.21 "
    "LOG:  duration: 2.000 ms  statement: SELECT 2",
    "Feb 11 13:15:40 db1 postgres[10819]: [7-2] #011       d.datctype",
    "Feb 11 13:15:41 db1 systemd[1]: Started PostgreSQL RDBMS.",
    "Feb 11 13:15:40 db1 postgres[10819]: [7-3] #011FROM pg_catalog.pg_database d",
    "Feb 11 13:15:41 db1 postgres[10822]: [8-1] db=shop,user=bob,app=psql,client=10.0.4.21 "
    "LOG:  disconnection",
]  # fmt: skip


def test_syslog_continuations_tabs_and_interleaved_pids() -> None:
    records, rejects, result = run_parser(postgres, SYSLOG, "syslog", year=2019, timezone="Europe/Paris")
    assert rejects.is_empty()
    got = [(r["statement"], r["db_user"], r["db"], r["client_host"], r["source_line"]) for r in rows(records)]
    assert got == [
        ("SELECT d.datname,\n       d.datctype\nFROM pg_catalog.pg_database d", "app", "shop", "[local]", 3),
        ("SELECT 2", "bob", "shop", "10.0.4.21", 4),
    ]
    assert records["end_ts"][0] == dt.datetime(2019, 2, 11, 12, 15, 40, tzinfo=UTC)  # CET, from the context
    assert attrs(rows(records)[0])["pid"] == "10819"
    assert attrs(rows(records)[0])["application_name"] == "psql"
    # 3 + 1 record lines; the systemd line and the 3 other PostgreSQL lines are skipped
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (4, 0, 4)
    assert (result.tz_assumed, result.notes["year_assumed"]) == (2, 0)


def test_syslog_year_fallback_and_december_rollover() -> None:
    lines = [
        "Dec 31 23:59:59 db1 postgres[1]: [1-1] LOG:  duration: 1.000 ms  statement: SELECT 1",
        "Jan  1 00:00:01 db1 postgres[1]: [2-1] LOG:  duration: 1.000 ms  statement: SELECT 2",
        "Jan  1 00:00:02 db1 postgres[1]: [3-1] 2026-01-01 00:00:02.500 UTC [1] LOG:  duration: 1.000 ms"
        "  statement: SELECT 3",
    ]
    records, _, result = run_parser(postgres, lines, "syslog", year=2025)
    assert records["end_ts"].to_list() == [
        dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC),
        dt.datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC),
        dt.datetime(2026, 1, 1, 0, 0, 2, 500000, tzinfo=UTC),  # the log_line_prefix's own time wins
    ]
    assert (result.tz_assumed, result.notes["year_assumed"]) == (2, 0)
    records, _, result = run_parser(postgres, lines, "syslog")  # no year given: a fixed one, never the clock
    assert [t.year for t in records["end_ts"].to_list()] == [
        postgres.FALLBACK_YEAR,
        postgres.FALLBACK_YEAR + 1,
        2026,
    ]
    assert result.notes["year_assumed"] == 2


def test_syslog_orphan_continuation_is_rejected_with_reason() -> None:
    lines = [
        "Feb 11 13:15:40 db1 postgres[10819]: [7-2] #011FROM t",
        "Feb 11 13:15:40 db1 postgres[10819]: [8-1] LOG:  duration: 1.000 ms  statement: SELECT 1",
    ]
    records, rejects, result = run_parser(postgres, lines, "syslog", year=2019)
    assert records.height == 1
    assert rejects["source_line"].to_list() == [1]
    assert "[N-1]" in rejects["reason"][0]
    assert (result.record_lines, result.reject_lines) == (1, 1)


def test_syslog_record_start_never_cuts_inside_an_interleaved_message() -> None:
    mask = postgres.record_start(pl.Series(SYSLOG)).to_list()
    # line 4 (pid 10822) and the systemd line fall between 10819's [7-1] and its [7-3]: not cut points
    assert mask == [True, False, True, False, False, False, False, True]


LOGPLEX = [
    "2019-03-14T00:23:00+00:00 app[postgres.4821]: [GREEN] [19-1]  sql_error_code = 00000 LOG:  process 4821 "
    "acquired ShareLock on transaction 259635221 after 5634.256 ms",
    "2019-03-14T00:23:00+00:00 app[postgres.4821]: [GREEN] [19-2]  sql_error_code = 00000 CONTEXT:  while "
    'locking tuple (1382166,75) in relation "t"',
    "2019-03-14T00:23:00+00:00 app[postgres.4821]: [GREEN] [20-1]  sql_error_code = 00000 LOG:  duration: "
    "6679.293 ms  statement: UPDATE t SET x = 1",
    "2021-09-07T04:01:27+02:00 d.af28b93f app[postgres.5925] [AQUA] [921320-1]  sql_error_code = 00000 LOG:  "
    'duration: 85756.273 ms  execute <unnamed>: UPDATE "checkers" SET n =',
    "2021-09-07T04:01:27+02:00 d.af28b93f app[postgres.5925] [AQUA] [921320-2]         (",
    "2021-09-07T04:01:27+02:00 d.af28b93f app[postgres.5925] [AQUA] [921320-3] "
    "\tselect COUNT(id) from missions)",
]


def test_logplex_continuations_pid_and_lock_wait() -> None:
    records, rejects, result = run_parser(postgres, LOGPLEX, "logplex")
    assert rejects.is_empty()
    first, second = rows(records)
    assert (first["statement"], first["lock_ms"], attrs(first)["pid"]) == (
        "UPDATE t SET x = 1",
        5634.256,
        "4821",
    )
    assert first["end_ts"] == dt.datetime(2019, 3, 14, 0, 23, tzinfo=UTC)
    assert second["statement"] == 'UPDATE "checkers" SET n =\n        (\nselect COUNT(id) from missions)'
    assert second["end_ts"] == dt.datetime(2021, 9, 7, 2, 1, 27, tzinfo=UTC)
    assert attrs(second)["query_step"] == "execute"
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (4, 0, 2)
    assert (result.tz_assumed, result.notes["year_assumed"]) == (0, 0)


@pytest.mark.parametrize("head", [SYSLOG, LOGPLEX], ids=["syslog", "logplex"])
def test_sniff_syslog_and_logplex_beat_the_text_fallback(head: list[str]) -> None:
    assert postgres.sniff(head) >= text.sniff(head) + 0.1


def test_sniff_is_zero_on_other_formats_examples() -> None:
    for parser in REGISTRY.values():
        if parser.name != postgres.name:
            assert postgres.sniff(parser.example.split("\n")) == 0.0, parser.name


# --- csvlog -------------------------------------------------------------------------------------------------

CSV = [
    '2021-01-04 00:18:04.650 UTC,"postgres","shop",54,"172.24.0.1:42608",5ff25ea4.36,9,"SELECT",'
    '2021-01-04 00:17:40 UTC,3/0,0,LOG,00000,"duration: 148.472 ms  execute S_1: SELECT ""name""',
    'FROM t WHERE a = $1","parameters: $1 = \'x\'",,,,,,,,"psql","client backend",,-123',
    '2021-01-04 00:18:05.000 UTC,"postgres","shop",54,"172.24.0.1:42608",5ff25ea4.36,10,"idle",'
    '2021-01-04 00:17:40 UTC,3/0,0,ERROR,42P01,"relation ""x"" does not exist",,,,,,"select * from x",15,,'
    '"psql"',
]


def test_csvlog_quoted_newlines_detail_parameters_and_26_columns() -> None:
    records, rejects, result = run_parser(postgres_csv, CSV, "pg.csv")
    [row] = rows(records)
    assert rejects.is_empty()
    assert row["statement"] == 'SELECT "name"\nFROM t WHERE a = $1'
    assert (row["db_user"], row["db"], row["client_host"]) == ("postgres", "shop", "172.24.0.1")
    assert row["end_ts"] == dt.datetime(2021, 1, 4, 0, 18, 4, 650000, tzinfo=UTC)
    a = attrs(row)
    assert (a["parameters"], a["query_id"], a["session_id"], a["statement_name"]) == (
        "$1 = 'x'",
        "-123",
        "5ff25ea4.36",
        "S_1",
    )
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (2, 0, 1)


# --- jsonlog ------------------------------------------------------------------------------------------------

JSONLOG = [
    json.dumps({"timestamp": "2026-11-17 14:32:05.238 CET", "user": "shop", "dbname": "shop", "pid": 4711,
                "remote_host": "10.0.4.21", "session_id": "6383b339.257", "error_severity": "LOG",
                "message": "duration: 190.512 ms  statement: SELECT 1", "application_name": "api",
                "query_id": 42}),
    json.dumps({"level": "info", "ts": 1669575482.1, "logger": "postgres", "msg": "record",
                "record": {"log_time": "2022-11-27 18:58:02.004 UTC", "user_name": "postgres",
                           "database_name": "app", "process_id": "599", "connection_from": "[local]",
                           "session_id": "6383b339.257", "error_severity": "LOG",
                           "message": "duration: 0.097 ms  statement: SELECT 2"}}),
    json.dumps({"textPayload": "[24667]: [2-1] db=app,user=bob LOG:  duration: 5.000 ms  statement: SELECT 3",
                "timestamp": "2020-05-02T13:00:20.382318Z", "severity": "INFO"}),
    json.dumps({"level": "info", "ts": 1669575482.1, "logger": "setup", "msg": "starting"}),
    '{"truncated": ',
]  # fmt: skip


def test_jsonlog_cnpg_and_cloudsql_shapes() -> None:
    records, rejects, result = run_parser(postgres_json, JSONLOG, "pg.json")
    got = [(r["statement"], r["db_user"], r["db"], r["end_ts"]) for r in rows(records)]
    assert got == [
        ("SELECT 1", "shop", "shop", dt.datetime(2026, 11, 17, 13, 32, 5, 238000, tzinfo=UTC)),
        ("SELECT 2", "postgres", "app", dt.datetime(2022, 11, 27, 18, 58, 2, 4000, tzinfo=UTC)),
        ("SELECT 3", "bob", "app", dt.datetime(2020, 5, 2, 13, 0, 20, 382318, tzinfo=UTC)),
    ]
    assert attrs(rows(records)[0])["query_id"] == "42"
    assert attrs(rows(records)[2])["pid"] == "24667"
    assert rejects["source_line"].to_list() == [5]
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (3, 1, 1)


def test_jsonlog_record_without_a_message_is_rejected_as_csvlog_is() -> None:
    # PostgreSQL always writes a message; a record without one is damaged, not a line to skip
    line = json.loads(JSONLOG[0])
    line["message"] = None
    _, rejects, result = run_parser(postgres_json, [JSONLOG[0], json.dumps(line)], "pg.json")
    assert rejects.select("source_line", "reason").rows() == [(2, "PostgreSQL JSON record without a message")]
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (1, 1, 0)


# --- sniffing -----------------------------------------------------------------------------------------------

STDERR = [
    "2017-07-31 13:36:43.557 CEST [4983] postgres@postgres LOG:  duration: 37.118 ms  statement: SELECT 1",
    '2017-07-31 13:39:16.249 CEST [5407] postgres@users FATAL:  database "users" does not exist',
]
MYSQL = [
    "# Time: 2026-11-17T14:32:05.238114Z",
    "# User@Host: a[a] @  [10.0.4.21]  Id:  4711",
    "# Query_time: 0.190512  Lock_time: 0.189873 Rows_sent: 0  Rows_examined: 1",
    "SELECT 1;",
]
APP_JSON = ['{"ts":"2026-11-17T14:32:05Z","level":"info","msg":"GET /orders 200","trace_id":"abc"}']
CANDIDATES: list[Parser] = [postgres, postgres_csv, postgres_json, mysql_slow]


@pytest.mark.parametrize(
    ("head", "winner"),
    [(STDERR, postgres), (CSV, postgres_csv), (JSONLOG[:2], postgres_json), (MYSQL, mysql_slow)],
    ids=["stderr", "csv", "json", "mysql"],
)
def test_sniff_picks_its_own_format(head: list[str], winner: Parser) -> None:
    scores = {p.name: p.sniff(head) for p in CANDIDATES}
    assert max(scores, key=lambda k: scores[k]) == winner.name
    assert sorted(scores.values())[-2] < scores[winner.name] - 0.2, scores


def test_sniff_ignores_app_json_logs() -> None:
    assert [p.sniff(APP_JSON) for p in (postgres, postgres_csv, postgres_json)] == [0.0, 0.0, 0.0]


# --- corpora ------------------------------------------------------------------------------------------------


@needs_corpus
@pytest.mark.parametrize(
    ("file", "parser"),
    [("postgresql-query-steps-slowlog.log", postgres), ("postgresql-11-duration.csv.log", postgres_csv)],
)
def test_filebeat_expected(file: str, parser: Parser) -> None:
    expected = [
        e for e in json.loads((FILEBEAT / f"{file}-expected.json").read_text()) if "event.duration" in e
    ]
    records, rejects, _ = run_parser(parser, read_lines(FILEBEAT / file), file)
    assert rejects.is_empty()
    assert records.height == len(expected)
    for row, exp in zip(rows(records), expected, strict=True):
        assert row["duration_ms"] * 1e6 == pytest.approx(exp["event.duration"])
        assert row["db_user"] == exp["user.name"]
        assert row["db"] == exp["postgresql.log.database"]
        assert row["end_ts"] == dt.datetime.fromisoformat(exp["@timestamp"])
        if "postgresql.log.query" in exp:
            assert row["statement"] == exp["postgresql.log.query"].rstrip("\n")


_DURATION_LINE = re.compile(r"^[^\t].*LOG: +duration: [0-9.]+ ms")
_CSV_DURATION = re.compile(r',LOG,[0-9A-Z]{5},"duration: [0-9.]+ ms')


@needs_corpus
@pytest.mark.parametrize(
    ("folder", "file", "parser"),
    [
        ("filebeat", "postgresql-12-min-duration-statement.log", postgres),
        ("filebeat", "postgresql-9.6-debian-with-slowlog.log", postgres),
        ("pgbadger", "light.postgres.log.bz2", postgres),
        ("pgbadger", "multiline_param.log", postgres),
        ("pgbadger", "pg-timezones.log", postgres),
        ("pgbadger", "postgresql_param_range.log", postgres),
        ("pgbadger", "queryid.log.gz", postgres),
        ("pgbadger", "rds.log.bz2", postgres),
        ("pgbadger", "stmt_type.log", postgres),
        ("pgbadger", "tempfile_only.log.gz", postgres),
        ("pgbadger", "begin_end.log", postgres),
        ("pgbadger", "pg_rawcsv.log", postgres),
        ("pgbadger", "pg-syslog.1.bz2", postgres),
        ("pgbadger", "pg-syslog.2.gz", postgres),
        ("pgbadger", "logplex.gz", postgres),
        ("pgbadger", "anonymize.log", postgres_csv),
        ("pgbadger", "csv_statement_without_duration.log", postgres_csv),
        ("pgbadger", "weeknumber.log", postgres_csv),
        ("pgbadger", "cnpg.log.gz", postgres_json),
        ("pgbadger", "cloudsql.log.gz", postgres_json),
        ("pgbadger", "pg_vacuums.json.gz", postgres_json),
    ],
)
def test_corpus_counts(folder: str, file: str, parser: Parser) -> None:
    path = (FILEBEAT if folder == "filebeat" else PGBADGER) / file
    lines = read_lines(path)
    if parser is postgres:
        expected = sum(1 for x in lines if _DURATION_LINE.search(x))
    elif parser is postgres_csv:
        expected = sum(1 for x in lines if _CSV_DURATION.search(x))
    else:
        expected = sum(1 for x in lines if '"message":"duration: ' in x or '\\"message\\":\\"duration: ' in x)
    records, rejects, result = run_parser(parser, lines, file)
    assert records.height == expected
    assert rejects.is_empty()
    assert records["duration_ms"].null_count() == 0
    assert records["ts"].null_count() == 0
    assert (records["ts"] <= records["end_ts"]).all()
    assert result.record_lines + result.reject_lines + result.skipped_lines == len(lines)


@needs_corpus
def test_corpus_details() -> None:
    records, _, _ = run_parser(postgres, read_lines(PGBADGER / "rds.log.bz2"), "rds.log")
    first_remote = records.filter(pl.col("client_host").is_not_null()).row(0, named=True)
    assert (first_remote["client_host"], first_remote["db_user"], first_remote["db"]) == (
        "192.168.1.201",
        "gilles",
        "pgbench",
    )
    records, _, _ = run_parser(postgres, read_lines(PGBADGER / "multiline_param.log"), "multiline_param.log")
    params = [attrs(r).get("parameters") for r in rows(records)]
    assert "$1 = '1234', $2 = 'njchar\nhello', $3 = 'aaaa'" in params
