"""Contact sheets per source (eval/gallery.py): errors counted per image, sheets written and readable."""

from __future__ import annotations

import cv2
import pytest

from dabai.data.dataset import Box, ImageRecord
from dabai.data.formats import read_dataset
from dabai.data.synth import make_sample_dataset
from dabai.eval.gallery import image_errors, write_gallery
from dabai.runtime.types import Detection


@pytest.mark.parametrize("dets,expected", [
    ([], (2, 0, 0)),
    ([Detection((0, 0, 10, 10), 0.9, "with_mask"), Detection((20, 20, 30, 30), 0.9, "with_mask")], (0, 0, 0)),
    ([Detection((0, 0, 10, 10), 0.9, "without_mask")], (1, 1, 0)),
    ([Detection((0, 0, 10, 10), 0.9, "with_mask"), Detection((50, 50, 60, 60), 0.9, "with_mask")], (1, 0, 1)),
    ([Detection((0, 0, 10, 10), 0.1, "with_mask")], (2, 0, 0)),  # under the threshold: not seen
    ([Detection((0, 0, 10, 10), 0.9, "with_mask"), Detection((0, 0, 10, 10), 0.8, "with_mask")], (1, 0, 1)),
])
def test_errors_per_image(dets, expected):
    record = ImageRecord(path="x.jpg", width=64, height=64,
                         boxes=[Box(0, 0, 10, 10, "with_mask"), Box(20, 20, 30, 30, "with_mask")])
    e = image_errors(record, dets, conf=0.3)
    assert (e.missed, e.wrong_class, e.false_alarms) == expected and e.total == sum(expected)


def test_sheets_per_source(tmp_path):
    make_sample_dataset(tmp_path / "voc", n_images=6, seed=2)
    ds = read_dataset(tmp_path / "voc")
    for i, im in enumerate(ds.images):
        im.source = "a" if i % 2 else "b/test"
    dets = {im.name: [Detection(tuple(b.as_list()), 0.9, "with_mask") for b in im.boxes] for im in ds.images}
    written = write_gallery(ds, dets, tmp_path / "gallery", model_name="m")
    names = sorted(p.name for p in written)
    assert names == sorted(["a-closeups.png", "a-crowds.png", "a-worst.png", "b-test-closeups.png",
                            "b-test-crowds.png", "b-test-worst.png", "index.html"])
    sheet = cv2.imread(str(tmp_path / "gallery" / "a-crowds.png"))
    assert sheet is not None and sheet.shape[1] == 4 * 360
    assert "a-worst.png" in (tmp_path / "gallery" / "index.html").read_text()
