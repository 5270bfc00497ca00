"""`tracejoin search`: spans by attributes, e.g. ``item.id = "sku-789" and reservation.success = false``.

The expression is tokenized and parsed here; user text never becomes SQL. Every key and value is a bound
parameter, operators come from a fixed table, and span columns from a fixed list. Grammar::

    expr  := term ("or" term)*
    term  := cond ("and" cond)*
    cond  := KEY OP VALUE
    KEY   := a span column (service, name, kind, status, …) or any attribute key (span, then resource)
    OP    := = | != | <> | < | <= | > | >= | ~ (contains, case-insensitive)
    VALUE := "string" | 'string' | number | true | false | bare-word

A number compares numerically (attributes are strings: those that do not parse as numbers do not match);
``true``/``false`` compare the attribute's text case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from pipeline.errors import ConfigError

COLUMNS = frozenset(
    {
        "service",
        "name",
        "kind",
        "status",
        "status_message",
        "trace_id",
        "span_id",
        "parent_span_id",
        "duration_ms",
        "self_ms",
        "http_status",
        "db_system",
        "db_statement",
    }
)
OPERATORS = {"=": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "~": "~"}
_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op><=|>=|!=|<>|=|<|>|~)"""
    r"""|(?P<word>[^\s=<>!~"']+))"""
)
EXAMPLE = 'item.id = "sku-789" and reservation.success = false'


@dataclass(frozen=True)
class Token:
    kind: str  # str | op | word
    text: str


def tokenize(expr: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None or m.end() == pos:
            raise _bad(expr, f"cannot read {expr[pos:].strip()[:20]!r}")
        kind = m.lastgroup or "word"
        text = m.group(kind)
        if kind == "str":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(Token(kind, text))
        pos = m.end()
    return tokens


def _bad(expr: str, problem: str) -> ConfigError:
    return ConfigError(
        f"search expression {expr!r}: {problem}",
        f"write conditions as key OP value joined by and/or, e.g. {EXAMPLE}",
    )


def _value(token: Token) -> tuple[str, Any]:
    """(type, value): a quoted string stays a string; bare words may be numbers or booleans."""
    if token.kind == "str":
        return "str", token.text
    low = token.text.lower()
    if low in ("true", "false"):
        return "bool", low
    try:
        return "num", float(token.text)
    except ValueError:
        return "str", token.text


def compile_search(expr: str) -> tuple[str, dict[str, Any]]:
    """The WHERE clause and its parameters for ``expr``."""
    tokens = tokenize(expr)
    if not tokens:
        raise _bad(expr, "it is empty")
    params: dict[str, Any] = {}
    ors: list[str] = []
    ands: list[str] = []
    i = 0
    while True:
        if i + 3 > len(tokens):
            raise _bad(expr, "a condition needs a key, an operator and a value")
        key, op, val = tokens[i : i + 3]
        if key.kind != "word" or op.kind != "op" or val.kind == "op":
            raise _bad(expr, f"expected key OP value near {key.text!r}")
        ands.append(_condition(key.text, OPERATORS[op.text], _value(val), params))
        i += 3
        if i == len(tokens):
            break
        joiner = tokens[i].text.lower()
        if tokens[i].kind != "word" or joiner not in ("and", "or"):
            raise _bad(expr, f"expected 'and' or 'or', found {tokens[i].text!r}")
        if joiner == "or":
            ors.append("(" + " AND ".join(ands) + ")")
            ands = []
        i += 1
    ors.append("(" + " AND ".join(ands) + ")")
    return " OR ".join(ors), params


def _condition(key: str, op: str, value: tuple[str, Any], params: dict[str, Any]) -> str:
    n = sum(1 for name in params if name.startswith("v"))  # conditions so far
    vname = f"v{n}"
    if key in COLUMNS:
        target = f"CAST({key} AS VARCHAR)"  # a name from COLUMNS, never user text
    else:
        kname = f"k{n}"
        params[kname] = key
        target = f"coalesce(attributes[${kname}], resource_attributes[${kname}])"
    kind, params[vname] = value
    if op == "~":
        params[vname] = str(params[vname]) if kind != "num" else _number_text(params[vname])
        return f"contains(lower({target}), lower(${vname}))"
    if kind == "num":
        return f"TRY_CAST({target} AS DOUBLE) {op} ${vname}"
    if kind == "bool":
        return f"lower({target}) {op} ${vname}"
    return f"{target} {op} ${vname}"


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def search(
    con: duckdb.DuckDBPyConnection,
    expr: str,
    since: Any = None,
    until: Any = None,
    service: str | None = None,
    limit: int = 50,
) -> pa.Table:
    """Spans matching ``expr`` (and the time and service filters), in start order, at most ``limit``."""
    where, params = compile_search(expr)
    params |= {"since": since, "until": until, "service": service, "limit": limit}
    sql = f"""
        SELECT start_ts, trace_id, span_id, service, name, kind, round(duration_ms, 1) AS duration_ms,
               status, coalesce(status_message, '') AS status_message
        FROM spans
        WHERE ({where})
          AND ($since IS NULL OR start_ts >= $since) AND ($until IS NULL OR start_ts < $until)
          AND ($service IS NULL OR service = $service)
        ORDER BY start_ts, trace_id, span_id
        LIMIT $limit
    """
    return con.sql(sql, params=params).to_arrow_table()
