"""Synthetic audio for the audio tests: tones, silences, noise (no model needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def tone(seconds: float, rate: int = 16000, freq: float = 220.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    # a "voiced" signal: a few harmonics with a slow amplitude wobble, like a vowel
    x = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3))
    x *= 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2
    return (level * x / np.max(np.abs(x))).astype(np.float32)


def silence(seconds: float, rate: int = 16000, noise: float = 1e-4, seed: int = 0) -> np.ndarray:
    return (noise * np.random.default_rng(seed).standard_normal(int(seconds * rate))).astype(np.float32)


def utterance(parts: list[tuple[str, float]], rate: int = 16000) -> np.ndarray:
    """Concatenate ('tone'|'gap', seconds) pieces."""
    out = [tone(s, rate, 180 + 40 * i) if kind == "tone" else silence(s, rate, seed=i) for i, (kind, s) in enumerate(parts)]
    return np.concatenate(out)


def write(path: Path, samples: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, rate, subtype=subtype)
    return path
