"""Kokoro-82M (int8 ONNX) synthesis: phonemes → 24 kHz speech with a voice style table.

The model takes token ids of the phoneme string (padded with 0 at both ends),
a 256-d style vector — row ``len(tokens)`` of the voice table, as Kokoro's own
pipeline does — and a speed factor.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np

from dabai.audio.io import Audio
from dabai.core.errors import ConfigError, ModelError, require
from dabai.speech.models import KokoroFiles

SAMPLE_RATE = 24000
MAX_TOKENS = 510  # the style tables have 510 rows; longer phoneme strings are split


class KokoroEngine:
    """One loaded ONNX session plus vocabulary; voice tables are loaded on first use."""

    name = "kokoro"

    def __init__(self, files: KokoroFiles, threads: int = 0):
        ort = require("onnxruntime", "speech")
        self.files = files
        self.version = files.version
        try:
            self.vocab: dict[str, int] = json.loads(Path(files.vocab).read_text(encoding="utf-8"))["vocab"]
        except (ValueError, KeyError) as exc:
            raise ModelError(f"{files.vocab}: not a Kokoro vocabulary ({exc})") from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(files.model), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelError(f"{files.model}: ONNX Runtime could not load it ({exc})") from None
        self._voices: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def voices(self) -> list[str]:
        return sorted(p.stem for p in Path(self.files.voices_dir).glob("*.bin"))

    def voice_table(self, voice: str) -> np.ndarray:
        """The style table of ``voice``; ``a+b`` is the mean of two installed voices (a voice never heard)."""
        table = self._voices.get(voice)
        if table is None and "+" in voice:
            tables = [self.voice_table(v.strip()) for v in voice.split("+")]
            table = np.mean(np.stack(tables), axis=0).astype(np.float32)
            self._voices[voice] = table
        if table is None:
            path = Path(self.files.voices_dir) / f"{voice}.bin"
            if not path.is_file():
                raise ConfigError(f"unknown voice '{voice}'; installed voices: {', '.join(self.voices()) or 'none'}")
            data = np.fromfile(path, dtype=np.float32)
            if data.size % 256:
                raise ModelError(f"{path}: {data.size} floats is not a whole number of 256-d style vectors")
            table = data.reshape(-1, 256)
            self._voices[voice] = table
        return table

    def tokens(self, phonemes: str) -> list[int]:
        return [self.vocab[c] for c in phonemes if c in self.vocab]

    def synthesize_phonemes(self, phonemes: str, voice: str, speed: float = 1.0) -> np.ndarray:
        """Float32 24 kHz samples for one phoneme string (split if longer than the model allows)."""
        table = self.voice_table(voice)
        out = []
        for piece in _split(phonemes, MAX_TOKENS - 2):
            ids = self.tokens(piece)
            if not ids:
                continue
            style = table[min(len(ids), len(table)) - 1].reshape(1, 256)  # row = phoneme count − 1
            feed = {
                "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                "style": style.astype(np.float32),
                "speed": np.array([speed], dtype=np.float32),
            }
            with self._lock:  # one run at a time per session keeps CPU use predictable
                audio = self.session.run(None, feed)[0]
            out.append(np.asarray(audio, dtype=np.float32).ravel())
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def synthesize(self, text: str, voice: str, speed: float = 1.0, pause_s: float = 0.25,
                   readings: dict[str, str] | None = None) -> Audio:
        from dabai.speech.g2p import kokoro_phonemes, sentences

        gap = np.zeros(int(pause_s * SAMPLE_RATE), np.float32)
        parts: list[np.ndarray] = []
        for sent in sentences(text):
            samples = self.synthesize_phonemes(kokoro_phonemes(sent, readings), voice, speed)
            if samples.size:
                parts.extend([samples, gap])
        samples = np.concatenate(parts[:-1]) if parts else np.zeros(0, np.float32)
        return Audio(samples, SAMPLE_RATE)


def _split(phonemes: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut after punctuation or spaces where possible."""
    pieces = []
    while len(phonemes) > limit:
        cut = max(phonemes.rfind(c, 0, limit) for c in ",.!?;: ")
        cut = cut + 1 if cut > 0 else limit
        pieces.append(phonemes[:cut].strip())
        phonemes = phonemes[cut:].strip()
    if phonemes.strip():
        pieces.append(phonemes.strip())
    return pieces
