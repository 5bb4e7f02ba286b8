"""A tiny ONNX detector for the benchmark tests."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def serve_model(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    import torch

    from dabai.data.synth import SAMPLE_CLASSES
    from dabai.export.onnx import export_onnx
    from dabai.models.registry import create_model

    torch.manual_seed(0)
    model = create_model("mnv2_pan", len(SAMPLE_CLASSES), 96)
    return export_onnx(model, tmp_path_factory.mktemp("bench") / "tiny.onnx", list(SAMPLE_CLASSES), "mnv2_pan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
