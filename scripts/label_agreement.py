"""Time ``dabai label`` on face crops in class folders and check its boxes against an independent face detector.

    python scripts/label_agreement.py ../shared/data/face-mask-crops \
        --face-model ../shared/weights/face_detection_yunet.onnx --out /tmp/crops_voc [--sample 1000]

``--sample N`` labels a random N of the crops (the same share of every class folder, seed 0), copied into
``OUT.sample/`` first (not timed).

Prints images, seconds, seconds per 1,000 images, and how many of the faces the independent detector finds
agree (IoU >= 0.5) with the labelled box. The number quoted in README/docs/loop.md comes from this script.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import time
from pathlib import Path

from dabai.loop.agreement import agreement
from dabai.loop.label import label


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("crops", help="face crops in class folders")
    ap.add_argument("--face-model", required=True, help="independent face detector (YuNet or UltraFace ONNX)")
    ap.add_argument("--out", required=True, help="VOC output folder (new, or an earlier run's)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--sample", type=int, help="label a random N of the crops (every class in proportion)")
    args = ap.parse_args()
    crops = Path(args.crops)
    if args.sample:
        crops = sample_crops(crops, Path(args.out + ".sample"), args.sample)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    report = label(crops, args.out, threads=args.threads or None)
    seconds = time.perf_counter() - start
    n = len(report.written)
    print(f"labelled {n} images in {seconds:.1f} s = {1000 * seconds / max(n, 1):.1f} s per 1,000 images "
          f"({os.cpu_count()} CPUs, load average {load:.2f} at the start); {report.uncertain} marked to check")
    result = agreement(args.out, args.face_model)
    print(f"independent detector found a face in {result.found} of {result.images} images; the label box agrees "
          f"(IoU >= 0.5) on {result.agree} = {100 * result.rate:.1f} %, median IoU {result.median_iou:.3f}")


def sample_crops(root: Path, out: Path, n: int) -> Path:
    files = sorted(p for p in root.glob("*/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    rng = random.Random(0)
    by_class: dict[str, list[Path]] = {}
    for p in files:
        by_class.setdefault(p.parent.name, []).append(p)
    for name, group in sorted(by_class.items()):
        for p in rng.sample(group, round(n * len(group) / len(files))):
            (out / name).mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, out / name / p.name)
    return out


if __name__ == "__main__":
    main()
