"""Bounding-box-aware augmentation (albumentations) plus a 'zoom to one face' crop.

The zoom crop turns crowd photos into gate-camera close-ups (one large face),
so the detector is not tuned to small faces alone.
"""

from __future__ import annotations

import cv2
import numpy as np

from dabai.runtime.preprocess import PAD_VALUE
from dabai.train.spec import AugmentSpec


def build_pipeline(spec: AugmentSpec):
    import albumentations as A

    transforms = [
        A.HorizontalFlip(p=spec.hflip),
        A.Affine(scale=spec.scale, translate_percent=(-0.1, 0.1), rotate=(-8, 8), border_mode=cv2.BORDER_CONSTANT,
                 fill=PAD_VALUE, p=spec.affine_p),
        A.OneOf([
            A.RandomBrightnessContrast(0.25, 0.25),
            A.HueSaturationValue(8, 25, 20),
            A.RandomGamma((80, 120)),
        ], p=spec.color),
        A.OneOf([A.MotionBlur(blur_limit=(3, 7)), A.GaussianBlur(blur_limit=(3, 5))], p=spec.blur),
        A.ImageCompression(quality_range=(40, 90), p=spec.jpeg),
        A.ToGray(p=spec.gray),
    ]
    return A.Compose(
        transforms,
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.35, min_area=4.0,
                                 clip=True),
    )


def zoom_to_face(image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
    """Crop a window 2-5x the size of one random face around it; keep boxes mostly inside."""
    if len(boxes) == 0:
        return image, boxes, labels
    h, w = image.shape[:2]
    x1, y1, x2, y2 = boxes[rng.integers(len(boxes))]
    side = max(x2 - x1, y2 - y1) * rng.uniform(2.0, 5.0)
    side = min(side, max(w, h))
    cx = (x1 + x2) / 2 + rng.uniform(-0.25, 0.25) * side
    cy = (y1 + y2) / 2 + rng.uniform(-0.25, 0.25) * side
    left = int(np.clip(cx - side / 2, 0, max(0, w - side)))
    top = int(np.clip(cy - side / 2, 0, max(0, h - side)))
    right, bottom = int(min(w, left + side)), int(min(h, top + side))
    if right - left < 8 or bottom - top < 8:
        return image, boxes, labels
    crop = image[top:bottom, left:right]
    shifted = boxes - np.array([left, top, left, top], dtype=np.float32)
    clipped = shifted.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, right - left)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, bottom - top)
    area = (shifted[:, 2] - shifted[:, 0]) * (shifted[:, 3] - shifted[:, 1])
    kept_area = (clipped[:, 2] - clipped[:, 0]).clip(0) * (clipped[:, 3] - clipped[:, 1]).clip(0)
    keep = kept_area >= 0.5 * np.maximum(area, 1e-6)
    return np.ascontiguousarray(crop), clipped[keep], labels[keep]
