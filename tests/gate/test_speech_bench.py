"""The held-out spoken-turn benchmark's bookkeeping, with a stand-in TTS and ASR (the real run: docs/benchmarks.md)."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.audio.io import Audio

pytest.importorskip("pypinyin", reason="needs the speech extra")


# a non-entry sentence heard as 大白，提开门 with 提 unsure on both tries (a lost 别: asked again, never taken),
# and an entry request heard unsure once, then clearly (taken on the second try)
UNSURE = {"大白，我要出去买菜。": [("大白提开门", 0.1)],
          "大白，麻烦帮我把门打开，我要进去。": [("大白提开门", 0.2), ("大白开门", 0.9)]}


@pytest.fixture
def fake_turn(monkeypatch):
    from dabai.speech import asr, tts

    spoken = {}

    def synthesize(text, voice=None, rate=44100, options=None, readings=None):
        audio = Audio(np.random.default_rng(len(spoken)).uniform(-0.3, 0.3, rate // 4).astype(np.float32), rate)
        spoken[audio.samples.tobytes()[:64]] = (text, readings)
        return audio

    class Heard:
        def __init__(self, text, match, spoken):
            self.text, self.heard_intent, self.asr_seconds, self.duration_s = text, match.intent, 0.05, 0.25
            self.intent, self.unsure_probability = spoken.intent, None
            self.sound_checks = [c.to_dict() for c in match.checks]

    class FakeRecognizer:
        calls: dict = {}

        def transcribe(self, audio):
            from dabai.speech.intent import confirm_heard, recognize_intent

            text, readings = spoken.get(audio.samples.tobytes()[:64], ("（噪声）", None))
            if "快递员" in text:  # one phrasing the fake ASR always mishears
                text = "今天天气真不错"
            heard = UNSURE.get(text)  # sentences the fake hears with an unsure sound, per try
            n = self.calls[text] = self.calls.get(text, 0) + 1
            probability = None
            if heard:
                text, p = heard[min(n, len(heard)) - 1]
                probability = [p] * len(text)
            match = recognize_intent(text)
            return Heard(text, match, confirm_heard(match, probability) if probability else match)

    monkeypatch.setattr(tts, "synthesize", synthesize)
    monkeypatch.setattr(asr, "get_recognizer", lambda options=None, grammar=None: FakeRecognizer())


def test_holdout_counts_entry_requests_as_the_gate_decides(fake_turn):
    from dabai.gate.speech_bench import HoldoutOptions, format_holdout, run_holdout

    result = run_holdout(HoldoutOptions(voices=("zf_a+zf_b",), conditions=("clean", "speed1.1")), log=lambda *a: None)
    held = result["held_out"]
    assert len(held["phrasings"]) == 8 and result["entry_clips"] == 16 and result["non_entry_clips"] == 32
    assert held["subset"] is True  # not every condition
    courier = "大白，我是快递员，让我进去送个快递。"
    assert result["per_phrasing"][courier] == 0.0
    assert {r["sentence"] for r in result["misses"]} == {courier}  # 开下门 too, since this set was tuned on
    assert result["entry_recognised"] == pytest.approx(14 / 16)
    visitor = "你好，我来拜访三号楼的朋友，请让我进去。"
    assert result["per_phrasing"][visitor] == 1.0  # a visitor's request is an entry request
    assert result["false_accepts"] == 0 and not result["false_accept_rows"]
    assert result["asr_rtf"] == pytest.approx(0.2)
    names = result["names"]
    assert names["syllable_error_rate"] == 0.0 and len(names["rows"]) == 10  # the fake says exactly the text
    assert names["default_reading"]["syllable_error_rate"] == 0.0
    said = {r["name"]: r["said"] for r in names["default_reading"]["rows"]}
    assert said["曾小燕"] == "zeng1 xiao3 yan4" and said["朴志勇"] == "piao2 zhi4 yong3"  # read as names
    assert "no prompt, no hotwords" in names["judge"]
    assert not result["targets_met"]
    report = format_holdout(result)
    assert "missed: zf_a+zf_b clean: " + courier in report and "set: holdout; subset: True" in report


def test_the_unseen_set_is_its_own(fake_turn):
    from dabai.core.errors import ConfigError
    from dabai.gate.speech_bench import HoldoutOptions, judge_options, run_holdout
    from dabai.speech.bench import bench_data

    unseen = bench_data()["holdout_unseen"]
    result = run_holdout(HoldoutOptions(voices=("zf_a+zf_b",), conditions=("clean",), phrasing_set="unseen",
                                        phrasings=2, non_entry=2), log=lambda *a: None)
    assert result["held_out"]["set"] == "unseen" and result["held_out"]["phrasings"] == unseen["entry"][:2]
    assert result["entry_clips"] == 2 and result["non_entry_clips"] == 4 and result["held_out"]["subset"]
    assert [r["name"] for r in result["names"]["rows"]] == list(unseen["names"])
    with pytest.raises(ConfigError, match="unknown phrasing set 'other'"):
        run_holdout(HoldoutOptions(phrasing_set="other"), log=lambda *a: None)
    judge = judge_options(HoldoutOptions())
    assert (judge.prompt, judge.hotwords, judge.window_s, judge.beam_size, judge.vad, judge.max_tokens_per_second) \
        == ("", "", 30.0, 5, False, 0.0)  # faster-whisper's own decoding: none of the gate's settings


def test_rescore_decides_again_on_the_saved_transcripts(fake_turn, tmp_path, capsys):
    import json

    from dabai.core.errors import ConfigError
    from dabai.gate.speech_bench import HoldoutOptions, rescore_holdout, run_holdout

    partial = tmp_path / "run.partial.json"
    result = run_holdout(HoldoutOptions(voices=("zf_a+zf_b",), conditions=("clean",), names=False, phrasings=2,
                                        non_entry=3), log=lambda *a: None, partial=partial)
    saved = json.loads(json.dumps(result, ensure_ascii=False))
    assert not result["misses"]
    saved["details"]["entry"][0]["heard"] = "今天天气真不错"  # as if the ASR had heard this instead
    again = rescore_holdout(saved)
    assert again["held_out"]["rescored"] and again["held_out"]["complete"]
    assert again["entry_clips"] == result["entry_clips"] and len(again["misses"]) == len(result["misses"]) + 1
    assert again["asr_rtf"] == result["asr_rtf"] and again["false_accepts"] == result["false_accepts"]
    written = json.loads(partial.read_text(encoding="utf-8"))  # the partial file, written as clips are heard
    part = rescore_holdout(written)
    assert part["entry_recognised"] == result["entry_recognised"] and not part["held_out"]["complete"]
    assert part["non_entry_clips"] == result["non_entry_clips"] and list(part["per_voice"]) == ["zf_a+zf_b"]
    written["voices_done"] = []  # stopped inside the first voice: only whole voices count
    assert rescore_holdout(written)["entry_clips"] == 0
    missed = tmp_path / "missed.json"
    missed.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
    saved["asr"] = {"prompt": "另一个提示", "hotwords": ""}
    with pytest.raises(ConfigError, match="transcribed with ASR prompt/hotwords"):
        rescore_holdout(saved)
    with pytest.raises(ConfigError, match="not a held-out benchmark result"):
        rescore_holdout({"intents": []})
    out = tmp_path / "result.json"
    out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    import argparse

    from dabai.cli.bench import _run_speech as run_bench_command
    from dabai.cli.bench import add_speech_bench_arguments

    parser = argparse.ArgumentParser()
    add_speech_bench_arguments(parser)
    assert run_bench_command(parser.parse_args(["--holdout", "--rescore", str(out)])) == 0  # every target met
    assert run_bench_command(parser.parse_args(["--holdout", "--rescore", str(missed)])) == 1  # one entry missed
    printed = capsys.readouterr().out
    assert "rescored with the current grammar" in printed
    assert "checks against the audio" in printed and "were not repeated" in printed  # text decisions only
    from dabai.core.errors import DataError

    with pytest.raises(DataError, match="expected a JSON object"):
        run_bench_command(parser.parse_args(["--holdout", "--rescore", str(bad)]))


def test_text_scores_name_the_sets_and_the_misses(tmp_path):
    from dabai.gate.speech_bench import format_text_scores, score_text

    grammar = tmp_path / "g.yaml"
    grammar.write_text("intents:\n  enter:\n    phrases: [开一下门]\n", encoding="utf-8")
    scores = score_text("holdout", grammar)
    assert set(scores) == {"holdout", "intent_tuning"}
    held = scores["holdout"]
    assert held["entry"] == 8 and held["non_entry"] == 16 and held["entry_recognised"] < 8
    assert len(held["misses"]) == held["entry"] - held["entry_recognised"]
    report = format_text_scores(scores)
    assert "| holdout | " in report and "missed (holdout): " in report


def test_an_unsure_turn_is_asked_again_and_counted(fake_turn):
    from dabai.gate.speech_bench import HoldoutOptions, format_holdout, run_holdout

    result = run_holdout(HoldoutOptions(voices=("zf_a+zf_b",), conditions=("clean",), names=False, phrasings=1,
                                        non_entry=1), log=lambda *a: None)
    entry, other = result["details"]["entry"][0], result["details"]["non_entry"][0]
    # a request heard unsure, then clearly: asked again, taken on the second try
    assert entry["reask"] and not entry["entry"] and entry["accepted"] and entry["retry_heard"] == "大白开门"
    assert result["entry_recognised"] == 1.0 and result["entry_first_try"] == 0.0 and result["entry_reasks"] == 1
    # a non-entry sentence heard as 大白提开门 both times: never taken (the rule before would have opened)
    assert other["reask"] and not other["accepted"] and other["heard_intent"] == "enter"
    assert result["false_accepts"] == 0 and result["non_entry_reasks"] == 1
    assert result["before_reask_rule"] == {"entry_recognised": 1.0, "false_accepts": 1}
    assert "asked again: zf_a+zf_b clean: 大白，我要出去买菜。" in format_holdout(result)


@pytest.mark.parametrize("name", sorted(__import__("dabai.gate.speech_bench", fromlist=["SETS"]).SETS))
def test_every_held_out_set_is_complete(name):
    """Each --set names a bench.yaml set with entry requests, other sentences, and (where it has names) one tonal
    syllable per character of each name."""
    import re

    from dabai.gate.speech_bench import SETS
    from dabai.speech.bench import bench_data

    data = bench_data()[SETS[name]]
    entry = data["entry"] if isinstance(data["entry"], list) else [s for v in data["entry"].values() for s in v]
    assert entry and data["non_entry"]
    assert not set(entry) & set(data["non_entry"])
    for person, reading in (data.get("names") or {}).items():
        syllables = reading.split()
        assert len(syllables) == len(person), (person, reading)
        assert all(re.fullmatch(r"[a-zü]+[1-5]", s) for s in syllables), (person, reading)
