"""The spoken re-ask rule (issue 17, session 11): a request with an unsure, unexplained sound where a negation
would stand is "unclear" (asked again), never taken. Synthetic ASR results; the real clips: docs/benchmarks.md."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

pytest.importorskip("pypinyin", reason="needs the speech extra")

from dabai.core.errors import ConfigError
from dabai.speech.intent import (
    NONE,
    UNCLEAR,
    compile_grammar,
    confirm_heard,
    load_grammar,
    recognize_intent,
)


def probs(text: str, low: dict[str, float] | None = None, rest: float = 0.95) -> list[float]:
    """One probability per Chinese character of ``text``: ``rest``, or ``low[char]``."""
    from dabai.speech.pinyin import han_chars

    return [(low or {}).get(ch, rest) for ch in han_chars(text)]


@pytest.mark.parametrize("heard", ["大白，提开门", "大白比开门，外面有陌生人", "大白，低开门", "大仔提开门"])
def test_an_unsure_sound_where_a_negation_would_stand_is_asked_again(heard):
    match = recognize_intent(heard)
    assert match.intent == "enter" and match.unexplained_before  # the rule before session 11 opened here
    unsure = probs(heard, {ch: 0.2 for ch in "提比低仔"})
    assert confirm_heard(match, unsure).intent == UNCLEAR
    assert confirm_heard(match, None).intent == UNCLEAR  # probabilities unknown: unsure too


def test_a_sure_sound_there_is_taken():
    match = recognize_intent("大白，立刻开门")
    assert match.intent == "enter" and match.unexplained_before == (2, 3)  # 立刻: not in the grammar
    assert confirm_heard(match, probs(match.text)).intent == "enter"  # heard for sure: 立刻 is no lost 别
    assert confirm_heard(match, probs(match.text, {"刻": 0.09})).intent == UNCLEAR  # 比 for 别 came back at 0.09


def test_only_the_negation_window_counts():
    match = recognize_intent("大白，开门")  # nothing unexplained before the phrase
    assert match.unexplained_before == ()
    everything_unsure = probs(match.text, rest=0.05)
    assert confirm_heard(match, everything_unsure).intent == "enter"
    clause = recognize_intent("我是三栋的业主，开一下门")  # another clause before it: not its negation window
    assert clause.intent == "enter" and confirm_heard(clause, probs(clause.text, rest=0.05)).intent == "enter"


def test_a_negation_heard_stays_a_refusal_and_none_stays_none():
    for text in ("大白，别开门", "今天天气真不错"):
        match = recognize_intent(text)
        assert match.intent == NONE and confirm_heard(match, None).intent == NONE


def test_unclear_below_zero_is_the_old_rule_and_the_value_is_checked():
    grammar = load_grammar()
    old = compile_grammar(replace(grammar.spec, unclear_below=0.0))
    match = recognize_intent("大白，提开门", old)
    assert confirm_heard(match, None, old).intent == "enter"
    with pytest.raises(ConfigError, match="unclear_below must be a probability"):
        compile_grammar(replace(grammar.spec, unclear_below=1.5))
    with pytest.raises(ConfigError, match="intents.unclear is reserved"):
        compile_grammar(replace(grammar.spec, intents={**grammar.spec.intents,
                                                       "unclear": grammar.spec.intents["enter"]}))


class FakeWhisper:
    """Stands in for the Whisper passes: the decode's segments, and per-character probabilities of forced
    passes (what Recognizer.hearing reads): the transcript's own, and for another text the transcript's
    characters where they stand and ``others[char]`` (default 0.001) for a character put in another's place."""

    def __init__(self, words: list[tuple[str, float]], others: dict[str, float] | None = None):
        self.words, self.others, self.calls = words, others or {}, []

    def decode(self, audio):
        self.calls.append("decode")
        return [SimpleNamespace(text="".join(w for w, _ in self.words), avg_logprob=-0.4)]

    def hearing(self, audio):
        from dabai.speech.pinyin import han_chars

        own = "".join(w for w, _ in self.words).replace(",", "，")
        mine = [p for w, p in self.words for _ in han_chars(w)]

        def hear(text):
            self.calls.append("forced" if text == own else f"forced:{text}")
            return [p if a == b else self.others.get(a, 0.001) for a, b, p in zip(han_chars(text), han_chars(own), mine)]

        return hear


def recognizer_hearing(monkeypatch, words, others=None):
    from dabai.speech.asr import ASROptions, Recognizer

    rec = object.__new__(Recognizer)
    rec.options, rec.grammar = ASROptions(), load_grammar()
    fake = FakeWhisper(words, others)
    monkeypatch.setattr(rec, "_decode", fake.decode)
    monkeypatch.setattr(rec, "hearing", fake.hearing)
    return rec, fake


def audio():
    import numpy as np

    from dabai.audio.io import Audio

    return Audio(np.zeros(16000, np.float32), 16000)


def test_the_recognizer_asks_whisper_how_sure_it_was(monkeypatch):
    pytest.importorskip("zhconv", reason="needs the speech extra")
    words = [("大白", 0.9), ("，", 0.9), ("提", 0.18), ("开门", 0.93)]
    rec, fake = recognizer_hearing(monkeypatch, words, others={"别": 0.05})  # 别 fits where 提 was heard
    t = rec.transcribe(audio())
    assert t.text == "大白，提开门" and t.heard_intent == "enter"
    assert t.intent == UNCLEAR and t.unsure_probability == pytest.approx(0.18)
    assert fake.calls[:2] == ["decode", "forced"]  # the forced pass only for this request
    assert "forced:大白，别开门" in fake.calls  # the negator put in the unsure sound's place
    assert t.to_dict()["heard_intent"] == "enter"
    # the same sound where no negator fits (session 15): the request is taken
    rec, fake = recognizer_hearing(monkeypatch, words)
    t = rec.transcribe(audio())
    assert t.intent == "enter" and t.unsure_probability == pytest.approx(0.18)
    assert {"forced:大白，不开门", "forced:大白，别开门", "forced:大白，没开门"} <= set(fake.calls)


def test_the_recognizer_takes_a_clear_request_with_one_decode(monkeypatch):
    pytest.importorskip("zhconv", reason="needs the speech extra")
    rec, fake = recognizer_hearing(monkeypatch, [("大白", 0.9), ("，", 0.9), ("开门", 0.2)])
    t = rec.transcribe(audio())
    assert t.intent == "enter" and t.unsure_probability is None and fake.calls == ["decode"]
    rec, fake = recognizer_hearing(monkeypatch, [("大白", 0.9), ("，", 0.9), ("立刻", 0.97), ("开门", 0.9)])
    t = rec.transcribe(audio())
    assert t.intent == "enter" and t.unsure_probability == pytest.approx(0.97) and fake.calls == ["decode", "forced"]


@pytest.mark.slow
def test_whisper_reports_how_sure_it_was_of_each_character(recognizer, say):
    from dabai.speech.pinyin import han_chars

    clip = say("大白，立刻开门。")
    t = recognizer.transcribe(clip)
    probability = recognizer.char_probabilities(clip, t.text)
    assert probability is not None and len(probability) == len(han_chars(t.text))
    assert all(0.0 <= p <= 1.0 for p in probability) and max(probability) > 0.9
    # how sure Whisper was of 立刻 (not in the grammar) is recorded, and decides
    assert t.heard_intent == "enter" and t.unsure_probability is not None
    assert t.intent == ("enter" if t.unsure_probability >= recognizer.grammar.spec.unclear_below else "unclear")
    assert recognizer.char_probabilities(clip, "") is None


PROMPT, HOTWORDS = "以下是普通话的句子。", "大白，小区，二维码"


@pytest.mark.parametrize("heard,echo", [
    ("大白，小区，二维码以下是普通话的句子。", True),  # Whisper base over 10 dB white noise (holdout runs)
    ("大白，小区，小区，小区，小区，小区", True),       # ... and its repeated hotwords
    ("二维码以下是普通话的句子", True),
    ("大白", True),                                     # the wake word alone: nothing asked yet
    ("大白，二维码以下是普通话的。", True),             # cut short and a hotword left out (holdout_s27, 10 dB white)
    ("大白，小区，维码以下是普通话的句子。", True),     # a piece cut at both ends (holdout_s27)
    ("以下是普通话的句子大白", True),                   # in any order
    ("大白，小区，二维码以下是普通话的。请开门", False), # an echo, then speech: decided on what was said
    ("大白，二维码的", False),                          # a one-character piece (的) is no echo
    ("小区", True),
    ("大白，开门", False),
    ("小区几点开门？", False),
    ("今天天气真不错。", False),
    ("", False),                                        # silence stays silence
])
def test_the_prompts_echo_is_recognised(heard, echo):
    from dabai.speech.intent import echoes_prompt

    assert echoes_prompt(heard, PROMPT, HOTWORDS) is echo


def test_an_echo_is_asked_again_and_a_request_or_chatter_is_not_touched():
    from dabai.speech.intent import heard_turn

    echo = recognize_intent("大白，小区，二维码以下是普通话的句子。")
    assert echo.intent == NONE and heard_turn(echo, PROMPT, HOTWORDS).intent == UNCLEAR
    for text in ("大白，开门", "今天天气真不错。"):
        match = recognize_intent(text)
        assert heard_turn(match, PROMPT, HOTWORDS) == match
    other_prompt = "以下是对话。"  # the echo is of the prompt actually used
    assert heard_turn(echo, other_prompt, HOTWORDS).intent == NONE


def test_the_recognizer_asks_again_when_only_its_prompt_came_back(monkeypatch):
    pytest.importorskip("zhconv", reason="needs the speech extra")
    rec, fake = recognizer_hearing(monkeypatch, [("大白，小区，二维码", 0.9), ("以下是普通话的句子。", 0.9)])
    t = rec.transcribe(audio())
    # decoded once more without prompt and hotwords (session 16); that decode echoes too, so nothing was heard
    assert t.intent == UNCLEAR and t.heard_intent == NONE and fake.calls == ["decode", "decode"]
    assert not t.decoded_without_prompt
