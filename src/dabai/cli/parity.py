"""``dabai parity``: check that a converted model agrees with its reference (its tolerance options are shared
with ``dabai export``, which runs the same check)."""

from __future__ import annotations

import json
from pathlib import Path

from dabai.cli.common import add_command, print_json

PARITY_EXAMPLES = """\
  dabai parity best.pt mask_detector.onnx
  dabai parity mask_detector.onnx mask_detector.int8.onnx --data data/face-mask-split/val --precision int8
  dabai parity a.onnx b.onnx --max-score-err 0.05 --min-agreement 95 --json
"""



def register(sub) -> None:
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
    add_tolerance_flags(p)


def add_tolerance_flags(p) -> None:
    """The tolerance options of parity and export."""
    g = p.add_argument_group("tolerances (defaults depend on the precision; see docs/deploy.md)")
    g.add_argument("--max-score-err", type=float, help="max abs score difference")
    g.add_argument("--max-box-err", type=float, help="max box-edge difference in input pixels (foreground anchors)")
    g.add_argument("--min-agreement", type=float, help="min detection agreement in %% (IoU >= 0.9, same class)")
    g.add_argument("--max-map-drop", type=float, help="max mAP@0.5 drop (0.01 = 1 point)")


def tolerances_of(args, precision: str):
    """The precision's default tolerances with the command's overrides."""
    from dabai.export.parity import TOLERANCES, with_overrides

    return with_overrides(TOLERANCES[precision], max_score_err=args.max_score_err, max_box_err=args.max_box_err,
                          min_agreement=args.min_agreement, max_map_drop=args.max_map_drop)


def run_parity_cmd(args) -> int:
    from dabai.export.parity import ParityOptions, run_parity

    precision = args.precision or _precision_of(args.candidate)
    report = run_parity(args.reference, args.candidate, ParityOptions(
        data=args.data, images=args.images, random=args.random, map_images=args.map_images, precision=precision,
        tolerances=tolerances_of(args, precision), threads=args.threads or None))
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
