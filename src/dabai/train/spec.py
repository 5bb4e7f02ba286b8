"""The training spec: a YAML file mapped onto these frozen dataclasses.

Every key is documented here; ``dabai train SPEC.yaml`` rejects unknown keys
and wrong types naming the key, and saves the resolved spec in the run dir.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dabai.core.config import apply_overrides, from_dict, load_yaml
from dabai.core.errors import ConfigError


@dataclass(frozen=True)
class DataSpec:
    train: str  # dataset directory for training (any format `dabai data` reads)
    # More directories whose images join `train`, e.g. the val split when the final model is
    # trained on every labelled image the test split leaves (then omit `val`: the last epoch is `best`).
    extra_train: tuple[str, ...] = ()
    val: str | None = None  # dataset directory scored every epoch to pick `best`
    format: str | None = None  # voc|coco|yolo|kitti; autodetected when omitted
    workers: int = 2  # dataloader worker processes (augmentation runs there)


@dataclass(frozen=True)
class ModelSpec:
    name: str = "mnv2_pan"  # registry name, see `dabai train --list-models`
    input_size: int = 320  # square letterbox side in pixels (multiple of 32)
    pretrained: str | None = None  # backbone weights: a path, or a known name such as mobilenet_v2_imagenet
    init: str | None = None  # a dabai checkpoint to start from (e.g. a pruned model), model weights only
    freeze: int = 0  # leading backbone layers kept fixed (weights and BatchNorm stats); 4 = mnv2 up to stride 4


@dataclass(frozen=True)
class OptimizerSpec:
    name: Literal["adamw", "sgd"] = "adamw"
    lr: float = 0.002  # peak learning rate, reached after warm-up
    weight_decay: float = 0.05
    momentum: float = 0.9  # SGD momentum / AdamW beta1
    grad_clip: float = 10.0  # max gradient norm; 0 disables clipping


@dataclass(frozen=True)
class ScheduleSpec:
    warmup_epochs: float = 1.0  # linear soft start from warmup_ratio * lr (TAO's soft_start)
    warmup_ratio: float = 0.1
    annealing: Literal["cosine", "linear", "none"] = "cosine"  # decay after warm-up
    min_lr_ratio: float = 0.05  # final lr = min_lr_ratio * lr


@dataclass(frozen=True)
class AugmentSpec:
    hflip: float = 0.5  # probability of a horizontal flip
    scale: tuple[float, float] = (0.6, 1.4)  # random zoom range (affine)
    affine_p: float = 0.6  # probability of the random affine (scale, shift, small rotation)
    zoom_face: float = 0.25  # probability of cropping around one face (gate-camera close-ups)
    # Side of that crop as a multiple of the face's side, drawn uniformly: 2 = the face fills half the
    # frame (a webcam at the gate), 1.2 = a face filling the frame (a phone held close).
    zoom_face_context: tuple[float, float] = (2.0, 5.0)
    # Probability of a 4-image mosaic (train/augment.py; faces keep their scale); instead of zoom_face.
    mosaic: float = 0.0
    color: float = 0.7  # probability of brightness/contrast/hue jitter
    blur: float = 0.15  # probability of motion or gaussian blur
    jpeg: float = 0.2  # probability of JPEG re-compression
    gray: float = 0.05  # probability of converting to greyscale (night cameras switch to infrared mono)
    # Probability of a night-time scene: darker (gamma 1.3-2.2, exposure x0.5-0.8) with sensor noise.
    # The shipped model loses 15 points on darkened close-ups (`dabai data corrupt`, docs/detector.md).
    low_light: float = 0.0
    # Copy-paste (train/copy_paste.py): with this probability, faces of `copy_paste_classes` cut from
    # other training images are pasted in at a new place and scale; 0 turns it off.
    copy_paste: float = 0.0
    copy_paste_classes: tuple[str, ...] = ()  # e.g. [mask_weared_incorrect]; names from `classes`
    copy_paste_max: int = 2  # at most this many faces pasted into one image
    copy_paste_scale: tuple[float, float] = (0.4, 1.5)  # resize range of a pasted face (log-uniform)


@dataclass(frozen=True)
class BalanceSpec:
    # Rare-class handling: repeat-factor sampling (LVIS) over-samples images that hold rare classes.
    method: Literal["repeat", "none"] = "repeat"
    repeat_threshold: float = 0.5  # images whose rarest class is in < this fraction of images get repeated
    class_weights: dict[str, float] | None = None  # optional per-class loss weights


@dataclass(frozen=True)
class DistillSpec:
    # Knowledge distillation (see train/distill.py), chiefly for retraining a pruned model.
    teacher: str | None = None  # a dabai checkpoint with the same classes, strides and input size
    weight: float = 1.0  # scale of the distillation loss added to the label loss


@dataclass(frozen=True)
class EmaSpec:
    # An exponential moving average of the weights is what gets validated, saved and exported (train/ema.py).
    decay: float = 0.998  # per step; 0 disables the average (the live weights are saved)
    warmup_steps: float = 200.0  # the decay ramps up from 0 over about this many steps


@dataclass(frozen=True)
class TrainSpec:
    data: DataSpec
    classes: list[str]  # class names in id order; checked against the data before the first step
    model: ModelSpec = field(default_factory=ModelSpec)
    epochs: int = 60
    batch_size: int = 16
    optimizer: OptimizerSpec = field(default_factory=OptimizerSpec)
    schedule: ScheduleSpec = field(default_factory=ScheduleSpec)
    augment: AugmentSpec = field(default_factory=AugmentSpec)
    balance: BalanceSpec = field(default_factory=BalanceSpec)
    distill: DistillSpec = field(default_factory=DistillSpec)
    ema: EmaSpec = field(default_factory=EmaSpec)
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    amp: bool = True  # mixed precision on CUDA (ignored on CPU)
    threads: int = 0  # torch intra-op threads on CPU; 0 = all cores
    channels_last: bool = True  # NHWC memory layout while training: about 2x faster steps on a CPU, same numbers
    eval_every: int = 1  # epochs between validation runs
    nan_retry: bool = False  # on a non-finite loss: restore last good checkpoint and halve the lr
    output_dir: str = "runs/train"  # parent of run directories
    name: str | None = None  # run directory name; default: <model>-<timestamp>
    export_onnx: bool = True  # write <select>.onnx (with metadata) at the end
    # Which checkpoint is the run's result (exported, named in summary.json): "best" by val mAP@0.5,
    # or "last". On a small val split a mid-schedule peak can pick a worse model; for retrains after
    # pruning "last" measured better on test (docs/deploy.md).
    select: Literal["best", "last"] = "best"
    # Input side of the exported ONNX when it should differ from model.input_size (a multiple of 32): the
    # detector is fully convolutional, and a larger side finds smaller faces (docs/detector.md).
    export_input_size: int | None = None

    def __post_init__(self) -> None:
        # Keys that name classes must name classes of this spec: a typo would silently do nothing.
        named = {"balance.class_weights": list(self.balance.class_weights or {}),
                 "augment.copy_paste_classes": list(self.augment.copy_paste_classes)}
        for key, names in named.items():
            unknown = [n for n in names if n not in self.classes]
            if unknown:
                raise ConfigError(f"{key}: unknown class {unknown[0]!r}; the spec's classes are {list(self.classes)}")
        if self.augment.copy_paste > 0 and not self.augment.copy_paste_classes:
            raise ConfigError("augment.copy_paste is on but augment.copy_paste_classes is empty; name the classes to paste")
        if self.augment.copy_paste_max < 1:
            raise ConfigError(f"augment.copy_paste_max: expected at least 1, got {self.augment.copy_paste_max}")
        low, high = self.augment.zoom_face_context
        if not 1.0 <= low <= high:
            raise ConfigError(f"augment.zoom_face_context: expected 1 <= low <= high, got [{low}, {high}]")
        low, high = self.augment.copy_paste_scale
        if not 0 < low <= high:
            raise ConfigError(f"augment.copy_paste_scale: expected 0 < low <= high, got [{low}, {high}]")


def load_spec(path: str, overrides: list[str] = ()) -> TrainSpec:
    """Load a spec file, apply ``key.sub=value`` overrides, and validate it."""
    data = apply_overrides(load_yaml(path), list(overrides))
    return from_dict(TrainSpec, data)


TASKS = {"detect": "the detector (this module's TrainSpec; a spec without `task`)",
         "classify": "the checker's face-crop classifier (train/classifier.py)",
         "finder": "the checker's face finder (train/finder.py)"}


def spec_task(path: str | Path) -> str:
    """Which trainer a spec file is for: its ``task`` key, ``detect`` when it has none."""
    data = load_yaml(path)
    task = data.get("task", "detect") if isinstance(data, dict) else "detect"
    if task not in TASKS:
        raise ConfigError(f"{path}: task: expected one of {', '.join(TASKS)}, got {task!r}")
    return task
