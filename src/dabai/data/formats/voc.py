"""Pascal VOC: ``images/`` (or ``JPEGImages/``) plus one ``annotations/<stem>.xml`` per image.

Boxes are read as floats exactly as written (no +1/-1 shifts) and written back
as whole numbers when they are whole, so integer VOC files round-trip
byte-for-byte in their values. ``classes.txt`` keeps the class order (and
classes without any box), which VOC itself cannot store.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from dabai.core.errors import DataError
from dabai.core.images import list_images
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats.base import (
    check_class,
    check_label_stems,
    finish,
    format_number,
    parse_number,
    place_images,
    record_size,
    unlabeled_images,
    write_classes_file,
)
from dabai.data.formats.xmlnode import XmlNode, parse_xml
from dabai.data.imageio import find_image_by_stem, find_image_dir
from dabai.data.problems import Problems
from dabai.data.progress import progress

ANNOTATION_DIR_NAMES = ("annotations", "Annotations")
COORDS = ("xmin", "ymin", "xmax", "ymax")


def annotation_dir(root: Path) -> Path | None:
    for name in ANNOTATION_DIR_NAMES:
        if (root / name).is_dir():
            return root / name
    return None


def looks_like(root: Path) -> bool:
    folder = annotation_dir(root)
    return folder is not None and any(folder.rglob("*.xml"))


def read(root: str | Path, classes: list[str] | None = None, problems: Problems | None = None) -> Dataset:
    root = Path(root)
    problems = problems or Problems()
    ann_dir = annotation_dir(root)
    if ann_dir is None:
        raise DataError("no annotations folder; expected annotations/ (or Annotations/) with VOC XML files", path=root)
    image_dir = find_image_dir(root)
    images, used = [], set()
    for xml_path in progress(sorted(ann_dir.rglob("*.xml")), desc="reading VOC", unit="file"):
        try:
            record = _read_annotation(xml_path, ann_dir, image_dir, classes, problems)
        except DataError as exc:
            problems.add_error(exc, "bad-label-file")
            continue
        if record is None:
            continue
        if record.path in used:
            problems.error("duplicate-label", f"a second annotation for image {record.name!r}; ignored", path=xml_path)
            continue
        used.add(record.path)
        images.append(record)
    images += unlabeled_images(list_images(image_dir), image_dir, used, problems,
                               expected=f"{ann_dir.name}/{{stem}}.xml")
    return finish(images, classes, root)


def _read_annotation(xml_path: Path, ann_dir: Path, image_dir: Path, classes, problems) -> ImageRecord | None:
    root = parse_xml(xml_path)
    if root.tag != "annotation":
        raise DataError(f"root element is <{root.tag}>; expected <annotation>", path=xml_path, line=root.line)
    relative = xml_path.relative_to(ann_dir).with_suffix("")
    image_path = _find_image(root, relative, image_dir)
    if image_path is None:
        expected = root.text_of("filename") or f"{relative.as_posix()}.jpg"
        problems.error("label-without-image", f"no image for this annotation; expected {image_dir.name}/"
                       f"{(relative.parent / Path(expected).name).as_posix()}", path=xml_path)
        return None
    width, height = _size(root, xml_path, image_path, problems)
    boxes = []
    for obj in root.find_all("object"):
        box = _read_object(obj, xml_path)
        if check_class(box.label, classes, problems, xml_path, box.line):
            boxes.append(box)
    return ImageRecord(path=image_path.resolve(), width=width, height=height, boxes=boxes,
                       name=image_path.relative_to(image_dir).as_posix(), label_path=xml_path)


def _find_image(root: XmlNode, relative: Path, image_dir: Path) -> Path | None:
    """The image named by <filename>, else any image with the annotation's stem (extensions get changed)."""
    filename = root.text_of("filename")
    if filename:
        candidate = image_dir / relative.parent / Path(filename).name
        if candidate.is_file():
            return candidate
    return find_image_by_stem(image_dir, relative.as_posix())


def _size(root: XmlNode, xml_path: Path, image_path: Path, problems: Problems) -> tuple[int, int]:
    size = root.find("size")
    if size is not None and size.text_of("width") and size.text_of("height"):
        width = parse_number(size.text_of("width"), "<width>", xml_path, size.find("width").line)
        height = parse_number(size.text_of("height"), "<height>", xml_path, size.find("height").line)
        if width > 0 and height > 0:
            return int(round(width)), int(round(height))
    # Some tools write <size> as 0 or leave it out; the image header knows.
    return record_size(image_path, problems)


def _read_object(obj: XmlNode, xml_path: Path) -> Box:
    label = (obj.text_of("name") or "").strip()
    if not label:
        raise DataError("<object> has no <name>; expected a class name", path=xml_path, line=obj.line)
    bndbox = obj.find("bndbox")
    if bndbox is None:
        raise DataError(f"<object> {label!r} has no <bndbox>; expected xmin, ymin, xmax, ymax", path=xml_path,
                        line=obj.line)
    coords = []
    for tag in COORDS:
        node = bndbox.find(tag)
        line = node.line if node is not None else bndbox.line
        coords.append(parse_number(node.text if node is not None else None, f"<{tag}>", xml_path, line))
    return Box(*coords, label=label,
               truncated=_optional_number(obj, "truncated", xml_path),
               occluded=int(_optional_number(obj, "occluded", xml_path)),
               difficult=bool(_optional_number(obj, "difficult", xml_path)),
               line=obj.line)


def _optional_number(obj: XmlNode, tag: str, xml_path: Path) -> float:
    node = obj.find(tag)
    if node is None or not node.text.strip():
        return 0.0
    return parse_number(node.text, f"<{tag}>", xml_path, node.line)


def write(ds: Dataset, out: Path, mode: str) -> None:
    check_label_stems(ds, ".xml")
    place_images(ds, out / "images", mode)
    write_annotations(ds, out)


def write_annotations(ds: Dataset, out: Path) -> None:
    """``annotations/<stem>.xml`` for every image (no <object> when it has none) and classes.txt."""
    for im in progress(ds.images, desc="writing VOC"):
        write_annotation(im, out)
    write_classes_file(out, ds.classes)


def write_annotation(im: ImageRecord, out: Path) -> Path:
    """``out/annotations/<stem>.xml`` of one image; returns its path."""
    path = out / "annotations" / f"{im.stem}.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(_annotation_element(im))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=False)
    return path


def _annotation_element(im: ImageRecord) -> ET.Element:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "images"
    ET.SubElement(root, "filename").text = Path(im.name).name
    size = ET.SubElement(root, "size")
    for tag, value in (("width", im.width), ("height", im.height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for box in im.boxes:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = box.label
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = format_number(box.truncated)
        ET.SubElement(obj, "occluded").text = str(int(box.occluded))
        ET.SubElement(obj, "difficult").text = str(int(box.difficult))
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in zip(COORDS, box.as_list()):
            ET.SubElement(bndbox, tag).text = format_number(value)
    return root
