"""``data paint-masks`` on real faces (../shared): YuNet finds them again, the painted ones are relabelled and the
rest keep their labels, crop folders are painted into class folders, and the input is never changed."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from tests.data.helpers import tree_digest

from dabai.cli.main import main
from dabai.core.errors import DataError, ModelError
from dabai.data.formats import read_dataset
from dabai.loop.faces import FaceFinder
from dabai.loop.paint import PaintOptions, find_landmarks, paint_crop_folder, paint_dataset


@pytest.fixture
def yunet(weights_dir) -> FaceFinder:
    path = weights_dir / "face_detection_yunet.onnx"
    if not path.is_file():
        pytest.skip(f"needs {path}; not present here")
    return FaceFinder(path, min_score=0.3)


@pytest.fixture
def bare_faces(face_mask_dir, tmp_path) -> Path:
    """The first 25 face-mask images that hold a bare face of at least 24 px, as a VOC folder of their own."""
    ds = read_dataset(face_mask_dir)
    keep = [im for im in ds.images if any(b.label == "without_mask" and min(b.width, b.height) >= 24
                                          for b in im.boxes)][:25]
    out = tmp_path / "bare"
    for im in keep:
        for sub, src in (("images", im.path), ("annotations", im.label_path)):
            (out / sub).mkdir(parents=True, exist_ok=True)
            shutil.copy(src, out / sub / src.name)
    return out


def test_painted_faces_are_relabelled_and_the_rest_kept(bare_faces, yunet, tmp_path):
    before = tree_digest(bare_faces)
    src = read_dataset(bare_faces)
    painted, report = paint_dataset(src, tmp_path / "out", "voc", yunet, PaintOptions(min_face=24, seed=1))
    assert tree_digest(bare_faces) == before  # the input is never changed
    n = sum(report.painted.values())
    assert n >= 15 and report.images == len(painted) >= 12
    assert report.not_found <= n // 3  # YuNet finds most labelled bare faces again
    back = read_dataset(tmp_path / "out")  # what was written reads back as written
    assert len(back) == len(painted)
    by_stem = {im.stem: im for im in src.images}
    relabelled = 0
    for im in back.images:
        assert im.stem.endswith("_masked")
        orig = by_stem[im.stem.removesuffix("_masked")]
        assert len(im.boxes) == len(orig.boxes)
        for new, old in zip(im.boxes, orig.boxes):
            assert np.allclose(new.as_list(), old.as_list(), atol=1)  # boxes do not move
            if new.label != old.label:
                assert old.label == "without_mask" and new.label in ("with_mask", "mask_weared_incorrect")
                relabelled += 1
    assert relabelled == n
    doc = json.loads((tmp_path / "out" / "paint_report.json").read_text(encoding="utf-8"))
    assert doc["face_model"]["sha256"] == hashlib.sha256(yunet.path.read_bytes()).hexdigest()
    assert doc["options"]["seed"] == 1 and len(doc["faces"]) == n
    assert {f["style"] for f in doc["faces"]} <= {"correct", "nose", "chin"}


def test_painting_is_seeded(bare_faces, yunet, tmp_path):
    src = read_dataset(bare_faces)
    src.images = src.images[:4]
    paint_dataset(src, tmp_path / "a", "voc", yunet, PaintOptions(seed=5))
    paint_dataset(src, tmp_path / "b", "voc", yunet, PaintOptions(seed=5))
    paint_dataset(src, tmp_path / "c", "voc", yunet, PaintOptions(seed=6))
    assert tree_digest(tmp_path / "a" / "images") == tree_digest(tmp_path / "b" / "images")
    assert tree_digest(tmp_path / "a" / "images") != tree_digest(tmp_path / "c" / "images")


def test_a_crop_folder_is_painted_into_class_folders_a_classifier_reads(weights_dir, yunet, tmp_path):
    crops = weights_dir.parent / "data" / "face-mask-crops"
    if not crops.is_dir():
        pytest.skip(f"needs {crops}; not present here")
    sample = tmp_path / "crops" / "without_mask"
    sample.mkdir(parents=True)
    for f in random.Random(0).sample(sorted((crops / "without_mask").glob("*.jpg")), 30):
        shutil.copy(f, sample / f.name)
    report = paint_crop_folder(tmp_path / "crops", tmp_path / "out", yunet, PaintOptions(incorrect=0.5))
    written = {c: len(list((tmp_path / "out" / c).glob("*.jpg"))) for c in ("with_mask", "mask_weared_incorrect")}
    assert sum(written.values()) == report.images == sum(report.painted.values()) >= 27
    assert min(written.values()) >= 5
    from dabai.train.classifier import SourceSpec, collect_crops

    got = collect_crops([SourceSpec(path=str(tmp_path / "out"))], ["with_mask", "without_mask", "mask_weared_incorrect"])
    assert len(got.label) == report.images and set(got.label.tolist()) == {0, 2}


def test_landmarks_are_found_for_the_labelled_face_only(bare_faces, yunet):
    im = read_dataset(bare_faces).images[0]
    import cv2

    image = cv2.imread(str(im.path))
    face = next(b for b in im.boxes if b.label == "without_mask" and min(b.width, b.height) >= 24)
    lm = find_landmarks(image, face.as_list(), yunet)
    if lm is None:
        pytest.skip("YuNet did not find this face again")
    mouth = lm.points[3:].mean(axis=0)
    assert face.x1 - face.width * 0.2 <= mouth[0] <= face.x2 + face.width * 0.2
    assert face.y1 <= mouth[1] <= face.y2 + face.height * 0.2
    far = [image.shape[1] - 5, image.shape[0] - 5, image.shape[1] - 1, image.shape[0] - 1]
    assert find_landmarks(image, far, yunet) is None  # nothing there


def test_an_ultraface_finder_is_refused_before_anything_is_written(bare_faces, weights_dir, tmp_path):
    ultra = weights_dir / "ultraface-rfb-320.onnx"
    if not ultra.is_file():
        pytest.skip(f"needs {ultra}")
    with pytest.raises(ModelError, match="YuNet"):
        paint_dataset(read_dataset(bare_faces), tmp_path / "out", "voc", FaceFinder(ultra))
    assert not (tmp_path / "out").exists()
    with pytest.raises(DataError, match="0 … 1"):
        PaintOptions(incorrect=2.0)


def test_cli_paints_and_refuses_an_output_inside_its_input(bare_faces, yunet, tmp_path, capsys):
    rc = main(["data", "paint-masks", str(bare_faces), "--out", str(tmp_path / "p"), "--face-model", str(yunet.path)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "painted" in out and "not found again" in out
    assert (tmp_path / "p" / "paint_report.json").is_file()
    rc = main(["data", "paint-masks", str(bare_faces), "--out", str(bare_faces / "inside"),
               "--face-model", str(yunet.path)])
    assert rc != 0 and not (bare_faces / "inside").exists()


def test_cli_paints_a_crop_folder_into_class_folders(weights_dir, yunet, tmp_path, capsys):
    crops = weights_dir.parent / "data" / "face-mask-crops"
    if not crops.is_dir():
        pytest.skip(f"needs {crops}; not present here")
    for cls in ("without_mask", "with_mask"):
        (tmp_path / "crops" / cls).mkdir(parents=True)
        for f in sorted((crops / cls).glob("*.jpg"))[:6]:
            shutil.copy(f, tmp_path / "crops" / cls / f.name)
    rc = main(["data", "paint-masks", str(tmp_path / "crops"), "--out", str(tmp_path / "p"),
               "--face-model", str(yunet.path), "--incorrect", "1", "--chin", "0"])
    assert rc == 0 and "painted" in capsys.readouterr().out
    assert not (tmp_path / "p" / "with_mask").exists()  # --incorrect 1: every one worn wrong
    assert len(list((tmp_path / "p" / "mask_weared_incorrect").glob("*.jpg"))) >= 5
    # the class folder to paint must exist
    rc = main(["data", "paint-masks", str(tmp_path / "crops"), "--out", str(tmp_path / "q"),
               "--face-model", str(yunet.path), "--label", "nobody"])
    assert rc == 2 and "nobody" in capsys.readouterr().err
