"""Look at what a model does: contact sheets of its detections and of its worst images, per source.

``dabai eval --gallery DIR`` writes, for each source of the data, ``<source>-closeups.png`` (the images
with the largest faces), ``<source>-crowds.png`` (the most faces) and ``<source>-worst.png`` (the images
with the most misses, wrong classes and false alarms at the gate's threshold), plus ``index.html``.
Ground truth is drawn thin and white; detections at or above ``conf`` in their class colour with score.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from dabai.core.boxes import greedy_match
from dabai.data.dataset import Dataset, ImageRecord
from dabai.runtime.draw import draw_detections
from dabai.runtime.types import Detection


@dataclass
class ImageErrors:
    record: ImageRecord
    missed: int  # faces with no detection of any class at IoU >= iou
    wrong_class: int  # faces found, but the best overlapping detection has another class
    false_alarms: int  # detections on no face

    @property
    def total(self) -> int:
        return self.missed + self.wrong_class + self.false_alarms

    def caption(self) -> str:
        return f"{Path(self.record.name).stem[:18]} miss {self.missed} class {self.wrong_class} extra {self.false_alarms}"


def image_errors(record: ImageRecord, dets: list[Detection], conf: float, iou: float = 0.5) -> ImageErrors:
    kept = [d for d in dets if d.score >= conf]
    match = greedy_match([box.as_list() for box in record.boxes], [d.bbox for d in kept], iou)
    found = int((match >= 0).sum())
    wrong = sum(kept[j].label != box.label for box, j in zip(record.boxes, match) if j >= 0)
    return ImageErrors(record, len(match) - found, wrong, len(kept) - found)


def _cell(record: ImageRecord, dets: list[Detection], conf: float, side: int, caption: str) -> np.ndarray:
    from dabai.core.errors import DataError
    from dabai.core.images import read_bgr

    try:
        image = read_bgr(record.path)  # the project's bounded decoder (bytes and declared pixels checked first)
    except DataError:  # an unreadable image still gets its cell, blank, with its caption
        image = np.zeros((record.height or side, record.width or side, 3), np.uint8)
    for b in record.boxes:
        x1, y1, x2, y2 = (int(round(v)) for v in b.as_list())
        cv2.rectangle(image, (x1, y1), (x2, y2), (255, 255, 255), 1)
    image = draw_detections(image, [d for d in dets if d.score >= conf])
    height = side * 3 // 4  # most photos are landscape: a 4:3 cell wastes less paper than a square
    scale = min(side / image.shape[1], height / image.shape[0])
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    cell = np.full((height + 20, side, 3), 255, np.uint8)
    cell[: image.shape[0], : image.shape[1]] = image
    cv2.putText(cell, caption, (3, height + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return cell


def contact_sheet(items: list[tuple[ImageRecord, list[Detection], str]], path: str | Path, conf: float = 0.3,
                  cols: int = 4, side: int = 360, title: str = "") -> Path:
    """A grid PNG of images with their ground truth and detections; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [_cell(r, d, conf, side, c) for r, d, c in items] or [np.full((side * 3 // 4 + 20, side, 3), 255, np.uint8)]
    while len(cells) % cols:
        cells.append(np.full_like(cells[0], 255))
    rows = [np.concatenate(cells[i:i + cols], axis=1) for i in range(0, len(cells), cols)]
    sheet = np.concatenate(rows, axis=0)
    if title:
        band = np.full((30, sheet.shape[1], 3), 255, np.uint8)
        cv2.putText(band, title, (6, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
        sheet = np.concatenate([band, sheet], axis=0)
    cv2.imwrite(str(path), sheet)
    return path


def _face_share(record: ImageRecord) -> float:
    side = max(record.width, record.height, 1)
    return max((max(b.width, b.height) / side for b in record.boxes), default=0.0)


def write_gallery(dataset: Dataset, detections: dict[str, list[Detection]], out: str | Path, conf: float = 0.3,
                  per_sheet: int = 12, model_name: str = "") -> list[Path]:
    """Close-ups, crowds and worst images of each source (``ImageRecord.source``; one unnamed source is
    'data'), and an index.html linking them."""
    from dabai.data.sources import by_source

    out = Path(out)
    written = []
    for source, part in by_source(dataset).items():
        name = (source or "data").replace("/", "-")
        records = [im for im in part.images if im.boxes]
        errors = {im.name: image_errors(im, detections.get(im.name, []), conf) for im in records}
        picks = {
            "closeups": sorted(records, key=_face_share, reverse=True)[:per_sheet],
            "crowds": sorted(records, key=lambda im: len(im.boxes), reverse=True)[:per_sheet],
            "worst": [e.record for e in sorted(errors.values(), key=lambda e: -e.total)[:per_sheet] if e.total],
        }
        for kind, chosen in picks.items():
            items = [(im, detections.get(im.name, []), errors[im.name].caption()) for im in chosen]
            title = f"{model_name} on {source or 'data'}: {kind} (white: labelled; colour: detections >= {conf})"
            written.append(contact_sheet(items, out / f"{name}-{kind}.png", conf, title=title))
    index = out / "index.html"
    links = "\n".join(f'<h3>{html.escape(p.stem)}</h3><img src="{html.escape(p.name)}" style="max-width:100%">'
                      for p in written)
    index.write_text(f"<!doctype html><meta charset=utf-8><title>dabai gallery</title>\n{links}\n", encoding="utf-8")
    return [*written, index]
