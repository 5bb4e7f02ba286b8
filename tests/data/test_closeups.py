"""data closeups: one gate-camera window per large face, boxes moved and scaled into it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dabai.core.errors import DataError
from dabai.data.closeups import closeup_dataset
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats import read_dataset

from .helpers import write_image


def crowd(tmp_path) -> Dataset:
    """A 400x300 photo: a 60-px face in the middle, a 20-px face beside it, a 50-px face in a corner."""
    path = write_image(tmp_path / "src" / "crowd.jpg", (400, 300)).resolve()
    boxes = [Box(170, 120, 230, 180, "with_mask"), Box(240, 140, 260, 160, "without_mask"),
             Box(0, 0, 50, 50, "mask_weared_incorrect")]
    return Dataset([ImageRecord(path, 400, 300, boxes)], ["with_mask", "without_mask", "mask_weared_incorrect"])


def test_one_closeup_per_large_face(tmp_path):
    made = closeup_dataset(crowd(tmp_path), tmp_path / "out", "voc", size=(320, 240), context=3.0, min_face=48)
    assert [im.name for im in made.images] == ["crowd_face0.jpg", "crowd_face1.jpg"]  # the 20-px face is skipped
    assert all(Image.open(im.path).size == (320, 240) for im in made.images)
    assert read_dataset(tmp_path / "out").num_boxes == made.num_boxes


def test_centre_face_is_scaled_and_its_neighbour_kept(tmp_path):
    first = closeup_dataset(crowd(tmp_path), tmp_path / "out", "voc", size=(320, 240), context=3.0).images[0]
    # window: 180 px high (60 x 3), 240 wide, centred on (200, 150) -> left 80, top 60, scale 4/3
    labels = {b.label: b for b in first.boxes}
    assert set(labels) == {"with_mask", "without_mask"}  # the corner face is outside the window
    face = labels["with_mask"]
    assert np.allclose([face.x1, face.y1, face.x2, face.y2], [120, 80, 200, 160], atol=0.01)
    small = labels["without_mask"]
    assert np.allclose([small.x1, small.x2], [(240 - 80) * 4 / 3, (260 - 80) * 4 / 3], atol=0.01)


def test_window_at_the_edge_is_shifted_into_the_photo(tmp_path):
    corner = closeup_dataset(crowd(tmp_path), tmp_path / "out", "voc", size=(320, 240), context=3.0).images[1]
    # the 50-px face sits at (0, 0): the 200x150 window starts at the photo's corner instead of past it
    face = next(b for b in corner.boxes if b.label == "mask_weared_incorrect")
    assert face.x1 == pytest.approx(0) and face.y1 == pytest.approx(0)
    assert face.x2 == pytest.approx(50 * 320 / 200, abs=0.01)


def test_small_photo_gets_less_context_not_a_border(tmp_path):
    path = write_image(tmp_path / "src" / "small.jpg", (100, 80)).resolve()
    ds = Dataset([ImageRecord(path, 100, 80, [Box(25, 15, 75, 65, "with_mask")])], ["with_mask"])
    face = closeup_dataset(ds, tmp_path / "out", "voc", size=(320, 240), context=3.0).images[0].boxes[0]
    # the 4:3 window shrinks to the photo's width (100 x 75 px, not 200 x 150): the face fills 50/75 of it
    assert face.y2 - face.y1 == pytest.approx(50 * 240 / 75, abs=0.01)


def test_bad_context_and_non_empty_output_are_errors(tmp_path):
    with pytest.raises(DataError, match="context 0.5 is below 1"):
        closeup_dataset(crowd(tmp_path), tmp_path / "out", "voc", context=0.5)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("user data")
    with pytest.raises(DataError, match="not empty"):
        closeup_dataset(crowd(tmp_path), tmp_path / "busy", "voc")
    assert (tmp_path / "busy" / "keep.txt").read_text() == "user data"
