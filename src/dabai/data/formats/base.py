"""Pieces every format reader and writer shares: numbers, class lists, image records."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from dabai.core.errors import DataError
from dabai.core.images import image_size, list_images
from dabai.data.classnames import unknown_class_message
from dabai.data.dataset import Box, Dataset, ImageRecord, ordered_classes
from dabai.data.imageio import find_image_by_stem, place_file
from dabai.data.problems import Problems
from dabai.data.progress import progress

CLASSES_FILE = "classes.txt"


def parse_number(text: str | None, what: str, path: Path, line: int | None, integer: bool = False) -> float:
    """``float(text)`` or a DataError saying which field of which line was not a number."""
    if text is None or not str(text).strip():
        raise DataError(f"missing {what}; expected a number", path=path, line=line)
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise DataError(f"{what} is {text!r}; expected {kind}", path=path, line=line) from None
    if not integer and not math.isfinite(value):
        raise DataError(f"{what} is {text!r}; expected a finite number", path=path, line=line)
    return value


def read_text(path: Path) -> str:
    """A label file's text; DataError (with the line) when it is not UTF-8, e.g. a binary file."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")  # -sig: tolerate the BOM some Windows editors add
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(f"not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); expected a text "
                        "label file", path=path, line=line) from None


def format_number(value: float, decimals: int = 2) -> str:
    """Shortest text for a coordinate: '321' for whole pixels, else up to ``decimals`` places."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def read_classes_file(root: Path) -> list[str] | None:
    """Class names from ``root/classes.txt`` (one per line, in id order), if the file exists."""
    path = root / CLASSES_FILE
    if not path.is_file():
        return None
    names = [line.strip() for line in read_text(path).splitlines()]
    return [n for n in names if n]


def write_classes_file(out: Path, classes: list[str]) -> None:
    (out / CLASSES_FILE).write_text("".join(c + "\n" for c in classes), encoding="utf-8")


def check_class(label: str, classes: list[str] | None, problems: Problems, path: Path, line: int | None) -> bool:
    """True when ``label`` is allowed; otherwise report an 'unknown-class' error naming a near miss."""
    if classes is None or label in classes:
        return True
    problems.error("unknown-class", unknown_class_message(label, classes), path=path, line=line)
    return False


def dataset_classes(images: list[ImageRecord], given: list[str] | None, root: Path) -> list[str]:
    """The class list: as given, else ``classes.txt``'s order, else sorted (stable whatever the file order)."""
    labels = [b.label for im in images for b in im.boxes]
    if given is not None:
        return list(given)
    from_file = read_classes_file(root)
    if from_file is not None:
        return ordered_classes(labels, from_file)
    return sorted(set(labels))


def record_size(path: Path, problems: Problems) -> tuple[int, int]:
    """Image size from its header; (0, 0) when unreadable and problems are being collected,
    because ``data check`` decodes every image itself and reports why it failed."""
    try:
        return image_size(path)
    except DataError:
        if problems.strict:
            raise
        return 0, 0


def unlabeled_images(image_files: list[Path], image_dir: Path, used: set[Path], problems: Problems,
                     expected: str) -> list[ImageRecord]:
    """Records (with no boxes) for images no label file mentions, each reported as a warning.
    ``used`` holds the resolved paths of the images that label files do mention; ``expected``
    names the missing label file, with ``{stem}`` standing for the image's name without extension."""
    records = []
    for path in image_files:
        if path.resolve() in used:
            continue
        stem = path.relative_to(image_dir).with_suffix("").as_posix()
        problems.warning("image-without-label", f"image has no label file (expected {expected.format(stem=stem)}); "
                         "kept as an image with no objects", path=path)
        width, height = record_size(path, problems)
        records.append(ImageRecord(path=path.resolve(), width=width, height=height, boxes=[],
                                   name=path.relative_to(image_dir).as_posix()))
    return records


def finish(images: list[ImageRecord], classes: list[str] | None, root: Path) -> Dataset:
    images.sort(key=lambda im: im.name)
    return Dataset(images=images, classes=dataset_classes(images, classes, root))


def check_label_stems(ds: Dataset, label_suffix: str) -> None:
    """Two images whose names differ only in extension would share one label file."""
    seen: dict[str, str] = {}
    for im in ds.images:
        if im.stem in seen:
            raise DataError(f"images {seen[im.stem]!r} and {im.name!r} would share the label file "
                            f"{im.stem}{label_suffix}; rename one of them")
        seen[im.stem] = im.name


def place_images(ds: Dataset, image_dir: Path, mode: str) -> None:
    """Copy (or link) every image to ``image_dir/<name>``, mirroring the input layout.

    Mode "in-place" means a tool (resize) already wrote the images there."""
    if mode == "in-place":
        for im in ds.images:
            if Path(im.path).resolve() != (image_dir / im.name).resolve():
                raise DataError(f"image {im.name!r} is not at {image_dir / im.name}", path=im.path)
        return
    for im in progress(ds.images, desc=f"{'copying' if mode == 'copy' else 'linking'} images"):
        place_file(im.path, image_dir / im.name, mode)


def read_txt_labels(root: Path, image_dir: Path, label_dir: Path, desc: str, problems: Problems,
                    parse: Callable[[Path, ImageRecord], list[Box]]) -> list[ImageRecord]:
    """Images with one ``labels/<stem>.txt`` each (YOLO, KITTI): ``parse`` reads one label file.

    A bad label file is recorded and its image left out; an image without a label file is kept
    with no objects (warning); a label file without an image is an error.
    """
    images, used = [], set()
    for image_path in progress(list_images(image_dir), desc=desc):
        name = image_path.relative_to(image_dir).as_posix()
        label_path = label_dir / (Path(name).with_suffix("").as_posix() + ".txt")
        width, height = record_size(image_path, problems)
        record = ImageRecord(path=image_path.resolve(), width=width, height=height, name=name)
        if label_path.is_file():
            used.add(label_path)
            record.label_path = label_path
            try:
                record.boxes = parse(label_path, record)
            except DataError as exc:
                problems.add_error(exc, "bad-label-file")
                continue
        else:
            problems.warning("image-without-label", f"image has no label file (expected {label_path.relative_to(root)}); "
                             "kept as an image with no objects", path=image_path)
        images.append(record)
    _report_orphan_labels(label_dir, used, image_dir, problems)
    return images


def _report_orphan_labels(label_dir: Path, used: set[Path], image_dir: Path, problems: Problems) -> None:
    if not label_dir.is_dir():
        return
    for path in sorted(label_dir.rglob("*.txt")):
        if path in used or path.name == "classes.txt":
            continue
        stem = path.relative_to(label_dir).with_suffix("").as_posix()
        if find_image_by_stem(image_dir, stem) is None:
            problems.error("label-without-image", f"no image for this label file; expected {image_dir.name}/"
                           f"{stem}.jpg (or another image extension)", path=path)


def write_txt_labels(ds: Dataset, out: Path, desc: str, line: Callable[[ImageRecord, Box], str]) -> None:
    """Write ``labels/<stem>.txt`` for every image (an empty file for an image with no objects)."""
    for im in progress(ds.images, desc=desc):
        path = out / "labels" / f"{im.stem}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line(im, box) + "\n" for box in im.boxes), encoding="utf-8")
