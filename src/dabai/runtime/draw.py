"""Draw detections on an image (BGR), with class-specific colours and score labels."""

from __future__ import annotations

import cv2
import numpy as np

from dabai.runtime.types import Detection

COLOURS = {  # BGR
    "with_mask": (60, 180, 60),
    "without_mask": (40, 40, 220),
    "mask_weared_incorrect": (0, 165, 255),
}


def draw_detections(image_bgr: np.ndarray, detections: list[Detection]) -> np.ndarray:
    out = image_bgr.copy()
    thickness = max(1, round(max(out.shape[:2]) / 400))
    for d in detections:
        x1, y1, x2, y2 = (int(round(v)) for v in d.bbox)
        colour = COLOURS.get(d.label, (255, 200, 0))
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness)
        text = f"{d.label} {d.score:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thickness, 1)
        top = max(0, y1 - th - base - 2)
        cv2.rectangle(out, (x1, top), (x1 + tw + 2, top + th + base + 2), colour, -1)
        cv2.putText(out, text, (x1 + 1, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thickness, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return out
