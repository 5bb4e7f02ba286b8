"""Fine-tuning the face finder (train/finder.py): the spec's checks, the data (generated VOC images), the SSD
loss, and a tiny run end to end on the released UltraFace (../shared/weights) whose ONNX the checker loads."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from tests.conftest import shared_path

from dabai.core.errors import ConfigError, DataError
from dabai.data.synth import SAMPLE_CLASSES

torch = pytest.importorskip("torch")

LABELS = {"with_mask": "masked_face", "without_mask": "face", "mask_weared_incorrect": "masked_face"}


def finder_spec(tmp_path: Path, data: Path, **extra) -> Path:
    spec = {"task": "finder", "pretrained": str(shared_path("weights/ultraface-rfb-640-masked-face.onnx")),
            "classes": ["face", "masked_face"],
            "sources": [{"path": str(data / "train"), "name": "tiny", "labels": LABELS}],
            "val": [{"path": str(data / "val"), "name": "tiny-val", "labels": LABELS}],
            "epochs": 2, "images_per_epoch": 8, "batch_size": 4, "eval_every": 1, "workers": 0, "threads": 1,
            "output_dir": str(tmp_path / "runs"), "name": "finder"}
    spec.update(extra)
    path = tmp_path / "finder.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def load(tmp_path, data, **extra):
    from dabai.train.finder import load_finder_spec

    return load_finder_spec(finder_spec(tmp_path, data, **extra))


@pytest.mark.parametrize("change,message", [
    ({"task": "classify"}, "task: expected 'finder'"),
    ({"sources": []}, "sources: expected at least one source"),
    ({"sources": [{"path": "x", "labels": {"with_mask": "mask"}}]}, "sources\\[0\\].labels: unknown finder class 'mask'"),
    ({"sources": [{"path": "x", "labels": {}, "weight": 0}]}, "sources\\[0\\].weight: expected > 0"),
    ({"crop": [0, 240]}, "crop: expected two positive numbers"),
    ({"interpolate": 0}, "interpolate: expected a number in \\(0, 1\\]"),
    ({"trainable": ["head"]}, "trainable: expected some of"),
    ({"epoch": 3}, "epoch"),
])
def test_spec_errors_name_the_key(tmp_path, tiny_data, change, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, tiny_data, **change)


def test_a_label_without_a_finder_class_names_the_file(tmp_path, tiny_data):
    from dabai.train.finder import read_frames

    spec = load(tmp_path, tiny_data, sources=[{"path": str(tiny_data / "train"), "labels": {"with_mask": "face"}}])
    with pytest.raises(DataError, match="has no finder class") as err:
        read_frames(spec.sources, spec.classes)
    assert ".xml" in str(err.value) or ".jpg" in str(err.value)


def test_frames_map_labels_and_ignored_faces_stay_out_of_the_loss(tmp_path, tiny_data):
    from dabai.train.finder import FinderData, read_frames

    labels = {**LABELS, "mask_weared_incorrect": "_ignore"}
    spec = load(tmp_path, tiny_data, sources=[{"path": str(tiny_data / "train"), "labels": labels}])
    frames = read_frames(spec.sources, spec.classes)
    flat = np.concatenate(frames.labels)
    assert set(flat) <= {0, 1, 2} and (flat == 0).any() and (flat == 2).any()
    data = FinderData(frames, spec, (640, 480))
    for index in range(len(frames.paths)):
        window, boxes, ids = data.window(index)
        assert window.shape == (240, 320, 3) and window.dtype == np.uint8
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 320).all() and (boxes[:, 3] <= 240).all()
        x, classes, offsets, ignore = data[index]
        assert x.shape == (3, 240, 320) and classes.shape == (4420,) and offsets.shape == (4420, 4)
        assert not (ignore & (classes > 0)).any()
        if (ids == 0).any():  # an ignored face is neither a face to find nor background
            assert ignore.any()


def test_frozen_parts_keep_the_released_weights(tmp_path, tiny_data):
    pytest.importorskip("onnx2torch")
    from dabai.models.checkpoint import load_checkpoint
    from dabai.models.ultraface_ssd import load_ultraface_onnx
    from dabai.train.finder import train_finder

    spec = load(tmp_path, tiny_data, epochs=1, trainable=["regression_headers"], val=[])
    run = train_finder(spec)
    net, _, _, parts = load_ultraface_onnx(spec.pretrained)
    released, tuned = net.state_dict(), load_checkpoint(run / "checkpoints" / "last.pt")["model"]
    moved = {parts[k] for k in parts if not torch.equal(released[k], tuned[k])}
    assert moved == {"regression_headers"}


def test_multibox_loss_mines_hard_negatives_and_skips_ignored_priors():
    from dabai.train.finder import multibox_loss

    n, a = 2, 50
    logits = torch.zeros(n, a, 3)
    logits[0, 10:20, 1] = 5.0  # confident false faces: the hardest negatives
    classes = torch.zeros(n, a, dtype=torch.long)
    classes[0, :2] = 1
    offsets, target = torch.zeros(n, a, 4), torch.ones(n, a, 4)
    ignore = torch.zeros(n, a, dtype=torch.bool)
    cls, box = multibox_loss(logits, offsets, classes, target, ignore, neg_pos_ratio=3)
    assert torch.isfinite(cls) and box.item() == pytest.approx(4 * 0.5)  # smooth L1 of 1 is 0.5, 4 coords
    ignore[0, 10:20] = True  # the same false faces marked as ignored faces: no loss from them
    cls_ignored, _ = multibox_loss(logits, offsets, classes, target, ignore, neg_pos_ratio=3)
    assert cls_ignored < cls
    none, _ = multibox_loss(logits, offsets, torch.zeros_like(classes), target, ignore)
    assert torch.isfinite(none)


def test_tiny_run_exports_a_finder_the_checker_loads_and_resumes(tmp_path, tiny_data):
    pytest.importorskip("onnx2torch")
    from dabai.runtime.ultraface import FaceFinder
    from dabai.train.finder import train_finder

    spec = load(tmp_path, tiny_data, epochs=1, interpolate=0.5)
    run = train_finder(spec)
    for name in ("spec.yaml", "metrics.csv", "curves.png", "face_finder.onnx", "summary.json", "checkpoints/last.pt"):
        assert (run / name).is_file(), name
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert len(rows) == 1 and 0.0 <= float(rows[0]["val_faces_pooled"]) <= 1.0
    finder = FaceFinder(run / "face_finder.onnx", threads=1)
    boxes, scores = finder(np.full((240, 320, 3), 90, np.uint8), len(SAMPLE_CLASSES))
    assert boxes.shape == (17640, 4) and scores.shape == (17640, 3)
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(run / "face_finder.onnx")).metadata_props}
    assert meta["base"] == "ultraface-rfb-640-masked-face.onnx" and json.loads(meta["sources"]) == {"tiny": 16}
    assert meta["interpolate"] == "0.5"
    # the released graph with the trained weights put in: its opset, decoding and outputs as released
    released = onnx.load(spec.pretrained)
    exported = onnx.load(str(run / "face_finder.onnx"))
    assert exported.opset_import[0].version == released.opset_import[0].version
    assert [n.op_type for n in exported.graph.node] == [n.op_type for n in released.graph.node]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["interpolate"] == 0.5 and 0.0 <= summary["val_faces_pooled"] <= 1.0
    # a second epoch from the checkpoint: the saved spec says 1, so raise it there as a user would
    saved = yaml.safe_load((run / "spec.yaml").read_text())
    (run / "spec.yaml").write_text(yaml.safe_dump({**saved, "epochs": 2}))
    train_finder(None, resume=run)
    assert [r["epoch"] for r in csv.DictReader((run / "metrics.csv").open())] == ["1", "2"]
    with pytest.raises(ConfigError, match="already holds a run"):
        train_finder(spec)


def test_cli_dispatches_a_finder_spec_and_refuses_detector_flags(tmp_path, tiny_data, capsys):
    from dabai.cli.main import main

    path = finder_spec(tmp_path, tiny_data)
    assert main(["train", str(path), "--teacher", "x.pt"]) != 0
    err = capsys.readouterr().err
    assert "trains the face finder (task: finder)" in err and "--teacher applies to detector specs only" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: segment\n")
    assert main(["train", str(bad)]) != 0
    assert "task: expected one of detect, classify, finder" in capsys.readouterr().err


def test_shipped_finder_spec_is_valid_and_leaves_macwin_and_the_test_splits_out():
    from dabai.train.finder import load_finder_spec

    spec = load_finder_spec(Path(__file__).resolve().parents[2] / "configs" / "face_finder.yaml")
    assert [s.name for s in spec.sources] == ["face-mask", "ilc2021"]
    assert all("/train" in s.path for s in spec.sources) and all("/val" in s.path for s in spec.val)
    assert not any("macwin" in s.path for s in [*spec.sources, *spec.val])
