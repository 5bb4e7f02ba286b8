"""``dabai bench``: honest latency and throughput figures.

    dabai bench --model M [--batch 1 8] [--threads 1 2]       in-process detector latency (target 'detector')
    dabai bench --url URL [--concurrency 1 2 4 8 16]          HTTP load on `dabai serve` (target 'http')
    dabai bench gate …  /  dabai bench speech …               the gate and speech benchmarks

The targets are sub-commands; without one, --model means 'detector' and --url
'http'. 'gate' and 'speech' run the benchmarks of those packages (``dabai.gate.bench``,
``dabai.speech.bench``, ``dabai.gate.speech_bench``) with their own options. Every target prints JSON on
stdout with ``--json`` and writes it to a file with ``--out FILE``. ``dabai bench-gate`` (the old spelling
of ``dabai bench gate``) still works in this release, with a warning.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dabai.cli.common import (
    add_command,
    add_group,
    deprecated_command,
    json_flag_or_file,
    print_json,
    resolve_json_file,
)
from dabai.core.errors import ConfigError

EXAMPLES = """\
  dabai bench --model mask_detector.onnx --batch 1 8 --threads 1 2 --seconds 10
  dabai bench --model fp32.onnx int8.onnx --batch 1 --threads 1 --json      # two models, same run
  dabai bench --url http://127.0.0.1:8000 --concurrency 1 2 4 8 16 --seconds 15 --image face.jpg
  dabai bench gate --runs 50
  dabai bench speech --quick
  dabai bench speech --out bench-speech.json                # the issue-5 speech benchmark
"""

SPEECH_EXAMPLES = """\
  dabai bench speech --out bench-speech.json          # the issue-5 benchmark, figures written to a file
  dabai bench speech --voices zf_xiaobei --quick      # a smoke run
  dabai bench speech --holdout --out holdout.json     # held-out voices and phrasings, noise, speed (issue 17)
  dabai bench speech --holdout --phrasings 4 --conditions clean,babble10   # a subset (reported as one)
"""

GATE_EXAMPLES = "  dabai bench gate --runs 50\n  dabai bench gate --runs 30 --json\n"


def register(sub) -> None:
    group = add_group(sub, "bench", "benchmarks: detector latency (--model), HTTP load (--url), gate, speech", EXAMPLES)
    bench_parser = sub.choices["bench"]  # the group's own parser: `dabai bench --model/--url` without a target
    _detector_http_arguments(bench_parser)
    bench_parser.set_defaults(func=run)
    _detector_http_arguments(add_command(group, "detector", run, "in-process detector latency (same options as --model)"))
    _detector_http_arguments(add_command(group, "http", run, "HTTP load on a running `dabai serve` (same options as --url)"))
    p = add_command(group, "gate", _run_gate, "gate check latency and a whole spoken turn", GATE_EXAMPLES)
    add_gate_bench_arguments(p)
    p = add_command(group, "speech", _run_speech, "speech benchmark: intent accuracy, false accepts, CER, RTF, latency",
                    SPEECH_EXAMPLES)
    add_speech_bench_arguments(p)
    # deprecated spelling (kept one release): hidden from the command list, warns on stderr
    old = sub.add_parser("bench-gate", description="deprecated: use 'dabai bench gate'",
                         epilog="examples:\n" + GATE_EXAMPLES, formatter_class=sub.choices["bench"].formatter_class)
    old.set_defaults(func=deprecated_command(_run_gate, "bench-gate", "bench gate"), _parser=old)
    add_gate_bench_arguments(old)


def _detector_http_arguments(p) -> None:
    p.add_argument("--model", nargs="+", help="model file(s) to time in-process, one after the other in the same run "
                                             "(.onnx, .pt, .engine)")
    p.add_argument("--url", help="base URL of a running `dabai serve`, e.g. http://127.0.0.1:8000")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 8], help="batch sizes (--model; default 1 8)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="intra-op threads (--model; default 1 2)")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8, 16], help="clients (--url; default 1 2 4 8 16)")
    p.add_argument("--seconds", type=float, default=10.0, help="timed seconds per configuration (default 10)")
    p.add_argument("--image", help="photo to use, resized to --side px (default: a drawn scene)")
    p.add_argument("--side", type=int, default=400, help="long side of the frame in px (640: a 640x480 camera frame)")
    p.add_argument("--reference", metavar="ONNX", help="time the UltraFace RFB-640 masked-face ONNX in the same run "
                   "(batch 1) and report each model's p50 as a multiple of it")
    p.add_argument("--api-key", help="--url: API key (default $DABAI_API_KEY; visible in `ps`, prefer the file or variable)")
    p.add_argument("--api-key-file", metavar="FILE", help="--url: read the API key from the first line of FILE")
    p.add_argument("--out", metavar="FILE", help="also write the JSON figures here")
    p.add_argument("--json", action="store_true", help="print JSON instead of the Markdown table")


def run(args) -> int:
    target = getattr(args, "bench_command", None)
    if target == "http" or (target is None and args.url):
        if args.model and target is None:
            raise ConfigError("give --model (in-process) or --url (HTTP), not both")
        if not args.url:
            raise ConfigError("dabai bench http needs --url URL of a running `dabai serve`")
        from dabai.bench.http import HttpBenchOptions, bench_http
        from dabai.serve.options import resolve_api_key

        result = bench_http(HttpBenchOptions(url=args.url, concurrency=tuple(args.concurrency), seconds=args.seconds,
                                             image=args.image, api_key=resolve_api_key(args.api_key, args.api_key_file)))
    elif target == "detector" or args.model:
        from dabai.bench.inproc import ModelBenchOptions, bench_model

        result = bench_model(ModelBenchOptions(models=tuple(args.model or [None]), batches=tuple(args.batch), threads=tuple(args.threads),
                                               seconds=args.seconds, image=args.image, side=args.side,
                                               reference=args.reference))
    else:
        args._parser.print_help()
        return 1
    data = result.to_json()
    if args.out:
        Path(args.out).write_text(json.dumps(data, indent=2))
    if args.json:
        print_json(data)
    else:
        print(result.to_markdown())
    return 0


def add_gate_bench_arguments(p) -> None:
    """Options of the gate benchmark."""
    p.add_argument("--runs", type=int, default=50, help="timed checks per measurement (default 50)")
    p.add_argument("--model", help="detector model (default: the shipped one)")
    p.add_argument("--no-turn", action="store_true", help="skip the whole-turn (ASR) measurement")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")


def _run_gate(args) -> int:
    from dabai.gate.bench import format_report, run_bench

    report = run_bench(runs=args.runs, model=args.model, with_turn=not args.no_turn)
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return 0


def add_speech_bench_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the speech benchmark."""
    from dabai.gate.speech_bench import SETS  # numpy only; the models load when a run starts

    json_flag_or_file(p, "--out", "print all figures as JSON instead of the report")
    p.add_argument("--out", metavar="FILE", help="write all figures as JSON here (the rows so far in "
                                                 "FILE.partial.json while it runs)")
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
    h.add_argument("--set", dest="phrasing_set", choices=tuple(SETS), default="holdout",
                   help="phrasings and names: 'holdout' (the first held-out set, since tuned on), 'unseen' "
                        "(never tuned on; its spoken false accepts were read in session 10), 'fresh' "
                        "(written before the re-ask rule; no names; its misses were read in session 11), 's12' "
                        "(written before session 12's grammar changes; two rules were read off it), 's12b' "
                        "(written after them, never tuned on) 's14' (session 14; its one grammar miss was read) 's14b' (written after that, never tuned on) 's15' (session 15, "
                        "written before its changes were scored; its misses were read) 's15b' (written after that; read in "
                        "session 16), 's16' (written at the end of session 15; its misses were read in session 16) 's17' "
                        "(written in session 16 before its changes were scored; its misses were read) 's17b' "
                        "(written after that, never tuned on) 's18' (written in session 16; "
                        "its misses were read) 's18b' (written after that, never tuned on) 's19' (written at the start of session 17; its misses were read) 's20' (written after that; its misses were read) or 's21' (written after that, never tuned on)")
    h.add_argument("--text", action="store_true",
                   help="decide the set's sentences as text only (no TTS, no ASR): the recogniser on perfect transcripts")
    h.add_argument("--rescore", metavar="FILE", type=Path,
                   help="decide again with the current grammar on the transcripts of an earlier run (its --out or "
                        ".partial.json); nothing is synthesised or transcribed")
    h.add_argument("--judge-model", metavar="DIR",
                   help="other CTranslate2 Whisper weights to transcribe the greetings (default: the gate's weights; "
                        "the judge always decodes with faster-whisper's own settings, not the gate's)")


def _run_speech(args: argparse.Namespace) -> int:
    from dabai.gate.reply_bench import run_benchmark
    from dabai.speech.bench import BenchOptions, format_report

    resolve_json_file(args, "out", "--out")
    voices = [v.strip() for v in args.voices.split(",")] if args.voices else None
    if args.holdout:
        return _run_holdout(args, voices)
    partial = Path(args.out).with_suffix(".partial.json") if args.out else None
    result = run_benchmark(BenchOptions(voices=voices, quick=args.quick, home=args.home, all_intents=args.all_intents,
                                       threads=args.threads),
                           partial=partial)
    _report_speech(args, result, format_report)
    return 0 if result["targets_met"] else 1


def _run_holdout(args: argparse.Namespace, voices: list[str] | None) -> int:
    from dabai.gate.speech_bench import CONDITIONS, HoldoutOptions, format_holdout, rescore_holdout, run_holdout

    if args.text:
        from dabai.gate.speech_bench import format_text_scores, score_text

        scores = score_text(args.phrasing_set)
        _report_speech(args, scores, format_text_scores)
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
        _report_speech(args, result, format_holdout)
        return 0 if result["targets_met"] else 1
    conditions = tuple(c.strip() for c in args.conditions.split(",")) if args.conditions else CONDITIONS
    opts = HoldoutOptions(voices=tuple(voices) if voices else HoldoutOptions.voices, conditions=conditions,
                          phrasings=args.phrasings, non_entry=args.non_entry, names=not args.no_names,
                          threads=args.threads, judge_model=args.judge_model, phrasing_set=args.phrasing_set)
    result = run_holdout(opts, partial=Path(args.out).with_suffix(".partial.json") if args.out else None)
    _report_speech(args, result, format_holdout)
    return 0 if result["targets_met"] else 1


def _report_speech(args: argparse.Namespace, result: dict, format_report) -> None:
    """The report (or with --json the figures) on stdout; with --out the figures in that file too."""
    if args.json:
        print_json(result)
    else:
        print(format_report(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr if args.json else sys.stdout)
