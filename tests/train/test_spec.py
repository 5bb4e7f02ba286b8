"""Spec loading: unknown keys and wrong types are errors that name the key."""

from __future__ import annotations

import pytest

from dabai.core.errors import ConfigError
from dabai.train.spec import TrainSpec, load_spec

BASE = "data: {train: a}\nclasses: [x, y]\n"


@pytest.mark.parametrize(
    "extra, message",
    [
        ("epochs: ten\n", "epochs: expected an integer, got str 'ten'"),
        ("epocs: 10\n", "unknown key 'epocs'"),
        ("optimizer: {lr: fast}\n", "optimizer.lr: expected a number"),
        ("optimizer: {name: adam}\n", "optimizer.name: 'adam' is not allowed; choose one of 'adamw', 'sgd'"),
        ("model: {input_sise: 320}\n", "unknown key 'model.input_sise'"),
        ("augment: {scale: 2}\n", "augment.scale: expected a list"),
        ("amp: 1\n", "amp: expected true or false"),
        ("balance: {class_weights: {z: 2.0}}\n", "balance.class_weights: unknown class 'z'; the spec's classes are ['x', 'y']"),
        ("augment: {copy_paste: 0.5, copy_paste_classes: [Y]}\n", "augment.copy_paste_classes: unknown class 'Y'"),
        ("augment: {copy_paste: 0.5}\n", "augment.copy_paste_classes is empty"),
        ("augment: {copy_paste: 0.5, copy_paste_classes: [y], copy_paste_max: 0}\n", "copy_paste_max: expected at least 1"),
        ("augment: {copy_paste_scale: [2, 1]}\n", "copy_paste_scale: expected 0 < low <= high"),
    ],
)
def test_bad_specs_name_the_key(tmp_path, extra, message):
    path = tmp_path / "spec.yaml"
    path.write_text(BASE + extra)
    with pytest.raises(ConfigError) as info:
        load_spec(str(path))
    assert message in str(info.value)


def test_missing_required_key(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("data: {train: a}\n")
    with pytest.raises(ConfigError, match="missing required key 'classes'"):
        load_spec(str(path))


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("data: {train: a}\nclasses: [x, y\n")
    with pytest.raises(ConfigError, match=r"spec.yaml:\d+: not valid YAML"):
        load_spec(str(path))


def test_overrides_apply_and_are_typed(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(BASE)
    spec = load_spec(str(path), ["epochs=3", "optimizer.lr=0.01", "augment.scale=[0.5, 2]"])
    assert isinstance(spec, TrainSpec)
    assert spec.epochs == 3 and spec.optimizer.lr == 0.01 and spec.augment.scale == (0.5, 2.0)


def test_shipped_spec_is_valid():
    from pathlib import Path

    spec = load_spec(str(Path(__file__).resolve().parents[2] / "configs" / "mask_detector.yaml"))
    assert spec.classes == ["with_mask", "without_mask", "mask_weared_incorrect"]
