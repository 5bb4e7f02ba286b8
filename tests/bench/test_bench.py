"""dabai bench: in-process latency rows, HTTP load against a TestClient-free real server, Markdown and JSON."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from dabai.bench.images import bench_jpeg
from dabai.bench.stats import latency_stats, markdown_table
from dabai.cli.main import main

from .conftest import free_port


def test_stats_and_table():
    s = latency_stats([0.01, 0.02, 0.03, 0.04])
    assert s.count == 4 and s.p50_ms == 25.0 and s.p99_ms <= 40.0
    table = markdown_table([{"a": 1, "b": 2.5}], [("a", "A"), ("b", "B")])
    assert table.splitlines()[0] == "| A | B |" and "| 1 | 2.5 |" in table


def test_bench_image_is_400px_jpeg(tmp_path):
    import cv2
    import numpy as np

    data = bench_jpeg()
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert data[:2] == b"\xff\xd8" and max(img.shape[:2]) == 400
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    from dabai.core.errors import DataError

    with pytest.raises(DataError, match="bad.jpg"):
        bench_jpeg(tmp_path / "bad.jpg")


def test_model_bench_json(serve_model, capsys):
    assert main(["bench", "--model", str(serve_model), "--batch", "1", "2", "--threads", "1", "--seconds", "0.3", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["batch"], r["threads"]) for r in rows] == [(1, 1), (2, 1)]
    assert all(r["p50_ms"] > 0 and r["images_per_s"] > 0 for r in rows)


def test_model_bench_markdown_and_target(serve_model, capsys):
    assert main(["bench", "detector", "--model", str(serve_model), "--batch", "1", "--threads", "1", "--seconds", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "| batch | threads | p50 ms |" in out


def test_http_bench_against_a_live_server(serve_model, capsys, tmp_path):
    uvicorn = pytest.importorskip("uvicorn")
    from dabai.serve.app import create_app
    from dabai.serve.options import ServeOptions

    port = free_port()
    config = uvicorn.Config(create_app(ServeOptions(model=str(serve_model))), host="127.0.0.1", port=port,
                            log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.05)
        out_file = tmp_path / "http.json"
        assert main(["bench", "--url", f"http://127.0.0.1:{port}", "--concurrency", "1", "2", "--seconds", "0.5",
                     "--out", str(out_file)]) == 0
        assert "| concurrency | req/s |" in capsys.readouterr().out
        rows = json.loads(out_file.read_text())["rows"]
        assert [r["concurrency"] for r in rows] == [1, 2]
        assert all(r["errors"] == 0 and r["count"] > 0 for r in rows)
    finally:
        server.should_exit = True
        thread.join(10)


def test_bench_errors(capsys):
    assert main(["bench", "--model", "x.onnx", "--url", "http://127.0.0.1:1"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["bench", "--model", "missing.onnx", "--seconds", "0.1"]) == 2
    assert main(["bench", "--url", "http://127.0.0.1:9", "--concurrency", "0"]) == 2


def test_gate_and_speech_targets_are_registered():
    from dabai.cli.main import build_parser

    parser = build_parser()
    args = parser.parse_args(["bench", "gate", "--runs", "3"])
    assert args.runs == 3 and args.func.__name__ == "_run_gate"
    # every option the gate benchmark reads must exist under both spellings (a missing --no-turn crashed)
    alias = parser.parse_args(["bench-gate", "--runs", "3", "--no-turn"])
    assert {"runs", "model", "no_turn", "json"} <= set(vars(args)) and alias.no_turn and not args.no_turn
    args = parser.parse_args(["bench", "speech", "--quick"])
    assert args.quick and args.func.__name__ == "_run_speech"


@pytest.mark.parametrize("cpuinfo, cpu, flags", [
    ("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_vnni sse2\n", "AMD EPYC",
     ["avx2", "avx512f", "avx512_vnni"]),
    ("processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: fpu sse2 avx2\n", "Intel Xeon", ["avx2"]),
    ("processor\t: 0\nCPU implementer\t: 0x41\nFeatures\t: fp asimd\n", None, []),  # arm: no model name line
])
def test_machine_info_names_the_cpu_and_its_int8_features(tmp_path, cpuinfo, cpu, flags):
    from dabai.bench.stats import machine_info

    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    info = machine_info(path)
    assert info["int8_flags"] == flags and info["cpus"] >= 1
    if cpu:
        assert info["cpu"] == cpu
    assert machine_info(tmp_path / "missing")["int8_flags"] == []  # no /proc: still an answer


REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "weights" / "ultraface-rfb-640-masked-face.onnx"


@pytest.mark.skipif(not REFERENCE.is_file(), reason="../shared/weights/ultraface-rfb-640-masked-face.onnx is absent")
def test_reference_is_timed_beside_the_model_on_a_640_frame(serve_model, capsys):
    from dabai.bench.images import bench_jpeg
    from dabai.bench.reference import UltraFaceMasked

    found = UltraFaceMasked(REFERENCE, threads=1)(bench_jpeg(None, 640))
    assert all(d.label in ("with_mask", "without_mask") for d in found)
    assert main(["bench", "--model", str(serve_model), "--reference", str(REFERENCE), "--side", "640",
                 "--batch", "1", "--threads", "1", "--seconds", "0.3", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["model"].startswith("reference") for r in rows] == [False, True]
    # the ratio is printed to 2 decimals: a tiny model beside UltraFace gives e.g. 0.23 for 0.2252 (a relative
    # tolerance failed there); half a hundredth plus the rounding of the two medians
    assert rows[0]["frame_px"] == 640 and rows[0]["x_reference"] == pytest.approx(rows[0]["p50_ms"] / rows[1]["p50_ms"], abs=0.006)


def test_models_are_timed_in_turn_so_load_from_elsewhere_hits_them_alike(monkeypatch):
    """Call by call, not model after model: a burst of load on a shared machine slows every model alike."""
    from dabai.bench.inproc import ModelBenchOptions, bench_model
    from dabai.runtime.detector import Detector

    calls = []

    class Fake:
        input_size = 64

        def __init__(self, name):
            self.name = name

        def detect_batch(self, images):
            calls.append(self.name)
            return [[] for _ in images]

    monkeypatch.setattr(Detector, "load", classmethod(lambda cls, model, threads=None: Fake(model)))
    result = bench_model(ModelBenchOptions(models=("a", "b"), batches=(1,), threads=(1,), seconds=0.02, warmup=1))
    timed = calls[2:]  # after one warm-up call each
    assert len(timed) >= 4 and timed == ["a", "b"] * (len(timed) // 2)
    assert [r["model"] for r in result.rows] == ["a", "b"] and result.rows[0]["count"] == result.rows[1]["count"]
