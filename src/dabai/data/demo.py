"""The data demo: a generated sample taken through convert, check, stats and split.

It needs no downloaded data, so a fresh install can show the data tools work
end to end in a few seconds. Returns the summary lines it printed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from dabai.core.errors import DataError
from dabai.data.check import check_dataset
from dabai.data.formats import read_dataset, write_dataset
from dabai.data.imageio import prepare_output_dir
from dabai.data.split import split_dataset, write_split
from dabai.data.stats import HISTOGRAM_NAME, dataset_stats, save_box_size_histogram
from dabai.data.synth import SAMPLE_CLASSES, make_sample_dataset

CHAIN = ("coco", "yolo", "kitti", "voc")
# A couple of look-alike images so check has something to find and split something to keep together.
NEAR_DUPLICATES = 2


def run_data_demo(out: str | Path | None = None, n_images: int = 48, seed: int = 0,
                  say: Callable[[str], None] = print) -> Path:
    """Run the demo in ``out`` (new or empty; a temporary folder when None) and return that folder."""
    out = Path(tempfile.mkdtemp(prefix="dabai-data-demo-")) if out is None else prepare_output_dir(Path(out))
    sample = out / "sample-voc"
    ds = make_sample_dataset(sample, n_images=n_images, seed=seed, near_duplicates=NEAR_DUPLICATES)
    say(f"1. sample: {len(ds)} images ({NEAR_DUPLICATES} near-duplicate copies among them), {ds.num_boxes} boxes "
        f"of {', '.join(SAMPLE_CLASSES)} -> {sample}")

    current, source = sample, ds
    for fmt in CHAIN:
        target = out / "convert" / fmt
        write_dataset(read_dataset(current), target, fmt)
        current = target
    back = read_dataset(current)
    drift = _max_drift(source, back)
    say(f"2. convert voc -> {' -> '.join(CHAIN)}: {len(back)} images, {back.num_boxes} boxes back, "
        f"largest coordinate change {drift:.3f} px")
    if len(back) != len(source) or back.num_boxes != source.num_boxes:
        raise DataError("the conversion chain lost images or boxes", path=current)

    report = check_dataset(sample, classes=list(SAMPLE_CLASSES)).report
    kinds = sorted({f.code for f in report.findings})
    say(f"3. check: {len(report.errors)} errors, {len(report.warnings)} warnings ({', '.join(kinds) or 'none'})")

    stats = dataset_stats(ds)
    png = save_box_size_histogram(ds, out / "stats" / HISTOGRAM_NAME)
    say(f"4. stats: boxes per class {stats['boxes_per_class']}; histogram -> {png}")

    split = split_dataset(ds, val=0.15, test=0.15, seed=seed)
    write_split(split, out / "split", "voc")
    parts = ", ".join(f"{name} {len(part)}" for name, part in split.datasets.items())
    say(f"5. split (seed {seed}): {parts} images; {len(split.groups)} look-alike groups kept together; "
        f"every class in every split: {'yes' if not split.missing else 'no'}")
    say(f"done: everything is in {out}")
    return out


def _max_drift(a, b) -> float:
    by_name = {im.name: im for im in b.images}
    drift = 0.0
    for im in a.images:
        other = by_name.get(im.name)
        if other is None or len(other.boxes) != len(im.boxes):
            return float("inf")
        for x, y in zip(im.boxes, other.boxes):
            drift = max(drift, *(abs(p - q) for p, q in zip(x.as_list(), y.as_list())))
    return drift
