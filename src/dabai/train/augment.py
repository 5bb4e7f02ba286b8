"""Bounding-box-aware augmentation (albumentations) plus a 'zoom to one face' crop.

The zoom crop turns crowd photos into gate-camera close-ups (one large face),
so the detector is not tuned to small faces alone.
"""

from __future__ import annotations

import cv2
import numpy as np

from dabai.core.boxes import clip_to_window
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
    if spec.low_light > 0:  # appended only when on, so specs without it draw the same random numbers as before
        # Exposure is scaled (contrast around 0), never shifted down: a subtracted brightness clips the
        # shadows to black and leaves faces nobody could label (session 8's first try did, and lost 7 val points).
        transforms.append(A.Sequential([
            A.RandomGamma((130, 220), p=1.0),
            A.RandomBrightnessContrast(brightness_limit=(0.0, 0.0), contrast_limit=(-0.5, -0.2), p=1.0),
            A.GaussNoise(std_range=(0.01, 0.03), per_channel=False, p=1.0),  # grey images stay grey
        ], p=spec.low_light))
    return A.Compose(
        transforms,
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.35, min_area=4.0,
                                 clip=True),
    )


def apply_pipeline(pipeline, image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
    """(image, boxes [n, 4] float32, labels [n] int64) through ``build_pipeline``'s transforms, seeded from
    ``rng``; boxes are first clipped to the image and those under a pixel wide or high dropped."""
    h, w = image.shape[:2]
    boxes = boxes.copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
    ok = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
    pipeline.set_random_seed(int(rng.integers(2**31)))
    out = pipeline(image=image, bboxes=boxes[ok], labels=labels[ok])
    return (out["image"], np.asarray(out["bboxes"], dtype=np.float32).reshape(-1, 4),
            np.asarray(out["labels"], dtype=np.int64))


def zoom_to_face(image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                 context: tuple[float, float] = (2.0, 5.0)):
    """Crop a window ``context`` times the size of one random face around it; keep boxes mostly inside."""
    if len(boxes) == 0:
        return image, boxes, labels
    h, w = image.shape[:2]
    x1, y1, x2, y2 = boxes[rng.integers(len(boxes))]
    side = max(x2 - x1, y2 - y1) * rng.uniform(*context)
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
    keep, clipped = clip_to_window(shifted, np.array([0, 0, right - left, bottom - top], dtype=np.float32), 0.5)
    return np.ascontiguousarray(crop), clipped[keep], labels[keep]


def mosaic(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], size: int, rng: np.random.Generator,
           min_visible: float = 0.5):
    """Four (image, boxes, labels) tiled around a random centre of a 2x canvas, then the middle cut out.

    Each image is first scaled so its long side is ``size`` (as the letterbox would), and the cut is
    ``size`` square, so faces keep the scale they would have had alone (YOLOv5's mosaic). Boxes less
    than ``min_visible`` inside the cut are dropped; the rest are clipped to it.
    """
    s = size
    canvas = np.full((2 * s, 2 * s, 3), PAD_VALUE, dtype=np.uint8)
    xc, yc = (int(rng.uniform(0.5 * s, 1.5 * s)) for _ in range(2))
    all_boxes, all_labels = [], []
    for k, (image, boxes, labels) in enumerate(parts[:4]):
        r = s / max(image.shape[:2])
        h, w = max(1, round(image.shape[0] * r)), max(1, round(image.shape[1] * r))
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR)
        # where the tile goes on the canvas (a) and which part of the image fills it (b)
        x1a, x2a = (max(xc - w, 0), xc) if k in (0, 2) else (xc, min(xc + w, 2 * s))
        y1a, y2a = (max(yc - h, 0), yc) if k in (0, 1) else (yc, min(yc + h, 2 * s))
        x1b = w - (x2a - x1a) if k in (0, 2) else 0
        y1b = h - (y2a - y1a) if k in (0, 1) else 0
        canvas[y1a:y2a, x1a:x2a] = image[y1b:y1b + (y2a - y1a), x1b:x1b + (x2a - x1a)]
        moved = boxes * r + np.array([x1a - x1b, y1a - y1b] * 2, dtype=np.float32)
        # parts of a box that fall outside its own tile are covered by other tiles
        tile = np.array([x1a, y1a, x2a, y2a], dtype=np.float32)
        keep, clipped = clip_to_window(moved, tile, min_visible)
        all_boxes.append(clipped[keep])
        all_labels.append(labels[keep])
    boxes = np.concatenate(all_boxes).reshape(-1, 4) if all_boxes else np.zeros((0, 4), np.float32)
    labels = np.concatenate(all_labels) if all_labels else np.zeros(0, np.int64)
    cut = np.array([s // 2, s // 2, s // 2 + s, s // 2 + s], dtype=np.float32)
    keep, clipped = clip_to_window(boxes, cut, min_visible)
    out_boxes = clipped[keep] - np.array([cut[0], cut[1]] * 2, dtype=np.float32)
    image = np.ascontiguousarray(canvas[s // 2:s // 2 + s, s // 2:s // 2 + s])
    return image, out_boxes.astype(np.float32), labels[keep].astype(np.int64)
