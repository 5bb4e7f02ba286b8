"""The benchmark input: a 400-px JPEG, either a real photo (``--image``) or a drawn stand-in."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dabai.core.errors import DataError
from dabai.core.images import read_bgr

BENCH_SIDE = 400  # the long side of the benchmark image, in pixels


def bench_jpeg(image: str | Path | None = None, side: int = BENCH_SIDE, quality: int = 90) -> bytes:
    """JPEG bytes with a long side of ``side`` px: ``image`` resized, or a drawn scene with two faces."""
    if image is not None:
        array = read_bgr(image)  # a missing or unreadable file is a DataError naming it
        h, w = array.shape[:2]
        scale = side / max(h, w)
        array = cv2.resize(array, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    else:
        array = _drawn_scene(side)
    ok, data = cv2.imencode(".jpg", array, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 BGR array
        raise DataError("could not encode the benchmark image as JPEG")
    return data.tobytes()


def _drawn_scene(side: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    h, w = int(side * 0.75), side
    yy, xx = np.mgrid[0:h, 0:w]
    canvas = np.stack([(xx * 200 // w), (yy * 180 // h), np.full_like(xx, 90)], axis=-1).astype(np.uint8)
    canvas = cv2.add(canvas, rng.integers(0, 25, canvas.shape, dtype=np.uint8))
    for cx, cy, r, mask in ((110, 140, 55, True), (290, 150, 60, False)):
        cv2.ellipse(canvas, (cx, cy), (r, int(r * 1.25)), 0, 0, 360, (150, 180, 225), -1)
        cv2.circle(canvas, (cx - r // 3, cy - r // 4), 6, (40, 40, 40), -1)
        cv2.circle(canvas, (cx + r // 3, cy - r // 4), 6, (40, 40, 40), -1)
        if mask:
            cv2.rectangle(canvas, (cx - r + 8, cy), (cx + r - 8, cy + r), (235, 225, 200), -1)
    return canvas
