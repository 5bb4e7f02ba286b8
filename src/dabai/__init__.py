"""Dabai (大白): an offline-first AI gatekeeper and the toolkit that trains and ships its models.

The public API is imported lazily so that ``import dabai`` stays cheap and never
pulls in torch::

    from dabai import Detector
    det = Detector.load()            # the shipped default mask detector (ONNX)
    detections = det("visitor.jpg")  # list of Detection(bbox, score, label)
"""

from __future__ import annotations

from dabai.core.lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "Dataset": "dabai.data.dataset",
    "ImageRecord": "dabai.data.dataset",
    "Box": "dabai.data.dataset",
    "read_dataset": "dabai.data.formats",
    "write_dataset": "dabai.data.formats",
    "Detector": "dabai.runtime.detector",
    "Detection": "dabai.runtime.types",
    "train": "dabai.pipeline",
    "train_classifier": "dabai.train.classifier",
    "train_finder": "dabai.train.finder",
    "evaluate": "dabai.eval.api",
    "compare_models": "dabai.eval.api",
    "diagnose": "dabai.eval.api",
    "mine": "dabai.loop.mine",
    "label": "dabai.loop.label",
    "GateChecker": "dabai.gate.check",
    "open_gate": "dabai.gate.context",
    "synthesize": "dabai.speech.tts",
    "transcribe": "dabai.speech.asr",
    "ReplyCache": "dabai.speech.cache",
}

__getattr__, __all__ = lazy_exports("dabai", _LAZY)
__all__ = __all__ + ["__version__"]
