"""Mosaic (train/augment.py): four images in one, faces at the scale they had alone."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.train.augment import mosaic

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]


def parts():
    """Four solid 200x100 images, each with one 40-px box labelled with its own index."""
    out = []
    for k, colour in enumerate(COLOURS):
        image = np.zeros((100, 200, 3), np.uint8)
        image[:] = colour
        out.append((image, np.array([[80, 30, 120, 70]], np.float32), np.array([k])))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_mosaic_boxes_land_on_their_own_image_at_their_own_scale(seed):
    image, boxes, labels = mosaic(parts(), 200, np.random.default_rng(seed))
    assert image.shape == (200, 200, 3) and len(boxes) == len(labels)
    assert ((boxes >= 0) & (boxes <= 200)).all()
    for (x1, y1, x2, y2), label in zip(boxes, labels):
        assert image[int((y1 + y2) / 2), int((x1 + x2) / 2)].tolist() == list(COLOURS[label])
        assert x2 - x1 <= 40.01 and y2 - y1 <= 40.01  # never enlarged
        assert (x2 - x1) * (y2 - y1) >= 0.5 * 40 * 40 - 1e-3  # at least half of each kept face shows


def test_mosaic_keeps_every_face_somewhere_over_many_draws():
    seen = set()
    for seed in range(40):
        _, _, labels = mosaic(parts(), 200, np.random.default_rng(seed))
        seen.update(labels.tolist())
    assert seen == {0, 1, 2, 3}


def test_mosaic_of_images_without_faces():
    empty = [(np.zeros((50, 80, 3), np.uint8), np.zeros((0, 4), np.float32), np.zeros(0, np.int64))] * 4
    image, boxes, labels = mosaic(empty, 64, np.random.default_rng(0))
    assert image.shape == (64, 64, 3) and boxes.shape == (0, 4) and labels.shape == (0,)
