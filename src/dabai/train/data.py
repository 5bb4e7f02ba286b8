"""Training data: canonical records -> augmented, letterboxed tensors and box targets."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import Sampler

from dabai.core.images import load_image_rgb
from dabai.data.dataset import Dataset
from dabai.runtime.preprocess import letterbox
from dabai.train.augment import apply_pipeline, build_pipeline, mosaic, zoom_to_face
from dabai.train.copy_paste import FaceBank, paste_faces
from dabai.train.spec import AugmentSpec


class DetectionData(TorchDataset):
    """Yields (image float32 CHW 0..255, targets float32 [n, 5] = x1, y1, x2, y2, class_id) in input pixels."""

    def __init__(self, dataset: Dataset, classes: list[str], input_size: int, augment: AugmentSpec | None, seed: int = 0):
        self.records = dataset.images
        self.class_ids = {name: i for i, name in enumerate(classes)}
        self.input_size = input_size
        self.augment = augment
        self.pipeline = build_pipeline(augment) if augment else None
        pasting = augment is not None and augment.copy_paste > 0
        self.bank = FaceBank(dataset, self.class_ids, augment.copy_paste_classes) if pasting else None
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.records)

    def _raw(self, index: int):
        """(image RGB, boxes [n, 4], class ids [n]) of one record, before any augmentation."""
        record = self.records[index]
        boxes = record.box_array(np.float32)
        labels = np.array([self.class_ids[b.label] for b in record.boxes], dtype=np.int64)
        return load_image_rgb(record.path), boxes, labels

    def __getitem__(self, index: int):
        image, boxes, labels = self._raw(index)
        if self.pipeline is not None:
            image, boxes, labels = self._augment(image, boxes, labels, index)
        canvas, lb = letterbox(image, self.input_size)
        targets = np.concatenate([boxes * lb.scale, labels[:, None].astype(np.float32)], axis=1)
        tensor = torch.from_numpy(np.ascontiguousarray(canvas.transpose(2, 0, 1))).float()
        return tensor, torch.from_numpy(targets.astype(np.float32))

    def _augment(self, image, boxes, labels, index):
        # Seeded per (seed, epoch, index) so a resumed run sees the same augmentations.
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if self.bank is not None and rng.random() < self.augment.copy_paste:
            image, boxes, labels = paste_faces(image, boxes, labels, self.bank, rng, self.augment.copy_paste_max,
                                               self.augment.copy_paste_scale, skip_record=index)
        if self.augment.mosaic > 0 and rng.random() < self.augment.mosaic:
            others = [self._raw(int(k)) for k in rng.integers(len(self.records), size=3)]
            image, boxes, labels = mosaic([(image, boxes, labels), *others], self.input_size, rng)
        elif rng.random() < self.augment.zoom_face:
            image, boxes, labels = zoom_to_face(image, boxes, labels, rng, self.augment.zoom_face_context)
        return apply_pipeline(self.pipeline, image, boxes, labels, rng)


def collate(batch):
    images = torch.stack([b[0] for b in batch])
    return images, [b[1] for b in batch]


def repeat_factors(dataset: Dataset, threshold: float) -> np.ndarray:
    """LVIS repeat factors: r(image) = max over its classes of max(1, sqrt(t / f_class))."""
    n = max(1, len(dataset.images))
    freq: dict[str, float] = {}
    for record in dataset.images:
        for label in {b.label for b in record.boxes}:
            freq[label] = freq.get(label, 0) + 1 / n
    factors = []
    for record in dataset.images:
        labels = {b.label for b in record.boxes}
        factors.append(max([1.0] + [math.sqrt(threshold / freq[c]) for c in labels]))
    return np.array(factors)


class EpochSampler(Sampler):
    """Deterministic per-epoch order (weighted with replacement, or a permutation), sharded for DDP."""

    def __init__(self, n: int, weights: np.ndarray | None, seed: int, rank: int = 0, world: int = 1):
        self.n, self.weights, self.seed, self.rank, self.world = n, weights, seed, rank, world
        self.epoch = 0
        self.per_rank = math.ceil(n / world)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def indices(self) -> list[int]:
        g = torch.Generator().manual_seed(self.seed * 1000 + self.epoch)
        total = self.per_rank * self.world
        if self.weights is not None:
            w = torch.as_tensor(self.weights, dtype=torch.double)
            order = torch.multinomial(w, total, replacement=True, generator=g)
        else:
            order = torch.randperm(self.n, generator=g).repeat(math.ceil(total / max(self.n, 1)))[:total]
        return order[self.rank::self.world].tolist()

    def __iter__(self):
        return iter(self.indices())

    def __len__(self) -> int:
        return self.per_rank
