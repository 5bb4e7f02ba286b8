"""``dabai.train``: set up a run (data, model, optimiser, run dir, resume, DDP) and drive the engine."""

from __future__ import annotations

import csv
import logging
import random
import time
from pathlib import Path

import numpy as np
import torch

from dabai.core.config import from_dict, load_yaml, save_yaml
from dabai.core.errors import ConfigError
from dabai.train import distributed as dist
from dabai.train.checkpoint import load_checkpoint
from dabai.train.spec import TrainSpec

log = logging.getLogger("dabai.train")

METRIC_FIELDS = ["epoch", "lr", "loss", "loss_cls", "loss_box", "val_map50", "val_map50_95", "epoch_seconds"]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_classes(spec_classes: list[str], data_classes: list[str], where: str) -> None:
    """Every label in the data must be one of the spec's classes (TAO's silent mapping failure, made loud)."""
    unknown = [c for c in data_classes if c not in spec_classes]
    if unknown:
        hints = []
        for c in unknown:
            close = [s for s in spec_classes if s.lower().replace("-", "_") == c.lower().replace("-", "_")]
            if close:
                hints.append(f"'{c}' looks like '{close[0]}'")
        raise ConfigError(
            f"{where}: the data's classes {data_classes} do not match the spec's classes {spec_classes}: "
            f"{unknown} not in the spec" + (f" ({'; '.join(hints)})" if hints else "")
        )


def new_run_dir(spec: TrainSpec) -> Path:
    name = spec.name or f"{spec.model.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir = Path(spec.output_dir) / name
    if (run_dir / "checkpoints" / "last.pt").exists():
        raise ConfigError(f"{run_dir} already holds a run; use --resume {run_dir} or choose another name")
    return run_dir


def train(spec: TrainSpec | None = None, resume: str | Path | None = None, overrides: dict | None = None) -> Path:
    """Train a detector; returns the run directory (with best.pt, last.pt, the selected checkpoint as ONNX, metrics)."""
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


def append_metrics(path: Path, row: dict) -> None:
    """Append one epoch's row; a row with new columns rewrites the file under the widened header
    (epochs without validation have no per-class AP, and the header must still fit every row)."""
    rows = [] if not path.exists() else _read_rows(path)
    header = list(rows[0].keys()) if rows else list(METRIC_FIELDS)
    extra = sorted(k for k in row if k not in header)
    if rows and not extra:
        with open(path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=header).writerow(row)
        return
    header += extra
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows + [row])
    tmp.replace(path)


def _read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [{k: (float(v) if v not in ("", None) else None) for k, v in r.items()} for r in _read_rows(path)]

