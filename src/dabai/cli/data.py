"""``dabai data …``: convert, check, stats, split, resize, closeups, corrupt, paint-masks and demo.

Each command parses its flags, calls the Python API in ``dabai.data`` and
prints the result; the work (and the imports of PIL, imagehash, matplotlib)
happens only when a command runs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from dabai.cli.common import add_command, add_group, add_prediction_options, print_json, workers_of
from dabai.core.errors import DataError

FORMAT_NAMES = ("voc", "coco", "yolo", "kitti")

GROUP_EXAMPLES = """\
  dabai data demo                                         # all tools on a generated sample
  dabai data convert data/voc --to kitti --out data/kitti
  dabai data merge data/face-mask ilc=data/ilc2021 --map with_incorrect_mask:mask_weared_incorrect --out data/all
  dabai data check data/train --against data/test      # the same photo in both? (leaks between folders)
  dabai data check data/voc --classes with_mask,without_mask,mask_weared_incorrect
  dabai data stats data/voc --out reports/
  dabai data split data/voc --out data/splits --val 0.15 --test 0.15 --seed 0
  dabai data resize data/voc --size 960x544 --keep-aspect --out data/voc-960
  dabai data closeups data/splits/test --out data/test-closeups   # gate-camera views of each face
  dabai data corrupt data/test-closeups --out data/test-night --kinds grey,dark   # night, dim light, blur ...
  dabai data paint-masks data/splits/train --out data/painted --face-model yunet.onnx  # masks on bare faces
"""


def register(subparsers) -> None:
    sub = add_group(subparsers, "data", "Dataset tools: convert VOC/COCO/YOLO/KITTI, check, stats, split, resize.",
                    GROUP_EXAMPLES)
    _register_convert(sub)
    _register_merge(sub)
    _register_check(sub)
    _register_stats(sub)
    _register_split(sub)
    _register_resize(sub)
    _register_closeups(sub)
    _register_corrupt(sub)
    _register_paint(sub)
    _register_demo(sub)
    register_look(sub)  # show, audit


def _add_source(parser, what: str = "dataset folder") -> None:
    parser.add_argument("src", metavar="DIR", help=what)
    parser.add_argument("--from", dest="src_format", choices=FORMAT_NAMES,
                        help="format of DIR (default: detected from its files)")


def _add_link(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--link", dest="link", action="store_const", const="auto", default=False,
                       help="hard-link images instead of copying them (symlinks across filesystems)")
    group.add_argument("--symlink", dest="link", action="store_const", const="symlink",
                       help="symlink images instead of copying them")


def _read_source(args, **read_options):
    """(checked output folder, input format, dataset) for the commands that write a new dataset."""
    from dabai.data.formats import detect_format, read_dataset
    from dabai.data.sources import apply_class_map, parse_class_map

    out = _check_out(args.out, args.src)
    fmt = args.src_format or detect_format(args.src)
    ds = read_dataset(args.src, fmt, **read_options)
    return out, fmt, apply_class_map(ds, parse_class_map(getattr(args, "class_map", None)))


def _add_class_map(parser) -> None:
    parser.add_argument("--map", dest="class_map", metavar="OLD:NEW[,OLD:NEW]",
                        help="rename classes as they are read, e.g. with_incorrect_mask:mask_weared_incorrect")


def _describe(text: str) -> str:
    # The CLI's formatter keeps text as written (for the examples), so wrap prose here.
    return textwrap.fill(text, width=88)


def _check_out(out: str, src: str) -> Path:
    """Outputs never go inside the input, so a command can never change the data it reads."""
    out_path, src_path = Path(out).resolve(), Path(src).resolve()
    if out_path == src_path or src_path in out_path.parents:
        raise DataError(f"output folder is inside the input dataset {src}; choose a folder outside it", path=out)
    return Path(out)


# --- convert -----------------------------------------------------------------------------------

def _register_convert(sub) -> None:
    p = add_command(sub, "convert", _convert, "Convert a dataset between VOC, COCO, YOLO and KITTI.", """\
  dabai data convert data/voc --to coco --out data/coco
  dabai data convert data/coco --from coco --to yolo --out data/yolo --link
  dabai data convert data/voc --to kitti --out data/kitti     # TAO layout: images/ + labels/ + classes.txt
""", description=_describe("Convert a dataset between VOC, COCO, YOLO and KITTI (TAO). Images are copied (or linked "
                 "with --link), never moved; the input is not changed."))
    _add_source(p)
    p.add_argument("--to", dest="dst_format", required=True, choices=FORMAT_NAMES, help="format to write")
    p.add_argument("--out", required=True, help="new or empty output folder")
    p.add_argument("--classes", help="comma-separated class list: fixes the class order (ids); other names are errors")
    _add_class_map(p)
    _add_link(p)


def _convert(args) -> int:
    from dabai.data.formats import parse_class_list, write_dataset
    from dabai.data.sources import restrict_classes

    if args.class_map:
        out, fmt, ds = _read_source(args)
        ds = restrict_classes(ds, parse_class_list(args.classes), args.src) if args.classes else ds
    else:
        out, fmt, ds = _read_source(args, classes=args.classes)
    write_dataset(ds, out, args.dst_format, link=args.link)
    print(f"converted {args.src} ({fmt}) -> {out} ({args.dst_format}): {len(ds)} images, {ds.num_boxes} boxes, "
          f"classes {', '.join(ds.classes)}")
    return 0


# --- merge -------------------------------------------------------------------------------------

def _register_merge(sub) -> None:
    p = add_command(sub, "merge", _merge, "Pool datasets from several sources; every image keeps its source.", """\
  dabai data merge ../shared/data/face-mask ../shared/data/face-mask-ilc2021 --out data/all
  dabai data merge andrewmvd=data/a ilc=data/b --map with_incorrect_mask:mask_weared_incorrect --out data/all --link
""", description=_describe("Merge dataset folders (any formats) into one new folder. Each image goes under "
                 "images/<source>/ and its source is recorded in sources.csv (shown by `data stats`, used by "
                 "`data split --by-source` and `dabai eval`); a source is named by its folder or NAME=DIR. "
                 "--map renames classes as they are read. The inputs are never changed."))
    p.add_argument("sources", nargs="+", metavar="[NAME=]DIR", help="dataset folders to merge")
    p.add_argument("--out", required=True, help="new or empty output folder")
    p.add_argument("--from", dest="src_format", choices=FORMAT_NAMES, help="format of every input (default: detected)")
    p.add_argument("--to", dest="dst_format", choices=FORMAT_NAMES, default="voc", help="format to write (default voc)")
    p.add_argument("--classes", help="comma-separated class order; a class outside it is an error")
    _add_class_map(p)
    _add_link(p)


def _merge(args) -> int:
    from dabai.data.formats import parse_class_list, write_dataset
    from dabai.data.sources import by_source, merge_datasets, parse_class_map, parse_source_arg

    for arg in args.sources:
        _check_out(args.out, parse_source_arg(arg)[1])
    classes = parse_class_list(args.classes) if args.classes else None
    ds = merge_datasets(args.sources, parse_class_map(args.class_map), args.src_format, classes)
    write_dataset(ds, args.out, args.dst_format, link=args.link)
    for name, part in by_source(ds).items():
        counts = ", ".join(f"{c} {n}" for c, n in part.class_counts().items())
        print(f"{name:24} {len(part):6} images  ({counts})")
    print(f"merged {len(ds)} images, {ds.num_boxes} boxes, classes {', '.join(ds.classes)} -> {args.out}")
    return 0


# --- check -------------------------------------------------------------------------------------

def _register_check(sub) -> None:
    p = add_command(sub, "check", _check, "Find broken images, bad boxes, wrong class names and duplicates.", """\
  dabai data check data/voc
  dabai data check data/voc --classes with_mask,without_mask,mask_weared_incorrect
  dabai data check data/voc --json > findings.json
  dabai data check data/voc --classes with_mask,without_mask --fix --out data/voc-clean
""", description=_describe("Check a dataset: unreadable/truncated/empty images, labels without images and images without "
                 "labels, boxes out of bounds/inverted/degenerate, class names not in --classes (near misses "
                 "named), exact and near-duplicate images, class imbalance. Reads only; exits 1 when there "
                 "are errors. --fix --out writes a cleaned copy plus fix_report.txt/.json."))
    _add_source(p)
    p.add_argument("--classes", help="comma-separated expected class names; any other name is an error")
    _add_class_map(p)
    p.add_argument("--against", nargs="+", metavar="DIR", default=[],
                   help="other dataset folders (e.g. test sets): images of DIR that are copies of theirs are errors")
    p.add_argument("--json", action="store_true", help="print the findings as JSON instead of a table")
    p.add_argument("--fix", action="store_true", help="write a cleaned copy to --out (the input is never changed)")
    p.add_argument("--out", help="output folder for --fix (new or empty)")
    p.add_argument("--to", dest="dst_format", choices=FORMAT_NAMES, help="format of the --fix copy (default: input's)")
    _add_link(p)


def _check(args) -> int:
    from dabai.data.check import check_dataset, render_report
    from dabai.data.formats import parse_class_list
    from dabai.data.sources import parse_class_map

    if args.fix and not args.out:
        raise DataError("--fix needs --out DIR for the cleaned copy (the input is never changed)")
    if args.out and not args.fix:
        raise DataError("--out is only used with --fix")
    out = _check_out(args.out, args.src) if args.fix else None
    classes = parse_class_list(args.classes) if args.classes else None
    result = check_dataset(args.src, args.src_format, classes=classes,
                           class_map=parse_class_map(args.class_map), against=args.against)
    changes = None
    if out is not None:
        from dabai.data.fix import fix_dataset

        changes = fix_dataset(result, out, args.dst_format, link=args.link)
    if args.json:
        doc = result.report.to_dict()
        if changes is not None:
            doc["fix"] = {"out": str(out), "changes": [vars(c) for c in changes]}
        print_json(doc)
    else:
        print(render_report(result.report))
        if changes is not None:
            print(f"\nwrote a cleaned copy to {out} with {len(changes)} changes (see {out}/fix_report.txt)")
    return 1 if result.report.errors else 0


# --- stats -------------------------------------------------------------------------------------

def _register_stats(sub) -> None:
    p = add_command(sub, "stats", _stats, "Count images and boxes per class; save a box-size histogram PNG.", """\
  dabai data stats data/voc                       # histogram in ./voc-stats/box_sizes.png
  dabai data stats data/voc --out reports/ --json
""")
    _add_source(p)
    p.add_argument("--out", help="folder for box_sizes.png and stats.json (default: ./<DIR name>-stats)")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")


def _stats(args) -> int:
    import json

    from dabai.data.formats import read_dataset
    from dabai.data.stats import HISTOGRAM_NAME, dataset_stats, render_stats, save_box_size_histogram

    out = _check_out(args.out or f"{Path(args.src).resolve().name}-stats", args.src)
    ds = read_dataset(args.src, args.src_format)
    stats = dataset_stats(ds)
    png = save_box_size_histogram(ds, out / HISTOGRAM_NAME)
    stats["histogram"] = str(png)
    (out / "stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.json:
        print_json(stats)
    else:
        print(render_stats(stats))
        print(f"\nbox-size histogram: {png}")
    return 0


# --- split -------------------------------------------------------------------------------------

def _register_split(sub) -> None:
    p = add_command(sub, "split", _split, "Split into train/val/test: stratified, look-alikes kept together.", """\
  dabai data split data/voc --out data/splits --val 0.15 --test 0.15 --seed 0
  dabai data split data/voc --out data/splits --test 0 --to kitti      # train/val only, TAO labels
  dabai data split data/splits/train --folds 5 --out data/folds --link  # foldK/train + foldK/val, K = 0..4
""", description=_describe("Split a dataset into OUT/train, OUT/val and OUT/test (plus split_report.json). Exact and "
                 "near-duplicate images stay in one split so test images cannot leak into training; the "
                 "rarest class lands in every split; the same --seed gives the same split. With --folds K: "
                 "K folds for cross-validation instead, OUT/foldK/val = fold K, OUT/foldK/train = the others."))
    _add_source(p)
    p.add_argument("--out", required=True, help="new or empty output folder")
    p.add_argument("--val", type=float, help="fraction for validation (default 0.15)")
    p.add_argument("--test", type=float, help="fraction for test (default 0.15)")
    p.add_argument("--folds", type=int, help="K folds for cross-validation instead of train/val/test")
    p.add_argument("--by-source", action="store_true",
                   help="leave-one-source-out folds of a merged dataset: OUT/<source>/val = that source, train = the rest")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--to", dest="dst_format", choices=FORMAT_NAMES, help="format to write (default: input's)")
    _add_link(p)


def _split(args) -> int:
    from dabai.data.split import fold_dataset, source_folds, split_dataset, split_fractions, write_folds, write_split

    if (args.folds is not None or args.by_source) and (args.val is not None or args.test is not None):
        flag = "--by-source" if args.by_source else "--folds"
        raise DataError(f"{flag} makes its own validation folds; leave out --val and --test")
    if args.folds is not None and args.by_source:
        raise DataError("--folds and --by-source are two ways to fold; choose one")
    val = 0.15 if args.val is None else args.val
    test = 0.15 if args.test is None else args.test
    split_fractions(val, test)  # fail on bad fractions before reading anything
    out, fmt, ds = _read_source(args)
    if args.folds is not None or args.by_source:
        split = source_folds(ds) if args.by_source else fold_dataset(ds, args.folds, seed=args.seed)
        write_folds(split, out, args.dst_format or fmt, link=args.link)
    else:
        split = split_dataset(ds, val=val, test=test, seed=args.seed)
        write_split(split, out, args.dst_format or fmt, link=args.link)
    for name, part in split.datasets.items():
        counts = ", ".join(f"{c} {n}" for c, n in part.class_counts().items())
        print(f"{name:5} {len(part):6} images  {part.num_boxes:7} boxes  ({counts})")
    print(f"{len(split.groups)} groups of look-alike images kept together; written to {out}")
    return 0


# --- resize ------------------------------------------------------------------------------------

def _register_resize(sub) -> None:
    p = add_command(sub, "resize", _resize, "Resize every image to WxH and scale the labels with it.", """\
  dabai data resize data/voc --size 960x544 --out data/voc-960x544
  dabai data resize data/kitti --size 640x640 --keep-aspect --out data/kitti-640
""", description=_describe("Resize every image to one size, scaling the boxes too. --keep-aspect scales to fit and pads "
                 "right/bottom with black (boxes are never shifted). Warns when a side is not a multiple of 16."))
    _add_source(p)
    p.add_argument("--size", required=True, help="WIDTHxHEIGHT, e.g. 960x544")
    p.add_argument("--keep-aspect", action="store_true", help="keep the aspect ratio and pad instead of stretching")
    p.add_argument("--out", required=True, help="new or empty output folder")
    p.add_argument("--to", dest="dst_format", choices=FORMAT_NAMES, help="format to write (default: input's)")


def _sized_source(args):
    """(size, output folder, input format, dataset) for the commands that write resized images."""
    from dabai.data.resize import parse_size

    size = parse_size(args.size)  # a bad size fails before anything is read
    return (size, *_read_source(args))


def _resize(args) -> int:
    from dabai.data.resize import resize_dataset

    size, out, fmt, ds = _sized_source(args)
    resize_dataset(ds, out, size, args.dst_format or fmt, keep_aspect=args.keep_aspect)
    mode = "fitted and padded" if args.keep_aspect else "stretched"
    print(f"resized {len(ds)} images ({mode}) to {size[0]}x{size[1]}, {ds.num_boxes} boxes scaled -> {out}")
    return 0


# --- closeups ----------------------------------------------------------------------------------

def _register_closeups(sub) -> None:
    p = add_command(sub, "closeups", _closeups, "Cut a gate-camera close-up around every large face.", """\
  dabai data closeups data/face-mask-split/test --out data/test-closeups
  dabai eval --data data/test-closeups          # the detector off its crowd-photo domain
""", description=_describe("For every face at least --min-face px wide, cut a window --context times its side at the "
                 "output's aspect, resize it to --size, and keep every box at least half inside it. One new image "
                 "per face; the input is not changed."))
    _add_source(p)
    p.add_argument("--out", required=True, help="new or empty output folder")
    p.add_argument("--size", default="640x480", help="WIDTHxHEIGHT of each close-up (default 640x480)")
    p.add_argument("--context", type=float, default=3.0, help="window height / face side (default 3.0)")
    p.add_argument("--min-face", type=float, default=48.0, help="smallest face side in px to cut around (default 48)")
    p.add_argument("--to", dest="dst_format", choices=FORMAT_NAMES, help="format to write (default: input's)")


def _closeups(args) -> int:
    from dabai.data.closeups import closeup_dataset

    size, out, fmt, ds = _sized_source(args)
    made = closeup_dataset(ds, out, args.dst_format or fmt, size, args.context, args.min_face)
    print(f"{len(made)} close-ups ({size[0]}x{size[1]}, context {args.context}) from {len(ds)} images, "
          f"{made.num_boxes} boxes ({made.class_counts()}) -> {out}")
    return 0


# --- paint-masks -------------------------------------------------------------------------------

def _register_paint(sub) -> None:
    p = add_command(sub, "paint-masks", _paint, "Give bare faces a mask, worn right or wrong (new training faces).", """\
  dabai data paint-masks data/splits/ilc2021/train --out data/painted/ilc2021 \\
      --face-model ../shared/weights/face_detection_yunet.onnx
  dabai data paint-masks ../shared/data/face-mask-crops --out data/painted/crops --face-model yunet.onnx
""", description=_describe("Every --label face (default without_mask) at least --min-face px is found again by "
                 "the face model (OpenCV's YuNet), which gives its five landmarks; a mask shaped by them is drawn "
                 "on it, worn right (relabelled with_mask) or, for an --incorrect share, under the nose or on the "
                 "chin (mask_weared_incorrect). The output holds only the painted images, with every other face as "
                 "labelled, and paint_report.json (options, the face model's sha256, each face's style). A folder "
                 "of class folders of face crops is painted crop by crop into OUT/<class>/. Seeded; the input is "
                 "not changed."))
    _add_source(p)
    p.add_argument("--out", required=True, help="new or empty output folder")
    p.add_argument("--face-model", required=True, metavar="ONNX", help="OpenCV's YuNet (face_detection_yunet*.onnx)")
    p.add_argument("--incorrect", type=float, default=0.5, help="share of faces that wear it wrong (default 0.5)")
    p.add_argument("--chin", type=float, default=0.25,
                   help="share of those with the mask on the chin; the rest under the nose (default 0.25)")
    p.add_argument("--min-face", type=float, default=24.0, help="smallest face side in px to paint (default 24)")
    p.add_argument("--label", default="without_mask", help="the faces to paint (default without_mask)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--to", dest="dst_format", choices=FORMAT_NAMES, help="format to write (default: input's)")
    _add_class_map(p)


def _paint(args) -> int:
    from dabai.data.formats import crop_class_folders
    from dabai.loop.faces import FaceFinder
    from dabai.loop.paint import PaintOptions, paint_crop_folder, paint_dataset

    options = PaintOptions(incorrect=args.incorrect, chin=args.chin, min_face=args.min_face, label=args.label,
                           seed=args.seed)
    finder = FaceFinder(args.face_model, min_score=0.3)
    if args.src_format is None and crop_class_folders(args.src):
        out = _check_out(args.out, args.src)
        report = paint_crop_folder(args.src, out, finder, options)
    else:
        out, fmt, ds = _read_source(args)
        _, report = paint_dataset(ds, out, args.dst_format or fmt, finder, options)
    styles = ", ".join(f"{k} {v}" for k, v in sorted(report.painted.items())) or "none"
    print(f"painted {sum(report.painted.values())} faces ({styles}) in {report.images} images -> {out}; "
          f"left as they were: {report.not_found} not found again by the face model, {report.too_small} under "
          f"{args.min_face:g} px")
    return 0


# --- corrupt -----------------------------------------------------------------------------------

def _register_corrupt(sub) -> None:
    from dabai.data.corrupt import CORRUPTIONS

    p = add_command(sub, "corrupt", _corrupt, "Copies of a dataset at night, in dim light, blurred, as heavy JPEG.", """\
  dabai data corrupt data/test-closeups --out data/test-corrupt --kinds all
  dabai eval --data data/test-corrupt/grey      # the detector under an infrared night camera
""", description=_describe("For each kind, write OUT/KIND/ with every image changed that way and the labels as they "
                 "were (the changes are photometric or blur: boxes do not move). Kinds: " + ", ".join(
                     f"{k} ({_first_words(f.__doc__)})" for k, f in CORRUPTIONS.items())
                 + ". Seeded; the input is not changed."))
    _add_source(p)
    p.add_argument("--out", required=True, help="new or empty output folder (one subfolder per kind)")
    p.add_argument("--kinds", default="all", help="comma-separated kinds, or all (default)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("--to", dest="dst_format", choices=FORMAT_NAMES, help="format to write (default: input's)")


def _first_words(doc: str | None) -> str:
    """'Dim light: gamma 2.2, …' -> 'dim light'."""
    head = (doc or "").split(":")[0].strip()
    return head[:1].lower() + head[1:]


def _corrupt(args) -> int:
    from dabai.data.corrupt import corrupt_dataset, parse_kinds

    kinds = parse_kinds(args.kinds)  # an unknown kind fails before anything is read
    out, fmt, ds = _read_source(args)
    corrupt_dataset(ds, out, args.dst_format or fmt, kinds, args.seed)
    print(f"{len(kinds)} corrupted copies of {len(ds)} images ({', '.join(kinds)}), {ds.num_boxes} boxes each -> {out}")
    return 0


# --- demo --------------------------------------------------------------------------------------

def _register_demo(sub) -> None:
    p = add_command(sub, "demo", _demo, "Generate a small sample and run convert, check, stats and split on it.", """\
  dabai data demo                       # in a new temporary folder
  dabai data demo --out /tmp/data-demo
""")
    p.add_argument("--out", help="new or empty folder for everything the demo writes (default: a temporary one)")
    p.add_argument("--images", type=int, default=48, help="how many sample images to draw (default 48)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _demo(args) -> int:
    from dabai.data.demo import run_data_demo

    if args.images < 10:
        raise DataError(f"--images {args.images} is too few to split three ways; expected 10 or more")
    run_data_demo(args.out, n_images=args.images, seed=args.seed)
    return 0


# ---- data show / data audit: look at a dataset's labels, and at the labels a model contradicts


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
    add_prediction_options(p)
    p.add_argument("--json", action="store_true", help="print the findings as JSON")


def _audit(args) -> int:
    from dabai.eval.audit import audit_dataset, write_audit
    from dabai.runtime.detector import Detector, default_model_path

    detector = Detector.load(args.model, threads=args.threads or None)
    result = audit_dataset(detector, args.src, args.src_format, args.min_score, args.min_iou, args.missing_iou,
                           args.batch, progress=not args.json, detections_file=args.detections,
                           model_ref=args.model or default_model_path(), workers=workers_of(args),
                           cache=args.cache)
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
