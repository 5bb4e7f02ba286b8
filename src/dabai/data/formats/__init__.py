"""Dataset formats: read any supported layout into a ``Dataset`` and write one out.

    from dabai.data.formats import read_dataset, write_dataset
    ds = read_dataset("data/face-mask")            # format detected from the layout
    write_dataset(ds, "data/face-mask-kitti", "kitti")

Each format lives in its own module with ``looks_like(root)``, ``read(root,
classes, problems)`` and ``write(ds, out, mode)``; this module only picks the
module and prepares the output folder.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from dabai.core.errors import DataError
from dabai.data.dataset import Dataset
from dabai.data.imageio import normalize_link_mode, prepare_output_dir
from dabai.data.problems import Problems
from dabai.data.sources import read_sources, write_sources

log = logging.getLogger(__name__)

# Format name -> module. Detection tries them in this order (VOC and COCO have
# unambiguous files; YOLO and KITTI are told apart by data.yaml and field counts).
FORMATS = {
    "voc": "dabai.data.formats.voc",
    "coco": "dabai.data.formats.coco",
    "yolo": "dabai.data.formats.yolo",
    "kitti": "dabai.data.formats.kitti",
}

LAYOUT_HINT = (
    "expected annotations/*.xml (voc), annotations.json (coco), data.yaml + labels/*.txt (yolo) "
    "or labels/*.txt with 15 fields per line (kitti)"
)


def _module(fmt: str):
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[fmt])


def detect_format(path: str | Path) -> str:
    """The format of the dataset folder ``path``, judged from its files."""
    root = Path(path)
    if not root.is_dir():
        raise DataError("dataset folder not found", path=root)
    for fmt in FORMATS:
        if _module(fmt).looks_like(root):
            return fmt
    raise DataError(f"cannot tell the dataset format; {LAYOUT_HINT}; or name it with --from", path=root)


def crop_class_folders(path: str | Path) -> list[Path]:
    """The class folders of a folder of face crops (classification data, no boxes): its sub-folders, sorted,
    when ``path`` is not a detection dataset in a format this reads; [] when it is one, or has none."""
    root = Path(path)
    try:
        detect_format(root)
    except DataError:
        return [p for p in sorted(root.iterdir()) if p.is_dir()] if root.is_dir() else []
    return []


def read_dataset(path: str | Path, fmt: str | None = None, classes: list[str] | str | None = None,
                 problems: Problems | None = None) -> Dataset:
    """Read the dataset at ``path`` (format detected when ``fmt`` is None).

    ``classes`` fixes the class order (ids for YOLO/COCO) and makes any other
    class name an error. With a non-strict ``problems`` collector, bad files are
    recorded there and skipped instead of raising (what ``data check`` uses).
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError("dataset folder not found", path=root)
    fmt = fmt or detect_format(root)
    if isinstance(classes, str):
        classes = parse_class_list(classes)
    own = problems is None
    problems = problems or Problems(strict=True)
    ds = _module(fmt).read(root, classes=classes, problems=problems)
    read_sources(root, ds)
    if own:
        problems.log_summary(f"{root} ({fmt})")
    log.debug("read %s dataset %s: %d images, %d boxes, classes %s", fmt, root, len(ds), ds.num_boxes, ds.classes)
    return ds


def write_dataset(ds: Dataset, out: str | Path, fmt: str, link: bool | str = False) -> Path:
    """Write ``ds`` to the new (or empty) folder ``out`` in format ``fmt``.

    Images are copied; ``link=True`` hard-links them (symlinks across
    filesystems), ``link="hard"`` or ``"symlink"`` forces one kind.
    """
    module = _module(fmt)
    mode = normalize_link_mode(link)
    out = prepare_output_dir(Path(out))
    module.write(ds, out, mode)
    write_sources(ds, out)
    return out


def write_labels(ds: Dataset, out: str | Path, fmt: str) -> None:
    """Write only the label files of ``ds``, whose images a tool already put in ``out/images``."""
    _module(fmt).write(ds, Path(out), "in-place")


def parse_class_list(text: str) -> list[str]:
    """'a, b,c' -> ['a', 'b', 'c']; duplicates are an error (they would get two ids)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise DataError(f"class list {text!r} is empty; expected names separated by commas")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(f"class list names {', '.join(dupes)} more than once")
    return names
