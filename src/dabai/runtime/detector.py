"""The one predictor path: pre-process -> backend -> post-process.

Used by ``dabai predict``, ``eval``, ``serve``, ``bench`` and the gate::

    from dabai import Detector
    det = Detector.load()                 # shipped default model
    for d in det("visitor.jpg"):
        print(d.label, d.score, d.bbox)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from dabai.runtime.backends import open_backend, shipped_model_path
from dabai.runtime.postprocess import PostprocessOptions, postprocess
from dabai.runtime.preprocess import letterbox, load_image_rgb, to_tensor_layout
from dabai.runtime.types import Detection


def default_model_path() -> Path:
    return shipped_model_path("fp32")


class Detector:
    def __init__(self, backend, options: PostprocessOptions = PostprocessOptions()):
        self.backend = backend
        self.classes = list(backend.info.classes)
        self.input_size = backend.info.input_size
        self.options = options

    @classmethod
    def load(cls, path: str | Path | None = None, threads: int | None = None, conf: float = 0.3,
             iou: float = 0.5, max_detections: int = 100) -> Detector:
        """Load a model file (.onnx or a dabai .pt checkpoint); the shipped default when ``path`` is None."""
        backend = open_backend(path or default_model_path(), threads)
        return cls(backend, PostprocessOptions(conf=conf, iou=iou, max_detections=max_detections))

    def with_options(self, **changes) -> Detector:
        return Detector(self.backend, replace(self.options, **changes))

    def __call__(self, image) -> list[Detection]:
        """Detect faces in one image: a path, encoded bytes, or a BGR array (OpenCV's order)."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Iterable) -> list[list[Detection]]:
        return self.detect_batch_with(images, [self.options])[0]

    def detect_batch_with(self, images: Iterable, options: Sequence[PostprocessOptions]) -> list[list[list[Detection]]]:
        """One forward pass, post-processed once per option set (e.g. per-class and class-agnostic NMS):
        result[k][i] holds image i's detections under ``options[k]``."""
        canvases, boxes_info = [], []
        for image in images:
            canvas, lb = letterbox(load_image_rgb(image), self.input_size)
            canvases.append(canvas)
            boxes_info.append(lb)
        if not canvases:
            return [[] for _ in options]
        boxes, scores = self.backend(to_tensor_layout(canvases))
        return [
            [postprocess(boxes[i], scores[i], lb, self.classes, opts) for i, lb in enumerate(boxes_info)]
            for opts in options
        ]


def largest(detections: list[Detection]) -> Detection | None:
    return max(detections, key=lambda d: d.area, default=None)


def as_bgr(image_rgb: np.ndarray) -> np.ndarray:
    return image_rgb[..., ::-1].copy()
