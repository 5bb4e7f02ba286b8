"""Where the live loop hears requests from: a fixed intent, a recording, or the microphone.

Each source answers ``start()`` when a visitor arrives and ``poll()`` -> intent or None
(not heard yet). An unreadable recording or a failing microphone is logged and
counts as "nothing heard"; it never stops the loop.
"""

from __future__ import annotations

import logging
import threading

from dabai.core.errors import DabaiError, DependencyError

log = logging.getLogger(__name__)


class FixedIntent:
    def __init__(self, intent: str | None):
        self.intent = intent

    def start(self) -> None:
        pass

    def poll(self) -> str | None:
        return self.intent


class RecordingIntent:
    """Transcribes one recording (once; the result is reused for every visitor)."""

    def __init__(self, path: str, transcribe):
        self.path = path
        self._transcribe = transcribe
        self._result: str | None = None
        self._done = False

    def start(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            t = self._transcribe(self.path)
            self._result = t.intent or "none"
            log.info("heard %r -> intent %s", t.text, self._result)
        except DabaiError as exc:
            log.warning("cannot use the request recording %s: %s", self.path, exc)
            self._result = None

    def poll(self) -> str | None:
        return self._result


class MicrophoneIntent:
    """Records ``seconds`` from the default microphone in a thread, then transcribes it."""

    def __init__(self, transcribe, seconds: float = 4.0, rate: int = 16000):
        try:
            import sounddevice  # noqa: F401
        except (ImportError, OSError) as exc:
            raise DependencyError(f"--mic needs the 'sounddevice' package and an audio input ({exc}); "
                                  "use --audio FILE or --intent enter instead") from None
        self._transcribe = transcribe
        self.seconds, self.rate = seconds, rate
        self._result: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._result = None
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        import sounddevice as sd

        try:
            samples = sd.rec(int(self.seconds * self.rate), samplerate=self.rate, channels=1, dtype="float32")
            sd.wait()
            from dabai.speech import Audio

            t = self._transcribe(Audio(samples[:, 0], self.rate))
            self._result = t.intent or "none"
        except (DabaiError, OSError, ImportError) as exc:  # a failed chunk: heard nothing this time
            log.warning("microphone chunk unusable: %s", exc)

    def poll(self) -> str | None:
        return self._result


def make_listener(audio: str | None, mic: bool, intent: str | None):
    if audio is None and not mic:
        return FixedIntent(intent)
    try:
        from dabai.speech import transcribe
    except ImportError as exc:
        raise DependencyError(f"speech recognition is not available ({exc}); use --intent enter") from None
    return MicrophoneIntent(transcribe) if mic else RecordingIntent(audio, transcribe)
