"""``dabai audio split-phrases``: cut recordings of a template sentence into phrase clips.

The seed teams multiplied a small TTS set by cutting each recording of
"您好，张三，欢迎回家，二维码有效请您通过。" at its commas into phrases. Here the
template's punctuation gives K phrases; the recording's K−1 cut points are the
pauses that best fit where the phrases should end (by character count), chosen
by dynamic programming over the detected pauses. Without enough pauses, the
quietest 10 ms frame near each expected position is used instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dabai.audio.dsp import frame_db, trim_silence
from dabai.audio.io import Audio, read_audio, write_wav
from dabai.audio.manifest import ManifestEntry
from dabai.core.errors import DataError

_SPLIT = re.compile(r"[，,。.！!？?、；;：:\s]+")
FRAME_S = 0.01


@dataclass(frozen=True)
class SplitOptions:
    min_pause_s: float = 0.08  # shortest quiet stretch that counts as a pause
    pause_db: float = -30.0  # a frame this far below the loudest one is quiet
    position_weight: float = 4.0  # how strongly cut points must follow the character-count estimate
    trim: bool = True  # trim silence off each phrase clip


def template_phrases(template: str) -> list[str]:
    """The template's phrases, split at punctuation."""
    phrases = [p for p in _SPLIT.split(template.strip()) if p]
    if not phrases:
        raise DataError(f"template {template!r} has no words")
    return phrases


def find_pauses(audio: Audio, options: SplitOptions = SplitOptions()) -> list[tuple[float, float]]:
    """Quiet stretches strictly inside the speech, as (centre s, length s)."""
    levels = frame_db(audio, FRAME_S)
    quiet = levels < float(levels.max()) + options.pause_db
    voiced = np.flatnonzero(~quiet)
    if voiced.size == 0:
        return []
    pauses = []
    start = None
    for i in range(voiced[0], voiced[-1] + 1):
        if quiet[i] and start is None:
            start = i
        elif not quiet[i] and start is not None:
            length = (i - start) * FRAME_S
            if length >= options.min_pause_s:
                pauses.append(((start + i) / 2 * FRAME_S, length))
            start = None
    return pauses


def cut_points(audio: Audio, phrases: list[str], options: SplitOptions = SplitOptions()) -> tuple[list[float], bool]:
    """K−1 cut times (s) for K phrases, and whether they all fell in real pauses."""
    k = len(phrases)
    if k == 1:
        return [], True
    lengths = np.array([len(p) for p in phrases], dtype=np.float64)
    expected = np.cumsum(lengths)[:-1] / lengths.sum() * audio.duration_s
    pauses = find_pauses(audio, options)
    if len(pauses) >= k - 1:
        return _best_pauses(pauses, expected, audio.duration_s, options.position_weight), True
    return [_quietest_near(audio, t, 0.15 * audio.duration_s) for t in expected], False


def split_recording(
    path: str | Path, phrases: list[str], out_dir: str | Path, options: SplitOptions = SplitOptions()
) -> tuple[list[ManifestEntry], bool]:
    """Write ``<stem>_NN.wav`` per phrase into ``out_dir``; returns manifest entries and the pause flag."""
    path, out_dir = Path(path), Path(out_dir)
    audio = trim_silence(read_audio(path))
    if audio.duration_s < 0.1 * len(phrases):
        raise DataError(f"is too short ({audio.duration_s:.2f} s of sound) for {len(phrases)} phrases", path)
    cuts, in_pauses = cut_points(audio, phrases, options)
    bounds = [0, *[int(round(c * audio.rate)) for c in cuts], len(audio.samples)]
    entries = []
    for j, text in enumerate(phrases):
        clip = Audio(audio.samples[bounds[j] : bounds[j + 1]], audio.rate)
        if options.trim:
            clip = trim_silence(clip)
        out = write_wav(clip, out_dir / f"{path.stem}_{j + 1:02d}.wav")
        entries.append(ManifestEntry(str(out.resolve()), round(clip.duration_s, 3), text))
    return entries, in_pauses


def _best_pauses(pauses: list[tuple[float, float]], expected: np.ndarray, duration: float, weight: float) -> list[float]:
    """Choose len(expected) pauses in order, maximising length and closeness to the expected positions."""
    centres = np.array([c for c, _ in pauses])
    lengths = np.array([length for _, length in pauses])
    gain = lengths / lengths.max()
    k, g = len(expected), len(pauses)
    # score[j, i]: best total when cut j uses pause i
    score = np.full((k, g), -np.inf)
    back = np.zeros((k, g), dtype=int)
    for i in range(g):
        score[0, i] = gain[i] - weight * abs(centres[i] - expected[0]) / duration
    for j in range(1, k):
        for i in range(j, g):
            prev = score[j - 1, :i]
            best = int(np.argmax(prev))
            if np.isfinite(prev[best]):
                score[j, i] = prev[best] + gain[i] - weight * abs(centres[i] - expected[j]) / duration
                back[j, i] = best
    i = int(np.argmax(score[k - 1]))
    chosen = [i]
    for j in range(k - 1, 0, -1):
        i = back[j, i]
        chosen.append(i)
    return [float(centres[i]) for i in reversed(chosen)]


def _quietest_near(audio: Audio, t: float, window: float) -> float:
    levels = frame_db(audio, FRAME_S)
    lo = max(0, int((t - window) / FRAME_S))
    hi = min(len(levels), int((t + window) / FRAME_S) + 1)
    if hi <= lo:
        return t
    return (lo + int(np.argmin(levels[lo:hi])) + 0.5) * FRAME_S
