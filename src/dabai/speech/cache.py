"""Replies that start at once: rendered WAVs cached by text, voice and model version.

The gate's reply templates are rendered once (``prerender``) and a resident's
greeting is rendered when they are enrolled (``enroll``), so at the gate a
reply is a file that already exists::

    cache = ReplyCache(home)                 # home = DABAI_HOME; files in home/cache/replies/
    cache.prerender()                         # every fixed template
    cache.enroll("张三")                       # "您好，张三，欢迎回家，二维码有效请您通过。"
    path = cache.render(greeting("张三"))      # a cache hit: no synthesis

The key hashes the text, the voice, the output rate, the speaking options and
the TTS model version, so a new voice or model never plays a stale file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from dabai.audio.io import Audio, read_audio, write_wav
from dabai.errors import DataError

#: the gate's replies; ``{name}`` is filled in per resident
REPLIES = {
    "welcome": "您好，{name}，欢迎回家，二维码有效请您通过。",
    "welcome_anonymous": "您好，欢迎回家，二维码有效请您通过。",
    "mask_missing": "请您佩戴口罩后再通行。",
    "mask_incorrect": "请正确佩戴口罩，遮住口鼻。",
    "pass_invalid": "二维码无效，请重新出示。",
    "pass_expired": "二维码已过期，请更新后再试。",
    "not_resident": "您不是本小区住户，请联系物业登记。",
    "show_pass": "请出示您的通行二维码。",
    "visitor": "访客请联系业主，或到物业登记。",
    "help": "正在为您联系物业，请稍候。",
    "leave": "再见，祝您一路平安。",
    "repeat": "抱歉，我没有听清，请再说一遍。",
}


def greeting(name: str) -> str:
    """The welcome reply for a resident."""
    name = name.strip()
    if not name:
        raise DataError("a resident's name is empty; cannot render a greeting")
    return REPLIES["welcome"].format(name=name)


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

    def key(self, text: str) -> str:
        text = _clean(text)
        parts = [self.model_version, self.voice, str(self.rate), repr(self.options), text]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]

    def path(self, text: str) -> Path:
        """Where ``text``'s WAV is (or would be) cached."""
        return self.dir / f"{self.key(text)}.wav"

    def has(self, text: str) -> bool:
        return self.path(text).is_file()

    def render(self, text: str) -> Path:
        """The cached WAV of ``text``, synthesising it first on a miss."""
        path = self.path(text)
        if path.is_file():
            return path
        from dabai.speech.tts import synthesize

        audio = synthesize(_clean(text), voice=self.voice, rate=self.rate, options=self.options)
        with self._lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.wav")
            write_wav(audio, tmp)
            os.replace(tmp, path)  # atomic: a player never sees half a file
            self._index_add(path.stem, _clean(text))
        return path

    def load(self, text: str) -> Audio:
        """Samples of the cached reply (rendered on a miss)."""
        return read_audio(self.render(text))

    def prerender(self, texts: list[str] | None = None) -> list[Path]:
        """Render ``texts`` (default: every fixed template in REPLIES) ahead of time."""
        if texts is None:
            texts = [t for t in REPLIES.values() if "{" not in t]
        return [self.render(t) for t in texts]

    def enroll(self, name: str) -> Path:
        """Render a resident's greeting when they are enrolled."""
        return self.render(greeting(name))

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
