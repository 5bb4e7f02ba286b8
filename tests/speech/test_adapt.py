"""dabai asr adapt with a stand-in transcriber (what ASR 'heard' for each clip)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from dabai.core.errors import DataError
from dabai.speech.adapt import adapt, read_clips
from dabai.speech.intent import load_grammar, recognize_intent

from .helpers import tone, write

CLIPS = [  # file, label, what the ASR heard
    ("c01.wav", "enter", "你好大白，请让我进入小区"),
    ("c02.wav", "enter", "大白，我回来了"),
    ("c03.wav", "enter", "毛毛雨天天下"),        # a voice the ASR garbles the same way every time
    ("c04.wav", "enter", "毛毛雨天天下吧"),
    ("c05.wav", "leave", "大白，让我出去"),
    ("c06.wav", "none", "今天天气真不错"),
    ("c07.wav", "none", "我昨天在小区门口看到一只猫"),
    ("c08.wav", "none", "电梯又坏了，真麻烦"),
]


@pytest.fixture
def clips_dir(tmp_path):
    for name, _, _ in CLIPS:
        write(tmp_path / name, tone(0.3))
    (tmp_path / "labels.tsv").write_text("".join(f"{n}\t{lab}\n" for n, lab, _ in CLIPS), encoding="utf-8")
    return tmp_path


def heard(clip, k):
    return dict((n, h) for n, _, h in CLIPS)[clip.path.name]


def test_adapt_improves_and_writes_a_usable_grammar(clips_dir):
    report = adapt(clips_dir, transcriber=heard)
    assert report.before.correct < report.after.correct
    assert report.after.false_accepts == 0
    assert report.after.accuracy == 1.0
    assert report.added_phrases == {"enter": ["毛毛雨天天下"]}  # c04 then matches it too
    tuned = load_grammar(report.output)
    assert recognize_intent("毛毛雨天天下", tuned).intent == "enter"
    assert recognize_intent("今天天气真不错", tuned).intent == "none"
    data = yaml.safe_load(open(report.output, encoding="utf-8"))
    assert {"threshold", "margin", "asr_prompt", "intents"} <= set(data)


def test_adapt_with_holdout_reports_it(clips_dir):
    report = adapt(clips_dir, transcriber=heard, holdout=0.25, out=clips_dir / "g.yaml")
    assert report.holdout_after is not None and report.holdout_after.total == 2
    assert report.output.endswith("g.yaml")


@pytest.mark.parametrize("labels,message", [
    (None, "no labels.tsv"),
    ("c01.wav\n", "at least 'file' and 'intent'"),
    ("missing.wav\tenter\n", "does not exist"),
    ("c01.wav\tdance\n", "does not define"),
])
def test_bad_labels(tmp_path, labels, message):
    write(tmp_path / "c01.wav", np.zeros(1600, np.float32) + 0.1)
    if labels is not None:
        (tmp_path / "labels.tsv").write_text(labels, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        adapt(tmp_path, transcriber=lambda c, k: "")


def test_csv_labels_with_text(tmp_path):
    write(tmp_path / "a.wav", tone(0.2))
    (tmp_path / "labels.csv").write_text("file,intent,text\na.wav,enter,让我进去\n", encoding="utf-8")
    (clip,) = read_clips(tmp_path)
    assert (clip.intent, clip.text) == ("enter", "让我进去")


def test_spoken_clips_are_decided_with_their_audio(tmp_path):
    """A transcriber that returns the clip's audio too (as the real one does) gets the gate's decision: the
    sound-alike 把灯打开 (for 把门打开) is refuted by the audio, so it is no false accept to tune against."""
    from .test_heard_checks import FakeHearing

    clips = [("a.wav", "enter", "大白，请开门"), ("b.wav", "none", "大白，天黑了，记得把灯打开。"),
             ("c.wav", "none", "今天天气真不错")]
    for name, _, _ in clips:
        write(tmp_path / name, tone(0.3))
    (tmp_path / "labels.tsv").write_text("".join(f"{n}\t{lab}\n" for n, lab, _ in clips), encoding="utf-8")
    said = {n: h for n, _, h in clips}

    text_only = adapt(tmp_path, transcriber=lambda clip, k: said[clip.path.name], out=tmp_path / "t.yaml")
    assert not text_only.audio_checks and text_only.before.false_accepts == 1   # 把灯打开 heard as 把门打开
    spoken = adapt(tmp_path, transcriber=lambda clip, k: (said[clip.path.name], FakeHearing(said[clip.path.name])),
                   out=tmp_path / "s.yaml")
    assert spoken.audio_checks
    assert spoken.before.false_accepts == 0 and spoken.before.correct == 3   # the audio refutes 门 there
