"""Signal helpers on :class:`~dabai.audio.io.Audio`: resampling, trimming, loudness, noise.

All are NumPy (plus soxr for resampling), work on mono float32 and return new
``Audio`` objects; none of them touch files.
"""

from __future__ import annotations

import numpy as np

from dabai.audio.io import Audio
from dabai.core.errors import require

FRAME_S = 0.02  # analysis frame for energies: 20 ms
SILENCE_DB = -40.0  # a frame this far below the loudest frame counts as silence


def resample(audio: Audio, rate: int) -> Audio:
    """Band-limited resampling with soxr (high quality)."""
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")
    if audio.rate == rate or len(audio.samples) == 0:
        return Audio(audio.samples, rate) if audio.rate == rate else Audio(np.zeros(0, np.float32), rate)
    soxr = require("soxr", "speech")
    out = soxr.resample(audio.samples, audio.rate, rate, quality="HQ")
    return Audio(np.ascontiguousarray(out, dtype=np.float32), rate)


def frame_db(audio: Audio, frame_s: float = FRAME_S) -> np.ndarray:
    """RMS level of consecutive frames in dBFS (−120 for digital silence)."""
    n = max(1, int(round(frame_s * audio.rate)))
    count = len(audio.samples) // n
    if count == 0:
        return np.full(1, _db(np.sqrt(np.mean(np.square(audio.samples))) if len(audio.samples) else 0.0))
    frames = audio.samples[: count * n].reshape(count, n).astype(np.float64)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-6))


def voiced_mask(audio: Audio, threshold_db: float = SILENCE_DB, frame_s: float = FRAME_S) -> np.ndarray:
    """Frames louder than ``threshold_db`` below the loudest frame (and above −60 dBFS)."""
    levels = frame_db(audio, frame_s)
    floor = max(float(levels.max()) + threshold_db, -60.0)
    return levels > floor


def trim_silence(
    audio: Audio, threshold_db: float = SILENCE_DB, pad_s: float = 0.05, frame_s: float = FRAME_S
) -> Audio:
    """Cut leading and trailing silence, keeping ``pad_s`` seconds of margin."""
    if len(audio.samples) == 0:
        return audio
    mask = voiced_mask(audio, threshold_db, frame_s)
    if not mask.any():
        return Audio(audio.samples[:0], audio.rate)
    n = max(1, int(round(frame_s * audio.rate)))
    idx = np.flatnonzero(mask)
    pad = int(round(pad_s * audio.rate))
    start = max(0, idx[0] * n - pad)
    end = min(len(audio.samples), (idx[-1] + 1) * n + pad)
    return Audio(audio.samples[start:end], audio.rate)


def speech_level_db(audio: Audio) -> float:
    """Gated loudness: RMS over the voiced frames, in dBFS (−120 when all silent)."""
    if len(audio.samples) == 0:
        return -120.0
    mask = voiced_mask(audio)
    n = max(1, int(round(FRAME_S * audio.rate)))
    count = len(audio.samples) // n
    if count == 0 or not mask.any():
        return _db(float(np.sqrt(np.mean(np.square(audio.samples)))))
    frames = audio.samples[: count * n].reshape(count, n)[mask[:count]].astype(np.float64)
    return _db(float(np.sqrt(np.mean(frames * frames))))


def normalize_loudness(audio: Audio, target_dbfs: float = -20.0, peak_dbfs: float = -1.0) -> Audio:
    """Scale so the voiced frames sit at ``target_dbfs`` RMS, never letting the peak exceed ``peak_dbfs``."""
    if len(audio.samples) == 0:
        return audio
    level = speech_level_db(audio)
    if level <= -100.0:
        return audio  # digital silence: nothing to scale
    gain = 10.0 ** ((target_dbfs - level) / 20.0)
    peak = float(np.max(np.abs(audio.samples))) * gain
    limit = 10.0 ** (peak_dbfs / 20.0)
    if peak > limit:
        gain *= limit / peak
    return Audio((audio.samples * gain).astype(np.float32), audio.rate)


def clipped_fraction(samples: np.ndarray, level: float = 0.999) -> float:
    """Share of samples at or beyond full scale (a sign of clipping)."""
    if samples.size == 0:
        return 0.0
    return float(np.mean(np.abs(samples) >= level))


def silence_ratio(audio: Audio) -> float:
    """Share of 20 ms frames that are silent (see :func:`voiced_mask`)."""
    mask = voiced_mask(audio)
    return float(1.0 - mask.mean()) if mask.size else 1.0


def estimate_snr_db(audio: Audio) -> float:
    """Rough SNR: loud-frame level (90th percentile) minus noise floor (10th percentile), in dB."""
    levels = frame_db(audio)
    if levels.size < 5:
        return float("nan")
    return float(np.percentile(levels, 90) - np.percentile(levels, 10))


def add_noise(audio: Audio, snr_db: float, seed: int = 0, color: str = "pink") -> Audio:
    """Mix in seeded white or pink noise so that speech level / noise level = ``snr_db``."""
    rng = np.random.default_rng(seed)
    n = len(audio.samples)
    white = rng.standard_normal(n)
    if color == "pink":
        spectrum = np.fft.rfft(white)
        freqs = np.arange(spectrum.size, dtype=np.float64)
        freqs[0] = 1.0
        noise = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    elif color == "white":
        noise = white
    else:
        raise ValueError(f"noise color must be 'pink' or 'white', got {color!r}")
    return mix_at_snr(audio, noise, snr_db)


def mix_at_snr(audio: Audio, noise: np.ndarray, snr_db: float) -> Audio:
    """``audio`` plus ``noise`` (same length; any level) scaled so that speech level / noise RMS = ``snr_db``;
    the sum is scaled down if it would clip."""
    n = len(audio.samples)
    if len(noise) != n:
        raise ValueError(f"noise has {len(noise)} samples, the audio {n}")
    noise = np.asarray(noise, np.float64)
    noise = noise / (np.sqrt(np.mean(noise * noise)) + 1e-12)
    speech_rms = 10.0 ** (speech_level_db(audio) / 20.0)
    noise *= speech_rms / (10.0 ** (snr_db / 20.0))
    mixed = audio.samples.astype(np.float64) + noise
    peak = np.max(np.abs(mixed)) if n else 0.0
    if peak > 1.0:
        mixed /= peak
    return Audio(mixed.astype(np.float32), audio.rate)


def _db(rms: float) -> float:
    return float(20.0 * np.log10(max(rms, 1e-6)))
