"""ASR on audio made in the test (TTS → ASR) and on the real clips in ../shared/data/speech-zh."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dabai.audio.io import Audio, write_wav
from dabai.cli.main import main
from dabai.core.errors import DataError
from dabai.speech.asr import _echoes_prompt, _tidy
from dabai.speech.bench import cer

REQUEST = "你好大白，请让我进入小区。"


def test_prompt_echo_is_dropped_but_short_words_are_kept():
    prompt = "以下是普通话的句子。"
    assert _echoes_prompt("以下是普通话的句子。", prompt, None)
    assert _echoes_prompt("普通话的句子", prompt, None)
    assert not _echoes_prompt("大白", prompt, "大白，小区")
    assert not _echoes_prompt("请让我进入小区", prompt, "大白，小区")
    assert _echoes_prompt("大白，二维码以下是普通话的。", prompt, "大白，小区，二维码")  # the one rule: cut short too
    assert _tidy(" 你好大白,请让我进入小区 ") == "你好大白，请让我进入小区"


class _EchoingWhisper:
    """Stands in for the decode: with a prompt or hotwords it reads them back (holdout_s18b: 12 of a phrasing's
    20 clips), without them it hears the speech."""

    def __init__(self, plain: str):
        self.plain, self.calls = plain, []

    def __call__(self, rec, audio):
        self.calls.append((rec.prompt, rec.hotwords))
        return ("大白，小区，二维码以下是普通话的句子。" if rec.prompt or rec.hotwords else self.plain), -0.3


@pytest.mark.parametrize("plain,intent,fell_back", [
    ("大白，我住二十栋，请放我进去。", "enter", True),   # the decode without the prompt is taken
    ("", "unclear", False),                              # it heard nothing either: ask again, as before
])
def test_a_decode_that_echoes_the_prompt_is_decoded_again_without_it(monkeypatch, plain, intent, fell_back):
    pytest.importorskip("pypinyin", reason="needs the speech extra")
    from dabai.speech.asr import ASROptions, Recognizer
    from dabai.speech.intent import load_grammar

    rec = object.__new__(Recognizer)
    rec.options, rec.grammar = ASROptions(), load_grammar()
    echo = _EchoingWhisper(plain)
    monkeypatch.setattr(Recognizer, "recognize_text", lambda self, audio: echo(self, audio))
    monkeypatch.setattr(Recognizer, "hearing", lambda self, audio: (lambda text: None))
    t = rec.transcribe(Audio(np.zeros(16000, np.float32), 16000))
    assert t.intent == intent and t.decoded_without_prompt is fell_back
    assert echo.calls[0] == (rec.prompt, rec.hotwords) and echo.calls[1] == ("", "")   # said once, never silent
    assert t.to_dict()["decoded_without_prompt"] is fell_back


class _Segment:
    def __init__(self, text):
        self.text, self.avg_logprob = text, -0.3


def _bare_recognizer(model, options, grammar=None):
    """A Recognizer around a stand-in for faster-whisper's model: nothing loaded, ``_decode`` runs as shipped."""
    import threading

    from dabai.speech.asr import Recognizer

    rec = object.__new__(Recognizer)
    rec.options, rec.model, rec._lock = options, model, threading.Lock()
    if grammar is not None:
        rec.grammar = grammar
    return rec


@pytest.mark.parametrize("segments,kept", [
    (["大白，请让我进去。", "以下是普通话的句子。"], ["大白，请让我进去。"]),  # an echo beside speech is dropped
    (["大白，小区，", "二维码以下是普通话的。"], ["大白，小区，", "二维码以下是普通话的。"]),  # all echo: kept whole
    (["大白，", "开门"], ["大白，", "开门"]),                                   # a short wake word is speech
])
def test_echoed_segments_are_dropped_beside_speech_only(monkeypatch, segments, kept):
    pytest.importorskip("faster_whisper", reason="needs the speech extra")
    from dabai.speech.asr import ASROptions
    from dabai.speech.intent import load_grammar

    class _Model:
        def transcribe(self, samples, **kw):
            assert kw["initial_prompt"] == "以下是普通话的句子。" and kw["hotwords"] == "大白，小区，二维码"
            return iter([_Segment(t) for t in segments]), None

    rec = _bare_recognizer(_Model(), ASROptions(), load_grammar())
    got = rec._decode(Audio(np.zeros(16000, np.float32), 16000))
    assert [s.text for s in got] == kept
    # an all-echo decode reaches listen(), which decodes it again without the cue (not an empty, refused turn)


@pytest.mark.slow
def test_spoken_request_is_recognised(recognizer, say):
    t = recognizer.transcribe(say(REQUEST))
    assert t.intent == "enter", t
    assert cer(REQUEST, t.text) <= 0.2
    assert t.duration_s > 1.0 and t.asr_seconds > 0


@pytest.mark.slow
def test_8khz_stereo_is_handled(recognizer, say, tmp_path):
    import soundfile as sf

    from dabai.audio.dsp import resample

    mono = resample(say(REQUEST), 8000).samples
    path = tmp_path / "phone.wav"
    sf.write(str(path), np.stack([mono, mono], axis=1), 8000, subtype="PCM_16")
    t = recognizer.transcribe(path)
    assert t.intent == "enter", t
    assert t.file == str(path)


@pytest.mark.slow
def test_five_minutes_is_handled_and_limit_is_clear(recognizer, tmp_path):
    from dabai.speech.asr import ASROptions, Recognizer

    rng = np.random.default_rng(0)
    audio = Audio((0.003 * rng.standard_normal(16000 * 300)).astype(np.float32), 16000)  # 5 minutes of hiss
    t = recognizer.transcribe(audio)
    assert t.intent == "none" and abs(t.duration_s - 300) < 0.01
    strict = recognizer.with_options(max_seconds=60)
    with pytest.raises(DataError, match="300 s long; at most 60 s"):
        strict.transcribe(audio)
    assert isinstance(strict, Recognizer) and strict.options == ASROptions(max_seconds=60)


@pytest.mark.slow
def test_not_audio_and_empty(recognizer, tmp_path):
    bad = tmp_path / "photo.wav"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(DataError, match="photo.wav.*not a readable audio file"):
        recognizer.transcribe(bad)
    with pytest.raises(DataError, match="no audio samples"):
        recognizer.transcribe(Audio(np.zeros(0, np.float32), 16000))


@pytest.mark.slow
def test_real_clips_with_transcripts(recognizer, speech_dir):
    """The 4 transcribed clips: Whisper base reaches a usable CER, and none is taken for a command."""
    edits = chars = 0
    for txt in sorted(speech_dir.glob("*.txt")):
        if txt.name.startswith("SOURCES"):
            continue
        wav = txt.with_suffix(".wav")
        lines = txt.read_text(encoding="utf-8").strip().split("\t")
        reference = lines[-1]
        t = recognizer.transcribe(wav)
        assert t.intent == "none", (wav.name, t.text)
        n = len([c for c in reference if "\u4e00" <= c <= "\u9fff"])
        edits += cer(reference, t.text) * n
        chars += n
    assert chars > 30
    assert edits / chars <= 0.35, f"CER {edits / chars:.2f} on the real clips"


@pytest.mark.slow
def test_cli_json_lines_and_bad_file(recognizer, say, tmp_path, capsys):
    good = write_wav(say(REQUEST), tmp_path / "req.wav")
    bad = tmp_path / "bad.wav"
    bad.write_text("nope")
    assert main(["asr", str(good), str(bad), "--json"]) == 2
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert rows[0]["file"] == str(good) and rows[0]["intent"] == "enter"
    assert rows[1]["file"] == str(bad) and "not a readable audio file" in rows[1]["error"]
    assert "error: " in captured.err


@pytest.mark.parametrize("frames_in, window, frames_out", [
    (400, 1000, 1000),    # a 4-s request with the 10-s window: encoded as 10 s, not 30
    (1000, 1000, 1000),
    (1200, 1000, 3000),   # longer than the window: Whisper's own 30 s
    (400, None, 3000),    # no window set (other faster-whisper users in the process): stock behaviour
    (3500, 1000, 3000),   # a 30-s seek slice longer than 30 s is still trimmed as before
])
def test_encoder_window_pads_short_segments_only(frames_in, window, frames_out):
    pytest.importorskip("faster_whisper")
    import faster_whisper.transcribe as fwt

    from dabai.speech.asr import _WINDOW_FRAMES, _install_window_padding

    _install_window_padding()
    _install_window_padding()  # idempotent: not wrapped twice
    token = _WINDOW_FRAMES.set(window)
    try:
        out = fwt.pad_or_trim(np.ones((80, frames_in), np.float32))
    finally:
        _WINDOW_FRAMES.reset(token)
    assert out.shape == (80, frames_out)
    assert out[:, :min(frames_in, frames_out)].all() and not out[:, frames_in:].any()  # zero padding after the audio


def test_encoder_window_outside_1_to_30_s_is_refused(tmp_path, capsys):
    from dabai.core.errors import ConfigError
    from dabai.speech.asr import ASROptions

    with pytest.raises(ConfigError, match="1 to 30 seconds"):
        ASROptions(window_s=45.0)
    assert ASROptions(window_s=30.0).window_s == 30.0
    wav = tmp_path / "request.wav"
    write_wav(Audio(np.zeros(16000, np.float32), 16000), wav)
    assert main(["asr", str(wav), "--window", "0.5"]) == 2  # a plain error, not a traceback
    assert "1 to 30 seconds" in capsys.readouterr().err


@pytest.mark.slow
def test_hearing_weighs_texts_against_the_audio(recognizer, say):
    """The audio of 你好大白，请帮我开门 supports what Whisper heard, not a lamp (灯) for the door or a negator
    (别) for 请."""
    from dabai.speech.pinyin import han_chars, replace_han

    audio = say("你好大白，请帮我开门。")
    t = recognizer.transcribe(audio)
    heard = han_chars(t.text)
    assert t.intent == "enter" and "开门" in heard and "请" in heard, t
    hearing = recognizer.hearing(audio)
    own = hearing(t.text)
    door, please = heard.index("开门") + 1, heard.index("请")
    assert own is not None and len(own) == len(heard) and own[door] > 0.5, own
    lamp = hearing(replace_han(t.text, {door: "灯"}))
    negated = hearing(replace_han(t.text, {please: "别"}))
    assert lamp[door] < 0.05 * own[door], (own, lamp)
    assert negated[please] < 0.05 * own[please], (own, negated)
    assert hearing(t.text) is own  # cached per text, the audio encoded once


@pytest.mark.slow
def test_adapt_hears_the_clips_as_the_gate_does(whisper_pack, say, tmp_path):
    """`dabai asr adapt` with the real recogniser: each clip transcribed and decided with its audio
    (decide_spoken), as `Recognizer.transcribe` decides it."""
    from dabai.audio.io import write_wav
    from dabai.speech.adapt import adapt
    from dabai.speech.asr import get_recognizer

    said = [("a.wav", "enter", "你好大白，请帮我开门。"), ("b.wav", "none", "今天天气真不错。"),
            ("c.wav", "leave", "大白，请让我出去。")]
    for name, _, text in said:
        write_wav(say(text), tmp_path / name)
    (tmp_path / "labels.tsv").write_text("".join(f"{n}\t{lab}\n" for n, lab, _ in said), encoding="utf-8")
    report = adapt(tmp_path, out=tmp_path / "g.yaml")
    assert report.audio_checks
    gate = [get_recognizer().transcribe(tmp_path / n).intent for n, _, _ in said]
    assert gate == ["enter", "none", "leave"] and report.before.correct == 3, (gate, report)


@pytest.mark.parametrize("seconds, per_second, bound", [
    (2.0, 30.0, 92),     # a 2-s request: 60 tokens and 32 more
    (0.3, 30.0, 41),
    (20.0, 30.0, 224),   # never over half the decoder's context (faster-whisper refuses prompt + bound > 448)
    (600.0, 30.0, 224),  # each 30-s chunk of a long recording
    (2.0, 0.0, None),    # 0: Whisper's own limit
])
def test_a_decode_is_bounded_by_the_clip_s_length(seconds, per_second, bound):
    from dabai.speech.asr import max_new_tokens

    assert max_new_tokens(seconds, per_second) == bound


def test_the_recogniser_passes_the_bound_to_whisper():
    """A loop over noise (大白，小区，小区，…) stops at the clip's bound instead of Whisper's 448 tokens."""
    from dabai.core.errors import ConfigError
    from dabai.speech.asr import ASROptions

    class Model:
        def transcribe(self, samples, **kw):
            self.kw = kw
            return iter(()), None

    rec = _bare_recognizer(Model(), ASROptions(prompt="", hotwords=""))
    rec._decode(Audio(np.zeros(32000, np.float32), 16000))
    assert rec.model.kw["max_new_tokens"] == 92
    rec.options = ASROptions(prompt="", hotwords="", max_tokens_per_second=0.0)
    rec._decode(Audio(np.zeros(32000, np.float32), 16000))
    assert rec.model.kw["max_new_tokens"] is None
    with pytest.raises(ConfigError, match="max_tokens_per_second must be 0"):
        ASROptions(max_tokens_per_second=-1.0)


def test_the_decode_bound_is_a_cli_option(tmp_path, capsys):
    from dabai.cli.asr import _asr_options as _options
    from dabai.cli.main import build_parser

    args = build_parser().parse_args(["asr", "x.wav", "--max-tokens-per-second", "0"])
    assert _options(args).max_tokens_per_second == 0.0
    assert _options(build_parser().parse_args(["asr", "x.wav"])).max_tokens_per_second == 30.0
    wav = tmp_path / "request.wav"
    write_wav(Audio(np.zeros(16000, np.float32), 16000), wav)
    assert main(["asr", str(wav), "--max-tokens-per-second", "-1"]) == 2  # a plain error, not a traceback
    assert "max_tokens_per_second must be 0" in capsys.readouterr().err
