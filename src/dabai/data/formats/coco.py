"""COCO detection JSON: ``annotations.json`` (or the one ``*.json`` at the root) plus ``images/``.

Boxes are ``[x, y, width, height]`` floats. Category ids are written 1..N in
class order (COCO's convention; 0 is often read as background) and read back
sorted by id, so the class order survives a round trip. Images with no
annotations are kept as entries in ``images``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dabai.core.errors import DataError
from dabai.core.images import list_images
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats.base import (
    check_class,
    finish,
    parse_number,
    place_images,
    read_text,
    record_size,
    unlabeled_images,
)
from dabai.data.imageio import find_image_dir
from dabai.data.problems import Problems
from dabai.data.progress import progress

DEFAULT_NAME = "annotations.json"


def annotation_file(root: Path) -> Path | None:
    """``annotations.json``, else the one root JSON file that looks like COCO (other JSON, such
    as a fix report, may sit beside it)."""
    if (root / DEFAULT_NAME).is_file():
        return root / DEFAULT_NAME
    candidates = [p for p in sorted(root.glob("*.json")) if _mentions_images(p)]
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise DataError(f"several COCO files ({names}); expected one, named {DEFAULT_NAME}", path=root)
    return candidates[0] if candidates else None


def _mentions_images(path: Path) -> bool:
    with path.open("rb") as f:
        return b'"images"' in f.read(1 << 20)


def looks_like(root: Path) -> bool:
    return annotation_file(root) is not None


def read(root: str | Path, classes: list[str] | None = None, problems: Problems | None = None) -> Dataset:
    root = Path(root)
    problems = problems or Problems()
    path = annotation_file(root)
    if path is None:
        raise DataError(f"no COCO file; expected {DEFAULT_NAME}", path=root)
    doc = _load_json(path)
    image_dir = find_image_dir(root)
    categories = _categories(doc, path)
    by_id: dict[object, ImageRecord] = {}
    for index, entry in enumerate(progress(_section(doc, "images", path), desc="reading COCO images")):
        try:
            record = _image_record(entry, index, root, image_dir, path, problems)
        except DataError as exc:
            problems.add_error(exc, "bad-label-file")
            continue
        if record is None:
            continue
        if entry["id"] in by_id:
            problems.error("duplicate-label", f"images[{index}] reuses image id {entry['id']!r}; ignored", path=path)
            continue
        by_id[entry["id"]] = record
    known_ids = {e.get("id") for e in doc.get("images", []) if isinstance(e, dict) and _is_id(e.get("id"))}
    for index, ann in enumerate(_section(doc, "annotations", path)):
        try:
            _add_annotation(ann, index, by_id, known_ids, categories, classes, path, problems)
        except DataError as exc:
            problems.add_error(exc, "bad-label-file")
    images = list(by_id.values())
    used = {im.path for im in images}
    images += unlabeled_images(list_images(image_dir), image_dir, used, problems, expected=f"an entry in {path.name}")
    # Every label comes from 'categories', so their id order is the complete class list.
    category_order = [categories[k] for k in sorted(categories, key=_id_order)]
    return finish(images, classes if classes is not None else category_order, root)


def _load_json(path: Path) -> dict:
    text = read_text(path)
    if not text.strip():
        raise DataError("JSON file is empty; expected a COCO object with images, annotations and categories",
                        path=path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg}, column {exc.colno})", path=path, line=exc.lineno) from None
    except RecursionError:
        raise DataError("JSON nested too deeply; expected a COCO object with images, annotations and categories",
                        path=path) from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise DataError(f"not usable JSON ({exc})", path=path) from None
    if not isinstance(doc, dict):
        raise DataError(f"top level is a {type(doc).__name__}; expected an object with images, annotations "
                        "and categories", path=path)
    return doc


def _section(doc: dict, key: str, path: Path) -> list:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise DataError(f"'{key}' is a {type(value).__name__}; expected a list", path=path)
    return value


def _is_id(value) -> bool:
    """COCO ids are numbers or strings (a list or object id is malformed, and unusable as a key)."""
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def _short(value, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _id_order(value):
    # Ids are normally ints; mixed types still need a stable order.
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))


def _categories(doc: dict, path: Path) -> dict:
    categories = {}
    for index, cat in enumerate(_section(doc, "categories", path)):
        if not isinstance(cat, dict) or not _is_id(cat.get("id")) or not str(cat.get("name", "")).strip():
            raise DataError(f"categories[{index}] is {cat!r}; expected {{\"id\": …, \"name\": …}}", path=path)
        name = str(cat["name"]).strip()
        if name in categories.values():
            raise DataError(f"categories[{index}]: class name {name!r} appears twice", path=path)
        categories[cat["id"]] = name
    return categories


def _image_record(entry, index: int, root: Path, image_dir: Path, path: Path, problems: Problems) -> ImageRecord | None:
    if not isinstance(entry, dict) or not _is_id(entry.get("id")) or not entry.get("file_name"):
        raise DataError(f"images[{index}] is {_short(entry)}; expected an object with id and file_name "
                        "(the id a number or text)", path=path)
    file_name = str(entry["file_name"])
    if os.path.isabs(file_name) or os.path.normpath(file_name).split(os.sep)[0] == "..":
        raise DataError(f"images[{index}] file_name {file_name!r} points outside the dataset folder", path=path)
    image_path = next((p for p in (image_dir / file_name, root / file_name) if p.is_file()), None)
    if image_path is None:
        problems.error("label-without-image", f"images[{index}] names {file_name!r}, which is not in "
                       f"{image_dir.name}/", path=path)
        return None
    where = f"images[{index}] ({file_name})"
    width, height = entry.get("width"), entry.get("height")
    if width and height:
        width = int(parse_number(str(width), f"{where} width", path, None))
        height = int(parse_number(str(height), f"{where} height", path, None))
    else:
        width, height = record_size(image_path, problems)
    try:
        name = image_path.relative_to(image_dir).as_posix()
    except ValueError:  # found at the root rather than under images/
        name = image_path.relative_to(root).as_posix()
    return ImageRecord(path=image_path.resolve(), width=width, height=height, boxes=[], name=name, label_path=path)


def _add_annotation(ann, index, by_id, known_ids, categories, classes, path: Path, problems: Problems) -> None:
    where = f"annotations[{index}]"
    if not isinstance(ann, dict):
        raise DataError(f"{where} is {ann!r}; expected an object", path=path)
    if not _is_id(ann.get("image_id")) or ann.get("image_id") not in known_ids:
        raise DataError(f"{where} refers to image_id {ann.get('image_id')!r}, which is not in 'images'", path=path)
    if not _is_id(ann.get("category_id")) or ann.get("category_id") not in categories:
        problems.error("unknown-class", f"{where} has category_id {ann.get('category_id')!r}; expected one of "
                       f"the ids in 'categories' ({', '.join(map(str, categories))})", path=path)
        return
    bbox = ann.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise DataError(f"{where} has bbox {bbox!r}; expected [x, y, width, height]", path=path)
    x, y, w, h = (parse_number(str(v), f"{where} bbox value", path, None) for v in bbox)
    label = categories[ann["category_id"]]
    record = by_id.get(ann["image_id"])
    if record is None:  # its image was missing and is already reported
        return
    if check_class(label, classes, problems, path, None):
        record.boxes.append(Box(x, y, x + w, y + h, label=label))


def write(ds: Dataset, out: Path, mode: str) -> None:
    place_images(ds, out / "images", mode)
    category_id = {name: i + 1 for i, name in enumerate(ds.classes)}
    images, annotations = [], []
    for image_id, im in enumerate(progress(ds.images, desc="writing COCO"), start=1):
        images.append({"id": image_id, "file_name": im.name, "width": im.width, "height": im.height})
        for box in im.boxes:
            if box.label not in category_id:
                raise DataError(f"image {im.name!r} has class {box.label!r}, which is not in the dataset's "
                                f"classes ({', '.join(ds.classes)})")
            w, h = box.x2 - box.x1, box.y2 - box.y1
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": category_id[box.label],
                "bbox": [round(box.x1, 3), round(box.y1, 3), round(w, 3), round(h, 3)],
                "area": round(max(w, 0) * max(h, 0), 3), "iscrowd": 0, "segmentation": [],
            })
    doc = {
        "info": {"description": "written by dabai data convert"},
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": n, "supercategory": "none"} for n, i in category_id.items()],
    }
    (out / DEFAULT_NAME).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
