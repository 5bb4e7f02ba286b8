from __future__ import annotations

import pytest

from dabai.core.errors import ConfigError
from dabai.speech.intent import load_grammar, recognize_intent
from dabai.speech.pinyin import align, cost, split, syllables


def test_syllables_and_fuzzy_costs():
    assert syllables("二维码，OK 2") == ("er", "wei", "ma", "er")
    assert cost("ma", "ma") == 0 and cost("zhi", "zi") < 0.2 and cost("lin", "ling") < 0.2
    assert cost("ma", "ba") < cost("ma", "da") < cost("ma", "man") < cost("ma", "xiong") == 1.0
    assert cost("wo", "huo") < 0.3  # wo is spelled for uo: only the initial differs
    assert split("qu") == ("q", "v") and split("yu") == ("", "v")  # qu and yu are qü, ü


def test_align_finds_phrase_inside_text():
    score, start, end = align(syllables("进入小区"), syllables("你好大白请让我进入小区吧"))
    assert score == 1.0 and (start, end) == (7, 11)
    assert align(syllables("进入小区"), syllables("今天天气"))[0] < 0.5


@pytest.mark.parametrize("text,intent", [
    ("你好大白，请让我进入小区。", "enter"),
    ("你好大白,请让我进入小曲", "enter"),          # ASR homophone 小曲 for 小区
    ("大白，我回来了，开门", "enter"),
    ("大白你好，让我进去吧", "enter"),
    ("开门让我出去", "leave"),
    ("你好，我是来送快递的", "courier"),
    ("大白你好，我是访客，我来找人", "visitor"),
    ("请叫保安", "help"),
    ("今天天气真不错", "none"),
    ("我昨天在小区门口看到一只猫", "none"),
    ("他开门出去了以后一直没有回来", "none"),
    ("广州市房地产中介协会分析", "none"),
    ("", "none"),
    ("hello", "none"),
])
def test_recognize(text, intent):
    match = recognize_intent(text)
    assert match.intent == intent, match
    assert 0.0 <= match.confidence <= 1.0
    assert set(match.scores) == {"enter", "leave", "visitor", "courier", "help"}


def test_homophone_of_qr_code_does_not_break_matching(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("intents:\n  show_pass:\n    phrases: [这是我的二维码]\n", encoding="utf-8")
    grammar = load_grammar(path)
    assert recognize_intent("这是我的二维马", grammar).intent == "show_pass"


@pytest.mark.parametrize("body,message", [
    ("intents:\n  enter:\n    phrase: [进去]\n", "unknown key 'intents.enter.phrase'"),
    ("intents:\n  none:\n    phrases: [进去]\n", "reserved"),
    ("intents:\n  enter:\n    phrases: []\n", "phrases is empty"),
    ("intents:\n  enter:\n    phrases: [hello]\n", "no Chinese"),
    ("threshold: 2\nintents:\n  enter:\n    phrases: [进去]\n", "threshold must be"),
    ("intents: {}\n", "at least one intent"),
    ("intents: [\n", "not valid YAML"),
])
def test_bad_grammar_files_name_the_problem(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_grammar(path)
    assert "bad.yaml" in str(info.value)


def test_one_decision_rule_for_recognition_and_adapt():
    """`dabai asr adapt` tunes threshold and margin with the very rule recognition uses: an intent and the one
    it refines (visitor / enter) are not rivals, so a visitor's request close to 'enter' is still accepted."""
    from dabai.speech.intent import NONE, decide_intent, load_grammar, recognize_intent, score_intents

    grammar = load_grammar()
    refines = {name: spec.refines for name, spec in grammar.spec.intents.items() if spec.refines}
    assert refines, "the shipped grammar has refining intents (visitor -> enter)"
    fine, coarse = next(iter(refines.items()))
    close = {fine: 0.80, coarse: 0.79}
    assert decide_intent(close, grammar, threshold=0.6, margin=0.05) == fine  # same family: no rival
    others = [n for n in grammar.spec.intents if n not in (fine, coarse) and refines.get(n) not in (fine, coarse)]
    assert decide_intent({fine: 0.80, others[0]: 0.79}, grammar, threshold=0.6, margin=0.05) == NONE
    for text in ("你好大白，我是来访的客人，请让我进小区。", "大白，请开门让我进去", "大白，别开门", "今天天气不错"):
        assert decide_intent(score_intents(text, grammar)[0], grammar) == recognize_intent(text, grammar).intent
