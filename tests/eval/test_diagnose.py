"""Error diagnosis (eval/diagnose.py): classification vs localisation, recall by face size."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.eval.diagnose import diagnose_detections, oracle_labels, recall_by_size
from dabai.runtime.types import Detection

from .test_coco import CLASSES, _dataset, _perfect


def _wrong_class(dets):
    return {k: [Detection(d.bbox, d.score, CLASSES[(CLASSES.index(d.label) + 1) % 3]) for d in v] for k, v in dets.items()}


def _shifted(dets, frac):
    out = {}
    for k, v in dets.items():
        out[k] = [Detection((x1 + (x2 - x1) * frac, y1, x2 + (x2 - x1) * frac, y2), d.score, d.label)
                  for d in v for x1, y1, x2, y2 in [d.bbox]]
    return out


@pytest.mark.parametrize("case, per_class, oracle, agnostic", [
    ("perfect", 1.0, 1.0, 1.0),
    ("every label wrong", 0.0, 1.0, 1.0),  # all of it lost to classification
    ("boxes half off", 0.0, 0.0, 0.0),  # IoU 1/3 for every box: all lost to localisation
    ("nothing", 0.0, 0.0, 0.0),
])
def test_hand_made_cases(case, per_class, oracle, agnostic):
    ds = _dataset(n_images=12, seed=3)
    dets = {"perfect": _perfect(ds), "every label wrong": _wrong_class(_perfect(ds)),
            "boxes half off": _shifted(_perfect(ds), 0.5), "nothing": {}}[case]
    d = diagnose_detections(ds, dets, dets, CLASSES)
    assert (d.map50, d.oracle_map50, d.agnostic_map50) == pytest.approx((per_class, oracle, agnostic), abs=1e-6)
    assert d.lost_to_classification == pytest.approx(oracle - per_class, abs=1e-6)
    assert d.lost_to_localisation == pytest.approx(1 - oracle, abs=1e-6)


def test_oracle_relabels_only_overlapping_detections():
    im = ImageRecord(path="/nonexistent/a.jpg", width=200, height=200, name="a.jpg",
                     boxes=[Box(10, 10, 50, 50, "mask_weared_incorrect"), Box(100, 100, 140, 140, "without_mask")])
    ds = Dataset(images=[im], classes=list(CLASSES))
    dets = {"a.jpg": [
        Detection((12, 12, 50, 50), 0.9, "with_mask"),  # IoU 0.9 with the first box
        Detection((100, 100, 130, 140), 0.8, "with_mask"),  # IoU 0.75 with the second
        Detection((150, 10, 190, 50), 0.7, "with_mask"),  # background: keeps its label
        Detection((30, 30, 70, 70), 0.6, "with_mask"),  # IoU 0.14 with the first: below 0.5, unchanged
    ]}
    labels = [d.label for d in oracle_labels(ds, dets)["a.jpg"]]
    assert labels == ["mask_weared_incorrect", "without_mask", "with_mask", "with_mask"]
    assert [d.label for d in dets["a.jpg"]] == ["with_mask"] * 4  # the input is not changed


def test_recall_by_size_bins():
    sides = [5, 12, 12, 20, 40, 200]
    boxes = [Box(x, 0, x + s, s, "with_mask") for x, s in zip(range(0, 600, 100), sides)]
    ds = Dataset(images=[ImageRecord(path="/n/a.jpg", width=800, height=300, boxes=boxes, name="a.jpg")],
                 classes=list(CLASSES))
    found = [b for b in boxes if b.x1 != 100 and b.x2 - b.x1 != 5]  # misses the 5 px and one 12 px face
    dets = {"a.jpg": [Detection(tuple(b.as_list()), 0.5, "without_mask") for b in found]}  # labels do not matter
    bins = {b.name: (b.found, b.boxes) for b in recall_by_size(ds, dets)}
    assert bins == {"0-8 px": (0, 1), "8-16 px": (1, 2), "16-32 px": (1, 1), "32-64 px": (1, 1),
                    "64-128 px": (0, 0), ">= 128 px": (1, 1)}


def test_one_detection_covers_one_box_only():
    """COCO's matching: two boxes under one detection count one found."""
    boxes = [Box(0, 0, 20, 20, "with_mask"), Box(1, 1, 21, 21, "with_mask")]
    ds = Dataset(images=[ImageRecord(path="/n/a.jpg", width=100, height=100, boxes=boxes, name="a.jpg")],
                 classes=list(CLASSES))
    bins = recall_by_size(ds, {"a.jpg": [Detection((0, 0, 20, 20), 0.9, "with_mask")]})
    assert sum(b.found for b in bins) == 1 and sum(b.boxes for b in bins) == 2


def test_mixed_errors_split_the_loss_and_serialise():
    rng = np.random.default_rng(0)
    ds = _dataset(n_images=30, seed=1)
    dets = {k: [Detection(d.bbox, float(rng.random()), d.label if rng.random() > 0.4 else CLASSES[0]) for d in v]
            for k, v in _perfect(ds).items()}
    d = diagnose_detections(ds, dets, dets, CLASSES)
    assert d.map50 < d.oracle_map50 == pytest.approx(1.0)  # boxes all right, some labels wrong
    out = json.loads(json.dumps(d.to_json()))
    assert set(out) >= {"map50", "oracle_map50", "agnostic_map50", "lost_to_classification", "recall_by_size"}
    assert sum(b["boxes"] for b in out["recall_by_size"]) == sum(len(im.boxes) for im in ds.images)


def test_cli_diagnose_writes_json_and_figure(tmp_path, capsys):
    from dabai.cli.main import main
    from dabai.data.synth import make_sample_dataset

    make_sample_dataset(tmp_path / "data", n_images=4, seed=1)
    assert main(["eval", "--diagnose", "--data", str(tmp_path / "data"), "--plots", str(tmp_path / "plots"),
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert 0 <= doc["map50"] <= 1 and 0 <= doc["oracle_map50"] <= 1
    assert (tmp_path / "plots" / "recall_by_size.png").stat().st_size > 0
    assert main(["eval", "--diagnose", "--compare", "int8", "--data", str(tmp_path / "data")]) == 2
    assert "give one of them" in capsys.readouterr().err


def test_shipped_model_on_real_photos(face_mask_dir):
    """On 40 real photos the shipped detector finds nearly every face of 32 px or more, and knowing the
    true class of its boxes can only help."""
    import dataclasses

    from dabai import Detector, diagnose
    from dabai.data.formats import read_dataset

    ds = read_dataset(face_mask_dir)
    ds = dataclasses.replace(ds, images=ds.images[:40])
    d = diagnose(Detector.load(), ds, progress=False)
    assert d.oracle_map50 >= d.map50 - 0.01 and d.agnostic_map50 > 0.7
    big = [b for b in d.recall_by_size if b.low >= 32 and b.boxes]
    assert sum(b.found for b in big) >= 0.95 * sum(b.boxes for b in big)
