"""Kokoro TTS (skipped without the pack) and the espeak-ng fallback (skipped without espeak-ng)."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.audio.dsp import frame_db, speech_level_db
from dabai.audio.io import read_raw
from dabai.cli.main import main
from dabai.core.errors import ConfigError, DataError

GREETING = "您好，张三，欢迎回家，二维码有效请您通过。"


def test_greeting_is_44k_mono_trimmed_and_normalised(kokoro_pack):
    from dabai.speech import synthesize

    audio = synthesize(GREETING)
    assert audio.rate == 44100 and audio.samples.ndim == 1 and audio.samples.dtype == np.float32
    assert 2.0 < audio.duration_s < 7.0
    assert np.max(np.abs(audio.samples)) <= 1.0
    assert abs(speech_level_db(audio) - -20.0) < 3.0
    levels = frame_db(audio)
    assert levels[:3].max() > levels.max() - 45 and levels[-3:].max() > levels.max() - 45  # no long silent ends


def test_rate_and_voice(kokoro_pack):
    from dabai.speech import synthesize

    a = synthesize("请出示您的通行二维码。", voice="zm_yunxi", rate=16000)
    b = synthesize("请出示您的通行二维码。", voice="zf_xiaobei", rate=16000)
    assert a.rate == b.rate == 16000 and not np.array_equal(a.samples[:1000], b.samples[:1000])
    with pytest.raises(ConfigError, match="unknown voice 'nobody'.*zf_xiaobei"):
        synthesize("你好", voice="nobody")


@pytest.mark.slow
def test_numbers_and_long_text(kokoro_pack):
    from dabai.speech import synthesize

    assert synthesize("请到3号楼。").duration_s > 0.5
    long = "。".join(["今天天气很好，我们一起去公园散步"] * 12) + "。"
    assert synthesize(long, rate=16000).duration_s > 20


def test_bad_text_and_rate():
    from dabai.speech import synthesize

    with pytest.raises(DataError, match="nothing to say"):
        synthesize("  ，。 ")
    with pytest.raises(ConfigError, match="rate"):
        synthesize("你好", rate=100)


def test_cli_writes_16bit_wav(kokoro_pack, tmp_path, capsys):
    out = tmp_path / "welcome.wav"
    assert main(["tts", GREETING, "--out", str(out)]) == 0
    raw = read_raw(out)
    assert (raw.rate, raw.channels, raw.subtype) == (44100, 1, "PCM_16")
    assert main(["tts", "--list-voices"]) == 0
    assert "zf_xiaobei" in capsys.readouterr().out


def test_espeak_fallback_reads_pinyin(espeak):
    from dabai.speech import synthesize
    from dabai.speech.g2p import pinyin_tone3
    from dabai.speech.tts import TTSOptions

    assert pinyin_tone3("你好，大白。") == "ni3 hao3, da4 bai2."
    audio = synthesize(GREETING, rate=22050, options=TTSOptions(engine="espeak"))
    assert audio.rate == 22050 and audio.duration_s > 2.0
    assert abs(speech_level_db(audio) - -20.0) < 3.0


def test_reading_changes_what_kokoro_is_given():
    pytest.importorskip("misaki", reason="needs the speech extra")
    from dabai.speech.g2p import kokoro_phonemes, parse_reading, pinyin_tone3

    text = "您好，曾小燕，欢迎回家。"
    plain, said = kokoro_phonemes(text), kokoro_phonemes(text, {"曾小燕": "zeng1 xiao3 yan4"})
    assert "ʦʰə↗ŋ" in plain and "ʦə→ŋ" in said and "ʦʰ" not in said.split(",")[1]  # ceng2 → zeng1
    assert said.split(", ")[::2] == plain.split(", ")[::2]  # only the name changed
    assert pinyin_tone3(text, {"曾小燕": "zeng1 xiao3 yan4"}).startswith("nin2 hao3, zeng1 xiao3 yan4,")
    assert parse_reading("Lü3 Zeng1") == ("lv3", "zeng1")
    with pytest.raises(ValueError, match="tone number"):
        parse_reading("zeng xiao3")


def test_the_espeak_fallback_is_never_silent(tmp_path, monkeypatch, espeak, capsys):
    from dabai.speech import tts

    monkeypatch.setenv("DABAI_SPEECH_DIR", str(tmp_path / "no-packs"))
    monkeypatch.setattr(tts, "_ENGINES", {})
    note = tts.speech_note()
    assert note.startswith("robot voice: the Kokoro voice pack was not found") and "kokoro-82m" in note
    assert tts.speech_note("espeak") is None  # asked for by name: not a fallback
    assert main(["tts", "你好", "--out", str(tmp_path / "a.wav")]) == 0
    assert "note: robot voice" in capsys.readouterr().err


def test_text_length_is_bounded_before_any_work():
    """Smaller: 'dabai tts' on 5,000 characters ran for 504 s and 1.8 GB; now refused at once."""
    import time

    from dabai.speech.tts import MAX_TEXT_CHARS, synthesize

    started = time.perf_counter()
    with pytest.raises(DataError, match=f"more than the limit of {MAX_TEXT_CHARS}"):
        synthesize("您好" * 2500)
    assert time.perf_counter() - started < 2.0
