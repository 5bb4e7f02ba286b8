"""Assemble the shipped mask checker (FP32 and INT8) from a detector run and a classifier run.

    python scripts/build_mask_checker.py \
        --detector runs/train/mask-detector/last.onnx --classifier runs/train/mask-classifier/classifier.onnx \
        --calib data/splits/face-mask/train data/splits/ilc2021/train --parity-data data/splits/ilc2021/val \
        --classifier-weight 1.0 --tiles 2 --tile-trigger 0.3 --tile-where unsure --flip 0.5 \
        --face-finder runs/train/face-finder/face_finder.onnx --out src/dabai/assets/models

Writes mask_checker.json (FP32: mask_detector.onnx + mask_classifier.onnx) and mask_checker.int8.json
(the detector quantised by `dabai export --precision int8` with its parity gate, the classifier quantised
statically on face crops of --calib), each manifest carrying the sha256 of its parts and the provenance.
--face-finder names an UltraFace ONNX whose faces join stage 1's before stage 2 (runtime/ultraface.py): the
shipped one is UltraFace RFB-640 masked-face fine-tuned by `dabai train configs/face_finder.yaml` (session 18);
a released UltraFace file works too. It runs in FP32 in both manifests (an INT8 UltraFace ran slower,
docs/detector.md, session 17).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dabai.core.images import load_image_rgb
from dabai.data.formats import read_dataset
from dabai.export.api import ExportOptions, export_model
from dabai.export.checker import build_checker, quantize_classifier, spec_digest
from dabai.runtime.checker import CHOICES, CheckerOptions
from dabai.runtime.refine import CropClassifier


def calibration_crops(folders: list[str], classifier: CropClassifier, count: int = 512, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    faces = [(im.path, b.as_list()) for folder in folders for im in read_dataset(folder).images for b in im.boxes]
    picked = [faces[i] for i in rng.choice(len(faces), size=min(count, len(faces)), replace=False)]
    return np.stack([classifier.crops(load_image_rgb(path), np.array([box]))[0] for path, box in picked])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--detector", required=True)
    p.add_argument("--classifier", required=True)
    p.add_argument("--calib", nargs="+", required=True, help="labelled training folders (INT8 calibration)")
    p.add_argument("--parity-data", required=True, help="labelled folder for the detector's INT8 parity gate")
    p.add_argument("--classifier-weight", type=float, default=1.0)
    p.add_argument("--tiles", type=int, default=1, help="grid of the second look at crowded frames (1: none; "
                   "runtime/tiles.py)")
    p.add_argument("--tile-trigger", type=float, default=CheckerOptions.tile_trigger,
                   help="first-pass score of a small face that calls for the second look")
    p.add_argument("--tile-where", choices=CHOICES["tile_where"], default=CheckerOptions.tile_where,
                   help="second look through all tiles, or only those holding a small unsure face")
    p.add_argument("--flip", type=float, default=CheckerOptions.flip,
                   help="share of each face crop's mirror image in the classifier's judgement (0: none; 0.5: averaged)")
    p.add_argument("--face-finder", metavar="ONNX", help="an UltraFace ONNX as the second finder, e.g. the run of "
                   "configs/face_finder.yaml (manifest key face_finder; its faces join stage 1's before stage 2)")
    p.add_argument("--provenance", help="JSON file merged into the manifests' provenance")
    p.add_argument("--out", required=True)
    args = p.parse_args()

    out = Path(args.out)
    options = CheckerOptions(classifier_weight=args.classifier_weight, tiles=args.tiles, tile_trigger=args.tile_trigger,
                             tile_where=args.tile_where, flip=args.flip)
    provenance = json.loads(Path(args.provenance).read_text()) if args.provenance else {}
    provenance.setdefault("specs", {name: spec_digest(f"configs/{name}") for name in
                                    ("mask_detector.yaml", "mask_classifier.yaml", "face_finder.yaml")})
    fp32 = build_checker(args.detector, args.classifier, out / "mask_checker.json", options,
                         {**provenance, "precision": "fp32"}, names=("mask_detector.onnx", "mask_classifier.onnx"),
                         face_finder=args.face_finder)
    det_int8 = out / "mask_detector.int8.onnx"
    result = export_model(ExportOptions(model=str(out / "mask_detector.onnx"), out=str(det_int8), precision="int8",
                                       calib=args.calib[0], parity_data=args.parity_data))
    print("detector INT8 parity:", json.dumps([r.to_json() for r in result.parity])[:600])
    clf = CropClassifier(out / "mask_classifier.onnx", threads=1)
    quantize_classifier(out / "mask_classifier.onnx", out / "mask_classifier.int8.onnx",
                        calibration_crops(args.calib, clf))
    int8 = build_checker(det_int8, out / "mask_classifier.int8.onnx", out / "mask_checker.int8.json", options,
                         {**provenance, "precision": "int8", "from": json.loads(fp32.read_text())["sha256"]},
                         face_finder=args.face_finder)
    print(f"wrote {fp32} and {int8}")


if __name__ == "__main__":
    main()
