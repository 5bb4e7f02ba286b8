"""Pre-label images with the current checker so that a person only corrects (``dabai label``).

Writes Pascal VOC that labelImg opens (``OUT/images/``, ``OUT/annotations/*.xml``, ``OUT/classes.txt``,
through the VOC writer of ``data/formats/voc.py``). Two modes:

* **photos** (the default): every face the checker finds at ``conf`` or more becomes a box of its best class.
* **face crops in class folders** (``with_mask/``, ``without_mask/``, ... as in ``face-mask-crops``; found
  automatically when every image sits in a folder named after one of the model's classes): the crop is
  padded with grey (a face detector needs some context around a face), the checker's best face is the box,
  and the folder names the class.

A box the checker is unsure of is written with ``<difficult>1</difficult>`` (labelImg shows it as a
ticked "difficult" box: untick it once checked) and listed in ``OUT/review.csv``, most doubtful first, so a
person looks at those first: a face scoring below ``sure`` (by default 0.6 for photos, 0.5 for crops: ``SURE``), two classes within ``margin`` of each other, a
crop whose folder the checker disagrees with, or a crop where no face was found (its box is then the whole
crop). ``only_uncertain`` writes just the images with such a box.

Re-running never overwrites a person's work: ``OUT/.dabai-label.json`` records the SHA-256 of every
annotation this tool wrote. An annotation whose content still matches is replaced by the new pre-label; one
that was changed (or that this tool did not write) is human work and is kept as it is, image included.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from dabai.core.digest import sha256_file
from dabai.core.errors import DataError
from dabai.data.dataset import Box, ImageRecord
from dabai.data.formats.base import write_classes_file
from dabai.data.formats.voc import write_annotation
from dabai.data.imageio import write_jpeg
from dabai.gate.config import MaskRules
from dabai.loop.faces import Face, group_faces
from dabai.loop.sources import FrameSource, open_source
from dabai.runtime.detector import Detector
from dabai.runtime.preprocess import PAD_VALUE

MANIFEST_NAME = ".dabai-label.json"
MANIFEST_FORMAT = "dabai-label/1"
REVIEW_NAME = "review.csv"
# Default `sure` per mode. Photos: the checker's clear faces score about 0.6. Face crops (64 px, grey, from
# video): its faces score 0.54-0.60 (5th-95th percentile, 1,000 shared crops), so 0.6 marked 58 % of them, with
# boxes no worse than the rest (YuNet agreement 99.2 % vs 99.7 %); 0.5 marks 3.4 %, folder disagreements included.
SURE = {"photos": 0.6, "crops": 0.5}
CROP_SCAN_CONF = 0.1  # crops: the best face is wanted even when the checker doubts it


@dataclass(frozen=True)
class LabelOptions:
    conf: float = MaskRules.min_face_score  # photos: faces scoring below this (sum of class scores) get no box
    sure: float | None = None  # a box scoring below this is marked difficult; None: SURE[mode]
    margin: float = 0.3  # a box whose two best class shares are closer than this is marked difficult
    only_uncertain: bool = False  # write only images with at least one difficult box
    crops: bool | None = None  # face crops in class folders; None: decide from the folder layout
    pad: float = 0.5  # crops: grey border, as a share of the crop's longer side, on every side

    def __post_init__(self) -> None:
        for name in ("conf", "sure", "margin"):
            if getattr(self, name) is not None and not 0 <= getattr(self, name) <= 1:
                raise DataError(f"{name} must be from 0 to 1, got {getattr(self, name)}")


@dataclass
class LabelReport:
    mode: str  # "photos" or "crops"
    out: Path
    written: list[str] = field(default_factory=list)  # annotations written (new or replacing an untouched one)
    kept: list[str] = field(default_factory=list)  # human-edited annotations left as they were
    certain_left_out: int = 0  # images not written because nothing in them was uncertain (only_uncertain)
    uncertain: int = 0  # written images with at least one difficult box
    boxes: int = 0
    skipped: list[str] = field(default_factory=list)  # unreadable images
    review_csv: Path | None = None


@dataclass
class Review:
    image: str
    boxes: int  # difficult boxes
    doubt: float  # the lowest score among them (sort key: most doubtful first)
    reasons: list[str]


def looks_like_crop_folders(src: FrameSource, classes: list[str]) -> bool:
    """Every image sits directly in a folder named after one of ``classes``."""
    if src.kind != "images" or not src.files:
        return False
    return all(p.parent.parent == src.root and p.parent.name in classes for p in src.files)


def label_photo(faces: list[Face], options: LabelOptions) -> tuple[list[Box], Review | None]:
    boxes, reasons, doubt = [], [], 1.0
    sure = SURE["photos"] if options.sure is None else options.sure
    for f in faces:
        if f.presence < options.conf:
            continue
        why = []
        if f.presence < sure:
            why.append(f"{f.label} {f.presence:.2f} < sure {sure:g}")
        if f.margin < options.margin:
            runner_up = sorted(f.scores, key=f.scores.get)[-2]
            why.append(f"{f.label} vs {runner_up}: margin {f.margin:.2f}")
        boxes.append(Box(*whole_pixels(f.bbox), label=f.label, difficult=bool(why)))
        if why:
            reasons.append("; ".join(why))
            doubt = min(doubt, f.presence)
    difficult = sum(b.difficult for b in boxes)
    return boxes, (Review("", difficult, doubt, reasons) if difficult else None)


def label_crop(image_bgr: np.ndarray, folder_class: str, detector: Detector, options: LabelOptions) -> tuple[list[Box], Review | None]:
    """The one face of a face crop: the checker's best face (found on the crop padded with grey), clipped to
    the crop, with the folder's class."""
    h, w = image_bgr.shape[:2]
    pad = int(round(options.pad * max(h, w)))
    padded = cv2.copyMakeBorder(image_bgr, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    faces = group_faces(detector(padded), detector.classes)
    inside = [f for f in faces if pad <= (f.bbox[0] + f.bbox[2]) / 2 <= pad + w and pad <= (f.bbox[1] + f.bbox[3]) / 2 <= pad + h]
    if not inside:
        box = Box(0, 0, w, h, label=folder_class, difficult=True)
        return [box], Review("", 1, 0.0, ["no face found; the box is the whole crop"])
    f = max(inside, key=lambda f: f.presence)
    x1, y1, x2, y2 = (float(np.clip(v - pad, 0, side)) for v, side in zip(f.bbox, (w, h, w, h)))
    why = []
    sure = SURE["crops"] if options.sure is None else options.sure
    if f.presence < sure:
        why.append(f"face {f.presence:.2f} < sure {sure:g}")
    if f.label != folder_class:
        why.append(f"checker says {f.label} ({f.scores[f.label]:.2f}), folder says {folder_class}")
    box = Box(*whole_pixels((x1, y1, x2, y2)), label=folder_class, difficult=bool(why))
    return [box], (Review("", 1, f.presence, why) if why else None)


def whole_pixels(bbox) -> tuple[int, int, int, int]:
    """VOC's whole-pixel coordinates (what labelImg and most VOC tools expect)."""
    return tuple(int(round(float(v))) for v in bbox)




def read_manifest(out: Path) -> dict[str, str]:
    path = out / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not a readable label manifest ({exc}); move it away to start afresh (annotations "
                        "without a manifest entry are treated as human work and kept)", path=path) from None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT or not isinstance(doc.get("files"), dict):
        raise DataError(f"expected a label manifest with \"format\": \"{MANIFEST_FORMAT}\" and \"files\"", path=path)
    return {str(k): str(v) for k, v in doc["files"].items()}


def is_human_edited(annotation: Path, written: dict[str, str], out: Path) -> bool:
    """True when an existing annotation is not exactly what this tool last wrote there."""
    key = annotation.relative_to(out).as_posix()
    return annotation.exists() and written.get(key) != sha256_file(annotation)


def label(source: str | Path, out: str | Path, model: str | Path | Detector | None = None,
          options: LabelOptions | None = None, threads: int | None = None, every: int = 1) -> LabelReport:
    """Pre-label every image of ``source`` (a folder, face crops in class folders, a video: every
    ``every``-th frame, or a gate home) into Pascal VOC under ``out``; see the module docstring. ``model``:
    a loaded Detector, a model path or shipped name, or None for the shipped checker."""
    options = options or LabelOptions()
    src = open_source(source, every=every)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError("output path exists and is not a folder", path=out)
    detector = model if isinstance(model, Detector) else Detector.load(model, threads=threads)
    crops = looks_like_crop_folders(src, detector.classes) if options.crops is None else options.crops
    if crops and src.kind != "images":
        raise DataError("face crops must be a folder of class folders (e.g. with_mask/, without_mask/)", path=src.root)
    if crops:
        bad = sorted({p.parent.name for p in src.files if p.parent.parent != src.root or p.parent.name not in detector.classes})
        if bad:
            raise DataError(f"face crops must sit in folders named after the model's classes "
                            f"({', '.join(detector.classes)}); found {', '.join(bad)}", path=src.root)
    detector = detector.with_options(conf=CROP_SCAN_CONF if crops else min(options.conf, 0.1))
    report = LabelReport(mode="crops" if crops else "photos", out=out)
    if options.sure is None:
        options = replace(options, sure=SURE[report.mode])
    written = read_manifest(out)
    model_name = str(model) if model is not None and not isinstance(model, Detector) else \
        str(getattr(detector.backend, "path", "the shipped checker"))
    reviews: list[Review] = []
    human = {name for name in _existing_annotations(out) if is_human_edited(out / name, written, out)}
    out.mkdir(parents=True, exist_ok=True)
    write_classes_file(out, list(detector.classes))
    try:
        for n, frame in enumerate(src.frames(desc="label"), 1):
            stem = Path(frame.name).with_suffix("").as_posix()
            key = f"annotations/{stem}.xml"
            if key in human:
                report.kept.append(key)
                continue
            if crops:
                boxes, review = label_crop(frame.image, Path(frame.name).parent.name, detector, options)
            else:
                boxes, review = label_photo(group_faces(detector(frame.image), detector.classes), options)
            if options.only_uncertain and review is None:
                report.certain_left_out += 1
                continue
            image_path = out / "images" / frame.name
            _place_image(frame, image_path)
            h, w = frame.image.shape[:2]
            record = ImageRecord(path=image_path.resolve(), width=w, height=h, boxes=boxes, name=frame.name)
            written[key] = sha256_file(write_annotation(record, out))
            report.written.append(key)
            report.boxes += len(boxes)
            if review is not None:
                review.image = f"images/{frame.name}"
                reviews.append(review)
            if n % 200 == 0:  # an interrupted run loses nothing: what it wrote is recorded as its own
                _write_manifest(out, written, model_name)
    finally:
        _write_manifest(out, written, model_name)
        report.review_csv = _write_review(out / REVIEW_NAME, reviews)
    report.skipped = list(src.skipped)
    report.uncertain = len(reviews)
    return report


def _existing_annotations(out: Path) -> list[str]:
    folder = out / "annotations"
    return [p.relative_to(out).as_posix() for p in folder.rglob("*.xml")] if folder.is_dir() else []


def _place_image(frame, target: Path) -> None:
    """Copy the source image (or encode a video frame) into ``OUT/images``; an image already there from an
    earlier run is left alone unless its source changed size or content."""
    import shutil

    target.parent.mkdir(parents=True, exist_ok=True)
    if frame.path is None:
        if not target.exists():
            write_jpeg(target, frame.image, 95)
        return
    if target.exists() and target.stat().st_size == frame.path.stat().st_size and \
            target.read_bytes() == frame.path.read_bytes():
        return
    shutil.copy2(frame.path, target)


def _write_manifest(out: Path, files: dict[str, str], model) -> None:
    doc = {"format": MANIFEST_FORMAT, "model": str(model or "fp32"),
           "note": "SHA-256 of each annotation as dabai label wrote it; a file that differs is human work and "
                   "is never overwritten", "files": dict(sorted(files.items()))}
    tmp = out / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out / MANIFEST_NAME)


def _write_review(path: Path, reviews: list[Review]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "annotation", "difficult_boxes", "lowest_score", "why"])
        for r in sorted(reviews, key=lambda r: (r.doubt, r.image)):
            stem = Path(r.image).relative_to("images").with_suffix("").as_posix()
            w.writerow([r.image, f"annotations/{stem}.xml", r.boxes, f"{r.doubt:.3f}", " | ".join(r.reasons)])
    return path
