"""COCO metrics: exact values on hand-made cases, and agreement with an independent evaluation path."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.eval.coco import coco_evaluate
from dabai.eval.confusion import confusion_matrix
from dabai.runtime.types import Detection

CLASSES = ["with_mask", "without_mask", "mask_weared_incorrect"]


def _dataset(n_images=6, seed=0) -> Dataset:
    rng = random.Random(seed)
    images = []
    for i in range(n_images):
        boxes = []
        for _ in range(rng.randint(0, 4)):
            x, y = rng.uniform(0, 300), rng.uniform(0, 200)
            w, h = rng.uniform(10, 80), rng.uniform(10, 80)
            boxes.append(Box(x, y, x + w, y + h, rng.choice(CLASSES)))
        images.append(ImageRecord(path=f"/nonexistent/{i}.jpg", width=400, height=300, boxes=boxes, name=f"{i}.jpg"))
    return Dataset(images=images, classes=list(CLASSES))


def _perfect(ds: Dataset) -> dict[str, list[Detection]]:
    return {im.name: [Detection(tuple(b.as_list()), 0.9, b.label) for b in im.boxes] for im in ds.images}


@pytest.mark.parametrize(
    "case, expected_map50",
    [
        ("perfect", 1.0),
        ("none", 0.0),
        ("wrong_class", 0.0),
        ("shifted_half", 0.0),  # IoU ~0.33 < 0.5 for every box
    ],
)
def test_hand_made_cases(case, expected_map50):
    ds = _dataset()
    dets = _perfect(ds)
    if case == "none":
        dets = {}
    elif case == "wrong_class":
        dets = {k: [Detection(d.bbox, d.score, CLASSES[(CLASSES.index(d.label) + 1) % 3]) for d in v] for k, v in dets.items()}
    elif case == "shifted_half":
        dets = {k: [Detection((d.bbox[0] + (d.bbox[2] - d.bbox[0]) / 2, d.bbox[1], d.bbox[2] + (d.bbox[2] - d.bbox[0]) / 2,
                               d.bbox[3]), d.score, d.label) for d in v] for k, v in dets.items()}
    result = coco_evaluate(ds, dets, CLASSES)
    assert result.map50 == pytest.approx(expected_map50, abs=1e-6)


def test_agrees_with_independent_pycocotools_on_files(tmp_path):
    """Write GT as COCO JSON and detections as `dabai predict --json`, score them with plain pycocotools."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    ds = _dataset(n_images=20, seed=3)
    rng = np.random.default_rng(0)
    preds = []
    for im in ds.images:
        for b in im.boxes:
            if rng.random() < 0.8:  # some misses
                jitter = rng.normal(0, 3, 4)
                preds.append({"image": im.name, "bbox": list(np.array(b.as_list()) + jitter), "score": float(rng.random()),
                              "label": b.label if rng.random() < 0.85 else rng.choice(CLASSES)})
        for _ in range(2):  # false positives
            x, y = rng.uniform(0, 300, 2)
            preds.append({"image": im.name, "bbox": [x, y, x + 30, y + 30], "score": float(rng.random()) * 0.5,
                          "label": str(rng.choice(CLASSES))})
    # independent path: COCO files on disk, pycocotools' own loaders
    images = [{"id": i + 1, "file_name": im.name, "width": im.width, "height": im.height} for i, im in enumerate(ds.images)]
    ids = {im["file_name"]: im["id"] for im in images}
    anns = [{"id": k + 1, "image_id": ids[im.name], "category_id": CLASSES.index(b.label) + 1,
             "bbox": [b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1], "area": (b.x2 - b.x1) * (b.y2 - b.y1), "iscrowd": 0}
            for k, (im, b) in enumerate((im, b) for im in ds.images for b in im.boxes)]
    gt_file = tmp_path / "gt.json"
    gt_file.write_text(json.dumps({"images": images, "annotations": anns,
                                   "categories": [{"id": i + 1, "name": c} for i, c in enumerate(CLASSES)]}))
    gt = COCO(str(gt_file))
    dt = gt.loadRes([{"image_id": ids[p["image"]], "category_id": CLASSES.index(p["label"]) + 1,
                      "bbox": [p["bbox"][0], p["bbox"][1], p["bbox"][2] - p["bbox"][0], p["bbox"][3] - p["bbox"][1]],
                      "score": p["score"]} for p in preds])
    ev = COCOeval(gt, dt, "bbox")
    ev.evaluate(), ev.accumulate(), ev.summarize()

    dets: dict[str, list[Detection]] = {}
    for p in preds:
        dets.setdefault(p["image"], []).append(Detection(tuple(p["bbox"]), p["score"], p["label"]))
    ours = coco_evaluate(ds, dets, CLASSES)
    assert ours.map50 == pytest.approx(ev.stats[1], abs=1e-9)
    assert ours.map50_95 == pytest.approx(ev.stats[0], abs=1e-9)
    assert 0.2 < ours.map50 < 0.95  # a non-trivial case


def test_confusion_matrix_counts():
    ds = Dataset(images=[ImageRecord("/x/a.jpg", 100, 100, [Box(0, 0, 20, 20, "with_mask"), Box(50, 50, 70, 70, "without_mask")], "a.jpg")],
                 classes=list(CLASSES))
    dets = {"a.jpg": [Detection((0, 0, 20, 20), 0.9, "with_mask"),        # correct
                      Detection((50, 50, 70, 70), 0.8, "with_mask"),      # confused
                      Detection((80, 0, 99, 10), 0.7, "without_mask"),    # background
                      Detection((0, 0, 20, 20), 0.1, "without_mask")]}    # below threshold: ignored
    m = confusion_matrix(ds, dets, CLASSES, conf=0.3)
    assert m[0, 0] == 1 and m[1, 0] == 1 and m[3, 1] == 1 and m.sum() == 3
