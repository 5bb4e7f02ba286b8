"""Reply audio: the gate's replies table rendered through the speech package's cache.

The texts come from one place, the replies table of :mod:`dabai.gate.config`
(after a community's overrides). :func:`prerender_replies` renders every fixed
text and each resident's greeting (said with their reading), which is what
``dabai speech prerender`` and ``dabai residents add|import`` do, so at the gate
a reply is a file that already exists; :meth:`ReplyVoice.render_decision` says
whether it was (``reply_cached``).

A missing TTS never stops a gate; the decision still stands and is logged,
and the reply audio is None with a note saying why. The espeak-ng fallback is
never silent either: :attr:`ReplyVoice.speech_note` says it is in use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dabai.core.errors import DabaiError
from dabai.gate.config import GateConfig

log = logging.getLogger(__name__)


def reply_texts(config: GateConfig) -> list[str]:
    """Every fixed text of the replies table (overrides applied), each once; ``{name}`` templates left out."""
    out: list[str] = []
    for text in config.reply_table().values():
        if "{" not in text and text not in out:
            out.append(text)
    return out


def greeting_text(config: GateConfig, name: str) -> str:
    """What the gate says to a resident it lets in."""
    return config.reply("welcome", name=name)


class ReplyVoice:
    """Renders reply texts to WAV files via ``dabai.speech.ReplyCache`` (cached by text, voice, model)."""

    def __init__(self, home_root: Path, voice: str | None = None, enabled: bool = True):
        self.home_root = Path(home_root)
        self.voice = voice
        self.enabled = enabled
        self.note: str | None = None if enabled else "reply audio disabled"
        self.last_cached: bool | None = None  # whether the last reply came whole from the cache
        self._cache = None

    @property
    def speech_note(self) -> str | None:
        """Why replies are not heard in the gate's own voice (no audio, or the espeak-ng fallback), else None."""
        if self.note is not None:
            return self.note
        try:
            from dabai.speech.tts import speech_note
        except ImportError as exc:
            return f"speech synthesis is not available ({exc}); no reply audio"
        return speech_note()

    def _get_cache(self):
        if self._cache is None and self.note is None:
            try:
                from dabai.speech import ReplyCache
            except ImportError as exc:
                self.note = f"speech synthesis is not available ({exc}); no reply audio"
                log.warning(self.note)
                return None
            self._cache = ReplyCache(self.home_root, voice=self.voice)
        return self._cache

    def render(self, text: str, parts: Iterable[str] = (), readings: Mapping[str, str] | None = None) -> Path | None:
        """The WAV for ``text`` (made of ``parts`` when given), or None (with ``self.note`` set) when TTS is
        unavailable. Sets ``last_cached``."""
        self.last_cached = None
        cache = self._get_cache()
        if cache is None:
            return None
        try:
            path, cached = cache.render_parts(list(parts) or [text], readings)
        except DabaiError as exc:
            self.note = f"reply audio unavailable: {exc}"
            self._cache = None  # do not retry on every visitor
            log.warning(self.note)
            return None
        self.last_cached = cached
        return Path(path)

    def render_decision(self, decision) -> Path | None:
        """The reply WAV of a :class:`~dabai.gate.decision.Decision` (its resident's name said with its reading).
        Without reply audio the reading is not worked out: it needs the speech extra (pypinyin), which a gate
        running with ``--no-reply-audio`` need not have."""
        if self._get_cache() is None:
            self.last_cached = None
            return None
        readings = decision.resident.readings if decision.resident is not None else None
        return self.render(decision.reply_text, decision.reply_parts, readings)

    def prerender(self, texts: Iterable[str], readings: Mapping[str, str] | None = None) -> list[Path]:
        """Render ``texts`` into the cache; [] (with ``self.note``) when TTS is unavailable."""
        cache = self._get_cache()
        if cache is None:
            return []
        try:
            return cache.prerender(list(texts), readings)
        except DabaiError as exc:
            self.note = f"reply audio unavailable: {exc}"
            log.warning(self.note)
            return []


@dataclass
class PrerenderReport:
    replies: list[str] = field(default_factory=list)  # fixed texts rendered
    greetings: list[str] = field(default_factory=list)  # residents' greetings rendered
    cache_dir: str = ""
    speech_note: str | None = None

    def to_json(self) -> dict:
        return {"replies": self.replies, "greetings": self.greetings, "cache_dir": self.cache_dir,
                "speech_note": self.speech_note}


def prerender_replies(voice: ReplyVoice, config: GateConfig, residents: Iterable = ()) -> PrerenderReport:
    """Render the gate's replies table and the greeting of each resident (ResidentInfo) into the cache."""
    report = PrerenderReport(cache_dir=str(voice.home_root / "cache" / "replies"))
    texts = reply_texts(config)
    if voice.prerender(texts):
        report.replies = texts
    for r in residents:
        text = greeting_text(config, r.name)
        if voice.render(text, readings=r.readings) is not None:
            report.greetings.append(text)
    report.speech_note = voice.speech_note
    return report
