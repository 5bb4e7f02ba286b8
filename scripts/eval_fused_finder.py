"""Measure a second face finder in the mask checker (session 16 experiment; not a shipped path).

A checker manifest's stage-1 candidates (`Checker.candidates`, second look included) and/or UltraFace
RFB-640 masked-face's candidates (P(face) = 1 - P(background), spread evenly over the three classes) go
through the checker's own stage 2 (`Checker.judge`, classifier weight 1.0) and are scored per source in
the three views of `dabai eval`:

    python scripts/eval_fused_finder.py ../shared/weights/ultraface-rfb-640-masked-face.onnx \
        src/dabai/assets/models/mask_checker.json fused data/splits/*/test      # or: ours, uf
    # compare: ours and fused on the same images, then a paired bootstrap of 3-class mAP@0.5 (fused - ours)

Results: docs/detector.md, "Session 16".
"""
import sys
from pathlib import Path

import numpy as np

from dabai.core.images import load_image_rgb
from dabai.eval.api import read_eval_data
from dabai.eval.compare import compare_detections
from dabai.eval.views import score_by_source
from dabai.runtime.detector import Detector
from dabai.runtime.preprocess import letterbox, to_tensor_layout
from dabai.runtime.types import Detection
from dabai.runtime.ultraface import FaceFinder


def main() -> None:
    if len(sys.argv) < 5 or sys.argv[3] not in ("ours", "uf", "fused", "compare"):
        sys.exit("usage: eval_fused_finder.py ULTRAFACE.onnx CHECKER.json ours|uf|fused|compare DATA_DIR [DATA_DIR ...]")
    uf_path, manifest, mode, *data = sys.argv[1:]
    det = Detector.load(manifest, threads=1)
    checker = det.checker.with_options(classifier_weight=1.0)
    finder = FaceFinder(Path(uf_path), 1)  # the runtime's second finder (manifest key face_finder)
    classes = det.classes
    ds = read_eval_data(data)
    modes = ("ours", "fused") if mode == "compare" else (mode,)
    found = {m: {} for m in modes}
    for im in ds.images:
        rgb = load_image_rgb(im.path)
        canvas, lb = letterbox(rgb, det.input_size)
        boxes, scores = det.backend(to_tensor_layout([canvas]))
        ours, our_scores = checker.candidates(det.backend, rgb, boxes[0], scores[0], lb, det.input_size)
        bx, uf_scores = finder(rgb, len(classes))
        for m in modes:
            if m == "ours":
                fb, fs = ours, our_scores
            elif m == "uf":
                fb, fs = bx, uf_scores
            else:
                fb, fs = np.concatenate([ours, bx]), np.concatenate([our_scores, uf_scores])
            fboxes, fscores = checker.judge(rgb, fb, fs)
            out = [Detection(tuple(float(v) for v in b), float(s[c]), classes[c])
                   for b, s in zip(fboxes, fscores) for c in range(len(classes))]
            found[m][im.name] = sorted(out, key=lambda d: -d.score)[:100]
    for m in modes:
        print(m)
        print(score_by_source(ds, found[m], list(classes)).render())
    if mode == "compare":
        c = compare_detections(ds, found["ours"], found["fused"], list(classes))
        print(f"fused - ours, 3-class mAP@0.5: {c.diff:+.4f}, 95% [{c.ci_low:+.4f}, {c.ci_high:+.4f}] over "
              f"{c.resamples} resamples of the images")


if __name__ == "__main__":
    main()
