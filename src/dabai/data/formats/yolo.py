"""YOLO: ``images/``, ``labels/<stem>.txt`` and ``data.yaml`` with the class ``names``.

Each label line is ``class_id x_center y_center width height``, normalised to
the image size, so readers need every image's size (read from its header).
Values are written with 6 decimals: well under 0.01 px for any real image.
Every image gets a label file, empty when it has no objects, so background
images are explicit rather than guessed from a missing file.
"""

from __future__ import annotations

from pathlib import Path

import yaml

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
    write_txt_labels,
)
from dabai.data.imageio import find_image_dir
from dabai.data.problems import Problems

YAML_NAMES = ("data.yaml", "data.yml")
LABEL_DIR_NAMES = ("labels",)
FIELDS = "class_id x_center y_center width height"


def _yaml_file(root: Path) -> Path | None:
    return next((root / n for n in YAML_NAMES if (root / n).is_file()), None)


def looks_like(root: Path) -> bool:
    if _yaml_file(root) is not None and (root / "labels").is_dir():
        return True
    return first_label_field_count(root / "labels") == 5


def first_label_field_count(label_dir: Path) -> int | None:
    """Fields on the first non-empty line of the first label file that has one (YOLO 5, KITTI 15)."""
    if not label_dir.is_dir():
        return None
    for path in sorted(label_dir.rglob("*.txt")):
        if path.name == "classes.txt":
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                return len(line.split())
    return None


def read_names(root: Path, classes: list[str] | None) -> list[str]:
    """Class names by id from data.yaml's ``names`` (a list, or a mapping of id to name)."""
    path = _yaml_file(root)
    if path is None:
        from_file = read_classes_file(root)
        if classes is not None or from_file is not None:
            return list(classes if from_file is None else from_file)
        raise DataError("no data.yaml; expected one with 'names: [class0, class1, …]' (or pass --classes)", path=root)
    try:
        doc = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError(f"not valid YAML ({getattr(exc, 'problem', exc)})", path=path,
                        line=mark.line + 1 if mark is not None else None) from None
    names = doc.get("names") if isinstance(doc, dict) else None
    if isinstance(names, dict):
        try:
            names = [names[i] for i in range(len(names))]
        except KeyError:
            raise DataError(f"'names' has ids {sorted(doc['names'])}; expected 0..{len(names) - 1}", path=path) from None
    if not isinstance(names, list) or not names:
        raise DataError("no 'names' list; expected 'names: [class0, class1, …]'", path=path)
    nc = doc.get("nc")
    if nc is not None and nc != len(names):
        raise DataError(f"nc is {nc} but 'names' has {len(names)} entries", path=path)
    return [str(n) for n in names]


def read(root: str | Path, classes: list[str] | None = None, problems: Problems | None = None) -> Dataset:
    root = Path(root)
    problems = problems or Problems()
    names = read_names(root, classes)
    image_dir = find_image_dir(root)
    label_dir = root / "labels"
    images = read_txt_labels(root, image_dir, label_dir, "reading YOLO", problems,
                             lambda path, r: _read_label_file(path, names, r.width, r.height, classes, problems))
    return finish(images, classes if classes is not None else names, root)


def _read_label_file(path: Path, names: list[str], width: int, height: int, classes, problems) -> list[Box]:
    boxes = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 5:
            hint = " (polygon segmentation labels are not supported)" if len(fields) > 5 and len(fields) % 2 else ""
            raise DataError(f"line has {len(fields)} fields; expected 5: {FIELDS}{hint}", path=path, line=number)
        class_id = int(parse_number(fields[0], "class id", path, number, integer=True))
        cx, cy, w, h = (parse_number(v, n, path, number) for v, n in zip(fields[1:], FIELDS.split()[1:]))
        if not 0 <= class_id < len(names):
            problems.error("unknown-class", f"class id {class_id} is not in data.yaml names "
                           f"(ids 0..{len(names) - 1}: {', '.join(names)})", path=path, line=number)
            continue
        label = names[class_id]
        if check_class(label, classes, problems, path, number):
            boxes.append(Box((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width,
                             (cy + h / 2) * height, label=label, line=number))
    return boxes


def write(ds: Dataset, out: Path, mode: str) -> None:
    check_label_stems(ds, ".txt")
    place_images(ds, out / "images", mode)
    class_id = {name: i for i, name in enumerate(ds.classes)}
    write_txt_labels(ds, out, "writing YOLO", lambda im, box: _label_line(im, box, class_id))
    doc = {"path": ".", "train": "images", "val": "images", "nc": len(ds.classes), "names": list(ds.classes)}
    (out / "data.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _label_line(im: ImageRecord, box: Box, class_id: dict[str, int]) -> str:
    if im.width <= 0 or im.height <= 0:
        raise DataError(f"image {im.name!r} has size {im.width}x{im.height}; YOLO needs the real size to "
                        "normalise boxes")
    if box.label not in class_id:
        raise DataError(f"image {im.name!r} has class {box.label!r}, which is not in the dataset's classes "
                        f"({', '.join(class_id)})")
    cx, cy = (box.x1 + box.x2) / 2 / im.width, (box.y1 + box.y2) / 2 / im.height
    w, h = (box.x2 - box.x1) / im.width, (box.y2 - box.y1) / im.height
    return f"{class_id[box.label]} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"
