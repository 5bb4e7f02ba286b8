"""The one canonical detection dataset type that every format converts to and from.

Boxes are float ``x1, y1, x2, y2`` in pixels of the original image (VOC's
convention, no +1/-1 shifts); an image may have no boxes. Paths are absolute so
a dataset can be written anywhere without resolving them again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Box:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    # Optional VOC/KITTI attributes kept through conversions where the target stores them.
    truncated: float = 0.0
    occluded: int = 0
    difficult: bool = False
    # Line of the label file this box came from (for messages); not part of a box's identity.
    line: int | None = field(default=None, compare=False, repr=False)

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def as_list(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]


@dataclass
class ImageRecord:
    path: Path  # absolute path of the image file
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)
    # Name relative to the dataset's image folder (kept so outputs mirror the input layout).
    name: str = ""
    # The annotation file it was read from, if any (for messages); not part of its identity.
    label_path: Path | None = field(default=None, compare=False, repr=False)
    # Where the image came from ("" = not recorded): kept by `data merge` in sources.csv (data/sources.py).
    source: str = ""

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.name:
            self.name = self.path.name

    @property
    def stem(self) -> str:
        return Path(self.name).with_suffix("").as_posix()

    def box_array(self, dtype=np.float64) -> np.ndarray:
        """The boxes as an [N, 4] array of x1, y1, x2, y2 ([0, 4] for an image without any)."""
        return np.array([b.as_list() for b in self.boxes], dtype=dtype).reshape(-1, 4)


@dataclass
class Dataset:
    images: list[ImageRecord]
    classes: list[str]  # ordered class names; index order is the class id used by YOLO/COCO

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_boxes(self) -> int:
        return sum(len(im.boxes) for im in self.images)

    def class_counts(self) -> dict[str, int]:
        counts = {c: 0 for c in self.classes}
        for im in self.images:
            for b in im.boxes:
                counts[b.label] = counts.get(b.label, 0) + 1
        return counts

    def labels_used(self) -> list[str]:
        """The class names the boxes carry, sorted (a declared class without boxes is not one)."""
        return sorted({b.label for im in self.images for b in im.boxes})

    def subset(self, indices) -> Dataset:
        return Dataset(images=[self.images[i] for i in indices], classes=list(self.classes))


def ordered_classes(labels, preferred: list[str] | None = None) -> list[str]:
    """Class list: the preferred order first, then any other label in first-seen order."""
    out = list(preferred or [])
    for label in labels:
        if label not in out:
            out.append(label)
    return out
