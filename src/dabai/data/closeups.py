"""``data closeups``: gate-camera close-ups cut from a labelled dataset, to check a detector off its
training domain.

A gate camera sees one visitor from about a metre: one large face in a 4:3 frame. Crowd photos
(most of the face-mask data) hold many small faces. This cuts, around every face at least
``min_face`` pixels wide, a window ``context`` times the face's side, resizes it to ``size``, and
keeps every box at least half inside that window (clipped to it). Scoring the shipped model on
such a set shows whether it was tuned to small faces alone; it never changes the input.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np

from dabai.core.boxes import clip_to_window
from dabai.core.errors import DataError
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats import write_labels
from dabai.data.imageio import prepare_output_dir, read_image_bgr, write_jpeg
from dabai.data.progress import progress

KEEP_FRACTION = 0.5  # a box is kept when at least this much of it lies inside the window
JPEG_QUALITY = 95


def closeup_dataset(ds: Dataset, out: str | Path, fmt: str, size: tuple[int, int] = (640, 480),
                    context: float = 3.0, min_face: float = 48.0) -> Dataset:
    """Write one close-up per face of ``ds`` at least ``min_face`` px wide into the new (or empty) ``out``."""
    if context < 1.0:
        raise DataError(f"context {context} is below 1: the window must hold the whole face")
    out = prepare_output_dir(Path(out))
    records = []
    for record in progress(ds.images, desc="close-ups"):
        faces = [b for b in record.boxes if min(b.width, b.height) >= min_face]
        if not faces:
            continue
        image = read_image_bgr(record.path)
        for k, face in enumerate(faces):
            window = face_window(face, image.shape[1], image.shape[0], size, context)
            name = f"{Path(record.name).with_suffix('')}_face{k}.jpg"
            records.append(_write_closeup(image, record, window, size, out / "images" / name, name))
    closeups = Dataset(images=records, classes=list(ds.classes))
    write_labels(closeups, out, fmt)
    return closeups


def face_window(face: Box, width: int, height: int, size: tuple[int, int], context: float) -> tuple[float, float, float, float]:
    """A window of the output's aspect around the face, shrunk and shifted to stay inside the image when it can."""
    aspect = size[0] / size[1]
    needed = max(face.width / aspect, face.height)  # smallest window holding the face
    # less context rather than invented border where the photo is too small for the full window
    win_h = max(needed, min(needed * context, height, width / aspect))
    win_w = win_h * aspect
    cx, cy = (face.x1 + face.x2) / 2, (face.y1 + face.y2) / 2
    left = min(max(cx - win_w / 2, 0.0), max(width - win_w, 0.0)) if win_w <= width else cx - win_w / 2
    top = min(max(cy - win_h / 2, 0.0), max(height - win_h, 0.0)) if win_h <= height else cy - win_h / 2
    return left, top, left + win_w, top + win_h


def _write_closeup(image: np.ndarray, record: ImageRecord, window, size, target: Path, name: str) -> ImageRecord:
    left, top, right, bottom = window
    sx, sy = size[0] / (right - left), size[1] / (bottom - top)
    affine = np.float32([[sx, 0, -left * sx], [0, sy, -top * sy]])
    interp = cv2.INTER_AREA if sx < 1 else cv2.INTER_CUBIC
    # outside the photo (small photos, faces at the edge): repeat the border rather than draw black bars
    crop = cv2.warpAffine(image, affine, size, flags=interp, borderMode=cv2.BORDER_REPLICATE)
    write_jpeg(target, crop, JPEG_QUALITY)
    return ImageRecord(path=target.resolve(), width=size[0], height=size[1],
                       boxes=_moved(record.boxes, window, sx, sy, size), name=name)


def _moved(boxes: list[Box], window, sx: float, sy: float, size) -> list[Box]:
    """The boxes at least half inside ``window``, clipped to it and scaled to the close-up's pixels."""
    if not boxes:
        return []
    keep, clipped = clip_to_window(np.array([b.as_list() for b in boxes], dtype=np.float64), window,
                                   KEEP_FRACTION, min_side=0.0)
    left, top = window[0], window[1]
    scaled = (clipped - [left, top, left, top]) * [sx, sy, sx, sy]
    scaled = np.minimum(scaled, [size[0], size[1]] * 2)  # float rounding must not step outside the image
    # line=None: the box now lives in the close-up, not on a line of the source label file
    return [dataclasses.replace(b, x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), line=None)
            for b, ok, (x1, y1, x2, y2) in zip(boxes, keep, scaled) if ok]
