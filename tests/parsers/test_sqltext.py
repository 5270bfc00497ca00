"""SQL text helpers: comment stripping, sqlcommenter tags, pt-query-digest-style fingerprints, their IDs."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from parsers import sqltext

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-c4e1a2b3d4e5f607-01"
SAMPLE_STATEMENT = (
    "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'sku-789' AND reserved + 1 <= on_hand "
    "/*db_driver='go-sql-driver%2Fmysql',route='%2Finventory%2Freserve',"
    f"traceparent='{TRACEPARENT}'*/"
)


def fp(*queries: str | None, dialect: sqltext.Dialect = "mysql") -> list[str | None]:
    df = pl.DataFrame({"q": list(queries)}, schema={"q": pl.String})
    return df.select(sqltext.fingerprint(pl.col("q"), dialect=dialect))["q"].to_list()


def one(query: str, dialect: sqltext.Dialect = "mysql") -> str | None:
    return fp(query, dialect=dialect)[0]


# Cases from pt-query-digest's fingerprint tests (percona-toolkit QueryRewriter / go-mysql), where our
# output is what pt-query-digest (Perl) prints.
PT_CASES = [
    ("SELECT c FROM t WHERE id=1", "select c from t where id=?"),
    ("SELECT * from foo where a = 5", "select * from foo where a = ?"),
    (" select  * from\nfoo where a = 5", "select * from foo where a = ?"),
    ("select null, 5.001, 5001. from foo", "select ?, ?, ? from foo"),
    ("select 'hello', '\nhello\n', \"hello\", '\\'' from foo", "select ?, ?, ?, ? from foo"),
    ("select '\\\\' from foo", "select ? from foo"),
    (
        "select 0e0, +6e-30, -6.00 from foo where a = 5.5 or b=0.5 or c=.5",
        "select ?, ?, ? from foo where a = ? or b=? or c=?",
    ),
    ("select 0x0, x'123', 0b1010, b'10101' from foo", "select ?, ?, ?, ? from foo"),
    ("SELECT c FROM t WHERE id=0xdeadbeaf", "select c from t where id=?"),
    ("SELECT *    FROM t WHERE 1=1 AND id=1", "select * from t where ?=? and id=?"),
    (
        "select * from foo where a in (5) and b in (5, 8,9 ,9 , 10)",
        "select * from foo where a in(?+) and b in(?+)",
    ),
    (
        "select * from t where (base.nid IN  ('1412', '1410', '1411'))",
        "select * from t where (base.nid in(?+))",
    ),
    ("insert into foo(a, b, c) values(2, 4, 5)", "insert into foo(a, b, c) values(?+)"),
    ("insert into foo(a, b, c) values(2, 4, 5) , (2,4,5)", "insert into foo(a, b, c) values(?+)"),
    ("insert into foo(a, b, c) value(2, 4, 5)", "insert into foo(a, b, c) value(?+)"),
    (
        "insert into foo values (1, '(2)', 'This is a trick: ). More values.', 4)",
        "insert into foo values(?+)",
    ),
    (
        "insert into t values (1) on duplicate key update "
        "query_count=COALESCE(query_count, 0) + VALUES(query_count)",
        "insert into t values(?+) on duplicate key update "
        "query_count=coalesce(query_count, ?) + values(query_count)",
    ),
    (
        "insert into t values (1), (2), (3)\n\n\ton duplicate key update query_count=1",
        "insert into t values(?+) on duplicate key update query_count=?",
    ),
    ("select foo_1 from foo_2_3", "select foo_1 from foo_2_3"),
    ("select 123foo from 123foo", "select 123foo from 123foo"),
    ("SELECT * FROM prices.rt_5min where id=1", "select * from prices.rt_5min where id=?"),
    ("select `col` from `table-1` where `id` = 5", "select `col` from `table-1` where `id` = ?"),
    ("select * from foo limit 5", "select * from foo limit ?"),
    ("select * from foo limit 5, 10", "select * from foo limit ?"),
    ("select * from foo limit 5 offset 10", "select * from foo limit ?"),
    (
        "select * from t where i=1 order by a, b ASC, d DESC, e asc",
        "select * from t where i=? order by a, b, d desc, e",
    ),
    ("select \n-- bar\n foo", "select foo"),
    ("/*/this/is/also/a/comment*/ select * from table\n", "select * from table"),
    ("SELECT * FROM table WHERE field = 'value' /*arbitrary/31*/ ", "select * from table where field = ?"),
    ("SELECT 'a' 'b' 'c' 'd' FROM kamil", "select ? ? ? ? from kamil"),
    ("LOAD DATA INFILE '/tmp/foo.txt' INTO db.tbl", "load data infile ? into db.tbl"),
    ("CALL foo(1, 2, 3)", "call foo"),
    ("use `foo`", "use ?"),
    ("administrator command: Init DB", "administrator command: Init DB"),
    ("SELECT /*!40001 SQL_NO_CACHE */ * FROM `film`", "mysqldump"),
    ("REPLACE INTO `db`.`checksums` /*checksum.pl:12/34*/ SELECT 1", "percona-toolkit"),
]


@pytest.mark.parametrize(("query", "expected"), PT_CASES)
def test_fingerprint_matches_pt_query_digest(query: str, expected: str) -> None:
    assert one(query) == expected


@pytest.mark.parametrize(
    ("literal", "placeholder"),
    [
        (
            "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'sku-789'",
            "UPDATE inventory SET reserved = reserved + ? WHERE sku = ?",
        ),
        ("SELECT * FROM users WHERE id IN (1, 2, 3) LIMIT 10", "select * from users where id in (?) limit ?"),
        ("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", "INSERT INTO t (a, b) VALUES (?, ?)"),
        ("SELECT * FROM t WHERE a = -5 AND b >= -1.5e3", "SELECT * FROM t WHERE a = ? AND b >= ?"),
        ("SELECT * FROM t WHERE a = 5;", "SELECT * FROM t WHERE a = $1"),
        ("SELECT * FROM t WHERE a IS NULL", "SELECT * FROM t WHERE a IS ?"),
    ],
)
def test_statement_with_placeholders_fingerprints_like_the_one_with_literals(
    literal: str, placeholder: str
) -> None:
    assert one(literal) == one(placeholder)


def test_trace_comment_does_not_change_the_fingerprint() -> None:
    plain = "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'sku-789' AND reserved + 1 <= on_hand"
    assert (
        fp(SAMPLE_STATEMENT, plain, plain + ";")
        == ["update inventory set reserved = reserved + ? where sku = ? and reserved + ? <= on_hand"] * 3
    )


def test_digits_inside_identifiers_stay_and_binary_minus_stays() -> None:
    assert one("SELECT t1.col_2, a$1 FROM t1 JOIN t2 ON t2.id = t1.id - 1 WHERE x=1") == (
        "select t1.col_2, a$1 from t1 join t2 on t2.id = t1.id - ? where x=?"
    )


def test_quoted_strings_with_escaped_quotes_and_comment_markers_are_one_literal() -> None:
    assert one(
        "SELECT * FROM t WHERE a = 'it''s -- not /* a comment' AND b = \"say \\\"hi\\\"\" -- real"
    ) == ("select * from t where a = ? and b = ?")


def test_multi_row_values_with_function_calls_keep_the_first_row_shape() -> None:
    assert (
        one("INSERT INTO t (a, b) VALUES (now(), 1), (now(), 2)") == "insert into t (a, b) values (now(), ?)"
    )


def test_postgresql_dialect_keeps_double_quoted_identifiers_and_hash_operators() -> None:
    assert one('SELECT "id" FROM "users" WHERE "n" = $1 AND flags # 2 = 0', dialect="postgresql") == (
        'select "id" from "users" where "n" = ? and flags # ? = ?'
    )
    # MySQL: "..." is a string and # starts a comment
    assert one('SELECT "id" FROM "users" WHERE flags # 2 = 0') == "select ? from ? where flags"


def test_fingerprint_of_null_is_null() -> None:
    assert fp(None, "SELECT 1") == [None, "select ?"]


def test_fingerprint_id_is_the_pt_query_digest_checksum() -> None:
    # pt-query-digest / go-mysql: Id("hello world") == "93CB22BB8F5ACDC3" (last 16 hex digits of the MD5)
    df = pl.DataFrame({"f": ["hello world", "select sleep(?) from n", None, "hello world"]})
    ids = df.select(sqltext.fingerprint_id(pl.col("f")))["f"].to_list()
    assert ids == ["93cb22bb8f5acdc3", "7f7d57acdd8a346e", None, "93cb22bb8f5acdc3"]
    assert ids[1] == hashlib.md5(b"select sleep(?) from n").hexdigest()[16:]


def test_fingerprint_id_of_an_empty_frame() -> None:
    df = pl.DataFrame({"f": []}, schema={"f": pl.String})
    assert df.select(sqltext.fingerprint_id(pl.col("f")))["f"].to_list() == []


def strip(*queries: str, dialect: sqltext.Dialect = "mysql") -> list[str]:
    df = pl.DataFrame({"q": list(queries)})
    return df.select(sqltext.strip_comments(pl.col("q"), dialect=dialect))["q"].to_list()


def test_strip_comments_removes_comments_outside_quotes_only() -> None:
    assert strip(
        "SELECT '/* kept */', `a--b` /* gone */ FROM t -- gone\nWHERE x = '-- kept' # gone",
        "SELECT /*!40001 SQL_NO_CACHE */ 1 /*+ hint */",
        "SELECT a--1 FROM t",
    ) == [
        "SELECT '/* kept */', `a--b`  FROM t \nWHERE x = '-- kept' ",
        "SELECT /*!40001 SQL_NO_CACHE */ 1 ",
        "SELECT a--1 FROM t",
    ]
    assert strip("SELECT a # b", dialect="postgresql") == ["SELECT a # b"]


def tags(*queries: str | None) -> list[dict[str, str] | None]:
    df = pl.DataFrame({"q": list(queries)}, schema={"q": pl.String})
    out = df.select(sqltext.comment_tags(pl.col("q")))["q"].to_list()
    return [None if row is None else {kv["key"]: kv["value"] for kv in row} for row in out]


def test_comment_tags_reads_and_url_decodes_the_sqlcommenter_comment() -> None:
    assert tags(SAMPLE_STATEMENT) == [
        {"db_driver": "go-sql-driver/mysql", "route": "/inventory/reserve", "traceparent": TRACEPARENT}
    ]


def test_comment_tags_escapes_and_utf8_and_the_last_comment_wins() -> None:
    query = "SELECT /* plain */ 1 /*a='x'*/ /*action='it\\'s%20%E2%9C%93',k%3Dey='a%2Cb'*/"
    assert tags(query, "SELECT 1", None, "SELECT '/*a=''b''*/'") == [
        {"action": "it's ✓", "k=ey": "a,b"},
        None,
        None,
        None,
    ]


def test_a_value_with_an_unencoded_equals_sign_is_kept_whole() -> None:
    # the spec URL-encodes "=", but not every client does; with and without escapes in the comment
    assert tags("SELECT 1 /*c='d=e',route='/a?x=1'*/", "SELECT 1 /*c='d=e',q='it\\'s'*/") == [
        {"c": "d=e", "route": "/a?x=1"},
        {"c": "d=e", "q": "it's"},
    ]


def test_comment_tags_works_on_a_sliced_frame() -> None:
    df = pl.DataFrame({"q": ["SELECT 1", SAMPLE_STATEMENT, "SELECT 2 /*route='%2Fa'*/"]}).slice(1, 2)
    out = df.select(sqltext.comment_tags(pl.col("q")))["q"].to_list()
    assert [{kv["key"]: kv["value"] for kv in row} for row in out] == [
        {"db_driver": "go-sql-driver/mysql", "route": "/inventory/reserve", "traceparent": TRACEPARENT},
        {"route": "/a"},
    ]


TRACE = "/*traceparent='00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'*/"


@pytest.mark.parametrize("dialect", ["mysql", "postgresql"])
@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE t SET a = 'x' WHERE id = 1 {TRACE}",
        f"SELECT 'it''s' {TRACE};",
        f"SELECT 'open {TRACE} still open'",  # the comment is inside a string: kept
        f'SELECT "a\'" {TRACE}',
        f"SELECT 'a\\'' {TRACE}",
        f"SELECT 1 /* other */ {TRACE}",
        f"SELECT 1 {TRACE} -- tail",
        f"SELECT 1 {TRACE} FOR UPDATE",
        "SELECT 1 /*k='a*/b'*/",  # the comment ends at the first */ whatever the quotes in it
        f"SELECT `a'b` {TRACE}",
        f"SELECT 1 # note\n{TRACE}",
    ],
)
def test_the_quick_trace_comment_cut_strips_as_the_regex_does(
    statement: str, dialect: sqltext.Dialect
) -> None:
    s = pl.Series([statement, None])
    regex = s.str.replace_all(sqltext._strip_pattern(dialect), "${1}")
    assert sqltext._strip_commented(s, dialect, None).to_list() == regex.to_list()
