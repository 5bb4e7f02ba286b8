"""Image files of datasets: their folders, and copying or linking them (finding, sizing and decoding image
files is :mod:`dabai.core.images`).

Images are always copied or linked into an output, never moved, so an input
dataset is never changed by any data command.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dabai.core.errors import DataError
from dabai.core.images import IMAGE_EXTENSIONS, read_bgr

# Folder names tried, in order, for the images of a dataset (TAO's KITTI uses image_2).
IMAGE_DIR_NAMES = ("images", "JPEGImages", "image_2")

LINK_MODES = ("copy", "hard", "symlink", "auto")


def find_image_dir(root: Path, required: bool = True) -> Path | None:
    """The images folder of a dataset root (``images/``, ``JPEGImages/`` or ``image_2/``)."""
    for name in IMAGE_DIR_NAMES:
        if (root / name).is_dir():
            return root / name
    if required:
        raise DataError(f"no images folder; expected one of {', '.join(n + '/' for n in IMAGE_DIR_NAMES)}", path=root)
    return None


def find_image_by_stem(folder: Path, relative_stem: str) -> Path | None:
    """The image ``folder/<relative_stem>.<ext>`` for any known image extension, if one exists."""
    base = folder / relative_stem
    for ext in IMAGE_EXTENSIONS + tuple(e.upper() for e in IMAGE_EXTENSIONS):
        candidate = base.with_name(base.name + ext)
        if candidate.is_file():
            return candidate
    return None


def normalize_link_mode(link: bool | str) -> str:
    """``False`` → copy, ``True`` → auto (hard link, else symlink); strings are checked."""
    if link is False or link is None:
        return "copy"
    if link is True:
        return "auto"
    if link not in LINK_MODES:
        raise DataError(f"unknown link mode {link!r}; expected one of {', '.join(LINK_MODES)}")
    return link


def place_file(src: Path, dst: Path, mode: str = "copy") -> None:
    """Put ``src`` at ``dst`` by copying or linking; the source is never moved or changed."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() or dst.is_symlink():
        raise DataError("output file already exists; write into an empty folder", path=dst)
    if mode == "copy":
        shutil.copy2(src, dst)
        return
    if mode in ("hard", "auto"):
        try:
            os.link(src, dst)
            return
        except OSError as exc:
            if mode == "hard":
                raise DataError(f"cannot hard-link {src} here ({exc.strerror}); use a symlink or a copy", path=dst) from None
            # A hard link cannot cross filesystems; a symlink can.
    os.symlink(Path(src).resolve(), dst)


def prepare_output_dir(out: Path) -> Path:
    """Create ``out`` (it must be new or empty, so no existing file is ever overwritten)."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise DataError("output path exists and is not a folder", path=out)
        if any(out.iterdir()):
            raise DataError("output folder is not empty; choose a new or empty folder", path=out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def read_image_bgr(path: Path):
    """Decode an image for the tools that write new pixels (OpenCV's BGR order; non-ASCII paths work)."""
    try:
        return read_bgr(path)
    except DataError as exc:
        raise DataError(f"{exc}; run 'dabai data check --fix' first") from None


def write_jpeg(path: Path, image_bgr, quality: int) -> None:
    """Encode ``image_bgr`` as a JPEG file at ``path``, creating its folder."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise DataError("cannot encode the image as JPEG", path=path)
    data.tofile(str(path))
