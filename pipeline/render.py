"""Render Arrow tables for the terminal (fixed-width text), as JSON lines or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, Literal

import pyarrow as pa

OutputFormat = Literal["table", "json", "csv"]
MAX_CELL = 72


def cell(value: Any) -> str:
    """One value as text: UTC times with milliseconds, floats trimmed, lists joined."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC) if value.tzinfo else value
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    if isinstance(value, list):
        return " | ".join(cell(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def table_text(table: pa.Table, max_cell: int = MAX_CELL) -> str:
    """Fixed-width text table; long cells are cut with '…'."""
    names = table.column_names
    rows = [[cell(v) for v in row.values()] for row in table.to_pylist()]
    rows = [[c if len(c) <= max_cell else c[: max_cell - 1] + "…" for c in row] for row in rows]
    rows = [[c.replace("\n", " ") for c in row] for row in rows]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def render(table: pa.Table, fmt: OutputFormat) -> str:
    if fmt == "json":
        return "\n".join(json.dumps(_jsonable(r), sort_keys=False) for r in table.to_pylist())
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow([cell(v) for v in row.values()])
        return buf.getvalue().rstrip("\n")
    return table_text(table)
