"""A second, closer look at crowded frames: the frame cut into overlapping tiles, each run through the
detector at its full input size, only when the first pass saw a small face it was unsure of.

At the detector's 384-px input a face in a crowd photo is a few pixels wide, and most of the faces the
mask checker misses are such faces (docs/detector.md, session 13). Each tile of a 2 x 2 grid is seen at
about twice the scale. This is slicing-aided inference (SAHI, Akyon et al. 2022): full frame plus slices,
merged before the faces are judged, and only through the tiles that hold a small unsure face
(``tile_where: unsure``; ``all``: every tile). A gate camera's close-up has no small unsure face, so it never
pays for the second pass. The options live in the checker's manifest (``runtime/checker.py``: ``tiles``,
``tile_overlap``, ``tile_trigger``, ``tile_small``, ``tile_where``).
"""

from __future__ import annotations

import numpy as np

from dabai.runtime.preprocess import letterbox, to_source, to_tensor_layout

EDGE_MARGIN = 2.0  # a tile's box this close (pixels) to an edge shared with another tile is a cut face


def tile_windows(width: int, height: int, grid: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of a ``grid`` x ``grid`` cover of the frame, neighbours sharing ``overlap`` of a
    tile's side."""
    tw = width / (grid - (grid - 1) * overlap)
    th = height / (grid - (grid - 1) * overlap)
    windows = []
    for gy in range(grid):
        for gx in range(grid):
            x0, y0 = int(round(gx * tw * (1 - overlap))), int(round(gy * th * (1 - overlap)))
            windows.append((x0, y0, min(width, int(round(x0 + tw))), min(height, int(round(y0 + th)))))
    return windows


def small_unsure_faces(boxes: np.ndarray, face: np.ndarray, input_size: int, trigger: float, small: float) -> np.ndarray:
    """Indices of the first pass's faces (boxes [A, 4] in input pixels, face scores [A]) smaller than
    ``small`` of the input side that score at least ``trigger``: the faces that call for a second look."""
    side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    return np.nonzero((face >= trigger) & (side < small * input_size))[0]


def windows_holding(windows, boxes: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The windows that hold the centre of at least one of ``boxes`` (frame pixels)."""
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    return [w for w in windows if ((cx >= w[0]) & (cx < w[2]) & (cy >= w[1]) & (cy < w[3])).any()]


def tile_faces(backend, image_rgb: np.ndarray, windows, input_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The detector's raw candidates on every tile (one batched call), as boxes [K, 4] in frame pixels and
    class scores [K, C]. A box that touches an edge the tile shares with a neighbour is dropped (a cut
    face; the neighbour or the full frame sees it whole). So is a box wider than half the tile (a face that
    large is the full frame's)."""
    h, w = image_rgb.shape[:2]
    canvases, letterboxes = [], []
    for x0, y0, x1, y1 in windows:
        canvas, lb = letterbox(image_rgb[y0:y1, x0:x1], input_size)
        canvases.append(canvas)
        letterboxes.append(lb)
    boxes, scores = backend(to_tensor_layout(canvases))
    kept_boxes, kept_scores = [], []
    for k, (x0, y0, x1, y1) in enumerate(windows):
        tw, th = x1 - x0, y1 - y0
        b = to_source(boxes[k], letterboxes[k])  # in the tile's pixels
        m = EDGE_MARGIN
        cut = (((b[:, 0] < m) & (x0 > 0)) | ((b[:, 1] < m) & (y0 > 0))
               | ((b[:, 2] > tw - m) & (x1 < w)) | ((b[:, 3] > th - m) & (y1 < h)))
        side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        keep = ~cut & (side < 0.5 * min(tw, th))
        kept_boxes.append(b[keep] + np.array([x0, y0, x0, y0], np.float32))
        kept_scores.append(scores[k][keep])
    return (np.concatenate(kept_boxes).astype(np.float32).reshape(-1, 4),
            np.concatenate(kept_scores).astype(np.float32).reshape(-1, scores.shape[-1]))
