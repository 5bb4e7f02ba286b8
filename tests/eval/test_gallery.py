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
    # a second detection of a matched face is a duplicate, not a false alarm on the background (eval/errors.py)
    ([Detection((0, 0, 10, 10), 0.9, "with_mask"), Detection((0, 0, 10, 10), 0.8, "without_mask")], (1, 0, 0)),
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
    names = {p.name for p in written}
    assert {"a-closeups.png", "a-crowds.png", "a-worst.png", "b-test-closeups.png",
            "b-test-crowds.png", "b-test-worst.png", "index.html", "errors.csv"} <= names
    sheet = cv2.imread(str(tmp_path / "gallery" / "a-crowds.png"))
    assert sheet is not None and sheet.shape[1] == 4 * 360
    assert "a-worst.png" in (tmp_path / "gallery" / "index.html").read_text()


def test_error_sheets_per_class(tmp_path):
    """Planted errors land on their class's sheets and in errors.csv, with score and IoU."""
    import csv

    make_sample_dataset(tmp_path / "voc", n_images=8, seed=4, empty_every=4)
    ds = read_dataset(tmp_path / "voc")
    faces = [(im, b) for im in ds.images for b in im.boxes]
    dets = {im.name: [Detection(tuple(b.as_list()), 0.9, b.label) for b in im.boxes] for im in ds.images}
    (im_c, box_c), (im_m, box_m) = faces[0], faces[1]
    wrong = next(c for c in ds.classes if c != box_c.label)
    dets[im_c.name] = [Detection(tuple(box_c.as_list()), 0.87, wrong) if d.bbox == tuple(box_c.as_list()) else d
                       for d in dets[im_c.name]]
    dets[im_m.name] = [d for d in dets[im_m.name] if d.bbox != tuple(box_m.as_list())]
    empty = next(im for im in ds.images if not im.boxes)
    dets[empty.name] = [Detection((5.0, 5.0, 60.0, 70.0), 0.77, "without_mask")]
    written = write_gallery(ds, dets, tmp_path / "g", model_name="m", per_sheet=6)
    rows = list(csv.DictReader((tmp_path / "g" / "errors.csv").open()))
    assert sorted((r["kind"], r["label"], r["predicted"], r["image"]) for r in rows) == sorted([
        ("confused", box_c.label, wrong, im_c.name),
        ("missed", box_m.label, "", im_m.name),
        ("false_positive", "", "without_mask", empty.name)])
    assert next(r for r in rows if r["kind"] == "confused")["score"] == "0.87"
    for label in ds.classes:
        for kind in ("false-positives", "missed", "confused"):
            assert tmp_path / "g" / f"{label}-{kind}.png" in written
    sheet = cv2.imread(str(tmp_path / "g" / f"{box_c.label}-confused.png"))
    assert sheet is not None and sheet.shape[1] == 4 * 320
    # one tile with the error: the tile's picture is not blank paper
    assert (sheet[40:200, 10:310] < 250).any() and not (sheet[40:200, 330:630] < 250).any()
    index = (tmp_path / "g" / "index.html").read_text()
    assert f"{box_c.label}-confused.png" in index and "errors.csv" in index
