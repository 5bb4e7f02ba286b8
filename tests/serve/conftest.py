"""A tiny ONNX detector for the service tests (no torch at test time once exported)."""

from __future__ import annotations

import socket
import subprocess
import sys
from contextlib import contextmanager
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
    for level in model.head.levels:
        level.cls.bias.data = torch.tensor([1.0, -1.0, -3.0])  # some detections above 0.3
    return export_onnx(model, tmp_path_factory.mktemp("serve") / "tiny.onnx", list(SAMPLE_CLASSES), "mnv2_pan")


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries almost no data (a decompression-bomb probe)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(*args: str):
    """``dabai serve ARGS`` on a free port of 127.0.0.1, answering /healthz; yields (url, process)."""
    pytest.importorskip("httpx")
    from dabai.bench.burst import wait_healthy

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dabai", "serve", *args, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        problem = wait_healthy(url, proc, 60)
        if problem is not None:
            output = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
            pytest.fail(f"{problem}: {output}")
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
