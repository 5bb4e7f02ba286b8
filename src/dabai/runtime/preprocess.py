"""Pre-processing shared by training, predict, eval, serve, bench and the gate.

Images are letterboxed into a square: resized so the long side fits, placed at
the top-left, padded with grey. Top-left placement makes the inverse a single
division by the scale. The output is float32 RGB in 0..255, NCHW; the model
normalises internally.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 114


@dataclass(frozen=True)
class Letterbox:
    scale: float  # input pixels per source pixel
    src_width: int
    src_height: int


def letterbox(image_rgb: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """Resize-and-pad an HxWx3 uint8 RGB image into size x size (uint8, HWC)."""
    h, w = image_rgb.shape[:2]
    scale = min(size / w, size / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image_rgb, (nw, nh), interpolation=interp) if (nw, nh) != (w, h) else image_rgb
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    canvas[:nh, :nw] = resized
    return canvas, Letterbox(scale=scale, src_width=w, src_height=h)


def to_tensor_layout(images_hwc: list[np.ndarray]) -> np.ndarray:
    """Stack HWC uint8 images into a float32 NCHW batch in 0..255."""
    batch = np.stack(images_hwc).astype(np.float32)
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


