"""Reply audio: the speech package's cache when it is installed, a clear note when it is not.

A missing TTS never stops a gate; the decision still stands and is logged,
and ``reply_audio`` is None with a note saying why.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dabai.errors import DabaiError

log = logging.getLogger(__name__)


class ReplyVoice:
    """Renders reply texts to WAV files via ``dabai.speech.ReplyCache`` (cached by text, voice, model)."""

    def __init__(self, home_root: Path, voice: str | None = None, enabled: bool = True):
        self.home_root = Path(home_root)
        self.voice = voice
        self.enabled = enabled
        self.note: str | None = None if enabled else "reply audio disabled"
        self._cache = None

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

    def render(self, text: str) -> Path | None:
        """The WAV for ``text``, or None (with ``self.note`` set) when TTS is unavailable."""
        cache = self._get_cache()
        if cache is None:
            return None
        try:
            return Path(cache.render(text))
        except DabaiError as exc:
            self.note = f"reply audio unavailable: {exc}"
            self._cache = None  # do not retry on every visitor
            log.warning(self.note)
            return None

    def prerender(self, texts) -> None:
        cache = self._get_cache()
        if cache is not None:
            try:
                cache.prerender(list(texts))
            except DabaiError as exc:
                self.note = f"reply audio unavailable: {exc}"
                log.warning(self.note)
