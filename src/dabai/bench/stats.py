"""Latency statistics and the Markdown tables every benchmark prints."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

# CPU features that change INT8 speed by whole factors (VNNI: 8-bit dot products in one instruction).
_INT8_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


@dataclass(frozen=True)
class LatencyStats:
    """Percentiles of one measured configuration, in milliseconds."""

    count: int  # timed calls (requests or batches)
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float

    def as_dict(self) -> dict:
        return asdict(self)


def latency_stats(seconds: list[float]) -> LatencyStats:
    if not seconds:
        return LatencyStats(0, float("nan"), float("nan"), float("nan"), float("nan"))
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return LatencyStats(len(ms), round(float(p50), 2), round(float(p90), 2), round(float(p99), 2),
                        round(float(ms.mean()), 2))


def markdown_table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """``columns`` = [(key, header), ...]; floats are printed with 4 significant digits."""
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
        return str(value)

    lines = ["| " + " | ".join(h for _, h in columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row.get(k, "")) for k, _ in columns) + " |" for row in rows]
    return "\n".join(lines)


def machine_info(cpuinfo: str | Path = "/proc/cpuinfo") -> dict:
    """What the figures were measured on: CPU model, cores, INT8-relevant flags, load, runtime versions.

    Benchmarks on shared cloud machines are only comparable within one run; this says which machine it was.
    """
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path(cpuinfo).read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
            if flags and model:
                break
    except OSError:
        pass  # not Linux: platform's answer stands
    info = {"cpu": model, "cpus": os.cpu_count(), "int8_flags": [f for f in _INT8_FLAGS if f in flags]}
    if hasattr(os, "getloadavg"):
        info["load_avg_1m"] = round(os.getloadavg()[0], 2)
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    return info
