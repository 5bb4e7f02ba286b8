"""``data check --fix --out DIR``: write a cleaned copy of a checked dataset and say what changed.

The input stays untouched. Each change is the smallest one that makes the
data usable, and each is recorded with its reason:

* broken images (unreadable, truncated, empty) are left out, with their labels;
* images whose label file cannot be parsed are left out (the check says why);
* exact duplicate images keep their first copy (by name);
* inverted boxes get their corners swapped, boxes are clipped to the image,
  and boxes that are still under 1 px after that are dropped;
* with ``--classes``, a near-miss class name is renamed to the class it
  resembles and a class with no near miss is dropped;
* a wrong image size in the labels is replaced by the real one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from dabai.data.check import CheckResult, box_issue, exact_duplicates
from dabai.data.classnames import near_miss
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats import write_dataset

REPORT_NAME = "fix_report"


@dataclass
class Change:
    action: str  # "left-out-image", "left-out-label", "swapped-box", "clipped-box", …
    path: str  # the image or label file concerned, relative to the input dataset
    reason: str


def fix_dataset(result: CheckResult, out: str | Path, fmt: str | None = None, link: bool | str = False) -> list[Change]:
    """Write the cleaned dataset to ``out`` (new or empty) and return every change made."""
    root = result.report.root
    changes = [Change("left-out-label", _relative(p.path, root), p.message) for p in result.reader_problems
               if p.severity == "error"]
    duplicates = exact_duplicates(result)
    images = []
    for im in result.dataset.images:
        info = result.infos[im.path]
        where = _relative(str(im.path), root)
        if info.error:
            changes.append(Change("left-out-image", where, info.error))
        elif im.path in duplicates:
            changes.append(Change("left-out-image", where, f"exact duplicate of {_name(result, duplicates[im.path])}"))
        else:
            images.append(_clean_record(im, where, info.width, info.height, result.classes, changes))
    classes = result.classes or _remaining_classes(result.dataset.classes, images)
    out = write_dataset(Dataset(images=images, classes=classes), out, fmt or result.report.fmt, link=link)
    write_fix_report(out, changes)
    return changes


def _name(result: CheckResult, path: Path) -> str:
    return next(im.name for im in result.dataset.images if im.path == path)


def _relative(path: str, root: Path) -> str:
    for base in (root, root.resolve()):
        try:
            return Path(path).relative_to(base).as_posix()
        except ValueError:
            continue
    return path


def _remaining_classes(classes: list[str], images: list[ImageRecord]) -> list[str]:
    used = {b.label for im in images for b in im.boxes}
    return [c for c in classes if c in used] + sorted(used - set(classes))


def _clean_record(im: ImageRecord, where: str, width: int, height: int, classes, changes: list[Change]) -> ImageRecord:
    if (width, height) != (im.width, im.height):
        changes.append(Change("corrected-size", where, f"labels said {im.width}x{im.height}, image is {width}x{height}"))
    boxes = []
    for box in im.boxes:
        fixed = _clean_box(box, width, height, classes, where, changes)
        if fixed is not None:
            boxes.append(fixed)
    return ImageRecord(path=im.path, width=width, height=height, boxes=boxes, name=im.name)


def _clean_box(box: Box, width: int, height: int, classes, where: str, changes: list[Change]) -> Box | None:
    desc = f"{box.label} box [{box.x1:g}, {box.y1:g}, {box.x2:g}, {box.y2:g}]"
    label = box.label
    if classes is not None and label not in classes:
        guess = near_miss(label, classes)
        if guess is None:
            changes.append(Change("dropped-box", where, f"{desc}: class {label!r} is not in --classes"))
            return None
        changes.append(Change("renamed-class", where, f"{desc}: {label!r} -> {guess!r} (near miss)"))
        label = guess
    x1, y1, x2, y2 = box.as_list()
    if x2 < x1 or y2 < y1:
        x1, x2 = min(x1, x2), max(x1, x2)
        y1, y2 = min(y1, y2), max(y1, y2)
        changes.append(Change("swapped-box", where, f"{desc}: inverted corners swapped"))
    cx1, cy1 = min(max(x1, 0.0), width), min(max(y1, 0.0), height)
    cx2, cy2 = min(max(x2, 0.0), width), min(max(y2, 0.0), height)
    if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
        changes.append(Change("clipped-box", where, f"{desc}: clipped to the {width}x{height} image "
                              f"-> [{cx1:g}, {cy1:g}, {cx2:g}, {cy2:g}]"))
    fixed = Box(cx1, cy1, cx2, cy2, label=label, truncated=box.truncated, occluded=box.occluded,
                difficult=box.difficult)
    issue = box_issue(fixed, width, height)
    if issue is not None:
        changes.append(Change("dropped-box", where, f"{desc}: {issue[2]}"))
        return None
    return fixed


def write_fix_report(out: Path, changes: list[Change]) -> None:
    """``fix_report.txt`` for people and ``fix_report.json`` for tools, beside the cleaned data."""
    lines = [f"{c.path}: {c.action}: {c.reason}" for c in changes] or ["no changes were needed"]
    (out / f"{REPORT_NAME}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / f"{REPORT_NAME}.json").write_text(json.dumps([asdict(c) for c in changes], ensure_ascii=False, indent=1),
                                            encoding="utf-8")
