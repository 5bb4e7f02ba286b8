"""Draw labelled boxes on an image (BGR), in one colour per class: the one drawing primitive of every
picture Dabai writes (predictions, contact sheets, galleries)."""

from __future__ import annotations

import cv2
import numpy as np

COLOURS = {  # BGR
    "with_mask": (60, 180, 60),
    "without_mask": (40, 40, 220),
    "mask_weared_incorrect": (0, 165, 255),
}
OTHER_COLOUR = (255, 200, 0)  # a class without its own colour


def class_colour(label: str) -> tuple[int, int, int]:
    return COLOURS.get(label, OTHER_COLOUR)


def draw_boxes(image_bgr: np.ndarray, boxes, thickness: int | None = None, font_scale: float | None = None) -> np.ndarray:
    """A copy of ``image_bgr`` with ``boxes`` drawn: (x1, y1, x2, y2), BGR colour, text ('' for none), in order.
    Line width and text size follow the image size unless given."""
    out = image_bgr.copy()
    thickness = thickness or max(1, round(max(out.shape[:2]) / 400))
    font_scale = font_scale or 0.4 * thickness
    for bbox, colour, text in boxes:
        x1, y1, x2, y2 = (int(round(v)) for v in bbox)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness)
        if not text:
            continue
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        top = max(0, y1 - th - base - 2)
        cv2.rectangle(out, (x1, top), (x1 + tw + 2, top + th + base + 2), colour, -1)
        cv2.putText(out, text, (x1 + 1, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return out
