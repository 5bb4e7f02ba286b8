"""Dabai checkpoints: writing one atomically, reading one, and rebuilding its network.

A checkpoint is a dict saved with ``torch.save``: at least ``model`` (the state dict), ``model_name``,
``classes`` and ``input_size`` (a structurally pruned one carries its whole ``module``). Training adds
its resume states (optimiser, scheduler, RNG; see :mod:`dabai.train.checkpoint`). Everything that opens
a ``.pt`` (the PyTorch runtime backend, export, prune, distillation, training) reads it here, next to
the networks, so none of them needs the trainer.

Files are written to a temporary name and renamed, so a kill -9 mid-save never
leaves a truncated ``last.pt`` behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from dabai.core.errors import ModelError


def save_checkpoint(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - torch raises several unrelated types for a corrupt file
        raise ModelError(f"{path}: not a readable dabai checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or "model" not in payload or "model_name" not in payload:
        raise ModelError(f"{path}: not a dabai checkpoint (expected keys 'model' and 'model_name')")
    return payload


def model_from_checkpoint(payload: dict, input_size: int | None = None):
    """Rebuild the network of a checkpoint (a pruned one carries its whole module).

    ``input_size`` runs it at another square side than it was trained at (same weights).
    """
    from dabai.models.registry import create_model

    if payload.get("module") is not None:  # structurally pruned: the architecture itself changed
        model = payload["module"]
    else:
        model = create_model(payload["model_name"], len(payload["classes"]), payload["input_size"])
        model.load_state_dict(payload["model"])
    if input_size is not None:
        model.set_input_size(int(input_size))
    return model.eval()
