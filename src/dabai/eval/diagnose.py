"""Where a detector's mAP goes: finding the faces, or naming their class?

Three scores of one model on one dataset, in the spirit of Hoiem's and TIDE's error analyses:

* **per class**: the ordinary mAP@0.5 (what ``dabai eval`` reports).
* **oracle labels**: the model's class-agnostic detections (NMS across classes, one box per face),
  each given the class of the ground-truth box it overlaps most at IoU >= 0.5; detections on
  background keep their own label. It is the mAP a perfect classifier would reach on this model's
  boxes and scores, so ``oracle - per class`` is what classification loses and ``1 - oracle`` what
  finding and placing the faces loses. It is the ceiling of any second-stage classifier.
* **class-agnostic**: every box and detection called "face": how well faces are found at all.

and **recall by face size**: the share of ground-truth boxes that some class-agnostic detection
covers at IoU >= 0.5, at any score, within COCO's 100 detections per image. It shows which face sizes
are out of the model's reach whatever the score threshold. Sides are sqrt(w * h) in source pixels,
COCO's convention, so they do not depend on the model's input size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from dabai.core.boxes import box_iou_matrix, greedy_match
from dabai.data.dataset import Dataset
from dabai.eval.coco import coco_evaluate
from dabai.eval.compare import IOU
from dabai.runtime.types import Detection

SIZE_EDGES = (0.0, 8.0, 16.0, 32.0, 64.0, 128.0, float("inf"))  # face side bins, source pixels
FACE = "face"


@dataclass(frozen=True)
class SizeBin:
    low: float  # face side >= low (px)
    high: float  # and < high
    boxes: int  # ground-truth boxes of this size
    found: int  # of them covered by a detection at IoU >= 0.5, any score

    @property
    def recall(self) -> float:
        return self.found / self.boxes if self.boxes else float("nan")

    @property
    def name(self) -> str:
        return f"{self.low:g}-{self.high:g} px" if np.isfinite(self.high) else f">= {self.low:g} px"


@dataclass(frozen=True)
class Diagnosis:
    map50: float  # per class, as dabai eval
    ap50: dict[str, float]
    oracle_map50: float  # the same boxes with the true class: a perfect classifier
    oracle_ap50: dict[str, float]
    agnostic_map50: float  # every class called "face"
    recall_by_size: list[SizeBin]

    @property
    def lost_to_classification(self) -> float:
        return self.oracle_map50 - self.map50

    @property
    def lost_to_localisation(self) -> float:
        return 1.0 - self.oracle_map50

    def to_json(self) -> dict:
        r = lambda v: round(float(v), 4)  # noqa: E731
        return {
            "map50": r(self.map50), "ap50": {k: r(v) for k, v in self.ap50.items()},
            "oracle_map50": r(self.oracle_map50), "oracle_ap50": {k: r(v) for k, v in self.oracle_ap50.items()},
            "agnostic_map50": r(self.agnostic_map50),
            "lost_to_classification": r(self.lost_to_classification),
            "lost_to_localisation": r(self.lost_to_localisation),
            "recall_by_size": [{"min_px": b.low, "max_px": b.high if np.isfinite(b.high) else None,
                                "boxes": b.boxes, "found": b.found} for b in self.recall_by_size],
        }


def diagnose_detections(dataset: Dataset, detections: dict[str, list[Detection]],
                        agnostic: dict[str, list[Detection]], classes: list[str]) -> Diagnosis:
    """``detections``: the model's ordinary output; ``agnostic``: its output with NMS across classes.

    Both keyed by image name, scored as ``dabai eval`` scores them (no threshold, <= 100 per image).
    """
    per_class = coco_evaluate(dataset, detections, classes)
    oracle = coco_evaluate(dataset, oracle_labels(dataset, agnostic), classes)
    faces_only = dataclasses.replace(dataset, images=[
        dataclasses.replace(im, boxes=[dataclasses.replace(b, label=FACE) for b in im.boxes]) for im in dataset.images
    ], classes=[FACE])
    as_faces = {name: [dataclasses.replace(d, label=FACE) for d in dets] for name, dets in agnostic.items()}
    found = coco_evaluate(faces_only, as_faces, [FACE])
    return Diagnosis(per_class.map50, per_class.ap50, oracle.map50, oracle.ap50, found.map50,
                     recall_by_size(dataset, agnostic))


def oracle_labels(dataset: Dataset, detections: dict[str, list[Detection]]) -> dict[str, list[Detection]]:
    """Each detection relabelled with the class of the box it overlaps most, where that IoU >= 0.5."""
    out = {}
    for im in dataset.images:
        dets = detections.get(im.name, [])
        gt = im.box_array()
        if not len(gt) or not dets:
            out[im.name] = list(dets)
            continue
        iou = box_iou_matrix(np.array([d.bbox for d in dets], dtype=np.float64), gt)
        best = iou.argmax(1)
        out[im.name] = [dataclasses.replace(d, label=im.boxes[j].label) if iou[i, j] >= IOU else d
                        for i, (d, j) in enumerate(zip(dets, best))]
    return out


def recall_by_size(dataset: Dataset, detections: dict[str, list[Detection]],
                   edges: tuple[float, ...] = SIZE_EDGES) -> list[SizeBin]:
    """Share of boxes per size bin matched (COCO's greedy matching, IoU >= 0.5) by a top-100 detection."""
    sides, hit = [], []
    for im in dataset.images:
        gt = im.box_array()
        top = sorted(detections.get(im.name, []), key=lambda d: -d.score)[:100]
        dets = np.array([d.bbox for d in top], dtype=np.float64).reshape(-1, 4)
        match = greedy_match(dets, gt, IOU)
        matched = np.zeros(len(gt), dtype=bool)
        matched[match[match >= 0]] = True
        sides.extend(np.sqrt(np.prod(np.clip(gt[:, 2:] - gt[:, :2], 0, None), axis=1)))
        hit.extend(matched)
    sides_a, hit_a = np.array(sides), np.array(hit, dtype=bool)
    bins = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (sides_a >= low) & (sides_a < high)
        bins.append(SizeBin(low, high, int(inside.sum()), int((inside & hit_a).sum())))
    return bins
