"""Is model B better than model A on this data? A paired bootstrap of the mAP@0.5 difference.

With ~100 held-out images and 14 faces of the rarest class, two recipes a few points apart can
swap places between a val and a test split (docs/detector.md, sessions 6-7). Resampling the
images with replacement, and scoring both models on the same resample each time, gives the spread
of the difference that the choice of images alone produces.

Each image's detections are matched to its ground truth once, the way COCOeval does at IoU 0.5
(per class, best score first, each ground-truth box at most once, at most 100 detections per
image), so a resample only re-pools those matches: AP is COCO's 101-point interpolated precision,
and on the full set it equals ``coco_evaluate``'s mAP@0.5 (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dabai.core.boxes import greedy_match
from dabai.data.dataset import Dataset
from dabai.runtime.types import Detection

IOU = 0.5
RECALL_POINTS = np.linspace(0.0, 1.0, 101)  # COCO's recall thresholds


@dataclass(frozen=True)
class ImageMatches:
    scores: list[np.ndarray]  # per class: scores of the image's detections of that class
    hits: list[np.ndarray]  # per class: 1 where that detection matched a ground-truth box
    gt: np.ndarray  # per class: how many ground-truth boxes the image has


@dataclass(frozen=True)
class Comparison:
    map50_a: float
    map50_b: float
    diff: float  # map50_b - map50_a on the full set
    ci_low: float  # 2.5th percentile of the bootstrap differences
    ci_high: float  # 97.5th percentile
    prob_b_better: float  # share of resamples where B scores higher
    ap50_diff: dict[str, float]  # per class, full set
    resamples: int

    @property
    def verdict(self) -> str:
        if self.ci_low > 0:
            return "B is better (the 95% interval is above 0)"
        if self.ci_high < 0:
            return "A is better (the 95% interval is below 0)"
        return "not told apart by this data (the 95% interval spans 0)"

    def to_json(self) -> dict:
        r = lambda v: round(float(v), 4)  # noqa: E731
        return {"map50_a": r(self.map50_a), "map50_b": r(self.map50_b), "diff": r(self.diff),
                "ci95": [r(self.ci_low), r(self.ci_high)], "prob_b_better": r(self.prob_b_better),
                "ap50_diff": {k: r(v) for k, v in self.ap50_diff.items()}, "resamples": self.resamples,
                "verdict": self.verdict}


def match_image(gt_boxes: np.ndarray, gt_labels: np.ndarray, dets: list[Detection], classes: list[str]) -> ImageMatches:
    top = sorted(dets, key=lambda d: -d.score)[:100]  # COCO's per-image limit, as coco_evaluate applies it
    scores, hits, gt = [], [], []
    for k, name in enumerate(classes):
        g = gt_boxes[gt_labels == k]
        mine = [d for d in top if d.label == name]
        s = np.array([d.score for d in mine], dtype=np.float64)
        b = np.array([d.bbox for d in mine], dtype=np.float64).reshape(-1, 4)
        scores.append(s)
        hits.append((greedy_match(b, g, IOU) >= 0).astype(np.int8))
        gt.append(len(g))
    return ImageMatches(scores, hits, np.array(gt))


def average_precision(scores: np.ndarray, hits: np.ndarray, num_gt: int) -> float:
    """COCO's 101-point interpolated AP (precision made monotone, read at each recall threshold)."""
    if num_gt == 0:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")  # COCOeval sorts detections the same stable way
    tp = np.cumsum(hits[order])
    fp = np.cumsum(1 - hits[order])
    recall = tp / num_gt
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    precision = np.maximum.accumulate(precision[::-1])[::-1] if len(precision) else precision
    idx = np.searchsorted(recall, RECALL_POINTS, side="left")
    return float(np.where(idx < len(precision), precision[np.minimum(idx, len(precision) - 1)], 0.0).mean())


def mean_ap(matches: list[ImageMatches], picks: np.ndarray, num_classes: int) -> tuple[float, np.ndarray]:
    """mAP@0.5 and per-class AP over the images ``picks`` (indices, repeats allowed); NaN for classes without boxes."""
    aps = np.full(num_classes, np.nan)
    for k in range(num_classes):
        num_gt = int(sum(matches[i].gt[k] for i in picks))
        if num_gt:
            s = np.concatenate([matches[i].scores[k] for i in picks])
            h = np.concatenate([matches[i].hits[k] for i in picks])
            aps[k] = average_precision(s, h, num_gt)
    return (float(np.nanmean(aps)) if np.isfinite(aps).any() else 0.0), aps


def compare_detections(dataset: Dataset, dets_a: dict[str, list[Detection]], dets_b: dict[str, list[Detection]],
                       classes: list[str], resamples: int = 1000, seed: int = 0) -> Comparison:
    """Paired bootstrap over images of mAP@0.5(B) - mAP@0.5(A)."""
    index = {c: k for k, c in enumerate(classes)}
    per_model = []
    for dets in (dets_a, dets_b):
        per_model.append([
            match_image(im.box_array(),
                        np.array([index[b.label] for b in im.boxes], dtype=np.int64), dets.get(im.name, []), classes)
            for im in dataset.images
        ])
    everything = np.arange(len(dataset.images))
    (map_a, ap_a), (map_b, ap_b) = (mean_ap(m, everything, len(classes)) for m in per_model)
    rng = np.random.default_rng(seed)
    diffs = np.empty(resamples)
    for r in range(resamples):
        picks = rng.integers(len(everything), size=len(everything))
        diffs[r] = mean_ap(per_model[1], picks, len(classes))[0] - mean_ap(per_model[0], picks, len(classes))[0]
    low, high = np.percentile(diffs, [2.5, 97.5]) if resamples else (np.nan, np.nan)
    return Comparison(map_a, map_b, map_b - map_a, float(low), float(high),
                      float((diffs > 0).mean()) if resamples else float("nan"),
                      {c: float(ap_b[k] - ap_a[k]) for k, c in enumerate(classes) if np.isfinite(ap_a[k])}, resamples)
