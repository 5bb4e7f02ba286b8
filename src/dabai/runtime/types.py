"""Types of the detector runtime: a model's info and its detections (shared by predict, serve, bench and the gate)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from dabai.core.boxes import box_iou


@dataclass
class ModelInfo:
    """What a backend knows of its model: class names, square input side, name and extra metadata."""

    classes: list[str]
    input_size: int
    name: str = ""
    extra: dict = field(default_factory=dict)


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
