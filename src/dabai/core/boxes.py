"""Box geometry on x1, y1, x2, y2 boxes in pixels: IoU of a pair and of two batches, greedy one-to-one
matching, clipping to a window. The one copy of each: runtime results, evaluation, parity, the data tools
and training augmentation all call these."""

from __future__ import annotations

import cv2
import numpy as np


def box_iou(a, b) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes (0 for empty ones)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` [N, 4] with every box of ``b`` [M, 4]: an [N, M] array."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-9)


def greedy_match(first, second, min_iou: float, allowed: np.ndarray | None = None) -> np.ndarray:
    """COCOeval's greedy one-to-one matching: each box of ``first``, in its order (detections best score
    first), takes the box of ``second`` with the highest IoU >= ``min_iou`` that no earlier box took.
    ``allowed`` ([N, M] bool) restricts the pairs, e.g. to the same class. Returns, per box of ``first``,
    the index of the box of ``second`` it took, or -1."""
    first = np.asarray(first, dtype=np.float64).reshape(-1, 4)
    second = np.asarray(second, dtype=np.float64).reshape(-1, 4)
    match = np.full(len(first), -1, dtype=np.int64)
    if len(first) == 0 or len(second) == 0:
        return match
    iou = box_iou_matrix(first, second)
    if allowed is not None:
        iou = np.where(allowed, iou, -1.0)
    free = np.ones(len(second), dtype=bool)
    for i in range(len(first)):
        candidates = np.where(free & (iou[i] >= min_iou), iou[i], -1.0)
        j = int(candidates.argmax())
        if candidates[j] >= 0:
            match[i], free[j] = j, False
    return match


def clip_to_window(boxes: np.ndarray, window, min_visible: float = 0.5,
                   min_side: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Boxes cut by a window (a crop, a mosaic tile, a close-up): which to keep, and where.

    Returns (mask of boxes with at least ``min_visible`` of their area inside ``window`` and both
    clipped sides >= ``min_side``, all boxes clipped to the window). A face mostly outside the
    crop is dropped rather than kept as a sliver the detector would be taught to call a face.
    """
    boxes = np.asarray(boxes)
    if not np.issubdtype(boxes.dtype, np.floating):
        boxes = boxes.astype(np.float64)
    left, top, right, bottom = window
    clipped = boxes.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(left, right)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(top, bottom)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    w, h = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    ok = (w.clip(0) * h.clip(0) >= min_visible * np.maximum(area, 1e-6)) & (w >= min_side) & (h >= min_side)
    return ok, clipped


def nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray | None, iou: float) -> np.ndarray:
    """Indices of ``boxes`` [N, 4] (x1, y1, x2, y2) kept by non-maximum suppression at ``iou``, best score
    first; with ``classes`` each class is suppressed on its own (OpenCV's batched NMS)."""
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1).astype(np.float32)
    if classes is None:
        keep = cv2.dnn.NMSBoxes(xywh.tolist(), scores.astype(np.float32).tolist(), 0.0, iou)
    else:
        keep = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.astype(np.float32).tolist(),
                                       classes.astype(np.int32).tolist(), 0.0, iou)
    keep = np.asarray(keep, dtype=np.int64).reshape(-1)
    return keep[np.argsort(-scores[keep], kind="stable")]
