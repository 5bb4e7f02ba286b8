"""``dabai predict``: detect masks in an image, a folder or a video; draw, and dump JSON (stdout or file)/KITTI."""

from __future__ import annotations

import sys

from dabai.cli.common import add_command, json_flag_or_file, print_json, resolve_json_file

EXAMPLES = """\
  dabai predict visitor.jpg --out preds/
  dabai predict photos/ --out-json preds.json --conf 0      # every detection, for COCO evaluation
  dabai predict visitor.jpg --json                          # the detections as JSON on stdout
  dabai predict gate.mp4 --out preds/ --model runs/train/x/best.onnx
  dabai predict photos/ --kitti kitti_labels/               # tlt-infer style KITTI dump
  dabai predict rtsp://192.168.1.64/stream1 --max-frames 150 --out preds/   # a network camera (Ctrl-C stops)
"""


def register(sub) -> None:
    p = add_command(sub, "predict", run, "detect masks in images, folders or videos", EXAMPLES)
    p.add_argument("source", nargs="?",
                   help="an image, a folder of images, a video, or a camera stream URL (rtsp://, http://)")
    p.add_argument("--model", help="model file (.onnx or dabai .pt checkpoint); default: the shipped model")
    p.add_argument("--out", metavar="DIR", help="write images (or the video) with boxes drawn here")
    p.add_argument("--out-json", metavar="FILE",
                   help='write the detections [{"image", "bbox": [x1,y1,x2,y2], "score", "label"}, ...] here')
    json_flag_or_file(p, "--out-json", "print the detections (the --out-json list) on stdout, the summary on stderr")
    p.add_argument("--kitti", metavar="DIR", help="write one KITTI label file per image")
    p.add_argument("--conf", type=float, default=0.3, help="minimum score (0 keeps everything, for evaluation)")
    p.add_argument("--iou", type=float, default=0.5, help="NMS IoU threshold")
    p.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")
    p.add_argument("--no-second-look", action="store_true",
                   help="a checker without its tiled second pass over crowded frames: 2.5-4x faster on such a "
                        "frame, fewer small faces found (docs/detector.md, session 13)")
    p.add_argument("--max-frames", type=int, help="with a stream URL: stop after this many frames (else Ctrl-C)")
    p.add_argument("--max-pixels", type=int, default=40_000_000,
                   help="skip images declaring more pixels (width x height) than this, before decoding (default 40 MP)")


def run(args) -> int:
    if args.source is None and isinstance(args.json, str):  # 'predict --json SOURCE': the flag, then the source
        args.source, args.json = args.json, True
    if args.source is None:
        args._parser.error("the following arguments are required: source")
    resolve_json_file(args, "out_json", "--out-json")
    from dabai.gate.camera import is_stream_url, stream_frames
    from dabai.runtime.detector import Detector
    from dabai.runtime.predict import predict_frames, predict_source

    detector = Detector.load(args.model, threads=args.threads or None, conf=args.conf, iou=args.iou,
                             second_look=not args.no_second_look)
    if is_stream_url(args.source):  # a network camera: newest frames, reconnecting when the stream drops
        frames = stream_frames(args.source, max_frames=args.max_frames)
        summary = predict_frames(detector, frames, args.out, args.out_json, args.kitti, video_name="stream")
    else:
        summary = predict_source(detector, args.source, args.out, args.out_json, args.kitti,
                                 max_pixels=args.max_pixels)
    if args.json:
        print_json(summary.records)
    said = sys.stderr if args.json else sys.stdout  # with --json, stdout holds the JSON alone
    print(f"{summary.images} image(s), {summary.detections} detection(s) at conf >= {args.conf}"
          + (" (stopped by Ctrl-C)" if summary.interrupted else ""), file=said)
    for why in summary.skipped:
        print(f"error: skipped {why}", file=sys.stderr)
    for what, where in (("images", args.out), ("json", args.out_json), ("kitti", args.kitti)):
        if where:
            print(f"{what}: {where}", file=said)
    return 1 if summary.skipped else 0
