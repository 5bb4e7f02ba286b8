"""Intent recognition: which request (enter, leave, …) a transcript expresses, or ``none``.

The grammar is YAML (the default ships as ``dabai/speech/data/intents.yaml``;
communities add phrasings there or pass their own file). Matching is by pinyin
(see :mod:`dabai.speech.pinyin`), so it survives ASR homophones::

    >>> recognize_intent("你好大白，请让我进入小区").intent
    'enter'
    >>> recognize_intent("今天天气不错").intent
    'none'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from dabai.core.config import from_dict, load_yaml
from dabai.core.errors import ConfigError
from dabai.speech.pinyin import (
    align,
    cost,
    expand_alternatives,
    find_exact,
    fuzzy,
    han_chars,
    han_syllables,
    lost,
    read_digits,
    replace_han,
    substitutions,
    syllables,
)

NONE = "none"
_PARTICLES = set("吗呢吧嘛")  # sentence-final particles: a question word holding one is matched as written
_FINAL_PARTICLES = _PARTICLES | set("啊呀哦啦嘞哈")  # ... and the ones that only colour a sentence's end
# a spoken request with an unsure sound where a negator or question word would stand (see confirm_heard):
# neither taken nor ignored; the gate asks the visitor to say it again
UNCLEAR = "unclear"
DEFAULT_PROMPT = "以下是普通话的句子。"
# What the audio of a spoken turn says of a text: the probability of each of its Chinese characters (as
# han_chars reads them) with the text teacher-forced through the ASR's decoder; None when it cannot tell.
Hearing = Callable[[str], "Sequence[float] | None"]
SAID, NOT_SAID, UNSURE = "said", "not said", "unsure"


@dataclass(frozen=True)
class ElidedSpec:
    """Requests that leave their object out, having named it earlier in the turn: 门自己关上了，帮我开一下 (session 19,
    read off holdout_s21). Such a phrase counts only where it was heard as written, one of ``objects`` was
    written before it in the turn, and nothing but fillers, closings and final particles follows it in its
    clause (帮我开一下灯 names another object)."""

    objects: list[str]  # what the request may leave out (门, 闸): one of them must come before the phrase
    phrases: list[str]  # the request without its object (开一下), alternatives in brackets as in ``phrases``


@dataclass(frozen=True)
class IntentSpec:
    phrases: list[str]  # ways people say it (Chinese)
    description: str = ""  # what the intent means, for people editing the file
    # a finer kind of another intent (visitor refines enter: a visitor asking to come in). That intent's
    # phrases also explain the rest of this one's sentence (我是访客，让我进去), and the two never compete on
    # the margin: the finer one wins when its phrase is heard.
    refines: str = ""
    elided: ElidedSpec | None = None  # the same request with its object left out (see ElidedSpec)


@dataclass(frozen=True)
class GrammarSpec:
    """The YAML file, field for field."""

    intents: dict[str, IntentSpec]
    version: int = 1
    threshold: float = 0.65  # minimum confidence to accept an intent
    margin: float = 0.05  # the best intent must beat the runner-up by this
    coverage_weight: float = 0.6  # penalty weight of syllables nothing in the grammar explains
    # how much a syllable nothing explains weighs when it is in another clause than the request's (1: as much
    # as in the request's own clause, the rule before session 15)
    other_clauses_weight: float = 1.0
    # Intents whose phrases are requests (让我进去, 把门开一下): such a phrase heard as written (no sound cost) that
    # closes the turn (nothing unexplained after it) and falls short of the threshold is the turn's point, and
    # what comes before it in its clause weighs other_clauses_weight too, as the speaker's context whose comma
    # Whisper dropped (it drops about three in four: 大白帮个忙我手里提着东西把门开一下). Not statements (我是来送快递的
    # closes 门口那个人说他是来送快递的 too). Empty: the rule before session 17.
    closing_request: list[str] = field(default_factory=list)
    asr_prompt: str = DEFAULT_PROMPT  # Whisper initial prompt (neutral; never the expected sentence)
    asr_hotwords: str = ""  # words Whisper should expect (faster-whisper hotwords), e.g. "大白，小区"
    wake_words: list[str] = field(default_factory=list)  # 你好大白 …: explain syllables, never an intent alone
    fillers: list[str] = field(default_factory=list)  # 请, 一下, 吧 …: explain syllables around a phrase
    # adverbs that may stand inside a request phrase without changing it (我得赶紧进去 is 我得进去, 让我快点进去
    # is 让我进去): a phrase is also aligned with them left out of the transcript, its span taking them in
    # (session 17, read off holdout_s20). As written in pinyin, never by near sound.
    adverbs: list[str] = field(default_factory=list)
    # the phrases' verbs (住, 进, 开): a phrase matched by sound with one of them not heard (left out, or heard as
    # an unrelated sound) does not count, however close the rest is: 我们在这里等车 is not 我住在这里 (session 19, read
    # off holdout_s23). Objects are not heads (帮我开一下 drops 门). One character each; empty: the rule before
    # session 19
    heads: list[str] = field(default_factory=list)
    # regular expressions over the transcript's Chinese characters whose matches explain syllables the way
    # fillers do: who or where a request mentions (三号楼, 王阿姨), never an intent alone
    context: list[str] = field(default_factory=list)
    # a phrase heard with one of these right before it (negation_window syllables, same clause) or inside
    # it where the phrase has none does not count: 不要开门, 我不进去, 别让他进来. Matched by sound, like
    # phrases (部要开门 is heard as 不要开门), and so are not_negations: 不好意思, 对不起 negate nothing.
    negators: list[str] = field(default_factory=list)
    negation_window: int = 3
    not_negations: list[str] = field(default_factory=list)
    # a negator right before one of these (a coverb leading the verb's object or beneficiary) negates the phrase
    # it leads to however far on in the clause: 别给陌生人开门, 不帮他开门 (别, then 给陌生人, then 开门)
    coverbs: list[str] = field(default_factory=list)
    # ... and so does a negator right before one of these modal verbs (wanting, needing): 我不需要你帮我开门,
    # 我不想让他进来 (不, then 需要你帮我, then 开门). One character each, like coverbs
    modals: list[str] = field(default_factory=list)
    # a clause with one of these asks rather than requests: 小区几点开门？ 他们进去了吗？
    question_words: list[str] = field(default_factory=list)
    # a clause with one of these is about another time, not a request now: 我朋友明天来拜访我
    other_time_words: list[str] = field(default_factory=list)
    # inside a heard phrase where the phrase has none (past_markers) or right after it (past_after), these
    # make it a report of the past: 有人帮我开了门, 她来看过我
    past_markers: list[str] = field(default_factory=list)
    past_after: list[str] = field(default_factory=list)
    # words that tell a phrase right after them (within negation_window, in its clause) as done: 已经开门进去了
    # (session 17, read off holdout_s20)
    past_before: list[str] = field(default_factory=list)
    # right after a heard phrase and followed by more of its clause, these make the phrase describe a noun, not ask
    # for anything: 开门的声音太大了, 让我进去的人, 开门的时候 (matched as written; a sentence-final particle, a closing
    # or a wake word after one ends nothing: 我要进去的吧, 我要进去的谢谢 stay requests). Session 16, read off
    # holdout_s16
    modifier_after: list[str] = field(default_factory=list)
    # words that close a request: after a phrase's 的 one of these (or a wake word, or a final particle) ends the
    # request instead of leading to a noun: 我要进去的谢谢, written without a comma (session 16)
    closings: list[str] = field(default_factory=list)
    # a phrase with 我 heard without it, one of these in its place or right before it, is someone else's request,
    # not the speaker's: 门口那个人说他是来送快递的 (for 我是来送快递的), 让他进去. Matched as written; the 你 of a
    # greeting (你好) is nobody. Session 16, read off holdout_s17
    other_persons: list[str] = field(default_factory=list)
    # a spoken request (confirm_heard) whose negation window holds a syllable nothing in the grammar
    # explains, heard by the ASR with a probability below this, is UNCLEAR, not that intent: there, a
    # misheard or noisy syllable may be a lost 不/别/没 or 几点 (大白，别开门 heard as 大白，提开门).
    # 0: take every request as heard (the rule before session 11); 1: ask again whenever such a syllable is there
    unclear_below: float = 0.3
    # sounds that noise makes of a negator (普 for 不, 撇 for 别: the same syllable with the aspirated initial): such
    # an unexplained syllable before a spoken request makes it UNCLEAR (the gate asks again), however sure Whisper
    # was of it and whatever the audio says of a negator there: 我在等外卖，不用开门 came back as 我在等外卖普通开门 in 10
    # dB white noise, 普 at 0.48, and put in its place 不 was 0.0047, under negator_ratio (session 20, read off
    # holdout_s24). One character each, matched by its toneless syllable (普, 扑, 铺: pu); empty: the rule before
    # session 20
    negator_sounds: list[str] = field(default_factory=list)
    # Sound-alike matches checked against the audio (spoken turns; text alone is matched by sound only). Where a
    # phrase syllable was matched to another heard syllable that shares some of its sound (开一项门 for 开一下门,
    # 把灯打开 for 把门打开), the phrase's character is put in its place and Whisper is asked how probable it
    # finds it there, as a share of the probability of what it wrote: `said_ratio` or more, and the phrase's
    # syllable counts as said; under `not_said_ratio` for any of them, the phrase was not said (that match is
    # dropped); in between, the sound cost stands. Only matches scoring at least `verify_from` (by sound) that
    # could decide their intent are checked. verify_from 0: never check (the rule before session 15)
    # An unsure sound before a request (unclear_below) asks again only where the audio allows a negator there:
    # put in its place, Whisper finds one of the one-character negators at least this share as probable as what
    # it wrote (one forced decoder pass per negator and sound). 0: every unsure sound asks again (before session 15)
    negator_ratio: float = 0.01
    verify_from: float = 0.5
    max_checks: int = 4  # at most this many sound-alike matches checked per spoken turn (forced decoder passes)
    said_ratio: float = 0.1
    not_said_ratio: float = 0.01


@dataclass(frozen=True)
class Phrase:
    intent: str
    text: str
    pinyin: tuple[str, ...]
    # an elided request's objects (ElidedSpec): one must be written before the phrase in the turn; () for a
    # phrase that says its object
    objects: tuple[str, ...] = ()
    heads: tuple[int, ...] = ()  # where the grammar's heads (GrammarSpec.heads) stand in the phrase, by syllable


@dataclass(frozen=True)
class IntentGrammar:
    """A compiled grammar: every phrase (alternatives expanded) with its pinyin."""

    spec: GrammarSpec
    phrases: tuple[Phrase, ...]
    extra: tuple[tuple[str, ...], ...]  # wake words and fillers as pinyin
    source: str  # file it came from
    context: tuple[re.Pattern, ...] = ()
    negators: tuple[tuple[str, ...], ...] = ()  # as pinyin
    not_negations: tuple[tuple[str, ...], ...] = ()  # as pinyin
    wake: tuple[tuple[str, ...], ...] = ()  # wake words as pinyin: never part of a phrase (大白，门不用开 is no 打开门)
    # question and other-time words of two or more syllables as pinyin, matched by sound like negators (小区急点开门
    # is 小区几点开门); a one-character word (哪, 谁) or one ending in a particle (了吗: ma is 麻烦's and 马上's
    # sound) is matched as written, since its sound is too common
    asks: tuple[tuple[str, ...], ...] = ()
    asks_as_written: tuple[str, ...] = ()  # the other question and other-time words, matched as characters
    coverbs: frozenset = frozenset()  # the coverbs' and modals' syllables (see GrammarSpec.coverbs)
    adverbs: tuple[tuple[str, ...], ...] = ()  # as pinyin (see GrammarSpec.adverbs)
    negator_sounds: frozenset = frozenset()  # toneless syllables (see GrammarSpec.negator_sounds)

    @property
    def intents(self) -> list[str]:
        return list(self.spec.intents)


@dataclass(frozen=True)
class SoundCheck:
    """A phrase matched by sound, checked against the audio (see GrammarSpec.verify_from)."""

    phrase: str  # the grammar phrase
    heard: str  # the transcript's characters it was matched to
    said: str  # the transcript with the phrase's characters in place of the sound-alike ones
    ratios: tuple[float, ...]  # per sound-alike character: its probability in ``said`` / the heard one's
    verdict: str  # SAID (all of them), NOT_SAID (one under not_said_ratio: match dropped) or UNSURE (some not)
    score: float  # the match's score by sound, before the check
    checked_score: float  # after it (0: dropped)

    def to_dict(self) -> dict:
        return {"phrase": self.phrase, "heard": self.heard, "said": self.said, "ratios": list(self.ratios),
                "verdict": self.verdict, "score": round(self.score, 4), "checked_score": round(self.checked_score, 4)}


@dataclass(frozen=True)
class IntentMatch:
    intent: str  # an intent name, or "none"
    confidence: float  # of the decision: the intent's score, or for "none" 1 − best score
    phrase: str | None  # the grammar phrase that matched best (also for "none": the nearest one)
    text: str  # the transcript that was matched
    scores: dict[str, float]  # best score of every intent
    # the text's Chinese characters (indices) right before the decided phrase (its negation window, same
    # clause) that nothing in the grammar explains: where a negator would stand (大白，提开门 → (2,))
    unexplained_before: tuple[int, ...] = ()
    span: tuple[int, int] = (0, 0)  # the decided phrase's characters in the text's Chinese characters
    checks: tuple[SoundCheck, ...] = ()  # sound-alike matches checked against the audio (spoken turns)


def default_grammar_path() -> Path:
    return Path(str(resources.files("dabai.speech") / "data" / "intents.yaml"))


def load_grammar(path: str | Path | None = None) -> IntentGrammar:
    """Read and validate a grammar file (default: the packaged one)."""
    path = Path(path) if path is not None else default_grammar_path()
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns if path.is_file() else 0)


@lru_cache(maxsize=8)
def _load_cached(path: str, _mtime: int) -> IntentGrammar:
    data = load_yaml(path)
    try:
        spec = from_dict(GrammarSpec, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return compile_grammar(spec, path)


def compile_grammar(spec: GrammarSpec, source: str = "<memory>") -> IntentGrammar:
    """Validate ``spec`` and precompute pinyin."""
    if not spec.intents:
        raise ConfigError(f"{source}: 'intents' is empty; define at least one intent with phrases")
    for key, lo, hi in (("threshold", 0.0, 1.0), ("margin", 0.0, 1.0), ("coverage_weight", 0.0, 1.0)):
        value = getattr(spec, key)
        if not lo < value <= hi and not (key != "threshold" and value == 0):
            raise ConfigError(f"{source}: {key} must be in ({lo}, {hi}], got {value}")
    phrases = []
    for name, intent in spec.intents.items():
        if name in (NONE, UNCLEAR):
            raise ConfigError(f"{source}: intents.{name} is reserved ({NONE}: no intent, {UNCLEAR}: say it again); "
                              "rename it")
        if not intent.phrases:
            raise ConfigError(f"{source}: intents.{name}.phrases is empty")
        if intent.refines and (intent.refines not in spec.intents or intent.refines == name
                               or spec.intents[intent.refines].refines):
            raise ConfigError(f"{source}: intents.{name}.refines: {intent.refines!r} must name another intent "
                              f"that refines none itself; intents: {', '.join(spec.intents)}")
        elided = intent.elided
        if elided is not None and (not elided.phrases or not elided.objects
                                   or not all(han_chars(w) for w in elided.objects)):
            raise ConfigError(f"{source}: intents.{name}.elided needs 'objects' (words such as 门, 闸) and 'phrases' "
                              "(the request without them, such as 开一下)")
        lists = [("phrases", intent.phrases, ())]
        if elided is not None:
            lists.append(("elided.phrases", elided.phrases, tuple(han_chars(w) for w in elided.objects)))
        for key, raws, objects in lists:
            for i, raw in enumerate(raws):
                try:
                    wordings = expand_alternatives(raw)
                except ValueError as exc:
                    raise ConfigError(f"{source}: intents.{name}.{key}[{i}]: {exc}") from None
                for text in wordings:
                    py = syllables(text)
                    if not py:
                        raise ConfigError(f"{source}: intents.{name}.{key}[{i}] {text!r} has no Chinese characters")
                    phrases.append(Phrase(name, text, py, objects))
    if spec.negation_window < 0:
        raise ConfigError(f"{source}: negation_window must be 0 or more, got {spec.negation_window}")
    unknown = [name for name in spec.closing_request if name not in spec.intents]
    if unknown:
        raise ConfigError(f"{source}: closing_request names unknown intent(s) {unknown}; intents: {', '.join(spec.intents)}")
    for key in ("other_clauses_weight", "negator_ratio", "verify_from", "said_ratio", "not_said_ratio"):
        if not 0.0 <= getattr(spec, key) <= 1.0:
            raise ConfigError(f"{source}: {key} must be in [0, 1], got {getattr(spec, key)}")
    if spec.max_checks < 0:
        raise ConfigError(f"{source}: max_checks must be 0 or more, got {spec.max_checks}")
    if spec.not_said_ratio > spec.said_ratio:
        raise ConfigError(f"{source}: not_said_ratio ({spec.not_said_ratio}) must not exceed said_ratio "
                          f"({spec.said_ratio})")
    if not 0.0 <= spec.unclear_below <= 1.0:
        raise ConfigError(f"{source}: unclear_below must be a probability in [0, 1], got {spec.unclear_below}")
    context = []
    for i, pattern in enumerate(spec.context):
        try:
            context.append(re.compile(pattern))
        except re.error as exc:
            raise ConfigError(f"{source}: context[{i}] {pattern!r} is not a regular expression ({exc})") from None
    extra = tuple(py for w in (*spec.wake_words, *spec.fillers) if (py := syllables(w)))
    negators = tuple(py for w in spec.negators if (py := syllables(w)))
    not_negations = tuple(py for w in spec.not_negations if (py := syllables(w)))
    wake = tuple(py for w in spec.wake_words if (py := syllables(w)))
    by_sound = [w for w in (*spec.question_words, *spec.other_time_words)
                if len(syllables(w)) >= 2 and not _PARTICLES.intersection(w)]
    asks = tuple(syllables(w) for w in by_sound)
    asks_as_written = tuple(w for w in (*spec.question_words, *spec.other_time_words) if w not in by_sound)
    for key, examples in (("coverbs", "给, 帮, 把"), ("modals", "要, 想, 需"), ("heads", "住, 进, 开"),
                          ("negator_sounds", "普, 撇")):
        bad = [w for w in getattr(spec, key) if len(syllables(w)) != 1]
        if bad:
            raise ConfigError(f"{source}: {key}: {bad[0]!r} is not one Chinese character ({examples} are)")
    # as written in pinyin, not by near sound: 没办 (ban) is no 没帮 (bang) (session 16, read off holdout_s17)
    coverbs = frozenset(syllables(w)[0] for w in (*spec.coverbs, *spec.modals))
    adverbs = tuple(py for w in spec.adverbs if (py := syllables(w)))
    phrases = [replace(p, heads=tuple(i for i, c in enumerate(han_chars(p.text)) if c in spec.heads)) for p in phrases]
    negator_sounds = frozenset(syllables(w)[0] for w in spec.negator_sounds)
    return IntentGrammar(spec, tuple(dict.fromkeys(phrases)), extra, source, tuple(context), negators, not_negations,
                         wake, asks, asks_as_written, coverbs, adverbs, negator_sounds)


def recognize_intent(text: str, grammar: IntentGrammar | None = None, hearing: Hearing | None = None) -> IntentMatch:
    """Score every intent against ``text`` and decide (threshold, then margin). ``hearing``: the audio the text
    was transcribed from, to check sound-alike matches against (see GrammarSpec.verify_from)."""
    grammar = grammar or load_grammar()
    slots: dict[str, tuple[tuple[int, ...], tuple[int, int]]] = {}
    checks: list[SoundCheck] = []
    scores, best_phrase = score_intents(text, grammar, slots, hearing, checks)
    top_name, top = max(scores.items(), key=lambda kv: kv[1])
    rounded = {k: round(v, 4) for k, v in scores.items()}
    decided = decide_intent(scores, grammar)
    if decided != NONE:
        before, span = slots.get(decided, ((), (0, 0)))
        return IntentMatch(decided, round(scores[decided], 4), best_phrase.get(decided), text, rounded, before, span,
                           tuple(checks))
    return IntentMatch(NONE, round(1.0 - top, 4), best_phrase.get(top_name), text, rounded, checks=tuple(checks))


def decide_intent(scores: dict[str, float], grammar: IntentGrammar, threshold: float | None = None,
                  margin: float | None = None) -> str:
    """The one decision rule on intent scores: the best intent when it reaches ``threshold`` and beats the best
    rival outside its own family (an intent and the one it refines, visitor / enter, or two refining the same
    one, visitor / courier, are not rivals) by ``margin``; else NONE. Within the family, a finer intent
    (visitor, courier) scoring within ``margin`` of the best is the decision. ``threshold``/``margin`` default to the grammar's (``dabai asr adapt`` tries others)."""
    threshold = grammar.spec.threshold if threshold is None else threshold
    margin = grammar.spec.margin if margin is None else margin
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked:
        return NONE
    top_name, top = ranked[0]
    rivals = [score for name, score in ranked[1:] if not _same_family(grammar, top_name, name)]
    runner_up = rivals[0] if rivals else 0.0
    if top < threshold or top - runner_up < margin:
        return NONE
    # within the family the finer intent wins when it is as likely (within the margin): 我是访客，让我进去 is a
    # visitor's entry request, though its enter phrase explains the rest as well as its visitor phrase does
    family = [(name, score) for name, score in ranked if name == top_name or _same_family(grammar, top_name, name)]
    finer = [(name, score) for name, score in family if grammar.spec.intents[name].refines and top - score < margin]
    return finer[0][0] if finer else top_name


def needs_confirmation(match: IntentMatch, grammar: IntentGrammar) -> bool:
    """Whether :func:`confirm_heard` would look at the ASR's probabilities for ``match``: a request with an
    unexplained character before its phrase, and the check switched on (``unclear_below`` > 0). The ASR
    works out those probabilities (a second decoder pass) only then."""
    return (match.intent not in (NONE, UNCLEAR) and bool(match.unexplained_before)
            and grammar.spec.unclear_below > 0.0)


def confirm_heard(match: IntentMatch, probability: Sequence[float] | None,
                  grammar: IntentGrammar | None = None, hearing: Hearing | None = None) -> IntentMatch:
    """The decision on a *spoken* request: ``match`` as the ASR's text gave it, or UNCLEAR when a character
    before its phrase that the grammar cannot explain (``match.unexplained_before``) was heard with a
    probability below ``unclear_below``: the sound where a 不/别/没 or 几点 would stand was unsure, so the
    request may have been its negation (大白，别开门 heard as 大白，提开门 in noise). A character that sounds as noise
    makes of a negator (``negator_sounds``: 普 for 不) makes it UNCLEAR outright. ``probability``: the ASR's
    probability of each Chinese character of ``match.text`` (None: unknown, which is unsure). With ``hearing``
    (the audio) and ``negator_ratio`` above 0, an unsure sound makes the request UNCLEAR only where the audio
    allows a negator in its place (:func:`negator_fits`): 业主让我上去 heard with 业 unsure is still a request."""
    grammar = grammar or load_grammar()
    if not needs_confirmation(match, grammar):
        return match
    heard = han_syllables(match.text)[1]
    if probability is None or any(heard[i] in grammar.negator_sounds for i in match.unexplained_before):
        return replace(match, intent=UNCLEAR)
    unsure = [i for i in match.unexplained_before if probability[i] < grammar.spec.unclear_below]
    if not unsure:
        return match
    if hearing is None or grammar.spec.negator_ratio <= 0.0 or negator_fits(match.text, unsure, hearing, grammar):
        return replace(match, intent=UNCLEAR)
    return match


def negator_fits(text: str, positions: Sequence[int], hearing: Hearing, grammar: IntentGrammar) -> bool:
    """Whether the audio allows a one-character negator (the grammar's 不, 别, 没 …) at any of ``positions``
    (indices of ``text``'s Chinese characters): put in that character's place, Whisper finds it at least
    ``negator_ratio`` as probable as the character it wrote. True when the audio cannot tell."""
    base = read_digits(text)
    heard = hearing(base)
    if heard is None:
        return True
    for negator in (w for w in grammar.spec.negators if len(han_chars(w)) == 1):
        for i in positions:
            said = hearing(replace_han(base, {i: han_chars(negator)}))
            if said is None or len(said) != len(heard):
                return True
            if said[i] >= grammar.spec.negator_ratio * max(heard[i], 1e-6):
                return True
    return False


@dataclass(frozen=True)
class SpokenDecision:
    """What the gate decides on a spoken turn (:func:`decide_spoken`)."""

    heard: IntentMatch  # the grammar's match of the transcript, sound-alike matches checked against the audio
    match: IntentMatch  # the decision: ``heard``, or UNCLEAR (nothing but the prompt's echo; an unsure sound
    #                     where a negator fits)
    unsure: float | None  # the lowest ASR probability of the unexplained characters before the phrase, if checked


def decide_spoken(text: str, grammar: IntentGrammar, hearing: Hearing | None, prompt: str,
                  hotwords: str) -> SpokenDecision:
    """The one rule for a spoken turn (the gate's Recognizer and ``dabai asr adapt`` use it): the transcript
    ``text`` matched with its sound-alike matches checked against the audio (``hearing``; None: by sound
    alone), a transcript that only echoes the ASR's ``prompt`` and ``hotwords`` UNCLEAR, and a request with an
    unexplained sound before it confirmed (:func:`confirm_heard`; without ``hearing`` it is UNCLEAR)."""
    echo = echoes_prompt(text, prompt, hotwords)
    heard = recognize_intent(text, grammar, None if echo else hearing)
    match = heard_turn(heard, prompt, hotwords)  # only the prompt's echo came back: ask again
    unsure = None
    if needs_confirmation(match, grammar):
        # an unexplained sound where a negator would stand: how sure was Whisper of it? (a forced pass over its
        # own transcript, only for these requests)
        probability = hearing(text) if hearing is not None else None
        match = confirm_heard(match, probability, grammar, hearing)
        if probability is not None:
            unsure = round(min(probability[i] for i in match.unexplained_before), 4)
    return SpokenDecision(heard, match, unsure)


def echoes_prompt(text: str, prompt: str, hotwords: str) -> bool:
    """Whether a transcript holds nothing but pieces of the ASR's own cue, its hotwords then its prompt as the
    decoder is given them (大白，小区，二维码 + 以下是普通话的句子。): each piece two characters or more, in any order,
    repeated or cut short. That is Whisper's known hallucination over noise or silence (大白，小区，二维码以下是普通话的句子。,
    大白，小区，小区，…, and cut short, 大白，二维码以下是普通话的。 and 大白，小区，维码以下是普通话的句子。 for two clear
    requests of holdout_s27: session 21; whole pieces only before). Nothing was heard, so a spoken turn that comes
    back this way is decoded again without the cue, or asked again, rather than refused."""
    said = han_chars(text)
    cue = han_chars(hotwords or "") + han_chars(prompt or "")
    if not said or len(cue) < 2:
        return False
    # reach[k]: said[:k] is cut into pieces of the cue (a one-character piece is no echo: 的, 是 are everywhere)
    reach = [True] + [False] * len(said)
    for end in range(2, len(said) + 1):
        reach[end] = any(reach[start] and said[start:end] in cue for start in range(end - 1))
    return reach[-1]


def heard_turn(match: IntentMatch, prompt: str, hotwords: str) -> IntentMatch:
    """A spoken turn whose transcript is only the prompt's and hotwords' echo (:func:`echoes_prompt`) is
    UNCLEAR instead of NONE: the gate asks again (say_again) rather than refusing a request it never heard."""
    if match.intent == NONE and echoes_prompt(match.text, prompt, hotwords):
        return replace(match, intent=UNCLEAR)
    return match


def score_intents(text: str, grammar: IntentGrammar,
                  slots: dict[str, tuple[tuple[int, ...], tuple[int, int]]] | None = None,
                  hearing: Hearing | None = None, checks: list[SoundCheck] | None = None,
                  ) -> tuple[dict[str, float], dict[str, str]]:
    """Per intent: best confidence and the phrase behind it (a negated, asked or past phrase scores 0).
    ``slots``, when given, gets per intent the unexplained syllables right before that phrase
    (:attr:`IntentMatch.unexplained_before`) and the phrase's span. With ``hearing`` (the audio), sound-alike
    matches are checked against it first (:func:`check_sounds`); ``checks`` gets what was checked."""
    han, heard = han_syllables(text)
    scores = {name: 0.0 for name in grammar.spec.intents}
    best: dict[str, str] = {}
    if not heard:
        return scores, best
    # the gate's name and greetings are never part of a request phrase: a phrase is aligned with them masked
    # (大白，门不用开 must not be heard as 打开门 by taking 大 from 大白)
    woken = [False] * len(heard)
    find_exact(grammar.wake, heard, woken)
    guard = _Guards(grammar, text, han, heard, woken)
    phrases_heard = tuple("\0" if w else s for s, w in zip(heard, woken))
    aligned = _Aligner(grammar, phrases_heard)
    matches = []
    for phrase in grammar.phrases:
        score, start, end = aligned(phrase)
        if phrase.objects and (score < 1.0 or not guard.elided_request(phrase, start, end)):
            continue  # an elided request counts only as written, its object named before it, closing its clause
        if score < 1.0 and phrase.heads and not set(phrase.heads).isdisjoint(lost(phrase.pinyin,
                                                                                 phrases_heard[start:end])):
            continue  # its verb was not heard (我们在这里 for 我住在这里)
        if score > 0.0 and not guard.blocks(phrase, start, end):
            matches.append((phrase, score, start, end))
    if hearing is not None and grammar.spec.verify_from > 0.0:
        matches, done = check_sounds(matches, text, phrases_heard, hearing, grammar)
        if checks is not None:
            checks.extend(done)
    context_cover = [False] * len(heard)
    for pattern in grammar.context:
        for m in pattern.finditer(han):
            context_cover[m.start():m.end()] = [True] * (m.end() - m.start())
    for phrase, score, start, end in sorted(matches, key=lambda m: -m[1]):
        if score <= scores[phrase.intent]:
            continue
        covered = [c or start <= j < end for j, c in enumerate(context_cover)]
        _cover_same_intent(grammar, phrase.intent, heard, covered, matches)
        find_exact(grammar.extra, heard, covered)
        unexplained = guard.unexplained_share(covered, start, end)
        conf = score * (1.0 - grammar.spec.coverage_weight * unexplained)
        # a request heard as written (no sound cost) that closes the turn, short of the bar: its context weighs
        # as another clause's (closing_request); one already over the bar keeps its confidence, so another
        # phrase of its intent that explains more is still the one checked (马上 heard 马甘 before 开个门)
        if conf < grammar.spec.threshold and score >= 1.0 and phrase.intent in grammar.spec.closing_request:
            context = guard.unexplained_share(covered, start, end, request=True)
            conf = max(conf, score * (1.0 - grammar.spec.coverage_weight * context))
        if conf > scores[phrase.intent]:
            scores[phrase.intent] = conf
            best[phrase.intent] = phrase.text
            if slots is not None:
                slots[phrase.intent] = (tuple(i for i in guard.before(start) if not covered[i]), (start, end))
    return scores, best


def check_sounds(matches: list, text: str, heard: tuple[str, ...], hearing: Hearing, grammar: IntentGrammar,
                 ) -> tuple[list, list[SoundCheck]]:
    """``matches`` ((phrase, score, start, end) of ``text``'s syllables ``heard``) with their sound-alike syllables
    checked against the audio (``hearing``): a phrase syllable the audio supports nearly as well as what Whisper
    wrote (``said_ratio``) counts as said, one it does not support (``not_said_ratio``) drops the match. Matches
    are checked nearest by sound first, and only while one could still raise its intent's score (its bound:
    the score were every sound-alike syllable said) to the threshold: at most ``max_checks`` forced decoder
    passes per turn."""
    spec = grammar.spec
    base = read_digits(text)
    kept, done = [], []
    candidates = []
    for phrase, score, start, end in matches:
        alike = [(i, j) for i, j in substitutions(phrase.pinyin, heard[start:end])
                 if cost(phrase.pinyin[i], heard[start + j]) < 1.0]  # shares some sound
        freed = sum(cost(phrase.pinyin[i], heard[start + j]) for i, j in alike) / len(phrase.pinyin)
        candidates.append((score + freed, score, alike, phrase, start, end))
    # the nearest by sound first, across intents; a match is checked only while it could still raise its
    # intent's score (and reach the threshold), at most max_checks of them
    best: dict[str, float] = {}
    for bound, score, alike, phrase, start, end in sorted(candidates, key=lambda c: (-c[1], -c[0])):
        if (alike and score >= spec.verify_from and bound > best.get(phrase.intent, 0.0)
                and bound >= spec.threshold and len(done) < spec.max_checks):
            check = _check(phrase, score, start, end, alike, base, heard, hearing, spec)
            if check is not None:
                done.append(check)
                score = check.checked_score
        if score > 0.0:
            kept.append((phrase, score, start, end))
            if not phrase.objects:  # an elided request (开一下) explains less than a whole one heard by sound
                best[phrase.intent] = max(best.get(phrase.intent, 0.0), score)  # (法门开一下 for 把门开一下)
    return kept, done


def _check(phrase: Phrase, score: float, start: int, end: int, alike: list[tuple[int, int]], base: str,
           heard: tuple[str, ...], hearing: Hearing, spec: GrammarSpec) -> SoundCheck | None:
    chars = han_chars(phrase.text)
    changes = {start + j: chars[i] for i, j in alike}
    said = replace_han(base, changes)
    p_heard, p_said = hearing(base), hearing(said)
    if p_heard is None or p_said is None or len(p_said) != len(p_heard):
        return None  # the audio cannot tell: the sound match stands
    ratios = tuple(round(p_said[k] / max(p_heard[k], 1e-6), 4) for k in sorted(changes))
    if min(ratios) < spec.not_said_ratio:
        verdict, checked = NOT_SAID, 0.0
    else:
        freed = sum(cost(phrase.pinyin[i], heard[start + j]) for (i, j), r in zip(alike, ratios) if r >= spec.said_ratio)
        verdict = SAID if min(ratios) >= spec.said_ratio else UNSURE
        checked = min(1.0, score + freed / len(phrase.pinyin))
    han = han_chars(base)
    return SoundCheck(phrase.text, han[start:end], han_chars(said)[start:end], ratios, verdict, score, checked)


class _Aligner:
    """A phrase's best span in the heard syllables, also aligned with the grammar's adverbs left out (their
    syllables, as written, inside the span): 我得赶紧进去 matches 我得进去 as written."""

    def __init__(self, grammar: IntentGrammar, heard: tuple[str, ...]):
        self.heard = heard
        inside = [False] * len(heard)
        for word in grammar.adverbs:
            for i in _occurrences(word, heard, exact=True):
                inside[i:i + len(word)] = [True] * len(word)
        self.kept = [i for i, a in enumerate(inside) if not a]
        self.reduced = tuple(heard[i] for i in self.kept) if len(self.kept) < len(heard) else None

    def __call__(self, phrase: Phrase) -> tuple[float, int, int]:
        score, start, end = align(phrase.pinyin, self.heard)
        if self.reduced is None or score >= 1.0:
            return score, start, end
        r_score, r_start, r_end = align(phrase.pinyin, self.reduced)
        if r_score > score and r_end > r_start:
            return r_score, self.kept[r_start], self.kept[r_end - 1] + 1
        return score, start, end


class _Guards:
    """Where a heard phrase is negated (不要开门), asked about (几点开门) or told as past (开了门)."""

    def __init__(self, grammar: IntentGrammar, text: str, han: str, heard: tuple[str, ...], woken: list[bool]):
        self.spec = grammar.spec
        self.han, self.woken = han, woken
        # what may follow a request's 的 without making it a noun's modifier: 我要进去的，谢谢 written without a comma
        self._said_around = tuple(w for w in (*self.spec.closings, *self.spec.wake_words) if w)
        # what may end a clause after an elided request (帮我开一下吧, 开一下，谢谢), longest first
        self._ends = tuple(sorted({w for w in (*self._said_around, *self.spec.fillers, *_FINAL_PARTICLES) if w},
                                  key=len, reverse=True))
        clause, self.clause = 0, []  # clause number of each Chinese character (punctuation ends a clause)
        for raw in text:
            ch = unicodedata.normalize("NFKC", raw)  # Whisper writes ﹐ and ， as well as ，
            # ... and, where a speaker paused, often a lone full-width digit or letter (大白４我是…, 大白Ｊ我回来了)
            if ch in "，,。.！!？?；;：:、\n" or "\uff10" <= raw <= "\uff5a":
                clause += 1
            elif han and len(self.clause) < len(han) and ch == han[len(self.clause)]:
                self.clause.append(clause)
        if len(self.clause) != len(han):  # digits read as words: no clause marks to trust
            self.clause = [0] * len(han)
        negated = [False] * len(heard)  # syllables that sound like a negator that negates something
        for word in grammar.negators:
            for i in _occurrences(word, heard):
                negated[i:i + len(word)] = [True] * len(word)
        for word in grammar.not_negations:
            for i in _occurrences(word, heard):
                negated[i:i + len(word)] = [False] * len(word)
        for i in range(1, len(heard) - 1):  # 能不能, 可不可以, 是不是: a question asking for a yes
            if negated[i] and fuzzy(heard[i - 1]) == fuzzy(heard[i + 1]):
                negated[i] = False
        self.negated = negated
        self.leads = [negated[i] and i + 1 < len(heard) and heard[i + 1] in grammar.coverbs
                      for i in range(len(heard))]  # a negator leading a coverb: 别给…
        asking = [False] * len(heard)  # syllables of a question or other-time word (within one clause)
        for word in grammar.asks:
            for i in _occurrences(word, heard):
                if self.clause[i] == self.clause[i + len(word) - 1]:
                    asking[i:i + len(word)] = [True] * len(word)
        for word in grammar.asks_as_written:
            for i in range(len(han) - len(word) + 1):
                if han.startswith(word, i):
                    asking[i:i + len(word)] = [True] * len(word)
        self.asking = asking

    def unexplained_share(self, covered: list[bool], start: int, end: int, request: bool = False) -> float:
        """The share of the transcript nothing explains, a syllable outside the clause of the phrase spanning
        ``start:end`` weighing ``other_clauses_weight`` (what the speaker said around a request: who they are,
        why they came); without clause marks, every syllable weighs 1. A ``request`` phrase (of an intent in
        ``closing_request``) that closes the turn, everything after it explained, gives the syllables before it
        that weight too."""
        other = self.spec.other_clauses_weight
        mine = self.clause[start]
        closes = request and all(covered[end:])
        weights = [other if c != mine or (closes and j < start) else 1.0 for j, c in enumerate(self.clause)]
        total = sum(weights)
        return sum(w for w, c in zip(weights, covered) if not c) / total if total else 0.0

    def elided_request(self, phrase: Phrase, start: int, end: int) -> bool:
        """Whether an elided request (``phrase.objects``: ElidedSpec) heard at ``start:end`` stands for its whole
        request: one of its objects written before it in the turn (门自己关上了，帮我开一下), and nothing after it
        in its clause but fillers, closings, wake words and final particles (帮我开一下灯 opens something else)."""
        if end <= start or not any(o in self.han[:start] for o in phrase.objects):
            return False
        clause = self.clause[start]
        rest = "".join(c for c, k in zip(self.han[end:], self.clause[end:]) if k == clause)
        while rest:
            word = next((w for w in self._ends if rest.startswith(w)), None)
            if word is None:
                return False
            rest = rest[len(word):]
        return True

    def before(self, start: int) -> range:
        """The syllables a negator before a phrase starting at ``start`` may take: the negation window,
        within the phrase's clause."""
        clause, before = self.clause[start], start
        while before > 0 and start - before < self.spec.negation_window and self.clause[before - 1] == clause:
            before -= 1
        return range(before, start)

    def blocks(self, phrase: Phrase, start: int, end: int) -> bool:
        if end <= start:
            return True
        spec = self.spec
        clause = self.clause[start]
        before = self.before(start).start
        # a negator inside the span negates even a phrase that says 不 itself (能不能让我进去): an A-不-A question
        # heard as one is no negation (see __init__), while 不要让我们进去 aligned to 能不能让我们进去 is
        if any(self.negated[i] for i in range(before, start)) or any(self.negated[i] for i in range(start, end)):
            return True
        lo = self.clause.index(clause)  # the clause's first character
        if any(self.leads[i] for i in range(lo, before)):
            return True
        if any(w in self.han[start:end] and w not in phrase.text for w in spec.past_markers):
            return True
        if any(self.han.startswith(w, end) for w in spec.past_after):
            return True
        # a word that tells it as done right before it (or whose end the phrase took by sound: 已经开门 as 经开门 =
        # 请开门)
        if any(self.han.startswith(w, k) for k in range(max(before - 1, 0), start) if self.clause[k] == clause
               for w in spec.past_before):
            return True
        if any(self._modifies(w, end, clause) for w in spec.modifier_after):
            return True
        if spec.other_persons and self._someone_else(phrase, start, end):
            return True
        hi = len(self.clause) - self.clause[::-1].index(clause)
        return any(self.asking[lo:hi])

    def _someone_else(self, phrase: Phrase, start: int, end: int) -> bool:
        """Whether a phrase with 我 was heard without it, another person (他, 你 …) in its place or right before
        it (他是来送快递的 for 我是来送快递的; a greeting's 你 of 你好 is nobody)."""
        if "我" not in phrase.text or "我" in self.han[start:end]:
            return False
        return any(self.han[k] in self.spec.other_persons and not self.woken[k]
                   for k in range(max(start - 1, 0), end))

    def _modifies(self, word: str, end: int, clause: int) -> bool:
        """Whether ``word`` (的) right after a phrase ending at ``end`` leads to more of the phrase's clause."""
        after = end + len(word)
        return (self.han.startswith(word, end) and after < len(self.han) and self.clause[after] == clause
                and self.han[after] not in _FINAL_PARTICLES
                and not any(self.han.startswith(w, after) for w in self._said_around))


def _occurrences(word: tuple[str, ...], heard: tuple[str, ...], exact: bool = False) -> list[int]:
    k = len(word)
    same = (lambda a, b: a == b) if exact else (lambda a, b: fuzzy(a) == fuzzy(b))
    return [i for i in range(len(heard) - k + 1) if all(same(a, b) for a, b in zip(word, heard[i:i + k]))]


def _same_family(grammar: IntentGrammar, a: str, b: str) -> bool:
    """True when the two intents are one request: one refines the other (visitor / enter), or both refine
    the same one (visitor / courier)."""
    ra, rb = grammar.spec.intents[a].refines, grammar.spec.intents[b].refines
    return ra == b or rb == a or (bool(ra) and ra == rb)


def _cover_same_intent(grammar: IntentGrammar, intent: str, heard: tuple[str, ...], covered: list[bool],
                       matches: list[tuple[Phrase, float, int, int]]) -> None:
    """Let further near-exact phrases of the same intent's family explain the rest: its own, the one it
    refines, and the ones refining either (我回来了，开门让我进去; 我是访客，让我进去; 我送快递的，开一下门 — a
    courier's phrase explains the rest of an enter request as an enter phrase explains a courier's). Masking
    only lowers a phrase's score, so only the phrases that matched near-exactly unmasked are tried."""
    for phrase, score, _, _ in matches:
        if not (phrase.intent == intent or _same_family(grammar, intent, phrase.intent)) or score < 0.85 \
                or all(covered):
            continue
        rest = tuple(s if not c else "\0" for s, c in zip(heard, covered))
        score, start, end = align(phrase.pinyin, rest)
        if score >= 0.85 and not any(covered[start:end]):
            for j in range(start, end):
                covered[j] = True
