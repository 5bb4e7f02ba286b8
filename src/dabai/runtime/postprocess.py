"""Post-processing shared by every backend: score threshold, top-k, NMS, un-letterbox.

Works on the decoded model outputs (boxes [A, 4] in input pixels, scores [A, C])
in NumPy so that PyTorch checkpoints and ONNX files give identical detections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dabai.core.boxes import nms
from dabai.runtime.preprocess import Letterbox, to_source
from dabai.runtime.types import Detection


@dataclass(frozen=True)
class PostprocessOptions:
    conf: float = 0.3  # minimum class score to keep a detection
    iou: float = 0.5  # NMS IoU threshold
    max_detections: int = 100  # per image, as COCO evaluation counts them
    pre_nms_top_k: int = 1000  # candidates per image entering NMS
    class_agnostic: bool = False  # True: one label per face (suppress across classes)


def postprocess(boxes: np.ndarray, scores: np.ndarray, lb: Letterbox, classes: list[str],
                options: PostprocessOptions = PostprocessOptions()) -> list[Detection]:
    # every (point, class) pair above the threshold is a candidate, as in multi-label detectors
    floor = max(options.conf, 1e-4)
    idx, cls = np.nonzero(scores >= floor)
    cand_scores = scores[idx, cls]
    if cand_scores.size > options.pre_nms_top_k:
        top = np.argpartition(-cand_scores, options.pre_nms_top_k)[: options.pre_nms_top_k]
        idx, cls, cand_scores = idx[top], cls[top], cand_scores[top]
    if cand_scores.size == 0:
        return []
    cand_boxes = to_source(boxes[idx], lb)
    keep = nms(cand_boxes, cand_scores, None if options.class_agnostic else cls, options.iou)
    keep = keep[: options.max_detections]
    return [
        Detection(bbox=tuple(float(v) for v in cand_boxes[i]), score=float(cand_scores[i]), label=classes[int(cls[i])])
        for i in keep
    ]
