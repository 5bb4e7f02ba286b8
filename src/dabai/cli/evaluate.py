"""``dabai eval``: COCO mAP of a model on a labelled dataset, with PR curves and a confusion matrix."""

from __future__ import annotations

from dabai.cli.common import add_command, print_json

EXAMPLES = """\
  dabai eval --data data/face-mask/test                 # the shipped default model
  dabai eval --model runs/train/mask-detector/checkpoints/best.pt --data data/face-mask/test --json
  dabai eval --model int8.onnx --data data/face-mask/test --plots out/eval
"""


def register(sub) -> None:
    p = add_command(sub, "eval", run, "evaluate a detector: mAP@0.5, mAP@0.5:0.95, per-class AP", EXAMPLES)
    p.add_argument("--model", help="model file (.onnx or dabai .pt checkpoint); default: the shipped model")
    p.add_argument("--data", required=True, help="labelled dataset directory (voc, coco, yolo or kitti)")
    p.add_argument("--format", dest="data_format", help="dataset format; autodetected when omitted")
    p.add_argument("--plots", metavar="DIR", default="runs/eval", help="where PR curves and the confusion matrix go (PNG)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")
    p.add_argument("--json", action="store_true", help='print {"map50", "map50_95", "ap50": {...}} as JSON')


def run(args) -> int:
    from dabai.eval.api import evaluate
    from dabai.runtime.detector import Detector

    detector = Detector.load(args.model, threads=args.threads or None)
    result = evaluate(detector, args.data, args.data_format, args.batch, args.plots, progress=not args.json)
    if args.json:
        print_json(result.to_json())
        return 0
    print(f"images {result.num_images}  boxes {result.num_ground_truth}  detections {result.num_detections}")
    print(f"mAP@0.5      {result.map50:.4f}")
    print(f"mAP@0.5:0.95 {result.map50_95:.4f}")
    for name, ap in result.ap50.items():
        print(f"  AP@0.5 {name:24s} {ap:.4f}")
    print(f"figures: {args.plots}/pr_curves.png, {args.plots}/confusion_matrix.png")
    return 0
