"""The shipped models and their provenance sidecars agree: a retrained default cannot ship with stale
hashes, classes or a calibration cache made for another FP32 model."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx
import pytest

from dabai.runtime.backends import ASSETS, SHIPPED_MODELS, shipped_model_path

from ..conftest import SHARED_DIR


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tracked(path) -> bool:
    import subprocess

    proc = subprocess.run(["git", "ls-files", "--error-unmatch", str(path)], cwd=path.parent, capture_output=True)
    return proc.returncode == 0


def _sidecar(name: str) -> dict:
    return json.loads(shipped_model_path(name).with_suffix(".json").read_text())


DETECTORS = sorted(n for n in SHIPPED_MODELS if n.startswith("detector-"))
CHECKERS = sorted(n for n in SHIPPED_MODELS if not n.startswith("detector-"))


@pytest.mark.parametrize("name", CHECKERS)
def test_checker_manifest_names_its_parts_their_hashes_and_provenance(name):
    from dabai.runtime.checker import read_manifest

    doc = read_manifest(shipped_model_path(name))
    for part in ("detector", "classifier", "face_finder"):
        assert doc["sha256"][part] == _sha256(ASSETS / doc[part]) and _tracked(ASSETS / doc[part])
    assert doc["provenance"]["sources"] and doc["provenance"]["specs"]
    # the finder is fine-tuned from UltraFace (MIT): its licence notice ships beside it, and it is never a copy
    # of the released file in ../shared (whose images and weights are not redistributed as they are)
    assert doc["face_finder"] in doc["provenance"]["face_finder"] and "MIT" in doc["provenance"]["face_finder"]
    assert "Copyright (c) 2019 linzai" in (ASSETS / "NOTICE.md").read_text() and _tracked(ASSETS / "NOTICE.md")
    released = SHARED_DIR / "weights" / "ultraface-rfb-640-masked-face.onnx"
    if released.is_file():
        assert doc["sha256"]["face_finder"] != _sha256(released)
    meta = {p.key: p.value for p in onnx.load(str(ASSETS / doc["face_finder"])).metadata_props}
    assert meta["base"] == "ultraface-rfb-640-masked-face.onnx" and float(meta["interpolate"]) == 0.5
    assert doc["detector"] == SHIPPED_MODELS[f"detector-{name}"]


@pytest.mark.parametrize("name", CHECKERS)
def test_checker_provenance_names_the_committed_specs(name):
    """The digests in the manifest are those of configs/*.yaml as committed: a spec edited after training
    (other epochs, other sources) makes the shipped model unreproducible from it, and fails here."""
    from dabai.export.checker import spec_digest
    from dabai.runtime.checker import read_manifest

    configs = ASSETS.parents[2].parent / "configs"
    if not configs.is_dir():
        pytest.skip(f"no configs/ beside the package ({configs}): an installed wheel, not a checkout")
    for spec, digest in read_manifest(shipped_model_path(name))["provenance"]["specs"].items():
        assert spec_digest(configs / spec) == digest, f"configs/{spec} changed since {name} was built"


def test_int8_checker_is_made_from_the_fp32_one():
    from dabai.runtime.checker import read_manifest

    fp32, int8 = (read_manifest(shipped_model_path(n)) for n in ("fp32", "int8"))
    assert int8["provenance"]["from"] == fp32["sha256"]


@pytest.mark.parametrize("name", DETECTORS)
def test_sidecar_names_the_file_and_its_hash(name):
    path = shipped_model_path(name)
    meta = _sidecar(name)
    assert meta["file"] == path.name
    assert meta["sha256"] == _sha256(path)


def test_fp32_sidecar_classes_match_the_onnx_metadata():
    path = shipped_model_path("detector-fp32")
    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    assert json.loads(props["classes"]) == _sidecar("detector-fp32")["classes"]
    assert int(props["input_size"]) == _sidecar("detector-fp32")["input"]["size"][0]


def test_int8_export_and_its_calibration_cache_come_from_the_shipped_fp32_model():
    fp32_sha = _sha256(shipped_model_path("detector-fp32"))
    assert fp32_sha in _sidecar("detector-int8")["from"]
    cache_meta = json.loads((ASSETS / "mask_detector.int8.calib.meta.json").read_text())
    assert fp32_sha.startswith(cache_meta["fp32_model"])


def test_release_memory_keeps_the_detections():
    """Handing ONNX Runtime's arenas back (a server going idle) changes nothing the model finds."""
    from dabai.runtime.detector import Detector

    image = np.full((240, 320, 3), 128, np.uint8)
    image[60:180, 110:210] = (200, 170, 150)
    det = Detector.load("int8", threads=1).with_options(conf=0.01)
    before = det.detect_batch([image, image, image, image])
    assert all(before)  # something to compare
    det.release_memory()
    after = det.detect_batch([image, image, image, image])
    assert [[(d.label, round(d.score, 5)) for d in ds] for ds in before] == \
        [[(d.label, round(d.score, 5)) for d in ds] for ds in after]


def _closeups(root, every: int = 20, min_side: int = 60, height: int = 240):
    """Webcam-like frames cut from a VOC source's photos: the largest face of every ``every``-th photo (at least
    ``min_side`` px) cropped so that it fills half the frame's height, 4:3, resized to ``height`` px; with the
    face's box in the frame's pixels and its label."""
    import cv2

    from dabai.data.formats import read_dataset

    for im in read_dataset(root).images[::every]:
        big = [b for b in im.boxes if min(b.x2 - b.x1, b.y2 - b.y1) >= min_side]
        if not big:
            continue
        b = max(big, key=lambda b: (b.x2 - b.x1) * (b.y2 - b.y1))
        bgr = cv2.imread(str(im.path))
        side, cx, cy = 2.0 * max(b.x2 - b.x1, b.y2 - b.y1), (b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2
        x0, y0 = int(max(cx - side * 2 / 3, 0)), int(max(cy - side / 2, 0))
        x1, y1 = int(min(cx + side * 2 / 3, bgr.shape[1])), int(min(cy + side / 2, bgr.shape[0]))
        s = height / (y1 - y0)
        frame = cv2.resize(bgr[y0:y1, x0:x1], (int(round((x1 - x0) * s)), height))
        yield frame, ((b.x1 - x0) * s, (b.y1 - y0) * s, (b.x2 - x0) * s, (b.y2 - y0) * s), b.label


def _iou(a, b) -> float:
    ix, iy = max(0.0, min(a[2], b[2]) - max(a[0], b[0])), max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_the_default_finds_and_judges_a_face_that_fills_the_frame():
    """The issue's first failure (a face filling a webcam frame was not found): on 240-px close-ups cut from
    ilc2021 photos, the shipped default (as the gate loads it) finds the face (IoU >= 0.5, score >= 0.3) and
    tells a right mask from the rest. A regime check on photos its parts trained on, not a new camera (that
    is docs/benchmarks.md's leave-one-source-out). Session 20: 42 of 46 found, 40 of them judged right; stage 1
    alone (`detector-int8`) found 43 and judged 27 right, which this test refuses."""
    from dabai.runtime.detector import Detector

    from ..conftest import shared_path

    det = Detector.load("int8", threads=1, second_look=False).with_options(conf=0.3)
    n = found = right = 0
    for frame, face, label in _closeups(shared_path("data/face-mask-ilc2021")):
        n += 1
        best = max(det(frame), key=lambda d: _iou(d.bbox, face), default=None)
        if best is not None and _iou(best.bbox, face) >= 0.5:
            found += 1
            right += (best.label == "with_mask") == (label == "with_mask")
    assert n >= 40, f"only {n} close-ups made"
    assert found >= 0.85 * n, f"{found} of {n} faces found"
    assert right >= 0.9 * found, f"{right} of {found} found faces judged right (mask ok / not ok)"
