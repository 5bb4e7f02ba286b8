"""Box geometry shared by the data tools and training augmentation (NumPy, [N, 4] x1 y1 x2 y2)."""

from __future__ import annotations

import numpy as np


def clip_to_window(boxes: np.ndarray, window, min_visible: float = 0.5,
                   min_side: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Boxes cut by a window (a crop, a mosaic tile, a close-up): which to keep, and where.

    Returns (mask of boxes with at least ``min_visible`` of their area inside ``window`` and both
    clipped sides >= ``min_side``, all boxes clipped to the window). A face mostly outside the
    crop is dropped rather than kept as a sliver the detector would be taught to call a face.
    """
    boxes = np.asarray(boxes)
    if not np.issubdtype(boxes.dtype, np.floating):
        boxes = boxes.astype(np.float64)
    left, top, right, bottom = window
    clipped = boxes.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(left, right)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(top, bottom)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    w, h = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    ok = (w.clip(0) * h.clip(0) >= min_visible * np.maximum(area, 1e-6)) & (w >= min_side) & (h >= min_side)
    return ok, clipped
