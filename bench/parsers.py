"""Parser throughput and peak memory on large generated inputs.

    python bench/parsers.py                      # every format with a sample, 200 MB each
    python bench/parsers.py --mb 50 json spring  # some formats, smaller files
    python bench/parsers.py --input scenario     # inputs from a generated 20,000-trace day
    python bench/parsers.py --repeat 5           # five runs of each: median, best and worst

Each input is built by repeating a sample file of that format (``sample_logs/``, ~100 KB) until it reaches
the size asked for; that flatters what is computed once per distinct value (MySQL fingerprints, levels), so
``--input scenario`` repeats instead the files of that format from a generated day (``tracejoin generate``:
distinct IDs, users, literals; from under 1 MB (slow logs) to ~90 MB (OTLP) per format, JSON mixing OTel and
logstash/Datadog conventions, a PostgreSQL stderr log, free-text logs, Jaeger and Zipkin exports). The formats
that have neither (container wrappers, Envoy, OTLP logs, PostgreSQL csvlog and jsonlog, a user-defined
SkyWalking-style regex format) are derived from one that does (:mod:`bench.derive`). Each parser then runs in
a fresh process over the file exactly as ``tracejoin ingest`` reads it (streamed in blocks, cut at record
boundaries), so peak memory is the parser's own. One-time start-up (lazy imports, DuckDB's connection,
compiled regexes) is timed apart on the file's first MB, before the clock starts; the allocators' growth to
their working size is not.
Results are printed and written to ``bench/out/parsers.json`` (``parsers-scenario.json``). When
``pt-query-digest`` is installed, it is timed on the MySQL slow log too, and ``pgbadger`` (one job, JSON
report) on the PostgreSQL log.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's packages, for the lazy imports below (run as a script)
from bench.derive import DERIVED, derive, parser_of  # noqa: E402 -- needs the path above

WORKERS = 2  # chunks parsed at a time (tracejoin ingest uses every core; this machine has 2)
OUT = ROOT / "bench" / "out"

SAMPLES = {
    "json": "sample_logs/user-service/user-service.jsonl",
    "logfmt": "sample_logs/inventory-service/inventory-service.log",
    "spring": "sample_logs/order-service/order-service.log",
    "nginx": "sample_logs/api-gateway/access.log",
    "mysql-slow": "sample_logs/mysql/inventory-slow.log",
    "otlp-json": "sample_logs/traces/otelcol-traces.json",
}


# files of each format in a generated day (``tracejoin generate``), relative to its directory
SCENARIO = {
    "json": ["user-service/*.jsonl", "payment-service/*.jsonl", "catalog-service/*.jsonl"],
    "logfmt": ["inventory-service/*.log"],
    "spring": ["order-service/*.log"],
    "nginx": ["api-gateway/access.log"],
    "mysql-slow": ["mysql/*.log"],
    "postgresql": ["postgresql/*.log"],
    "otlp-json": ["traces/otelcol-traces.json"],
    "jaeger-json": ["traces/jaeger-traces.json"],
    "zipkin-json": ["traces/zipkin-spans.json"],
    "text": ["fulfillment-worker/*.log", "notification-service/*.log"],
}
SCENARIO_TRACES = 20_000


def _scenario_day() -> Path:
    """A generated day's ``logs/`` (made once, kept between runs)."""
    day = OUT / f"bench-day-{SCENARIO_TRACES}"
    if not (day / "ground_truth.json").exists():
        gen = [sys.executable, "-m", "pipeline.cli", "generate", str(day), "--seed", "4"]
        gen += ["--traces", str(SCENARIO_TRACES)]
        subprocess.run(gen, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return day


def build_input(fmt: str, mb: int, source: str = "sample") -> Path:
    """A file of at least ``mb`` MB made of copies of the sample, or of the generated day's files of the
    format (kept between runs)."""
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / (f"{fmt}-{mb}mb.log" if source == "sample" else f"{fmt}-{mb}mb-{source}.log")
    if target.exists() and target.stat().st_size >= mb * 1_000_000:
        return target
    block = _source_block(fmt, source)
    with target.open("wb") as out:
        written = 0
        while written < mb * 1_000_000:
            out.write(block)
            written += len(block)
    return target


def _source_block(fmt: str, source: str) -> bytes:
    """The whole lines repeated to make the input of ``fmt``: a sample, the generated day's files of the
    format, or those of the format it is derived from, derived (:mod:`bench.derive`)."""
    if fmt in DERIVED:
        return derive(fmt, _source_block(DERIVED[fmt][0], source))
    if source == "sample":
        return _whole_lines((ROOT / SAMPLES[fmt]).read_bytes())
    day = _scenario_day()
    return _whole_lines(
        b"".join(_whole_lines(f.read_bytes()) for g in SCENARIO[fmt] for f in sorted(day.glob(g)))
    )


def inputs(source: str) -> list[str]:
    """The formats that have an input from ``source``: its own files or a format's they are derived from."""
    own = SAMPLES if source == "sample" else SCENARIO
    return sorted([*own, *(fmt for fmt, (base, _) in DERIVED.items() if base in own)])


def _repeated(fmt: str, path: Path, repeat: int, workers: int) -> dict[str, Any]:
    """``repeat`` runs of :func:`run_one`, each in a fresh process: the run of median speed, with the best
    and worst speed and every run's. On a shared machine a run's wall time swings with the neighbours' load
    (±20% and more here): one run says little, the median of several more, the best what the code does when
    the machine is quiet."""
    runs: list[dict[str, Any]] = []
    for _ in range(max(1, repeat)):
        cmd = [sys.executable, __file__, "--one", fmt, str(path), "--workers", str(workers)]
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    runs.sort(key=lambda r: r["mb_per_s"])
    result = dict(runs[(len(runs) - 1) // 2])  # the lower median of an even count
    speeds = [r["mb_per_s"] for r in runs]
    result.update(mb_per_s_best=speeds[-1], mb_per_s_worst=speeds[0], runs_mb_per_s=speeds)
    return result


def _whole_lines(data: bytes) -> bytes:
    return data if data.endswith(b"\n") else data + b"\n"


def run_one(fmt: str, path: Path, workers: int = WORKERS) -> dict[str, float]:
    """Parse ``path`` with ``fmt`` in this process; return size, time, rows, peak RSS."""
    from parsers.base import ParseContext
    from pipeline.ingest import parse_chunks
    from pipeline.reader import iter_chunks

    parser = parser_of(fmt, OUT)
    # one-time start-up, timed apart: lazy imports (pyarrow imports pandas, when installed, the first time it
    # converts a Python value: ~0.2 s), DuckDB's connection, compiled regexes; the first MB of the file
    start = time.perf_counter()
    head = next(iter_chunks(path, 1 << 20), None)
    if head is not None:
        parser.parse(head.lines, ParseContext(path.name, head.first_line))
    startup = time.perf_counter() - start
    rows = lines = rejects = 0
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    for n_lines, result in parse_chunks(path, parser, lambda first: ParseContext(path.name, first), workers):
        rows += result.records.num_rows
        rejects += result.rejects.num_rows
        lines += n_lines
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_start
    size = path.stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "mb": size / 1e6,
        "seconds": seconds,
        "startup_seconds": startup,
        "mb_per_s": size / 1e6 / seconds,
        # on a shared machine wall time swings with the neighbours' load; CPU time much less
        "cpu_seconds": cpu,
        "mb_per_cpu_s": size / 1e6 / cpu,
        "lines": lines,
        "records": rows,
        "rejects": rejects,
        "peak_rss_mb": peak_mb,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pt_query_digest(path: Path) -> float | None:
    exe = shutil.which("pt-query-digest")
    if exe is None:
        return None
    start = time.perf_counter()
    subprocess.run([exe, "--output", "json", str(path)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def pgbadger(path: Path, log_format: str = "stderr") -> float | None:
    """pgBadger's time for its JSON report of the file (the generated day's PostgreSQL log, with its
    ``log_line_prefix``, or its csvlog or jsonlog), on one core as pt-query-digest (``-j 1``)."""
    exe = shutil.which("pgbadger")
    if exe is None:
        return None
    from pipeline.generate.engine.calls import PG_LOG_LINE_PREFIX

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [exe, "--quiet", "--no-process-info", "-j", "1", "-f", log_format]
        cmd += ["--prefix", PG_LOG_LINE_PREFIX] if log_format == "stderr" else []
        cmd += ["--pid-dir", tmp, "--tempdir", tmp, "-x", "json", "-o", f"{tmp}/out.json", str(path)]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=tmp, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


# the tools timed on the same file: format -> (tool, its time)
REFERENCES: dict[str, tuple[str, Callable[[Path], float | None]]] = {
    "mysql-slow": ("pt-query-digest", pt_query_digest),
    "postgresql": ("pgbadger", pgbadger),
    "postgresql-csv": ("pgbadger", lambda path: pgbadger(path, "csv")),
    "postgresql-json": ("pgbadger", lambda path: pgbadger(path, "jsonlog")),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("formats", nargs="*", help="default: every format of the input source")
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--input", choices=("sample", "scenario"), default="sample", help="what is repeated")
    ap.add_argument("--workers", type=int, default=WORKERS, help="chunks parsed at a time")
    ap.add_argument(
        "--repeat", type=int, default=1, help="runs per format, each in a fresh process (the median reported)"
    )
    ap.add_argument("--one", nargs=2, metavar=("FORMAT", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], Path(args.one[1]), args.workers)))
        return
    known = inputs(args.input)
    formats = args.formats or known
    if unknown := sorted(set(formats) - set(known)):
        ap.error(f"no {args.input} input for {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    results = {}
    for fmt in formats:
        path = build_input(fmt, args.mb, args.input)
        results[fmt] = _repeated(fmt, path, args.repeat, args.workers)
        extra = ""
        if fmt in REFERENCES:
            tool, timed = REFERENCES[fmt]
            seconds = timed(path)
            if seconds is not None:
                key = tool.replace("-", "_")
                results[fmt][f"{key}_seconds"] = seconds
                results[fmt][f"speedup_vs_{key}"] = seconds / results[fmt]["seconds"]
                extra = f"  ({results[fmt][f'speedup_vs_{key}']:.1f}x {tool})"
        r = results[fmt]
        spread = ""
        if args.repeat > 1:
            spread = f" (best {r['mb_per_s_best']:.1f}, worst {r['mb_per_s_worst']:.1f})"
        print(
            f"{fmt:<15} {r['mb']:7.0f} MB  {r['seconds']:7.2f} s  {r['mb_per_s']:7.1f} MB/s{spread}  "
            f"(start-up {r['startup_seconds']:4.2f} s)  "
            f"cpu {r['cpu_seconds']:6.2f} s ({r['mb_per_cpu_s']:5.1f} MB per cpu-s)  "
            f"{r['records']:>10} records {r['rejects']:>6} rejects  peak {r['peak_rss_mb']:6.0f} MB{extra}",
            flush=True,
        )
    name = "parsers.json" if args.input == "sample" else f"parsers-{args.input}.json"
    (OUT / name).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
