"""``dabai mine``: pick the frames a label would teach most (``dabai.loop.mine``)."""

from __future__ import annotations

import sys

from dabai.cli.common import add_command

EXAMPLES = """\
  dabai mine ~/.dabai --out mined/                 # the gate's kept frames (mining/, snapshots/, live/)
  dabai mine gate.mp4 --out mined/ --every 10 --top 50
  dabai mine photos/ --out mined/ --face-model ../shared/weights/face_detection_yunet.onnx
  dabai label mined/images --out to_label/         # then pre-label the picks
"""

DESCRIPTION = """\
Rank images or video frames by how much a label would teach: the checker unsure of a face or its class,
a with_mask score near the gate's threshold, the INT8 model disagreeing with the FP32 one, an independent
face detector disagreeing with the checker (--face-model). Look-alike frames (one visitor's fifty frames)
are spread out. Writes the top N to OUT/images/ and OUT/mine.csv with why each was picked."""


def register(sub) -> None:
    p = add_command(sub, "mine", run, "pick the images or video frames most worth labelling", EXAMPLES, DESCRIPTION)
    p.add_argument("source", help="a folder of images, a video, or a gate home (its mining/, snapshots/, live/)")
    p.add_argument("--out", required=True, metavar="DIR", help="new or empty output folder")
    p.add_argument("--top", type=int, default=100, help="frames to pick (default 100)")
    p.add_argument("--every", type=int, default=5, help="a video: score every Nth frame (default 5)")
    p.add_argument("--model", default="fp32", help="the checker (default: the shipped FP32 checker, so that its "
                   "INT8 twin can disagree with it)")
    p.add_argument("--int8-model", default="int8",
                   help="its INT8 twin for the disagreement signal (default: the shipped int8; 'none' skips it)")
    p.add_argument("--face-model", metavar="ONNX",
                   help="an independent face detector (OpenCV YuNet or UltraFace ONNX) for the disagreement signal")
    p.add_argument("--gate-config", metavar="YAML",
                   help="take min_face_score and the with_mask threshold from this gate config (default: the "
                        "gate's defaults)")
    p.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")


def run(args) -> int:
    from dabai.loop.mine import MineOptions, mine

    rules = {}
    if args.gate_config:
        from dabai.gate.config import load_gate_config

        mask = load_gate_config(args.gate_config).mask
        rules = {"min_face_score": mask.min_face_score, "with_mask": mask.with_mask}
    int8 = None if str(args.int8_model).lower() == "none" else args.int8_model
    report = mine(args.source, args.out, model=args.model, int8_model=int8, face_model=args.face_model,
                  options=MineOptions(top=args.top, **rules), every=args.every, threads=args.threads or None)
    print(f"scored {report.seen} frame(s) with {', '.join(report.signals_used)}; picked {len(report.picked)}")
    if "face_detector_disagrees" not in report.signals_used:
        print("note: no --face-model, so checker vs face detector disagreement was not scored")
    for why in report.skipped:
        print(f"error: skipped {why}", file=sys.stderr)
    print(f"images: {report.out / 'images'}\nwhy: {report.csv_path}")
    return 1 if report.skipped else 0
