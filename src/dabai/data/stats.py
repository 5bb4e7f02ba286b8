"""``data stats``: how many images and boxes, of which classes, and how big the boxes are.

Box size is ``sqrt(width * height)`` in pixels, the side of a square of the
same area, which is what decides whether a detector's input resolution can
still see an object (COCO calls < 32 px "small").
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from dabai.data.dataset import Dataset

SIZE_BUCKETS = ((0, 16, "tiny (<16 px)"), (16, 32, "small (16-32 px)"), (32, 96, "medium (32-96 px)"),
                (96, math.inf, "large (>=96 px)"))
HISTOGRAM_NAME = "box_sizes.png"


def box_side(box) -> float:
    return math.sqrt(box.area)


def dataset_stats(ds: Dataset) -> dict:
    sides = [box_side(b) for im in ds.images for b in im.boxes]
    per_image = [len(im.boxes) for im in ds.images]
    sizes = Counter(f"{im.width}x{im.height}" for im in ds.images)
    return {
        "images": len(ds),
        "images_without_boxes": sum(1 for n in per_image if n == 0),
        "boxes": len(sides),
        "boxes_per_class": ds.class_counts(),
        "images_per_class": {c: sum(1 for im in ds.images if any(b.label == c for b in im.boxes)) for c in ds.classes},
        "boxes_per_image": {"mean": round(sum(per_image) / len(per_image), 2) if per_image else 0,
                            "max": max(per_image, default=0)},
        "box_size_px": _summary(sides),
        "box_size_buckets": {label: sum(1 for s in sides if lo <= s < hi) for lo, hi, label in SIZE_BUCKETS},
        "image_sizes": dict(sizes.most_common(10)),
        "distinct_image_sizes": len(sizes),
        "sources": _per_source(ds),
    }


def _per_source(ds: Dataset) -> dict:
    """Images and boxes per class of each recorded source ({} when no image records one)."""
    from dabai.data.sources import by_source

    if not any(im.source for im in ds.images):
        return {}
    return {name or "(none)": {"images": len(part), "boxes_per_class": part.class_counts()}
            for name, part in by_source(ds).items()}


def _summary(values: list[float]) -> dict:
    if not values:
        return {"min": 0, "median": 0, "mean": 0, "max": 0}
    ordered = sorted(values)
    return {"min": round(ordered[0], 1), "median": round(ordered[len(ordered) // 2], 1),
            "mean": round(sum(ordered) / len(ordered), 1), "max": round(ordered[-1], 1)}


def save_box_size_histogram(ds: Dataset, path: str | Path) -> Path:
    """A PNG histogram of box sizes, one colour per class, on a log axis (sizes span decades)."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sides = {c: [box_side(b) for im in ds.images for b in im.boxes if b.label == c] for c in ds.classes}
    largest = max((max(v) for v in sides.values() if v), default=1.0)
    edges = [2 ** (k / 4) for k in range(0, int(4 * math.log2(max(largest, 2))) + 2)]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    data = [v for v in sides.values()]
    if any(data):
        ax.hist(data, bins=edges, stacked=True, label=[f"{c} ({len(v)})" for c, v in sides.items()])
        ax.legend()
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())  # 16, 32 … rather than 2^4, 2^5
    ax.set_xlabel("box size: sqrt(width x height), px")
    ax.set_ylabel("boxes")
    ax.set_title(f"Box sizes: {sum(len(v) for v in data)} boxes in {len(ds)} images")
    ax.axvline(32, color="grey", linestyle="--", linewidth=1)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def render_stats(stats: dict) -> str:
    lines = [f"images: {stats['images']} ({stats['images_without_boxes']} without boxes, "
             f"{stats['distinct_image_sizes']} distinct sizes)",
             f"boxes: {stats['boxes']} (mean {stats['boxes_per_image']['mean']} per image, "
             f"max {stats['boxes_per_image']['max']})", "", f"{'CLASS':24} {'BOXES':>7} {'IMAGES':>7}"]
    for c, n in stats["boxes_per_class"].items():
        lines.append(f"{c:24} {n:7} {stats['images_per_class'].get(c, 0):7}")
    size = stats["box_size_px"]
    lines += ["", f"box size px: min {size['min']}, median {size['median']}, mean {size['mean']}, max {size['max']}"]
    lines += [f"  {label:20} {n}" for label, n in stats["box_size_buckets"].items()]
    if stats.get("sources"):
        lines += ["", f"{'SOURCE':24} {'IMAGES':>7}  BOXES PER CLASS"]
        for name, part in stats["sources"].items():
            counts = ", ".join(f"{c} {n}" for c, n in part["boxes_per_class"].items())
            lines.append(f"{name:24} {part['images']:7}  {counts}")
    lines += ["", "most common image sizes: " + ", ".join(f"{s} ({n})" for s, n in stats["image_sizes"].items())]
    return "\n".join(lines)
