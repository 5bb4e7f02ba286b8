"""ReplyCache with a stand-in synthesizer (no model needed)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dabai.audio.io import Audio, read_raw
from dabai.errors import DataError
from dabai.speech import cache as cache_mod
from dabai.speech import tts


@pytest.fixture
def fake_tts(monkeypatch):
    calls = []

    def synthesize(text, voice=None, rate=44100, options=None):
        calls.append((text, voice, rate))
        return Audio(np.full(rate // 10, 0.1, np.float32), rate)

    monkeypatch.setattr(tts, "synthesize", synthesize)
    monkeypatch.setattr(tts, "engine_version", lambda engine="auto": "fake-v1")
    return calls


def test_render_once_then_hit(tmp_path, fake_tts):
    cache = cache_mod.ReplyCache(tmp_path)
    path = cache.render("请正确佩戴口罩。")
    assert path.parent == tmp_path / "cache" / "replies"
    raw = read_raw(path)
    assert (raw.rate, raw.channels, raw.subtype) == (44100, 1, "PCM_16")
    assert cache.render(" 请正确佩戴口罩。 ") == path  # whitespace does not matter
    assert len(fake_tts) == 1
    assert cache.entries()[path.stem] == "请正确佩戴口罩。"


def test_key_depends_on_text_voice_rate_and_model(tmp_path, fake_tts, monkeypatch):
    a = cache_mod.ReplyCache(tmp_path).path("你好")
    assert cache_mod.ReplyCache(tmp_path, voice="zm_yunxi").path("你好") != a
    assert cache_mod.ReplyCache(tmp_path, rate=16000).path("你好") != a
    assert cache_mod.ReplyCache(tmp_path).path("您好") != a
    monkeypatch.setattr(tts, "engine_version", lambda engine="auto": "fake-v2")
    assert cache_mod.ReplyCache(tmp_path).path("你好") != a


def test_prerender_templates_and_enroll(tmp_path, fake_tts):
    cache = cache_mod.ReplyCache(tmp_path)
    paths = cache.prerender()
    fixed = [t for t in cache_mod.REPLIES.values() if "{" not in t]
    assert len(paths) == len(fixed) == len(set(paths))
    greeting = cache.enroll("张三")
    assert fake_tts[-1][0] == "您好，张三，欢迎回家，二维码有效请您通过。"
    start = time.perf_counter()
    assert cache.render(cache_mod.greeting("张三")) == greeting
    assert time.perf_counter() - start < 0.05  # a hit is a stat, not a synthesis
    with pytest.raises(DataError):
        cache.enroll("  ")
    with pytest.raises(DataError):
        cache.render("")
