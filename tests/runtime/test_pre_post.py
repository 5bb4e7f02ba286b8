"""Letterbox and post-processing: the geometry that every backend shares."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.core.errors import DataError
from dabai.core.images import load_image_rgb
from dabai.runtime.postprocess import PostprocessOptions, postprocess
from dabai.runtime.preprocess import PAD_VALUE, letterbox

CLASSES = ["a", "b", "c"]


@pytest.mark.parametrize("w, h, size, scale", [(400, 200, 320, 0.8), (200, 400, 320, 0.8), (100, 50, 320, 3.2), (320, 320, 320, 1.0)])
def test_letterbox_scales_long_side_and_pads_grey(w, h, size, scale):
    image = np.full((h, w, 3), 7, dtype=np.uint8)
    canvas, lb = letterbox(image, size)
    assert canvas.shape == (size, size, 3) and lb.scale == pytest.approx(scale)
    nw, nh = round(w * scale), round(h * scale)
    assert (canvas[:nh, :nw] == 7).all()
    assert (canvas[nh:, :] == PAD_VALUE).all() and (canvas[:, nw:] == PAD_VALUE).all()


def _outputs(boxes_scores):
    boxes = np.array([b for b, _ in boxes_scores], dtype=np.float32)
    scores = np.array([s for _, s in boxes_scores], dtype=np.float32)
    return boxes, scores


def test_postprocess_maps_back_to_source_pixels_and_clips():
    _, lb = letterbox(np.zeros((200, 400, 3), np.uint8), 320)  # scale 0.8
    boxes, scores = _outputs([([8, 8, 80, 80], [0.9, 0.0, 0.0]), ([300, 100, 400, 200], [0.0, 0.8, 0.0])])
    dets = postprocess(boxes, scores, lb, CLASSES, PostprocessOptions(conf=0.3))
    assert [d.label for d in dets] == ["a", "b"]
    assert dets[0].bbox == pytest.approx((10, 10, 100, 100))
    assert dets[1].bbox == pytest.approx((375, 125, 400, 200))  # x2 clipped to the image width


def test_nms_is_per_class_unless_agnostic():
    _, lb = letterbox(np.zeros((320, 320, 3), np.uint8), 320)
    boxes, scores = _outputs([([10, 10, 50, 50], [0.9, 0.6, 0.0]), ([11, 11, 51, 51], [0.7, 0.0, 0.0])])
    per_class = postprocess(boxes, scores, lb, CLASSES, PostprocessOptions(conf=0.3))
    assert [(d.label, round(d.score, 2)) for d in per_class] == [("a", 0.9), ("b", 0.6)]
    agnostic = postprocess(boxes, scores, lb, CLASSES, PostprocessOptions(conf=0.3, class_agnostic=True))
    assert [(d.label, round(d.score, 2)) for d in agnostic] == [("a", 0.9)]


def test_threshold_and_max_detections():
    _, lb = letterbox(np.zeros((320, 320, 3), np.uint8), 320)
    n = 300
    boxes = np.array([[i, 0, i + 1, 1] for i in range(n)], dtype=np.float32) * 1.0
    boxes[:, [0, 2]] *= 1  # disjoint 1-px boxes, no NMS interaction
    scores = np.zeros((n, 3), np.float32)
    scores[:, 0] = np.linspace(0.01, 0.99, n)
    assert len(postprocess(boxes, scores, lb, CLASSES, PostprocessOptions(conf=0.0))) == 100
    kept = postprocess(boxes, scores, lb, CLASSES, PostprocessOptions(conf=0.5, max_detections=1000))
    assert all(d.score >= 0.5 for d in kept) and len(kept) == int((scores[:, 0] >= 0.5).sum())
    assert [d.score for d in kept] == sorted((d.score for d in kept), reverse=True)


def test_empty_output():
    _, lb = letterbox(np.zeros((10, 10, 3), np.uint8), 32)
    assert postprocess(np.zeros((5, 4), np.float32), np.zeros((5, 3), np.float32), lb, CLASSES) == []


@pytest.mark.parametrize("data, message", [(b"", "the image is empty"), (b"GIF89a garbage", "not a readable image")])
def test_bad_bytes_are_a_data_error(data, message):
    with pytest.raises(DataError, match=message):
        load_image_rgb(data)


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(DataError, match=r"nope.jpg: image file not found"):
        load_image_rgb(tmp_path / "nope.jpg")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff" + b"\x00" * 10)
    with pytest.raises(DataError, match=r"bad.jpg: not a readable image"):
        load_image_rgb(bad)


def test_bgr_array_is_converted_to_rgb():
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 0] = 255  # blue in OpenCV order
    assert (load_image_rgb(bgr)[..., 2] == 255).all()


def test_tensor_layout_is_nchw_float_with_the_pixels_unchanged():
    from dabai.runtime.preprocess import to_tensor_layout

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (5, 7, 3), dtype=np.uint8) for _ in range(3)]
    batch = to_tensor_layout(images)
    assert batch.shape == (3, 3, 5, 7) and batch.dtype == np.float32 and batch.flags.c_contiguous
    for i, image in enumerate(images):
        for c in range(3):
            assert np.array_equal(batch[i, c], image[..., c].astype(np.float32))
    with pytest.raises(ValueError, match="expected"):
        to_tensor_layout([images[0], rng.integers(0, 256, (5, 8, 3), dtype=np.uint8)])
