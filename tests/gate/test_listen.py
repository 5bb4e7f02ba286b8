"""gate/listen.py: the microphone listener, with a stand-in `sounddevice` (no audio device in CI)."""

from __future__ import annotations

import sys
import types
from types import SimpleNamespace

import numpy as np
import pytest

from dabai.core.errors import DabaiError, DependencyError
from dabai.gate.listen import MicrophoneIntent


def _fake_sounddevice(monkeypatch, rec):
    module = types.ModuleType("sounddevice")
    module.rec = rec
    module.wait = lambda: None
    monkeypatch.setitem(sys.modules, "sounddevice", module)


def _listen_once(listener):
    listener.start()
    listener._thread.join(timeout=10)
    return listener.poll()


def test_microphone_chunk_is_transcribed_to_an_intent(monkeypatch):
    recorded = {}

    def rec(frames, samplerate, channels, dtype):
        recorded.update(frames=frames, rate=samplerate, channels=channels)
        return np.zeros((frames, channels), dtype=np.float32)

    _fake_sounddevice(monkeypatch, rec)
    heard = []
    listener = MicrophoneIntent(lambda audio: heard.append(audio) or SimpleNamespace(intent="enter"), seconds=2.0)
    assert _listen_once(listener) == "enter"
    assert recorded == {"frames": 32000, "rate": 16000, "channels": 1}
    assert heard[0].rate == 16000 and len(heard[0].samples) == 32000


@pytest.mark.parametrize("failure", [OSError("device unavailable"), DabaiError("has no audio samples")])
def test_a_failing_chunk_hears_nothing_and_the_next_one_works(monkeypatch, failure):
    calls = []

    def rec(frames, samplerate, channels, dtype):
        calls.append(1)
        if len(calls) == 1:
            raise failure
        return np.zeros((frames, channels), dtype=np.float32)

    _fake_sounddevice(monkeypatch, rec)
    listener = MicrophoneIntent(lambda audio: SimpleNamespace(intent=None), seconds=0.5)
    assert _listen_once(listener) is None  # the loop goes on: nothing heard this time
    assert _listen_once(listener) == "none"  # heard speech, but no command in it


def test_missing_sounddevice_names_the_alternatives(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    with pytest.raises(DependencyError, match="--mic needs the 'sounddevice' package.*--audio FILE or --intent enter"):
        MicrophoneIntent(lambda audio: None)
