"""Helpers shared by the trainers that read several sources (train/classifier.py, train/finder.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def source_name(src) -> str:
    """How tables, logs and provenance name a source spec: its ``name``, else its folder's name."""
    return src.name or Path(src.path).resolve().name


def sampling_probs(source: np.ndarray, weights) -> np.ndarray:
    """Probability of drawing each item when each source gets its weight's share of every epoch, spread evenly
    over its items (``source``: each item's source index; ``weights``: one per source, empty sources ignored)."""
    weights = np.asarray(weights, dtype=np.float64)
    counts = np.bincount(source, minlength=len(weights)).astype(np.float64)
    share = weights / weights[counts > 0].sum()
    per_item = share[source] / counts[source]
    return per_item / per_item.sum()


def check_sources(task: str, expected: str, sources, val) -> None:
    """The checks every multi-source trainer spec makes first: its ``task``, at least one source, and each
    source's (and val source's) weight above 0; a ConfigError names the key."""
    from dabai.core.errors import ConfigError

    if task != expected:
        raise ConfigError(f"task: expected {expected!r}, got {task!r}")
    if not sources:
        raise ConfigError("sources: expected at least one source")
    for i, src in enumerate([*sources, *val]):
        if src.weight <= 0:
            raise ConfigError(f"sources[{i}].weight: expected > 0, got {src.weight}")
