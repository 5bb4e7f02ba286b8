"""What the audio says of a transcript (issue 17, session 15): sound-alike matches checked against the audio,
and an unsure sound before a request taken as a lost negator only where the audio allows one.

The ``Hearing`` here is synthetic (a table of character probabilities per text); the real one is Whisper
teacher-forced through the text (``Recognizer.hearing``, tested in test_asr.py with the pack installed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

pytest.importorskip("pypinyin", reason="needs the speech extra")

from dabai.core.errors import ConfigError
from dabai.speech.intent import (
    NONE,
    NOT_SAID,
    SAID,
    UNCLEAR,
    UNSURE,
    compile_grammar,
    confirm_heard,
    load_grammar,
    negator_fits,
    recognize_intent,
)
from dabai.speech.pinyin import han_chars, read_digits, replace_han, substitutions, syllables


class FakeHearing:
    """The transcript's own characters get ``own[char]`` (default 0.9); a character put in another's place gets
    ``said[char]`` (default 0.001). Records the texts it was asked about."""

    def __init__(self, transcript: str, said: dict[str, float] | None = None, own: dict[str, float] | None = None,
                 unknown: bool = False):
        self.transcript = han_chars(transcript)
        self.said, self.own = said or {}, own or {}
        self.unknown = unknown
        self.asked: list[str] = []

    def __call__(self, text: str):
        self.asked.append(text)
        if self.unknown:
            return None
        return [self.own.get(a, 0.9) if a == b else self.said.get(a, 0.001)
                for a, b in zip(han_chars(text), self.transcript)]


@pytest.mark.parametrize("phrase, span, expected", [
    ("开一下门", "开一项门", [(2, 2)]),  # xia heard as xiang
    ("把门打开", "把灯打开", [(1, 1)]),
    ("开下门", "开下门", []),  # identical: nothing by sound
    ("开一下们", "开一下门", []),  # homophones are identical syllables
    ("让我进去", "让我们进去", []),  # an inserted syllable is no substitution
    ("请开门", "开门", []),  # a deleted one neither
])
def test_substitutions_are_the_syllables_matched_by_sound(phrase, span, expected):
    assert substitutions(syllables(phrase), syllables(span)) == expected


def test_replace_han_keeps_punctuation_and_reads_digits():
    assert read_digits("3号楼，开门") == "三号楼，开门"
    assert replace_han("大白，把灯打开。", {3: "门"}) == "大白，把门打开。"
    assert replace_han("3号楼开一项门", {5: "下"}) == "三号楼开一下门"


def test_a_sound_alike_phrase_the_audio_supports_is_taken():
    # 开一下门 in noise (holdout_s14b), one clause; its 我是 made 这是, since 我是…的 explains itself (session 16)
    text = "大白这是物业新来的宝节请开一项门。"
    assert recognize_intent(text).intent == NONE  # by sound alone: 项 for 下 and two unexplained words
    hearing = FakeHearing(text, {"下": 0.6})  # the audio finds 下 two thirds as probable as 项
    match = recognize_intent(text, hearing=hearing)
    assert match.intent == "enter"
    check = next(c for c in match.checks if c.phrase.endswith("开一下门"))
    assert check.verdict == SAID and check.heard.endswith("开一项门") and check.said.endswith("开一下门")
    assert check.checked_score > check.score


def test_a_sound_alike_phrase_the_audio_refutes_is_dropped():
    text = "大白，天黑了，记得把灯打开。"  # holdout_s14b's text false accept: 把灯打开 for 把门打开 by sound
    assert recognize_intent(text).intent == "enter"
    match = recognize_intent(text, hearing=FakeHearing(text))  # 门 there: 0.001 against 灯's 0.9
    assert match.intent == NONE
    assert any(c.verdict == NOT_SAID and c.checked_score == 0.0 for c in match.checks)


def test_between_the_ratios_the_sound_cost_stands():
    text = "大白这是物业新来的宝节请开一项门。"
    grammar = load_grammar()
    unsure = recognize_intent(text, hearing=FakeHearing(text, {"下": 0.9 * grammar.spec.said_ratio * 0.5}))
    assert unsure.intent == NONE
    check = next(c for c in unsure.checks if c.phrase.endswith("开一下门"))
    assert check.verdict == UNSURE and check.checked_score == pytest.approx(check.score)


def test_no_checks_without_audio_or_when_switched_off():
    text = "大白，天黑了，记得把灯打开。"
    off = compile_grammar(replace(load_grammar().spec, verify_from=0.0))
    hearing = FakeHearing(text)
    assert recognize_intent(text, off, hearing).intent == "enter" and hearing.asked == []
    assert recognize_intent(text).checks == ()


def test_audio_that_cannot_tell_leaves_the_sound_match():
    text = "大白，天黑了，记得把灯打开。"
    match = recognize_intent(text, hearing=FakeHearing(text, unknown=True))
    assert match.intent == "enter" and match.checks == ()


def test_checks_are_capped_per_turn():
    text = "大白，我是物业新来的宝节，请开一项门。"
    for cap in (0, 1, 2):
        grammar = compile_grammar(replace(load_grammar().spec, max_checks=cap))
        assert len(recognize_intent(text, grammar, FakeHearing(text)).checks) <= cap


def test_an_exact_phrase_is_never_checked():
    text = "大白，请开一下门"
    hearing = FakeHearing(text)
    match = recognize_intent(text, hearing=hearing)
    assert match.intent == "enter" and not any(c.phrase == "请开一下门" for c in match.checks)


@pytest.mark.parametrize("transcript, unsure_char, negator_said, expected", [
    ("大白，提开门", "提", 0.2, UNCLEAR),  # 别 fits where 提 was heard: maybe 别开门, ask again
    ("大白，提开门", "提", 0.0001, "enter"),  # no negator fits there: the request stands
    ("夜主让我上去", "主", 0.0001, "enter"),  # 业主让我上去 with 主 unsure (holdout_s14)
])
def test_an_unsure_sound_asks_again_only_where_a_negator_fits(transcript, unsure_char, negator_said, expected):
    match = recognize_intent(transcript)
    assert match.intent == "enter" and match.unexplained_before
    probability = [0.1 if ch == unsure_char else 0.9 for ch in han_chars(transcript)]
    hearing = FakeHearing(transcript, {n: negator_said for n in "不别没甭"}, own={unsure_char: 0.1})
    assert confirm_heard(match, probability, hearing=hearing).intent == expected
    assert confirm_heard(match, probability).intent == UNCLEAR  # without the audio: asked again, as before


def test_negator_fits_is_true_when_the_audio_cannot_tell():
    assert negator_fits("大白，提开门", [2], FakeHearing("大白，提开门", unknown=True), load_grammar())


def test_negator_ratio_zero_keeps_the_rule_before_session_15():
    grammar = compile_grammar(replace(load_grammar().spec, negator_ratio=0.0))
    match = recognize_intent("大白，提开门", grammar)
    probability = [0.1 if ch == "提" else 0.9 for ch in han_chars(match.text)]
    assert confirm_heard(match, probability, grammar, FakeHearing(match.text)).intent == UNCLEAR


@pytest.mark.parametrize("transcript, expected", [
    ("我在等外卖普通开门。", UNCLEAR),  # 不用开门 in 10 dB white noise (holdout_s24): 普 is noise's 不
    ("大白，撇开门", UNCLEAR),  # 别 with the aspirated initial
    ("大白，提开门", "enter"),  # no negator's sound: the usual check (sure here, so the request stands)
])
def test_a_negator_s_sound_before_a_request_asks_again_however_sure(transcript, expected):
    """Session 20, read off holdout_s24: an unexplained 普 (pu) before a request asks again even when Whisper
    was sure of it and the audio gives 不 almost nothing there (0.0047 against 普's 0.48 in that clip)."""
    match = recognize_intent(transcript)
    assert match.intent == "enter" and match.unexplained_before
    sure = [0.9] * len(han_chars(transcript))
    hearing = FakeHearing(transcript)  # every negator put there: 0.001 of the heard sound's 0.9
    assert confirm_heard(match, sure, hearing=hearing).intent == expected
    before = compile_grammar(replace(load_grammar().spec, negator_sounds=[]))  # the rule before session 20
    assert confirm_heard(match, sure, before, hearing).intent == "enter"


def test_negator_sounds_are_single_characters():
    with pytest.raises(ConfigError, match="negator_sounds: '普通' is not one Chinese character"):
        compile_grammar(replace(load_grammar().spec, negator_sounds=["普通"]))


@pytest.mark.parametrize("key, value, words", [
    ("negator_ratio", 1.5, "negator_ratio must be in [0, 1]"),
    ("said_ratio", -0.1, "said_ratio must be in [0, 1]"),
    ("max_checks", -1, "max_checks must be 0 or more"),
    ("not_said_ratio", 0.9, "not_said_ratio (0.9) must not exceed said_ratio"),
])
def test_bad_check_settings_are_refused_by_name(key, value, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        compile_grammar(replace(load_grammar().spec, **{key: value}))


def test_an_elided_request_heard_as_written_does_not_stop_checking_the_whole_one():
    """大白帮个忙我手里提着东西法门开一下 (holdout_s19, white noise): 开一下 after 门 is an elided request heard as written,
    but 把门开一下 heard by sound (法门) explains more of the turn; it is still the one checked (session 19)."""
    text = "大白帮个忙我手里提着东西法门开一下"
    grammar = load_grammar()
    hearing = FakeHearing(text, said={"把": 0.5})
    match = recognize_intent(text, grammar, hearing)
    assert [c.phrase for c in match.checks][:1] == ["把门开一下"] and match.checks[0].verdict == SAID
    assert match.intent == "enter" and match.phrase == "把门开一下"
