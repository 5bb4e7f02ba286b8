"""The second stage of the mask checker: a face-crop classifier that re-judges every face the detector found.

A detector sees a crowd at 384 px, where a face is a few pixels; the classifier sees each face at its own
scale (a square ``context`` times the face's side, resized to ``input_size``), so how a mask is worn is
judged on the face, whatever the camera. Training (``dabai.train.classifier``) cuts its crops with the
same ``face_crop`` as inference.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from dabai.core.errors import ModelError
from dabai.runtime.preprocess import PAD_VALUE


def crop_window(box, context: float) -> tuple[int, int, int]:
    """(left, top, side) in whole pixels of the square that ``face_crop`` cuts around ``box``: centred on
    the box, ``context`` times its longer side. Training targets and inference decoding of the box head use
    this same window, so a box predicted in the crop's unit square maps back exactly."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1, 1.0) * context
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return int(round(cx - side / 2)), int(round(cy - side / 2)), max(1, int(round(side)))


def face_crop(image_rgb: np.ndarray, box, context: float, size: int) -> np.ndarray:
    """The square around ``box`` (x1, y1, x2, y2), ``context`` times its longer side, as ``size`` x ``size``
    uint8 RGB; parts outside the image are grey (the letterbox's pad value)."""
    left, top, span = crop_window(box, context)
    h, w = image_rgb.shape[:2]
    window = np.full((span, span, 3), PAD_VALUE, dtype=np.uint8)
    sx1, sy1, sx2, sy2 = max(0, left), max(0, top), min(w, left + span), min(h, top + span)
    if sx2 > sx1 and sy2 > sy1:
        window[sy1 - top:sy2 - top, sx1 - left:sx2 - left] = image_rgb[sy1:sy2, sx1:sx2]
    interp = cv2.INTER_AREA if span > size else cv2.INTER_LINEAR
    return cv2.resize(window, (size, size), interpolation=interp)


def boxes_from_unit(unit: np.ndarray, boxes: np.ndarray, context: float) -> np.ndarray:
    """Boxes [N, 4] in image pixels from the box head's output [N, 4] (x1, y1, x2, y2 in each crop's unit
    square), given the boxes the crops were cut around."""
    windows = np.array([crop_window(b, context) for b in boxes], dtype=np.float32).reshape(-1, 3)
    origin = np.tile(windows[:, :2], 2)  # left, top, left, top
    boxes = origin + np.asarray(unit, np.float32).reshape(-1, 4) * windows[:, 2:3]
    # corners in order whatever the head says (an x2 left of x1 is the same box read the other way round)
    return np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]), np.maximum(boxes[:, :2], boxes[:, 2:])], 1)


class CropClassifier:
    """An ONNX face-crop classifier: float32 NCHW RGB 0..255 in, class probabilities [N, C] out."""

    def __init__(self, path: str | Path, threads: int | None = None):
        from dabai.runtime.backends import onnx_session

        self.path = Path(path)
        self.session = onnx_session(self.path, threads, what="classifier")
        meta = self.session.get_modelmeta().custom_metadata_map
        missing = [k for k in ("classes", "input_size", "crop_context") if k not in meta]
        if missing:
            raise ModelError(f"{self.path}: not a dabai crop classifier (no {', '.join(missing)} metadata)")
        self.classes = json.loads(meta["classes"])
        self.input_size = int(meta["input_size"])
        self.context = float(meta["crop_context"])
        self.input_name = self.session.get_inputs()[0].name
        # a second output "boxes": the face's box in the crop's unit square (the box head, optional)
        self.has_box_head = [o.name for o in self.session.get_outputs()][1:2] == ["boxes"]

    def release_memory(self) -> None:
        """Hand ONNX Runtime's CPU arena back (runtime/backends.release_arena)."""
        from dabai.runtime.backends import release_arena

        release_arena(self.session, self.input_name, (1, 3, self.input_size, self.input_size))

    def crops(self, image_rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        return np.stack([face_crop(image_rgb, b, self.context, self.input_size) for b in boxes])

    def __call__(self, crops_hwc: np.ndarray) -> np.ndarray:
        """Probabilities [N, C] for N crops (N x size x size x 3 uint8 RGB)."""
        return self.run(crops_hwc)[0]

    def run(self, crops_hwc: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(probabilities [N, C], the box head's faces [N, 4] in each crop's unit square, or None for a
        classifier without a box head)."""
        if len(crops_hwc) == 0:
            empty = np.zeros((0, 4), np.float32) if self.has_box_head else None
            return np.zeros((0, len(self.classes)), np.float32), empty
        batch = np.ascontiguousarray(crops_hwc.transpose(0, 3, 1, 2)).astype(np.float32)
        outputs = self.session.run(None, {self.input_name: batch})
        return outputs[0], (outputs[1] if self.has_box_head else None)
