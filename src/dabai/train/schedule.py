"""Learning-rate schedule: linear soft start, then cosine/linear annealing (TAO's soft_start/annealing)."""

from __future__ import annotations

import math

from torch.optim.lr_scheduler import LambdaLR

from dabai.train.spec import ScheduleSpec


def lr_factor(step: int, total_steps: int, warmup_steps: int, spec: ScheduleSpec) -> float:
    if warmup_steps > 0 and step < warmup_steps:
        return spec.warmup_ratio + (1 - spec.warmup_ratio) * step / warmup_steps
    if spec.annealing == "none":
        return 1.0
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    if spec.annealing == "cosine":
        decay = 0.5 * (1 + math.cos(math.pi * progress))
    else:
        decay = 1 - progress
    return spec.min_lr_ratio + (1 - spec.min_lr_ratio) * decay


def build_scheduler(optimizer, spec: ScheduleSpec, steps_per_epoch: int, epochs: int) -> LambdaLR:
    total = steps_per_epoch * epochs
    warmup = int(round(spec.warmup_epochs * steps_per_epoch))
    return LambdaLR(optimizer, lambda step: lr_factor(step, total, warmup, spec))
