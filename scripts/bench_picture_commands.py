#!/usr/bin/env python3
"""How long do the picture commands take on ~1,000 images? Wall and CPU seconds, median of --repeat runs.

Runs, each as its own `python -m dabai` process: `data show` (per image and per face), `train
--preview-augment`, and the commands that run the model: `eval --gallery`, `data audit` and `eval
--operating-points`, each first with an empty detection cache (it runs the model: "cold") and then again
(it reuses the detections the first run kept: "warm"). With --detections FILE (from `dabai eval --data ...
--save-detections FILE`) they also run from that file. Prints one JSON object: per command the wall and CPU
(user + sys of the command and its worker processes) seconds of each run and their medians, the load
average before and after, and the machine.

usage: python scripts/bench_picture_commands.py --data DIR [DIR ...] --spec SPEC.yaml [--detections dets.json]
       [--repeat 1] [--out /tmp/bench-pictures] [--workers 0]
Writes only under --out (the detection caches too).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(argv: list[str], cache: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "DABAI_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-m", "dabai", *argv], stdout=subprocess.DEVNULL, env=env)
    if done.returncode not in (0, 1):  # 1: --operating-points found no threshold safe enough (still a full run)
        raise SystemExit(f"dabai {' '.join(argv)} failed with exit code {done.returncode}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--detections", help="also run from this file (dabai eval --data DATA --save-detections FILE)")
    ap.add_argument("--spec", required=True, help="a detector training spec for --preview-augment")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=0, help="--workers of the model-running commands (0: one per core)")
    ap.add_argument("--out", default="/tmp/bench-pictures")
    args = ap.parse_args()
    out = Path(args.out)
    first = args.data[0]
    workers = ["--workers", str(args.workers)]
    model_runs = {
        "eval --gallery": ["eval", "--data", *args.data, "--gallery", str(out / "gallery"), "--plots",
                           str(out / "plots"), *workers],
        "data audit": ["data", "audit", *args.data, "--out", str(out / "audit"), *workers],
        "eval --operating-points": ["eval", "--data", *args.data, "--operating-points", "--plots", str(out / "op"),
                                    *workers],
    }
    commands: dict[str, tuple[list[str], Path | None]] = {
        "data show (48 images)": (["data", "show", first, "--out", str(out / "show.png")], None),
        "data show --faces (48 faces)": (["data", "show", first, "--faces", "--out", str(out / "faces.png")], None),
        "train --preview-augment (12 samples)": (["train", "--preview-augment", args.spec, "--set",
                                                  f"data.train={first}", "--set", "data.extra_train=[]",
                                                  "--sheet", str(out / "preview.png")], None),
    }
    for name, argv in model_runs.items():  # each cold (a cache of its own, empty), then warm (that cache)
        commands[f"{name} (cold: runs the model)"] = (argv, out / "cache" / name.split()[-1].strip("-"))
        commands[f"{name} (warm: cached detections)"] = (argv, out / "cache" / name.split()[-1].strip("-"))
        if args.detections:
            commands[f"{name} --detections FILE"] = ([*argv, "--detections", args.detections], out / "cache" / "none")
    load_before = os.getloadavg()
    results = {}
    for name, (argv, cache) in commands.items():
        cache = cache or out / "cache" / "none"
        runs = []
        for _ in range(args.repeat):
            if "(cold" in name:
                shutil.rmtree(cache, ignore_errors=True)
            runs.append(timed(argv, cache))
        results[name] = {"wall_s": [round(w, 2) for w, _ in runs], "cpu_s": [round(c, 2) for _, c in runs],
                         "median_wall_s": round(statistics.median(w for w, _ in runs), 2),
                         "median_cpu_s": round(statistics.median(c for _, c in runs), 2)}
        print(name, results[name], file=sys.stderr)
    print(json.dumps({"data": args.data, "results": results, "load_before": load_before,
                      "load_after": os.getloadavg(), "cpus": os.cpu_count(), "machine": platform.platform(),
                      "processor": platform.processor()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
