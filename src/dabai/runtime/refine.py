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


def face_crop(image_rgb: np.ndarray, box, context: float, size: int) -> np.ndarray:
    """The square around ``box`` (x1, y1, x2, y2), ``context`` times its longer side, as ``size`` x ``size``
    uint8 RGB; parts outside the image are grey (the letterbox's pad value)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1, 1.0) * context
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    span = max(1, int(round(side)))
    h, w = image_rgb.shape[:2]
    window = np.full((span, span, 3), PAD_VALUE, dtype=np.uint8)
    sx1, sy1, sx2, sy2 = max(0, left), max(0, top), min(w, left + span), min(h, top + span)
    if sx2 > sx1 and sy2 > sy1:
        window[sy1 - top:sy2 - top, sx1 - left:sx2 - left] = image_rgb[sy1:sy2, sx1:sx2]
    interp = cv2.INTER_AREA if span > size else cv2.INTER_LINEAR
    return cv2.resize(window, (size, size), interpolation=interp)


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

    def release_memory(self) -> None:
        """Hand ONNX Runtime's CPU arena back (runtime/backends.release_arena)."""
        from dabai.runtime.backends import release_arena

        release_arena(self.session, self.input_name, (1, 3, self.input_size, self.input_size))

    def crops(self, image_rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        return np.stack([face_crop(image_rgb, b, self.context, self.input_size) for b in boxes])

    def __call__(self, crops_hwc: np.ndarray) -> np.ndarray:
        """Probabilities [N, C] for N crops (N x size x size x 3 uint8 RGB)."""
        if len(crops_hwc) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        batch = np.ascontiguousarray(crops_hwc.transpose(0, 3, 1, 2)).astype(np.float32)
        return self.session.run(None, {self.input_name: batch})[0]
