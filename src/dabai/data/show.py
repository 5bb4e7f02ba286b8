"""``data show``: look at a dataset's ground truth, drawn on a contact sheet.

Filters pick the boxes worth looking at (by class, by source, by size); the sheet shows a seeded random
sample of the images holding them (or, with ``per="face"``, one tile per box, cut around it), chosen
boxes in their class colour with their class, the image's other boxes thin and grey::

    from dabai.data.formats import read_dataset
    from dabai.data.show import show_dataset
    result = show_dataset(read_dataset("data/face-mask"), "sheet.png", classes=["mask_weared_incorrect"],
                          max_size=24)
    print(result.images, result.boxes, result.shown)

A box's size is its side ``sqrt(width x height)`` in source pixels (as ``eval --diagnose`` bins faces).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dabai.core.errors import DataError
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.sheet import Mark, Tile, face_window, gt_marks, write_sheet

OTHER = (170, 170, 170)  # boxes the filters leave out: thin grey, no text


def box_side(box: Box) -> float:
    return math.sqrt(max(box.width, 0.0) * max(box.height, 0.0))


@dataclass(frozen=True)
class ShowResult:
    path: Path
    images: int  # images holding at least one chosen box (all images when nothing filters boxes)
    boxes: int  # chosen boxes in those images
    shown: int  # tiles on the sheet

    def to_json(self) -> dict:
        return {"sheet": str(self.path), "images": self.images, "boxes": self.boxes, "shown": self.shown}


def select(ds: Dataset, classes: Sequence[str] | None = None, sources: Sequence[str] | None = None,
           min_size: float | None = None, max_size: float | None = None) -> list[tuple[ImageRecord, list[Box]]]:
    """(image, its chosen boxes) for the images of ``sources`` holding a box of ``classes`` within the
    size range; with no class or size filter, every image of those sources (an image without boxes too)."""
    from dabai.data.sources import sources as source_names

    _check_known("class", classes, ds.classes)
    _check_known("source", sources, [s or "(none)" for s in source_names(ds)])
    if min_size is not None and max_size is not None and min_size > max_size:
        raise DataError(f"--min-size {min_size} is above --max-size {max_size}: no box can be both")
    filtering = bool(classes) or min_size is not None or max_size is not None
    out = []
    for im in ds.images:
        if sources and (im.source or "(none)") not in sources:
            continue
        chosen = [b for b in im.boxes if (not classes or b.label in classes)
                  and (min_size is None or box_side(b) >= min_size) and (max_size is None or box_side(b) <= max_size)]
        if chosen or not filtering:
            out.append((im, chosen))
    return out


def _check_known(what: str, wanted: Sequence[str] | None, known: list[str]) -> None:
    unknown = [w for w in wanted or () if w not in known]
    if unknown:
        raise DataError(f"unknown {what} {unknown[0]!r}; the data has: {', '.join(known) or 'none'}")


def show_dataset(ds: Dataset, out: str | Path, classes: Sequence[str] | None = None,
                 sources: Sequence[str] | None = None, min_size: float | None = None, max_size: float | None = None,
                 per: str = "image", limit: int = 48, seed: int = 0, cols: int = 6, side: int = 320) -> ShowResult:
    """Write the contact sheet ``out`` (PNG) of the chosen ground truth; see the module's docstring."""
    if per not in ("image", "face"):
        raise DataError(f"per {per!r}: expected 'image' or 'face'")
    if limit < 1:
        raise DataError(f"limit {limit}: expected at least 1 tile")
    chosen = select(ds, classes, sources, min_size, max_size)
    rng = np.random.default_rng(seed)
    if per == "image":
        picked = [chosen[i] for i in sorted(rng.permutation(len(chosen))[:limit])]
        tiles = [_image_tile(im, boxes) for im, boxes in picked]
    else:
        faces = [(im, b) for im, boxes in chosen for b in boxes]
        tiles = [_face_tile(*faces[i]) for i in sorted(rng.permutation(len(faces))[:limit])]
    n_boxes = sum(len(b) for _, b in chosen)
    what = [f"class {','.join(classes)}" if classes else "", f"source {','.join(sources)}" if sources else "",
            f"side >= {min_size:g}px" if min_size is not None else "", f"side <= {max_size:g}px" if max_size is not None else ""]
    title = (f"{len(tiles)} of {len(chosen)} images, {n_boxes} boxes" if per == "image" else
             f"{len(tiles)} of {n_boxes} boxes in {len(chosen)} images") + \
        (f" ({'; '.join(w for w in what if w)})" if any(what) else "")
    path = write_sheet(tiles, out, cols, side, title)
    return ShowResult(path, len(chosen), n_boxes, len(tiles))


def _caption(im: ImageRecord) -> str:
    return f"{im.name}" + (f" [{im.source}]" if im.source else "")


def _image_tile(im: ImageRecord, chosen: list[Box]) -> Tile:
    others = [b for b in im.boxes if b not in chosen]
    marks = [Mark(tuple(b.as_list()), OTHER) for b in others] + gt_marks(chosen)
    sizes = [box_side(b) for b in chosen]
    size = f", side {min(sizes):.0f}-{max(sizes):.0f}px" if sizes else ""
    return Tile(im.path, marks, [_caption(im), f"{im.width}x{im.height}, {len(chosen)}/{len(im.boxes)} boxes{size}"])


def _face_tile(im: ImageRecord, box: Box) -> Tile:
    others = [b for b in im.boxes if b is not box]
    marks = [Mark(tuple(b.as_list()), OTHER) for b in others] + gt_marks([box])
    return Tile(im.path, marks, [f"{box.label}, side {box_side(box):.0f}px", _caption(im)],
                face_window(box.as_list(), im.width, im.height))
