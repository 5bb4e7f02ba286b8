"""The second look at crowded frames (runtime/tiles.py): tiles that cover the frame, the trigger, and tile
candidates mapped back to the frame with cut and oversized faces dropped."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.runtime.tiles import small_unsure_faces, tile_faces, tile_windows, windows_holding


@pytest.mark.parametrize("width,height,grid,overlap", [(640, 480, 2, 0.2), (1920, 1080, 3, 0.25), (300, 500, 2, 0.0),
                                                        (101, 77, 4, 0.3)])
def test_tiles_cover_the_frame_and_overlap_as_asked(width, height, grid, overlap):
    windows = tile_windows(width, height, grid, overlap)
    assert len(windows) == grid * grid
    covered = np.zeros((height, width), bool)
    for x0, y0, x1, y1 in windows:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    (ax0, _, ax1, _), (bx0, _, _, _) = windows[0], windows[1]
    assert (ax1 - bx0) == pytest.approx(overlap * (ax1 - ax0), abs=1.5)


@pytest.mark.parametrize("side,score,expected", [(20, 0.3, True), (20, 0.1, False), (60, 0.9, False), (31, 0.2, True)])
def test_the_second_look_needs_a_small_face_scoring_enough(side, score, expected):
    boxes = np.array([[10, 10, 10 + side, 10 + side], [100, 100, 300, 300]], np.float32)
    face = np.array([score, 0.95], np.float32)
    assert (small_unsure_faces(boxes, face, 384, trigger=0.2, small=32 / 384).tolist() == [0]) is expected


class _Backend:
    """Returns, for every tile, the same boxes (input pixels) and scores; records the batch it was given."""

    def __init__(self, boxes):
        self.boxes = np.array(boxes, np.float32)
        self.batches = []

    def __call__(self, batch):
        self.batches.append(batch.shape)
        n = batch.shape[0]
        scores = np.tile(np.linspace(0.9, 0.5, len(self.boxes), dtype=np.float32)[:, None], (1, 3))
        return np.repeat(self.boxes[None], n, 0), np.repeat(scores[None], n, 0)


def test_tile_candidates_are_mapped_to_the_frame_and_cut_faces_dropped():
    image = np.zeros((400, 400, 3), np.uint8)
    windows = tile_windows(400, 400, 2, 0.2)  # tiles of ~222 px, seen at 384 px: scale 384/222
    backend = _Backend([[100, 100, 130, 130],   # a small face inside every tile
                        [0, 150, 30, 180],      # touches the tile's left edge
                        [20, 20, 370, 370]])    # larger than half a tile
    boxes, scores = tile_faces(backend, image, windows, 384)
    assert backend.batches == [(4, 3, 384, 384)]  # one batched call
    tile = windows[0][2] - windows[0][0]
    scale = 384 / tile
    # the small face from each tile, shifted by the tile's origin
    expected = [np.array([100, 100, 130, 130]) / scale + [x0, y0, x0, y0] for x0, y0, _, _ in windows]
    # the left-edge face is kept only where the tile's left edge is the frame's (x0 == 0)
    expected += [np.array([0, 150, 30, 180]) / scale + [x0, y0, x0, y0] for x0, y0, _, _ in windows if x0 == 0]
    assert len(boxes) == len(expected) == len(scores) == 6
    for e in expected:
        assert np.abs(boxes - e).max(axis=1).min() < 1e-3
    assert not (np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) > 0.5 * tile).any()


def test_only_the_tiles_holding_a_small_unsure_face_are_looked_at_again():
    windows = tile_windows(400, 400, 2, 0.2)  # [0, 222) and [178, 400) on each axis
    boxes = np.array([[10, 10, 20, 20],        # top-left tile only
                      [190, 300, 210, 320]],   # centre x 200: both columns; y 310: bottom row only
                     np.float32)
    assert windows_holding(windows, boxes) == [windows[0], windows[2], windows[3]]
    assert windows_holding(windows, np.zeros((0, 4), np.float32)) == []
    first = np.array([[0, 0, 10, 10], [0, 0, 200, 200], [5, 5, 25, 25]], np.float32)
    assert small_unsure_faces(first, np.array([0.9, 0.9, 0.1]), 384, 0.3, 32 / 384).tolist() == [0]
