"""``train --preview-augment``: look at what the network will be fed, before an hour of training.

Samples come from the training pipeline itself (``train.data.DetectionData``: copy-paste, mosaic, the
zoom crop, the albumentations pipeline, the letterbox), seeded as a run with the spec's seed sees them
in ``epoch``. Each sample is drawn twice side by side: the image as it is (letterboxed, its labels) and
as augmented, with the boxes the loss will get. A broken augmentation shows as boxes that no longer sit
on faces::

    from dabai.train.preview import preview_augment
    from dabai.train.spec import load_spec
    preview_augment(load_spec("configs/mask_detector.yaml", ["augment.mosaic=1"]), "preview.png")
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dabai.core.draw import class_colour
from dabai.core.errors import ConfigError
from dabai.data.sheet import Mark, Tile, write_sheet
from dabai.train.spec import TrainSpec


def _tile(data, index: int, caption: str) -> Tile:
    tensor, targets = data[index]
    image = cv2.cvtColor(np.ascontiguousarray(tensor.numpy().transpose(1, 2, 0)).astype(np.uint8), cv2.COLOR_RGB2BGR)
    names = {i: c for c, i in data.class_ids.items()}
    marks = [Mark(tuple(float(v) for v in t[:4]), class_colour(names[int(t[4])]), names[int(t[4])])
             for t in targets.numpy()]
    return Tile(image, marks, [caption, f"{len(marks)} boxes, {image.shape[1]}x{image.shape[0]} input"])


def preview_augment(spec: TrainSpec, out: str | Path, samples: int = 12, seed: int = 0, epoch: int = 0,
                    cols: int = 6) -> Path:
    """Write ``out`` (PNG): ``samples`` random training images, each as labelled and as augmented."""
    from dabai.train.data import DetectionData
    from dabai.train.runner import read_train_set

    if samples < 1:
        raise ConfigError(f"samples {samples}: expected at least 1")
    dataset = read_train_set(spec)  # data.train and data.extra_train, as a run reads them
    if not len(dataset):
        raise ConfigError(f"{spec.data.train}: the training data has no images")
    plain = DetectionData(dataset, list(spec.classes), spec.model.input_size, None, spec.seed)
    augmented = DetectionData(dataset, list(spec.classes), spec.model.input_size, spec.augment, spec.seed)
    augmented.epoch = epoch
    picks = np.random.default_rng(seed).choice(len(dataset), size=min(samples, len(dataset)), replace=False)
    tiles = []
    for i in sorted(int(k) for k in picks):
        name = dataset.images[i].name
        tiles += [_tile(plain, i, f"{name} as labelled"), _tile(augmented, i, f"{name} augmented (epoch {epoch})")]
    title = (f"{spec.data.train}: {len(picks)} samples, as labelled | as augmented "
             f"(spec seed {spec.seed}, epoch {epoch}, input {spec.model.input_size})")
    return write_sheet(tiles, out, cols if cols % 2 == 0 else cols + 1, 320, title)
