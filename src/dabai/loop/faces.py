"""Faces as the loop sees them: one box with a score per class, and an independent face detector to check them.

A checker reports a face once per class (same box, one score each, ``runtime/checker.py``); ``group_faces``
folds those detections back into one :class:`Face` so that its class margin can be read. A plain detector's
boxes of one face differ a little per class; they are folded together by overlap.

:class:`FaceFinder` is a face detector that is *not* the checker (OpenCV's YuNet, or an UltraFace ONNX with
decoded ``scores``/``boxes`` outputs): where it and the checker disagree about where the faces are, a label
would teach something (``mine``), and it measures how good ``label``'s boxes are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dabai.core.boxes import box_iou_matrix
from dabai.core.errors import ModelError
from dabai.runtime.types import Detection

SAME_FACE_IOU = 0.7  # detections of different classes overlapping this much are one face


@dataclass(frozen=True)
class Face:
    """One face: its box (x1, y1, x2, y2, source pixels) and the score of each class."""

    bbox: tuple[float, float, float, float]
    scores: dict[str, float]

    @property
    def label(self) -> str:
        return max(self.scores, key=self.scores.get)

    @property
    def score(self) -> float:
        return self.scores[self.label]

    @property
    def presence(self) -> float:
        """How sure the model is that a face is there: the sum of its class scores (a checker's class scores
        are P(face) times class shares that sum to one), capped at 1."""
        return min(1.0, sum(self.scores.values()))

    @property
    def margin(self) -> float:
        """Best minus second-best class share (0: a coin toss between two classes, 1: no doubt)."""
        total = sum(self.scores.values())
        if total <= 0:
            return 0.0
        shares = sorted((s / total for s in self.scores.values()), reverse=True) + [0.0]
        return shares[0] - shares[1]


def group_faces(detections: list[Detection], classes: list[str], same_face_iou: float = SAME_FACE_IOU) -> list[Face]:
    """Fold per-class detections (run at a low ``conf``) into faces, best first."""
    dets = sorted(detections, key=lambda d: -d.score)
    if not dets:
        return []
    boxes = np.array([d.bbox for d in dets], dtype=np.float64)
    overlap = box_iou_matrix(boxes, boxes)
    used = np.zeros(len(dets), dtype=bool)
    faces = []
    for i, d in enumerate(dets):
        if used[i]:
            continue
        members = np.nonzero(~used & (overlap[i] >= same_face_iou))[0]
        used[members] = True
        scores = dict.fromkeys(classes, 0.0)
        for j in members:
            scores[dets[j].label] = max(scores.get(dets[j].label, 0.0), dets[j].score)
        faces.append(Face(bbox=d.bbox, scores=scores))
    return faces


def unmatched(a: np.ndarray, b: np.ndarray, iou: float = 0.5) -> int:
    """How many boxes of ``a`` ([N, 4]) have no box of ``b`` overlapping them by ``iou`` or more."""
    if len(a) == 0:
        return 0
    if len(b) == 0:
        return len(a)
    return int((box_iou_matrix(a, b).max(axis=1) < iou).sum())


class FaceFinder:
    """An independent face detector: ``finder(image_bgr) -> [N, 5]`` (x1, y1, x2, y2, score) in source pixels.

    ``path`` is OpenCV's YuNet (``face_detection_yunet*.onnx``, run by ``cv2.FaceDetectorYN``) or an
    UltraFace ONNX (outputs ``scores`` [1, N, 2] and ``boxes`` [1, N, 4] in 0..1, input 1x3xHxW RGB,
    (x - 127) / 128); which one is read from the file's outputs.
    """

    def __init__(self, path: str | Path, min_score: float = 0.6, nms_iou: float = 0.3):
        from dabai.runtime.backends import onnx_session

        self.path = Path(path)
        self.min_score, self.nms_iou = min_score, nms_iou
        session = onnx_session(self.path, what="face detector")
        outputs = {o.name for o in session.get_outputs()}
        if {"scores", "boxes"} <= outputs:
            self.kind, self.session = "ultraface", session
            shape = session.get_inputs()[0].shape
            self.input_hw = (int(shape[2]), int(shape[3]))
            self.input_name = session.get_inputs()[0].name
        elif {"cls_8", "bbox_8"} <= outputs:
            import cv2

            self.kind, self.session = "yunet", None
            self._yunet = cv2.FaceDetectorYN.create(str(self.path), "", (320, 320), min_score, nms_iou, 5000)
        else:
            raise ModelError(f"{self.path}: not a face detector this knows (expected OpenCV's YuNet, or an UltraFace "
                             f"ONNX with 'scores' and 'boxes' outputs; its outputs are {sorted(outputs)})")

    def __call__(self, image_bgr: np.ndarray) -> np.ndarray:
        image_bgr = _three_channels(image_bgr)
        return self._yunet_rows(image_bgr)[:, :5] if self.kind == "yunet" else self._ultraface_faces(image_bgr)

    def require_landmarks(self) -> None:
        """Fail at once, naming what would work, when this finder gives no landmarks (before any output is made)."""
        if self.kind != "yunet":
            raise ModelError(f"{self.path}: an UltraFace finder gives no face landmarks; use OpenCV's YuNet "
                             f"(face_detection_yunet*.onnx)")

    def landmarks(self, image_bgr: np.ndarray) -> np.ndarray:
        """``[N, 15]``: x1, y1, x2, y2, score, then five (x, y) points (eyes, nose tip, mouth corners) in source
        pixels. Only YuNet gives points; an UltraFace finder is an error that says so."""
        self.require_landmarks()
        return self._yunet_rows(_three_channels(image_bgr))

    def _yunet_rows(self, image: np.ndarray) -> np.ndarray:
        """YuNet's faces as ``[N, 15]`` rows (box corners, score, five points)."""
        h, w = image.shape[:2]
        self._yunet.setInputSize((w, h))
        _, found = self._yunet.detect(image)
        if found is None:
            return np.zeros((0, 15), np.float32)
        x, y, bw, bh = found[:, 0], found[:, 1], found[:, 2], found[:, 3]
        return np.concatenate([np.stack([x, y, x + bw, y + bh, found[:, 14]], axis=1), found[:, 4:14]],
                              axis=1).astype(np.float32)

    def _ultraface_faces(self, image: np.ndarray) -> np.ndarray:
        import cv2

        from dabai.core.boxes import nms
        from dabai.runtime.ultraface import ultraface_outputs

        scores, boxes = ultraface_outputs(self.session, self.input_name, cv2.cvtColor(image, cv2.COLOR_BGR2RGB),
                                          self.input_hw)
        score = scores[:, 1]
        keep = score >= self.min_score
        if not keep.any():
            return np.zeros((0, 5), np.float32)
        box = boxes[keep]
        score = score[keep]
        idx = nms(box, score, None, self.nms_iou)
        return np.concatenate([box[idx], score[idx, None]], axis=1).astype(np.float32)


def _three_channels(image: np.ndarray) -> np.ndarray:
    """A grey image as three channels (both face models read BGR); a colour one as it is."""
    if image.ndim == 2:
        import cv2

        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image
