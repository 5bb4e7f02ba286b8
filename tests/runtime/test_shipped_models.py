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



def test_the_default_finds_and_judges_a_face_that_fills_the_frame(tmp_path):
    """The issue's first failure (a face filling a webcam frame was not found): on 320 x 240 close-ups of ilc2021
    photos (`dabai data closeups`, each face of 60 px or more at twice its side: the face fills half the frame),
    the shipped default (as the gate loads it) finds each face a quarter of the frame high or more (IoU >= 0.5,
    score >= 0.3) and tells a right mask from the rest. A regime check on photos its parts trained on, not a new
    camera (that is docs/benchmarks.md's leave-one-source-out). Session 20: 115 of 122 found, 110 of them judged
    right; stage 1 alone (`detector-int8`) found 111 and judged 87 right, which this test refuses."""
    from dabai.core.boxes import box_iou
    from dabai.data.closeups import closeup_dataset
    from dabai.data.dataset import Dataset
    from dabai.data.formats import read_dataset
    from dabai.runtime.detector import Detector

    from ..conftest import shared_path

    photos = read_dataset(shared_path("data/face-mask-ilc2021"))
    closeups = closeup_dataset(Dataset(images=photos.images[::20], classes=photos.classes), tmp_path / "closeups",
                               "voc", size=(320, 240), context=2.0, min_face=60)
    det = Detector.load("int8", threads=1, second_look=False).with_options(conf=0.3)
    n = found = right = 0
    for im in closeups.images:
        dets = det(im.path)
        for face in (b for b in im.boxes if b.height >= im.height / 4):
            n += 1
            best = max(dets, key=lambda d: box_iou(d.bbox, face.as_list()), default=None)
            if best is not None and box_iou(best.bbox, face.as_list()) >= 0.5:
                found += 1
                right += (best.label == "with_mask") == (face.label == "with_mask")
    assert n >= 40, f"only {n} close-up faces made"
    assert found >= 0.85 * n, f"{found} of {n} faces found"
    assert right >= 0.9 * found, f"{right} of {found} found faces judged right (mask ok / not ok)"
