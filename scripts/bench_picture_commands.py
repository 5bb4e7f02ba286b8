#!/usr/bin/env python3
"""How long do the picture commands take on ~1,000 images? Wall and CPU seconds, median of --repeat runs.

Runs, each as its own `python -m dabai` process: `data show` (per image and per face), `eval --gallery`,
`data audit` and `eval --operating-points` from saved detections (`--detections`, made once with
`dabai eval --data ... --save-detections FILE`; the model's own time is that run's), and
`train --preview-augment`. Prints one JSON object: per command the wall and CPU (user + sys of the child)
seconds of each run and their medians, the load average before and after, and the machine.

usage: python scripts/bench_picture_commands.py --data DIR [DIR ...] --detections dets.json --spec SPEC.yaml
       [--repeat 3] [--out /tmp/bench-pictures]
Writes only under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dabai", *argv], stdout=subprocess.DEVNULL)
    if done.returncode not in (0, 1):  # 1: --operating-points found no threshold safe enough (still a full run)
        raise SystemExit(f"dabai {' '.join(argv)} failed with exit code {done.returncode}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--detections", required=True, help="from dabai eval --data DATA --save-detections FILE")
    ap.add_argument("--spec", required=True, help="a detector training spec for --preview-augment")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="/tmp/bench-pictures")
    args = ap.parse_args()
    out = Path(args.out)
    first = args.data[0]
    commands = {
        "data show (48 images)": ["data", "show", first, "--out", str(out / "show.png")],
        "data show --faces (48 faces)": ["data", "show", first, "--faces", "--out", str(out / "faces.png")],
        "eval --gallery": ["eval", "--data", *args.data, "--detections", args.detections, "--gallery",
                           str(out / "gallery"), "--plots", str(out / "plots")],
        "data audit": ["data", "audit", *args.data, "--detections", args.detections, "--out", str(out / "audit")],
        "eval --operating-points": ["eval", "--data", *args.data, "--detections", args.detections,
                                    "--operating-points", "--plots", str(out / "op")],
        "train --preview-augment (12 samples)": ["train", "--preview-augment", args.spec, "--sheet",
                                                 str(out / "preview.png")],
    }
    load_before = os.getloadavg()
    results = {}
    for name, argv in commands.items():
        runs = [timed(argv) for _ in range(args.repeat)]
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
