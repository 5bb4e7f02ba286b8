"""Confusion matrix of a detector: detections above a threshold matched to boxes at IoU >= 0.5.

Rows are the true class (last row: background, i.e. false positives), columns
the predicted class (last column: missed boxes).
"""

from __future__ import annotations

import numpy as np

from dabai.data.dataset import Dataset
from dabai.runtime.types import Detection


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-9)


def confusion_matrix(dataset: Dataset, detections: dict[str, list[Detection]], classes: list[str],
                     conf: float = 0.3, iou: float = 0.5) -> np.ndarray:
    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((k + 1, k + 1), dtype=np.int64)
    for record in dataset.images:
        gt = record.box_array()
        gt_cls = [index[b.label] for b in record.boxes]
        dets = sorted((d for d in detections.get(record.name, []) if d.score >= conf), key=lambda d: -d.score)
        matched = set()
        for d in dets:
            j_best, best = -1, iou
            if len(gt):
                ious = box_iou(np.array([d.bbox]), gt)[0]
                for j in np.argsort(-ious):
                    if ious[j] < best:
                        break
                    if j not in matched:
                        j_best = int(j)
                        break
            if j_best < 0:
                matrix[k, index[d.label]] += 1  # background predicted as a class
            else:
                matched.add(j_best)
                matrix[gt_cls[j_best], index[d.label]] += 1
        for j, c in enumerate(gt_cls):
            if j not in matched:
                matrix[c, k] += 1  # missed
    return matrix
