"""espeak-ng fallback TTS (Debian package ``espeak-ng``), used when the Kokoro pack is missing.

espeak-ng 1.51 reads Hanzi wrongly with its ``cmn`` voice, so it is given
tone-numbered pinyin with the ``cmn-latn-pinyin`` voice. It sounds robotic but
is intelligible to people; it is a fallback, not the product voice.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from dabai.audio.io import Audio, read_audio
from dabai.core.errors import DabaiError, ModelError

VOICE = "cmn-latn-pinyin"


class EspeakEngine:
    name = "espeak-ng"
    fallback_reason: str | None = None  # set when 'auto' picked it because Kokoro is missing

    def __init__(self, executable: str | None = None, words_per_minute: int = 150):
        exe = executable or shutil.which("espeak-ng")
        if exe is None:
            raise ModelError("espeak-ng is not installed (the TTS fallback); install it with: apt-get install -y espeak-ng")
        self.executable = exe
        self.wpm = words_per_minute
        self.version = "espeak-ng-" + self._version()

    def _version(self) -> str:
        proc = subprocess.run([self.executable, "--version"], capture_output=True, text=True, check=False)
        words = proc.stdout.split()
        return words[words.index("text-to-speech:") + 1] if "text-to-speech:" in words else "unknown"

    def voices(self) -> list[str]:
        return [VOICE]

    def synthesize(self, text: str, voice: str | None = None, speed: float = 1.0, pause_s: float = 0.25,
                   readings: dict[str, str] | None = None) -> Audio:
        from dabai.speech.g2p import has_chinese, pinyin_tone3

        spoken = pinyin_tone3(text, readings) if has_chinese(text) else text
        with tempfile.TemporaryDirectory(prefix="dabai-espeak-") as tmp:
            out = Path(tmp) / "out.wav"
            # Arguments as a list (no shell); the text goes through stdin so nothing is parsed as an option.
            cmd = [self.executable, "-v", voice or VOICE, "-s", str(int(self.wpm * speed)), "-w", str(out), "--stdin"]
            proc = subprocess.run(cmd, input=spoken, capture_output=True, text=True, check=False)
            if proc.returncode != 0 or not out.is_file():
                raise DabaiError(f"espeak-ng failed (exit {proc.returncode}): {proc.stderr.strip()[:200]}")
            return read_audio(out)
