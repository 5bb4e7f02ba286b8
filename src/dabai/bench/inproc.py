"""In-process detector latency: ``dabai bench --model M``.

Each configuration (batch size x intra-op threads) is warmed up, then called
in a loop for a fixed time. A call is the whole predictor path on JPEG bytes:
decode, letterbox, inference, post-processing (NMS, un-letterbox).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dabai.bench.images import bench_jpeg
from dabai.bench.stats import latency_stats, machine_info, markdown_table
from dabai.core.errors import ConfigError

log = logging.getLogger("dabai.bench")


@dataclass(frozen=True)
class ModelBenchOptions:
    models: tuple[str | None, ...]  # model files (.onnx, .pt, .engine), timed one after the other; None = the default
    batches: tuple[int, ...] = (1, 8)  # images per call
    threads: tuple[int, ...] = (1, 2)  # ONNX Runtime / torch intra-op threads
    seconds: float = 5.0  # timed duration per configuration, after warm-up
    warmup: int = 3  # untimed calls per configuration
    image: str | None = None  # photo to use (resized to `side` px); default: a drawn scene
    side: int = 400  # long side of the benchmark frame in pixels (640: a 640x480 gate camera frame)
    # A reference detector timed in the same run at every thread count, batch 1 (bench/reference.py):
    # the off-the-shelf UltraFace RFB-640 masked-face ONNX, to quote the checker as a ratio of it.
    reference: str | None = None


@dataclass
class ModelBenchResult:
    models: list[str]
    rows: list[dict] = field(default_factory=list)
    machine: dict = field(default_factory=dict)  # machine_info() at the start

    def to_json(self) -> dict:
        return {"models": self.models, "rows": self.rows, "machine": self.machine}

    def to_markdown(self) -> str:
        cols = [("model", "model"), ("input_size", "input"), ("batch", "batch"), ("threads", "threads"),
                ("p50_ms", "p50 ms"), ("p90_ms", "p90 ms"), ("p99_ms", "p99 ms"), ("per_image_ms", "ms/image (p50)"),
                ("images_per_s", "images/s"), ("x_reference", "p50 / reference"), ("count", "calls")]
        return ("in-process, JPEG bytes in, detections out (decode, letterbox, model(s), NMS included)\n\n"
                + markdown_table(self.rows, cols) + f"\n\nmachine: {self.machine}")


def bench_model(options: ModelBenchOptions) -> ModelBenchResult:
    from dabai.runtime.detector import Detector

    _check(options)
    jpeg = bench_jpeg(options.image, options.side)
    names = [str(m or "default") for m in options.models]
    result = ModelBenchResult(names, machine=machine_info())
    for threads in options.threads:  # models side by side at each thread count: ratios within one run
        for name, model in zip(names, options.models):
            detector = Detector.load(model, threads=threads)
            result.rows.extend(_bench_detector(detector, name, threads, jpeg, options))
        if options.reference:
            from dabai.bench.reference import UltraFaceMasked

            ref = UltraFaceMasked(options.reference, threads=threads)
            rows = _bench_detector(ref, f"reference {Path(options.reference).name}", threads, jpeg,
                                   ModelBenchOptions(models=(), batches=(1,), seconds=options.seconds,
                                                     warmup=options.warmup))
            for row in result.rows[-len(options.batches) * len(names):]:
                if row["batch"] == 1:
                    row["x_reference"] = round(row["p50_ms"] / rows[0]["p50_ms"], 2)
            result.rows.extend(rows)
    for row in result.rows:
        row["frame_px"] = options.side
    return result


def _bench_detector(detector, name: str, threads: int, jpeg: bytes, options: ModelBenchOptions) -> list[dict]:
    rows = []
    for batch in options.batches:
        images = [jpeg] * batch
        for _ in range(options.warmup):
            detector.detect_batch(images)
        times = _timed_loop(lambda images=images: detector.detect_batch(images), options.seconds)
        stats = latency_stats(times)
        rows.append({"model": name, "input_size": detector.input_size, "batch": batch, "threads": threads,
                     **stats.as_dict(), "per_image_ms": round(stats.p50_ms / batch, 2),
                     "images_per_s": round(batch * len(times) / sum(times), 1)})
        log.info("%s batch %d threads %d: p50 %.1f ms", name, batch, threads, stats.p50_ms)
    return rows


def model_latency(path: str | Path, threads: int = 1, runs: int = 20, batch: int = 1) -> dict:
    """Raw ONNX Runtime latency of a model file on a random input (no pre/post-processing)."""
    from dabai.runtime.backends import OnnxBackend

    backend = OnnxBackend(path, threads)
    size = backend.info.input_size
    x = np.random.default_rng(0).uniform(0, 255, (batch, 3, size, size)).astype(np.float32)
    for _ in range(3):
        backend(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        backend(x)
        times.append(time.perf_counter() - start)
    return {"threads": threads, "batch": batch, **latency_stats(times).as_dict()}


def _timed_loop(call, seconds: float) -> list[float]:
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        call()
        end = time.perf_counter()
        times.append(end - start)
        if end >= deadline:
            return times


def _check(options: ModelBenchOptions) -> None:
    if not options.batches or min(options.batches) < 1:
        raise ConfigError(f"--batch needs sizes >= 1, got {list(options.batches)}")
    if not options.threads or min(options.threads) < 1:
        raise ConfigError(f"--threads needs counts >= 1, got {list(options.threads)}")
    if options.seconds <= 0:
        raise ConfigError(f"--seconds must be > 0, got {options.seconds}")
