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

Spoken clips are decided as the gate decides them (:func:`dabai.speech.intent.decide_spoken`): sound-alike
matches checked against each clip's audio, an unsure sound before a request asked again (an ``unclear``
decision counts as no intent: right for a ``none`` clip, a miss for a command). A ``transcriber`` that returns
only text (tests, stored transcripts) is decided by sound alone, as typed text is.

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
    UNCLEAR,
    GrammarSpec,
    Hearing,
    IntentGrammar,
    compile_grammar,
    decide_intent,
    decide_spoken,
    load_grammar,
    recognize_intent,
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
    audio_checks: bool = False  # clips decided with their audio, as the gate does (False: by the text alone)


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


def evaluate(transcripts: list[str], clips: list[Clip], grammar: IntentGrammar,
             hearings: list[Hearing | None] | None = None) -> tuple[Score, list[str]]:
    """Score a grammar on already-transcribed clips; returns the score and the predictions. With ``hearings``
    (each clip's audio, :meth:`dabai.speech.asr.Recognizer.hearing`; None for a clip without), a clip is decided
    as the gate decides a spoken turn (:func:`decide_spoken`, with the grammar's own prompt and hotwords);
    ``unclear`` counts as no intent."""
    if hearings is None:
        preds = [recognize_intent(t, grammar).intent for t in transcripts]
    else:
        spec = grammar.spec
        preds = [decide_spoken(t, grammar, h, spec.asr_prompt, spec.asr_hotwords).match.intent if h is not None
                 else recognize_intent(t, grammar).intent for t, h in zip(transcripts, hearings)]
    preds = [NONE if p == UNCLEAR else p for p in preds]
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
        transcriber = lambda clip, k: _listen(recognizers[k], clip.path)  # noqa: E731
    from tqdm import tqdm

    jobs = [(k, c) for k in range(len(prompts)) for c in clips]
    bar = tqdm(jobs, desc="transcribing", unit="clip", disable=None, leave=False)
    got = [transcriber(c, k) for k, c in bar]
    pairs = [(g, None) if isinstance(g, str) else g for g in got]  # text, or (text, the clip's hearing)
    heard = [[t for t, _ in pairs[k * len(clips):(k + 1) * len(clips)]] for k in range(len(prompts))]
    audio = [[h for _, h in pairs[k * len(clips):(k + 1) * len(clips)]] for k in range(len(prompts))]
    spoken = any(h is not None for _, h in pairs)
    index = {c.path: i for i, c in enumerate(clips)}
    tr = [index[c.path] for c in train]

    def on(k: int, rows: list[int]) -> tuple[list[str], list | None]:
        return [heard[k][i] for i in rows], [audio[k][i] for i in rows] if spoken else None

    def with_prompt(spec: GrammarSpec, k: int) -> GrammarSpec:
        return replace(spec, asr_prompt=prompts[k][0], asr_hotwords=prompts[k][1] or "")

    texts, hearings = on(0, tr)
    before, _ = evaluate(texts, train, grammar, hearings)
    best = None
    for k in range(len(prompts)):
        spec, score = _tune(*on(k, tr), train, with_prompt(grammar.spec, k))
        if best is None or (score.false_accepts, -score.correct) < (best[2].false_accepts, -best[2].correct):
            best = (k, spec, score)
    k, spec, _ = best
    spec, added = _learn_phrases(*on(k, tr), train, spec)
    tuned = compile_grammar(spec, str(out or Path(folder) / "intents.adapted.yaml"))
    texts, hearings = on(k, tr)
    after, preds = evaluate(texts, train, tuned, hearings)
    report = AdaptReport(len(clips), before, after, None, None, spec.asr_prompt, spec.asr_hotwords, hotwords,
                         spec.threshold, spec.margin, spec.coverage_weight, added)
    report.audio_checks = spoken
    if test:
        te = [index[c.path] for c in test]
        texts0, hearings0 = on(0, te)
        report.holdout_before = evaluate(texts0, test, grammar, hearings0)[0]
        texts, hearings = on(k, te)
        report.holdout_after = evaluate(texts, test, tuned, hearings)[0]
    all_preds = evaluate(heard[k], clips, tuned, audio[k] if spoken else None)[1]
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


def _tune(texts: list[str], hearings: list[Hearing | None] | None, clips: list[Clip],
          spec: GrammarSpec) -> tuple[GrammarSpec, Score]:
    """Grid search of threshold × margin × coverage weight.

    Fewest false accepts first, then most correct; ties keep the current margin
    and coverage weight. Within a (margin, weight) the threshold is the middle of
    the run of equally good thresholds, the choice that generalises best. With
    ``hearings``, sound-alike matches are checked against each clip's audio (which
    matches are checked follows the grammar's current threshold); the re-ask of an
    unsure sound is left to the final evaluation.
    """
    candidates = []
    hearings = hearings or [None] * len(texts)
    for cw in COVERAGE:
        grammar = compile_grammar(replace(spec, coverage_weight=cw))
        scored = [score_intents(t, grammar, hearing=h)[0] for t, h in zip(texts, hearings)]
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


def _learn_phrases(texts: list[str], hearings: list[Hearing | None] | None, clips: list[Clip],
                   spec: GrammarSpec) -> tuple[GrammarSpec, dict[str, list[str]]]:
    """Add missed commands' transcripts as phrasings when that adds no false accept."""
    added: dict[str, list[str]] = {}
    grammar = compile_grammar(spec)
    score, preds = evaluate(texts, clips, grammar, hearings)
    for text, clip, pred in zip(texts, clips, preds):
        if clip.intent == NONE or pred == clip.intent or len(syllables(text)) < 3:
            continue
        intents = dict(spec.intents)
        old = intents[clip.intent]
        intents[clip.intent] = replace(old, phrases=[*old.phrases, text])  # keeps description and refines
        candidate = replace(spec, intents=intents)
        new_score, _ = evaluate(texts, clips, compile_grammar(candidate), hearings)
        if new_score.false_accepts <= score.false_accepts and new_score.correct > score.correct:
            spec, score = candidate, new_score
            added.setdefault(clip.intent, []).append(text)
    return spec, added


def _listen(recognizer, path: Path) -> tuple[str, Hearing]:
    """What the gate's ASR writes for a clip, and the clip's audio to check texts against."""
    from dabai.audio.io import read_audio
    from dabai.speech.asr import RATE

    audio = read_audio(path, RATE)
    text, _, heard_by = recognizer.listen(audio)  # an echo of the prompt decoded again without it, as the gate does
    return text, heard_by.hearing(audio)


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
