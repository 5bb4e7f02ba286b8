"""``data resize``: every image to one size (TAO wants uniform inputs), labels scaled with it.

Without ``keep_aspect`` each image is stretched to exactly WxH. With it, the
image is scaled to fit inside WxH and padded with black on the right and at
the bottom; padding only there means boxes are scaled and never shifted.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from dabai.core.errors import DataError
from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.formats import write_labels
from dabai.data.imageio import place_file, prepare_output_dir
from dabai.data.progress import progress

log = logging.getLogger(__name__)

# Detector backbones downsample by 16 or 32; other sizes get cropped or padded inside the network.
STRIDE = 16
JPEG_QUALITY = 95


def parse_size(text: str) -> tuple[int, int]:
    """'640x480' -> (640, 480)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text or "")
    if not match or min(int(match[1]), int(match[2])) <= 0:
        raise DataError(f"size {text!r} is not WIDTHxHEIGHT with positive whole numbers, e.g. 640x480")
    return int(match[1]), int(match[2])


def size_warnings(width: int, height: int) -> list[str]:
    return [f"{name} {value} is not a multiple of {STRIDE}; TAO and most detectors expect one "
            f"(nearest: {max(STRIDE, round(value / STRIDE) * STRIDE)})"
            for name, value in (("width", width), ("height", height)) if value % STRIDE]


def resize_dataset(ds: Dataset, out: str | Path, size: tuple[int, int], fmt: str,
                   keep_aspect: bool = False) -> Dataset:
    """Write ``ds`` resized to ``size`` into the new (or empty) folder ``out`` in ``fmt``."""
    width, height = size
    for message in size_warnings(width, height):
        log.warning("warning: %s", message)
    out = prepare_output_dir(Path(out))
    image_dir = out / "images"
    records = [_resize_record(im, image_dir, width, height, keep_aspect)
               for im in progress(ds.images, desc=f"resizing to {width}x{height}")]
    resized = Dataset(images=records, classes=list(ds.classes))
    write_labels(resized, out, fmt)
    return resized


def _resize_record(im: ImageRecord, image_dir: Path, width: int, height: int, keep_aspect: bool) -> ImageRecord:
    from PIL import Image

    target = image_dir / im.name
    try:
        with Image.open(im.path) as source:
            source.load()
            if im.width and im.height and (im.width, im.height) != source.size:
                raise DataError(f"labels say {im.width}x{im.height} but the image is "
                                f"{source.width}x{source.height}; run 'dabai data check --fix' first", path=im.path)
            sx, sy = _scales(source.width, source.height, width, height, keep_aspect)
            if source.size == (width, height):
                place_file(im.path, target, "copy")  # already right: keep the original bytes
            else:
                _write_resized(source, target, width, height, sx, sy)
    except OSError as exc:
        raise DataError(f"cannot resize this image ({exc}); run 'dabai data check --fix' first", path=im.path) from None
    boxes = [Box(b.x1 * sx, b.y1 * sy, b.x2 * sx, b.y2 * sy, label=b.label, truncated=b.truncated,
                 occluded=b.occluded, difficult=b.difficult) for b in im.boxes]
    return ImageRecord(path=target.resolve(), width=width, height=height, boxes=boxes, name=im.name)


def _scales(w: int, h: int, width: int, height: int, keep_aspect: bool) -> tuple[float, float]:
    if not keep_aspect:
        return width / w, height / h
    scale = min(width / w, height / h)
    # The pasted image is rounded to whole pixels; scale boxes by what was really drawn.
    return max(1, round(w * scale)) / w, max(1, round(h * scale)) / h


def _write_resized(source, target: Path, width: int, height: int, sx: float, sy: float) -> None:
    from PIL import Image

    image = source if source.mode in ("RGB", "L", "RGBA") else source.convert("RGB")
    drawn = (max(1, round(source.width * sx)), max(1, round(source.height * sy)))
    scaled = image.resize(drawn, Image.Resampling.LANCZOS)
    if drawn != (width, height):
        canvas = Image.new(scaled.mode, (width, height))  # black padding right and bottom
        canvas.paste(scaled, (0, 0))
        scaled = canvas
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() in (".jpg", ".jpeg"):
        scaled.convert("RGB").save(target, quality=JPEG_QUALITY)
    else:
        scaled.save(target)
