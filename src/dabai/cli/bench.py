"""``dabai bench``: honest latency and throughput figures.

    dabai bench --model M [--batch 1 8] [--threads 1 2]       in-process detector latency (target 'detector')
    dabai bench --url URL [--concurrency 1 2 4 8 16]          HTTP load on `dabai serve` (target 'http')
    dabai bench gate …  /  dabai bench speech …               the gate and speech benchmarks

The targets are sub-commands; without one, --model means 'detector' and --url
'http'. 'gate' and 'speech' run the benchmarks that live with those packages
(``dabai.cli.gate.cmd_bench``, ``dabai.cli.speech.run_bench_command``), with their own options.
"""

from __future__ import annotations

import json
from pathlib import Path

from dabai.cli.common import add_command, add_group, print_json
from dabai.core.errors import ConfigError

EXAMPLES = """\
  dabai bench --model mask_detector.onnx --batch 1 8 --threads 1 2 --seconds 10
  dabai bench --model fp32.onnx int8.onnx --batch 1 --threads 1 --json      # two models, same run
  dabai bench --url http://127.0.0.1:8000 --concurrency 1 2 4 8 16 --seconds 15 --image face.jpg
  dabai bench gate --runs 50
  dabai bench speech --quick
"""


def register(sub) -> None:
    group = add_group(sub, "bench", "benchmarks: detector latency (--model), HTTP load (--url), gate, speech", EXAMPLES)
    bench_parser = sub.choices["bench"]  # the group's own parser: `dabai bench --model/--url` without a target
    _detector_http_arguments(bench_parser)
    bench_parser.set_defaults(func=run)
    _detector_http_arguments(add_command(group, "detector", run, "in-process detector latency (same options as --model)"))
    _detector_http_arguments(add_command(group, "http", run, "HTTP load on a running `dabai serve` (same options as --url)"))
    p = add_command(group, "gate", _run_gate, "gate check latency and a whole spoken turn (also: dabai bench-gate)")
    from dabai.cli.gate import add_gate_bench_arguments

    add_gate_bench_arguments(p)  # the same options as `dabai bench-gate`, from one place
    p = add_command(group, "speech", _run_speech, "speech benchmark: intent accuracy, false accepts, CER, RTF, latency")
    from dabai.cli.speech import add_bench_arguments

    add_bench_arguments(p)


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


def _run_gate(args) -> int:
    from dabai.cli.gate import cmd_bench

    return cmd_bench(args)


def _run_speech(args) -> int:
    from dabai.cli.speech import run_bench_command

    return run_bench_command(args)
