"""Draw detections on an image (BGR) in class-specific colours with score labels (``core.draw`` draws)."""

from __future__ import annotations

import numpy as np

from dabai.core.draw import class_colour, draw_boxes
from dabai.runtime.types import Detection


def draw_detections(image_bgr: np.ndarray, detections: list[Detection]) -> np.ndarray:
    return draw_boxes(image_bgr, [(d.bbox, class_colour(d.label), f"{d.label} {d.score:.2f}") for d in detections])
