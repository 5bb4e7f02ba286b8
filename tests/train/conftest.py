"""Tiny synthetic datasets and specs so training tests run in seconds on a CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from dabai.data.synth import SAMPLE_CLASSES, make_sample_dataset


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    make_sample_dataset(root / "train", n_images=16, seed=1)
    make_sample_dataset(root / "val", n_images=6, seed=2)
    return root


def _write_spec(path: Path, data: Path, run_dir: Path, **extra) -> Path:
    import yaml

    spec = {
        "data": {"train": str(data / "train"), "val": str(data / "val"), "workers": 0},
        "classes": list(SAMPLE_CLASSES),
        "model": {"name": "mnv2_pan", "input_size": 96},
        "epochs": 2,
        "batch_size": 4,
        "output_dir": str(run_dir),
        "name": "run",
        "threads": 1,
        "export_onnx": False,
    }
    for key, value in extra.items():
        node = spec
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture
def write_spec():
    """write_spec(path, data_root, runs_dir, **dotted_overrides) -> spec path."""
    return _write_spec
