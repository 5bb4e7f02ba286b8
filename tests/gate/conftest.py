"""Fixtures for the gate tests: a fresh home with keys, a registry and a resident."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.gate.config import GateConfig
from dabai.gate.db import open_registry
from dabai.gate.home import GateHome
from dabai.gate.keys import init_keys, load_private_key, load_public_keys
from dabai.gate.residents import add_resident


@pytest.fixture
def home(tmp_path) -> GateHome:
    h = GateHome(tmp_path / "home").ensure()
    init_keys(h)
    return h


@pytest.fixture
def registry(home):
    reg = open_registry(home, synchronous="NORMAL")
    yield reg
    reg.close()


@pytest.fixture
def signer(home):
    return load_private_key(home)


@pytest.fixture
def keys(home):
    return load_public_keys(home)


@pytest.fixture
def resident(registry):
    return add_resident(registry, "张三", "3-1-402", "13800000000")


@pytest.fixture
def config() -> GateConfig:
    return GateConfig(gate_id="test-gate")


@pytest.fixture
def fake_speech(monkeypatch):
    """A TTS that records its readings; an ASR that 'hears' 曾小燕 right only when the TTS was given a
    reading that is not ceng2 (the reading of 曾 in running text, wrong for the surname)."""
    from dabai.audio.io import Audio
    from dabai.speech import tts

    said = []

    def synthesize(text, voice=None, rate=44100, options=None, readings=None):
        said.append((text, readings))
        right = bool(readings) and not any(r.startswith("ceng2") for r in readings.values())
        return Audio(np.full(rate // 10, 0.1 if right else 0.2, np.float32), rate)

    monkeypatch.setattr(tts, "synthesize", synthesize)
    monkeypatch.setattr(tts, "engine_version", lambda engine="auto": "fake-v1")
    monkeypatch.setattr(tts, "speech_note", lambda *a, **k: None)

    class Heard:
        def __init__(self, text):
            self.text = text

    def transcribe(path):
        from dabai.audio.io import read_audio

        right = abs(float(read_audio(path).samples[0]) - 0.1) < 0.02
        return Heard("您好，曾晓燕，欢迎回家，二维码有效请您通过。" if right else "您好，陈小燕，欢迎回家。")

    return said, transcribe
