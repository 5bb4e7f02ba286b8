"""Datasets from several sources: class maps, the source of every image, merging, and leaks between folders.

A merged dataset remembers where each image came from in ``sources.csv`` (image name, source) beside its
labels, whatever its format; ``read_dataset`` reads it back into ``ImageRecord.source``. Source names are
what evaluation tables (``dabai eval --data``), leave-one-source-out folds (``data split --by-source``)
and a model's provenance report::

    from dabai.data.sources import merge_datasets, parse_class_map
    ds = merge_datasets(["../shared/data/face-mask", "ilc=../shared/data/face-mask-ilc2021"],
                        parse_class_map("with_incorrect_mask:mask_weared_incorrect"))
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from pathlib import Path

from dabai.core.errors import DataError
from dabai.data.dataset import Dataset, ImageRecord, ordered_classes
from dabai.data.fingerprint import NEAR_DUPLICATE_DISTANCE, hamming, hamming_to_all, inspect_images

SOURCES_FILE = "sources.csv"
SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# --- class maps -----------------------------------------------------------------------------------

def parse_class_map(text: str | None) -> dict[str, str]:
    """'old:new,old2:new2' -> {'old': 'new', ...}. Several old names may map to one new name."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        old, sep, new = part.partition(":")
        if not sep or not old.strip() or not new.strip():
            raise DataError(f"class map entry {part!r}: expected OLD:NEW, e.g. with_incorrect_mask:mask_weared_incorrect")
        if old.strip() in mapping:
            raise DataError(f"class map names {old.strip()!r} twice")
        mapping[old.strip()] = new.strip()
    return mapping


def apply_class_map(ds: Dataset, mapping: dict[str, str]) -> Dataset:
    """A copy of ``ds`` with box labels renamed by ``mapping`` (names not in it are kept)."""
    if not mapping:
        return ds
    images = [replace(im, boxes=[replace(b, label=mapping.get(b.label, b.label)) for b in im.boxes])
              for im in ds.images]
    classes = ordered_classes([mapping.get(c, c) for c in ds.classes])
    return Dataset(images=images, classes=classes)


def restrict_classes(ds: Dataset, classes: list[str], where) -> Dataset:
    """``ds`` with the class order ``classes``; a label outside it is an error (as ``read_dataset(classes=)``)."""
    unknown = sorted({b.label for im in ds.images for b in im.boxes} - set(classes))
    if unknown:
        raise DataError(f"labels {unknown} are not in the class list {classes}; map them with --map OLD:NEW", path=where)
    return Dataset(images=ds.images, classes=list(classes))


# --- the source of each image ---------------------------------------------------------------------

def check_source_name(name: str) -> str:
    if not SOURCE_NAME.match(name):
        raise DataError(f"source name {name!r}: expected letters, digits, '.', '_' or '-' (starting with a letter or digit)")
    return name


def read_sources(root: Path, ds: Dataset) -> None:
    """Set ``source`` on the records of ``ds`` from ``root/sources.csv`` when the folder has one."""
    path = Path(root) / SOURCES_FILE
    if not path.is_file():
        return
    by_name: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.reader(f), start=1):
            if line == 1 and row == ["image", "source"]:
                continue
            if len(row) != 2:
                raise DataError(f"line {line}: expected 2 fields 'image,source', got {len(row)}", path=path)
            by_name[row[0]] = row[1]
    for im in ds.images:
        im.source = by_name.get(im.name, im.source)


def write_sources(ds: Dataset, out: Path) -> None:
    """``out/sources.csv`` when any image has a source (a dataset of one unnamed source writes none)."""
    if not any(im.source for im in ds.images):
        return
    with (Path(out) / SOURCES_FILE).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "source"])
        for im in ds.images:
            writer.writerow([im.name, im.source])


def sources(ds: Dataset) -> list[str]:
    """The dataset's source names in first-seen order ('' for images without one)."""
    return list(dict.fromkeys(im.source for im in ds.images))


def by_source(ds: Dataset) -> dict[str, Dataset]:
    """One dataset per source, same class list."""
    parts: dict[str, list[ImageRecord]] = {}
    for im in ds.images:
        parts.setdefault(im.source, []).append(im)
    return {name: Dataset(images=images, classes=list(ds.classes)) for name, images in parts.items()}


# --- merging --------------------------------------------------------------------------------------

def parse_source_arg(arg: str | Path) -> tuple[str, Path]:
    """'NAME=DIR' or 'DIR' (the source is then the folder's name) -> (name, path)."""
    text = str(arg)
    name, sep, folder = text.partition("=")
    if sep and SOURCE_NAME.match(name) and folder:
        return name, Path(folder)
    path = Path(text)
    return check_source_name(path.resolve().name), path


def merge_datasets(folders, class_map: dict[str, str] | None = None, data_format: str | None = None,
                   classes: list[str] | None = None) -> Dataset:
    """Pool several datasets into one: every image keeps its source and sits under ``<source>/`` in the
    merged image folder (no name clashes), labels are renamed by ``class_map``. A folder that is itself
    a merge keeps the sources it records. ``classes`` fixes the class order (others are errors)."""
    from dabai.data.formats import read_dataset

    parts, seen = [], {}
    for arg in folders:
        name, path = parse_source_arg(arg)
        if name in seen:
            raise DataError(f"two sources are named {name!r} ({seen[name]} and {path}); name them with NAME=DIR")
        seen[name] = path
        ds = apply_class_map(read_dataset(path, data_format), class_map or {})
        for im in ds.images:
            im.name = f"{name}/{im.name}"
            im.source = im.source or name
        parts.append(ds)
    if not parts:
        raise DataError("nothing to merge: expected one or more dataset folders")
    labels = [c for ds in parts for c in ds.classes]
    merged = Dataset(images=[im for ds in parts for im in ds.images], classes=ordered_classes(labels, classes))
    if classes is not None:
        unknown = [c for c in merged.classes if c not in classes]
        if unknown:
            raise DataError(f"the sources have classes {unknown} that are not in --classes {classes}; "
                            "map them with --map OLD:NEW")
    return merged


# --- leaks between folders ------------------------------------------------------------------------

@dataclass(frozen=True)
class Leak:
    image: Path  # in the checked dataset
    other: Path  # the same picture in another folder
    distance: int  # perceptual-hash distance (0 and same bytes: an exact copy)
    exact: bool

    def to_dict(self) -> dict:
        return {"image": str(self.image), "other": str(self.other), "distance": self.distance, "exact": self.exact}


def find_leaks(ds: Dataset, others: list[Dataset], max_distance: int = NEAR_DUPLICATE_DISTANCE) -> list[Leak]:
    """Images of ``ds`` that are exact or near copies of an image in any of ``others`` (e.g. train vs test)."""
    import numpy as np

    mine = inspect_images([im.path for im in ds.images])
    theirs = inspect_images([im.path for other in others for im in other.images])
    by_sha = {info.sha256: info.path for info in theirs if info.sha256}
    hashed = [info for info in theirs if info.phash is not None]
    hashes = np.array([info.phash for info in hashed], dtype=np.uint64)
    leaks = []
    for info in mine:
        if info.sha256 in by_sha:
            leaks.append(Leak(info.path, by_sha[info.sha256], 0, True))
            continue
        if info.phash is None or not len(hashes):
            continue
        counts = hamming_to_all(hashes, info.phash)
        best = int(np.argmin(counts))
        if counts[best] <= max_distance:
            leaks.append(Leak(info.path, hashed[best].path, hamming(info.phash, hashed[best].phash), False))
    return leaks
