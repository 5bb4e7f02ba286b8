"""Fixtures for speech tests: the model packs (skipped, with how to install them, when absent)."""

from __future__ import annotations

import shutil

import pytest

HOW = "run: bash scripts/install_speech_models.sh (or: dabai speech install)"


@pytest.fixture(scope="session")
def whisper_pack():
    pytest.importorskip("faster_whisper", reason="needs the speech extra: pip install -e '.[speech]'")
    from dabai.core.errors import ModelError
    from dabai.speech.models import WHISPER_BASE, ensure_pack

    try:
        return ensure_pack(WHISPER_BASE)
    except ModelError as exc:
        pytest.skip(f"needs the Whisper-base speech pack ({exc}); {HOW}")


@pytest.fixture(scope="session")
def kokoro_pack():
    pytest.importorskip("misaki", reason="needs the speech extra: pip install -e '.[speech]'")
    from dabai.core.errors import ModelError
    from dabai.speech.models import kokoro_files

    try:
        return kokoro_files()
    except ModelError as exc:
        pytest.skip(f"needs the Kokoro speech pack and voices ({exc}); {HOW}")


@pytest.fixture(scope="session")
def espeak():
    if shutil.which("espeak-ng") is None:
        pytest.skip("needs espeak-ng (apt-get install -y espeak-ng, done by scripts/install_speech_models.sh)")


@pytest.fixture(scope="session")
def recognizer(whisper_pack):
    from dabai.speech.asr import get_recognizer

    return get_recognizer()


@pytest.fixture(scope="session")
def say(kokoro_pack):
    """say(text, voice=None, rate=16000) → Audio from Kokoro, cached for the session."""
    from dabai.speech.tts import synthesize

    memo = {}

    def _say(text: str, voice: str | None = None, rate: int = 16000):
        key = (text, voice, rate)
        if key not in memo:
            memo[key] = synthesize(text, voice=voice, rate=rate)
        return memo[key]

    return _say
