"""`data audit`: planted label errors are found (and nothing else), most confident first, as CSV and sheet."""

from __future__ import annotations

import csv

import cv2
import pytest

from dabai.core.errors import DataError
from dabai.data.formats import read_dataset
from dabai.data.synth import make_sample_dataset
from dabai.eval.audit import audit_detections, write_audit
from dabai.runtime.types import Detection


def test_planted_mislabel_and_missing_box(tmp_path):
    make_sample_dataset(tmp_path / "voc", n_images=10, seed=5, empty_every=5)
    ds = read_dataset(tmp_path / "voc")
    # a model that agrees with every label ...
    dets = {im.name: [Detection(tuple(b.as_list()), 0.95, b.label) for b in im.boxes] for im in ds.images}
    faces = [(im, b) for im in ds.images for b in im.boxes]
    im1, box1 = faces[0]
    other = next(c for c in ds.classes if c != box1.label)
    x1, y1, x2, y2 = box1.as_list()
    # ... except on one face, which it calls another class (slightly shifted box, IoU ~0.8) ...
    dets[im1.name] = [d for d in dets[im1.name] if d.bbox != tuple(box1.as_list())] + \
        [Detection((x1 + 1, y1 + 1, x2 + 1, y2 + 1), 0.9, other)]
    # ... sees a confident face on an image with no labels, an unsure one on another, and an unsure wrong class
    empty = [im for im in ds.images if not im.boxes]
    dets[empty[0].name] = [Detection((10.0, 10.0, 60.0, 70.0), 0.8, "with_mask")]
    dets[empty[1].name] = [Detection((10.0, 10.0, 60.0, 70.0), 0.5, "with_mask")]
    im2, box2 = faces[-1]
    dets[im2.name] = [Detection(tuple(box2.as_list()), 0.99, box2.label),
                      Detection(tuple(box2.as_list()), 0.3, next(c for c in ds.classes if c != box2.label))]
    result = audit_detections(ds, dets, min_score=0.7)
    assert [(f.kind, f.error.record.name, round(f.error.score, 2)) for f in result.findings] == [
        ("mislabel", im1.name, 0.9), ("missing_box", empty[0].name, 0.8)]
    assert result.findings[0].error.gt == box1 and result.findings[0].error.iou > 0.8
    table, sheet = write_audit(result, tmp_path / "audit")
    rows = list(csv.DictReader(table.open()))
    assert [(r["finding"], r["label"], r["predicted"]) for r in rows] == [("mislabel", box1.label, other),
                                                                         ("missing_box", "", "with_mask")]
    assert cv2.imread(str(sheet)) is not None


def test_thresholds_are_checked(tmp_path):
    make_sample_dataset(tmp_path / "voc", n_images=2, seed=1)
    with pytest.raises(DataError, match="min_score 1.5"):
        audit_detections(read_dataset(tmp_path / "voc"), {}, min_score=1.5)
