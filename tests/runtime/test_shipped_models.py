"""The shipped models and their provenance sidecars agree: a retrained default cannot ship with stale
hashes, classes or a calibration cache made for another FP32 model."""

from __future__ import annotations

import hashlib
import json

import onnx
import pytest

from dabai.runtime.backends import ASSETS, SHIPPED_MODELS, shipped_model_path


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sidecar(name: str) -> dict:
    return json.loads(shipped_model_path(name).with_suffix(".json").read_text())


@pytest.mark.parametrize("name", sorted(SHIPPED_MODELS))
def test_sidecar_names_the_file_and_its_hash(name):
    path = shipped_model_path(name)
    meta = _sidecar(name)
    assert meta["file"] == path.name
    assert meta["sha256"] == _sha256(path)


def test_fp32_sidecar_classes_match_the_onnx_metadata():
    props = {p.key: p.value for p in onnx.load(str(shipped_model_path("fp32")), load_external_data=False).metadata_props}
    assert json.loads(props["classes"]) == _sidecar("fp32")["classes"]
    assert int(props["input_size"]) == _sidecar("fp32")["input"]["size"][0]


def test_int8_export_and_its_calibration_cache_come_from_the_shipped_fp32_model():
    fp32_sha = _sha256(shipped_model_path("fp32"))
    assert fp32_sha in _sidecar("int8")["from"]
    cache_meta = json.loads((ASSETS / "mask_detector.int8.calib.meta.json").read_text())
    assert fp32_sha.startswith(cache_meta["fp32_model"])
