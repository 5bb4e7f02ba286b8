"""Side-by-side baseline: Ultralytics YOLO11n trained from its yaml (no pretrained weights can be
downloaded here) on the same split, on the same machine, for the same wall time as `dabai train`.

Ultralytics (AGPL-3.0) is not a dabai dependency: install it outside the project venv, e.g.
    pip download --no-deps -d /tmp/yolo/whl ultralytics ultralytics-thop polars polars-runtime-32 psutil ...
    pip install --no-deps --target /tmp/yolo/site /tmp/yolo/whl/*.whl
and run with PYTHONPATH=/tmp/yolo/site. The split comes from `dabai data convert DIR --to yolo`.

Usage:
    python scripts/yolo11n_baseline.py train DATA_YAML --hours 0.6 --imgsz 384 --project DIR
    python scripts/yolo11n_baseline.py predict WEIGHTS.pt IMAGES_DIR OUT.json --imgsz 384
The predict JSON has dabai's `predict --json` / `--out-json` shape, so scripts/independent_coco_eval.py scores both
detectors the same way (every detection, NMS applied, at most 100 per image).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")  # never reach for the hub (no network here)


def train(data: str, hours: float, imgsz: int, project: str, workers: int) -> None:
    import ultralytics.utils.torch_utils as torch_utils
    from ultralytics import YOLO

    # Ultralytics sets torch to cpu_count - 1 threads when it picks the CPU (1 on this 2-core machine);
    # dabai trains on both cores, so the side-by-side gives YOLO both too.
    torch_utils.NUM_THREADS = os.cpu_count() or 1
    model = YOLO("yolo11n.yaml")  # architecture only: random init
    # amp/plots off: the AMP check and the plot font would try to download files
    model.train(data=data, time=hours, imgsz=imgsz, batch=16, device="cpu", workers=workers, project=project,
                name="yolo11n", exist_ok=True, pretrained=False, amp=False, plots=False, seed=0, deterministic=True)


def predict(weights: str, images: str, out: str, imgsz: int) -> None:
    from ultralytics import YOLO

    model = YOLO(weights)
    rows = []
    for result in model.predict(source=images, imgsz=imgsz, conf=0.001, iou=0.5, max_det=100, device="cpu",
                                stream=True, verbose=False):
        names = result.names
        for (x1, y1, x2, y2), score, cls in zip(result.boxes.xyxy.tolist(), result.boxes.conf.tolist(),
                                                 result.boxes.cls.tolist()):
            rows.append({"image": Path(result.path).name, "bbox": [x1, y1, x2, y2], "score": score,
                         "label": names[int(cls)]})
    Path(out).write_text(json.dumps(rows))
    print(f"{len(rows)} detections -> {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("data")
    t.add_argument("--hours", type=float, required=True, help="wall-time budget (Ultralytics `time`)")
    t.add_argument("--imgsz", type=int, default=384)
    t.add_argument("--project", default="runs/yolo11n")
    t.add_argument("--workers", type=int, default=2)
    p = sub.add_parser("predict")
    p.add_argument("weights")
    p.add_argument("images")
    p.add_argument("out")
    p.add_argument("--imgsz", type=int, default=384)
    args = parser.parse_args()
    if args.command == "train":
        train(args.data, args.hours, args.imgsz, args.project, args.workers)
    else:
        predict(args.weights, args.images, args.out, args.imgsz)


if __name__ == "__main__":
    main()
