"""COCO-style detection metrics computed by pycocotools over all detections.

mAP@0.5, mAP@0.5:0.95 and per-class AP, with at most 100 detections per image
(COCO's own limit), exactly as an independent COCO evaluator scores a
``dabai predict --json --conf 0`` file.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field

import numpy as np

from dabai.data.dataset import Dataset
from dabai.runtime.types import Detection


@dataclass
class EvalResult:
    map50: float
    map50_95: float
    ap50: dict[str, float]
    ap50_95: dict[str, float]
    num_images: int
    num_ground_truth: int
    num_detections: int
    # COCOeval precision array [T, R, K, A, M] (for PR curves); not serialised
    precision: np.ndarray | None = field(default=None, repr=False)
    # Per source and pooled, in three views (eval/views.SourceTable); set by `dabai.evaluate`.
    sources: object | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        r = lambda v: round(float(v), 4)  # noqa: E731
        extra = {"sources": self.sources.to_json()} if self.sources is not None else {}
        return {
            "map50": r(self.map50),
            "map50_95": r(self.map50_95),
            "ap50": {k: r(v) for k, v in self.ap50.items()},
            "ap50_95": {k: r(v) for k, v in self.ap50_95.items()},
            "images": self.num_images,
            "ground_truth": self.num_ground_truth,
            "detections": self.num_detections,
            **extra,
        }


def to_coco_ground_truth(dataset: Dataset, classes: list[str]) -> dict:
    images, annotations = [], []
    cat_ids = {c: i + 1 for i, c in enumerate(classes)}
    for image_id, record in enumerate(dataset.images, start=1):
        images.append({"id": image_id, "file_name": record.name, "width": record.width, "height": record.height})
        for b in record.boxes:
            w, h = b.x2 - b.x1, b.y2 - b.y1
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": cat_ids[b.label],
                "bbox": [b.x1, b.y1, w, h], "area": w * h, "iscrowd": 0,
            })
    categories = [{"id": i, "name": c} for c, i in cat_ids.items()]
    return {"images": images, "annotations": annotations, "categories": categories}


def coco_evaluate(dataset: Dataset, detections: dict[str, list[Detection]], classes: list[str]) -> EvalResult:
    """Score detections (keyed by image name) against the dataset's boxes."""
    return coco_evaluate_parts(dataset, detections, classes, {"all": [im.name for im in dataset.images]})["all"]


def coco_evaluate_parts(dataset: Dataset, detections: dict[str, list[Detection]], classes: list[str],
                        parts: dict[str, list[str]]) -> dict[str, EvalResult]:
    """``coco_evaluate`` of each part (a list of the dataset's image names, in its order) as if it were a dataset
    of its own, from one ``COCOeval.evaluate`` of them all: COCO matches detections to boxes image by image,
    so a part's per-image results are the same, and only their accumulation is per part (per source tables
    at the cost of one evaluation)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt_dict = to_coco_ground_truth(dataset, classes)
    name_to_id = {im["file_name"]: im["id"] for im in gt_dict["images"]}
    cat_ids = {c: i + 1 for i, c in enumerate(classes)}
    results = []
    for name, dets in detections.items():
        for d in sorted(dets, key=lambda d: -d.score)[:100]:
            x1, y1, x2, y2 = d.bbox
            results.append({"image_id": name_to_id[name], "category_id": cat_ids[d.label],
                            "bbox": [x1, y1, x2 - x1, y2 - y1], "score": d.score})
    gt_per_image = np.bincount([a["image_id"] for a in gt_dict["annotations"]], minlength=len(name_to_id) + 1)
    dt_per_image = np.bincount([r["image_id"] for r in results], minlength=len(name_to_id) + 1)
    empty = {c: 0.0 for c in classes}
    out: dict[str, EvalResult] = {}
    ev = None
    for part, names in parts.items():
        ids = [name_to_id[n] for n in names]
        num_gt, num_dt = int(gt_per_image[ids].sum()), int(dt_per_image[ids].sum())
        if num_dt == 0 or num_gt == 0:
            out[part] = EvalResult(0.0, 0.0, dict(empty), dict(empty), len(ids), num_gt, num_dt)
            continue
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress to stdout
            if ev is None:
                gt = COCO()
                gt.dataset = gt_dict
                gt.createIndex()
                ev = COCOeval(gt, gt.loadRes(results), "bbox")
                # only what is reported: all box sizes, 100 detections an image (COCO's small/medium/large and
                # 1/10-detection rows would take ~4x the time; the numbers kept are the same either way)
                ev.params.areaRng, ev.params.areaRngLbl, ev.params.maxDets = [[0, 1e10]], ["all"], [100]
                ev.evaluate()
            precision = _accumulate(ev, ids)  # [T, R, K, A=1, M=1]
        out[part] = EvalResult(  # COCOeval.summarize's AP (IoU 0.5:0.95) and AP50 rows: -1 when nothing is valid
            map50=_mean_valid(precision[0, :, :, 0, -1], -1.0), map50_95=_mean_valid(precision[:, :, :, 0, -1], -1.0),
            ap50={c: _mean_valid(precision[0, :, k, 0, -1]) for k, c in enumerate(classes)},
            ap50_95={c: _mean_valid(precision[:, :, k, 0, -1]) for k, c in enumerate(classes)},
            num_images=len(ids), num_ground_truth=num_gt, num_detections=num_dt, precision=precision)
    return out


def _accumulate(ev, image_ids: list[int]) -> np.ndarray:
    """COCOeval.accumulate over ``image_ids`` only (ascending), from the per-image results of ``ev.evaluate()``."""
    import copy

    p = ev.params
    if list(image_ids) == list(p.imgIds):
        ev.accumulate()
        return ev.eval["precision"]
    index = {image_id: n for n, image_id in enumerate(p.imgIds)}
    n_images, n_areas = len(p.imgIds), len(p.areaRng)
    sub = copy.copy(ev)
    sub.params = copy.copy(p)
    sub.params.imgIds = list(image_ids)
    sub._paramsEval = copy.copy(sub.params)
    sub.evalImgs = [ev.evalImgs[k * n_areas * n_images + a * n_images + index[i]]
                    for k in range(len(p.catIds)) for a in range(n_areas) for i in image_ids]
    sub.accumulate()
    return sub.eval["precision"]


def _mean_valid(values: np.ndarray, empty: float = 0.0) -> float:
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else empty
