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


def to_source(boxes: np.ndarray, lb: Letterbox) -> np.ndarray:
    """Boxes [N, 4] in the letterboxed input's pixels as the source image's pixels, clipped to the image (a new
    array). With ``Letterbox(1.0, width, height)`` it only clips."""
    src = boxes / lb.scale
    src[:, [0, 2]] = src[:, [0, 2]].clip(0, lb.src_width)
    src[:, [1, 3]] = src[:, [1, 3]].clip(0, lb.src_height)
    return src


def to_tensor_layout(images_hwc: list[np.ndarray]) -> np.ndarray:
    """Stack HWC uint8 images (all of one size) into a float32 NCHW batch in 0..255.

    Each channel plane is split out by OpenCV and cast while it is copied into the batch: about 8x faster than
    NumPy's stack, cast and transpose of the whole batch (0.3 against 2.5 ms for one 384-px image on this
    project's CPU; docs/benchmarks.md), with the same values."""
    if not images_hwc:
        raise ValueError("to_tensor_layout needs at least one image")
    h, w = images_hwc[0].shape[:2]
    batch = np.empty((len(images_hwc), 3, h, w), np.float32)
    for i, image in enumerate(images_hwc):
        if image.shape != (h, w, 3):
            raise ValueError(f"image {i} is {image.shape}, expected {(h, w, 3)} like the first")
        for c, plane in enumerate(cv2.split(image)):
            batch[i, c] = plane
    return batch


