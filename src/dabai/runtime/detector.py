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

from dabai.core.images import load_image_rgb
from dabai.runtime.backends import DEFAULT_MODEL, open_backend, resolve_model, shipped_model_path
from dabai.runtime.postprocess import PostprocessOptions, postprocess
from dabai.runtime.preprocess import Letterbox, letterbox, to_tensor_layout
from dabai.runtime.types import Detection


def default_model_path() -> Path:
    """The file of the shipped default model (``DEFAULT_MODEL``: the INT8 mask checker)."""
    return shipped_model_path(DEFAULT_MODEL)


class Detector:
    """Detector (stage 1) and, for a mask checker, the face-crop classifier that re-judges each face
    (stage 2, ``runtime/checker.py``); both stages run inside ``detect_batch_with``."""

    def __init__(self, backend, options: PostprocessOptions = PostprocessOptions(), checker=None):
        self.backend = backend
        self.classes = list(backend.info.classes)
        self.input_size = backend.info.input_size
        self.options = options
        self.checker = checker  # a runtime.checker.Checker, or None for a detector alone

    @classmethod
    def load(cls, path: str | Path | None = None, threads: int | None = None, conf: float = 0.3,
             iou: float = 0.5, max_detections: int = 100, second_look: bool = True) -> Detector:
        """Load a model: a checker manifest (.json, detector + crop classifier), an .onnx detector or a
        dabai .pt checkpoint, or a shipped name (fp32, int8); the shipped default (int8) when ``path`` is None.

        ``second_look=False`` turns off a checker's tiled second pass over crowded frames
        (``runtime/tiles.py``) whatever its manifest says: for a caller that only wants faces large enough
        to matter (the gate ignores passers-by under ``mask.min_face_px``) and not the latency of finding
        small ones."""
        from dabai.runtime.checker import is_manifest, load_checker

        options = PostprocessOptions(conf=conf, iou=iou, max_detections=max_detections)
        path = resolve_model(path or default_model_path())
        if is_manifest(path):
            backend, checker = load_checker(path, threads)
            if not second_look:
                checker = checker.with_options(tiles=1)
            return cls(backend, options, checker)
        return cls(open_backend(path, threads), options)

    @property
    def second_look(self) -> bool:
        """Whether a crowded frame gets the checker's tiled second pass (``runtime/tiles.py``)."""
        return self.checker is not None and self.checker.options.tiles > 1

    def with_options(self, **changes) -> Detector:
        return Detector(self.backend, replace(self.options, **changes), self.checker)

    def release_memory(self) -> None:
        """Give back the memory inference keeps between calls (ONNX Runtime's arenas of both stages), e.g. when
        a server goes idle after a burst; the next call allocates afresh. A no-op for other backends."""
        for part in (self.backend, self.checker.classifier if self.checker is not None else None):
            release = getattr(part, "release_memory", None)
            if release is not None:
                release()

    def __call__(self, image) -> list[Detection]:
        """Detect faces in one image: a path, encoded bytes, or a BGR array (OpenCV's order)."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Iterable) -> list[list[Detection]]:
        return self.detect_batch_with(images, [self.options])[0]

    def detect_batch_with(self, images: Iterable, options: Sequence[PostprocessOptions]) -> list[list[list[Detection]]]:
        """One forward pass, post-processed once per option set (e.g. per-class and class-agnostic NMS):
        result[k][i] holds image i's detections under ``options[k]``."""
        canvases, boxes_info, sources = [], [], []
        for image in images:
            rgb = load_image_rgb(image)
            canvas, lb = letterbox(rgb, self.input_size)
            canvases.append(canvas)
            boxes_info.append(lb)
            sources.append(rgb if self.checker is not None else None)
        if not canvases:
            return [[] for _ in options]
        boxes, scores = self.backend(to_tensor_layout(canvases))
        if self.checker is not None:  # re-judged faces, in source pixels (and a second look at crowds)
            floor = min(o.conf for o in options)
            judged = []
            for i, rgb in enumerate(sources):
                faces, face_class_scores = self.checker.candidates(self.backend, rgb, boxes[i], scores[i], boxes_info[i],
                                                                   self.input_size)
                judged.append(self.checker.judge(rgb, faces, face_class_scores, floor))
            unit = [Letterbox(1.0, lb.src_width, lb.src_height) for lb in boxes_info]
            return [
                [postprocess(b, s, lb, self.classes, opts) for (b, s), lb in zip(judged, unit)]
                for opts in options
            ]
        return [
            [postprocess(boxes[i], scores[i], lb, self.classes, opts) for i, lb in enumerate(boxes_info)]
            for opts in options
        ]


def largest(detections: list[Detection]) -> Detection | None:
    return max(detections, key=lambda d: d.area, default=None)


def as_bgr(image_rgb: np.ndarray) -> np.ndarray:
    return image_rgb[..., ::-1].copy()
