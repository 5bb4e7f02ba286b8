"""The mask checker's face-crop classifier: spec, label sets, sampling, training, export, resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

torch = pytest.importorskip("torch")

from dabai.cli.main import main  # noqa: E402
from dabai.core.errors import ConfigError  # noqa: E402
from dabai.data.synth import SAMPLE_CLASSES  # noqa: E402
from dabai.runtime.refine import CropClassifier, face_crop  # noqa: E402
from dabai.train.classifier import (  # noqa: E402
    STORE_CONTEXT,
    STORE_SIZE,
    ClassifierAugment,
    ClassifierSpec,
    SourceSpec,
    _in_store,
    _sampling_probs,
    box_loss,
    collect_crops,
    jittered,
    jittered_with_box,
    set_loss,
)


def _spec_dict(tiny_data, run_dir, **extra):
    spec = {
        "task": "classify", "classes": list(SAMPLE_CLASSES),
        "sources": [{"path": str(tiny_data / "train"), "name": "a"},
                    {"path": str(tiny_data / "val"), "name": "b", "weight": 0.5,
                     "label_sets": {"with_mask": ["with_mask", "mask_weared_incorrect"]}}],
        "val": [{"path": str(tiny_data / "val")}],
        "input_size": 32, "epochs": 2, "batch_size": 8, "samples_per_epoch": 24, "threads": 1,
        "output_dir": str(run_dir), "name": "cls",
    }
    spec.update(extra)
    return spec


def test_label_sets_must_name_known_classes(tmp_path):
    with pytest.raises(ConfigError, match="label_sets: unknown class 'masked'"):
        ClassifierSpec(task="classify", classes=["with_mask"], sources=[SourceSpec(path="x", label_sets={"with_mask": ["masked"]})])
    with pytest.raises(ConfigError, match="task: expected 'classify'"):
        ClassifierSpec(task="detect", classes=["a"], sources=[SourceSpec(path="x")])
    with pytest.raises(ConfigError, match="weight: expected > 0"):
        ClassifierSpec(task="classify", classes=["a"], sources=[SourceSpec(path="x", weight=0)])


def test_a_label_set_never_penalises_its_members():
    logits = torch.tensor([[5.0, -5.0, -5.0], [-5.0, -5.0, 5.0]])
    both = torch.tensor([[True, False, True], [True, False, True]])
    weights = torch.ones(2)
    # the set {with_mask, incorrect} is satisfied whichever of the two the model picks
    assert float(set_loss(logits, both, weights)) < 1e-3
    only_first = torch.tensor([[True, False, False], [True, False, False]])
    assert float(set_loss(logits, only_first, weights)) > 4  # the second face is wrongly called incorrect


def test_crops_keep_sources_label_sets_and_faces(tiny_data):
    specs = [SourceSpec(path=str(tiny_data / "train"), name="a"),
             SourceSpec(path=str(tiny_data / "val"), name="b", label_sets={"with_mask": ["with_mask", "mask_weared_incorrect"]})]
    crops = collect_crops(specs, list(SAMPLE_CLASSES))
    assert crops.images.shape[1:] == (STORE_SIZE, STORE_SIZE, 3) and crops.names == ["a", "b"]
    b_with = (crops.source == 1) & (crops.label == 0)
    assert b_with.any() and crops.allowed[b_with][:, [0, 2]].all() and not crops.allowed[b_with][:, 1].any()
    a_rows = crops.allowed[crops.source == 0]
    assert (a_rows.sum(1) == 1).all()  # single labels in source a


def test_sampling_gives_each_source_its_weight(tiny_data):
    spec = ClassifierSpec(task="classify", classes=list(SAMPLE_CLASSES),
                          sources=[SourceSpec(path=str(tiny_data / "train")), SourceSpec(path=str(tiny_data / "val"), weight=3)])
    crops = collect_crops(spec.sources, spec.classes)
    probs = _sampling_probs(crops, spec)
    assert probs[crops.source == 1].sum() == pytest.approx(0.75)


def test_crop_folders_are_a_source(tmp_path):
    import cv2

    for label in ("with_mask", "without_mask"):
        (tmp_path / "crops" / label).mkdir(parents=True)
        for i in range(2):
            cv2.imwrite(str(tmp_path / "crops" / label / f"{i}.png"), np.full((64, 64), 40 * i + 50, np.uint8))
    crops = collect_crops([SourceSpec(path=str(tmp_path / "crops"))], list(SAMPLE_CLASSES))
    assert sorted(crops.label.tolist()) == [0, 0, 1, 1]


def test_jitter_keeps_the_face_in_the_crop():
    store = np.zeros((STORE_SIZE, STORE_SIZE, 3), np.uint8)
    face = STORE_SIZE / STORE_CONTEXT
    lo, hi = int((STORE_SIZE - face) / 2), int((STORE_SIZE + face) / 2)
    store[lo:hi, lo:hi] = 255
    rng = np.random.default_rng(0)
    aug = ClassifierAugment(hflip=0, color=0, gray=0, blur=0)
    for _ in range(20):
        crop = jittered(store, rng, 1.3, 32, aug)
        assert crop.shape == (32, 32, 3) and (crop[8:24, 8:24] > 128).mean() > 0.8


@pytest.mark.parametrize("box", [(100, 80, 160, 170), (50, 60, 150, 110), (3, 2, 40, 45), (380, 260, 399, 299)])
@pytest.mark.parametrize("hflip", [0.0, 1.0])
def test_box_target_is_where_the_face_is_in_the_crop(box, hflip):
    """The box head's target (unit square of the jittered crop) covers exactly the white face, for tall, wide,
    edge and corner faces, flipped or not."""
    image = np.zeros((300, 400, 3), np.uint8)
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = 255
    store = face_crop(image, box, STORE_CONTEXT, STORE_SIZE)
    rng = np.random.default_rng(1)
    aug = ClassifierAugment(hflip=hflip, color=0, gray=0, blur=0)
    for _ in range(10):
        crop, target = jittered_with_box(store, _in_store(box), rng, 1.3, 64, aug)
        ys, xs = np.nonzero(crop[..., 0] > 128)
        seen = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) / 64
        assert np.abs(seen - target).max() < 2.5 / 64


def test_box_loss_ignores_faces_without_a_box():
    pred = torch.tensor([[0.1, 0.1, 0.9, 0.9], [0.0, 0.0, 1.0, 1.0]])
    target = torch.tensor([[0.2, 0.1, 0.9, 0.8], [float("nan")] * 4])
    assert float(box_loss(pred, target)) == pytest.approx(0.2)
    assert float(box_loss(pred, torch.full((2, 4), float("nan")))) == 0.0


def test_only_sources_that_say_so_teach_the_box_head(tiny_data, tmp_path):
    import cv2

    (tmp_path / "crops" / "with_mask").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "crops" / "with_mask" / "0.png"), np.full((64, 64), 90, np.uint8))
    specs = [SourceSpec(path=str(tiny_data / "train"), name="a"), SourceSpec(path=str(tiny_data / "val"), name="b", boxes=False),
             SourceSpec(path=str(tmp_path / "crops"), name="c")]
    crops = collect_crops(specs, list(SAMPLE_CLASSES))
    has = np.isfinite(crops.boxes).all(1)
    assert has[crops.source == 0].all() and not has[crops.source == 1].any() and not has[crops.source == 2].any()
    # a labelled box lies in the middle of its stored crop, at STORE_CONTEXT
    side = np.maximum(crops.boxes[has][:, 2] - crops.boxes[has][:, 0], crops.boxes[has][:, 3] - crops.boxes[has][:, 1])
    assert np.allclose(side, STORE_SIZE / STORE_CONTEXT, atol=1.5)


def test_face_crop_pads_outside_the_image_with_grey():
    image = np.full((20, 20, 3), 255, np.uint8)
    crop = face_crop(image, (0, 0, 10, 10), 2.0, 20)
    assert crop[0, 0].tolist() == [114, 114, 114] and crop[15, 15].tolist() == [255, 255, 255]


def test_train_export_and_resume_on_the_cli(tiny_data, tmp_path, capsys):
    spec = tmp_path / "cls.yaml"
    spec.write_text(yaml.safe_dump(_spec_dict(tiny_data, tmp_path / "runs")))
    assert main(["train", str(spec)]) == 0
    run = tmp_path / "runs" / "cls"
    rows = (run / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3 and "val_acc" in rows[0]
    assert (run / "confusion_val.png").stat().st_size > 1000
    clf = CropClassifier(run / "classifier.onnx", threads=1)
    assert clf.classes == list(SAMPLE_CLASSES) and clf.input_size == 32 and clf.context == pytest.approx(1.3)
    probs = clf(np.zeros((3, 32, 32, 3), np.uint8))
    assert probs.shape == (3, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    # a finished run resumed trains nothing more and exports again
    assert main(["train", "--resume", str(run)]) == 0
    assert len((run / "metrics.csv").read_text().splitlines()) == 3


def test_box_head_trains_and_exports_a_second_output(tiny_data, tmp_path):
    spec = tmp_path / "cls.yaml"
    spec.write_text(yaml.safe_dump(_spec_dict(tiny_data, tmp_path / "runs", box_head=True, epochs=1)))
    assert main(["train", str(spec)]) == 0
    run = tmp_path / "runs" / "cls"
    header = (run / "metrics.csv").read_text().splitlines()[0]
    assert "val_box_iou_read" in header and "val_box_iou_given" in header
    clf = CropClassifier(run / "classifier.onnx", threads=1)
    assert clf.has_box_head
    probs, boxes = clf.run(np.zeros((2, 32, 32, 3), np.uint8))
    assert probs.shape == (2, 3) and boxes.shape == (2, 4)
    assert clf.run(np.zeros((0, 32, 32, 3), np.uint8))[1].shape == (0, 4)


def test_cli_flags_reach_a_classifier_spec_or_are_refused(tiny_data, tmp_path, capsys):
    """--name/--out/--epochs… apply to a classifier spec as to a detector's (they were dropped silently:
    `dabai train configs/mask_classifier.yaml --name X` wrote to the spec's own name); detector-only flags
    are refused with the ones it takes."""
    spec = tmp_path / "cls.yaml"
    spec.write_text(yaml.safe_dump(_spec_dict(tiny_data, tmp_path / "runs", epochs=3)))
    assert main(["train", str(spec), "--name", "renamed", "--out", str(tmp_path / "elsewhere"), "--epochs", "1"]) == 0
    run = tmp_path / "elsewhere" / "renamed"
    assert (run / "classifier.onnx").is_file() and not (tmp_path / "runs").exists()
    assert len((run / "metrics.csv").read_text().splitlines()) == 2  # 1 epoch, not the spec's 3
    assert yaml.safe_load((run / "spec.yaml").read_text())["name"] == "renamed"
    capsys.readouterr()
    assert main(["train", str(spec), "--teacher", "x.pt"]) != 0
    err = capsys.readouterr().err
    assert "--teacher applies to detector specs only" in err and "--name" in err


def test_shipped_classifier_spec_is_valid():
    from pathlib import Path

    from dabai.train.classifier import is_classifier_spec, load_classifier_spec

    path = Path(__file__).resolve().parents[2] / "configs" / "mask_classifier.yaml"
    assert is_classifier_spec(path)
    spec = load_classifier_spec(path)
    real = ["face-mask", "ilc2021", "macwin", "crops-grey"]
    assert [s.name for s in spec.sources] == real + [f"painted-{name}" for name in real]
    for k in (2, 6):  # macwin, real or painted: its with_mask may hide an incorrectly worn mask
        assert spec.sources[k].label_sets == {"with_mask": ["with_mask", "mask_weared_incorrect"]}
    # the painted faces come from the training splits only (scripts/train_default.sh makes them)
    assert all(s.path.startswith("data/painted/") and "test" not in s.path and "val" not in s.path
               for s in spec.sources[4:])


@pytest.mark.parametrize("fold,left_out,path", [("cls_no_andrew", "face-mask", "splits/face-mask/"),
                                                ("cls_no_ilc", "ilc2021", "splits/ilc2021/"),
                                                ("cls_no_macwin", "macwin", "splits/macwin/"),
                                                ("cls_no_grey", "crops-grey", "face-mask-crops")])
def test_leave_one_source_out_classifier_specs_leave_their_source_out(fold, left_out, path):
    """configs/loso/ (docs/benchmarks.md): each fold is the shipped spec without one source and without the
    faces painted from it, and otherwise the same recipe."""
    from dabai.train.classifier import load_classifier_spec

    configs = Path(__file__).resolve().parents[2] / "configs"
    shipped = load_classifier_spec(configs / "mask_classifier.yaml")
    fold_spec = load_classifier_spec(configs / "loso" / f"{fold}.yaml")
    assert [s.name for s in fold_spec.sources] == [s.name for s in shipped.sources
                                                   if s.name not in (left_out, f"painted-{left_out}")]
    assert all(path not in str(s.path) for s in fold_spec.sources)
    painted_from = {"face-mask": "face-mask-train", "ilc2021": "ilc2021-train", "macwin": "macwin-train",
                    "crops-grey": "crops-grey"}[left_out]
    assert all(f"painted/{painted_from}" not in str(s.path) for s in fold_spec.sources)
    if left_out == "crops-grey":  # its score is its val: every grey crop, never trained on
        assert [v.path for v in fold_spec.val] == ["../shared/data/face-mask-crops"]
    else:
        assert all(path not in str(v.path) for v in fold_spec.val)
    assert (fold_spec.epochs, fold_spec.samples_per_epoch, fold_spec.input_size) == \
        (shipped.epochs, shipped.samples_per_epoch, shipped.input_size)


def test_leave_one_source_out_detector_spec_trains_without_face_mask():
    from dabai.train.spec import load_spec

    spec = load_spec(str(Path(__file__).resolve().parents[2] / "configs" / "loso" / "det_no_andrew.yaml"))
    assert "face-mask" not in spec.data.train and not spec.data.extra_train
