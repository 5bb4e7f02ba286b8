"""Look at what a model does: contact sheets of its errors per class, and of its worst images per source.

``dabai eval --gallery DIR`` writes, for each class, ``<class>-false-positives.png``, ``<class>-missed.png``
and ``<class>-confused.png`` (the worst errors face by face, each tile with score and IoU; see
``eval/errors.py``) and ``errors.csv`` (every error); for each source of the data, ``<source>-closeups.png``
(the images with the largest faces), ``<source>-crowds.png`` (the most faces) and ``<source>-worst.png``
(the images with the most errors at the threshold); and ``index.html`` linking them all. Ground truth is
drawn white; detections at or above ``conf`` in their class colour with score.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from dabai.data.dataset import Dataset, ImageRecord
from dabai.data.sheet import WHITE, Tile, detection_marks, face_window, gt_marks, write_sheet
from dabai.eval.errors import KINDS, FaceError, dataset_errors, face_errors, worst
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
    """The image's errors counted (matched as ``eval.errors.face_errors`` matches them)."""
    errors = face_errors(record, dets, conf, iou)
    count = {kind: sum(e.kind == kind for e in errors) for kind in KINDS}
    return ImageErrors(record, count["missed"], count["confused"], count["false_positive"])


def contact_sheet(items: list[tuple[ImageRecord, list[Detection], str]], path: str | Path, conf: float = 0.3,
                  cols: int = 4, side: int = 360, title: str = "") -> Path:
    """A grid PNG of whole images with their ground truth (thin, white) and detections; returns its path."""
    tiles = [Tile(r.path, gt_marks(r.boxes, WHITE, text=False) + detection_marks([d for d in dets if d.score >= conf]),
                  [caption]) for r, dets, caption in items]
    return write_sheet(tiles, path, cols, side, title, caption_lines=1)


def error_tile(error: FaceError, context: float = 3.0) -> Tile:
    """One error, cut around its face: the labelled face white, the detection in its class colour, and
    a caption with score and IoU."""
    record = error.record
    marks = [] if error.gt is None else gt_marks([error.gt], WHITE, text=False)  # its class is in the caption
    if error.det is not None:
        marks += detection_marks([error.det])
    where = f"{record.name}" + (f" [{record.source}]" if record.source else "")
    return Tile(record.path, marks, [*error.describe(), where],
                face_window(error.bbox, record.width, record.height, context))


ERROR_CAPTION_LINES = 3  # label, model, image


def _face_share(record: ImageRecord) -> float:
    side = max(record.width, record.height, 1)
    return max((max(b.width, b.height) / side for b in record.boxes), default=0.0)


KIND_TITLES = {"false_positive": "false positives", "missed": "missed faces", "confused": "class confusions"}
KIND_FILES = {"false_positive": "false-positives", "missed": "missed", "confused": "confused"}


def write_gallery(dataset: Dataset, detections: dict[str, list[Detection]], out: str | Path, conf: float = 0.3,
                  per_sheet: int = 12, model_name: str = "", classes: list[str] | None = None) -> list[Path]:
    """Sheets of what the model does, and ``index.html`` linking them:

    - per class (``classes``, default the dataset's): its worst false positives, missed faces and class
      confusions (``eval.errors``), one face per tile with score and IoU, and ``errors.csv`` listing them all;
    - per source (``ImageRecord.source``; one unnamed source is 'data'): close-ups, crowds and worst images.
    """
    from dabai.data.sources import by_source

    out = Path(out)
    errors = dataset_errors(dataset, detections, conf)
    class_sheets: dict[str, list[tuple[str, Path, int]]] = {}
    for label in classes or dataset.classes:
        for kind in KINDS:
            chosen = worst(errors, kind, label, per_sheet)
            total = sum(e.kind == kind and e.label == label for e in errors)
            title = (f"{model_name}: {KIND_TITLES[kind]}, {label} ({len(chosen)} worst of {total}; "
                     f"white: labelled; colour: detections >= {conf})")
            path = write_sheet([error_tile(e) for e in chosen], out / f"{label}-{KIND_FILES[kind]}.png", 4, 320, title,
                               ERROR_CAPTION_LINES)
            class_sheets.setdefault(label, []).append((KIND_TITLES[kind], path, total))
    source_sheets = []
    for source, part in by_source(dataset).items():
        name = (source or "data").replace("/", "-")
        records = [im for im in part.images if im.boxes]
        per_image = {im.name: image_errors(im, detections.get(im.name, []), conf) for im in records}
        picks = {
            "closeups": sorted(records, key=_face_share, reverse=True)[:per_sheet],
            "crowds": sorted(records, key=lambda im: len(im.boxes), reverse=True)[:per_sheet],
            "worst": [e.record for e in sorted(per_image.values(), key=lambda e: -e.total)[:per_sheet] if e.total],
        }
        for kind, chosen in picks.items():
            items = [(im, detections.get(im.name, []), per_image[im.name].caption()) for im in chosen]
            title = f"{model_name} on {source or 'data'}: {kind} (white: labelled; colour: detections >= {conf})"
            source_sheets.append(contact_sheet(items, out / f"{name}-{kind}.png", conf, title=title))
    table = write_error_csv(errors, out / "errors.csv")
    index = write_index(out / "index.html", class_sheets, source_sheets, model_name, conf, len(dataset))
    return [p for sheets in class_sheets.values() for _, p, _ in sheets] + source_sheets + [table, index]


def write_error_csv(errors: list[FaceError], path: Path) -> Path:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(FaceError.ROW_FIELDS))
        writer.writeheader()
        writer.writerows(e.to_row() for e in errors)
    return path


def write_index(path: Path, class_sheets, source_sheets: list[Path], model_name: str, conf: float,
                images: int) -> Path:
    esc = html.escape
    parts = [f"<h1>{esc(model_name)}: {images} images, detections &ge; {conf}</h1>",
             '<p>Errors face by face (<a href="errors.csv">errors.csv</a> lists all of them). '
             "White: the labelled face; colour: the detection, with its score.</p>"]
    for label, sheets in class_sheets.items():
        counts = ", ".join(f"{n} {title}" for title, _, n in sheets)
        parts.append(f"<h2>{esc(label)}</h2><p>{esc(counts)}</p>")
        parts += [f'<h3>{esc(title)} ({n})</h3><img src="{esc(p.name)}" style="max-width:100%">'
                  for title, p, n in sheets]
    parts.append("<h2>Per source: close-ups, crowds, worst images</h2>")
    parts += [f'<h3>{esc(p.stem)}</h3><img src="{esc(p.name)}" style="max-width:100%">' for p in source_sheets]
    body = "\n".join(parts)
    path.write_text(f"<!doctype html><meta charset=utf-8><title>dabai gallery</title>\n{body}\n", encoding="utf-8")
    return path
