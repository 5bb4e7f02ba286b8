"""Draw docs/img/paint-masks.png: bare faces of a dataset beside the three ways `data paint-masks` puts a mask on.

    python scripts/paint_masks_sheet.py ../shared/data/face-mask --face-model ../shared/weights/face_detection_yunet.onnx \
        --out docs/img/paint-masks.png

Only the CC0 face-mask source may be shown in the repository (the others state no licence). Each row: the face as
labelled, then worn right, under the nose and on the chin (the same landmarks, a new random look each).
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from dabai.data.formats import read_dataset
from dabai.data.maskpaint import STYLES, MaskLook, paint_mask
from dabai.loop.faces import FaceFinder
from dabai.loop.paint import find_landmarks

TILE = 128


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data")
    p.add_argument("--face-model", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rows", type=int, default=6)
    p.add_argument("--min-face", type=float, default=56.0)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    finder, rng, rows = FaceFinder(args.face_model, min_score=0.3), np.random.default_rng(args.seed), []
    for record in read_dataset(args.data).images:
        faces = [b for b in record.boxes if b.label == "without_mask" and min(b.width, b.height) >= args.min_face]
        if not faces:
            continue
        image = cv2.imread(str(record.path))
        box = faces[0]
        landmarks = find_landmarks(image, box.as_list(), finder)
        if landmarks is None:
            continue
        side = 1.6 * max(box.width, box.height)
        cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
        s = TILE / side
        affine = np.float32([[s, 0, TILE / 2 - cx * s], [0, s, TILE / 2 - cy * s]])

        views = [image] + [paint_mask(image, landmarks, box.as_list(), style, MaskLook.random(rng), rng)
                           for style in STYLES]
        row = [cv2.warpAffine(v, affine, (TILE, TILE), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
               for v in views]
        rows.append(np.hstack(row))
        if len(rows) == args.rows:
            break
    if not rows:
        raise SystemExit(f"no bare face of at least {args.min_face:g} px with landmarks in {args.data}")
    header = np.full((28, TILE * 4, 3), 255, np.uint8)
    for k, text in enumerate(["labelled", "worn right", "nose out", "on the chin"]):
        cv2.putText(header, text, (k * TILE + 6, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.imwrite(args.out, np.vstack([header, *rows]))
    print(f"{len(rows)} faces -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
