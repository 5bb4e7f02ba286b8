"""In-process detector latency: ``dabai bench --model M``.

Each configuration (batch size x intra-op threads) is warmed up, then the models (and the reference, at
batch 1) are called **in turn**, one call each per round, for ``seconds`` x their number: a burst of load
from elsewhere on a shared machine then slows every model alike, so the ratios between them hold even when
the absolute times do not. A call is the whole predictor path on JPEG bytes: decode, letterbox, inference,
post-processing (NMS, un-letterbox).
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
    models: tuple[str | None, ...]  # model files (.onnx, .pt, .engine), timed in turn; None = the default
    batches: tuple[int, ...] = (1, 8)  # images per call
    threads: tuple[int, ...] = (1, 2)  # ONNX Runtime / torch intra-op threads
    seconds: float = 5.0  # timed duration per model and configuration, after warm-up
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
    for threads in options.threads:
        group = [(name, Detector.load(model, threads=threads)) for name, model in zip(names, options.models)]
        reference = None
        if options.reference:
            from dabai.bench.reference import UltraFaceMasked

            reference = (f"reference {Path(options.reference).name}", UltraFaceMasked(options.reference, threads=threads))
        for batch in options.batches:
            timed = group + ([reference] if reference is not None and batch == 1 else [])
            times = _interleaved(timed, [jpeg] * batch, options)
            rows = [_row(name, detector, threads, batch, times[name]) for name, detector in timed]
            if reference is not None and batch == 1:
                for row in rows[:-1]:
                    row["x_reference"] = round(row["p50_ms"] / rows[-1]["p50_ms"], 2)
            result.rows.extend(rows)
    for row in result.rows:
        row["frame_px"] = options.side
    return result


def _interleaved(timed: list[tuple[str, object]], images: list[bytes], options: ModelBenchOptions) -> dict[str, list[float]]:
    """Seconds per call of each detector, called in turn (one call each per round) for ``options.seconds`` x
    their number, after ``options.warmup`` untimed calls each."""
    for _, detector in timed:
        for _ in range(options.warmup):
            detector.detect_batch(images)
    times: dict[str, list[float]] = {name: [] for name, _ in timed}
    deadline = time.perf_counter() + options.seconds * len(timed)
    while True:
        for name, detector in timed:
            start = time.perf_counter()
            detector.detect_batch(images)
            times[name].append(time.perf_counter() - start)
        if time.perf_counter() >= deadline:
            return times


def _row(name: str, detector, threads: int, batch: int, times: list[float]) -> dict:
    stats = latency_stats(times)
    log.info("%s batch %d threads %d: p50 %.1f ms", name, batch, threads, stats.p50_ms)
    return {"model": name, "input_size": detector.input_size, "batch": batch, "threads": threads,
            **stats.as_dict(), "per_image_ms": round(stats.p50_ms / batch, 2),
            "images_per_s": round(batch * len(times) / sum(times), 1)}


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


def _check(options: ModelBenchOptions) -> None:
    if not options.batches or min(options.batches) < 1:
        raise ConfigError(f"--batch needs sizes >= 1, got {list(options.batches)}")
    if not options.threads or min(options.threads) < 1:
        raise ConfigError(f"--threads needs counts >= 1, got {list(options.threads)}")
    if options.seconds <= 0:
        raise ConfigError(f"--seconds must be > 0, got {options.seconds}")
