"""``dabai eval``: COCO mAP of a model on a labelled dataset, with PR curves and a confusion matrix."""

from __future__ import annotations

from dabai.cli.common import add_command, print_json

EXAMPLES = """\
  dabai eval --data data/face-mask/test                 # the shipped default model
  dabai eval --data data/a/test data/b/test data/c/test # a table per source and pooled: 3-class, mask_ok, faces
  dabai eval --data data/a/test data/b/test --gallery out/gallery   # contact sheets: close-ups, crowds, worst
  dabai eval --model runs/train/mask-detector/checkpoints/best.pt --data data/face-mask/test --json
  dabai eval --model int8.onnx --data data/face-mask/test --plots out/eval
  dabai eval --data data/face-mask/val --diagnose      # lost to classification or to finding faces?
  dabai eval --model a.onnx --compare b.onnx --data data/face-mask/val data/face-mask/test   # B better than A?
"""


def register(sub) -> None:
    p = add_command(sub, "eval", run, "evaluate a detector: mAP@0.5, mAP@0.5:0.95, per-class AP", EXAMPLES)
    p.add_argument("--model", help="model file (.onnx or dabai .pt checkpoint); default: the shipped model")
    p.add_argument("--data", required=True, nargs="+", metavar="DIR",
                   help="labelled dataset directory (voc, coco, yolo or kitti); several are pooled")
    p.add_argument("--format", dest="data_format", help="dataset format; autodetected when omitted")
    p.add_argument("--plots", metavar="DIR", default="runs/eval", help="where PR curves and the confusion matrix go (PNG)")
    p.add_argument("--gallery", metavar="DIR", help="also write contact sheets per source (close-ups, crowds, "
                   "worst images) and index.html to DIR")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")
    p.add_argument("--json", action="store_true", help='print {"map50", "map50_95", "ap50": {...}} as JSON')
    p.add_argument("--compare", metavar="MODEL_B", help="paired bootstrap of mAP@0.5(MODEL_B) - mAP@0.5(--model) "
                   "on the same images: the difference, its 95%% interval, and whether the data tells them apart")
    p.add_argument("--diagnose", action="store_true", help="where the mAP goes: the same boxes with the true "
                   "class (a perfect classifier), class-agnostic mAP, and recall by face size")
    p.add_argument("--bootstrap", type=int, default=1000, help="resamples for --compare (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="resampling seed for --compare (default 0)")


def run(args) -> int:
    from dabai.errors import ConfigError
    from dabai.eval.api import evaluate
    from dabai.runtime.detector import Detector

    if args.compare and args.diagnose:
        raise ConfigError("--compare and --diagnose are separate reports; give one of them")
    if args.compare:
        return run_compare(args)
    if args.diagnose:
        return run_diagnose(args)

    detector = Detector.load(args.model, threads=args.threads or None)
    result = evaluate(detector, args.data, args.data_format, args.batch, args.plots, progress=not args.json,
                      gallery_dir=args.gallery)
    if args.json:
        print_json(result.to_json())
        return 0
    print(f"images {result.num_images}  boxes {result.num_ground_truth}  detections {result.num_detections}")
    print(f"mAP@0.5      {result.map50:.4f}")
    print(f"mAP@0.5:0.95 {result.map50_95:.4f}")
    for name, ap in result.ap50.items():
        print(f"  AP@0.5 {name:24s} {ap:.4f}")
    print()
    print(result.sources.render())
    print(f"figures: {args.plots}/pr_curves.png, {args.plots}/confusion_matrix.png")
    if args.gallery:
        print(f"contact sheets: {args.gallery}/index.html")
    return 0


def run_compare(args) -> int:
    from dabai.errors import ConfigError
    from dabai.eval.api import compare_models
    from dabai.runtime.detector import Detector

    if args.bootstrap < 100:
        raise ConfigError(f"--bootstrap {args.bootstrap} is too few for a 95% interval; expected 100 or more")
    a = Detector.load(args.model, threads=args.threads or None)
    b = Detector.load(args.compare, threads=args.threads or None)
    result = compare_models(a, b, args.data, args.data_format, args.bootstrap, args.seed, args.batch, progress=not args.json)
    if args.json:
        print_json(result.to_json())
        return 0
    print(f"A {args.model or 'shipped default'}: mAP@0.5 {result.map50_a:.4f}")
    print(f"B {args.compare}: mAP@0.5 {result.map50_b:.4f}")
    print(f"B - A {result.diff:+.4f}, 95% interval [{result.ci_low:+.4f}, {result.ci_high:+.4f}] "
          f"over {result.resamples} resamples of the images; B higher in {result.prob_b_better:.0%}")
    for name, d in result.ap50_diff.items():
        print(f"  AP@0.5 {name:24s} {d:+.4f}")
    print(result.verdict)
    return 0


def run_diagnose(args) -> int:
    from pathlib import Path

    from dabai.eval.api import diagnose
    from dabai.eval.plots import plot_recall_by_size
    from dabai.runtime.detector import Detector

    detector = Detector.load(args.model, threads=args.threads or None)
    result = diagnose(detector, args.data, args.data_format, args.batch, progress=not args.json)
    Path(args.plots).mkdir(parents=True, exist_ok=True)
    plot_recall_by_size(result.recall_by_size, Path(args.plots) / "recall_by_size.png")
    if args.json:
        print_json(result.to_json())
        return 0
    classes = list(result.ap50)
    print(f"{'mAP@0.5':34s}{'all':>8s}" + "".join(f"{c[:22]:>24s}" for c in classes))
    for title, m, per in (("per class (dabai eval)", result.map50, result.ap50),
                          ("oracle labels (perfect classifier)", result.oracle_map50, result.oracle_ap50)):
        print(f"{title:34s}{m:8.4f}" + "".join(f"{per[c]:24.4f}" for c in classes))
    print(f"{'class-agnostic (faces found)':34s}{result.agnostic_map50:8.4f}")
    print(f"lost to classification {result.lost_to_classification:.4f}  (oracle - per class)")
    print(f"lost to finding/placing faces {result.lost_to_localisation:.4f}  (1 - oracle)")
    print("recall at IoU 0.5, any score, top 100 per image, by face side sqrt(w*h) in source px:")
    for b in result.recall_by_size:
        if b.boxes:
            print(f"  {b.name:12s} {b.found:5d} / {b.boxes:<5d} {b.recall:6.1%}")
    print(f"figure: {args.plots}/recall_by_size.png")
    return 0
