"""Tiny detectors and data for the export, parity, serve and bench tests (seconds on a CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from dabai.data.synth import SAMPLE_CLASSES, make_sample_dataset  # noqa: E402

SIZE = 96


def tiny_model(seed: int = 0):
    """An untrained mnv2_pan with outputs that vary with the input and real detections above 0.3."""
    from dabai.models.registry import create_model

    torch.manual_seed(seed)
    model = create_model("mnv2_pan", len(SAMPLE_CLASSES), SIZE)
    for level in model.head.levels:
        level.cls.bias.data = torch.tensor([1.0, -1.0, -3.0])
        level.cls.weight.data.normal_(0, 0.05)
        level.reg.weight.data.normal_(0, 0.01)
        level.reg.bias.data.fill_(0.3)
    # trained-looking BatchNorm: scales that differ by channel, statistics of real activations
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data = torch.rand(m.num_features, generator=g) * 1.5 + 0.05
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the batches below
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(4, 3, SIZE, SIZE, generator=g) * 255)
    return model.eval()


def save_tiny_checkpoint(path: Path, model=None) -> Path:
    from dabai.models.checkpoint import save_checkpoint

    model = model if model is not None else tiny_model()
    save_checkpoint(path, {"model": model.state_dict(), "model_name": "mnv2_pan", "classes": list(SAMPLE_CLASSES),
                           "input_size": SIZE})
    return path


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    return save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt")


@pytest.fixture(scope="session")
def tiny_images(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("imgs") / "data"
    make_sample_dataset(root, n_images=10, seed=3)
    return root


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory, tiny_ckpt) -> Path:
    from dabai.export.onnx import export_checkpoint

    return export_checkpoint(tiny_ckpt, tmp_path_factory.mktemp("onnx") / "tiny.onnx")
