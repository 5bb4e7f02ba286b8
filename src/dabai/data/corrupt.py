"""``data corrupt``: copies of a labelled dataset under the conditions a gate camera meets.

Night-time infrared (greyscale), dim light with sensor noise, defocus, a passing visitor's motion
blur, heavy JPEG from a cheap camera, a bright window behind the visitor. Each kind writes its own
folder with every image changed the same way and the labels unchanged (the changes are photometric
or blur, so boxes stay where they were): ``dabai eval`` on each folder shows what the detector
loses under that condition, in the spirit of ImageNet-C. Seeded, so two runs write the same pixels;
the input is never changed.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from dabai.core.errors import DataError
from dabai.data.dataset import Dataset, ImageRecord
from dabai.data.formats import write_labels
from dabai.data.imageio import prepare_output_dir, read_image_bgr, write_jpeg
from dabai.data.progress import progress

JPEG_QUALITY = 95  # of the written files (the jpeg15 kind is applied before, on purpose)


def _grey(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Infrared night mode: one channel, repeated (the detector still takes three)."""
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def _dark(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dim light: gamma 2.2, 60 % exposure, sensor noise (sd 6 levels)."""
    x = (image.astype(np.float32) / 255) ** 2.2 * 255 * 0.6 + rng.normal(0, 6, image.shape)
    return np.clip(x, 0, 255).astype(np.uint8)


def _blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Out of focus: Gaussian, sigma 2 px."""
    return cv2.GaussianBlur(image, (0, 0), 2.0)


def _motion(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A visitor walking past: horizontal motion blur over 9 px."""
    kernel = np.zeros((9, 9), np.float32)
    kernel[4, :] = 1 / 9
    return cv2.filter2D(image, -1, kernel)


def _jpeg(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A cheap camera's stream: JPEG quality 15."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 15])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def _washed(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Backlight: a bright window behind the visitor flattens contrast (45 %) and lifts the blacks."""
    return np.clip(image.astype(np.float32) * 0.45 + 110, 0, 255).astype(np.uint8)


CORRUPTIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "grey": _grey, "dark": _dark, "blur2": _blur, "motion9": _motion, "jpeg15": _jpeg, "washed": _washed,
}


def parse_kinds(text: str) -> list[str]:
    """'grey,dark' -> ['grey', 'dark']; 'all' -> every kind."""
    kinds = list(CORRUPTIONS) if text.strip() == "all" else [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in CORRUPTIONS]
    if unknown or not kinds:
        raise DataError(f"unknown corruption {unknown[0] if unknown else text!r}; "
                        f"choose from {', '.join(CORRUPTIONS)} or all")
    return kinds


def corrupt_dataset(ds: Dataset, out: str | Path, fmt: str, kinds: list[str], seed: int = 0) -> dict[str, Dataset]:
    """Write ``out/<kind>/`` for each kind: the dataset's images so changed, its labels as they were."""
    out = prepare_output_dir(Path(out))
    written = {}
    for kind in kinds:
        target = out / kind
        records = [_write(record, kind, target, seed) for record in progress(ds.images, desc=kind)]
        written[kind] = Dataset(images=records, classes=list(ds.classes))
        write_labels(written[kind], target, fmt)
    return written


def _write(record: ImageRecord, kind: str, target: Path, seed: int) -> ImageRecord:
    image = read_image_bgr(record.path)
    # the same pixels on every run: noise seeded by (seed, kind, image name)
    rng = np.random.default_rng([seed, zlib.crc32(f"{kind}/{record.name}".encode())])
    changed = CORRUPTIONS[kind](image, rng)
    name = str(Path(record.name).with_suffix(".jpg"))
    path = target / "images" / name
    write_jpeg(path, changed, JPEG_QUALITY)
    return ImageRecord(path=path.resolve(), width=record.width, height=record.height, boxes=list(record.boxes),
                       name=name)
