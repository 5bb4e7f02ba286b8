"""``data audit``: labels a model confidently contradicts, listed for a person to check.

Two kinds of finding, from the face-by-face matching of ``eval.errors`` at score >= ``min_score``:

- ``mislabel``: a labelled face the model, scoring at least ``min_score``, calls another class, with its
  box overlapping the label at IoU >= ``min_iou`` (same face, other class: the label may be wrong);
- ``missing_box``: a detection scoring at least ``min_score`` that overlaps no labelled face by more
  than ``missing_iou`` (a face nobody labelled, or a confident false alarm).

Most confident first. Nothing is changed: a person looks at ``audit.png`` / ``audit.csv`` and fixes
the labels (e.g. in labelImg)::

    from dabai.eval.audit import audit_dataset, write_audit
    result = audit_dataset(None, "data/face-mask")          # None: the shipped model
    csv_path, sheet = write_audit(result, "audit/")
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dabai.core.errors import DataError
from dabai.data.dataset import Dataset
from dabai.eval.errors import FaceError, dataset_errors
from dabai.runtime.types import Detection

FindingKind = Literal["mislabel", "missing_box"]


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    error: FaceError

    def to_row(self) -> dict:
        return {"finding": self.kind, **{k: v for k, v in self.error.to_row().items() if k != "kind"}}


@dataclass
class AuditResult:
    images: int
    boxes: int
    min_score: float
    findings: list[Finding] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {kind: sum(f.kind == kind for f in self.findings) for kind in ("mislabel", "missing_box")}

    def to_json(self) -> dict:
        return {"images": self.images, "boxes": self.boxes, "min_score": self.min_score, **self.counts(),
                "findings": [f.to_row() for f in self.findings]}


def audit_detections(dataset: Dataset, detections: dict[str, list[Detection]], min_score: float = 0.7,
                     min_iou: float = 0.6, missing_iou: float = 0.2) -> AuditResult:
    """The findings (see the module's docstring) of ``detections`` on ``dataset``, most confident first."""
    _check_thresholds(min_score, min_iou, missing_iou)
    findings = []
    for e in dataset_errors(dataset, detections, min_score):
        if e.kind == "confused" and e.iou >= min_iou:
            findings.append(Finding("mislabel", e))
        elif e.kind == "false_positive" and e.iou <= missing_iou:
            findings.append(Finding("missing_box", e))
    findings.sort(key=lambda f: -f.error.score)
    return AuditResult(len(dataset), dataset.num_boxes, min_score, findings)


def _check_thresholds(min_score: float, min_iou: float, missing_iou: float) -> None:
    for name, value in (("min_score", min_score), ("min_iou", min_iou), ("missing_iou", missing_iou)):
        if not 0.0 <= value <= 1.0:
            raise DataError(f"{name} {value}: expected a number from 0 to 1")


def audit_dataset(model, data, data_format: str | None = None, min_score: float = 0.7, min_iou: float = 0.6,
                  missing_iou: float = 0.2, batch_size: int = 8, progress: bool = True,
                  detections_file: str | Path | None = None, model_ref=None, workers: int = 1,
                  cache: bool = True) -> AuditResult:
    """Run ``model`` (a path, a Detector, or None for the shipped one) on ``data`` and audit its labels;
    with ``detections_file``, use the detections ``eval --save-detections`` saved for that model
    (``model_ref``: its file, default ``model``) instead. Findings need detections scoring >= ``min_score``
    only, so the model makes no lower ones (the score floor is ``min_score``; the checker does not judge
    fainter faces). ``workers``, ``cache``: see ``eval.api.model_detections``."""
    from dabai.eval.api import _scoring_detector, _where, model_detections, read_eval_data

    _check_thresholds(min_score, min_iou, missing_iou)
    detector = _scoring_detector(model, min(min_score, 0.99))  # a floor below 1: at 1 nothing could be found
    dataset = read_eval_data(data, data_format)
    detections = model_detections(detector, dataset, _where(data), batch_size, progress, detections_file, None,
                                  model if model_ref is None else model_ref, workers, cache)
    return audit_detections(dataset, detections, min_score, min_iou, missing_iou)


def write_audit(result: AuditResult, out: str | Path, limit: int = 48, cols: int = 6) -> tuple[Path, Path]:
    """``out/audit.csv`` (every finding) and ``out/audit.png`` (the ``limit`` most confident, one face per tile)."""
    from dabai.data.sheet import write_sheet
    from dabai.eval.gallery import ERROR_CAPTION_LINES, error_tile

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = out / "audit.csv"
    with table.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["finding", *(k for k in FaceError.ROW_FIELDS if k != "kind")])
        writer.writeheader()
        writer.writerows(x.to_row() for x in result.findings)
    shown = result.findings[:limit]
    counts = result.counts()
    title = (f"{len(shown)} most confident of {counts['mislabel']} likely mislabels and {counts['missing_box']} "
             f"likely missing boxes (score >= {result.min_score}; white: label, colour: model)")
    sheet = write_sheet([error_tile(x.error) for x in shown], out / "audit.png", cols, 320, title, ERROR_CAPTION_LINES)
    return table, sheet
