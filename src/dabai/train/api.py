"""``dabai.train``: set up a run (data, model, optimiser, run dir, resume, DDP) and drive the engine."""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

import numpy as np
import torch

from dabai.core.config import from_dict, load_yaml, save_yaml
from dabai.core.errors import ConfigError
from dabai.models.checkpoint import load_checkpoint
from dabai.train import distributed as dist
from dabai.train.spec import TrainSpec

log = logging.getLogger("dabai.train")

def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def new_run_dir(spec: TrainSpec) -> Path:
    name = spec.name or f"{spec.model.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir = Path(spec.output_dir) / name
    if (run_dir / "checkpoints" / "last.pt").exists():
        raise ConfigError(f"{run_dir} already holds a run; use --resume {run_dir} or choose another name")
    return run_dir


def train(spec: TrainSpec | None = None, resume: str | Path | None = None, overrides: dict | None = None) -> Path:
    """Train a detector; returns the run directory (checkpoints, metrics, summary.json). Training only: the
    ONNX of the selected checkpoint is :func:`dabai.pipeline.train`'s second step (what ``dabai train`` runs)."""
    from dabai.train.runner import Runner

    payload = None
    if resume is not None:
        run_dir = Path(resume)
        payload = load_checkpoint(run_dir / "checkpoints" / "last.pt")
        spec = from_dict(TrainSpec, load_yaml(run_dir / "spec.yaml"))
        log.info("resuming %s after epoch %d", run_dir, payload["epoch"] + 1)
    elif spec is None:
        raise ConfigError("train() needs a spec or a run directory to resume")
    else:
        run_dir = new_run_dir(spec)
    ctx = dist.setup()
    try:
        if ctx.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            save_yaml(spec, run_dir / "spec.yaml")
        seed_everything(spec.seed + ctx.rank)
        runner = Runner(spec, run_dir, ctx)
        if payload is not None:
            runner.restore(payload)
        runner.fit()
    finally:
        dist.cleanup(ctx)
    return run_dir
