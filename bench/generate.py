"""Scenario engine speed and memory: `tracejoin generate --traces N` at several sizes.

    python bench/generate.py                       # 10,000 and 50,000 traces, every fault kind, seed 4
    python bench/generate.py --traces 10000 50000 200000

Each size runs in its own child process, which reports its own peak RSS (``resource.getrusage``), so the
figures do not mix. Flat peak RSS across sizes is the point: the engine streams, memory does not grow with
--traces. Results go to ``bench/out/generate.json``; the generated files are removed unless --keep.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CHILD = """
import json, resource, sys
from pathlib import Path
from pipeline.generate.engine import ScenarioParams, generate_scenario
summary = generate_scenario(Path(sys.argv[1]), ScenarioParams(seed=int(sys.argv[2]), traces=int(sys.argv[3])))
summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(summary))
"""


def measure(traces: int, seed: int, keep: bool) -> dict[str, Any]:
    """Generate one scenario in a child process; wall time, peak RSS and the size of what it wrote."""
    target = OUT / f"generate-{traces}-{seed}"
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(target), str(seed), str(traces)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"generate --traces {traces} failed:\n{done.stderr}")
    summary = json.loads(done.stdout)
    files = [p for p in target.rglob("*") if p.is_file()]
    lines = 0
    for p in files:
        if p.suffix != ".parquet":
            with p.open("rb") as fh:
                lines += sum(chunk.count(b"\n") for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""))
    size = sum(p.stat().st_size for p in files)
    if not keep:
        shutil.rmtree(target)
    return {
        "traces": traces,
        "all_traces": summary["traces"],
        "seconds": round(seconds, 1),
        "spans": summary["spans"],
        "records": summary["records"],
        "lines": lines,
        "mb": round(size / 1e6, 1),
        "peak_rss_mb": summary["peak_rss_mb"],
        "cases": summary["faults"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", type=int, nargs="+", default=[10_000, 50_000])
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--keep", action="store_true", help="keep the generated files under bench/out/")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    print(f"{'traces':>8} {'seconds':>8} {'spans':>10} {'lines':>10} {'MB':>8} {'peak RSS MB':>12}")
    for n in args.traces:
        r = measure(n, args.seed, args.keep)
        results.append(r)
        print(
            f"{n:>8} {r['seconds']:>8} {r['spans']:>10} {r['lines']:>10} {r['mb']:>8} {r['peak_rss_mb']:>12}"
        )
    target = OUT / "generate.json"
    target.write_text(json.dumps({"seed": args.seed, "runs": results}, indent=2, sort_keys=True) + "\n")
    print(f"written to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
