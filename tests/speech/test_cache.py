"""ReplyCache with a stand-in synthesizer (no model needed)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dabai.audio.io import Audio, read_raw
from dabai.core.errors import DataError
from dabai.speech import cache as cache_mod
from dabai.speech import tts


@pytest.fixture
def fake_tts(monkeypatch):
    calls = []

    def synthesize(text, voice=None, rate=44100, options=None, readings=None):
        calls.append((text, voice, rate, readings))
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


def test_prerender_and_readings(tmp_path, fake_tts):
    cache = cache_mod.ReplyCache(tmp_path)
    paths = cache.prerender(["请佩戴口罩", "请出示通行码"])
    assert len(paths) == 2 == len(set(paths)) == len(fake_tts)
    greeting = "您好，曾小燕，欢迎回家。"
    plain = cache.render(greeting)
    said = cache.render(greeting, readings={"曾小燕": "zeng1 xiao3 yan4"})
    assert said != plain and fake_tts[-1][3] == {"曾小燕": "zeng1 xiao3 yan4"}  # a reading is its own clip
    assert cache.path(greeting, {"李四": "li3 si4"}) == plain  # readings of names not in the text do not matter
    start = time.perf_counter()
    assert cache.render(greeting, readings={"曾小燕": "zeng1 xiao3 yan4"}) == said
    assert time.perf_counter() - start < 0.05  # a hit is a stat, not a synthesis
    with pytest.raises(DataError):
        cache.render("")


def test_a_reply_of_several_parts_is_joined_from_cached_clips(tmp_path, fake_tts):
    cache = cache_mod.ReplyCache(tmp_path)
    path, cached = cache.render_parts(["请佩戴口罩", "请出示通行码"])
    assert not cached and len(fake_tts) == 2  # each part synthesised once, then joined
    audio = cache.load("请佩戴口罩，请出示通行码")
    assert len(fake_tts) == 2 and path == cache.path("请佩戴口罩，请出示通行码")
    assert audio.duration_s == pytest.approx(0.1 + cache_mod.JOIN_PAUSE_S + 0.1, abs=0.002)
    cache.prerender(["请正对摄像头"])
    path, cached = cache.render_parts(["请正对摄像头", "请出示通行码"])
    assert cached and len(fake_tts) == 3  # both parts were in the cache: nothing synthesised
