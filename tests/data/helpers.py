"""Helpers for the data tests: tiny images and datasets made on the spot, and file hashing."""

from __future__ import annotations

import hashlib
from pathlib import Path

from dabai.data.dataset import Box, Dataset, ImageRecord


def write_image(path: Path, size=(64, 48), color=(120, 80, 40)) -> Path:
    """A small solid image with a darker square, so near-duplicate hashes are not all equal."""
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).rectangle([size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2], fill=(10, 10, 10))
    image.save(path)
    return path


def tiny_dataset(folder: Path) -> Dataset:
    """Four images: float boxes, a class name with a space, an image with no objects, a PNG."""
    records = [
        ImageRecord(path=write_image(folder / "a.jpg", (64, 48)), width=64, height=48, boxes=[
            Box(1.25, 2.5, 30.75, 40.0, "with_mask"),
            Box(32.0, 4.0, 60.0, 44.5, "traffic light", truncated=0.5, occluded=1),
        ]),
        ImageRecord(path=write_image(folder / "b.jpg", (80, 60), (30, 160, 90)), width=80, height=60, boxes=[]),
        ImageRecord(path=write_image(folder / "c.png", (50, 50), (200, 200, 30)), width=50, height=50, boxes=[
            Box(0.0, 0.0, 50.0, 50.0, "without_mask"),
        ]),
        ImageRecord(path=write_image(folder / "d.jpg", (40, 70), (90, 20, 200)), width=40, height=70, boxes=[
            Box(10.5, 10.0, 20.0, 30.25, "with_mask", difficult=True),
        ]),
    ]
    for record in records:
        record.path = record.path.resolve()
    return Dataset(images=records, classes=["with_mask", "without_mask", "traffic light"])


def assert_same_boxes(a: Dataset, b: Dataset, tolerance: float = 0.01) -> None:
    """Same images by name, same boxes (label and coordinates within ``tolerance`` px) in order."""
    assert [im.name for im in a.images] == [im.name for im in b.images]
    for x, y in zip(a.images, b.images):
        assert (x.width, x.height) == (y.width, y.height), x.name
        assert [bx.label for bx in x.boxes] == [by.label for by in y.boxes], x.name
        for bx, by in zip(x.boxes, y.boxes):
            for p, q in zip(bx.as_list(), by.as_list()):
                assert abs(p - q) <= tolerance, (x.name, bx, by)


def tree_digest(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` by relative path: proof that nothing changed."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
