"""Entry requests phrased as no grammar phrase is, and the sentences a gate must not open for.

The phrasings are ``intent_tuning`` (and the earlier sets) of ``speech/data/bench.yaml``: the ones the
recogniser was tuned on, and since session 12 the held-out sets whose results were read while changing it
(``holdout_unseen``, ``holdout_fresh``, ``holdout_s12``): as text they now guard against regressions.
``holdout_s12b`` is deliberately not tested here: it judged the grammar (``dabai bench speech --holdout
--set s12b``); nor is ``holdout_s14b``, whose one text false accept (记得把灯打开, heard as 把门打开) is
left standing, measured (docs/benchmarks.md, session 14), nor ``holdout_s17b`` and ``holdout_s18b``, which
judged session 16.
"""

from __future__ import annotations

import pytest

from dabai.core.errors import ConfigError
from dabai.gate.config import GateConfig
from dabai.gate.decision import is_entry_request
from dabai.speech.bench import bench_data
from dabai.speech.intent import load_grammar, recognize_intent
from dabai.speech.pinyin import expand_alternatives, han_syllables

pytest.importorskip("pypinyin", reason="needs the speech extra")

_DATA = bench_data()
_READ = ("intent_tuning", "holdout", "holdout_unseen", "holdout_fresh", "holdout_s12", "holdout_s14", "holdout_s15",
         "holdout_s15b", "holdout_s16", "holdout_s17", "holdout_s18",  # s15b-s18 read in session 16
         "holdout_s19", "holdout_s20",  # read in session 17
         "holdout_s21", "holdout_s22", "holdout_s23",  # read in session 19
         "holdout_s24", "holdout_s25", "holdout_s26",  # read in session 20 (s24 judged in session 19)
         "holdout_s27", "holdout_s28", "holdout_s29")  # read in session 21
# holdout_s15's one text false accept is a sound-alike (员进去 matched 我进去 by sound), which only the audio can
# refute (speech.md, "What the audio says"); it is left out here as holdout_s14b's 记得把灯打开 is. holdout_s16's
# 我先回家了，明天见 (我先回家 for 我要回家, then 了) is a text false accept left standing: spoken, it got through in
# none of its clips (benchmarks.md, session 15). holdout_s25's 我在这儿等朋友，不进去 matches 我住这儿 by sound as
# text (在 for 住); spoken, the audio refuted 住 in all 8 of its clips (session 20)
_SOUND_ALIKES = {"那个快递员进去很久了。", "我先回家了，明天见。", "我在这儿等朋友，不进去。"}
ENTRY = [text for name in _READ for text in _DATA[name]["entry"]]
OTHER = [text for name in _READ for text in _DATA[name]["non_entry"] if text not in _SOUND_ALIKES]


@pytest.mark.parametrize("text", ENTRY)
def test_tuning_entry_requests_are_entry_requests(text):
    match = recognize_intent(text)
    assert is_entry_request(match.intent, GateConfig()), match


@pytest.mark.parametrize("text", OTHER)
def test_tuning_other_sentences_are_not(text):
    match = recognize_intent(text)
    assert not is_entry_request(match.intent, GateConfig()), match


@pytest.mark.parametrize("text,intent", [
    ("大白，开下门吧", "enter"),
    ("不要开门", "none"),                      # negated right before the phrase
    ("我不进去", "none"),                      # negated inside it
    ("部要开门", "none"),                      # a homophone of 不 negates too: negators match by sound
    ("我没带卡开下门", "enter"),                # 没 negates 带, not 开下门 three syllables on
    ("大白，能不能开一下门？", "enter"),        # 能不能 asks for a yes, it negates nothing
    ("不好意思，麻烦开一下门", "enter"),        # 不好意思 is politeness
    ("小区几点开门？", "none"),                # asked about
    ("昨天有人帮我开了门", "none"),            # told as past (and another day)
    ("你好，我来找三号楼的王阿姨", "visitor"),  # who and where explain the rest of the sentence
    ("我不出去", "none"),
    ("我要出去", "leave"),
    # session 12
    ("小区急点开门", "none"),                  # question words of two syllables match by sound, like negators
    ("那个，帮我开一下门", "enter"),            # ... one-syllable ones (哪) by character: 那个 asks nothing
    ("大白，门不用开，谢谢", "none"),          # the wake word is no part of a phrase (大 of 大白 + 门 + 开 ≠ 打开门)
    ("门开着吗", "none"),                      # 着: a state, not a request
    ("我送快递的，开一下门", "courier"),        # a courier's phrase explains the rest of an enter request, and
                                               # the finer intent of the family wins a tie
    ("我是访客，让我进去", "visitor"),          # ... and an enter phrase the rest of a visitor's
    ("你好，我就问一下路", "none"),
    ("别给陌生人开门", "none"),                # a negator leading a coverb (给) negates the request it leads to
    ("不帮他开门", "none"),
    ("我没带卡开下门", "enter"),                # ... and without a coverb, the window stays two syllables
    ("他是来找人的吗？", "none"),              # 的吗 asks whether something is so, like 了吗
    ("你好，我是来送快递的，开下门吧", "courier"),
    # session 14 (read off holdout_s14): being let up is being let in
    ("大白，业主让我上去", "enter"),
    ("客户让我们上去搬东西", "enter"),
    ("不要让他上楼", "none"),                  # negated through the coverb 让
    ("快递员上去了吗？", "none"),              # asked about
])
def test_guards_and_context(text, intent):
    assert recognize_intent(text).intent == intent


def test_homophones_still_count_inside_the_new_phrasings():
    assert recognize_intent("大白，麻烦开一下们").intent == "enter"   # 们 for 门
    assert recognize_intent("我是来送快第的").intent == "courier"      # 快第 for 快递


def test_alternatives_expand_and_bad_ones_are_named():
    assert expand_alternatives("开[一下|下|]门") == ["开一下门", "开下门", "开门"]
    assert expand_alternatives("[让|放]我进[去|来]") == ["让我进去", "让我进来", "放我进去", "放我进来"]
    for bad in ("开[一下门", "开一下]门", "开[[a|b]]门"):
        with pytest.raises(ValueError, match="unmatched|outside"):
            expand_alternatives(bad)
    with pytest.raises(ValueError, match="more than 4"):
        expand_alternatives("[a|b|c][d|e]", limit=4)


def test_one_syllable_per_character_even_for_unreadable_ones():
    han, syl = han_syllables("我来找3号楼")
    assert han == "我来找三号楼" and len(syl) == len(han) == 6


@pytest.mark.parametrize("body,message", [
    ("intents:\n  enter:\n    phrases: ['开[一下门']\n", r"phrases\[0\]: '开\[一下门': unmatched"),
    ("context: ['[a-']\nintents:\n  enter:\n    phrases: [开门]\n", r"context\[0\] .* is not a regular expression"),
    ("negation_window: -1\nintents:\n  enter:\n    phrases: [开门]\n", "negation_window must be"),
    ("coverbs: [给他]\nintents:\n  enter:\n    phrases: [开门]\n", "coverbs: '给他' is not one Chinese character"),
    ("modals: [需要]\nintents:\n  enter:\n    phrases: [开门]\n", "modals: '需要' is not one Chinese character"),
])
def test_bad_new_grammar_keys_are_named(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_grammar(path)


@pytest.mark.parametrize("text", ["我不需要你帮我开门", "不用帮我开门", "你不需要给我开门"])
def test_a_negated_modal_verb_negates_the_request_it_leads_to(text):
    assert not is_entry_request(recognize_intent(text).intent, GateConfig())
    no_modals = load_grammar()
    from dataclasses import replace

    from dabai.speech.intent import compile_grammar

    plain = compile_grammar(replace(no_modals.spec, modals=[], coverbs=[]))
    assert recognize_intent(text, plain).intent == "enter"  # the request the negated modal leads to


@pytest.mark.parametrize("text", ["我需要你帮我开门", "我想进去", "我要进小区"])
def test_a_modal_verb_alone_negates_nothing(text):
    assert is_entry_request(recognize_intent(text).intent, GateConfig())


def test_an_explanation_in_another_clause_weighs_less_than_the_request_clause():
    from dataclasses import replace

    from dabai.speech.intent import compile_grammar

    grammar = load_grammar()
    text = "你好，我是房产中介，带客户来看房，请放行。"  # holdout_s15: 请放行 after two clauses of who and why
    old = compile_grammar(replace(grammar.spec, other_clauses_weight=1.0))
    assert recognize_intent(text, old).intent == "none"
    assert recognize_intent(text, grammar).intent == "enter"
    unpunctuated = "你好我是房产中介带客户来看房请放行"  # one clause: every syllable weighs 1, as before
    no_closing = compile_grammar(replace(grammar.spec, closing_request=[]))
    assert recognize_intent(unpunctuated, no_closing).confidence == recognize_intent(unpunctuated, old).confidence
    with pytest.raises(ConfigError, match="other_clauses_weight must be in"):
        compile_grammar(replace(grammar.spec, other_clauses_weight=1.5))


# session 17: Whisper drops most commas (holdout_s19: 大白，帮个忙，我手里提着东西，把门开一下 heard as one clause in
# five of twenty clips); a request that closes the turn is its point, what comes before it is context
@pytest.mark.parametrize("text,with_rule,without", [
    ("大白帮个忙我手里提着东西把门开一下", "enter", "none"),     # the request closes the turn
    ("你好我是房产中介带客户来看房请放行", "enter", "none"),     # holdout_s15's, unpunctuated
    ("大白，帮个忙，我手里提着东西，把门开一下。", "enter", "enter"),  # as written: the comma did it already
    ("门口那个人说他是来送快递的", "none", "none"),           # a statement, not a request: the rule leaves it
    ("大白帮个忙我手里提着东西把门开一下他说的", "none", "none"),  # something unexplained after it: not closing
    ("我手里提着东西别把门开一下", "none", "none"),            # a negated request stays refused
])
def test_a_request_that_closes_the_turn_weighs_what_came_before_as_context(text, with_rule, without):
    from dataclasses import replace

    from dabai.speech.intent import compile_grammar

    grammar = load_grammar()
    assert grammar.spec.closing_request == ["enter"]
    before = compile_grammar(replace(grammar.spec, closing_request=[]))
    assert (recognize_intent(text, grammar).intent, recognize_intent(text, before).intent) == (with_rule, without)


def test_a_turn_already_over_the_bar_keeps_the_phrase_it_was_heard_by():
    """The closing rule only lifts a request short of the bar. Applied to every closing request it made 开个门
    the phrase of 大白１我回来了马甘开个门 (holdout_fresh, 马上 heard 马甘) instead of 我回来了, and the unsure 甘
    before it asked the visitor again (three clips of fresh, one of unseen, replayed in session 17)."""
    from dataclasses import replace

    from dabai.speech.intent import compile_grammar

    grammar = load_grammar()
    before = compile_grammar(replace(grammar.spec, closing_request=[]))
    text = "让我进去吧我手里提着东西把门开一下"  # 让我进去 over the bar (0.75); 把门开一下 closes the turn
    now, then = recognize_intent(text, grammar), recognize_intent(text, before)
    assert now.intent == "enter" and now.phrase == then.phrase == "让我进去"
    assert now.confidence == then.confidence
    # with the bar at 1.0 every request is short of it, and the closing phrase is lifted over the first
    strict = compile_grammar(replace(grammar.spec, threshold=1.0))
    assert recognize_intent(text, strict).phrase == "把门开一下"


# session 17, read off holdout_s20: an adverb inside a request (我得赶紧进去 missed in all twenty clips), and a
# phrase told as done by 已经 before it (那个快递员已经开门进去了, a false accept in six)
@pytest.mark.parametrize("text,now,before", [
    ("大白，我妈一个人在家不舒服，我得赶紧进去。", "enter", "none"),
    ("让我快点进去", "enter", "none"),
    ("我得赶紧进去", "enter", "enter"),          # by sound before (我得进小区, 0.68); as written now
    ("那个快递员已经开门进去了。", "none", "enter"),
    ("那个快地员已经开门进去了。", "none", "enter"),  # as Whisper wrote it; 经开门 must not be 请开门
    ("我已经到门口了，请开门。", "enter", "enter"),  # 已经 in another clause tells nothing of the request
    ("别让他赶紧进去", "none", "none"),            # an adverb inside does not hide a negator before it
])
def test_adverbs_inside_a_request_and_a_request_told_as_done(text, now, before):
    from dataclasses import replace

    from dabai.speech.intent import compile_grammar

    grammar = load_grammar()
    old = compile_grammar(replace(grammar.spec, adverbs=[], past_before=[]))
    assert (recognize_intent(text, grammar).intent, recognize_intent(text, old).intent) == (now, before)


# session 19, read off holdout_s21: a request with its object left out, the door named in the clause before
# (帮我开一下 missed in 20 of its 23 misses); the elided form counts only as written, after its object, and
# closing its clause
S21 = "哈喽大白，我是三楼的邻居，出来倒垃圾，"


@pytest.mark.parametrize("text,now,before", [
    (S21 + "门自己关上了，帮我开一下。", "enter", "none"),
    ("哈罗大白我是三楼的邻居，出来到拉机门自己关上了，帮我开一下。", "enter", "none"),  # as Whisper wrote it
    ("我是三楼的邻居，出来倒垃圾，闸关上了，麻烦打开一下吧，谢谢。", "enter", "enter"),  # more sure now (below)
    (S21 + "门自己关上了，帮我开一下窗户。", "none", "none"),     # another object after it
    (S21 + "门自己关上了，别帮我开一下。", "none", "none"),       # negated
    (S21 + "门自己关上了，谁能帮我开一下？", "none", "none"),     # asked
    (S21 + "门自己关上了，刚才有人帮我开了一下。", "none", "none"),  # told as past
])
def test_a_request_whose_object_was_named_before(text, now, before):
    from dataclasses import replace

    from dabai.speech.intent import compile_grammar

    grammar = load_grammar()
    intents = dict(grammar.spec.intents)
    intents["enter"] = replace(intents["enter"], elided=None)
    old = compile_grammar(replace(grammar.spec, intents=intents))
    assert (recognize_intent(text, grammar).intent, recognize_intent(text, old).intent) == (now, before)


def test_an_elided_request_is_taken_only_as_written_after_its_object():
    from dabai.speech.intent import ElidedSpec, GrammarSpec, IntentSpec, compile_grammar

    spec = GrammarSpec(intents={"enter": IntentSpec(["开门"], elided=ElidedSpec(["门"], ["开一下"]))},
                       fillers=["帮我", "吧"], other_clauses_weight=0.5)
    grammar = compile_grammar(spec)
    assert recognize_intent("门关了，帮我开一下吧", grammar).phrase == "开一下"
    assert recognize_intent("门关了，帮我开一下吧", grammar).intent == "enter"
    assert recognize_intent("门关了，帮我开一项吧", grammar).phrase != "开一下"  # a sound-alike is not the form
    assert recognize_intent("灯关了，帮我开一下吧", grammar).intent == "none"  # no object named: nothing to open
    assert recognize_intent("门关了，帮我开一下灯", grammar).intent == "none"  # it opens something else


@pytest.mark.parametrize("body", [
    "intents:\n  enter:\n    phrases: [开门]\n    elided: {objects: [], phrases: [开一下]}\n",
    "intents:\n  enter:\n    phrases: [开门]\n    elided: {objects: [door], phrases: [开一下]}\n",
    "intents:\n  enter:\n    phrases: [开门]\n    elided: {objects: [门], phrases: []}\n",
])
def test_an_elided_request_needs_objects_and_phrases(tmp_path, body):
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match="intents.enter.elided needs 'objects'"):
        load_grammar(path)


def test_closing_request_names_known_intents():
    from dataclasses import replace

    from dabai.speech.intent import compile_grammar

    with pytest.raises(ConfigError, match="closing_request names unknown intent"):
        compile_grammar(replace(load_grammar().spec, closing_request=["enter", "open_sesame"]))


# session 16: read off holdout_s16 (开门的声音太大了) and holdout_s15b (师傅您好，我是燃气公司的，来检查管道，请开门)
@pytest.mark.parametrize("text,intent", [
    ("开门的声音太大了", "none"),              # 的 + more of the clause: the phrase describes a noun
    ("让我进去的人走了", "none"),
    ("开门的时候小心点", "none"),
    ("大白，开门的", "enter"),                 # 的 ending the clause modifies nothing
    ("我要进去的啊", "enter"),                 # ... nor does one before a final particle
    ("开门的声音太大了，快开门", "enter"),      # the second phrase is a request of its own
    ("我是来送快递的师傅", "courier"),          # a phrase holding its own 的 is not modified by it
])
def test_a_phrase_that_describes_a_noun_is_no_request(text, intent):
    assert recognize_intent(text).intent == intent


def test_without_the_modifier_rule_the_noun_phrase_was_a_request():
    from dataclasses import replace

    from dabai.speech.intent import compile_grammar

    plain = compile_grammar(replace(load_grammar().spec, modifier_after=[]))
    assert recognize_intent("开门的声音太大了", plain).intent == "enter"


@pytest.mark.parametrize("text", [
    "师傅您好，我是燃气公司的，来检查管道，请开门。",
    "师傅您好我是然气公司的来检查管道请开门",          # as Whisper wrote it: no commas, 然 for 燃
    "大白，我是隔壁小区的，过来给朋友送点水果，让我进去一下好吗？",
])
def test_who_the_speaker_says_they_are_explains_itself(text):
    match = recognize_intent(text)
    assert is_entry_request(match.intent, GateConfig()), match
    from dataclasses import replace

    from dabai.speech.intent import compile_grammar

    grammar = load_grammar()
    without = compile_grammar(replace(grammar.spec, context=[c for c in grammar.spec.context if "我是" not in c
                                                              and not c.startswith("^")]))
    assert recognize_intent(text, without).confidence < match.confidence


@pytest.mark.parametrize("text", ["我是燃气公司的，不用开门", "我是三号楼的，门几点关？", "我是三号楼的，别给他开门"])
def test_who_the_speaker_is_opens_nothing_by_itself(text):
    assert not is_entry_request(recognize_intent(text).intent, GateConfig())


@pytest.mark.parametrize("text", ["海大白，我要进去的谢谢。", "我要进去的，谢谢", "开门的大白"])
def test_a_filler_or_wake_word_after_the_de_ends_the_request(text):
    # holdout_fresh in babble, as Whisper wrote it: 的 then 谢谢 with no comma between
    assert is_entry_request(recognize_intent(text).intent, GateConfig())


# session 16, read off holdout_s17
@pytest.mark.parametrize("text,intent", [
    ("门口那个人说他是来送快递的", "none"),     # 他 where the courier phrase has 我: someone else's errand
    ("门口那个人说，他是来送快低点", "none"),
    ("大白，让他进去", "none"),
    ("他说要进来，但是没带口罩", "none"),
    ("你好，来送快递的", "courier"),           # the 你 of a greeting is nobody
    ("你帮我开门", "enter"),                   # 你 beside a 我 that was heard
    ("我是来送快递的", "courier"),
])
def test_a_request_heard_with_another_person_for_me_is_not_the_speakers(text, intent):
    assert recognize_intent(text).intent == intent


@pytest.mark.parametrize("text,intent", [
    ("大白我是新般来的住户，还没办门进卡帮忙开下门。", "enter"),  # 没办 (ban) is no 没帮 (bang)
    ("还没办门禁卡帮忙开下门", "enter"),
    ("别帮他开门", "none"),                                       # 别帮 is
    ("没让他进来", "none"),
])
def test_a_negated_coverb_is_matched_as_written(text, intent):
    assert recognize_intent(text).intent == intent


# session 16, read off holdout_s18
@pytest.mark.parametrize("text,intent", [
    ("大白，我带孩子去打疫苗回来了，让我们进去吧。", "enter"),   # we as well as I
    ("开门的那个保安换人了。", "none"),                        # 那个 after 的 leads to a noun: a filler is no closing
    ("海大白，我要进去的谢谢。", "enter"),                      # ... a closing ends the request
    ("不要让我们进去", "none"),                               # a negator inside an A-不-A phrase's span still negates
    ("别让我们进去", "none"),
    ("大白，能不能让我们进去？", "enter"),                     # ... while 能不能 heard as one asks for a yes
])
def test_holdout_s18_forms(text, intent):
    assert recognize_intent(text).intent == intent


def test_a_lone_full_width_letter_or_digit_marks_a_clause():
    # Whisper base writes one where the speaker paused (大白４我是…): the self-introduction then sits in its own clause
    from dabai.speech.intent import _Guards, load_grammar
    from dabai.speech.pinyin import han_syllables

    text = "大白４我是新来的"
    han, heard = han_syllables(text)
    guards = _Guards(load_grammar(), text, han, heard, [False] * len(heard))
    assert guards.clause[:2] == [0, 0] and guards.clause[2:] == [1] * (len(han) - 2)


@pytest.mark.parametrize("phrase,span,expected", [
    ("我住在这里", "我们在这里", [1]),   # 住 heard as 们: an unrelated sound
    ("我住在这里", "我在这里", [1]),     # 住 left out
    ("我住这里", "我在这里", []),        # 在 for 住 shares its initial (z/zh): by near sound, for the audio to check
    ("开一下门", "开一项门", []),        # 项 for 下: by near sound
    ("开一下门", "开一下了", [3]),
    ("让我进去", "让我们进去", []),      # an inserted syllable loses nothing
])
def test_what_a_match_did_not_hear(phrase, span, expected):
    from dabai.speech.pinyin import lost, syllables

    assert lost(syllables(phrase), syllables(span)) == expected


# session 19, read off holdout_s23: 我们在这里等车 matched 我住在这里 with its verb heard as 们 (8 false accepts)
@pytest.mark.parametrize("text,now,before", [
    ("我们在这里等车。", "none", "enter"),
    ("我们在这里等人", "none", "enter"),
    ("我们住在这里", "enter", "enter"),        # the verb heard: 们 is only an insertion
    ("我就住这里", "enter", "enter"),
    ("还大白我下班回来里开下门吧", "enter", "enter"),  # 了 heard as 里: not a head
])
def test_a_phrase_whose_verb_or_object_was_not_heard_is_not_said(text, now, before):
    from dataclasses import replace

    from dabai.speech.intent import compile_grammar

    grammar = load_grammar()
    old = compile_grammar(replace(grammar.spec, heads=[]))
    assert (recognize_intent(text, grammar).intent, recognize_intent(text, old).intent) == (now, before)


def test_heads_are_one_character_each(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("heads: [进去]\nintents:\n  enter:\n    phrases: [开门]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="heads: '进去' is not one Chinese character"):
        load_grammar(path)
