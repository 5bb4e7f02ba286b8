"""prep, check, split-phrases and manifests on synthetic recordings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dabai.audio.check import CheckLimits, check
from dabai.audio.io import Audio, read_raw
from dabai.audio.manifest import collect, read_manifest, write_manifest
from dabai.audio.phrases import cut_points, split_recording, template_phrases
from dabai.audio.prep import PrepOptions, prep
from dabai.core.errors import DataError

from .helpers import silence, tone, utterance, write


def test_prep_folder_mirrors_tree_at_44k_mono(tmp_path):
    src = tmp_path / "raw"
    stereo = np.stack([utterance([("gap", 0.4), ("tone", 0.8), ("gap", 0.4)], 8000)] * 2, axis=1)
    write(src / "a.wav", stereo, 8000)
    write(src / "sub" / "b.flac", 0.01 * utterance([("tone", 0.5)], 22050), 22050)
    results = prep(src, tmp_path / "clean", PrepOptions(rate=44100, mono=True, trim=True, normalize=True))
    assert len(results) == 2
    a = read_raw(tmp_path / "clean" / "a.wav")
    b = read_raw(tmp_path / "clean" / "sub" / "b.wav")
    assert (a.rate, a.channels, a.subtype) == (44100, 1, "PCM_16") and b.rate == 44100
    assert a.duration_s < 1.0  # silence trimmed
    assert 20 * np.log10(np.sqrt(np.mean(b.frames**2))) > -25  # quiet file brought up


def test_prep_refuses_silent_and_in_place(tmp_path):
    write(tmp_path / "raw" / "quiet.wav", np.zeros(8000, np.float32))
    with pytest.raises(DataError, match="silent"):
        prep(tmp_path / "raw", tmp_path / "out", PrepOptions(trim=True))
    with pytest.raises(DataError, match="originals"):
        prep(tmp_path / "raw", tmp_path / "raw")


def test_prep_stereo_without_mono_is_an_error(tmp_path):
    path = write(tmp_path / "s.wav", np.zeros((800, 2), np.float32) + 0.1)
    with pytest.raises(DataError, match="2 channels"):
        prep(path, tmp_path / "o.wav", PrepOptions(mono=False, trim=False))


def test_check_flags_problems_and_is_json(tmp_path):
    for i in range(5):
        write(tmp_path / f"ok{i}.wav", utterance([("gap", 0.2), ("tone", 1.0 + 0.05 * i), ("gap", 0.2)]))
    write(tmp_path / "clipped.wav", np.clip(6 * utterance([("gap", 0.2), ("tone", 1.1), ("gap", 0.2)]), -1, 1))
    write(tmp_path / "silent.wav", silence(1.2))
    write(tmp_path / "long.wav", utterance([("tone", 9.0)]))
    write(tmp_path / "other_rate.wav", utterance([("tone", 1.0)], 8000), 8000)
    (tmp_path / "broken.wav").write_text("nope")
    report = check([tmp_path], CheckLimits(), show_progress=False)
    issues = {r.file.rsplit("/", 1)[-1]: " ".join(r.issues) for r in report.files}
    assert "clipped" in issues["clipped.wav"]
    assert "mostly silence" in issues["silent.wav"] or "noisy" in issues["silent.wav"]
    assert "duration outlier" in issues["long.wav"]
    assert "8000 Hz differs" in issues["other_rate.wav"]
    assert "not a readable audio file" in issues["broken.wav"]
    assert issues["ok0.wav"] == ""
    json.dumps(report.to_dict())  # serialisable (no NaN objects)
    assert report.problems >= 5


def test_split_phrases_at_pauses(tmp_path):
    # three "phrases" of 2, 2 and 4 characters' length separated by clear pauses, plus a short inner dip
    rec = utterance([("gap", 0.3), ("tone", 0.5), ("gap", 0.25), ("tone", 0.5), ("gap", 0.25), ("tone", 1.0), ("gap", 0.3)])
    path = write(tmp_path / "take1.wav", rec)
    phrases = template_phrases("您好，张三，欢迎回家。")
    assert phrases == ["您好", "张三", "欢迎回家"]
    entries, in_pauses = split_recording(path, phrases, tmp_path / "out")
    assert in_pauses and [e.text for e in entries] == phrases
    durations = [e.duration for e in entries]
    assert abs(durations[0] - 0.5) < 0.15 and abs(durations[1] - 0.5) < 0.15 and abs(durations[2] - 1.0) < 0.15


def test_split_without_pauses_falls_back():
    audio = Audio(tone(2.0), 16000)
    cuts, in_pauses = cut_points(audio, ["一二", "三四"])
    assert not in_pauses and 0.6 < cuts[0] < 1.4


def test_manifest_from_sidecars_and_labels(tmp_path):
    write(tmp_path / "a.wav", tone(0.5))
    (tmp_path / "a.txt").write_text("你好大白\n", encoding="utf-8")
    write(tmp_path / "b.wav", tone(1.0))
    labels = tmp_path / "labels.tsv"
    labels.write_text("b.wav\t请让我进入小区\n", encoding="utf-8")
    entries = collect(tmp_path, labels)
    out = write_manifest(entries, tmp_path / "m.jsonl")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == ["你好大白", "请让我进入小区"]
    assert set(rows[0]) == {"audio_filepath", "duration", "text"} and abs(rows[1]["duration"] - 1.0) < 1e-3
    assert read_manifest(out) == entries
    write(tmp_path / "c.wav", tone(0.2))
    with pytest.raises(DataError, match="c.wav.*no transcript"):
        collect(tmp_path, labels)
