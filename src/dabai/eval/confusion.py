"""Confusion matrix of a detector: detections above a threshold matched to boxes at IoU >= 0.5.

Rows are the true class (last row: background, i.e. false positives), columns
the predicted class (last column: missed boxes).
"""

from __future__ import annotations

import numpy as np

from dabai.core.boxes import greedy_match
from dabai.data.dataset import Dataset
from dabai.runtime.types import Detection


def confusion_matrix(dataset: Dataset, detections: dict[str, list[Detection]], classes: list[str],
                     conf: float = 0.3, iou: float = 0.5) -> np.ndarray:
    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((k + 1, k + 1), dtype=np.int64)
    for record in dataset.images:
        gt = record.box_array()
        gt_cls = [index[b.label] for b in record.boxes]
        dets = sorted((d for d in detections.get(record.name, []) if d.score >= conf), key=lambda d: -d.score)
        match = greedy_match([d.bbox for d in dets], gt, iou)
        for d, j in zip(dets, match):
            if j < 0:
                matrix[k, index[d.label]] += 1  # background predicted as a class
            else:
                matrix[gt_cls[j], index[d.label]] += 1
        matched = set(match[match >= 0].tolist())
        for j, c in enumerate(gt_cls):
            if j not in matched:
                matrix[c, k] += 1  # missed
    return matrix
