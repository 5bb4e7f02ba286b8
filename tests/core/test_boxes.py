"""clip_to_window (core/boxes.py): which boxes a crop keeps, and where."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.core.boxes import clip_to_window

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


def test_iou_pair_and_batch_agree():
    from dabai.core.boxes import box_iou, box_iou_matrix

    a = np.array([[0, 0, 10, 10], [5, 5, 15, 15]], dtype=np.float64)
    b = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 5, 10]], dtype=np.float64)
    matrix = box_iou_matrix(a, b)
    assert matrix.shape == (2, 3)
    assert matrix[0, 0] == 1.0 and matrix[0, 1] == 0.0 and matrix[0, 2] == pytest.approx(0.5)
    assert matrix[1, 0] == pytest.approx(25 / 175)
    for i in range(2):
        for j in range(3):
            assert box_iou(a[i], b[j]) == pytest.approx(matrix[i, j])
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0  # empty boxes


def test_greedy_match_takes_the_best_free_box_in_order():
    from dabai.core.boxes import greedy_match

    gts = [[0, 0, 10, 10], [0, 0, 10, 9]]
    # the first detection takes the best box; the second, though closer to box 0, gets the other one
    assert greedy_match([[0, 0, 10, 10], [0, 0, 10, 10]], gts, 0.5).tolist() == [0, 1]
    assert greedy_match([[50, 50, 60, 60]], gts, 0.5).tolist() == [-1]  # nothing at IoU >= 0.5
    assert greedy_match([], gts, 0.5).tolist() == [] and greedy_match(gts, [], 0.5).tolist() == [-1, -1]
    not_box0 = np.array([[False, True]])
    assert greedy_match([[0, 0, 10, 10]], gts, 0.5, allowed=not_box0).tolist() == [1]  # e.g. another class
