"""Result types of the detector runtime (shared by predict, serve, bench and the gate)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Detection:
    """One detected face: box in source-image pixels, confidence and class name."""

    bbox: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float
    label: str

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.bbox
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)

    def iou(self, other: Detection) -> float:
        return box_iou(self.bbox, other.bbox)

    def to_json(self, image: str | None = None) -> dict:
        out = {"bbox": [round(float(v), 2) for v in self.bbox], "score": round(float(self.score), 5), "label": self.label}
        if image is not None:
            out = {"image": image, **out}
        return out

    def as_dict(self) -> dict:
        return asdict(self)


def box_iou(a, b) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes (0 for empty ones)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
