"""One training run's state: data, model, optimiser, schedule; the epoch loop, validation and checkpoints."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import torch

from dabai.core.config import to_dict
from dabai.core.errors import ConfigError
from dabai.data.classnames import check_classes
from dabai.data.dataset import Dataset
from dabai.data.formats import read_dataset
from dabai.models.checkpoint import load_checkpoint, save_checkpoint
from dabai.models.registry import create_model
from dabai.runtime.backends import ModelInfo, TorchBackend
from dabai.runtime.detector import Detector
from dabai.train import distributed as dist
from dabai.train.checkpoint import rng_state, set_rng_state
from dabai.train.data import DetectionData, EpochSampler, collate, repeat_factors
from dabai.train.distill import load_teacher
from dabai.train.ema import ModelEMA
from dabai.train.engine import Engine, NonFiniteLossError
from dabai.train.loss import DetectionLoss
from dabai.train.metrics import append_metrics, read_metrics
from dabai.train.schedule import build_scheduler
from dabai.train.spec import TrainSpec

log = logging.getLogger("dabai.train")


class Runner:
    def __init__(self, spec: TrainSpec, run_dir: Path, ctx: dist.DistContext):
        self.spec, self.run_dir, self.ctx = spec, run_dir, ctx
        if spec.threads:
            torch.set_num_threads(spec.threads)
        self.device = self._device()
        self.train_set = self._read_train_set()
        self.val_set = read_dataset(spec.data.val, spec.data.format) if spec.data.val else None
        if self.val_set is not None:
            check_classes(self.val_set.classes, spec.classes, spec.data.val, "spec")
        self.pruned = False  # set by _build_model when model.init is a structurally pruned checkpoint
        self.model = self._build_model()
        self._initial_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self.data = DetectionData(self.train_set, spec.classes, spec.model.input_size, spec.augment, spec.seed)
        weights = repeat_factors(self.train_set, spec.balance.repeat_threshold) if spec.balance.method == "repeat" else None
        self.sampler = EpochSampler(len(self.data), weights, spec.seed, ctx.rank, ctx.world)
        self.steps_per_epoch = max(1, len(self.sampler) // spec.batch_size)
        self.engine = self._build_engine()
        self.start_epoch, self.best_map = 0, -1.0

    # ---- set-up -------------------------------------------------------------------------
    def _read_train_set(self) -> Dataset:
        return read_train_set(self.spec)

    def _device(self) -> torch.device:
        want = self.spec.device
        if want == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device: cuda was asked for but no CUDA GPU is available; use device: cpu or auto")
        if want == "auto":
            want = "cuda" if torch.cuda.is_available() else "cpu"
        if want == "cuda" and self.ctx.enabled:
            torch.cuda.set_device(self.ctx.local_rank)
            return torch.device("cuda", self.ctx.local_rank)
        return torch.device(want)

    def _build_model(self) -> torch.nn.Module:
        m = self.spec.model
        if m.init:
            payload = load_checkpoint(m.init)
            if payload.get("module") is not None:
                model = payload["module"]  # a pruned architecture travels as a whole module
                model.load_state_dict(payload["model"])
                self.pruned = True
            else:
                model = create_model(m.name, len(self.spec.classes), m.input_size)
                model.load_state_dict(payload["model"])
            if list(payload["classes"]) != list(self.spec.classes):
                raise ConfigError(f"model.init {m.init} was trained for classes {payload['classes']}, the spec has {self.spec.classes}")
        else:
            model = create_model(m.name, len(self.spec.classes), m.input_size, m.pretrained)
        if m.freeze:
            model.freeze_backbone(m.freeze)
        model = model.to(self.device)
        if self.spec.channels_last:
            model = model.to(memory_format=torch.channels_last)
        return model

    def _build_engine(self) -> Engine:
        spec, core = self.spec, self.model
        decay, no_decay = [], []
        for p in core.parameters():
            if not p.requires_grad:
                continue  # frozen backbone layers
            (no_decay if p.ndim <= 1 else decay).append(p)  # no weight decay on BN and biases
        groups = [{"params": decay, "weight_decay": spec.optimizer.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        o = spec.optimizer
        if o.name == "adamw":
            optimizer = torch.optim.AdamW(groups, lr=o.lr, betas=(o.momentum, 0.999))
        else:
            optimizer = torch.optim.SGD(groups, lr=o.lr, momentum=o.momentum, nesterov=True)
        scheduler = build_scheduler(optimizer, spec.schedule, self.steps_per_epoch, spec.epochs)
        amp = spec.amp and self.device.type == "cuda"
        scaler = torch.amp.GradScaler(self.device.type, enabled=amp)
        cw = spec.balance.class_weights
        class_weights = torch.tensor([cw.get(c, 1.0) for c in spec.classes]) if cw else None
        model = core
        if self.ctx.enabled:
            model = torch.nn.parallel.DistributedDataParallel(
                core, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        criterion = DetectionLoss(core.strides, core.input_size, len(spec.classes), class_weights=class_weights)
        teacher = None
        if spec.distill.teacher:
            teacher = load_teacher(spec.distill.teacher, spec.classes, core, self.device, spec.channels_last)
            log.info("distilling from %s (weight %g)", spec.distill.teacher, spec.distill.weight)
        ema = ModelEMA(core, spec.ema.decay, spec.ema.warmup_steps) if spec.ema.decay != 0 else None  # a bad value is an error
        return Engine(model, core, criterion, optimizer, scheduler, scaler, self.device, amp, o.grad_clip,
                      is_main=self.ctx.is_main, channels_last=spec.channels_last, teacher=teacher,
                      distill_weight=spec.distill.weight, ema=ema)

    @property
    def eval_model(self) -> torch.nn.Module:
        """The weights that are validated, saved as ``model`` and exported: the average when there is one."""
        return self.engine.ema.module if self.engine.ema is not None else self.model

    # ---- checkpoints --------------------------------------------------------------------
    def payload(self, epoch: int) -> dict:
        core, ema = self.eval_model, self.engine.ema
        return {
            # "model" is what eval/export/prune/--init read; with EMA the live weights ride along for --resume
            "model": core.state_dict(), "model_name": self.spec.model.name, "classes": list(self.spec.classes),
            "input_size": core.input_size, "module": core if self.pruned else None,
            "train_model": self.model.state_dict() if ema is not None else None,
            "ema_updates": ema.updates if ema is not None else None,
            "optimizer": self.engine.optimizer.state_dict(), "scheduler": self.engine.scheduler.state_dict(),
            "scaler": self.engine.scaler.state_dict(), "epoch": epoch, "best_map": self.best_map,
            "micro_batches": self.engine.micro_batches, "rng": rng_state(), "spec": to_dict(self.spec),
        }

    def restore(self, payload: dict) -> None:
        live = payload.get("train_model")
        self.model.load_state_dict(live if live is not None else payload["model"])
        if self.engine.ema is not None:
            # without "train_model" the checkpoint had no average: "model" is the live weights, the average restarts
            self.engine.ema.load_state_dict(payload["model"], payload.get("ema_updates") or 0)
        self.engine.optimizer.load_state_dict(payload["optimizer"])
        self.engine.scheduler.load_state_dict(payload["scheduler"])
        self.engine.scaler.load_state_dict(payload["scaler"])
        self.engine.micro_batches = payload.get("micro_batches", 1)
        self.start_epoch, self.best_map = payload["epoch"] + 1, payload["best_map"]
        set_rng_state(payload["rng"])

    def _save(self, epoch: int, val_map: float | None) -> None:
        ckpt = self.run_dir / "checkpoints"
        payload = self.payload(epoch)
        save_checkpoint(ckpt / f"epoch_{epoch + 1:03d}.pt", payload)
        # without a validation set the newest epoch counts as best
        improved = self.val_set is None or (val_map is not None and val_map > self.best_map)
        if improved:
            self.best_map = max(self.best_map, val_map if val_map is not None else 0.0)
            payload["best_map"] = self.best_map
            save_checkpoint(ckpt / "best.pt", payload)
        save_checkpoint(ckpt / "last.pt", payload)  # last, so a crash between saves resumes from the newest

    # ---- loop ---------------------------------------------------------------------------
    def fit(self) -> None:
        epoch = self.start_epoch
        while epoch < self.spec.epochs:
            started = time.perf_counter()
            try:
                losses = self._train_epoch(epoch)
            except NonFiniteLossError as exc:
                if not self.spec.nan_retry:
                    raise
                self._recover_from_nan(exc)
                epoch = self.start_epoch
                continue
            val = self.validate() if self._should_validate(epoch) else None
            if self.ctx.is_main:
                self._record(epoch, losses, val, time.perf_counter() - started)
                self._save(epoch, val.map50 if val else None)
            dist.barrier(self.ctx)
            epoch += 1
        if self.ctx.is_main:
            self._finish()

    def _train_epoch(self, epoch: int) -> dict:
        self.sampler.set_epoch(epoch)
        self.data.epoch = epoch
        loader = torch.utils.data.DataLoader(
            self.data, batch_size=self.spec.batch_size, sampler=self.sampler, num_workers=self.spec.data.workers,
            collate_fn=collate, drop_last=True, persistent_workers=False,
        )
        return self.engine.train_epoch(loader, epoch, self.spec.epochs)

    def _should_validate(self, epoch: int) -> bool:
        last = epoch == self.spec.epochs - 1
        return self.ctx.is_main and self.val_set is not None and ((epoch + 1) % self.spec.eval_every == 0 or last)

    def validate(self):
        from dabai.eval.api import evaluate

        info = ModelInfo(classes=list(self.spec.classes), input_size=self.model.input_size, name=self.spec.model.name)
        detector = Detector(TorchBackend(self.eval_model, info, str(self.device)))
        result = evaluate(detector, self.val_set, batch_size=16, progress=False)
        self.model.train()
        log.info("validation: mAP@0.5 %.4f  mAP@0.5:0.95 %.4f  AP50 %s", result.map50, result.map50_95,
                 {k: round(v, 3) for k, v in result.ap50.items()})
        return result

    def _recover_from_nan(self, exc: Exception) -> None:
        last = self.run_dir / "checkpoints" / "last.pt"
        log.warning("%s -- restoring %s and halving the learning rate", exc, last)
        if last.exists():
            self.restore(load_checkpoint(last))
        else:
            self.model.load_state_dict(self._initial_state)
            if self.engine.ema is not None:
                self.engine.ema.load_state_dict(self._initial_state, 0)
            self.start_epoch = 0
        sched = self.engine.scheduler
        sched.base_lrs = [lr / 2 for lr in sched.base_lrs]
        self.engine.events.append(f"non-finite loss: restored {last.name if last.exists() else 'initial weights'}, lr halved")

    def _record(self, epoch: int, losses: dict, val, seconds: float) -> None:
        from dabai.eval.plots import plot_training_curves

        row = {"epoch": epoch + 1, "lr": self.engine.optimizer.param_groups[0]["lr"], **losses,
               "val_map50": val.map50 if val else "", "val_map50_95": val.map50_95 if val else "",
               "epoch_seconds": round(seconds, 1)}
        if val:
            row.update({f"ap50_{k}": v for k, v in val.ap50.items()})
        metrics = self.run_dir / "metrics.csv"
        append_metrics(metrics, row)
        plot_training_curves(read_metrics(metrics), self.run_dir / "curves.png")
        if self.engine.events:
            with open(self.run_dir / "events.log", "a") as f:
                f.writelines(e + "\n" for e in self.engine.events)
            self.engine.events.clear()

    def _finish(self) -> None:
        chosen = self.run_dir / "checkpoints" / f"{self.spec.select}.pt"
        summary = {"run_dir": str(self.run_dir), "best_val_map50": self.best_map, "epochs": self.spec.epochs,
                   "selected": self.spec.select, "checkpoint": str(chosen)}
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        log.info("done: %s", summary)


def read_train_set(spec: TrainSpec) -> Dataset:
    """`data.train` plus every `data.extra_train` directory, each checked against the spec's classes."""
    images = []
    for folder in (spec.data.train, *spec.data.extra_train):
        part = read_dataset(folder, spec.data.format)
        check_classes(part.classes, spec.classes, folder, "spec")
        images.extend(part.images)
    return Dataset(images=images, classes=list(spec.classes))
