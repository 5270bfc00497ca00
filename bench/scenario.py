"""Correlation quality and speed on a full generated day: generate → run → evaluate.

    python bench/scenario.py                       # 50,000 traces, every fault kind, seed 4
    python bench/scenario.py --traces 5000 --seed 9

Each step runs as its own `tracejoin` process (peak RSS measured per step). The figures printed at the end are
the ones the README quotes; everything is also written to ``bench/out/scenario-<traces>.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TRACEJOIN = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def step(name: str, args: list[str]) -> dict[str, Any]:
    """Run one tracejoin command; its wall time and peak RSS (children's maximum, so one step at a time)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([*TRACEJOIN, *args], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{name} failed:\n{done.stderr}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    note = "" if peak_kb > before else " (not above an earlier step's peak)"
    print(f"{name:<10} {seconds:7.1f} s   peak RSS {peak_kb / 1024:7.0f} MB{note}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak_kb / 1024), "stdout": done.stdout}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--keep", action="store_true", help="reuse generated input of the same size and seed")
    args = ap.parse_args()
    work = OUT / f"scenario-{args.traces}-{args.seed}"
    logs, out = work / "logs", work / "out"
    result: dict[str, Any] = {"traces": args.traces, "seed": args.seed}
    if not (args.keep and (logs / "ground_truth.json").exists()):
        shutil.rmtree(work, ignore_errors=True)
        gen = ["generate", str(logs), "--seed", str(args.seed), "--traces", str(args.traces)]
        result["generate"] = step("generate", gen)
    size = sum(p.stat().st_size for p in logs.rglob("*") if p.is_file())
    print(f"input      {size / 1e6:7.1f} MB")
    result["input_mb"] = round(size / 1e6, 1)
    result["run"] = step("run", ["run", str(logs), "--out", str(out)])
    truth = logs / "ground_truth.json"
    result["evaluate"] = step("evaluate", ["evaluate", "--truth", str(truth), "--out", str(out)])
    figures = json.loads((out / "evaluation.json").read_text())
    result["figures"] = figures
    print(result["evaluate"]["stdout"])
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"scenario-{args.traces}.json"
    for key in ("generate", "run", "evaluate"):
        result.get(key, {}).pop("stdout", None)
    target.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"written to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
