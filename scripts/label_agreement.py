"""Time ``dabai label`` on face crops in class folders and check its boxes against an independent face detector.

    python scripts/label_agreement.py ../shared/data/face-mask-crops \
        --face-model ../shared/weights/face_detection_yunet.onnx --out /tmp/crops_voc

Prints images, seconds, seconds per 1,000 images, and how many of the faces the independent detector finds
agree (IoU >= 0.5) with the labelled box. The number quoted in README/docs/loop.md comes from this script.
"""

from __future__ import annotations

import argparse
import os
import time

from dabai.loop.agreement import agreement
from dabai.loop.label import label


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("crops", help="face crops in class folders")
    ap.add_argument("--face-model", required=True, help="independent face detector (YuNet or UltraFace ONNX)")
    ap.add_argument("--out", required=True, help="VOC output folder (new, or an earlier run's)")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    report = label(args.crops, args.out, threads=args.threads or None)
    seconds = time.perf_counter() - start
    n = len(report.written)
    print(f"labelled {n} images in {seconds:.1f} s = {1000 * seconds / max(n, 1):.1f} s per 1,000 images "
          f"({os.cpu_count()} CPUs, load average {load:.2f} at the start); {report.uncertain} marked to check")
    result = agreement(args.out, args.face_model)
    print(f"independent detector found a face in {result.found} of {result.images} images; the label box agrees "
          f"(IoU >= 0.5) on {result.agree} = {100 * result.rate:.1f} %, median IoU {result.median_iou:.3f}")


if __name__ == "__main__":
    main()
