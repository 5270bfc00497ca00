"""Deterministic sample-data generator: the checkout incident day of ``sample_logs/``.

``generate(out_dir, seed)`` simulates 2026-11-17 14:00–15:00 UTC (see ``scenario``), renders every
file in the shapes of ``sample_logs/README.md`` (see ``render`` and ``otlp``) and writes
``ground_truth.json`` (see ``truth``). Same seed, byte-identical files: every random choice comes from
one ``random.Random(seed)``, nothing reads the clock, and every file is sorted before it is written.

The scenario engine (``tracejoin generate --traces N``: many services, every fault kind, streamed) lives in
``pipeline.generate.engine`` and shares the model, the MySQL slow-log renderer and the OTLP span renderer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pipeline.generate import render
from pipeline.generate.model import FILES, GATEWAY, INVENTORY, MYSQL, ORDER, OTLP, USER, Day
from pipeline.generate.otlp import render_otlp
from pipeline.generate.scenario import simulate
from pipeline.generate.truth import ground_truth

GROUND_TRUTH = "ground_truth.json"

# One renderer per output file (the key is the source in model.FILES).
RENDERERS: dict[str, Callable[[Day, render.LineWriter], object]] = {
    GATEWAY: lambda day, out: render.render_access(day.access, out),
    ORDER: lambda day, out: render.render_spring(day.logs[ORDER], out),
    USER: lambda day, out: render.render_jsonl(day.logs[USER], out),
    INVENTORY: lambda day, out: render.render_logfmt(day.logs[INVENTORY], out),
    MYSQL: lambda day, out: render.render_slow(day.slow, out),
    OTLP: lambda day, out: render_otlp(day.traces, out),
}


def generate(out_dir: Path, seed: int = 17) -> dict[str, object]:
    """Write the sample files and ground_truth.json under ``out_dir``; return a summary of what was written.

    Existing files of the same names are overwritten; other files (such as the README) are left alone.
    """
    day = simulate(seed)
    files: dict[str, dict[str, int]] = {}
    for key, rel in FILES.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        # newline="\n": the same bytes on every OS
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            out = render.LineWriter(fh)
            RENDERERS[key](day, out)
        files[rel] = {"lines": out.lines, "bytes": path.stat().st_size}
    truth = ground_truth(day, {rel: info["lines"] for rel, info in files.items()})
    truth_path = out_dir / GROUND_TRUTH
    truth_path.write_text(json.dumps(truth, sort_keys=True, indent=2) + "\n", encoding="utf-8", newline="\n")
    return {
        "out_dir": str(out_dir),
        "seed": seed,
        "files": files,
        "traces": day.counts["traces"],
        "traces_sampled_out": day.counts["traces_sampled_out"],
        "spans": day.counts["spans"],
        "faults": {f.fault_id: len(f.cases) for f in day.faults},
    }


__all__ = ["GROUND_TRUTH", "generate"]
