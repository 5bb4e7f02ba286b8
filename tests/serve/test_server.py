"""One real uvicorn on 127.0.0.1: bounded requests, garbage, and it is still up afterwards."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

httpx = pytest.importorskip("httpx")

from dabai.bench.images import bench_jpeg  # noqa: E402

from .conftest import free_port, running_server  # noqa: E402


@pytest.fixture
def server(serve_model):
    with running_server("--model", str(serve_model), "--workers", "2", "--max-bytes", "500000") as (url, _):
        yield url


@pytest.mark.slow
def test_real_server_survives_garbage(server):
    jpeg = bench_jpeg()
    with httpx.Client(timeout=20) as c:
        assert c.post(server + "/v1/detect", files={"file": ("a.jpg", jpeg, "image/jpeg")}).status_code == 200
        for junk in (b"garbage", b"", jpeg[:200], b"\xff\xd8\xff" + b"\0" * 1000):
            assert c.post(server + "/v1/detect", files={"file": ("g.jpg", junk, "image/jpeg")}).status_code == 400
        assert c.post(server + "/v1/detect", files={"file": ("big.jpg", b"x" * 600_000, "image/jpeg")}).status_code == 413
        assert c.post(server + "/v1/detect", content=b"\x00\x01 not multipart").status_code == 400
    # a raw socket speaking nonsense HTTP must not take the server down
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"\x16\x03\x01 definitely not http\r\n\r\n")
        s.recv(100)
    with httpx.Client(timeout=20) as c:
        for _ in range(6):  # both worker processes keep answering
            assert c.post(server + "/v1/detect", files={"file": ("a.jpg", jpeg, "image/jpeg")}).status_code == 200
        metrics = c.get(server + "/metrics").text
    assert 'status="400"' in metrics and 'status="200"' in metrics


def test_bad_model_is_a_plain_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "dabai", "serve", "--model", str(tmp_path / "missing.onnx"),
                           "--port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and proc.stderr.startswith("error: ") and "missing.onnx" in proc.stderr
