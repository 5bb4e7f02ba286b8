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

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from dabai.core.config import from_dict, load_yaml
from dabai.core.errors import ConfigError
from dabai.speech.pinyin import align, find_exact, syllables

NONE = "none"
DEFAULT_PROMPT = "以下是普通话的句子。"


@dataclass(frozen=True)
class IntentSpec:
    phrases: list[str]  # ways people say it (Chinese)
    description: str = ""  # what the intent means, for people editing the file
    # a finer kind of another intent (visitor refines enter: a visitor asking to come in). That intent's
    # phrases also explain the rest of this one's sentence (我是访客，让我进去), and the two never compete on
    # the margin: the finer one wins when its phrase is heard.
    refines: str = ""


@dataclass(frozen=True)
class GrammarSpec:
    """The YAML file, field for field."""

    intents: dict[str, IntentSpec]
    version: int = 1
    threshold: float = 0.59  # minimum confidence to accept an intent
    margin: float = 0.05  # the best intent must beat the runner-up by this
    coverage_weight: float = 0.6  # penalty weight of syllables nothing in the grammar explains
    asr_prompt: str = DEFAULT_PROMPT  # Whisper initial prompt (neutral; never the expected sentence)
    asr_hotwords: str = ""  # words Whisper should expect (faster-whisper hotwords), e.g. "大白，小区"
    wake_words: list[str] = field(default_factory=list)  # 你好大白 …: explain syllables, never an intent alone
    fillers: list[str] = field(default_factory=list)  # 请, 一下, 吧 …: explain syllables around a phrase


@dataclass(frozen=True)
class Phrase:
    intent: str
    text: str
    pinyin: tuple[str, ...]


@dataclass(frozen=True)
class IntentGrammar:
    """A compiled grammar: every phrase with its pinyin."""

    spec: GrammarSpec
    phrases: tuple[Phrase, ...]
    extra: tuple[tuple[str, ...], ...]  # wake words and fillers as pinyin
    source: str  # file it came from

    @property
    def intents(self) -> list[str]:
        return list(self.spec.intents)


@dataclass(frozen=True)
class IntentMatch:
    intent: str  # an intent name, or "none"
    confidence: float  # of the decision: the intent's score, or for "none" 1 − best score
    phrase: str | None  # the grammar phrase that matched best (also for "none": the nearest one)
    text: str  # the transcript that was matched
    scores: dict[str, float]  # best score of every intent


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
        if name == NONE:
            raise ConfigError(f"{source}: intents.{NONE} is reserved for 'no intent'; rename it")
        if not intent.phrases:
            raise ConfigError(f"{source}: intents.{name}.phrases is empty")
        if intent.refines and (intent.refines not in spec.intents or intent.refines == name
                               or spec.intents[intent.refines].refines):
            raise ConfigError(f"{source}: intents.{name}.refines: {intent.refines!r} must name another intent "
                              f"that refines none itself; intents: {', '.join(spec.intents)}")
        for i, text in enumerate(intent.phrases):
            py = syllables(text)
            if not py:
                raise ConfigError(f"{source}: intents.{name}.phrases[{i}] {text!r} has no Chinese characters")
            phrases.append(Phrase(name, text, py))
    extra = tuple(py for w in (*spec.wake_words, *spec.fillers) if (py := syllables(w)))
    return IntentGrammar(spec, tuple(phrases), extra, source)


def recognize_intent(text: str, grammar: IntentGrammar | None = None) -> IntentMatch:
    """Score every intent against ``text`` and decide (threshold, then margin)."""
    grammar = grammar or load_grammar()
    scores, best_phrase = score_intents(text, grammar)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    top_name, top = ranked[0]
    rivals = [score for name, score in ranked[1:] if not _same_family(grammar, top_name, name)]
    runner_up = rivals[0] if rivals else 0.0
    rounded = {k: round(v, 4) for k, v in scores.items()}
    if top >= grammar.spec.threshold and top - runner_up >= grammar.spec.margin:
        return IntentMatch(top_name, round(top, 4), best_phrase.get(top_name), text, rounded)
    return IntentMatch(NONE, round(1.0 - top, 4), best_phrase.get(top_name), text, rounded)


def score_intents(text: str, grammar: IntentGrammar) -> tuple[dict[str, float], dict[str, str]]:
    """Per intent: best confidence and the phrase behind it."""
    heard = syllables(text)
    scores = {name: 0.0 for name in grammar.spec.intents}
    best: dict[str, str] = {}
    if not heard:
        return scores, best
    for phrase in grammar.phrases:
        score, start, end = align(phrase.pinyin, heard)
        if score <= scores[phrase.intent] or score <= 0.0:
            continue
        covered = [start <= j < end for j in range(len(heard))]
        _cover_same_intent(grammar, phrase.intent, heard, covered)
        find_exact(grammar.extra, heard, covered)
        unexplained = covered.count(False) / len(heard)
        conf = score * (1.0 - grammar.spec.coverage_weight * unexplained)
        if conf > scores[phrase.intent]:
            scores[phrase.intent] = conf
            best[phrase.intent] = phrase.text
    return scores, best


def _same_family(grammar: IntentGrammar, a: str, b: str) -> bool:
    """True when one of the intents refines the other (visitor / enter)."""
    return grammar.spec.intents[a].refines == b or grammar.spec.intents[b].refines == a


def _cover_same_intent(grammar: IntentGrammar, intent: str, heard: tuple[str, ...], covered: list[bool]) -> None:
    """Let further near-exact phrases of the same intent (or the one it refines) explain the rest
    (我回来了，开门让我进去; 我是访客，让我进去)."""
    family = {intent, grammar.spec.intents[intent].refines}
    for phrase in grammar.phrases:
        if phrase.intent not in family or all(covered):
            continue
        rest = tuple(s if not c else "\0" for s, c in zip(heard, covered))
        score, start, end = align(phrase.pinyin, rest)
        if score >= 0.85 and not any(covered[start:end]):
            for j in range(start, end):
                covered[j] = True
