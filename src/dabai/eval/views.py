"""Three ways to score one set of detections, per source and pooled.

- ``3class``: the model's own classes (``with_mask``, ``without_mask``, ``mask_weared_incorrect``);
- ``mask_ok``: what the gate decides, ``mask_ok`` (a correctly worn mask) against ``not_ok`` (no mask or
  a badly worn one), labels of ground truth and detections renamed alike;
- ``faces``: every box is a ``face`` (class-agnostic): did the model find the faces at all?

Detections are renamed, never re-suppressed, exactly as an independent COCO evaluator would score a
``dabai predict --json --conf 0`` file after mapping its labels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dabai.data.dataset import Dataset
from dabai.eval.coco import EvalResult, coco_evaluate_parts
from dabai.runtime.types import Detection

# Which gate outcome each class stands for (a class not listed keeps its name).
GATE_MAP = {"with_mask": "mask_ok", "without_mask": "not_ok", "mask_weared_incorrect": "not_ok"}
VIEWS = ("3class", "mask_ok", "faces")
POOLED = "pooled"


def view_mapping(view: str, classes: list[str]) -> dict[str, str]:
    if view == "3class":
        return {c: c for c in classes}
    if view == "mask_ok":
        return {c: GATE_MAP.get(c, c) for c in classes}
    if view == "faces":
        return {c: "face" for c in classes}
    raise ValueError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")


def score_view(dataset: Dataset, detections: dict[str, list[Detection]], classes: list[str], view: str) -> EvalResult:
    return score_view_parts(dataset, detections, classes, view, {POOLED: [im.name for im in dataset.images]})[POOLED]


def score_view_parts(dataset: Dataset, detections: dict[str, list[Detection]], classes: list[str], view: str,
                     parts: dict[str, list[str]]) -> dict[str, EvalResult]:
    """``score_view`` of each part (image names of ``dataset``, in its order), from one COCO evaluation."""
    mapping = view_mapping(view, classes)
    mapped_classes = list(dict.fromkeys(mapping.values()))
    images = [replace(im, boxes=[replace(b, label=mapping.get(b.label, b.label)) for b in im.boxes])
              for im in dataset.images]
    dets = {name: [Detection(d.bbox, d.score, mapping[d.label]) for d in found] for name, found in detections.items()}
    return coco_evaluate_parts(Dataset(images=images, classes=mapped_classes), dets, mapped_classes, parts)


@dataclass
class SourceTable:
    """EvalResult by source (and ``pooled``) and by view."""

    results: dict[str, dict[str, EvalResult]]
    images: dict[str, int]
    class_counts: dict[str, dict[str, int]]  # ground-truth boxes per class, by source

    def to_json(self) -> dict:
        return {source: {"images": self.images[source], "boxes": self.class_counts[source],
                         **{v: r.to_json() for v, r in views.items()}}
                for source, views in self.results.items()}

    def render(self, rare: str = "mask_weared_incorrect") -> str:
        name_w = max(24, *(len(s) + 2 for s in self.results))  # whole names: a source's, the rare class's
        rare_w = max(9, len(rare) + 2)
        head = (f"{'source':{name_w}s}{'images':>7s}{'3-class':>9s}{rare:>{rare_w}s}{'mask_ok/not_ok':>16s}"
                f"{'faces found':>13s}   (mAP@0.5)")
        lines = [head]
        for source, views in self.results.items():
            # a source without a box of the rare class has no AP for it (not 0)
            rare_ap = f"{views['3class'].ap50[rare]:.4f}" if self.class_counts[source].get(rare) else "-"
            lines.append(f"{source:{name_w}s}{self.images[source]:7d}{views['3class'].map50:9.4f}{rare_ap:>{rare_w}s}"
                         f"{views['mask_ok'].map50:16.4f}{views['faces'].map50:13.4f}")
        return "\n".join(lines)


def score_by_source(dataset: Dataset, detections: dict[str, list[Detection]], classes: list[str]) -> SourceTable:
    """Every view for each source of ``dataset`` (``ImageRecord.source``) and for all of it pooled (one COCO
    evaluation a view: ``coco_evaluate_parts``)."""
    from dabai.data.sources import by_source

    parts = by_source(dataset)
    if len(parts) > 1:
        parts[POOLED] = dataset
    else:
        parts = {POOLED: dataset}
    names = {name: [im.name for im in part.images] for name, part in parts.items()}
    found = {im.name: detections.get(im.name, []) for im in dataset.images}
    per_view = {view: score_view_parts(dataset, found, classes, view, names) for view in VIEWS}
    results = {name: {view: per_view[view][name] for view in VIEWS} for name in parts}
    return SourceTable(results, {name: len(part) for name, part in parts.items()},
                       {name: part.class_counts() for name, part in parts.items()})
