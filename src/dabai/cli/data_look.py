"""``dabai data show`` and ``dabai data audit``: look at a dataset's labels, and at the labels a model
contradicts. Thin layers over ``dabai.data.show`` and ``dabai.eval.audit``."""

from __future__ import annotations

from dabai.cli.common import add_command, print_json

FORMAT_NAMES = ("voc", "coco", "yolo", "kitti")


def register_look(sub) -> None:
    _register_show(sub)
    _register_audit(sub)


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def _register_show(sub) -> None:
    p = add_command(sub, "show", _show, "Draw a dataset's ground-truth boxes on a contact sheet (PNG).", """\
  dabai data show data/face-mask --out sheet.png                          # 48 random images
  dabai data show data/all --source ilc2021 --class mask_weared_incorrect --out incorrect.png
  dabai data show data/face-mask --max-size 16 --faces --out tiny-faces.png   # one tile per face, cut around it
""")
    p.add_argument("src", metavar="DIR", help="dataset folder (voc, coco, yolo or kitti)")
    p.add_argument("--from", dest="src_format", choices=FORMAT_NAMES, help="format of DIR (default: detected)")
    p.add_argument("--out", required=True, metavar="PNG", help="the contact sheet to write")
    p.add_argument("--class", dest="classes", metavar="C[,C]", help="only boxes of these classes")
    p.add_argument("--source", dest="sources", metavar="S[,S]",
                   help="only images of these sources (sources.csv, as `data merge` writes it; '(none)': unrecorded)")
    p.add_argument("--min-size", type=float, metavar="PX", help="only boxes with side sqrt(w*h) >= PX source pixels")
    p.add_argument("--max-size", type=float, metavar="PX", help="only boxes with side sqrt(w*h) <= PX source pixels")
    p.add_argument("--faces", action="store_true", help="one tile per chosen box, cut around it (default: per image)")
    p.add_argument("--limit", type=int, default=48, help="tiles on the sheet (default 48, a seeded random sample)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument("--cols", type=int, default=6, help="tiles per row (default 6)")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")


def _show(args) -> int:
    from dabai.data.formats import read_dataset
    from dabai.data.show import show_dataset

    ds = read_dataset(args.src, args.src_format)
    result = show_dataset(ds, args.out, _names(args.classes), _names(args.sources), args.min_size, args.max_size,
                          "face" if args.faces else "image", args.limit, args.seed, args.cols)
    if args.json:
        print_json(result.to_json())
    else:
        print(f"{result.images} images, {result.boxes} boxes chosen; {result.shown} tiles in {result.path}")
    return 0


def _register_audit(sub) -> None:
    p = add_command(sub, "audit", _audit, "List labels a model confidently contradicts (likely mislabels, "
                    "missing boxes): CSV and a contact sheet.", """\
  dabai data audit data/face-mask --out audit/              # the shipped model; audit/audit.csv + audit.png
  dabai data audit data/merged --model runs/train/x/best.onnx --min-score 0.8 --out audit/
""")
    p.add_argument("src", metavar="DIR", nargs="+", help="labelled dataset folder(s); several are pooled")
    p.add_argument("--from", dest="src_format", choices=FORMAT_NAMES, help="format of DIR (default: detected)")
    p.add_argument("--model", help="model file (.onnx, .pt, checker .json); default: the shipped model")
    p.add_argument("--out", required=True, metavar="DIR", help="where audit.csv and audit.png go")
    p.add_argument("--min-score", type=float, default=0.7, help="only detections this confident (default 0.7)")
    p.add_argument("--min-iou", type=float, default=0.6,
                   help="a mislabel: the other-class detection overlaps the label at least this much (default 0.6)")
    p.add_argument("--missing-iou", type=float, default=0.2,
                   help="a missing box: the detection overlaps no label more than this (default 0.2)")
    p.add_argument("--detections", metavar="FILE", help="the detections `dabai eval --save-detections` saved for "
                   "this model and data, instead of running the model")
    p.add_argument("--limit", type=int, default=48, help="findings on the sheet, most confident first (default 48)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")


def _audit(args) -> int:
    from dabai.eval.audit import audit_dataset, write_audit
    from dabai.runtime.detector import Detector, default_model_path

    detector = Detector.load(args.model, threads=args.threads or None)
    result = audit_dataset(detector, args.src, args.src_format, args.min_score, args.min_iou, args.missing_iou,
                           args.batch, progress=not args.json, detections_file=args.detections,
                           model_ref=args.model or default_model_path())
    table, sheet = write_audit(result, args.out, args.limit)
    if args.json:
        print_json(result.to_json())
        return 0
    counts = result.counts()
    print(f"{result.images} images, {result.boxes} boxes: {counts['mislabel']} likely mislabels, "
          f"{counts['missing_box']} likely missing boxes (score >= {args.min_score})")
    for f in result.findings[:10]:
        print(f"  {f.kind:12s} {f.error.record.name}  {'; '.join(f.error.describe())}")
    print(f"all findings: {table}; the {min(args.limit, len(result.findings))} most confident: {sheet}")
    return 0
