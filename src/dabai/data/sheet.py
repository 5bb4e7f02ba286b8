"""Contact sheets: a grid of image tiles with labelled boxes and captions, written as one PNG.

The one drawing path of every picture command (``data show``, ``data audit``, ``train --preview-augment``,
``eval --gallery``)::

    from dabai.data.sheet import Tile, gt_marks, write_sheet
    tiles = [Tile(im.path, gt_marks(im.boxes), [im.name]) for im in ds.images[:24]]
    write_sheet(tiles, "sheet.png", title="24 images, ground truth")

A tile shows a whole image or a window of it (``face_window``: a face with its surroundings), scaled to the
tile; boxes are drawn after scaling, so lines and labels stay readable whatever the source resolution.
An image that cannot be read keeps its tile, grey, with "unreadable" and the reason in its caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from dabai.core.draw import class_colour, draw_boxes
from dabai.core.errors import DataError
from dabai.data.dataset import Box

WHITE = (255, 255, 255)
OUTSIDE = (114, 114, 114)  # window parts beyond the image: the letterbox's grey
PAPER = 255
LINE_PX = 15  # caption line height
FONT = cv2.FONT_HERSHEY_SIMPLEX
CAPTION_SCALE = 0.4
LABEL_SCALE = 0.35


@dataclass(frozen=True)
class Mark:
    """One box to draw: source-image pixels, BGR colour, text above it ('' for none)."""

    bbox: tuple[float, float, float, float]
    colour: tuple[int, int, int]
    text: str = ""


@dataclass
class Tile:
    image: Path | np.ndarray  # a path (decoded through the bounded decoder) or a BGR array
    marks: list[Mark] = field(default_factory=list)
    caption: Sequence[str] = ()  # lines under the picture
    window: tuple[float, float, float, float] | None = None  # x1, y1, x2, y2 of the image shown; None: all of it


def gt_marks(boxes: Sequence[Box], colour: tuple[int, int, int] | None = None, text: bool = True) -> list[Mark]:
    """Ground-truth boxes in their class colour (or ``colour``), labelled with their class."""
    return [Mark(tuple(b.as_list()), colour or class_colour(b.label), b.label if text else "") for b in boxes]


def detection_marks(detections) -> list[Mark]:
    """Detections in their class colour, labelled with class and score."""
    return [Mark(tuple(d.bbox), class_colour(d.label), f"{d.label} {d.score:.2f}") for d in detections]


def face_window(bbox, width: int, height: int, context: float = 3.0, aspect: float = 4 / 3):
    """A window of ``aspect`` around ``bbox`` about ``context`` times its size (``data closeups``'s rule)."""
    from dabai.data.closeups import face_window as closeup_window

    x1, y1, x2, y2 = bbox
    face = Box(x1, y1, max(x2, x1 + 1.0), max(y2, y1 + 1.0), "")
    return closeup_window(face, width, height, (int(round(aspect * 300)), 300), max(context, 1.0))


def _load(image) -> tuple[np.ndarray, str]:
    if isinstance(image, np.ndarray):
        return image, ""
    from dabai.core.images import read_bgr

    try:
        return read_bgr(image), ""
    except DataError as exc:  # shown on the sheet, never silently dropped
        return np.full((3, 4, 3), OUTSIDE, np.uint8), f"unreadable: {exc}"


def _view(image: np.ndarray, window, width: int, height: int) -> tuple[np.ndarray, float, float, float]:
    """The window of ``image`` scaled to fit width x height: (pixels, scale, left, top)."""
    h, w = image.shape[:2]
    left, top, right, bottom = window if window is not None else (0.0, 0.0, float(w), float(h))
    scale = min(width / max(right - left, 1e-6), height / max(bottom - top, 1e-6))
    x0, y0, x1, y1 = (int(np.floor(left)), int(np.floor(top)), int(np.ceil(right)), int(np.ceil(bottom)))
    crop = image[max(y0, 0):max(min(y1, h), 0), max(x0, 0):max(min(x1, w), 0)]
    pad = (max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w))
    if crop.size == 0:
        crop = np.full((max(y1 - y0, 1), max(x1 - x0, 1), 3), OUTSIDE, np.uint8)
    elif any(pad):
        crop = cv2.copyMakeBorder(crop, *pad, cv2.BORDER_CONSTANT, value=OUTSIDE)
    size = (max(1, int(round(crop.shape[1] * scale))), max(1, int(round(crop.shape[0] * scale))))
    size = (min(size[0], width), min(size[1], height))
    scaled = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return scaled, scale, float(x0), float(y0)


def render_tile(tile: Tile, side: int = 320, caption_lines: int = 2) -> np.ndarray:
    """One cell: the picture (4:3, ``side`` wide) over ``caption_lines`` lines of caption."""
    height = side * 3 // 4
    image, problem = _load(tile.image)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    view, scale, left, top = _view(image, tile.window, side, height)
    boxes = [(tuple((np.array(m.bbox, dtype=np.float64) - [left, top, left, top]) * scale), m.colour, m.text)
             for m in tile.marks]
    view = draw_boxes(view, boxes, thickness=1 if side < 400 else 2, font_scale=LABEL_SCALE)
    cell = np.full((height + LINE_PX * caption_lines + 4, side, 3), PAPER, np.uint8)
    y0, x0 = (height - view.shape[0]) // 2, (side - view.shape[1]) // 2
    cell[y0:y0 + view.shape[0], x0:x0 + view.shape[1]] = view
    lines = [problem] if problem else []
    lines += list(tile.caption)
    for k, line in enumerate(lines[:caption_lines]):
        cv2.putText(cell, _fit(line, side), (3, height + LINE_PX * (k + 1)), FONT, CAPTION_SCALE, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return cell


def _fit(text: str, width: int, scale: float = CAPTION_SCALE) -> str:
    """``text`` cut (with '...') to fit ``width`` pixels at font size ``scale``."""
    if cv2.getTextSize(text, FONT, scale, 1)[0][0] <= width - 6:
        return text
    while text and cv2.getTextSize(text + "...", FONT, scale, 1)[0][0] > width - 6:
        text = text[:-1]
    return text + "..."


def write_sheet(tiles: Sequence[Tile], path: str | Path, cols: int = 4, side: int = 320, title: str = "",
                caption_lines: int = 2) -> Path:
    """A grid PNG of ``tiles`` (``cols`` across, each ``side`` px wide) under an optional title; returns
    its path. No tiles: a sheet that says so."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [render_tile(t, side, caption_lines) for t in tiles]
    if not cells:
        blank = np.full((side * 3 // 4 + LINE_PX * caption_lines + 4, side, 3), PAPER, np.uint8)
        cv2.putText(blank, "(nothing to show)", (10, side * 3 // 8), FONT, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
        cells = [blank]
    cols = max(1, cols)
    while len(cells) % cols:
        cells.append(np.full_like(cells[0], PAPER))
    sheet = np.concatenate([np.concatenate(cells[i:i + cols], axis=1) for i in range(0, len(cells), cols)], axis=0)
    if title:
        band = np.full((28, sheet.shape[1], 3), PAPER, np.uint8)
        cv2.putText(band, _fit(title, sheet.shape[1], 0.55), (6, 20), FONT, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        sheet = np.concatenate([band, sheet], axis=0)
    if not cv2.imwrite(str(path), sheet):
        raise DataError("could not write the PNG (is the folder writable?)", path=path)
    return path
