"""``dabai label``: pre-label images with the checker as Pascal VOC for labelImg (``dabai.loop.label``)."""

from __future__ import annotations

import sys

from dabai.cli.common import add_command

EXAMPLES = """\
  dabai label mined/images --out to_label/                  # photos: the checker's faces as VOC boxes
  dabai label ../shared/data/face-mask-crops --out crops_voc/  # face crops in class folders: box + folder class
  dabai label gate_photos/ --out to_label/ --only-uncertain  # just the images a person should look at
  labelImg to_label/images/ to_label/classes.txt to_label/annotations/   # then correct them
"""

DESCRIPTION = """\
Pre-label images so that a person only corrects. Writes OUT/images/, OUT/annotations/*.xml (Pascal VOC,
opens in labelImg), OUT/classes.txt and OUT/review.csv: boxes the checker is unsure of are marked
<difficult> and listed there, most doubtful first. Re-running never overwrites an annotation a person has
edited (OUT/.dabai-label.json records what this command wrote)."""


def register(sub) -> None:
    p = add_command(sub, "label", run, "pre-label images as Pascal VOC (for labelImg), unsure boxes marked",
                    EXAMPLES, DESCRIPTION)
    p.add_argument("source", help="a folder of images, face crops in class folders, a video, or a gate home")
    p.add_argument("--out", required=True, metavar="DIR", help="VOC output folder (re-runs keep edited files)")
    p.add_argument("--model", help="checker or detector (.json, .onnx, .pt, or fp32/int8); default: the shipped checker")
    p.add_argument("--only-uncertain", action="store_true", help="write only images with a box to check")
    p.add_argument("--conf", type=float, default=None, help="photos: faces scoring below this get no box "
                   "(default: the gate's min_face_score, 0.4)")
    p.add_argument("--sure", type=float, default=None,
                   help="boxes scoring below this are marked difficult (default: 0.6 for photos, 0.5 for face crops)")
    p.add_argument("--margin", type=float, default=0.3,
                   help="boxes whose two best class shares are closer than this are marked difficult (default 0.3)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--crops", dest="crops", action="store_true", default=None,
                      help="SOURCE is face crops in class folders (default: detected from the layout)")
    mode.add_argument("--photos", dest="crops", action="store_false", help="SOURCE is photos, whatever its layout")
    p.add_argument("--every", type=int, default=1, help="a video: label every Nth frame (default 1)")
    p.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")


def run(args) -> int:
    from dabai.loop.label import LabelOptions, label

    options = LabelOptions(sure=args.sure, margin=args.margin, only_uncertain=args.only_uncertain, crops=args.crops,
                           **({"conf": args.conf} if args.conf is not None else {}))
    report = label(args.source, args.out, model=args.model, options=options, threads=args.threads or None,
                   every=args.every)
    print(f"{report.mode}: {len(report.written)} annotation(s) written ({report.boxes} box(es)), "
          f"{report.uncertain} with boxes to check first (review list: {report.review_csv})")
    if report.kept:
        print(f"kept {len(report.kept)} annotation(s) edited by a person (not overwritten)")
    if report.certain_left_out:
        print(f"left out {report.certain_left_out} image(s) with nothing uncertain (--only-uncertain)")
    for why in report.skipped:
        print(f"error: skipped {why}", file=sys.stderr)
    print(f"open in labelImg: labelImg {report.out / 'images'} {report.out / 'classes.txt'} {report.out / 'annotations'}")
    return 1 if report.skipped else 0
