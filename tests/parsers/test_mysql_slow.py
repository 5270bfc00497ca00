"""MySQL slow query log parser: the sample's MySQL 8 entries inline, then real logs from the corpus."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from parsers import mysql_slow, schema, sqltext
from parsers.base import ParseContext, ParseResult

UTC = dt.UTC
BANNER = [
    "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:",
    "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock",
    "Time                 Id Command    Argument",
]
# The example entry of sample_logs/README.md (MySQL 8.0, log_slow_extra=ON).
QUERY_TIME_LINE = (
    "# Query_time: 0.190512  Lock_time: 0.189873 Rows_sent: 0  Rows_examined: 1 Thread_id: 4711 Errno: 1213 "
    "Killed: 0 Bytes_received: 142 Bytes_sent: 98 Read_first: 0 Read_last: 0 Read_key: 1 Read_next: 0 "
    "Read_prev: 0 Read_rnd: 0 Read_rnd_next: 0 Sort_merge_passes: 0 Sort_range_count: 0 Sort_rows: 0 "
    "Sort_scan_count: 0 Created_tmp_disk_tables: 0 Created_tmp_tables: 0 Start: 2026-11-17T14:32:05.047602Z "
    "End: 2026-11-17T14:32:05.238114Z"
)
UPDATE = "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'sku-789' AND reserved + 1 <= on_hand"
TRACE_COMMENT = (
    "/*db_driver='go-sql-driver%2Fmysql',route='%2Finventory%2Freserve',"
    "traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-c4e1a2b3d4e5f607-01'*/"
)
SAMPLE_ENTRY = [
    "# Time: 2026-11-17T14:32:05.238114Z",
    "# User@Host: inventory[inventory] @  [10.0.4.21]  Id:  4711",
    QUERY_TIME_LINE,
    "use inventory;",
    "SET timestamp=1795444325;",
    f"{UPDATE} {TRACE_COMMENT};",
]


def parse(lines: list[str], **ctx: Any) -> ParseResult:
    result = mysql_slow.parse(pl.Series(lines, dtype=pl.String), ParseContext(source_file="slow.log", **ctx))
    assert result.record_lines + result.reject_lines + result.skipped_lines == len(lines)
    assert result.records.schema == schema.SLOW_QUERIES
    assert result.rejects.schema == schema.REJECTS
    return result


def rows(result: ParseResult) -> list[dict[str, Any]]:
    """Records as dicts, map columns as dicts."""
    out = result.records.to_pylist()
    for row in out:
        for col in ("attributes", "comment_tags"):
            row[col] = None if row[col] is None else dict(row[col])
    return out


def rejects(result: ParseResult) -> list[tuple[int, str]]:
    return [(r["source_line"], r["reason"]) for r in result.rejects.to_pylist()]


def test_sample_entry_with_banner() -> None:
    result = parse([*BANNER, *SAMPLE_ENTRY])
    assert (result.record_lines, result.reject_lines, result.skipped_lines, result.tz_assumed) == (6, 0, 3, 0)
    [row] = rows(result)
    assert row["ts"] == dt.datetime(2026, 11, 17, 14, 32, 5, 47602, tzinfo=UTC)  # Start:
    assert row["end_ts"] == dt.datetime(2026, 11, 17, 14, 32, 5, 238114, tzinfo=UTC)  # End:
    assert row["duration_ms"] == pytest.approx(190.512)
    assert row["lock_ms"] == pytest.approx(189.873)
    assert (row["rows_sent"], row["rows_examined"]) == (0, 1)
    assert (row["engine"], row["db"], row["db_user"], row["client_host"], row["server"]) == (
        "mysql",
        "inventory",
        "inventory",
        "10.0.4.21",
        None,
    )
    assert row["statement"] == f"{UPDATE} {TRACE_COMMENT}"
    assert row["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert row["span_id"] == "c4e1a2b3d4e5f607"
    assert row["comment_tags"] == {
        "db_driver": "go-sql-driver/mysql",
        "route": "/inventory/reserve",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-c4e1a2b3d4e5f607-01",
    }
    assert (
        row["fingerprint"]
        == "update inventory set reserved = reserved + ? where sku = ? and reserved + ? <= on_hand"
    )
    assert len(row["fingerprint_id"]) == 16
    assert row["attributes"]["Id"] == "4711"
    assert row["attributes"]["Thread_id"] == "4711"
    assert row["attributes"]["Errno"] == "1213"
    assert "Query_time" not in row["attributes"] and "Start" not in row["attributes"]
    assert (row["format"], row["source_file"], row["source_line"]) == ("mysql-slow", "slow.log", 4)


def test_statement_with_and_without_trace_comment_share_a_fingerprint() -> None:
    untraced = [*SAMPLE_ENTRY[:-1], f"{UPDATE.replace('sku-789', 'sku-1')};"]
    result = parse([*SAMPLE_ENTRY, *untraced], first_line=101)
    traced, plain = rows(result)
    assert traced["fingerprint"] == plain["fingerprint"]
    assert traced["fingerprint_id"] == plain["fingerprint_id"]
    assert (plain["trace_id"], plain["span_id"], plain["comment_tags"]) == (None, None, None)
    assert [traced["source_line"], plain["source_line"]] == [101, 107]


OLD_LOG = [
    "/usr/sbin/mysqld, Version: 5.0.38-log (Ubuntu 7.04 distribution). started with:",
    "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock",
    "Time                 Id Command    Argument",
    "# Time: 071015  9:03:12",
    "# User@Host: root[root] @ localhost []",
    "# Query_time: 2  Lock_time: 0  Rows_sent: 1  Rows_examined: 0",
    "use test;",
    "select sleep(2) from n;",
    "# User@Host: app[app] @ web1 [10.1.1.5]",  # no # Time: it did not change; no use: db did not change
    "# Query_time: 0.5  Lock_time: 0.000100  Rows_sent: 3  Rows_examined: 300",
    "SELECT *",
    "  FROM t1",
    " WHERE col_2 IN (1, 2, 3);",
    "/usr/sbin/mysqld, Version: 5.0.38-log (Ubuntu 7.04 distribution). started with:",  # a restart mid-file
    "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock",
    "Time                 Id Command    Argument",
    "# Time: 071015 10:00:00",
    "# User@Host: root[root] @ localhost []",
    "# Thread_id: 7  Schema: sakila  Last_errno: 0",
    "# Query_time: 0.000002  Lock_time: 0  Rows_sent: 0  Rows_examined: 0",
    "# administrator command: Quit;",
]


def test_old_time_format_zone_and_forward_fill() -> None:
    result = parse(OLD_LOG, timezone="Europe/Berlin")
    assert (result.record_lines, result.reject_lines, result.skipped_lines) == (15, 0, 6)
    first, second, quit_ = rows(result)
    # 09:03:12 Berlin (+01:00) is 08:03:12 UTC; # Time is the end, Query_time 2 s before it the start
    assert first["end_ts"] == dt.datetime(2007, 10, 15, 7, 3, 12, tzinfo=UTC)  # CEST in October: +02:00
    assert first["ts"] == dt.datetime(2007, 10, 15, 7, 3, 10, tzinfo=UTC)
    assert (first["db"], first["db_user"], first["client_host"]) == ("test", "root", "localhost")
    # inherits # Time and db from the entry before it
    assert second["end_ts"] == dt.datetime(2007, 10, 15, 7, 3, 12, tzinfo=UTC)
    assert second["ts"] == dt.datetime(2007, 10, 15, 7, 3, 11, 500000, tzinfo=UTC)
    assert (second["db"], second["db_user"], second["client_host"]) == ("test", "app", "10.1.1.5")
    assert second["attributes"] == {"Host": "web1"}
    assert second["statement"] == "SELECT *\n  FROM t1\n WHERE col_2 IN (1, 2, 3)"
    assert second["fingerprint"] == "select * from t1 where col_2 in(?+)"
    assert second["source_line"] == 9
    assert quit_["statement"] == "administrator command: Quit"
    assert quit_["fingerprint"] == "administrator command: Quit"
    assert quit_["db"] == "sakila"  # from Schema:
    assert quit_["attributes"] == {
        "Host": "localhost",
        "Thread_id": "7",
        "Schema": "sakila",
        "Last_errno": "0",
    }
    assert result.tz_assumed == 3


def test_set_timestamp_is_the_start_when_there_is_no_time_line() -> None:
    lines = [
        "# User@Host: [SQL_SLAVE] @  []",
        "# Thread_id: 10",
        "# Query_time: 0.726052  Lock_time: 0.000091  Rows_sent: 0  Rows_examined: 62951",
        "# QC_Hit: No  Full_scan: Yes  Full_join: No  Tmp_table: No  Tmp_table_on_disk: No",
        "# No InnoDB statistics available for this query",
        "use db1;",
        "SET insert_id=34484549,timestamp=1197996507;",
        "SET autocommit=0;",
    ]
    [row] = rows(parse(lines))
    assert row["ts"] == dt.datetime(2007, 12, 18, 16, 48, 27, tzinfo=UTC)
    assert row["end_ts"] == dt.datetime(2007, 12, 18, 16, 48, 27, 726052, tzinfo=UTC)
    assert (row["db"], row["db_user"], row["client_host"]) == ("db1", "SQL_SLAVE", None)
    assert row["statement"] == "SET autocommit=0"  # a SET that is not metadata is the statement
    assert row["attributes"]["Full_scan"] == "Yes"


def test_rejects_carry_reason_and_raw_text() -> None:
    lines = [
        "SELECT 'stray';",  # before any header
        "",
        "# Time: 2026-11-17T14:32:05.238114Z",
        "# User@Host: app[app] @  [10.0.4.21]  Id:  1",
        "SELECT 1;",  # no Query_time
        "# Time: margdl 11:48:27",
        "# User@Host: app[app] @  [10.0.4.21]  Id:  1",
        "# Query_time: 0.1  Lock_time: 0.0 Rows_sent: 0  Rows_examined: 0",
        "SELECT 2;",  # unreadable time, no SET timestamp
        "# Time: 2026-11-17T14:32:06Z",
        "# User@Host: truncated",
        "# Query_time: 0.1  Lock_time: 0.0 Rows_sent: 0  Rows_examined: 0",
        "SELECT 3;",
        *SAMPLE_ENTRY,
    ]
    result = parse(lines)
    assert (result.records.num_rows, result.record_lines, result.reject_lines, result.skipped_lines) == (
        1,
        6,
        12,
        1,
    )
    assert rejects(result) == [
        (1, "line outside any slow-log entry (before the first '# Time:'/'# User@Host:' header)"),
        (3, "slow-log entry without a '# Query_time:' line"),
        (6, "unreadable '# Time: margdl 11:48:27' and no SET timestamp= or Start:"),
        (10, "unreadable '# User@Host:' line"),
    ]
    assert result.rejects.column("raw").to_pylist()[1] == "\n".join(lines[2:5])


def test_crlf_line_ends_give_the_same_record() -> None:
    assert rows(parse([f"{line}\r" for line in SAMPLE_ENTRY])) == rows(parse(SAMPLE_ENTRY))


def test_empty_chunk() -> None:
    result = parse([])
    assert (result.records.num_rows, result.rejects.num_rows) == (0, 0)


def test_record_start_flags_the_first_header_line_of_each_entry() -> None:
    lines = pl.Series([*BANNER, *SAMPLE_ENTRY, *OLD_LOG[3:13]])
    starts = mysql_slow.record_start(lines).arg_true().to_list()
    assert starts == [3, 9, 14]  # `# Time:`, `# Time:`, the `# User@Host:` not after a `# Time:`


def test_sniff() -> None:
    assert mysql_slow.sniff(SAMPLE_ENTRY) > 0.9
    assert mysql_slow.sniff(BANNER) == 0.5  # the general query log starts with the same banner
    assert mysql_slow.sniff(['{"ts": 1}', "level=info msg=x"]) == 0.0
    assert mysql_slow.example.startswith("# Query_time:")


# --- corpus: real slow logs of other projects ------------------------------------------------------------


def read_lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def parse_file(path: Path, **ctx: Any) -> ParseResult:
    return parse(read_lines(path), **ctx)


FILEBEAT = "beats/filebeat/module/mysql/slowlog/test"


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["mysql-5.7.22.log", "mysql-ubuntu-8.0.15.log"])
def test_filebeat_expected_values(corpora: Path, name: str) -> None:
    """Filebeat's parsed values. Its @timestamp is `SET timestamp=`: the statement's start, whole seconds."""
    log = corpora / FILEBEAT / name
    expected = json.loads((corpora / FILEBEAT / f"{name}-expected.json").read_text())
    result = parse_file(log)
    got = rows(result)
    assert len(got) == len(expected) and result.rejects.num_rows == 0
    for row, exp in zip(got, expected, strict=True):
        assert round(row["duration_ms"] * 1e6) == exp["event.duration"]
        assert row["lock_ms"] / 1000 == pytest.approx(exp["mysql.slowlog.lock_time.sec"])
        assert (row["rows_sent"], row["rows_examined"]) == (
            exp["mysql.slowlog.rows_sent"],
            exp["mysql.slowlog.rows_examined"],
        )
        assert row["db_user"] == exp["user.name"]
        assert row["client_host"] == exp.get("source.ip", exp.get("source.domain"))
        assert row["statement"] == exp["mysql.slowlog.query"].removesuffix(";")
        assert row["db"] == exp.get("mysql.slowlog.schema")
        set_ts = dt.datetime.fromisoformat(exp["@timestamp"])
        assert row["ts"] - dt.timedelta(seconds=1) < set_ts <= row["end_ts"]
        if "event.start" in exp:
            assert row["ts"] == dt.datetime.fromisoformat(exp["event.start"])
            assert row["end_ts"] == dt.datetime.fromisoformat(exp["event.end"])
    if name.startswith(
        "mysql-ubuntu-8"
    ):  # a real MySQL 8 log: # Time − Query_time is the SET timestamp second
        assert [r["ts"].replace(microsecond=0) for r in got] == [
            dt.datetime.fromisoformat(e["@timestamp"]) for e in expected
        ]


@pytest.mark.corpus
def test_mariadb_and_percona_header_lines(corpora: Path) -> None:
    [maria] = rows(parse_file(corpora / FILEBEAT / "mariadb-10.3.13.log"))
    assert maria["db"] == "employees"
    assert maria["attributes"]["QC_hit"] == "No" and maria["attributes"]["Tmp_table_sizes"] == "4026528"
    percona = rows(parse_file(corpora / FILEBEAT / "percona-ubuntu-8.0.15.log"))
    assert len(percona) == 2
    assert percona[1]["attributes"]["InnoDB_IO_r_ops"] == "5491"
    assert percona[0]["fingerprint"] == percona[1]["fingerprint"]  # one line vs. many lines, same statement


PT = "percona-toolkit/t/lib/samples/slowlogs"


@pytest.mark.corpus
def test_pt_slow001_two_entries_and_use(corpora: Path) -> None:
    got = rows(parse_file(corpora / PT / "slow001.txt"))
    assert [(r["db"], r["statement"], r["fingerprint"]) for r in got] == [
        ("test", "select sleep(2) from n", "select sleep(?) from n"),
        ("sakila", "select sleep(2) from test.n", "select sleep(?) from test.n"),
    ]
    # pt-query-digest 3.2.1 reports these queries as 0xAE9D6BB6AF470B997F7D57ACDD8A346E and
    # 0xA853B50CDEB4866B3A99CC42AEDCCFCD (the MD5 of the fingerprint); the ID is its last 16 hex digits
    assert [r["fingerprint_id"] for r in got] == ["7f7d57acdd8a346e", "3a99cc42aedccfcd"]


@pytest.mark.corpus
def test_pt_windows_banner_and_replication_user(corpora: Path) -> None:
    result = parse_file(corpora / PT / "slow031.txt")  # D:\...\mysqld, TCP Port: 3306, Named Pipe
    assert (result.records.num_rows, result.skipped_lines, result.rejects.num_rows) == (1, 3, 0)
    [slave] = rows(parse_file(corpora / PT / "slow032.txt"))  # `# User@Host: [SQL_SLAVE] @  []`
    assert (slave["db_user"], slave["client_host"]) == ("SQL_SLAVE", None)
    # `[SQL_SLAVE][[SQL_SLAVE]]`, and no time anywhere in the file: still a statement, with a null ts
    result = parse_file(corpora / PT / "slow032-rewritten.txt")
    assert rejects(result) == []
    [untimed] = rows(result)
    assert untimed["ts"] is None and untimed["duration_ms"] is not None and untimed["db_user"] == "SQL_SLAVE"


@pytest.mark.corpus
def test_pt_invalid_date_token_is_rejected_with_its_text(corpora: Path) -> None:
    result = parse_file(corpora / PT / "slow022.txt")
    reasons = [reason for _, reason in rejects(result)]
    assert reasons and all(r.startswith("unreadable '# Time: margdl ") for r in reasons)


@pytest.mark.corpus
def test_pt_wrapped_query_time_keeps_the_log_time(corpora: Path) -> None:
    [row] = rows(parse_file(corpora / PT / "slow017.txt"))  # Query_time: 18446744073708.796870...
    assert row["ts"] == dt.datetime(2008, 11, 16, 15, 7, 11, tzinfo=UTC)


@pytest.mark.corpus
def test_every_pt_sample_parses_and_reconciles(corpora: Path) -> None:
    """Not conformance (that is a later issue): every sample parses and its lines are all accounted for."""
    files = sorted((corpora / PT).iterdir())
    assert len(files) > 50
    total = 0
    for path in files:
        result = parse_file(path)  # parse() asserts the line accounting
        total += result.records.num_rows
        fingerprints = result.records.column("fingerprint").to_pylist()
        assert all(f for f in fingerprints), path.name
    assert total > 100


def test_fingerprint_is_the_shared_one() -> None:
    [row] = rows(parse(SAMPLE_ENTRY))
    again = pl.select(sqltext.fingerprint(pl.lit(UPDATE))).item()
    assert row["fingerprint"] == again


def _percona_entry(i: int) -> list[str]:
    """A Percona Server entry whose header lines vary the way real ones do, now and then."""
    qc = "# QC_Hit: No  Full_scan: Yes  Full_join: No  Tmp_table: No  Tmp_table_on_disk: No"
    odd = {
        3: qc + "  ",  # blanks at the end of the line stay in the last value
        5: qc.replace("Full_scan: Yes", "Full_scan: Yes please"),  # a value with a blank in it
        7: qc.replace("Full_join: No", "Full_join:"),  # a key without a value
        9: qc.replace("  Tmp_table:", " x,Tmp_table:"),  # a key glued to other text
        13: qc.replace("Full_scan: Yes", "Full_scan: Yes:"),  # a value that ends like a key
    }
    return [
        f"# Time: 2026-11-17T14:32:{i:02d}.000000Z",
        f"# User@Host: app[app] @ host{i % 3} [10.0.0.{i}]  Id: {100 + i}",
        "# Thread_id: 7  Schema: shop  Last_errno: 0  Killed: 0",
        f"# Query_time: 0.{i:06d}  Lock_time: 0.000010  Rows_sent: {i}  Rows_examined: {2 * i}",
        f"# Bytes_sent: {i}  Tmp_tables: 0  Tmp_disk_tables: 0  Tmp_table_sizes: 0",
        odd.get(i, qc),
        f"SELECT {i} FROM t;",
    ]


def test_lines_read_by_template_read_as_lines_read_one_entry_at_a_time() -> None:
    """Many lines of one kind are read by position (a template); an entry alone is read token by token or,
    where tokens could differ, by regex. The records must be the same."""
    entries = [_percona_entry(i) for i in range(40)]
    entries[11][3] = "# Query_time: 1  Lock_time:  Rows_sent: 1  Rows_examined: 2"  # a column key, no value
    together = rows(parse([line for e in entries for line in e]))
    alone = [rows(parse(e))[0] for e in entries]
    assert len(together) == 40
    for a, b in zip(together, alone, strict=True):
        assert {k: v for k, v in a.items() if k != "source_line"} == {
            k: v for k, v in b.items() if k != "source_line"
        }
    assert together[3]["attributes"]["Tmp_table_on_disk"] == "No  "
    assert together[5]["attributes"]["Full_scan"] == "Yes please"
    assert together[7]["attributes"]["Full_join"] == ""
    assert together[9]["attributes"]["Tmp_table"] == "No"
    assert (together[11]["lock_ms"], together[11]["rows_sent"]) == (None, 1)  # as the regexes read it
    assert (together[13]["attributes"]["Full_scan"], together[13]["attributes"]["Yes"]) == ("", "")


def _mysql8_entry(i: int) -> list[str]:
    """A MySQL 8 entry (the common shape: user line, then the long Query_time line) whose user line and
    statement lines vary: no Id, no host, `use`/`SET` lines before the statement, statements over lines."""
    user = {
        2: "# User@Host: app[app] @  []",  # neither host nor Id
        4: f"# User@Host: app[app] @ web{i} []  Id: {i}",  # a host name, no IP
        6: "# User@Host: [SQL_SLAVE] @  []  Id: 9",
    }.get(i, f"# User@Host: app[app] @  [10.0.0.{i}]  Id:  {100 + i}")
    sql = {
        1: ["use `shop`;", "SET timestamp=1795444325;", "SELECT 1;"],
        3: ["SET insert_id=5,timestamp=1795444326;", "INSERT INTO t VALUES (5);"],
        5: ["use shop;", "SELECT a,", "  b FROM t", "  WHERE c = 'x';"],
        8: ["SET timestamp=1795444327;", "use shop;"],  # a `use` and nothing else: that is the statement
        10: ["SET timestamp=1795444328;", "SET NAMES utf8;"],  # not metadata: the statement
        12: [f"UPDATE t SET a = 1 /*route='a\\'b',traceparent='00-{'1' * 32}-{'2' * 16}-01'*/;"],
        14: ["SELECT 1 /* not a tag */ /*db='x',traceparent='00-" + "3" * 32 + "-" + "4" * 16 + "-01'*/;"],
    }.get(i, [f"UPDATE t SET a = {i} WHERE id = {i} /*traceparent='00-{i:032x}-{i + 1:016x}-01'*/;"])
    return [
        f"# Time: 2026-11-17T14:32:{i:02d}.000000Z",
        user,
        f"# Query_time: 0.{i:06d}  Lock_time: 0.000010 Rows_sent: {i}  Rows_examined: {2 * i} Thread_id: {i}"
        f" Errno: 0 Killed: 0 Start: 2026-11-17T14:31:{i:02d}.000000Z End: 2026-11-17T14:32:{i:02d}.000000Z",
        *sql,
    ]


def test_common_shape_entries_read_together_as_one_at_a_time() -> None:
    """Entries of the common shape read in bulk (templates, per-entry attribute bags, statement and comment
    columns of many rows) give the records each gives alone."""
    entries = [_mysql8_entry(i) for i in range(40)]
    together = rows(parse([line for e in entries for line in e]))
    alone = [rows(parse(e))[0] for e in entries]
    assert len(together) == 40
    for a, b in zip(together, alone, strict=True):  # (`use db;` carries over to the entries after it)
        assert {k: v for k, v in a.items() if k not in ("source_line", "db")} == {
            k: v for k, v in b.items() if k not in ("source_line", "db")
        }
    assert [r["db"] for r in together[:6]] == [None, "shop", "shop", "shop", "shop", "shop"]
    assert list(together[0]["attributes"]) == ["Id", "Thread_id", "Errno", "Killed"]  # no Host: [] is empty
    assert together[2]["attributes"] == {"Thread_id": "2", "Errno": "0", "Killed": "0"}
    assert (together[4]["attributes"]["Host"], together[4]["client_host"]) == ("web4", "web4")
    assert (together[1]["db"], together[8]["statement"], together[10]["statement"]) == (
        "shop",
        "use shop",
        "SET NAMES utf8",
    )
    assert together[5]["statement"] == "SELECT a,\n  b FROM t\n  WHERE c = 'x'"
    assert together[12]["comment_tags"] == {"route": "a'b", "traceparent": f"00-{'1' * 32}-{'2' * 16}-01"}
    assert (together[14]["trace_id"], together[14]["span_id"]) == ("3" * 32, "4" * 16)
