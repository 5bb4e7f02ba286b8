"""``dabai export``: a detector to ONNX FP32/FP16/INT8, a TensorRT engine or a Triton repository, self-checked."""

from __future__ import annotations

from pathlib import Path

from dabai.cli.common import add_command, print_json, split_csv
from dabai.cli.parity import add_tolerance_flags, tolerances_of

EXPORT_EXAMPLES = """\
  dabai export --model best.pt --out mask_detector.onnx                              # FP32, checked against best.pt
  dabai export --model best.pt --precision fp16 --out mask_detector.fp16.onnx
  dabai export --model best.pt --precision int8 --calib data/face-mask-split/train --calib-images 200 \\
      --parity-data data/face-mask-split/val --out mask_detector.int8.onnx
  dabai export --model best.pt --format engine --precision fp16 --out mask_detector.fp16.engine   # NVIDIA GPU + tensorrt
  dabai export --model best.pt --format triton --out triton_repo/                    # Triton model repository
"""


def register(sub) -> None:
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
    add_tolerance_flags(p)


def run_export(args) -> int:
    from dabai.export.api import ExportOptions, export_model
    if Path(args.model).suffix.lower() in (".pt", ".pth"):
        from dabai.core.errors import require

        require("torch", "train")
    options = ExportOptions(model=args.model, out=args.out, format=args.format, precision=args.precision,
                            calib=args.calib, calib_images=args.calib_images, calib_method=args.calib_method,
                            keep_float=split_csv(args.keep_float), int8_high_res=args.int8_high_res,
                            parity=not args.no_parity,
                            parity_data=args.parity_data, parity_images=args.parity_images,
                            tolerances=tolerances_of(args, args.precision), triton_name=args.triton_name,
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
