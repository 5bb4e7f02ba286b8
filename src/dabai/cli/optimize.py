"""``dabai prune``, ``dabai export`` and ``dabai parity``: make a trained detector smaller and faster, and prove it still works."""

from __future__ import annotations

import json
from pathlib import Path

from dabai.cli.common import add_command, print_json

PRUNE_EXAMPLES = """\
  dabai prune --model runs/train/mask-detector/checkpoints/best.pt --ratio 0.25 --out runs/prune/pruned.pt
  dabai prune --model best.pt --threshold 0.1 --criterion bn --exclude 'stages.0*' --out runs/prune/pruned.pt
  dabai train configs/mask_detector.yaml --init runs/prune/pruned.pt --epochs 8 --name pruned   # retrain
  dabai eval --model runs/train/pruned/checkpoints/best.pt --data data/face-mask-split/test       # compare
"""

EXPORT_EXAMPLES = """\
  dabai export --model best.pt --out mask_detector.onnx                              # FP32, checked against best.pt
  dabai export --model best.pt --precision fp16 --out mask_detector.fp16.onnx
  dabai export --model best.pt --precision int8 --calib data/face-mask-split/train --calib-images 200 \\
      --parity-data data/face-mask-split/val --out mask_detector.int8.onnx
  dabai export --model best.pt --format engine --precision fp16 --out mask_detector.fp16.engine   # NVIDIA GPU + tensorrt
  dabai export --model best.pt --format triton --out triton_repo/                    # Triton model repository
"""

PARITY_EXAMPLES = """\
  dabai parity best.pt mask_detector.onnx
  dabai parity mask_detector.onnx mask_detector.int8.onnx --data data/face-mask-split/val --precision int8
  dabai parity a.onnx b.onnx --max-score-err 0.05 --min-agreement 95 --json
"""


def register(sub) -> None:
    p = add_command(sub, "prune", run_prune, "structured channel pruning of a checkpoint (Torch-Pruning DepGraph)",
                    PRUNE_EXAMPLES)
    p.add_argument("--model", required=True, help="dabai checkpoint (.pt) to prune")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--ratio", type=float, help="fraction of channels removed from every prunable group (e.g. 0.25)")
    mode.add_argument("--threshold", type=float, help="remove channels whose importance / group max is below this (tlt-prune -pth)")
    p.add_argument("--criterion", choices=["l2", "l1", "bn"], default="l2", help="channel importance (default l2 weight magnitude)")
    p.add_argument("--exclude", default="", help="comma-separated layer names or globs never pruned (heads' cls/reg always kept)")
    p.add_argument("--round-to", type=int, default=8, help="keep channel counts multiples of this (default 8)")
    p.add_argument("--latency-runs", type=int, default=20, help="ONNX Runtime runs timed before/after (0 skips)")
    p.add_argument("--report", help="report path stem (.json and .md are written); default beside --out")
    p.add_argument("--out", required=True, help="pruned checkpoint (.pt)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = add_command(sub, "export", run_export, "export a detector: ONNX FP32/FP16/INT8, TensorRT engine, Triton repository",
                    EXPORT_EXAMPLES)
    p.add_argument("--model", required=True, help="dabai checkpoint (.pt) or an FP32 ONNX file exported by dabai")
    p.add_argument("--format", choices=["onnx", "engine", "triton"], default="onnx")
    p.add_argument("--precision", choices=["fp32", "fp16", "int8"], default="fp32")
    p.add_argument("--calib", metavar="DIR", help="INT8: calibration images (training data, any dataset folder)")
    p.add_argument("--calib-images", type=int, default=200, help="INT8: number of calibration images (default 200)")
    p.add_argument("--calib-method", choices=["minmax", "percentile", "entropy"], default="percentile")
    p.add_argument("--keep-float", default="", help="INT8: extra comma-separated ONNX node-name globs left in float")
    p.add_argument("--int8-high-res", "--int8-first-stage", dest="int8_high_res", action="store_true",
                   help="INT8: quantise the layers that read stride-1/2 maps too (float by default: in 8 bits they cost 3 mAP points)")
    p.add_argument("--parity-data", metavar="DIR", help="images for the parity check (labelled: adds the mAP delta); default --calib")
    p.add_argument("--parity-images", type=int, default=64)
    p.add_argument("--no-parity", action="store_true", help="skip the self-check (not recommended)")
    p.add_argument("--triton-name", default="mask_detector", help="model name in the Triton repository")
    p.add_argument("--input-size", type=int, metavar="PX",
                   help="export a checkpoint at another square input side than trained (larger finds smaller faces, "
                        "costs quadratically more)")
    p.add_argument("--out", required=True, help="output file (.onnx, .engine) or the Triton repository folder")
    p.add_argument("--json", action="store_true", help="print the result (with parity reports) as JSON")
    _tolerance_flags(p)

    p = add_command(sub, "parity", run_parity_cmd, "check that a converted model agrees with its reference", PARITY_EXAMPLES)
    p.add_argument("reference", help="reference model (.pt, .onnx)")
    p.add_argument("candidate", help="candidate model (.onnx, .engine, .pt)")
    p.add_argument("--data", metavar="DIR", help="real images to compare on; a labelled dataset adds the mAP@0.5 delta")
    p.add_argument("--images", type=int, default=64, help="real images compared (default 64)")
    p.add_argument("--random", type=int, default=4, help="random-noise images compared (default 4)")
    p.add_argument("--map-images", type=int, default=0, help="labelled images scored for the mAP delta (0: all)")
    p.add_argument("--precision", choices=["fp32", "fp16", "int8"], help="default tolerances (default: the candidate's metadata, else fp32)")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", action="store_true")
    _tolerance_flags(p)


def _tolerance_flags(p) -> None:
    g = p.add_argument_group("tolerances (defaults depend on the precision; see docs/deploy.md)")
    g.add_argument("--max-score-err", type=float, help="max abs score difference")
    g.add_argument("--max-box-err", type=float, help="max box-edge difference in input pixels (foreground anchors)")
    g.add_argument("--min-agreement", type=float, help="min detection agreement in %% (IoU >= 0.9, same class)")
    g.add_argument("--max-map-drop", type=float, help="max mAP@0.5 drop (0.01 = 1 point)")


def _tolerances(args, precision: str):
    from dabai.export.parity import TOLERANCES, with_overrides

    return with_overrides(TOLERANCES[precision], max_score_err=args.max_score_err, max_box_err=args.max_box_err,
                          min_agreement=args.min_agreement, max_map_drop=args.max_map_drop)


def _split(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def run_prune(args) -> int:
    from dabai.core.errors import require

    require("torch", "train")
    from dabai.export.prune import PruneOptions, prune_checkpoint, report_paths

    options = PruneOptions(model=args.model, out=args.out, ratio=args.ratio, threshold=args.threshold,
                           criterion=args.criterion, exclude=_split(args.exclude), round_to=args.round_to,
                           latency_runs=args.latency_runs, report=args.report)
    report = prune_checkpoint(options)
    if args.json:
        print_json(report.to_json())
    else:
        print(report.to_markdown())
        json_path, md_path = report_paths(options)
        print(f"pruned checkpoint: {args.out}\nreport: {json_path}, {md_path}")
    return 0


def run_export(args) -> int:
    from dabai.export.api import ExportOptions, export_model
    if Path(args.model).suffix.lower() in (".pt", ".pth"):
        from dabai.core.errors import require

        require("torch", "train")
    options = ExportOptions(model=args.model, out=args.out, format=args.format, precision=args.precision,
                            calib=args.calib, calib_images=args.calib_images, calib_method=args.calib_method,
                            keep_float=_split(args.keep_float), int8_high_res=args.int8_high_res,
                            parity=not args.no_parity,
                            parity_data=args.parity_data, parity_images=args.parity_images,
                            tolerances=_tolerances(args, args.precision), triton_name=args.triton_name,
                            input_size=args.input_size)
    result = export_model(options)
    if args.json:
        print_json(result.to_json())
        return 0
    for report in result.parity:
        print(report.to_markdown() + "\n")
    for note in result.notes:
        print(note)
    print(f"wrote {result.path} ({args.format}, {args.precision})")
    return 0


def run_parity_cmd(args) -> int:
    from dabai.export.parity import ParityOptions, run_parity

    precision = args.precision or _precision_of(args.candidate)
    report = run_parity(args.reference, args.candidate, ParityOptions(
        data=args.data, images=args.images, random=args.random, map_images=args.map_images, precision=precision,
        tolerances=_tolerances(args, precision), threads=args.threads or None))
    if args.json:
        print_json(report.to_json())
    else:
        print(report.to_markdown())
    return 0 if report.ok else 1


def _precision_of(path: str) -> str:
    """The precision recorded in an ONNX file's or engine sidecar's metadata; fp32 otherwise."""
    p = Path(path)
    if p.suffix.lower() == ".onnx" and p.is_file():
        import onnx

        meta = {m.key: m.value for m in onnx.load(str(p), load_external_data=False).metadata_props}
        return meta.get("precision", "fp32")
    side = Path(str(p) + ".json")
    if p.suffix.lower() in (".engine", ".plan") and side.is_file():
        return json.loads(side.read_text()).get("precision", "fp16")
    return "fp32"
