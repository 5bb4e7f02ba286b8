"""Calibration and parity inputs: images from a folder, through the runtime's own letterbox.

Calibration must see exactly what the deployed model sees, so the tensors come
from ``dabai.runtime.preprocess`` (the path predict, eval and serve use), never
from a second copy of the pre-processing.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np

from dabai.core.digest import sha256_file
from dabai.core.errors import DataError
from dabai.core.images import list_images, load_image_rgb
from dabai.runtime.preprocess import letterbox, to_tensor_layout


def pick_images(folder: str | Path, count: int, seed: int = 0) -> list[Path]:
    """Up to ``count`` images under ``folder`` (a dataset or a plain folder), a seeded random sample."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError("image folder not found (expected a dataset or a folder of images)", path=root)
    paths = list_images(root, required=True)
    if count and len(paths) > count:
        paths = sorted(random.Random(seed).sample(paths, count))
    return paths


def letterboxed(paths: list[Path], size: int) -> np.ndarray:
    """float32 NCHW batch in 0..255 of the letterboxed images (unreadable files are an error)."""
    return to_tensor_layout([letterbox(load_image_rgb(p), size)[0] for p in paths])


def random_inputs(count: int, size: int, seed: int = 0) -> np.ndarray:
    """Uniform-noise images in 0..255 (each with a grey letterbox band, as real inputs have)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, (count, 3, size, size)).astype(np.float32)
    x[:, :, size * 3 // 4:, :] = 114.0
    return x


def images_digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.name).encode())
        h.update(str(p.stat().st_size).encode())
    return h.hexdigest()[:16]


def file_digest(path: str | Path) -> str:
    return sha256_file(path)[:16]


class CalibrationReader:
    """ONNX Runtime ``CalibrationDataReader``: one letterboxed image per call, loaded lazily."""

    def __init__(self, paths: list[Path], size: int, input_name: str = "images"):
        self.paths, self.size, self.input_name = list(paths), size, input_name
        self._next, self._end = 0, len(self.paths)

    def set_range(self, start_index: int, end_index: int) -> None:
        """Calibrate on a slice at a time (ONNX Runtime keeps every activation of a slice in memory)."""
        self._next, self._end = start_index, min(end_index, len(self.paths))

    def get_next(self) -> dict | None:
        if self._next >= self._end:
            return None
        batch = letterboxed([self.paths[self._next]], self.size)
        self._next += 1
        return {self.input_name: batch}

    def __len__(self) -> int:
        return len(self.paths)

    def rewind(self) -> None:
        self._next, self._end = 0, len(self.paths)


def chunk_size(count: int, largest: int = 16) -> int:
    """The largest divisor of ``count`` up to ``largest`` (ONNX Runtime needs equal slices)."""
    return next(s for s in range(min(largest, count), 0, -1) if count % s == 0)
