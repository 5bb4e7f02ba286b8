"""``data paint-masks``: new masked faces from bare ones — each ``without_mask`` face of a dataset gets a mask,
worn right (``with_mask``) or wrong (``mask_weared_incorrect``), drawn on its own landmarks.

The faces, their light, cameras and skin stay real; only the mask is drawn (``data/maskpaint.py`` says how).
OpenCV's YuNet finds each labelled face again in a window around its box and gives its five landmarks; a face
it does not find, or finds implausibly, is left out and counted. The output is a new dataset (a detection
dataset in any format, or class folders of face crops for a crop source) holding only the painted images; the
input is never changed. ``paint_report.json`` records the options, the face model's sha256 and every painted
face's style, so a training run can name what it learned from.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from dabai.core.boxes import box_iou_matrix
from dabai.core.digest import sha256_file
from dabai.core.errors import DataError
from dabai.core.images import list_images
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats import write_labels
from dabai.data.imageio import prepare_output_dir, read_image_bgr, write_jpeg
from dabai.data.maskpaint import STYLES, Landmarks, MaskLook, check_shares, choose_style, paint_mask
from dabai.data.progress import progress
from dabai.loop.faces import FaceFinder

JPEG_QUALITY = 95
VIEW = 160  # the face's side (px) in the window YuNet looks at
MATCH_IOU = 0.3  # YuNet's box must overlap the labelled face this much to lend it its landmarks


@dataclass(frozen=True)
class PaintOptions:
    incorrect: float = 0.5  # share of the painted faces that wear the mask wrong
    chin: float = 0.25  # share of those with the mask on the chin (the rest: under the nose)
    min_face: float = 24.0  # smallest face side (px) to paint; smaller ones keep their label and pixels
    label: str = "without_mask"  # the faces that get a mask
    min_score: float = 0.5  # YuNet's face score below which its landmarks are not trusted
    seed: int = 0

    def __post_init__(self) -> None:
        check_shares(self.incorrect, self.chin)  # before any output is made
        if self.min_face < 8:
            raise DataError(f"--min-face {self.min_face}: faces under 8 px have no landmarks to paint on")


@dataclass
class PaintReport:
    painted: Counter = field(default_factory=Counter)  # style -> faces
    not_found: int = 0  # faces YuNet did not find again (left out)
    too_small: int = 0
    images: int = 0  # images written
    faces: list[dict] = field(default_factory=list)  # one row per painted face

    def to_dict(self) -> dict:
        return {"painted": dict(self.painted), "not_found": self.not_found, "too_small": self.too_small,
                "images_written": self.images, "faces": self.faces}


def find_landmarks(image: np.ndarray, box, finder: FaceFinder, min_score: float = 0.5) -> Landmarks | None:
    """The five landmarks of the labelled face ``box`` (x1, y1, x2, y2), found by ``finder`` in a window twice the
    face's side, scaled so the face is ``VIEW`` px; None when no plausible face there overlaps the box."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1)
    if side <= 1:
        return None
    scale = VIEW / side
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half = side  # the window: the face and as much again around it
    size = int(round(2 * half * scale))
    affine = np.float32([[scale, 0, (half - cx) * scale], [0, scale, (half - cy) * scale]])
    view = cv2.warpAffine(image, affine, (size, size), flags=cv2.INTER_LINEAR if scale < 1 else cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)
    found = finder.landmarks(view)
    if not len(found):
        return None
    found = found[found[:, 4] >= min_score]
    if not len(found):
        return None
    label = np.array([[(x1 - cx + half) * scale, (y1 - cy + half) * scale,
                       (x2 - cx + half) * scale, (y2 - cy + half) * scale]])
    iou = box_iou_matrix(found[:, :4].astype(np.float64), label)[:, 0]
    best = int(np.argmax(iou * found[:, 4]))
    if iou[best] < MATCH_IOU:
        return None
    points = found[best, 5:15].reshape(5, 2).astype(np.float64) / scale + [cx - half, cy - half]
    landmarks = Landmarks.of(points)
    return landmarks if landmarks.plausible() else None


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def _paint_faces(image: np.ndarray, boxes: list[Box], finder: FaceFinder, options: PaintOptions, name: str,
                 report: PaintReport) -> tuple[np.ndarray, list[Box], int]:
    """``image`` with every ``options.label`` face painted, the boxes relabelled (the others unchanged), and how
    many faces were painted."""
    rng = _rng(options.seed, name)
    out_boxes, painted = [], 0
    for k, box in enumerate(boxes):
        if box.label != options.label:
            out_boxes.append(box)
            continue
        if min(box.width, box.height) < options.min_face:
            report.too_small += 1
            out_boxes.append(box)
            continue
        landmarks = find_landmarks(image, box.as_list(), finder, options.min_score)
        if landmarks is None:
            report.not_found += 1
            out_boxes.append(box)
            continue
        style, look = choose_style(rng, options.incorrect, options.chin), MaskLook.random(rng)
        image = paint_mask(image, landmarks, box.as_list(), style, look, rng)
        report.painted[style] += 1
        painted += 1
        report.faces.append({"image": name, "box": k, "style": style, **dataclasses.asdict(look)})
        out_boxes.append(dataclasses.replace(box, label=STYLES[style], line=None))
    return image, out_boxes, painted


def paint_dataset(ds: Dataset, out: str | Path, fmt: str, finder: FaceFinder,
                  options: PaintOptions = PaintOptions()) -> tuple[Dataset, PaintReport]:
    """Write every image of ``ds`` with at least one painted face to the new (or empty) ``out`` in format
    ``fmt``: the painted faces relabelled, the other faces as they were. Returns the new dataset and the report."""
    finder.require_landmarks()
    out = prepare_output_dir(Path(out))
    report, records = PaintReport(), []
    classes = list(ds.classes) + [c for c in ("with_mask", "mask_weared_incorrect") if c not in ds.classes]
    for record in progress(ds.images, desc="painting masks"):
        if not any(b.label == options.label for b in record.boxes):
            continue
        image, boxes, painted = _paint_faces(read_image_bgr(record.path), record.boxes, finder, options, record.name,
                                             report)
        if not painted:
            continue
        name = f"{Path(record.name).with_suffix('').as_posix()}_masked.jpg"
        target = out / "images" / name
        write_jpeg(target, image, JPEG_QUALITY)
        records.append(ImageRecord(path=target.resolve(), width=record.width, height=record.height, boxes=boxes,
                                   name=name, source=f"painted:{record.source}" if record.source else "painted"))
        report.images += 1
    painted = Dataset(images=records, classes=classes)
    write_labels(painted, out, fmt)
    _write_report(out, report, options, finder)
    return painted, report


def paint_crop_folder(root: str | Path, out: str | Path, finder: FaceFinder,
                      options: PaintOptions = PaintOptions()) -> PaintReport:
    """For a folder of class folders of face crops: paint every crop of ``root/<options.label>/`` and write it
    to ``out/with_mask/`` or ``out/mask_weared_incorrect/`` by how the mask is worn. The face is taken to fill
    the crop (a Haar-cascade crop), so YuNet looks for it over the whole crop."""
    finder.require_landmarks()
    root = Path(root)
    folder = root / options.label
    crops = list_images(folder)
    if not crops:
        raise DataError(f"no face crops in {folder}: paint-masks on a crop folder paints its "
                        f"'{options.label}' class folder", path=root)
    out = prepare_output_dir(Path(out))
    report = PaintReport()
    for path in progress(crops, desc="painting masks"):
        image = read_image_bgr(path)
        h, w = image.shape[:2]
        name = path.relative_to(folder).as_posix()
        face = Box(0.0, 0.0, float(w), float(h), options.label)
        image, (box,), painted = _paint_faces(image, [face], finder, options, name, report)
        if not painted:
            continue
        write_jpeg(out / box.label / Path(name).with_suffix(".jpg"), image, JPEG_QUALITY)
        report.images += 1
    _write_report(out, report, options, finder)
    return report


def _write_report(out: Path, report: PaintReport, options: PaintOptions, finder: FaceFinder) -> None:
    body = {"options": dataclasses.asdict(options), "face_model": {"path": str(finder.path),
                                                                   "sha256": sha256_file(finder.path)},
            **report.to_dict()}
    (out / "paint_report.json").write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
