"""``dabai asr``, ``dabai asr adapt``, ``dabai tts``, ``dabai speech …`` and ``dabai bench-speech``.

Thin wrappers over :mod:`dabai.speech`; heavy imports happen inside the commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dabai.cli.common import add_command, add_group, print_json
from dabai.core.errors import ConfigError, DabaiError

ASR_EXAMPLES = """\
  dabai asr request.wav                       # transcript, intent and confidence
  dabai asr clips/ --json                     # every audio file in a folder, one JSON object per line
  dabai asr a.wav b.wav --intents my-intents.yaml
  dabai asr a.wav --asr-model ~/models/faster-whisper-small   # any CTranslate2 Whisper folder
  dabai asr a.wav --asr-model small --allow-download          # a hub id: only when online and asked
  dabai asr adapt recordings/ --out intents.adapted.yaml      # tune on labelled clips (labels.tsv)
"""

TTS_EXAMPLES = """\
  dabai tts "您好，张三，欢迎回家，二维码有效请您通过。" --out welcome.wav
  dabai tts "请正确佩戴口罩。" --out mask.wav --voice zm_yunxi --rate 22050
  echo "请出示您的通行二维码。" | dabai tts - --out pass.wav
  dabai tts --list-voices
"""

SPEECH_EXAMPLES = """\
  dabai speech install          # pip packs + npm voices + espeak-ng, then assemble and verify (idempotent)
  dabai speech status --verify  # where the packs are, re-hashing them
  dabai speech prerender        # render the gate's replies table and every resident's greeting into the cache
"""

BENCH_EXAMPLES = """\
  dabai bench-speech --json bench-speech.json          # the issue-5 benchmark (also: dabai bench speech)
  dabai bench-speech --voices zf_xiaobei --quick       # a smoke run
  dabai bench speech --holdout --json holdout.json     # held-out voices and phrasings, noise, speed (issue 17)
  dabai bench speech --holdout --phrasings 4 --conditions clean,babble10   # a subset (reported as one)
"""


def register(sub) -> None:
    _register_asr(sub)
    _register_tts(sub)
    _register_speech(sub)
    if not _bench_module_exists():
        p = add_command(sub, "bench-speech", run_bench_command, "speech benchmark: intent accuracy, false accepts, CER, RTF, latency",
                        BENCH_EXAMPLES)
        add_bench_arguments(p)


def _register_asr(sub) -> None:
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
    a = p.add_argument_group("options of 'dabai asr adapt DIR'")
    a.add_argument("--out", metavar="FILE", help="where to write the adapted grammar (default DIR/intents.adapted.yaml)")
    a.add_argument("--holdout", type=float, default=0.0, help="share of clips kept out of tuning to report on (0–0.9)")


def _register_tts(sub) -> None:
    p = add_command(
        sub, "tts", _cmd_tts, "speak Mandarin text into a WAV file (Kokoro-82M; espeak-ng fallback)", TTS_EXAMPLES,
        description="Synthesize natural Mandarin with Kokoro-82M (int8 ONNX, misaki[zh] G2P), or espeak-ng when the "
                    "Kokoro pack is missing. Writes mono 16-bit WAV at --rate, loudness-normalised, silence trimmed.")
    p.add_argument("text", nargs="?", help="text to speak ('-' reads standard input)")
    p.add_argument("--out", "-o", metavar="FILE.wav", help="output WAV path")
    p.add_argument("--voice", help="voice name (default zf_xiaobei; see --list-voices)")
    p.add_argument("--rate", type=int, default=44100, help="output sample rate in Hz (default 44100)")
    p.add_argument("--speed", type=float, default=1.0, help="speaking rate factor, 0.5–2 (default 1)")
    p.add_argument("--engine", choices=["auto", "kokoro", "espeak"], default="auto", help="TTS engine (default auto)")
    p.add_argument("--no-trim", action="store_true", help="keep leading/trailing silence")
    p.add_argument("--no-normalize", action="store_true", help="keep the engine's level")
    p.add_argument("--list-voices", action="store_true", help="print the installed voices and exit")


def _register_speech(sub) -> None:
    g = add_group(sub, "speech", "speech model packs and the reply cache", SPEECH_EXAMPLES)
    p = add_command(g, "install", _cmd_install, "install the speech packs from the registries (idempotent)",
                    "  dabai speech install\n  dabai speech install --no-espeak --json\n")
    p.add_argument("--no-espeak", action="store_true", help="skip apt-get install espeak-ng (the TTS fallback)")
    p.add_argument("--json", action="store_true", help="print what each step did as JSON")
    p = add_command(g, "status", _cmd_status, "where the speech packs are and whether they verify",
                    "  dabai speech status\n  dabai speech status --verify --json\n")
    p.add_argument("--verify", action="store_true", help="re-hash every file (sha256) instead of trusting the stamp")
    p.add_argument("--json", action="store_true", help="JSON output")
    p = add_command(g, "prerender", _cmd_prerender,
                    "render the gate's replies (its one table, with gate.yaml's overrides and voice) and every active "
                    "resident's greeting into the reply cache",
                    "  dabai speech prerender\n  dabai speech prerender --home /var/lib/dabai --json\n")
    p.add_argument("--home", help="gate home (default: $DABAI_HOME or ~/.dabai)")
    p.add_argument("--db", help="registry URL (default: $DABAI_DB or SQLite in the home)")
    p.add_argument("--config", help="gate config YAML (default: HOME/gate.yaml when present)")
    p.add_argument("--json", action="store_true", help="JSON output")


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
                      max_seconds=args.max_seconds, window_s=args.window)


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
    print(f"clips: {report.clips}")
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


def _cmd_tts(args: argparse.Namespace) -> int:
    from dabai.audio.io import write_wav
    from dabai.speech.tts import TTSOptions, speech_note, synthesize, voices

    if args.list_voices:
        print("\n".join(voices(args.engine)))
        return 0
    if not args.text or not args.out:
        raise ConfigError("give the text and --out FILE.wav (or --list-voices)")
    text = sys.stdin.read() if args.text == "-" else args.text
    out = Path(args.out)
    if out.suffix.lower() != ".wav":
        raise ConfigError(f"--out {out}: expected a .wav path")
    opts = TTSOptions(speed=args.speed, engine=args.engine, trim=not args.no_trim, normalize=not args.no_normalize)
    audio = synthesize(text, voice=args.voice, rate=args.rate, options=opts)
    write_wav(audio, out)
    print(f"{out}: {audio.duration_s:.2f} s at {audio.rate} Hz")
    note = speech_note(args.engine)
    if note:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _cmd_install(args: argparse.Namespace) -> int:
    from dabai.speech.install import install

    done = install(espeak=not args.no_espeak)
    if args.json:
        print_json(done)
    else:
        for key, value in done.items():
            print(f"{key}: {value}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    import shutil

    from dabai.speech import models

    status: dict = {"install_dir": str(models.install_dir()), "search": [str(p) for p in models.cache_dirs()]}
    problems = 0
    for pack in (models.WHISPER_BASE, models.KOKORO):
        found = models.pack_location(pack)
        folder = found[0] if found else None
        entry = {"folder": str(folder) if folder else None, "location": found[1] if found else None,
                 "sources_installed": models.sources_installed(pack)}
        if folder is not None:
            try:
                models.check_pack(pack, folder, rehash=args.verify)
                entry["ok"] = True
            except DabaiError as exc:
                entry["ok"], entry["error"] = False, str(exc)
        else:
            entry["ok"] = False
        problems += not entry["ok"]
        status[pack.name] = entry
    status["voices"] = models.available_voices()
    status["espeak-ng"] = shutil.which("espeak-ng")
    if args.json:
        print_json(status)
    else:
        for key, value in status.items():
            print(f"{key}: {value}")
        if problems:
            print(models.INSTALL_HINT)
    return 1 if problems else 0


def _cmd_prerender(args: argparse.Namespace) -> int:
    from dabai.gate.context import open_gate
    from dabai.gate.replies import ReplyVoice, prerender_replies
    from dabai.gate.residents import list_residents

    home, cfg, reg = open_gate(args.home, args.db, args.config)
    report = prerender_replies(ReplyVoice(home.root, cfg.voice), cfg, list_residents(reg))
    if args.json:
        print_json(report.to_json())
    else:
        print(f"{len(report.replies)} replies and {len(report.greetings)} greetings cached in {report.cache_dir}")
        if report.speech_note:
            print(f"note: {report.speech_note}", file=sys.stderr)
    if not report.replies:
        raise DabaiError(f"nothing was rendered: {report.speech_note}")
    return 0


def _bench_module_exists() -> bool:
    import importlib.util

    return importlib.util.find_spec("dabai.cli.bench") is not None


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the speech benchmark (also used by 'dabai bench speech' when that group exists)."""
    p.add_argument("--json", metavar="FILE", help="write all figures as JSON here")
    p.add_argument("--voices", help="comma-separated voices (default: every installed Chinese voice)")
    p.add_argument("--quick", action="store_true", help="fewer sentences (a smoke run, not the benchmark)")
    p.add_argument("--all-intents", action="store_true", help="also speak the leave/visitor/help commands")
    p.add_argument("--threads", type=int, default=0,
                   help="ASR/TTS threads (default: theirs); 1 makes CPU seconds a fair RTF on a busy machine")
    p.add_argument("--home", type=Path, help="folder for the reply-cache latency test (default: a temp dir)")
    h = p.add_argument_group("the held-out benchmark (--holdout)")
    h.add_argument("--holdout", action="store_true",
                   help="entry requests as the gate decides them, from unseen voices (blends) and held-out phrasings, "
                        "clean / 10 dB white / 10 dB babble / speed 0.9 and 1.1; false accepts; RTF; unseen names")
    h.add_argument("--conditions", help="comma-separated subset of clean,white10,babble10,speed0.9,speed1.1")
    h.add_argument("--phrasings", type=int, default=0, help="only the first N entry phrasings (default: all)")
    h.add_argument("--non-entry", type=int, default=0, help="only the first N non-entry sentences (default: all)")
    h.add_argument("--no-names", action="store_true", help="skip the unseen-names greeting check")
    h.add_argument("--set", dest="phrasing_set", choices=("holdout", "unseen"), default="holdout",
                   help="phrasings and names: 'holdout' (the first held-out set, since tuned on) or 'unseen' "
                        "(never tuned on)")
    h.add_argument("--text", action="store_true",
                   help="decide the set's sentences as text only (no TTS, no ASR): the recogniser on perfect transcripts")
    h.add_argument("--rescore", metavar="FILE", type=Path,
                   help="decide again with the current grammar on the transcripts of an earlier run (its --json or "
                        ".partial.json); nothing is synthesised or transcribed")
    h.add_argument("--judge-model", metavar="DIR",
                   help="other CTranslate2 Whisper weights to transcribe the greetings (default: the gate's weights; "
                        "the judge always decodes with faster-whisper's own settings, not the gate's)")


def run_bench_command(args: argparse.Namespace) -> int:
    from dabai.gate.reply_bench import run_benchmark
    from dabai.speech.bench import BenchOptions, format_report

    voices = [v.strip() for v in args.voices.split(",")] if args.voices else None
    if args.holdout:
        return _run_holdout(args, voices)
    partial = Path(args.json).with_suffix(".partial.json") if args.json else None
    result = run_benchmark(BenchOptions(voices=voices, quick=args.quick, home=args.home, all_intents=args.all_intents,
                                       threads=args.threads),
                           partial=partial)
    print(format_report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0 if result["targets_met"] else 1


def _run_holdout(args: argparse.Namespace, voices: list[str] | None) -> int:
    from dabai.gate.speech_bench import CONDITIONS, HoldoutOptions, format_holdout, rescore_holdout, run_holdout

    if args.text:
        from dabai.gate.speech_bench import format_text_scores, score_text

        scores = score_text(args.phrasing_set)
        print(format_text_scores(scores))
        if args.json:
            Path(args.json).write_text(json.dumps(scores, ensure_ascii=False, indent=2), encoding="utf-8")
        return 0 if all(s["entry_recognised"] == s["entry"] and not s["false_accepts"] for s in scores.values()) else 1
    if args.rescore is not None:
        from dabai.core.errors import DataError

        try:
            saved = json.loads(args.rescore.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read a benchmark result ({exc})", args.rescore) from None
        if not isinstance(saved, dict):
            raise DataError("not a held-out benchmark result (expected a JSON object)", args.rescore)
        result = rescore_holdout(saved)
        print(format_holdout(result))
        if args.json:
            Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
            print(f"wrote {args.json}")
        return 0 if result["targets_met"] else 1
    conditions = tuple(c.strip() for c in args.conditions.split(",")) if args.conditions else CONDITIONS
    opts = HoldoutOptions(voices=tuple(voices) if voices else HoldoutOptions.voices, conditions=conditions,
                          phrasings=args.phrasings, non_entry=args.non_entry, names=not args.no_names,
                          threads=args.threads, judge_model=args.judge_model, phrasing_set=args.phrasing_set)
    result = run_holdout(opts, partial=Path(args.json).with_suffix(".partial.json") if args.json else None)
    print(format_holdout(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0 if result["targets_met"] else 1
