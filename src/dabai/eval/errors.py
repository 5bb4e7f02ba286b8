"""A detector's errors face by face: false positives, missed faces and class confusions.

Per image, detections scoring at least ``conf`` are matched to the labelled faces greedily, best score
first, class-agnostic, at IoU >= ``iou`` (COCO's rule). Then:

- ``false_positive``: a detection that overlaps no labelled face at ``iou`` (its ``iou`` is its best
  overlap with any face); a second detection of an already matched face is a duplicate, not counted;
- ``confused``: a labelled face whose matched (best-scoring) detection has another class;
- ``missed``: a labelled face no detection matched; ``det`` is the best-scoring detection of any score
  that overlaps it at ``iou`` (it was under ``conf``), else the one overlapping it most, else none.

``eval --gallery`` draws them per class; ``data audit`` keeps the confident ones as likely label errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from dabai.core.boxes import box_iou_matrix, greedy_match
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.runtime.types import Detection

ErrorKind = Literal["false_positive", "missed", "confused"]
KINDS: tuple[ErrorKind, ...] = ("false_positive", "missed", "confused")


@dataclass(frozen=True)
class FaceError:
    kind: ErrorKind
    record: ImageRecord
    gt: Box | None  # the labelled face (None for a false positive)
    det: Detection | None  # the detection (None for a face nothing overlapped)
    iou: float  # IoU of gt and det; a false positive's best IoU with any labelled face

    @property
    def label(self) -> str:
        """The class the error is filed under: a false positive's detected class, else the labelled one."""
        return self.det.label if self.gt is None else self.gt.label

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return tuple(self.gt.as_list()) if self.gt is not None else tuple(self.det.bbox)

    @property
    def score(self) -> float:
        return self.det.score if self.det is not None else 0.0

    def describe(self) -> list[str]:
        """Caption lines: what the label says, then what the model said, with score and IoU."""
        if self.kind == "false_positive":
            return ["no labelled face here", f"FP {self.det.label} {self.det.score:.2f}, IoU {self.iou:.2f}"]
        if self.kind == "confused":
            return [f"labelled {self.gt.label}", f"-> {self.det.label} {self.det.score:.2f}, IoU {self.iou:.2f}"]
        if self.det is None:
            return [f"missed {self.gt.label}", "no detection near it"]
        return [f"missed {self.gt.label}", f"best {self.det.label} {self.det.score:.2f}, IoU {self.iou:.2f}"]

    ROW_FIELDS = ("image", "source", "kind", "label", "predicted", "score", "iou", "x1", "y1", "x2", "y2")

    def to_row(self) -> dict:
        x1, y1, x2, y2 = (round(float(v), 1) for v in self.bbox)
        return {"image": self.record.name, "source": self.record.source, "kind": self.kind,
                "label": self.gt.label if self.gt is not None else "",
                "predicted": self.det.label if self.det is not None else "",
                "score": round(self.score, 4), "iou": round(float(self.iou), 4),
                "x1": x1, "y1": y1, "x2": x2, "y2": y2}


def face_errors(record: ImageRecord, detections: list[Detection], conf: float, iou: float = 0.5) -> list[FaceError]:
    """The errors of one image (see the module's docstring)."""
    kept = sorted((d for d in detections if d.score >= conf), key=lambda d: -d.score)
    gt = record.box_array()
    ious = box_iou_matrix(np.array([d.bbox for d in kept], dtype=np.float64).reshape(-1, 4), gt) if len(gt) else \
        np.zeros((len(kept), 0))
    take = greedy_match([d.bbox for d in kept], gt, iou)  # COCOeval's matching, best detection first
    matched = {int(j): k for k, j in enumerate(take) if j >= 0}  # gt index -> index in kept
    errors: list[FaceError] = []
    for k, det in enumerate(kept):
        row = ious[k] if len(gt) else np.zeros(0)
        if take[k] < 0 and not (row >= iou).any():  # a second detection of a matched face is a duplicate
            errors.append(FaceError("false_positive", record, None, det, float(row.max()) if row.size else 0.0))
    for j, box in enumerate(record.boxes):
        if j in matched:
            det = kept[matched[j]]
            if det.label != box.label:
                errors.append(FaceError("confused", record, box, det, float(ious[matched[j], j])))
            continue
        errors.append(FaceError("missed", record, box, *_nearest(box, detections, iou)))
    return errors


def _nearest(box: Box, detections: list[Detection], iou: float) -> tuple[Detection | None, float]:
    if not detections:
        return None, 0.0
    overlaps = box_iou_matrix(np.array([d.bbox for d in detections], dtype=np.float64), np.array([box.as_list()]))[:, 0]
    close = np.nonzero(overlaps >= iou)[0]
    k = int(close[np.argmax([detections[i].score for i in close])]) if close.size else int(np.argmax(overlaps))
    return (detections[k], float(overlaps[k])) if overlaps[k] > 0 else (None, 0.0)


def dataset_errors(dataset: Dataset, detections: dict[str, list[Detection]], conf: float,
                   iou: float = 0.5) -> list[FaceError]:
    return [e for im in dataset.images for e in face_errors(im, detections.get(im.name, []), conf, iou)]


def worst(errors: list[FaceError], kind: ErrorKind, label: str, limit: int) -> list[FaceError]:
    """The ``limit`` worst errors of ``kind`` filed under ``label``: the most confident wrong detections
    first; for missed faces, the largest faces first (nobody should miss those)."""
    chosen = [e for e in errors if e.kind == kind and e.label == label]
    if kind == "missed":
        chosen.sort(key=lambda e: -e.gt.area)
    else:
        chosen.sort(key=lambda e: -e.score)
    return chosen[:limit]
