"""KITTI label_2 as NVIDIA TAO reads it: ``images/`` plus ``labels/<stem>.txt``.

One object per line, 15 space-separated fields (a 16th, a score, is accepted)::

    with_mask 0.00 0 0.00 321.00 34.00 354.00 69.00 0 0 0 0 0 0 0
    class     trunc occ alpha x1  y1    x2     y2     3D fields, unused for 2D detection

Fields are split on spaces, so a class name cannot contain one. The writer
turns each class name into a *token*: lower case (TAO lower-cases class names
when it reads KITTI, so a spec's class mapping must match the lower-case form
anyway) with every run of whitespace replaced by ``_``. The original names are
written to ``classes.txt`` (one per line, in class order), and the reader maps
tokens back through it, so ``"With Mask"`` → ``with_mask`` → ``"With Mask"``.
Two names that give the same token are refused instead of silently merged.
"""

from __future__ import annotations

import re
from pathlib import Path

from dabai.core.errors import DataError
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats.base import (
    check_class,
    check_label_stems,
    finish,
    parse_number,
    place_images,
    read_classes_file,
    read_text,
    read_txt_labels,
    write_classes_file,
    write_txt_labels,
)
from dabai.data.formats.yolo import first_label_field_count
from dabai.data.imageio import find_image_dir
from dabai.data.problems import Problems

LABEL_DIR_NAMES = ("labels", "label_2")
FIELD_COUNTS = (15, 16)
FIELDS = "class truncated occluded alpha x1 y1 x2 y2 height width length x y z rotation_y [score]"


def class_token(name: str) -> str:
    """The KITTI token of a class name: lower case, whitespace runs as '_'."""
    return re.sub(r"\s+", "_", name.strip()).lower()


def token_map(classes: list[str]) -> dict[str, str]:
    """token -> class name; DataError when two names share a token."""
    mapping: dict[str, str] = {}
    for name in classes:
        token = class_token(name)
        if token in mapping and mapping[token] != name:
            raise DataError(f"class names {mapping[token]!r} and {name!r} would both be written as {token!r} "
                            "in KITTI labels; rename one of them")
        mapping[token] = name
    return mapping


def label_dir(root: Path) -> Path | None:
    return next((root / n for n in LABEL_DIR_NAMES if (root / n).is_dir()), None)


def looks_like(root: Path) -> bool:
    folder = label_dir(root)
    if folder is None:
        return False
    return folder.name == "label_2" or first_label_field_count(folder) in FIELD_COUNTS


def read(root: str | Path, classes: list[str] | None = None, problems: Problems | None = None) -> Dataset:
    root = Path(root)
    problems = problems or Problems()
    labels = label_dir(root)
    if labels is None:
        raise DataError("no labels folder; expected labels/ (or label_2/) with KITTI .txt files", path=root)
    image_dir = find_image_dir(root)
    saved_names = read_classes_file(root)
    tokens = token_map(saved_names or [])
    if classes is not None:
        tokens.update(token_map(classes))
    images = read_txt_labels(root, image_dir, labels, "reading KITTI", problems,
                             lambda path, r: _read_label_file(path, tokens, classes, problems))
    return finish(images, classes if classes is not None else saved_names, root)


def _read_label_file(path: Path, tokens: dict[str, str], classes, problems) -> list[Box]:
    boxes = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) not in FIELD_COUNTS:
            raise DataError(f"line has {len(fields)} fields; expected 15: {FIELDS} "
                            "(a class name with spaces must be written with '_' instead)", path=path, line=number)
        token = fields[0]
        if not _is_number(fields[1]):
            raise DataError(f"truncated is {fields[1]!r}; expected a number (a class name with spaces must be "
                            f"written with '_', e.g. {fields[0] + '_' + fields[1]!r})", path=path, line=number)
        truncated = parse_number(fields[1], "truncated", path, number)
        occluded = parse_number(fields[2], "occluded", path, number)
        x1, y1, x2, y2 = (parse_number(v, n, path, number) for v, n in zip(fields[4:8], ("x1", "y1", "x2", "y2")))
        for value, what in zip(fields[3:4] + fields[8:], FIELDS.split()[3:4] + FIELDS.split()[8:]):
            parse_number(value, what, path, number)  # unused 3D fields must still be numbers
        label = tokens.get(token, token)
        if check_class(label, classes, problems, path, number):
            boxes.append(Box(x1, y1, x2, y2, label=label, truncated=truncated, occluded=int(occluded), line=number))
    return boxes


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write(ds: Dataset, out: Path, mode: str) -> None:
    check_label_stems(ds, ".txt")
    token_of = {name: token for token, name in token_map(ds.classes).items()}
    place_images(ds, out / "images", mode)
    write_txt_labels(ds, out, "writing KITTI", lambda im, box: _label_line(im, box, token_of))
    write_classes_file(out, ds.classes)


def _label_line(im: ImageRecord, box: Box, token_of: dict[str, str]) -> str:
    if box.label not in token_of:
        raise DataError(f"image {im.name!r} has class {box.label!r}, which is not in the dataset's classes "
                        f"({', '.join(token_of)})")
    return (f"{token_of[box.label]} {box.truncated:.2f} {int(box.occluded)} 0.00 "
            f"{box.x1:.2f} {box.y1:.2f} {box.x2:.2f} {box.y2:.2f} 0 0 0 0 0 0 0")
