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


def _through(spec, image, seed):
    import random

    from dabai.train.augment import build_pipeline

    random.seed(seed)
    np.random.seed(seed)
    pipeline = build_pipeline(spec)
    pipeline.set_random_seed(seed)
    return pipeline(image=image, bboxes=np.array([[40, 30, 80, 70]], np.float32), labels=np.array([0]))


def test_low_light_darkens_adds_noise_keeps_boxes_and_grey_stays_grey():
    from dabai.train.spec import AugmentSpec

    still = dict(hflip=0, affine_p=0, zoom_face=0, color=0, blur=0, jpeg=0, gray=0)
    image = np.full((100, 120, 3), 150, np.uint8)
    image[30:70, 40:80] = 200
    out = _through(AugmentSpec(**still, low_light=1.0), image, seed=1)
    assert out["image"].mean() < 0.75 * image.mean()  # darker
    assert out["image"][:20, :20].std() > 0.5  # sensor noise on a flat patch
    assert out["image"][30:70, 40:80].mean() > out["image"][:20, :20].mean() + 10  # the face still stands out
    assert np.allclose(out["bboxes"], [[40, 30, 80, 70]])  # photometric only
    grey = _through(AugmentSpec(**{**still, "gray": 1.0}, low_light=1.0), image, seed=2)["image"]
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])


def test_low_light_off_leaves_the_pipeline_as_before():
    """Off (the default), it adds no transform, so existing specs draw the same random numbers."""
    from dabai.train.augment import build_pipeline
    from dabai.train.spec import AugmentSpec

    assert len(build_pipeline(AugmentSpec()).transforms) == len(build_pipeline(AugmentSpec(low_light=0.3)).transforms) - 1


@pytest.mark.parametrize("context", [(1.2, 1.2), (2.0, 2.0), (4.0, 4.0)])
def test_zoom_to_face_window_is_the_context_times_the_face(context):
    from dabai.train.augment import zoom_to_face

    image = np.zeros((1000, 1000, 3), np.uint8)
    boxes = np.array([[450, 450, 550, 550]], np.float32)
    crop, out, labels = zoom_to_face(image, boxes, np.array([0]), np.random.default_rng(0), context)
    assert crop.shape[0] == crop.shape[1] == int(100 * context[0])
    assert len(out) == 1  # the face stays (at least half of it is inside the window)
    if context[0] >= 2:  # shifted by at most a quarter of the side: a face of half the side fits whole
        assert np.allclose(out[0, 2:] - out[0, :2], 100, atol=1)
    else:  # a face filling the frame may be cut at an edge, never to less than half
        assert ((out[0, 2:] - out[0, :2]) >= 50).all()


def test_zoom_face_context_is_checked_by_the_spec():
    from dabai.core.errors import ConfigError
    from dabai.train.spec import AugmentSpec, DataSpec, TrainSpec

    with pytest.raises(ConfigError, match="zoom_face_context"):
        TrainSpec(data=DataSpec(train="x"), classes=["a"], augment=AugmentSpec(zoom_face_context=(0.5, 2.0)))
