"""``dabai asr adapt DIR``: tune the intent grammar on a team's own labelled recordings.

The offline counterpart of fine-tuning ASR on ~70 clips: the Whisper weights
stay as they are, but what turns its output into a decision is fitted to the
team's voices and microphone:

1. every clip is transcribed with the current prompt and with a hotword prompt
   (the grammar's key words), and the prompt with more correct intents wins;
2. threshold, margin and coverage weight are grid-searched for the most
   correct intents with the fewest false accepts (a clip labelled ``none``, or
   another intent, that gets an intent), taking the middle of the best range;
3. a command clip that is still missed adds its transcript as a new phrasing
   of its intent (the ASR's habitual mishearing), unless that causes a false accept.

Labels: ``labels.tsv`` (``file<TAB>intent``, optional third column: what was
said) or ``labels.csv`` with columns ``file,intent[,text]`` in DIR. Intent
``none`` marks a clip that is not a command. The adapted grammar is written as
YAML for ``dabai asr --intents FILE``.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from dabai.core.config import save_yaml
from dabai.core.errors import DataError
from dabai.speech.intent import (
    NONE,
    GrammarSpec,
    IntentGrammar,
    compile_grammar,
    decide_intent,
    load_grammar,
    score_intents,
)
from dabai.speech.pinyin import syllables

THRESHOLDS = [round(0.50 + 0.01 * i, 2) for i in range(48)]  # 0.50 … 0.97
MARGINS = [0.0, 0.05, 0.1, 0.15]
COVERAGE = [0.3, 0.45, 0.6, 0.75]


@dataclass(frozen=True)
class Clip:
    path: Path
    intent: str  # label
    text: str | None = None  # what was said, if given


@dataclass(frozen=True)
class Score:
    accuracy: float  # share of clips whose intent (or none) is right
    false_accepts: int  # clips that got an intent they are not labelled with
    correct: int
    total: int


@dataclass
class AdaptReport:
    clips: int
    before: Score
    after: Score
    holdout_before: Score | None
    holdout_after: Score | None
    prompt: str
    hotwords: str  # chosen hotwords ("" when the plain prompt won)
    hotwords_tried: str
    threshold: float
    margin: float
    coverage_weight: float
    added_phrases: dict[str, list[str]] = field(default_factory=dict)
    output: str | None = None
    mistakes: list[dict] = field(default_factory=list)  # after tuning, on all clips


def read_clips(folder: str | Path) -> list[Clip]:
    """Labelled clips of ``folder`` (labels.tsv or labels.csv)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError("folder not found", folder)
    tsv, csv_path = folder / "labels.tsv", folder / "labels.csv"
    rows: list[tuple[int, list[str]]] = []
    if tsv.is_file():
        labels = tsv
        for i, line in enumerate(tsv.read_text(encoding="utf-8-sig").splitlines(), start=1):
            if line.strip() and not line.startswith("#"):
                rows.append((i, line.split("\t")))
    elif csv_path.is_file():
        labels = csv_path
        reader = csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines())
        for i, row in enumerate(reader, start=1):
            if row and not (i == 1 and row[0].strip().lower() == "file"):
                rows.append((i, row))
    else:
        raise DataError("no labels.tsv (file<TAB>intent[<TAB>text]) or labels.csv (file,intent[,text]) here", folder)
    clips = []
    for line, row in rows:
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise DataError("expected at least 'file' and 'intent' columns", labels, line)
        path = folder / row[0].strip()
        if not path.is_file():
            raise DataError(f"labelled file {row[0].strip()!r} does not exist", labels, line)
        text = row[2].strip() if len(row) > 2 and row[2].strip() else None
        clips.append(Clip(path, row[1].strip(), text))
    if not clips:
        raise DataError("has no labelled clips", labels)
    return clips


def evaluate(transcripts: list[str], clips: list[Clip], grammar: IntentGrammar) -> tuple[Score, list[str]]:
    """Score a grammar on already-transcribed clips; returns the score and the predictions."""
    from dabai.speech.intent import recognize_intent

    preds = [recognize_intent(t, grammar).intent for t in transcripts]
    return _score(preds, clips), preds


def adapt(folder: str | Path, grammar: IntentGrammar | None = None, options=None, out: str | Path | None = None,
          holdout: float = 0.0, seed: int = 0, transcriber=None) -> AdaptReport:
    """Tune ``grammar`` on the clips in ``folder``; write the result to ``out`` (default DIR/intents.adapted.yaml)."""
    from dabai.speech.asr import ASROptions, Recognizer

    grammar = grammar or load_grammar()
    clips = read_clips(folder)
    unknown = sorted({c.intent for c in clips} - set(grammar.intents) - {NONE})
    if unknown:
        raise DataError(f"labels use intents {unknown} that the grammar {grammar.source} does not define "
                        f"(known: {', '.join(grammar.intents)}, {NONE})", Path(folder))
    train, test = _split(clips, holdout, seed)
    base = options or ASROptions()
    hotwords = key_words(grammar)
    prompts = [(grammar.spec.asr_prompt, grammar.spec.asr_hotwords or None), (grammar.spec.asr_prompt, hotwords)]
    if transcriber is None:
        loaded = Recognizer(base, grammar)
        recognizers = [loaded.with_options(prompt=p, hotwords=h or "") for p, h in prompts]
        transcriber = lambda clip, k: recognizers[k].transcribe(clip.path).text  # noqa: E731
    from tqdm import tqdm

    jobs = [(k, c) for k in range(len(prompts)) for c in clips]
    bar = tqdm(jobs, desc="transcribing", unit="clip", disable=None, leave=False)
    texts = [transcriber(c, k) for k, c in bar]
    heard = [texts[k * len(clips):(k + 1) * len(clips)] for k in range(len(prompts))]
    index = {c.path: i for i, c in enumerate(clips)}
    tr = [index[c.path] for c in train]
    before, _ = evaluate([heard[0][i] for i in tr], train, grammar)
    best = None
    for k in range(len(prompts)):
        texts = [heard[k][i] for i in tr]
        spec, score = _tune(texts, train, grammar.spec)
        if best is None or (score.false_accepts, -score.correct) < (best[2].false_accepts, -best[2].correct):
            best = (k, spec, score)
    k, spec, _ = best
    spec, added = _learn_phrases([heard[k][i] for i in tr], train, spec)
    prompt, hot = prompts[k]
    spec = replace(spec, asr_prompt=prompt, asr_hotwords=hot or "")
    tuned = compile_grammar(spec, str(out or Path(folder) / "intents.adapted.yaml"))
    after, preds = evaluate([heard[k][i] for i in tr], train, tuned)
    report = AdaptReport(len(clips), before, after, None, None, spec.asr_prompt, spec.asr_hotwords, hotwords,
                         spec.threshold, spec.margin, spec.coverage_weight, added)
    if test:
        te = [index[c.path] for c in test]
        report.holdout_before = evaluate([heard[0][i] for i in te], test, grammar)[0]
        report.holdout_after = evaluate([heard[k][i] for i in te], test, tuned)[0]
    all_preds = evaluate(heard[k], clips, tuned)[1]
    report.mistakes = [{"file": str(c.path), "label": c.intent, "predicted": p, "heard": heard[k][i]}
                       for i, (c, p) in enumerate(zip(clips, all_preds)) if p != c.intent]
    out_path = Path(out) if out else Path(folder) / "intents.adapted.yaml"
    save_yaml(spec, out_path)
    report.output = str(out_path)
    return report


def key_words(grammar: IntentGrammar, limit: int = 8) -> str:
    """Hotwords for the prompt: the wake word plus the words that occur most in the phrases."""
    import logging
    from collections import Counter

    from dabai.core.errors import require

    jieba = require("jieba", "speech")
    jieba.setLogLevel(logging.WARNING)
    counts: Counter[str] = Counter()
    for phrase in grammar.phrases:
        # content words only: 我要/我来 and the like say nothing about the vocabulary
        counts.update(w for w in jieba.lcut(phrase.text) if len(w) >= 2 and not set(w) & set("我你您让请要想来是"))
    words = [w for w in grammar.spec.wake_words[:1]] + [w for w, _ in counts.most_common(limit)]
    return "，".join(dict.fromkeys(words))


def _tune(texts: list[str], clips: list[Clip], spec: GrammarSpec) -> tuple[GrammarSpec, Score]:
    """Grid search of threshold × margin × coverage weight.

    Fewest false accepts first, then most correct; ties keep the current margin
    and coverage weight. Within a (margin, weight) the threshold is the middle of
    the run of equally good thresholds, the choice that generalises best.
    """
    candidates = []
    for cw in COVERAGE:
        grammar = compile_grammar(replace(spec, coverage_weight=cw))
        scored = [score_intents(t, grammar)[0] for t in texts]
        for margin in MARGINS:
            run = [(th, _score([decide_intent(sc, grammar, th, margin) for sc in scored], clips))
                   for th in THRESHOLDS]
            top = max((s for _, s in run), key=lambda s: (-s.false_accepts, s.correct))
            equal = [th for th, s in run if (s.false_accepts, s.correct) == (top.false_accepts, top.correct)]
            key = (-top.false_accepts, top.correct, cw == spec.coverage_weight, margin == spec.margin)
            tuned = replace(spec, threshold=equal[len(equal) // 2], margin=margin, coverage_weight=cw)
            candidates.append((key, tuned, top))
    _, tuned, top = max(candidates, key=lambda c: c[0])
    return tuned, top


def _learn_phrases(texts: list[str], clips: list[Clip], spec: GrammarSpec) -> tuple[GrammarSpec, dict[str, list[str]]]:
    """Add missed commands' transcripts as phrasings when that adds no false accept."""
    added: dict[str, list[str]] = {}
    grammar = compile_grammar(spec)
    score, preds = evaluate(texts, clips, grammar)
    for text, clip, pred in zip(texts, clips, preds):
        if clip.intent == NONE or pred == clip.intent or len(syllables(text)) < 3:
            continue
        intents = dict(spec.intents)
        old = intents[clip.intent]
        intents[clip.intent] = replace(old, phrases=[*old.phrases, text])  # keeps description and refines
        candidate = replace(spec, intents=intents)
        new_score, _ = evaluate(texts, clips, compile_grammar(candidate))
        if new_score.false_accepts <= score.false_accepts and new_score.correct > score.correct:
            spec, score = candidate, new_score
            added.setdefault(clip.intent, []).append(text)
    return spec, added


def _score(preds: list[str], clips: list[Clip]) -> Score:
    correct = sum(p == c.intent for p, c in zip(preds, clips))
    fa = sum(p != NONE and p != c.intent for p, c in zip(preds, clips))
    return Score(round(correct / len(clips), 4) if clips else 0.0, fa, correct, len(clips))


def _split(clips: list[Clip], holdout: float, seed: int) -> tuple[list[Clip], list[Clip]]:
    if not 0.0 <= holdout < 1.0:
        raise DataError(f"holdout must be in [0, 1), got {holdout}")
    if holdout == 0.0:
        return clips, []
    order = list(range(len(clips)))
    random.Random(seed).shuffle(order)
    n_test = max(1, int(round(holdout * len(clips))))
    test = {i for i in order[:n_test]}
    return [c for i, c in enumerate(clips) if i not in test], [c for i, c in enumerate(clips) if i in test]
