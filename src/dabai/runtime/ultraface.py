"""The UltraFace ONNX input and output convention, shared by every UltraFace user (the reference detector in
``bench/reference.py``, the independent face finder in ``loop/faces.py`` and a checker's second finder,
:class:`FaceFinder`)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dabai.core.errors import ModelError
from dabai.runtime.backends import onnx_session


def normalise(image_rgb: np.ndarray) -> np.ndarray:
    """UltraFace's input from an RGB image already at the network's size: (x - 127) / 128, CHW float32 (also
    what the finder is trained on, train/finder.py)."""
    return ((image_rgb.astype(np.float32) - 127.0) / 128.0).transpose(2, 0, 1)


def ultraface_outputs(session, input_name: str, image_rgb: np.ndarray, input_hw: tuple[int, int]):
    """(scores [A, C], boxes [A, 4] x1, y1, x2, y2 in source pixels) of one RGB image: resized to the
    network's input, normalised as (x - 127) / 128, NCHW."""
    h, w = image_rgb.shape[:2]
    ih, iw = input_hw
    x = normalise(cv2.resize(image_rgb, (iw, ih)))[None]
    scores, boxes = session.run(["scores", "boxes"], {input_name: np.ascontiguousarray(x)})
    return scores[0], boxes[0] * np.array([w, h, w, h], np.float32)


class FaceFinder:
    """A face-pretrained UltraFace model as a mask checker's second finder (manifest key ``face_finder``): its
    candidates join stage 1's before stage 2 judges them. P(face) is 1 − P(background), spread evenly over the
    checker's classes (three equal scores whose noisy-or is P(face)), since the classifier judges the mask."""

    def __init__(self, path: str | Path, threads: int | None = None):
        self.path = Path(path)
        self.session = onnx_session(self.path, threads, what="face finder")
        inputs = self.session.get_inputs()[0]
        outputs = {o.name for o in self.session.get_outputs()}
        if len(inputs.shape) != 4 or not {"scores", "boxes"} <= outputs:
            raise ModelError(f"{self.path}: not an UltraFace face finder (expected an NCHW input and outputs "
                             f"'scores' and 'boxes'; it has {sorted(outputs)})")
        self.input_name = inputs.name
        self.input_hw = (int(inputs.shape[2]), int(inputs.shape[3]))

    def __call__(self, image_rgb: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
        """(boxes [A, 4] in source pixels, class scores [A, num_classes]) of one RGB image."""
        scores, boxes = ultraface_outputs(self.session, self.input_name, image_rgb, self.input_hw)
        face = np.clip(1.0 - scores[:, 0], 0.0, 1.0)
        share = 1.0 - (1.0 - face) ** (1.0 / num_classes)
        return boxes.astype(np.float32), np.repeat(share[:, None], num_classes, axis=1).astype(np.float32)
