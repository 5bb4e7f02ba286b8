"""``data split``: train/val/test splits that keep look-alikes together and every class everywhere.

Images are first grouped: exact and near-duplicates (perceptual hash) form one
group, so a test image can never have a twin in training. Groups are then
dealt out greedily, rarest class first: a group goes to the split that is
furthest below its share of that class, and a split that has none of it yet
takes precedence. So the rarest class lands in every split as soon as it
appears in at least as many groups as there are splits. The order among
equals is shuffled with the seed, so a seed always gives the same split.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path

from dabai.core.errors import DataError
from dabai.data.dataset import Dataset
from dabai.data.fingerprint import NEAR_DUPLICATE_DISTANCE, duplicate_groups, inspect_images
from dabai.data.formats import write_dataset
from dabai.data.imageio import prepare_output_dir

log = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "val", "test")
REPORT_NAME = "split_report.json"


@dataclass
class Split:
    fractions: dict[str, float]
    datasets: dict[str, Dataset]
    groups: list[list[str]] = field(default_factory=list)  # names of images kept together (2+ each)
    missing: dict[str, list[str]] = field(default_factory=dict)  # split -> classes it lacks

    def summary(self) -> dict:
        return {
            "fractions": self.fractions,
            "splits": {name: {"images": len(ds), "boxes": ds.num_boxes, "class_counts": ds.class_counts()}
                       for name, ds in self.datasets.items()},
            "kept_together": self.groups,
            "missing_classes": self.missing,
        }


def split_fractions(val: float, test: float) -> dict[str, float]:
    for name, value in (("val", val), ("test", test)):
        if not 0 <= value < 1:
            raise DataError(f"--{name} is {value}; expected a fraction from 0 to below 1")
    if val + test >= 1:
        raise DataError(f"--val {val} + --test {test} leave nothing for training; expected a sum below 1")
    return {"train": 1 - val - test, "val": val, "test": test}


def split_dataset(ds: Dataset, val: float = 0.15, test: float = 0.15, seed: int = 0,
                  max_distance: int = NEAR_DUPLICATE_DISTANCE) -> Split:
    fractions = split_fractions(val, test)
    split = _dealt(ds, {n: f for n, f in fractions.items() if f > 0}, seed, max_distance)
    totals = ds.class_counts()
    for name, part in split.datasets.items():
        lacking = [c for c, n in part.class_counts().items() if n == 0 and totals.get(c, 0) > 0]
        if lacking:
            split.missing[name] = lacking
            log.warning("warning: the %s split has no boxes of %s (too few images of it to go round)",
                        name, ", ".join(map(repr, lacking)))
    return split


def fold_dataset(ds: Dataset, folds: int, seed: int = 0, max_distance: int = NEAR_DUPLICATE_DISTANCE) -> Split:
    """K folds dealt like the splits (look-alikes together, the rarest class in every fold)."""
    if folds < 2:
        raise DataError(f"--folds is {folds}; expected 2 or more")
    if folds > len(ds):
        raise DataError(f"--folds {folds} is more than the {len(ds)} images; expected at most one fold per image")
    return _dealt(ds, {f"fold{k}": 1 / folds for k in range(folds)}, seed, max_distance)


def source_folds(ds: Dataset) -> Split:
    """Leave-one-source-out folds: fold ``<source>`` holds every image of that source (``write_folds`` puts
    the others in its train), the estimate of a camera the model never saw. Needs 2+ recorded sources."""
    from dabai.data.sources import by_source

    parts = by_source(ds)
    if "" in parts:
        raise DataError(f"{len(parts[''])} images record no source; --by-source needs a dataset written by "
                        "`dabai data merge` (sources.csv)")
    if len(parts) < 2:
        raise DataError(f"--by-source needs 2 or more sources; the dataset has {len(parts)}: {list(parts)}")
    return Split(fractions={name: len(p) / len(ds) for name, p in parts.items()}, datasets=parts)


def _dealt(ds: Dataset, fractions: dict[str, float], seed: int, max_distance: int) -> Split:
    """Group look-alikes, then deal the groups into the named parts (``_deal``)."""
    infos = inspect_images([im.path for im in ds.images])
    units = _units(len(ds), duplicate_groups(infos, max_distance))
    assigned = _deal(ds, units, list(fractions), fractions, random.Random(seed))
    datasets = {name: ds.subset(sorted(i for u in assigned[name] for i in u)) for name in fractions}
    return Split(fractions=dict(fractions), datasets=datasets,
                 groups=[[ds.images[i].name for i in sorted(u)] for u in units if len(u) > 1])


def write_folds(split: Split, out: str | Path, fmt: str, link: bool | str = False) -> Path:
    """``out/foldK/train`` (every other fold) and ``out/foldK/val`` (fold K), plus the report."""
    out = prepare_output_dir(Path(out))
    names = list(split.datasets)
    for name in names:
        held_out = split.datasets[name]
        rest = [im for other in names if other != name for im in split.datasets[other].images]
        write_dataset(Dataset(images=rest, classes=list(held_out.classes)), out / name / "train", fmt, link=link)
        write_dataset(held_out, out / name / "val", fmt, link=link)
    return _write_report(split, out)


def _units(count: int, groups: list[list[int]]) -> list[list[int]]:
    """Every image in exactly one unit: look-alike groups, then the rest one by one."""
    grouped = {i for g in groups for i in g}
    return [sorted(g) for g in groups] + [[i] for i in range(count) if i not in grouped]


def _deal(ds: Dataset, units, active, fractions, rng: random.Random) -> dict[str, list[list[int]]]:
    # Counted in images that contain a class, not boxes: one crowd photo with 40
    # faces must not count as 40 towards its split's share.
    unit_counts = []
    for unit in units:
        counts: dict[str, int] = {}
        for i in unit:
            for label in {box.label for box in ds.images[i].boxes}:
                counts[label] = counts.get(label, 0) + 1
        unit_counts.append(counts)
    totals: dict[str, int] = {}
    for counts in unit_counts:
        for c, n in counts.items():
            totals[c] = totals.get(c, 0) + n
    rarity = {c: rank for rank, c in enumerate(sorted(totals, key=lambda c: (totals[c], c)))}
    order = list(range(len(units)))
    rng.shuffle(order)
    # Rarest class first; units without boxes last (they only balance image counts).
    order.sort(key=lambda u: min((rarity[c] for c in unit_counts[u]), default=len(rarity)))
    have = {s: {c: 0 for c in totals} for s in active}
    images = {s: 0 for s in active}
    assigned: dict[str, list[list[int]]] = {s: [] for s in active}
    for u in order:
        counts = unit_counts[u]
        image_deficit = {s: fractions[s] * len(ds) - images[s] for s in active}
        if counts:
            label = min(counts, key=lambda c: rarity[c])
            pool = [s for s in active if have[s][label] == 0] or active
            target = max(pool, key=lambda s: (fractions[s] * totals[label] - have[s][label], image_deficit[s]))
        else:
            target = max(active, key=lambda s: image_deficit[s])
        assigned[target].append(units[u])
        images[target] += len(units[u])
        for c, n in counts.items():
            have[target][c] += n
    return assigned


def write_split(split: Split, out: str | Path, fmt: str, link: bool | str = False) -> Path:
    """``out/train``, ``out/val``, ``out/test`` in ``fmt``, plus ``split_report.json``."""
    out = prepare_output_dir(Path(out))
    for name, part in split.datasets.items():
        write_dataset(part, out / name, fmt, link=link)
    return _write_report(split, out)


def _write_report(split: Split, out: Path) -> Path:
    report = split.summary()
    report["images"] = {name: [im.name for im in part.images] for name, part in split.datasets.items()}
    (out / REPORT_NAME).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return out
