"""Replies that start at once: rendered WAVs cached by text, voice and model version.

The texts are the gate's (its one replies table, ``dabai.gate.config``); this cache
only renders and finds them. ``dabai speech prerender`` and ``dabai residents
add|import`` fill it, so at the gate a reply is a file that already exists::

    cache = ReplyCache(home)                          # home = DABAI_HOME; files in home/cache/replies/
    cache.prerender(["请佩戴口罩", "请出示通行码"])
    cache.render("您好，曾小燕，欢迎回家。", readings={"曾小燕": "zeng1 xiao3 yan4"})
    path, cached = cache.render_parts(["请佩戴口罩", "请出示通行码"])   # joins two cached clips

The key hashes the text, the readings of its names, the voice, the output rate,
the speaking options and the TTS model version, so a new voice, reading or
model never plays a stale file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dabai.audio.io import Audio, read_audio, write_wav
from dabai.core.errors import DataError

JOIN_PAUSE_S = 0.15  # silence between the clips of a reply made of several parts


class ReplyCache:
    """WAV files of rendered replies under ``home/cache/replies``."""

    def __init__(self, home: Path, voice: str | None = None, rate: int = 44100, options=None):
        from dabai.speech.tts import DEFAULT_VOICE, TTSOptions

        self.home = Path(home).expanduser()
        self.dir = self.home / "cache" / "replies"
        self.voice = voice or DEFAULT_VOICE
        self.rate = rate
        self.options = options or TTSOptions()
        self._version: str | None = None
        self._lock = threading.Lock()

    @property
    def model_version(self) -> str:
        """The TTS model identity (no model is loaded to find it)."""
        if self._version is None:
            from dabai.speech.tts import engine_version

            self._version = engine_version(self.options.engine)
        return self._version

    def key(self, text: str, readings: Mapping[str, str] | None = None) -> str:
        text = _clean(text)
        said = sorted((w, r) for w, r in (readings or {}).items() if r and w in text)
        parts = [self.model_version, self.voice, str(self.rate), repr(self.options), text]
        if said:  # a text without readings keeps the key it always had
            parts.append(repr(said))
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]

    def path(self, text: str, readings: Mapping[str, str] | None = None) -> Path:
        """Where ``text``'s WAV is (or would be) cached."""
        return self.dir / f"{self.key(text, readings)}.wav"

    def has(self, text: str, readings: Mapping[str, str] | None = None) -> bool:
        return self.path(text, readings).is_file()

    def render(self, text: str, readings: Mapping[str, str] | None = None) -> Path:
        """The cached WAV of ``text``, synthesising it first on a miss (names said as ``readings`` give)."""
        path = self.path(text, readings)
        if path.is_file():
            return path
        from dabai.speech.tts import synthesize

        audio = synthesize(_clean(text), voice=self.voice, rate=self.rate, options=self.options,
                           readings=dict(readings) if readings else None)
        self._store(path, audio, text)
        return path

    def render_parts(self, parts: list[str], readings: Mapping[str, str] | None = None,
                     joiner: str = "，") -> tuple[Path, bool]:
        """One WAV for a reply made of ``parts`` (each its own cached clip, joined by a short pause).

        Returns (path, cached): cached is True when every part was in the cache already, i.e. nothing
        had to be synthesised for this reply.
        """
        if not parts:
            raise DataError("a reply needs at least one part")
        cached = all(self.has(p, readings) for p in parts)
        if len(parts) == 1:
            return self.render(parts[0], readings), cached
        whole = joiner.join(_clean(p) for p in parts)
        path = self.path(whole, readings)
        if path.is_file():
            return path, cached
        clips = [read_audio(self.render(p, readings)) for p in parts]
        gap = np.zeros(int(JOIN_PAUSE_S * self.rate), np.float32)
        samples = np.concatenate([x for c in clips for x in (c.samples, gap)][:-1])
        self._store(path, Audio(samples.astype(np.float32), self.rate), whole)
        return path, cached

    def load(self, text: str) -> Audio:
        """Samples of the cached reply (rendered on a miss)."""
        return read_audio(self.render(text))

    def prerender(self, texts: list[str], readings: Mapping[str, str] | None = None) -> list[Path]:
        """Render ``texts`` ahead of time (the gate's table: ``dabai.gate.replies.prerender_replies``)."""
        return [self.render(t, readings) for t in texts]

    def _store(self, path: Path, audio: Audio, text: str) -> None:
        with self._lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.wav")
            write_wav(audio, tmp)
            os.replace(tmp, path)  # atomic: a player never sees half a file
            self._index_add(path.stem, _clean(text))

    def entries(self) -> dict[str, str]:
        """key → text of everything rendered (from index.json)."""
        index = self.dir / "index.json"
        if not index.is_file():
            return {}
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise DataError(f"not valid JSON ({exc}); delete it to rebuild", index) from None
        return data if isinstance(data, dict) else {}

    def _index_add(self, key: str, text: str) -> None:
        data = self.entries()
        data[key] = text
        tmp = self.dir / f".index.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.dir / "index.json")


def _clean(text: str) -> str:
    text = " ".join(str(text).split())
    if not text:
        raise DataError("reply text is empty")
    return text
