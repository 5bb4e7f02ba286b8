"""Copy-paste augmentation for rare classes: faces cut from other training images are pasted
into the image being augmented, at a new place and scale, with a feathered edge.

Why: `mask_weared_incorrect` has 73 training faces in 41 images, so repeat sampling shows the
same few scenes again and again. Pasting those faces into other scenes gives the detector the
rare class against new backgrounds, at new sizes (down to crowd-face size) and next to other
classes, without new labels. Simple copy-paste (Ghiasi et al., CVPR 2021) with box labels only:
a face patch is a rectangle with some context, blended by a soft alpha so its border is not a
shortcut the detector can learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dabai.core.images import load_image_rgb
from dabai.data.dataset import Dataset

CONTEXT = 1.25  # patch side / face side: a little context around the face to blend into
MAX_TRIES = 10  # placements tried per face before giving up on it
MAX_OVERLAP = 0.1  # largest fraction of a pasted face allowed to cover an existing face (and back)


@dataclass(frozen=True)
class BankEntry:
    record: int  # index of the source image in the dataset
    box: tuple[float, float, float, float]  # the face, in source pixels
    label: int  # class id


class FaceBank:
    """The faces of the chosen classes, cut lazily from their images (and cached per worker)."""

    def __init__(self, dataset: Dataset, class_ids: dict[str, int], classes: tuple[str, ...], min_side: float = 8.0):
        self.records = dataset.images
        self.entries = [
            BankEntry(i, (b.x1, b.y1, b.x2, b.y2), class_ids[b.label])
            for i, record in enumerate(self.records)
            for b in record.boxes
            if b.label in classes and min(b.width, b.height) >= min_side
        ]
        self._patches: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def patch(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(patch RGB uint8, face box inside the patch) for entry k."""
        if k not in self._patches:
            entry = self.entries[k]
            image = load_image_rgb(self.records[entry.record].path)
            self._patches[k] = cut_patch(image, np.asarray(entry.box, dtype=np.float32))
        return self._patches[k]


def cut_patch(image: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) * CONTEXT / 2, (box[3] - box[1]) * CONTEXT / 2
    left, top = int(max(0, np.floor(cx - half_w))), int(max(0, np.floor(cy - half_h)))
    right, bottom = int(min(w, np.ceil(cx + half_w))), int(min(h, np.ceil(cy + half_h)))
    patch = image[top:bottom, left:right].copy()
    return patch, box - np.array([left, top, left, top], dtype=np.float32)


def paste_faces(image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, bank: FaceBank, rng: np.random.Generator,
                max_faces: int, scale: tuple[float, float], skip_record: int | None = None):
    """Paste 1..max_faces faces from ``bank``; returns new (image, boxes, labels). Inputs are not changed."""
    if len(bank) == 0:
        return image, boxes, labels
    out = image.copy()
    boxes, labels = list(boxes), list(labels)
    for _ in range(int(rng.integers(1, max_faces + 1))):
        k = int(rng.integers(len(bank)))
        if bank.entries[k].record == skip_record:
            continue
        patch, face = bank.patch(k)
        placed = _place(out, patch, face, boxes, rng, scale)
        if placed is not None:
            boxes.append(placed)
            labels.append(bank.entries[k].label)
    return out, np.asarray(boxes, dtype=np.float32).reshape(-1, 4), np.asarray(labels, dtype=np.int64)


def _place(canvas: np.ndarray, patch: np.ndarray, face: np.ndarray, boxes: list, rng: np.random.Generator,
           scale: tuple[float, float]) -> np.ndarray | None:
    """Blend a resized (maybe flipped) patch somewhere it covers no face; the new face box or None."""
    s = float(np.exp(rng.uniform(np.log(scale[0]), np.log(scale[1]))))
    ph, pw = patch.shape[:2]
    nw, nh = max(2, round(pw * s)), max(2, round(ph * s))
    H, W = canvas.shape[:2]
    if nw >= W or nh >= H:
        return None
    resized = cv2.resize(patch, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    new_face = face * np.array([nw / pw, nh / ph, nw / pw, nh / ph], dtype=np.float32)
    if rng.random() < 0.5:
        resized = resized[:, ::-1]
        new_face = np.array([nw - new_face[2], new_face[1], nw - new_face[0], new_face[3]], dtype=np.float32)
    existing = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    for _ in range(MAX_TRIES):
        x, y = int(rng.integers(0, W - nw + 1)), int(rng.integers(0, H - nh + 1))
        candidate = new_face + np.array([x, y, x, y], dtype=np.float32)
        if _overlaps(candidate, existing):
            continue
        region = canvas[y:y + nh, x:x + nw].astype(np.float32)
        alpha = _feather(nh, nw)[..., None]
        canvas[y:y + nh, x:x + nw] = (alpha * resized + (1 - alpha) * region).round().astype(np.uint8)
        return candidate
    return None


def _overlaps(box: np.ndarray, others: np.ndarray) -> bool:
    """True when the box and any other face cover more than MAX_OVERLAP of each other's area."""
    if len(others) == 0:
        return False
    ix = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    inter = ix * iy
    area = max(float((box[2] - box[0]) * (box[3] - box[1])), 1e-6)
    other_area = np.maximum((others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1]), 1e-6)
    return bool(np.any(inter / area > MAX_OVERLAP) or np.any(inter / other_area > MAX_OVERLAP))


def _feather(h: int, w: int) -> np.ndarray:
    """Alpha 1 in the middle falling to 0 at the border (over the context margin), float32 [h, w]."""
    margin = (1 - 1 / CONTEXT) / 2  # fraction of the side that is context on each edge
    ramp_y = np.clip(np.minimum(np.arange(h) + 0.5, h - np.arange(h) - 0.5) / max(margin * h, 1.0), 0, 1)
    ramp_x = np.clip(np.minimum(np.arange(w) + 0.5, w - np.arange(w) - 0.5) / max(margin * w, 1.0), 0, 1)
    return np.outer(ramp_y, ramp_x).astype(np.float32)
