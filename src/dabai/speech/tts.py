"""Text to speech: Kokoro-82M with misaki[zh] G2P, espeak-ng as the fallback.

::

    from dabai.speech import synthesize, write_wav
    audio = synthesize("您好，张三，欢迎回家。", voice="zf_xiaobei", rate=44100)
    write_wav(audio, "welcome.wav")   # mono 16-bit WAV

Output is mono float32 at the asked rate (44.1 kHz by default, the seed
teams' contest format), with leading/trailing silence trimmed and the speech
normalised to a fixed loudness so every reply plays at the same level.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Literal

from dabai.audio.dsp import normalize_loudness, resample, trim_silence
from dabai.audio.io import Audio
from dabai.core.errors import ConfigError, DataError, ModelError

log = logging.getLogger(__name__)
DEFAULT_VOICE = "zf_xiaobei"
Engine = Literal["auto", "kokoro", "espeak"]


@dataclass(frozen=True)
class TTSOptions:
    """How to speak; the voice and the output rate are arguments of :func:`synthesize`."""

    speed: float = 1.0  # speaking rate factor (0.5–2)
    engine: Engine = "auto"  # auto: Kokoro when its pack is installed, else espeak-ng
    trim: bool = True  # trim leading/trailing silence
    normalize: bool = True  # loudness-normalise the speech
    target_dbfs: float = -20.0  # gated RMS level after normalising
    pause_s: float = 0.25  # silence between sentences
    threads: int = 0  # ONNX Runtime threads (0: up to 4, as many as there are cores)


_ENGINES: dict[tuple[str, int], object] = {}
_LOCK = threading.Lock()


def get_engine(name: Engine = "auto", threads: int = 0):
    """The loaded engine (kept for the life of the process)."""
    if name not in ("auto", "kokoro", "espeak"):
        raise ConfigError(f"TTS engine must be auto, kokoro or espeak, got {name!r}")
    with _LOCK:
        key = (name, threads)
        if key not in _ENGINES:
            _ENGINES[key] = _load(name, threads)
        return _ENGINES[key]


def _load(name: str, threads: int):
    from dabai.speech.espeak import EspeakEngine
    from dabai.speech.kokoro import KokoroEngine
    from dabai.speech.models import kokoro_files

    if name == "kokoro":
        return KokoroEngine(kokoro_files(), threads)
    if name == "espeak":
        return EspeakEngine()
    try:
        return KokoroEngine(kokoro_files(), threads)
    except ModelError as kokoro_error:
        try:
            engine = EspeakEngine()
        except ModelError as espeak_error:
            raise ModelError(f"no TTS engine available: {kokoro_error}; and {espeak_error}") from None
        engine.fallback_reason = str(kokoro_error)
        log.warning("%s", fallback_note(engine))
        return engine


def fallback_note(engine) -> str | None:
    """What to tell users when ``engine`` is the espeak-ng fallback, not the gate's voice (else None)."""
    reason = getattr(engine, "fallback_reason", None)
    if reason is None:
        return None
    return (f"robot voice: the Kokoro voice pack was not found ({reason}); speaking with the espeak-ng fallback, "
            "not the gate's voice")


def speech_note(name: Engine = "auto", threads: int = 0) -> str | None:
    """Why speech output is not the gate's own voice: the fallback in use, or no TTS at all (None: Kokoro).

    Cheap when Kokoro is installed (no model is loaded to tell)."""
    from dabai.speech.models import KOKORO, available_voices, pack_dir

    if name in ("auto", "kokoro") and pack_dir(KOKORO) is not None and available_voices():
        return None
    try:
        engine = get_engine(name, threads)
    except ModelError as exc:
        return f"no speech synthesis: {exc}"
    return fallback_note(engine)


def engine_version(name: Engine = "auto") -> str:
    """Identifies the voice model without loading it (used in reply-cache keys)."""
    from dabai.speech.models import KOKORO, available_voices, pack_dir

    if name in ("auto", "kokoro") and pack_dir(KOKORO) is not None and available_voices():
        return "kokoro-v1.0-int8-" + KOKORO.files[0].sha256[:12]  # type: ignore[index]
    return get_engine(name).version


#: longest text spoken in one call (a gate reply is ~20 characters; 5,000 took 8 minutes and 1.8 GB)
MAX_TEXT_CHARS = 500


def synthesize(text: str, voice: str | None = None, rate: int = 44100, options: TTSOptions | None = None,
               readings: dict[str, str] | None = None) -> Audio:
    """Speak ``text`` (Mandarin, at most ``MAX_TEXT_CHARS`` characters) and return mono float32 ``Audio`` at
    ``rate`` Hz.

    ``readings`` maps words (a resident's name) to tone-numbered pinyin (``{"曾小燕": "zeng1 xiao3 yan4"}``)
    said instead of the G2P's guess.
    """
    from dabai.speech.g2p import normalize_text

    if len(text or "") > MAX_TEXT_CHARS:
        raise DataError(f"the text has {len(text)} characters, more than the limit of {MAX_TEXT_CHARS} for one "
                        "reply; split it into shorter sentences")
    opts = options or TTSOptions()
    if not 8000 <= rate <= 192000:
        raise ConfigError(f"rate must be between 8000 and 192000 Hz, got {rate}")
    if not 0.5 <= opts.speed <= 2.0:
        raise ConfigError(f"speed must be between 0.5 and 2, got {opts.speed}")
    text = normalize_text(text or "")
    if not any(ch.isalnum() for ch in text):
        raise DataError(f"nothing to say: the text {text!r} has no words")
    engine = get_engine(opts.engine, opts.threads)
    audio = engine.synthesize(text, None if engine.name == "espeak-ng" else (voice or DEFAULT_VOICE), opts.speed,
                              opts.pause_s, readings=readings)
    if opts.trim:
        audio = trim_silence(audio, threshold_db=-45.0, pad_s=0.04)
    audio = resample(audio, rate)
    if opts.normalize:
        audio = normalize_loudness(audio, opts.target_dbfs)
    return audio


def voices(name: Engine = "auto") -> list[str]:
    """Voices of the engine that would be used."""
    return get_engine(name).voices()
