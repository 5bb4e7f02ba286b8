"""How well ``label``'s boxes agree with an independent face detector (the check behind its accuracy claim).

For every labelled image of a VOC folder, the independent detector (:class:`~dabai.loop.faces.FaceFinder`)
looks at the image padded with grey like ``label`` pads face crops; its best face is compared with the
annotation's boxes. A face it finds counts as agreeing when some box overlaps it by ``iou`` or more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from dabai.core.boxes import box_iou_matrix
from dabai.core.images import read_bgr
from dabai.data.formats import voc
from dabai.data.progress import progress
from dabai.loop.faces import FaceFinder
from dabai.runtime.preprocess import PAD_VALUE


@dataclass
class Agreement:
    images: int = 0
    found: int = 0  # images where the independent detector found a face
    agree: int = 0  # ... and a labelled box overlaps it by at least the IoU
    ious: list[float] = field(default_factory=list, repr=False)

    @property
    def rate(self) -> float:
        return self.agree / self.found if self.found else 0.0

    @property
    def median_iou(self) -> float:
        return float(np.median(self.ious)) if self.ious else 0.0


def agreement(voc_dir: str | Path, face_model: str | Path, iou: float = 0.5, pad: float = 0.5) -> Agreement:
    finder = FaceFinder(face_model)
    result = Agreement()
    for im in progress(voc.read(Path(voc_dir)).images, desc="agreement"):
        image = read_bgr(im.path)
        h, w = image.shape[:2]
        p = int(round(pad * max(h, w)))
        padded = cv2.copyMakeBorder(image, p, p, p, p, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
        result.images += 1
        found = finder(padded)
        if not len(found) or not im.boxes:
            continue
        best = found[int(found[:, 4].argmax()), :4] - p
        result.found += 1
        overlap = float(box_iou_matrix(best[None].astype(np.float64), im.box_array()).max())
        result.ious.append(overlap)
        result.agree += overlap >= iou
    return result
