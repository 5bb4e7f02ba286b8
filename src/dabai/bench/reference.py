"""A reference to time the checker against: the off-the-shelf UltraFace RFB-640 masked-face detector.

The 1.5 MB ONNX (Ultra-Light-Fast-Generic-Face-Detector, MIT; ``../shared/weights``) takes a 640x480 RGB
frame normalised as (x - 127) / 128 and gives decoded boxes (0..1) with background / face / masked_face
scores. It is run as a user would: decode, resize, normalise, infer, NMS, boxes back to source pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dabai.core.boxes import nms
from dabai.core.images import load_image_rgb
from dabai.runtime.backends import onnx_session
from dabai.runtime.types import Detection
from dabai.runtime.ultraface import ultraface_outputs

LABELS = {1: "without_mask", 2: "with_mask"}  # its 'face' is a bare face, 'masked_face' a masked one


class UltraFaceMasked:
    def __init__(self, path: str | Path, threads: int | None = None, conf: float = 0.3, iou: float = 0.3):
        self.session = onnx_session(Path(path), threads, what="reference model")
        self.input_name = self.session.get_inputs()[0].name
        _, _, self.height, self.width = self.session.get_inputs()[0].shape
        self.conf, self.iou = conf, iou
        self.input_size = self.width

    def __call__(self, image) -> list[Detection]:
        rgb = load_image_rgb(image)
        scores, boxes = ultraface_outputs(self.session, self.input_name, rgb, (self.height, self.width))
        out = []
        for cls, label in LABELS.items():
            keep = np.nonzero(scores[:, cls] >= self.conf)[0]
            if keep.size:
                for k in nms(boxes[keep], scores[keep, cls], None, self.iou):
                    i = keep[k]
                    out.append(Detection(tuple(float(v) for v in boxes[i]), float(scores[i, cls]), label))
        return out

    def detect_batch(self, images) -> list[list[Detection]]:
        return [self(image) for image in images]
