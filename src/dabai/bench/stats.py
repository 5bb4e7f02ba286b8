"""Latency statistics and the Markdown tables every benchmark prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


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
