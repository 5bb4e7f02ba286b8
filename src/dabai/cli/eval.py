"""``dabai eval``: COCO mAP of a model on a labelled dataset, with PR curves and a confusion matrix."""

from __future__ import annotations

import json
from pathlib import Path

from dabai.cli.common import add_command, add_prediction_options, print_json, workers_of

EXAMPLES = """\
  dabai eval --data data/face-mask/test                 # the shipped default model
  dabai eval --data data/a/test data/b/test data/c/test # a table per source and pooled: 3-class, mask_ok, faces
  dabai eval --data data/a/test data/b/test --gallery out/gallery   # worst errors per class, sheets per source
  dabai eval --data data/a/test --save-detections dets.json         # then --detections dets.json: no model run
  dabai eval --model runs/train/mask-detector/checkpoints/best.pt --data data/face-mask/test --json
  dabai eval --model int8.onnx --data data/face-mask/test --plots out/eval
  dabai eval --data data/face-mask/val --diagnose      # lost to classification or to finding faces?
  dabai eval --model a.onnx --compare b.onnx --data data/face-mask/val data/face-mask/test   # B better than A?
  dabai eval --data data/face-mask/val --operating-points --max-false-admit 0.01   # the gate's mask threshold
  dabai eval --data data/face-mask/val --operating-points --write-gate-config ~/.dabai/gate.yaml
"""


def register(sub) -> None:
    p = add_command(sub, "eval", run, "evaluate a detector: mAP@0.5, mAP@0.5:0.95, per-class AP", EXAMPLES)
    p.add_argument("--model", help="model file (.onnx or dabai .pt checkpoint); default: the shipped model")
    p.add_argument("--data", required=True, nargs="+", metavar="DIR",
                   help="labelled dataset directory (voc, coco, yolo or kitti); several are pooled")
    p.add_argument("--format", dest="data_format", help="dataset format; autodetected when omitted")
    p.add_argument("--plots", metavar="DIR", default="runs/eval", help="where PR curves and the confusion matrix go (PNG)")
    p.add_argument("--gallery", metavar="DIR", help="also write contact sheets to DIR: per class the worst false "
                   "positives, missed faces and class confusions (score and IoU on each), per source close-ups, "
                   "crowds and worst images; errors.csv and index.html")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")
    add_prediction_options(p)
    p.add_argument("--score-floor", type=float, metavar="S", help="make and score only detections scoring at "
                   "least S (the checker skips fainter faces: much faster; mAP counts the detections >= S). "
                   "Default 0 (every detection, COCO's rule), with --gallery 0.05 (a sheet shows a detection under "
                   "0.3 only as a missed face's nearest; Detectron2's and torchvision's test-time floor)")
    p.add_argument("--json", action="store_true", help='print {"map50", "map50_95", "ap50": {...}} as JSON')
    p.add_argument("--compare", metavar="MODEL_B", help="paired bootstrap of mAP@0.5(MODEL_B) - mAP@0.5(--model) "
                   "on the same images: the difference, its 95%% interval, and whether the data tells them apart")
    p.add_argument("--diagnose", action="store_true", help="where the mAP goes: the same boxes with the true "
                   "class (a perfect classifier), class-agnostic mAP, and recall by face size")
    p.add_argument("--bootstrap", type=int, default=1000, help="resamples for --compare (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="resampling seed for --compare (default 0)")
    p.add_argument("--save-detections", metavar="FILE", help="also save every detection to FILE (JSON), for "
                   "--detections: galleries, audits and operating points without running the model again")
    p.add_argument("--detections", metavar="FILE", help="use the detections --save-detections wrote (same --model, "
                   "same data) instead of running the model")
    p.add_argument("--operating-points", action="store_true", help="the gate's decision (admit only a correctly worn "
                   "mask): false-admit and false-refuse rate per mask.with_mask threshold, a recommended one, "
                   "operating_points.png/.json in --plots")
    p.add_argument("--max-false-admit", type=float, default=0.01, metavar="RATE",
                   help="--operating-points recommends the lowest threshold admitting at most this share of faces "
                        "without or with incorrectly worn masks (default 0.01)")
    p.add_argument("--gate-config", metavar="YAML", help="--operating-points: the gate config whose mask rules "
                   "(min_face_score, min_face_px) apply (default: --write-gate-config's file if it exists, else "
                   "the defaults)")
    p.add_argument("--write-gate-config", metavar="YAML", help="--operating-points: set mask.with_mask to the "
                   "recommended threshold in this gate config (created if missing; other settings and comments kept)")


def run(args) -> int:
    from dabai.core.errors import ConfigError
    from dabai.eval.api import evaluate
    from dabai.runtime.detector import Detector, default_model_path

    if sum(map(bool, (args.compare, args.diagnose, args.operating_points))) > 1:
        raise ConfigError("--compare, --diagnose and --operating-points are separate reports; give one of them")
    if args.write_gate_config and not args.operating_points:
        raise ConfigError("--write-gate-config writes the threshold --operating-points recommends; add --operating-points")
    if args.save_detections and (args.compare or args.diagnose or args.operating_points):
        raise ConfigError("--save-detections saves what a plain `dabai eval` (or --gallery) predicts; "
                          "drop --compare, --diagnose or --operating-points")
    if args.gallery and (args.compare or args.diagnose or args.operating_points):
        raise ConfigError("--gallery draws the errors of a plain `dabai eval`; drop --compare, --diagnose or "
                          "--operating-points, or run the gallery on its own")
    if args.detections and (args.compare or args.diagnose):
        raise ConfigError("--detections works with a plain eval, --gallery and --operating-points")
    if args.score_floor is not None and (args.compare or args.diagnose or args.operating_points):
        raise ConfigError("--score-floor applies to a plain eval and --gallery (--operating-points uses the gate's "
                          "own score threshold)")
    if args.operating_points:

        return run_operating_points(args)
    if args.compare:
        return run_compare(args)
    if args.diagnose:
        return run_diagnose(args)

    from dabai.eval.api import PICTURE_FLOOR

    floor = args.score_floor if args.score_floor is not None else PICTURE_FLOOR if args.gallery else 0.0
    detector = Detector.load(args.model, threads=args.threads or None)
    result = evaluate(detector, args.data, args.data_format, args.batch, args.plots, progress=not args.json,
                      gallery_dir=args.gallery, detections_file=args.detections,
                      save_detections=args.save_detections, model_ref=args.model or default_model_path(),
                      score_floor=floor, workers=workers_of(args), cache=args.cache)
    if args.json:
        print_json({**result.to_json(), "score_floor": floor})
        return 0
    floor_note = f" (scoring >= {floor}: --score-floor)" if floor else ""
    print(f"images {result.num_images}  boxes {result.num_ground_truth}  detections {result.num_detections}{floor_note}")
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
    from dabai.core.errors import ConfigError
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


# ---- --operating-points: the gate's mask threshold from labelled data (dabai.gate.operating), optionally
# written into a gate config (dabai.gate.config_edit)
def run_operating_points(args) -> int:
    from dabai.core.errors import ConfigError, require

    require("sqlalchemy", "gate")  # the gate's decision rules come with the gate extra
    from dabai.eval.plots import plot_operating_points
    from dabai.gate.config import load_gate_config
    from dabai.gate.operating import operating_points
    from dabai.runtime.detector import Detector, default_model_path

    source = args.gate_config or (args.write_gate_config if args.write_gate_config
                                  and Path(args.write_gate_config).expanduser().is_file() else None)
    rules = load_gate_config(Path(source).expanduser()).mask if source else None
    # conf, NMS and no second look at crowds: as the gate loads it (gate/check.load_detector)
    detector = Detector.load(args.model, threads=args.threads or None, second_look=False)
    points = operating_points(detector, args.data, args.data_format, rules, args.max_false_admit, args.batch,
                              progress=not args.json, detections_file=args.detections,
                              model_ref=args.model or default_model_path(), workers=workers_of(args), cache=args.cache)
    points.model = args.model or "the shipped model"
    out = Path(args.plots)
    out.mkdir(parents=True, exist_ok=True)
    plot_operating_points(points, out / "operating_points.png")
    report = points.to_json()
    report["gate_config_read"] = str(source) if source else None
    (out / "operating_points.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.write_gate_config:
        if points.recommended is None:
            raise ConfigError(f"no threshold keeps false admits at or below {args.max_false_admit} on this data; "
                              f"{args.write_gate_config} was not changed")
        from dabai.gate.config_edit import set_config_values

        set_config_values(args.write_gate_config, {"mask.with_mask": points.recommended})
    if args.json:
        print_json(report)
    else:
        _print_table(points, source)
        print(f"figure: {out}/operating_points.png, numbers: {out}/operating_points.json")
        if args.write_gate_config:
            print(f"wrote mask.with_mask: {points.recommended} into {args.write_gate_config}")
    return 0 if points.recommended is not None else 1


def _print_table(points, source) -> None:
    r = points.rules
    faces = ", ".join(f"{n} {c}" for c, n in points.faces_not_ok.items())
    print(f"faces at least {r.min_face_px} px wide: {points.faces_ok} with_mask ({points.unseen_ok} never seen "
          f"at score >= {r.min_face_score}), {faces}; {points.skipped_small} narrower skipped")
    print(f"gate rules from {source or 'the defaults'}; current mask.with_mask {r.with_mask}")
    print(f"{'threshold':>9s} {'false admit':>12s} {'false refuse':>13s}")
    shown = sorted({round(float(t), 2) for t in points.thresholds[::10]} | {r.with_mask} |
                   ({points.recommended} if points.recommended is not None else set()))
    for t in shown:
        at = points.at(t)
        marks = [name for name, value in (("recommended", points.recommended), ("current", r.with_mask)) if t == value]
        mark = f"  <- {', '.join(marks)}" if marks else ""
        print(f"{at['threshold']:9.2f} {at['false_admit']:12.4f} {at['false_refuse']:13.4f}{mark}")
    if points.recommended is None:
        print(f"no threshold keeps false admits at or below {points.max_false_admit}")
        return
    at = points.at(points.recommended)
    lo, hi = at["false_admit_95"]
    print(f"recommended mask.with_mask {points.recommended}: false admit {at['false_admit']:.4f} "
          f"(95% interval {lo:.4f}-{hi:.4f}, {at['admitted_not_ok']} of {points.n_not_ok} faces), "
          f"false refuse {at['false_refuse']:.4f} ({at['refused_ok']} of {points.faces_ok})")
