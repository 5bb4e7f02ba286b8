"""Compositions of the toolkit's stages, above them all: ``train`` then ``export``.

The trainer only trains (:func:`dabai.train.api.train`) and the exporter only exports
(:mod:`dabai.export`); neither imports the other. ``dabai train`` and ``dabai.train(...)`` run
:func:`train` here: the run, then, when the spec asks for it (``export_onnx``, the default), the
selected checkpoint exported as ``<run>/<select>.onnx`` and named in ``summary.json`` under ``onnx``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("dabai.train")


def train(spec=None, resume: str | Path | None = None, overrides: dict | None = None) -> Path:
    """Train a detector (see :func:`dabai.train.api.train`), then export the selected checkpoint to ONNX;
    returns the run directory. Under torchrun only rank 0 exports."""
    from dabai.train.api import train as train_only
    from dabai.train.distributed import is_main_process

    run_dir = Path(train_only(spec, resume, overrides))
    if is_main_process():
        export_run(run_dir)
    return run_dir


def export_run(run_dir: str | Path) -> Path | None:
    """Export a finished run's selected checkpoint to ``<run>/<select>.onnx`` as its spec asks
    (``export_onnx``, ``export_input_size``) and record it in ``summary.json``; None when the spec says not to."""
    from dabai.core.config import from_dict, load_yaml
    from dabai.export.onnx import export_checkpoint
    from dabai.train.spec import TrainSpec

    run_dir = Path(run_dir)
    spec = from_dict(TrainSpec, load_yaml(run_dir / "spec.yaml"))
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text())
    chosen = Path(summary["checkpoint"])
    if not spec.export_onnx or not chosen.exists():
        return None
    onnx = run_dir / f"{spec.select}.onnx"
    export_checkpoint(chosen, onnx, input_size=spec.export_input_size)
    summary["onnx"] = str(onnx)
    summary_path.write_text(json.dumps(summary, indent=2))
    log.info("exported %s", onnx)
    return onnx
