"""Copy-paste of rare-class faces (train/copy_paste.py) and its wiring into the training data."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.train.copy_paste import FaceBank, paste_faces

CLASSES = ["with_mask", "without_mask", "mask_weared_incorrect"]
IDS = {c: i for i, c in enumerate(CLASSES)}


def _source(tmp_path):
    """A grey image with one red 'incorrect' face and one blue 'with_mask' face."""
    image = np.full((120, 160, 3), 100, np.uint8)
    image[20:60, 20:60] = (0, 0, 255)  # BGR red: the face to paste
    image[20:60, 100:140] = (255, 0, 0)
    path = tmp_path / "src.png"
    cv2.imwrite(str(path), image)
    boxes = [Box(20, 20, 60, 60, "mask_weared_incorrect"), Box(100, 20, 140, 60, "with_mask")]
    return Dataset(images=[ImageRecord(path, 160, 120, boxes)], classes=CLASSES)


def test_bank_holds_only_the_chosen_classes(tmp_path):
    bank = FaceBank(_source(tmp_path), IDS, ("mask_weared_incorrect",))
    assert len(bank) == 1 and bank.entries[0].label == IDS["mask_weared_incorrect"]
    patch, face = bank.patch(0)
    # the patch keeps some context around the face, and the face box is given inside the patch
    assert patch.shape[0] > 40 and face[0] > 0 and face[2] < patch.shape[1]


@pytest.mark.parametrize("seed", range(5))
def test_pasted_face_is_labelled_inside_the_image_and_clear_of_other_faces(tmp_path, seed):
    bank = FaceBank(_source(tmp_path), IDS, ("mask_weared_incorrect",))
    target = np.zeros((200, 300, 3), np.uint8)
    existing = np.array([[10, 10, 60, 60]], np.float32)
    out, boxes, labels = paste_faces(target, existing, np.array([0]), bank, np.random.default_rng(seed),
                                     max_faces=1, scale=(0.8, 1.2))
    assert target.max() == 0, "the input image must not be changed"
    assert len(boxes) == 2 and labels.tolist() == [0, IDS["mask_weared_incorrect"]]
    x1, y1, x2, y2 = boxes[1]
    assert 0 <= x1 < x2 <= 300 and 0 <= y1 < y2 <= 200
    assert 30 <= x2 - x1 <= 50, "a 40-px face scaled by 0.8-1.2"
    ix = max(0.0, min(x2, 60) - max(x1, 10))
    iy = max(0.0, min(y2, 60) - max(y1, 10))
    assert ix * iy <= 0.1 * (x2 - x1) * (y2 - y1)
    # the middle of the new box is the pasted red face (RGB), fully opaque there
    cy, cx = int((y1 + y2) / 2), int((x1 + x2) / 2)
    assert out[cy, cx].tolist() == [255, 0, 0]


def test_same_rng_same_paste(tmp_path):
    bank = FaceBank(_source(tmp_path), IDS, ("mask_weared_incorrect",))
    target = np.zeros((200, 300, 3), np.uint8)
    runs = [paste_faces(target, np.zeros((0, 4), np.float32), np.zeros(0, np.int64), bank,
                        np.random.default_rng(7), 2, (0.5, 1.5)) for _ in range(2)]
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])


def test_no_room_means_no_paste(tmp_path):
    bank = FaceBank(_source(tmp_path), IDS, ("mask_weared_incorrect",))
    small = np.zeros((30, 30, 3), np.uint8)  # smaller than the scaled patch
    _, boxes, labels = paste_faces(small, np.zeros((0, 4), np.float32), np.zeros(0, np.int64), bank,
                                   np.random.default_rng(0), 1, (1.0, 1.0))
    assert len(boxes) == 0 and len(labels) == 0
