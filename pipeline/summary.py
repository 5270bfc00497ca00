"""The run summary: per-file line accounting (it must reconcile) and the rows of each output table."""

from __future__ import annotations

import pyarrow as pa

from pipeline.correlate import CorrelateSummary
from pipeline.ingest import IngestSummary
from pipeline.render import table_text


def files_table(summary: IngestSummary) -> pa.Table:
    rows = []
    for f in summary.files:
        fmt = f.format or "-"
        rows.append(
            {
                "file": f.source_file,
                "format": f"{fmt} (detected)" if f.detected and f.format else fmt,
                "service": f.service or "",
                "lines": f.lines,
                "records": f.records,
                "in_records": f.record_lines,
                "rejects": f.rejects,
                "skipped": f.skipped_lines,
                "zone_assumed": f.tz_assumed,
                "check": "ok" if f.reconciles else "MISMATCH",
                "note": f.note,
            }
        )
    return pa.Table.from_pylist(rows)


def ingest_text(summary: IngestSummary) -> str:
    t = summary.totals()
    lines = [
        table_text(files_table(summary), max_cell=60),
        "",
        f"{len(summary.files)} files, {t['lines']} lines: {t['record_lines']} in {t['records']} records, "
        f"{t['reject_lines']} rejected, {t['skipped_lines']} skipped (blank, banner or unrecognised files)",
    ]
    if t["tz_assumed"]:
        lines.append(f"{t['tz_assumed']} timestamps had no zone: the source's time zone was assumed")
    return "\n".join(lines)


def correlate_text(summary: CorrelateSummary) -> str:
    parts = ", ".join(f"{name} {n}" for name, n in summary.rows.items())
    return f"wrote {summary.out}: {parts}"
