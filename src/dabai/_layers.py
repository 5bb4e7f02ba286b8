"""The import rule of Dabai, written once: which part of the package may import which.

A *part* is a sub-package of ``dabai`` (``dabai.runtime``) or a top-level module (``dabai.doctor``);
the package root counts as ``core`` (it imports only ``dabai.core.lazy``; a name it exports lazily,
``from dabai import Detector``, counts as an import of the module that defines it). A part may import
itself and the parts listed for it in ``MAY_IMPORT``, nothing else. Every import counts: at the top of a
module, lazy ones inside functions, and ``importlib.import_module("dabai....")`` with a literal name.

``tests/test_architecture.py`` reads every import of ``src/dabai`` with ``ast`` and fails on an arrow
this table does not allow; it also checks that the table has no cycle (so no two parts import each
other, even through others) and that no part reaches a part ``NEVER`` forbids it, even indirectly.
``docs/architecture.md`` draws the layout. Nothing here is imported at run time.
"""

from __future__ import annotations

# part -> the parts it may import (besides itself). Bottom first: a part lists only parts that come before it.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset(),  # errors, config, images, boxes, home, lazy exports: uses nothing of Dabai
    "_layers": frozenset(),  # this table
    "data": frozenset({"core"}),
    "audio": frozenset({"core"}),
    "models": frozenset({"core"}),  # the networks and their checkpoints
    "runtime": frozenset({"core", "models"}),  # inference: ONNX Runtime, PyTorch and TensorRT backends
    "eval": frozenset({"core", "data", "models", "runtime"}),  # models: a model file's sha256 (saved detections)
    "bench": frozenset({"core", "runtime"}),
    "speech": frozenset({"core", "audio", "bench"}),
    "export": frozenset({"core", "data", "models", "runtime", "eval", "bench"}),
    "train": frozenset({"core", "data", "models", "runtime", "eval"}),
    "gate": frozenset({"core", "audio", "data", "runtime", "eval", "bench", "speech"}),  # eval: operating points
    "serve": frozenset({"core", "runtime"}),
    "loop": frozenset({"core", "data", "runtime", "gate"}),  # mine and label: inference only, never training
    "pipeline": frozenset({"core", "train", "export"}),  # compositions: train, then export
    "doctor": frozenset({"core", "runtime", "speech", "gate"}),  # runtime: the shipped checkers' files
    "cli": frozenset({"core", "data", "audio", "models", "runtime", "eval", "bench", "speech", "export", "train",
                      "gate", "serve", "loop", "pipeline", "doctor"}),
    "__main__": frozenset({"cli"}),
}

# Arrows that must never appear, not even through other parts: what MAY_IMPORT has to keep true.
INFERENCE = ("runtime", "serve", "gate", "speech", "bench", "loop")  # what runs at the gate or behind the API
NEVER: dict[str, frozenset[str]] = {
    **{part: frozenset({"train", "export", "pipeline"}) for part in INFERENCE},  # inference never loads training
    "data": frozenset({"models", "runtime"}),  # the dataset tools need no model
    "export": frozenset({"train"}),  # exporting reads checkpoints (models), never the trainer
    "train": frozenset({"export"}),  # the trainer does not export; pipeline composes the two
    "core": frozenset(MAY_IMPORT) - {"core"},  # the bottom layer uses nothing above it
}
