"""data stats: counts, box sizes and the histogram PNG."""

from __future__ import annotations

from PIL import Image

from dabai.data.dataset import Box, Dataset, ImageRecord
from dabai.data.stats import dataset_stats, render_stats, save_box_size_histogram


def known_dataset() -> Dataset:
    return Dataset(images=[
        ImageRecord("/x/a.jpg", 100, 100, [Box(0, 0, 10, 10, "a"), Box(0, 0, 40, 40, "b"), Box(0, 0, 100, 100, "a")]),
        ImageRecord("/x/b.jpg", 100, 100, []),
        ImageRecord("/x/c.jpg", 200, 100, [Box(0, 0, 20, 20, "a")]),
    ], classes=["a", "b", "c"])


def test_counts_and_sizes():
    stats = dataset_stats(known_dataset())
    assert stats["images"] == 3 and stats["images_without_boxes"] == 1 and stats["boxes"] == 4
    assert stats["boxes_per_class"] == {"a": 3, "b": 1, "c": 0}
    assert stats["images_per_class"] == {"a": 2, "b": 1, "c": 0}
    assert stats["box_size_px"] == {"min": 10.0, "median": 40.0, "mean": 42.5, "max": 100.0}
    assert stats["box_size_buckets"] == {"tiny (<16 px)": 1, "small (16-32 px)": 1, "medium (32-96 px)": 1,
                                         "large (>=96 px)": 1}
    assert stats["image_sizes"] == {"100x100": 2, "200x100": 1}
    text = render_stats(stats)
    assert "images: 3 (1 without boxes, 2 distinct sizes)" in text and "c" in text


def test_histogram_is_a_png(tmp_path):
    path = save_box_size_histogram(known_dataset(), tmp_path / "deep" / "sizes.png")
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > 200


def test_empty_dataset_still_gives_numbers_and_a_picture(tmp_path):
    empty = Dataset(images=[], classes=["a"])
    assert dataset_stats(empty)["boxes"] == 0
    assert save_box_size_histogram(empty, tmp_path / "h.png").is_file()
