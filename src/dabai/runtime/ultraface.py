"""The UltraFace ONNX input and output convention, shared by every UltraFace user (the reference detector in
``bench/reference.py`` and the independent face finder in ``loop/faces.py``)."""

from __future__ import annotations

import cv2
import numpy as np


def ultraface_outputs(session, input_name: str, image_rgb: np.ndarray, input_hw: tuple[int, int]):
    """(scores [A, C], boxes [A, 4] x1, y1, x2, y2 in source pixels) of one RGB image: resized to the
    network's input, normalised as (x - 127) / 128, NCHW."""
    h, w = image_rgb.shape[:2]
    ih, iw = input_hw
    x = cv2.resize(image_rgb, (iw, ih)).astype(np.float32)
    x = ((x - 127.0) / 128.0).transpose(2, 0, 1)[None]
    scores, boxes = session.run(["scores", "boxes"], {input_name: np.ascontiguousarray(x)})
    return scores[0], boxes[0] * np.array([w, h, w, h], np.float32)
