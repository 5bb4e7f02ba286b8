from __future__ import annotations

import numpy as np

from dabai.audio.dsp import (
    add_noise,
    clipped_fraction,
    estimate_snr_db,
    normalize_loudness,
    silence_ratio,
    speech_level_db,
    trim_silence,
)
from dabai.audio.io import Audio

from .helpers import utterance


def test_trim_cuts_leading_and_trailing_silence():
    audio = Audio(utterance([("gap", 0.5), ("tone", 1.0), ("gap", 0.7)]), 16000)
    out = trim_silence(audio, pad_s=0.05)
    assert 1.0 <= out.duration_s <= 1.15


def test_trim_all_silence_gives_empty():
    audio = Audio(np.zeros(16000, np.float32), 16000)
    assert len(trim_silence(audio).samples) == 0


def test_normalize_reaches_target_and_respects_peak():
    audio = Audio(0.01 * utterance([("tone", 1.0), ("gap", 0.5)]), 16000)
    out = normalize_loudness(audio, target_dbfs=-20.0, peak_dbfs=-1.0)
    assert abs(speech_level_db(out) - -20.0) < 0.5 or np.max(np.abs(out.samples)) >= 10 ** (-1 / 20) - 1e-3
    loud = normalize_loudness(audio, target_dbfs=0.0, peak_dbfs=-1.0)
    assert np.max(np.abs(loud.samples)) <= 10 ** (-1 / 20) + 1e-4


def test_add_noise_hits_the_snr():
    audio = Audio(utterance([("tone", 2.0)]), 16000)
    noisy = add_noise(audio, 10.0, seed=1)
    noise = noisy.samples - audio.samples
    snr = 20 * np.log10(np.sqrt(np.mean(audio.samples**2)) / np.sqrt(np.mean(noise**2)))
    assert abs(snr - 10.0) < 1.0
    assert np.array_equal(noisy.samples, add_noise(audio, 10.0, seed=1).samples)  # seeded


def test_silence_ratio_snr_and_clipping():
    audio = Audio(utterance([("gap", 1.0), ("tone", 1.0)]), 16000)
    assert 0.4 < silence_ratio(audio) < 0.6
    assert estimate_snr_db(audio) > 30
    assert estimate_snr_db(add_noise(audio, 5.0)) < 20
    assert clipped_fraction(np.array([1.0, -1.0, 0.2, 0.1], np.float32)) == 0.5
