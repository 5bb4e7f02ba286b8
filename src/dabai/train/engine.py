"""The training loop: epochs of steps with a finite-loss guard, OOM back-off, AMP and checkpoints.

The CLI (``cli/train.py``) and the API (``train/api.py``) set things up; this
module only runs steps, validates and saves, the torchvision-references split.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from dabai.core.errors import DabaiError
from dabai.train.distill import DistillLoss, Teacher
from dabai.train.ema import ModelEMA
from dabai.train.loss import DetectionLoss

log = logging.getLogger("dabai.train")


class NonFiniteLossError(DabaiError):
    """The loss became NaN or infinite."""


@dataclass
class StepStats:
    loss: float = 0.0
    cls: float = 0.0
    box: float = 0.0
    distill: float | None = None  # summed only when a teacher is present
    steps: int = 0

    def add(self, out) -> None:
        self.loss += out.total.item()
        self.cls += float(out.cls)
        self.box += float(out.box)
        if out.distill is not None:
            self.distill = (self.distill or 0.0) + float(out.distill)
        self.steps += 1

    def means(self) -> dict:
        n = max(self.steps, 1)
        means = {"loss": self.loss / n, "loss_cls": self.cls / n, "loss_box": self.box / n}
        if self.distill is not None:
            means["loss_distill"] = self.distill / n
        return means


@dataclass
class Engine:
    model: torch.nn.Module  # possibly DDP-wrapped
    core: torch.nn.Module  # the bare detector (points, strides)
    criterion: DetectionLoss
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    device: torch.device
    amp: bool
    grad_clip: float
    micro_batches: int = 1  # >1 after an out-of-memory error: the batch is run in chunks
    is_main: bool = True
    channels_last: bool = False  # feed NHWC batches to a channels-last model
    teacher: Teacher | None = None  # distillation targets (train/distill.py); None trains on labels only
    distill_weight: float = 1.0
    distill_loss: DistillLoss = field(default_factory=DistillLoss)
    ema: ModelEMA | None = None  # averaged weights, updated after every optimiser step
    events: list = field(default_factory=list)

    def train_epoch(self, loader, epoch: int, epochs: int, on_step=None) -> dict:
        self.model.train()
        stats = StepStats()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", unit="batch", disable=not self.is_main, dynamic_ncols=True)
        for step, (images, targets) in enumerate(bar):
            out = self._step_with_oom_backoff(images, targets)
            if not math.isfinite(out.total.item()):
                raise NonFiniteLossError(
                    f"the loss became {out.total.item()} at epoch {epoch + 1}, step {step + 1} "
                    f"(learning rate {self.optimizer.param_groups[0]['lr']:.2e}). Lower optimizer.lr, raise "
                    f"schedule.warmup_epochs or optimizer.grad_clip, check the data with `dabai data check`, "
                    f"or rerun with --nan-retry to restore the last good checkpoint and halve the lr."
                )
            stats.add(out)
            bar.set_postfix(loss=f"{stats.loss / stats.steps:.3f}", lr=f"{self.optimizer.param_groups[0]['lr']:.1e}")
            if on_step is not None:
                on_step(step + 1)
        return stats.means()

    def _step_with_oom_backoff(self, images, targets):
        while True:
            try:
                return self._step(images, targets)
            except torch.OutOfMemoryError:
                if self.micro_batches >= images.shape[0]:
                    raise
                self.optimizer.zero_grad(set_to_none=True)
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                self.micro_batches *= 2
                msg = f"out of memory: running each batch in {self.micro_batches} chunks (batch per forward halved)"
                log.warning(msg)
                self.events.append(msg)

    def _step(self, images, targets):
        self.optimizer.zero_grad(set_to_none=True)
        chunks = torch.chunk(torch.arange(images.shape[0]), self.micro_batches)
        total = None
        for idx in chunks:
            batch = images[idx].to(self.device, non_blocking=True)
            if self.channels_last:
                batch = batch.contiguous(memory_format=torch.channels_last)
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
                logits, raw = self.model(batch)
            out = self.criterion(logits, raw, self.core._points, [targets[i] for i in idx.tolist()])
            if self.teacher is not None:
                self._add_distillation(out, batch, logits, raw)
            if not torch.isfinite(out.total):
                return out  # the caller stops (or retries) before any weight changes
            self.scaler.scale(out.total * len(idx) / images.shape[0]).backward()
            total = out if total is None else _merge(total, out, len(idx) / images.shape[0])
        if self.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update(self.core)
        return total

    def _add_distillation(self, out, batch, logits, raw) -> None:
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            t_logits, t_raw = self.teacher(batch)
        kd = self.distill_loss(logits, raw, t_logits, t_raw, self.core._points, out.num_pos)
        out.total = out.total + self.distill_weight * kd.total
        out.distill = kd.total.detach()


def _merge(a, b, weight):
    a.total = a.total + b.total * weight
    a.cls = a.cls + b.cls * weight
    a.box = a.box + b.box * weight
    if a.distill is not None:
        a.distill = a.distill + b.distill * weight
    a.num_pos += b.num_pos
    return a


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start
