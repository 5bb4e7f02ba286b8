"""``eval --operating-points``: the gate's mask threshold, chosen on labelled data.

The gate admits a face only when it is ``with_mask`` scoring at least ``mask.with_mask``
(``gate/decision.py``). For every labelled face at least ``mask.min_face_px`` wide (narrower ones the
gate ignores as passers-by), this finds what the gate would see there, with the gate's own rules
(``persons_at_gate``: detections under ``mask.min_face_score`` dropped, one label per face) and the
gate's detector settings, matched at IoU >= 0.5; then, for each threshold t:

- false-admit rate: share of ``without_mask`` and ``mask_weared_incorrect`` faces the gate would admit;
- false-refuse rate: share of ``with_mask`` faces it would not admit (a face it does not see counts:
  the visitor is refused too).

The recommended threshold is the lowest t whose false-admit rate is at most ``max_false_admit``: it
refuses the fewest correctly masked visitors among the thresholds safe enough. Each rate comes with
its 95 % Wilson interval, since a rate measured on few faces is uncertain::

    from dabai.gate.operating import operating_points
    points = operating_points(None, "data/face-mask/test", max_false_admit=0.01)
    print(points.recommended, points.at(points.recommended))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dabai.core.boxes import box_iou_matrix
from dabai.core.errors import DataError
from dabai.data.dataset import Dataset
from dabai.gate.config import MaskRules
from dabai.gate.decision import mask_reason, persons_at_gate
from dabai.runtime.types import Detection

OK = "with_mask"  # the one class the gate admits
MATCH_IOU = 0.5
THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)


@dataclass(frozen=True)
class FaceOutcome:
    """A labelled face and the face the gate would see there (None: it sees none)."""

    label: str
    seen: Detection | None


def gate_faces(dataset: Dataset, detections: dict[str, list[Detection]], rules: MaskRules) -> tuple[list[FaceOutcome], int]:
    """(outcome of every labelled face at least ``rules.min_face_px`` wide, count of narrower faces skipped)."""
    every_face = replace(rules, close_ratio=0.0)  # each face on its own, not just the largest and its neighbours
    outcomes, skipped = [], 0
    for im in dataset.images:
        boxes = [b for b in im.boxes if b.width >= rules.min_face_px]
        skipped += len(im.boxes) - len(boxes)
        seen = sorted(persons_at_gate(detections.get(im.name, []), every_face), key=lambda f: -f.score)
        taken: dict[int, Detection] = {}
        if boxes and seen:
            ious = box_iou_matrix(np.array([f.bbox for f in seen], dtype=np.float64),
                           np.array([b.as_list() for b in boxes], dtype=np.float64))
            for k, face in enumerate(seen):  # best score first, each labelled face at most once
                for j in np.argsort(-ious[k]):
                    if ious[k, j] < MATCH_IOU:
                        break
                    if int(j) not in taken:
                        taken[int(j)] = face
                        break
        outcomes += [FaceOutcome(b.label, taken.get(j)) for j, b in enumerate(boxes)]
    return outcomes, skipped


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a rate k / n ((0, 1) when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class OperatingPoints:
    thresholds: np.ndarray
    false_admit: np.ndarray  # per threshold
    false_refuse: np.ndarray
    admitted_not_ok: np.ndarray  # counts behind the rates
    refused_ok: np.ndarray
    faces_ok: int  # labelled with_mask faces
    faces_not_ok: dict[str, int]  # labelled faces the gate must refuse, by class
    false_admit_by_class: dict[str, np.ndarray]
    unseen_ok: int  # with_mask faces the gate does not see at all (refused at every threshold)
    skipped_small: int
    rules: MaskRules
    max_false_admit: float
    recommended: float | None = None
    model: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def n_not_ok(self) -> int:
        return sum(self.faces_not_ok.values())

    def index(self, threshold: float) -> int:
        return int(np.argmin(np.abs(self.thresholds - threshold)))

    def at(self, threshold: float) -> dict:
        """Rates and counts at ``threshold`` (the nearest one swept), with 95 % intervals."""
        i = self.index(threshold)
        fa, fr = int(self.admitted_not_ok[i]), int(self.refused_ok[i])
        return {"threshold": float(self.thresholds[i]),
                "false_admit": float(self.false_admit[i]), "false_admit_95": list(wilson(fa, self.n_not_ok)),
                "false_refuse": float(self.false_refuse[i]), "false_refuse_95": list(wilson(fr, self.faces_ok)),
                "admitted_not_ok": fa, "refused_ok": fr,
                "false_admit_by_class": {c: float(v[i]) for c, v in self.false_admit_by_class.items()}}

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "rules": {"min_face_score": self.rules.min_face_score, "min_face_px": self.rules.min_face_px,
                      "current_with_mask": self.rules.with_mask},
            "faces": {"with_mask": self.faces_ok, **self.faces_not_ok, "unseen_with_mask": self.unseen_ok,
                      "skipped_narrower_than_min_face_px": self.skipped_small},
            "max_false_admit": self.max_false_admit,
            "recommended": self.recommended,
            "at_recommended": self.at(self.recommended) if self.recommended is not None else None,
            "at_current": self.at(self.rules.with_mask),
            "curve": [{"threshold": float(t), "false_admit": round(float(a), 6), "false_refuse": round(float(r), 6)}
                      for t, a, r in zip(self.thresholds, self.false_admit, self.false_refuse)],
        }


def sweep(outcomes: list[FaceOutcome], rules: MaskRules, max_false_admit: float = 0.01,
          thresholds: np.ndarray = THRESHOLDS, skipped_small: int = 0) -> OperatingPoints:
    """The rates at each threshold (the gate's ``mask_reason`` with ``with_mask`` = t), and the recommendation."""
    if not 0.0 <= max_false_admit <= 1.0:
        raise DataError(f"max false-admit rate {max_false_admit}: expected a rate from 0 to 1, e.g. 0.01")
    labels = np.array([o.label for o in outcomes])
    at = [replace(rules, with_mask=float(t)) for t in thresholds]
    admitted = np.array([[o.seen is not None and mask_reason(o.seen, r) is None for r in at] for o in outcomes],
                        dtype=bool).reshape(len(outcomes), len(thresholds))
    ok = labels == OK
    not_ok_classes = sorted(set(labels[~ok]))
    if not ok.any() or not not_ok_classes:
        raise DataError(f"the data needs labelled faces of both kinds to choose a threshold: {int(ok.sum())} "
                        f"with_mask and {int((~ok).sum())} without or incorrectly worn masks "
                        f"(faces at least {rules.min_face_px} px wide)")
    admitted_not_ok = admitted[~ok].sum(axis=0)
    refused_ok = (~admitted[ok]).sum(axis=0)
    points = OperatingPoints(
        thresholds=np.asarray(thresholds, dtype=np.float64),
        false_admit=admitted_not_ok / (~ok).sum(), false_refuse=refused_ok / ok.sum(),
        admitted_not_ok=admitted_not_ok, refused_ok=refused_ok, faces_ok=int(ok.sum()),
        faces_not_ok={c: int((labels == c).sum()) for c in not_ok_classes},
        false_admit_by_class={c: admitted[labels == c].mean(axis=0) for c in not_ok_classes},
        unseen_ok=sum(o.seen is None for o in outcomes if o.label == OK), skipped_small=skipped_small,
        rules=rules, max_false_admit=max_false_admit)
    safe = np.nonzero(points.false_admit <= max_false_admit)[0]
    points.recommended = float(points.thresholds[safe[0]]) if safe.size else None
    return points


def operating_points(model, data, data_format: str | None = None, rules: MaskRules | None = None,
                     max_false_admit: float = 0.01, batch_size: int = 8, progress: bool = True,
                     detections_file: str | Path | None = None, model_ref=None, workers: int = 1,
                     cache: bool = True) -> OperatingPoints:
    """Run ``model`` (a path, a Detector, or None: the shipped checker) as the gate runs it on ``data`` and
    sweep the mask threshold; ``rules``: the gate config's ``mask`` section (default: the defaults).
    ``detections_file``: the detections ``eval --save-detections`` saved for that model (``model_ref``: its
    file, default ``model``), used instead of running it (those under the gate's score threshold dropped).
    ``workers``, ``cache``: see ``eval.api.model_detections``."""
    from dabai.data.classnames import check_classes
    from dabai.eval.api import _where, model_detections, read_eval_data
    from dabai.runtime.detector import Detector

    rules = rules or MaskRules()
    # the gate's settings (gate/check.py): no second look at crowds
    detector = model if isinstance(model, Detector) else Detector.load(model, second_look=False)
    dataset = read_eval_data(data, data_format)
    check_classes(dataset.labels_used(), detector.classes, _where(data), "model")
    if OK not in detector.classes:
        raise DataError(f"the model has no {OK!r} class (classes {detector.classes}): the gate admits only {OK}")
    detections = model_detections(detector, dataset, _where(data), batch_size, progress, detections_file, None,
                                  model if model_ref is None else model_ref, workers, cache)
    outcomes, skipped = gate_faces(dataset, detections, rules)
    points = sweep(outcomes, rules, max_false_admit, skipped_small=skipped)
    points.model = str(model) if isinstance(model, (str, Path)) else "the shipped model" if model is None else "the model"
    return points
