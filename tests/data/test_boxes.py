"""clip_to_window (data/boxes.py): which boxes a crop keeps, and where."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.data.boxes import clip_to_window

WINDOW = (10, 10, 110, 110)


@pytest.mark.parametrize("box, kept, clipped", [
    ((20, 20, 40, 40), True, (20, 20, 40, 40)),  # wholly inside: unchanged
    ((0, 20, 20, 40), True, (10, 20, 20, 40)),  # exactly half inside: kept, clipped
    ((0, 20, 19, 40), False, (10, 20, 19, 40)),  # under half inside: dropped
    ((200, 200, 220, 220), False, (110, 110, 110, 110)),  # outside
    ((100, 100, 130, 130), False, (100, 100, 110, 110)),  # a corner: a ninth inside
])
def test_table(box, kept, clipped):
    keep, out = clip_to_window(np.array([box], dtype=np.float32), WINDOW)
    assert bool(keep[0]) is kept
    assert out[0].tolist() == pytest.approx(clipped)


def test_min_side_drops_slivers_and_ints_are_promoted():
    # a 0.5-px-wide box wholly inside passes the area rule but not the 1-px side rule
    keep, _ = clip_to_window(np.array([[20, 20, 20.5, 40]]), WINDOW)
    assert not keep[0]
    keep, _ = clip_to_window(np.array([[20, 20, 20.5, 40]]), WINDOW, min_side=0.0)
    assert keep[0]
    keep, out = clip_to_window(np.array([[0, 20, 20, 40]]), (9.5, 10, 110, 110))  # int boxes, float window
    assert out.dtype.kind == "f" and out[0, 0] == 9.5 and keep[0]


def test_input_is_not_changed():
    boxes = np.array([[0, 0, 50, 50]], dtype=np.float32)
    clip_to_window(boxes, WINDOW)
    assert boxes.tolist() == [[0, 0, 50, 50]]


def test_image_record_box_array():
    from dabai.data.dataset import Box, ImageRecord

    record = ImageRecord("/n/a.jpg", 100, 100, [Box(1, 2, 3, 4, "a"), Box(5, 6, 7, 8, "b")])
    assert record.box_array().tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert record.box_array(np.float32).dtype == np.float32
    assert ImageRecord("/n/b.jpg", 10, 10).box_array().shape == (0, 4)
