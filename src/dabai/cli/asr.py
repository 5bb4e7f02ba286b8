"""``dabai asr``: transcribe Mandarin audio and recognise the request; ``dabai asr adapt DIR`` tunes the grammar.

Thin wrapper over :mod:`dabai.speech`; heavy imports happen inside the command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dabai.cli.common import add_command, print_json
from dabai.core.errors import ConfigError, DabaiError

ASR_EXAMPLES = """\
  dabai asr request.wav                       # transcript, intent and confidence
  dabai asr clips/ --json                     # every audio file in a folder, one JSON object per line
  dabai asr a.wav b.wav --intents my-intents.yaml
  dabai asr a.wav --asr-model ~/models/faster-whisper-small   # any CTranslate2 Whisper folder
  dabai asr a.wav --asr-model small --allow-download          # a hub id: only when online and asked
  dabai asr adapt recordings/ --out intents.adapted.yaml      # tune on labelled clips (labels.tsv)
"""


def register(sub) -> None:
    p = add_command(
        sub, "asr", _cmd_asr, "transcribe Mandarin audio and recognise the request (enter, leave, …)", ASR_EXAMPLES,
        description="Transcribe Mandarin recordings (faster-whisper, Whisper base int8, VAD) into Simplified "
                    "Chinese and match the transcript against the intent grammar by pinyin.\n\n"
                    "'dabai asr adapt DIR' tunes the grammar on a folder of labelled recordings: DIR holds WAVs and "
                    "labels.tsv (file<TAB>intent[<TAB>text]) or labels.csv (file,intent[,text]); intent 'none' marks "
                    "a clip that is not a command. It reports intent accuracy and false accepts before and after, "
                    "and writes the adapted grammar for --intents.")
    p.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files or folders (or: adapt DIR)")
    p.add_argument("--json", action="store_true", help="one JSON object per file (file, text, intent, confidence, …)")
    p.add_argument("--intents", metavar="FILE", help="intent grammar YAML (default: the packaged one)")
    p.add_argument("--asr-model", metavar="DIR|ID", help="CTranslate2 Whisper folder (default: the whisper-base pack)")
    p.add_argument("--allow-download", action="store_true", help="allow --asr-model to be a hub id fetched online")
    p.add_argument("--beam-size", type=int, default=1, help="beam size (default 1: greedy, fastest)")
    p.add_argument("--no-vad", action="store_true", help="do not drop non-speech with Silero VAD")
    p.add_argument("--prompt", help="initial prompt (default: the grammar's neutral asr_prompt)")
    p.add_argument("--hotwords", help="words to expect, e.g. '大白，小区' (default: the grammar's)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: all cores, at most 4)")
    p.add_argument("--max-seconds", type=float, default=600.0, help="refuse longer recordings (default 600)")
    p.add_argument("--window", type=float, default=10.0, metavar="SECONDS",
                   help="Whisper encoder window for shorter clips (default 10; 30 = Whisper's own, ~3x slower on a 3-s request)")
    p.add_argument("--max-tokens-per-second", type=float, default=30.0, metavar="N",
                   help="bound each decode at N tokens a second of audio, plus 32, at most 224 (default 30; "
                        "0 = Whisper's own 448-token limit, which loops over noise can reach)")
    a = p.add_argument_group("options of 'dabai asr adapt DIR'")
    a.add_argument("--out", metavar="FILE", help="where to write the adapted grammar (default DIR/intents.adapted.yaml)")
    a.add_argument("--holdout", type=float, default=0.0, help="share of clips kept out of tuning to report on (0–0.9)")


def _cmd_asr(args: argparse.Namespace) -> int:
    if args.inputs[0] == "adapt" and not Path("adapt").exists():
        return _cmd_adapt(args)
    if args.out or args.holdout:
        raise ConfigError("--out and --holdout belong to 'dabai asr adapt DIR'")
    from dabai.audio.io import expand_inputs
    from dabai.speech.asr import get_recognizer
    from dabai.speech.intent import load_grammar

    files = expand_inputs(args.inputs)
    grammar = load_grammar(args.intents) if args.intents else None
    rec = get_recognizer(_asr_options(args), grammar)
    failed = 0
    for f in files:
        try:
            t = rec.transcribe(f)
        except DabaiError as exc:  # report this file, go on with the others, exit non-zero at the end
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            if args.json:
                print(json.dumps({"file": str(f), "error": str(exc)}, ensure_ascii=False))
            continue
        if args.json:
            print(json.dumps(t.to_dict(), ensure_ascii=False))
        else:
            print(f"{f}\t{t.intent} ({t.confidence:.2f})\t{t.text}")
        sys.stdout.flush()
    return 2 if failed else 0


def _asr_options(args: argparse.Namespace):
    from dabai.speech.asr import ASROptions

    if args.beam_size < 1:
        raise ConfigError(f"--beam-size must be at least 1, got {args.beam_size}")
    return ASROptions(model=args.asr_model, allow_download=args.allow_download, beam_size=args.beam_size,
                      vad=not args.no_vad, prompt=args.prompt, hotwords=args.hotwords, threads=args.threads,
                      max_seconds=args.max_seconds, window_s=args.window,
                      max_tokens_per_second=args.max_tokens_per_second)


def _cmd_adapt(args: argparse.Namespace) -> int:
    from dabai.core.config import to_dict
    from dabai.speech.adapt import adapt
    from dabai.speech.intent import load_grammar

    if len(args.inputs) != 2:
        raise ConfigError("usage: dabai asr adapt DIR [--out FILE] [--holdout F] (one folder of labelled clips)")
    grammar = load_grammar(args.intents) if args.intents else None
    report = adapt(args.inputs[1], grammar, _asr_options(args), args.out, args.holdout)
    if args.json:
        print_json(to_dict(report))
        return 0
    b, a = report.before, report.after
    print(f"clips: {report.clips} (decided {'with their audio, as the gate decides' if report.audio_checks else 'by the text alone'})")
    print(f"before: intent accuracy {b.accuracy:.1%} ({b.correct}/{b.total}), false accepts {b.false_accepts}")
    print(f"after:  intent accuracy {a.accuracy:.1%} ({a.correct}/{a.total}), false accepts {a.false_accepts}")
    if report.holdout_after is not None:
        hb, ha = report.holdout_before, report.holdout_after
        print(f"held-out before: {hb.accuracy:.1%}, false accepts {hb.false_accepts}; "
              f"after: {ha.accuracy:.1%}, false accepts {ha.false_accepts}")
    print(f"threshold {report.threshold}, margin {report.margin}, coverage weight {report.coverage_weight}, "
          f"hotwords: {report.hotwords or '(none)'}")
    for intent, phrases in report.added_phrases.items():
        print(f"added to {intent}: {', '.join(phrases)}")
    for m in report.mistakes:
        print(f"still wrong: {m['file']}: {m['label']} → {m['predicted']} (heard {m['heard']!r})")
    print(f"wrote {report.output}  (use it with: dabai asr AUDIO --intents {report.output})")
    return 0
