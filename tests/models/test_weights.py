"""Weight loading: explicit path, cache lookup with sha256 check, no download unless asked."""

from __future__ import annotations

import shutil

import pytest

from dabai.core.digest import sha256_file
from dabai.core.errors import ModelError
from dabai.models.weights import KNOWN_WEIGHTS, resolve_weights


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="weights file not found"):
        resolve_weights(str(tmp_path / "nope.pth"))


def test_known_name_not_in_cache_does_not_download(tmp_path):
    with pytest.raises(ModelError, match="not in the cache.*downloads only when asked"):
        resolve_weights("mobilenet_v2_imagenet", cache_dir=tmp_path)


def test_known_name_with_wrong_bytes_fails_checksum(tmp_path):
    (tmp_path / KNOWN_WEIGHTS["mobilenet_v2_imagenet"].file_name).write_bytes(b"not the weights")
    with pytest.raises(ModelError, match="sha256 does not match"):
        resolve_weights("mobilenet_v2_imagenet", cache_dir=tmp_path)


def test_official_file_from_shared_verifies_in_cache(weights_dir, tmp_path):
    name = KNOWN_WEIGHTS["mobilenet_v2_imagenet"].file_name
    shutil.copy(weights_dir / name, tmp_path / name)
    assert resolve_weights("mobilenet_v2_imagenet", cache_dir=tmp_path) == tmp_path / name
    assert sha256_file(tmp_path / name) == KNOWN_WEIGHTS["mobilenet_v2_imagenet"].sha256


def test_pretrained_backbones_load(weights_dir):
    pytest.importorskip("torch")
    from dabai.models.registry import create_model

    m = create_model("mnv2_pan", 3, 96, pretrained=str(weights_dir / "mobilenet_v2-b0353104.pth"))
    u = create_model("ultraface_pan", 3, 96, pretrained=str(weights_dir / "ultraface-rfb-320.pth"))
    assert m.stages[0][0][0].weight.abs().sum() > 0 and u.stages[0][0][0].weight.abs().sum() > 0


def test_wrong_file_for_ultraface_is_explained(weights_dir):
    pytest.importorskip("torch")
    from dabai.models.registry import create_model

    with pytest.raises(ModelError, match="UltraFace"):
        create_model("ultraface_pan", 3, 96, pretrained=str(weights_dir / "mobilenet_v2-b0353104.pth"))
