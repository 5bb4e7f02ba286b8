"""Train the mask checker's second stage: a face-crop classifier over several sources.

``dabai train configs/mask_classifier.yaml`` (a spec with ``task: classify``). Each source is a detection
dataset (every labelled face becomes a crop, cut by ``runtime.refine.face_crop`` exactly as at inference,
with the box jittered as a detector would place it) or a folder of face crops in class folders. A source
has its own class map, sampling weight and **label sets**: a source that lacks a class (macwin has no
``mask_weared_incorrect``; a mask under the nose may be labelled ``with_mask`` there) declares which
labels may hide it, and for its faces the loss is -log of the probability of the whole set, so the
model is never taught that the class is absent.

With ``box_head: true`` the model also reads the face's box off the crop (x1, y1, x2, y2 in the crop's unit
square), trained on the labelled boxes of the sources that say ``boxes: true`` against the same jitter that
stands in for a detector's placement. The checker uses it to re-place the faces the detector found
(``runtime/checker.py``, ``box_refine``): a second look at each face at its own scale, where a small face's
box is a few pixels wide in the detector's input.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dabai.core.config import apply_overrides, from_dict, load_yaml, save_yaml
from dabai.core.errors import ConfigError, DataError
from dabai.runtime.refine import crop_window, face_crop
from dabai.train.sources import check_sources, sampling_probs, source_name

log = logging.getLogger("dabai.train")
STORE_CONTEXT = 2.0  # crops are cut once at this context and re-cut, jittered, every epoch
STORE_SIZE = 96


@dataclass(frozen=True)
class SourceSpec:
    path: str  # a detection dataset (any format) or a folder of class folders of face crops
    name: str = ""  # how tables and provenance name it (default: the folder's name)
    map: dict[str, str] | None = None  # rename labels as they are read, e.g. {with_incorrect_mask: mask_weared_incorrect}
    weight: float = 1.0  # share of each epoch's samples drawn from this source, relative to the others
    # Labels that may hide a class the source does not use, e.g. {with_mask: [with_mask, mask_weared_incorrect]}:
    # the loss asks only that the probability of the set is high.
    label_sets: dict[str, list[str]] | None = None
    # For a crop folder: the face's share of the crop's side (Haar-cascade crops are about the face).
    crop_face_fraction: float = 0.8
    # Teach the box head with this source's boxes (a crop folder has none). Say false for a source whose
    # boxes are another style than the faces the checker should report (macwin's loose whole heads).
    boxes: bool = True


@dataclass(frozen=True)
class ClassifierAugment:
    hflip: float = 0.5
    shift: float = 0.12  # box centre jitter, fraction of the face's side
    scale: tuple[float, float] = (0.85, 1.25)  # box side jitter (detector boxes are looser or tighter)
    color: float = 0.7  # brightness / contrast / saturation jitter
    gray: float = 0.15  # infrared night cameras are grey
    blur: float = 0.2  # defocus and tiny faces upscaled


@dataclass(frozen=True)
class ClassifierSpec:
    task: str  # "classify"
    classes: list[str]
    sources: list[SourceSpec]
    val: list[SourceSpec] = field(default_factory=list)  # scored every epoch (accuracy per class)
    input_size: int = 64  # crop side in pixels
    context: float = 1.3  # crop side / face side
    pretrained: str | None = None  # ImageNet MobileNetV2 weights (path or known name)
    epochs: int = 8
    batch_size: int = 64
    lr: float = 0.001
    weight_decay: float = 0.02
    class_weights: dict[str, float] | None = None  # loss weight per class
    box_head: bool = False  # also regress the face's box in the crop (see the module's docstring)
    box_loss_weight: float = 1.0  # weight of the box head's L1 loss (unit-square coordinates) against the class loss
    samples_per_epoch: int = 0  # 0: as many as there are crops
    augment: ClassifierAugment = field(default_factory=ClassifierAugment)
    seed: int = 0
    threads: int = 0  # torch threads (0: all cores)
    output_dir: str = "runs/train"
    name: str | None = None

    def __post_init__(self) -> None:
        check_sources(self.task, "classify", self.sources, self.val)
        for i, src in enumerate([*self.sources, *self.val]):
            for label, allowed in (src.label_sets or {}).items():
                bad = [c for c in [label, *allowed] if c not in self.classes]
                if bad:
                    raise ConfigError(f"sources[{i}].label_sets: unknown class {bad[0]!r}; classes are {self.classes}")
        for name in self.class_weights or {}:
            if name not in self.classes:
                raise ConfigError(f"class_weights: unknown class {name!r}; classes are {self.classes}")


def is_classifier_spec(path: str | Path) -> bool:
    from dabai.train.spec import spec_task

    return spec_task(path) == "classify"


def load_classifier_spec(path: str | Path, overrides=()) -> ClassifierSpec:
    return from_dict(ClassifierSpec, apply_overrides(load_yaml(path), list(overrides)))


# --- crops ----------------------------------------------------------------------------------------

@dataclass
class Crops:
    images: np.ndarray  # [N, STORE_SIZE, STORE_SIZE, 3] uint8 RGB, the face in the middle at STORE_CONTEXT
    allowed: np.ndarray  # [N, C] bool: classes the label allows (one, or a label set)
    label: np.ndarray  # [N] the class id as labelled (after the map)
    source: np.ndarray  # [N] source index
    names: list[str]  # source names
    boxes: np.ndarray | None = None  # [N, 4] float32 labelled face box in the stored crop's pixels; NaN: none to learn


def collect_crops(specs: list[SourceSpec], classes: list[str]) -> Crops:
    from dabai.core.images import load_image_rgb
    from dabai.data.progress import progress

    ids = {c: i for i, c in enumerate(classes)}
    images, allowed, labels, sources, boxes = [], [], [], [], []
    for k, src in enumerate(specs):
        items = _crop_items(src)
        for image_path, box, label in progress(items, desc=f"crops of {source_name(src)}"):
            label = (src.map or {}).get(label, label)
            if label not in ids:
                raise DataError(f"label {label!r} is not one of the classes {classes}; add it to the source's map",
                                path=image_path)
            image = load_image_rgb(image_path)
            learn_box = box is not None and src.boxes
            if box is None:
                h, w = image.shape[:2]
                f = src.crop_face_fraction
                box = (w * (1 - f) / 2, h * (1 - f) / 2, w * (1 + f) / 2, h * (1 + f) / 2)
            images.append(face_crop(image, box, STORE_CONTEXT, STORE_SIZE))
            boxes.append(_in_store(box) if learn_box else np.full(4, np.nan, np.float32))
            row = np.zeros(len(classes), bool)
            for name in (src.label_sets or {}).get(label, [label]):
                row[ids[name]] = True
            allowed.append(row)
            labels.append(ids[label])
            sources.append(k)
    if not images:
        raise DataError("the sources hold no labelled faces")
    return Crops(np.stack(images), np.stack(allowed), np.array(labels), np.array(sources),
                 [source_name(s) for s in specs], np.stack(boxes))


def _in_store(box) -> np.ndarray:
    """A labelled box in the pixels of its stored crop (``face_crop`` at ``STORE_CONTEXT``)."""
    left, top, span = crop_window(box, STORE_CONTEXT)
    scale = STORE_SIZE / span
    return ((np.asarray(box, np.float32) - np.array([left, top, left, top], np.float32)) * scale).astype(np.float32)


def _crop_items(src: SourceSpec):
    """(image path, box or None for a whole crop, label) for every face of a source."""
    from dabai.core.images import list_images
    from dabai.data.formats import crop_class_folders, read_dataset

    root = Path(src.path)
    if not root.is_dir():
        raise DataError("source folder not found", path=root)
    folders = crop_class_folders(root)
    if folders:  # not a detection dataset: a folder of class folders of face crops
        return [(path, None, folder.name) for folder in folders for path in list_images(folder)]
    ds = read_dataset(root)  # a detection dataset, or the error that says what was expected
    return [(im.path, b.as_list(), b.label) for im in ds.images for b in im.boxes if b.width >= 2 and b.height >= 2]


def jittered(store: np.ndarray, rng: np.random.Generator, context: float, size: int, aug: ClassifierAugment) -> np.ndarray:
    """A training crop: the stored face re-cut at ``context`` with the box jittered, then photometric changes."""
    return jittered_with_box(store, None, rng, context, size, aug)[0]


def jittered_with_box(store: np.ndarray, box: np.ndarray | None, rng: np.random.Generator, context: float, size: int,
                      aug: ClassifierAugment) -> tuple[np.ndarray, np.ndarray]:
    """``jittered``, and where the labelled ``box`` (stored-crop pixels) lies in the crop's unit square (the
    box head's target; NaN without a box)."""
    import cv2

    face = STORE_SIZE / STORE_CONTEXT  # the face's side in the stored crop
    side = face * rng.uniform(*aug.scale)
    cx, cy = STORE_SIZE / 2 + rng.uniform(-aug.shift, aug.shift, 2) * face
    placed = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    crop = face_crop(store, placed, context, size)
    target = np.full(4, np.nan, np.float32)
    if box is not None:
        left, top, span = crop_window(placed, context)
        target = ((box - np.array([left, top, left, top], np.float32)) / span).astype(np.float32)
    if rng.random() < aug.hflip:
        crop = crop[:, ::-1]
        target = np.array([1 - target[2], target[1], 1 - target[0], target[3]], np.float32)
    crop = crop.astype(np.float32)
    if rng.random() < aug.color:
        crop = crop * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30)
        grey = crop.mean(axis=2, keepdims=True)
        crop = grey + (crop - grey) * rng.uniform(0.6, 1.4)
    if rng.random() < aug.gray:
        crop = np.repeat(crop.mean(axis=2, keepdims=True), 3, axis=2)
    if rng.random() < aug.blur:
        crop = cv2.GaussianBlur(crop, (0, 0), rng.uniform(0.5, 1.5))
    return np.clip(crop, 0, 255).astype(np.uint8), target


# --- model ----------------------------------------------------------------------------------------

def build_model(num_classes: int, pretrained: str | None, box_head: bool = False):
    """torchvision's MobileNetV2 (ImageNet weights) with a new head; takes RGB 0..255 like the detector,
    ImageNet normalisation inside the graph. Outputs class logits [N, C], then with ``box_head`` 4 more
    columns: the face's box in the crop's unit square."""
    import torch
    from torchvision.models import mobilenet_v2

    from dabai.models.weights import resolve_weights

    class Normalised(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255)
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255)

        def forward(self, x):
            return self.net((x - self.mean) / self.std)

    net = mobilenet_v2(num_classes=1000)
    if pretrained:
        net.load_state_dict(torch.load(resolve_weights(pretrained), map_location="cpu", weights_only=True))
    net.classifier = torch.nn.Sequential(torch.nn.Dropout(0.2),
                                         torch.nn.Linear(net.last_channel, num_classes + (4 if box_head else 0)))
    return Normalised(net)


def set_loss(logits, allowed, weights):
    """-log P(label set): a single label is ordinary cross-entropy; a set never penalises its members."""
    import torch

    log_p = torch.log_softmax(logits, dim=1)
    masked = log_p.masked_fill(~allowed, -1e9)
    per = -torch.logsumexp(masked, dim=1)
    return (per * weights).sum() / weights.sum()


def box_loss(pred, target):
    """Mean L1 distance (sum over the 4 coordinates) of the rows that have a labelled box; 0 when none has."""
    import torch

    valid = torch.isfinite(target).all(dim=1)
    if not bool(valid.any()):
        return pred.sum() * 0.0
    return (pred[valid] - target[valid]).abs().sum(dim=1).mean()


# --- training -------------------------------------------------------------------------------------

def train_classifier(spec: ClassifierSpec, resume: str | Path | None = None) -> Path:
    """Train; the run directory gets spec.yaml, checkpoints/last.pt, metrics.csv, confusion_val.png and
    classifier.onnx (the model the checker loads)."""
    import torch
    from tqdm import tqdm

    from dabai.models.checkpoint import load_checkpoint, save_checkpoint
    from dabai.train.metrics import append_metrics

    run_dir = Path(resume) if resume else Path(spec.output_dir) / (spec.name or f"classifier-{time.strftime('%Y%m%d-%H%M%S')}")
    if resume:
        spec = from_dict(ClassifierSpec, load_yaml(run_dir / "spec.yaml"))
    elif (run_dir / "checkpoints" / "last.pt").exists():
        raise ConfigError(f"{run_dir} already holds a run; use --resume {run_dir} or choose another name")
    run_dir.mkdir(parents=True, exist_ok=True)
    save_yaml(spec, run_dir / "spec.yaml")
    if spec.threads:
        torch.set_num_threads(spec.threads)
    torch.manual_seed(spec.seed)
    train = collect_crops(spec.sources, spec.classes)
    val = collect_crops(spec.val, spec.classes) if spec.val else None
    model = build_model(len(spec.classes), spec.pretrained, spec.box_head)
    optim = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
    per_epoch = spec.samples_per_epoch or len(train.label)
    steps = spec.epochs * math.ceil(per_epoch / spec.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(optim, max_lr=spec.lr, total_steps=steps, pct_start=0.1)
    start = 0
    if resume:
        payload = load_checkpoint(run_dir / "checkpoints" / "last.pt")
        model.load_state_dict(payload["model"])
        optim.load_state_dict(payload["optimizer"])
        sched.load_state_dict(payload["scheduler"])
        start = payload["epoch"] + 1
    class_w = torch.tensor([(spec.class_weights or {}).get(c, 1.0) for c in spec.classes])
    probs = _sampling_probs(train, spec)
    for epoch in range(start, spec.epochs):
        rng = np.random.default_rng([spec.seed, epoch])
        order = rng.choice(len(probs), size=per_epoch, p=probs)
        model.train()
        t0, total, seen = time.time(), 0.0, 0
        bar = tqdm(range(0, per_epoch, spec.batch_size), desc=f"epoch {epoch + 1}/{spec.epochs}", unit="batch")
        for b in bar:
            idx = order[b:b + spec.batch_size]
            pairs = [jittered_with_box(train.images[i], _box_of(train, i), rng, spec.context, spec.input_size,
                                       spec.augment) for i in idx]
            x = torch.from_numpy(np.stack([c for c, _ in pairs]).transpose(0, 3, 1, 2).copy()).float()
            allowed = torch.from_numpy(train.allowed[idx])
            weights = class_w[torch.from_numpy(train.label[idx])]
            out = model(x)
            n = len(spec.classes)
            loss = set_loss(out[:, :n], allowed, weights)
            if spec.box_head:
                loss = loss + spec.box_loss_weight * box_loss(out[:, n:], torch.from_numpy(np.stack([t for _, t in pairs])))
            if not torch.isfinite(loss):
                raise RuntimeError(f"non-finite loss at epoch {epoch + 1}; lower lr")
            optim.zero_grad()
            loss.backward()
            optim.step()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
            bar.set_postfix(loss=f"{total / seen:.3f}")
        row = {"epoch": epoch + 1, "loss": total / seen, "epoch_seconds": round(time.time() - t0, 1)}
        if val is not None:
            matrix = confusion(model, val, spec)
            row.update(val_metrics(matrix, spec.classes))
            if spec.box_head:
                row.update(val_box_metrics(model, val, spec))
        append_metrics(run_dir / "metrics.csv", row)
        save_checkpoint(run_dir / "checkpoints" / "last.pt", {
            "model": model.state_dict(), "optimizer": optim.state_dict(), "scheduler": sched.state_dict(),
            "epoch": epoch, "model_name": "mnv2_crop_classifier", "classes": spec.classes,
            "input_size": spec.input_size, "context": spec.context})
        log.info("epoch %d: %s", epoch + 1, row)
    if val is not None:
        _plot(confusion(model, val, spec), spec.classes, run_dir / "confusion_val.png")
    export_classifier(model, run_dir / "classifier.onnx", spec, train)
    return run_dir


def _sampling_probs(crops: Crops, spec: ClassifierSpec) -> np.ndarray:
    """Each source gets its weight's share of every epoch, spread evenly over its crops."""
    return sampling_probs(crops.source, [s.weight for s in spec.sources])


def _box_of(crops: Crops, i: int) -> np.ndarray | None:
    if crops.boxes is None or not np.isfinite(crops.boxes[i]).all():
        return None
    return crops.boxes[i]


def predict_crops(model, crops: Crops, spec: ClassifierSpec, batch: int = 256) -> np.ndarray:
    import torch

    model.eval()
    out = []
    n = len(spec.classes)
    with torch.inference_mode():
        for b in range(0, len(crops.label), batch):
            chunk = np.stack([face_crop(im, _middle_box(), spec.context, spec.input_size)
                              for im in crops.images[b:b + batch]])
            logits = model(torch.from_numpy(chunk.transpose(0, 3, 1, 2).copy()).float())[:, :n]
            out.append(torch.softmax(logits, 1).numpy())
    return np.concatenate(out)


def val_box_metrics(model, crops: Crops, spec: ClassifierSpec, seed: int = 12345) -> dict:
    """The box head on the val faces that have a labelled box, each cut around a jittered box (the training
    jitter, fixed seed): mean IoU with the label of the box the crop was cut around and of the box read off
    it, and the share of each at IoU >= 0.5."""
    import torch

    from dabai.core.boxes import box_iou

    rows = [i for i in range(len(crops.label)) if _box_of(crops, i) is not None]
    if not rows:
        return {}
    rng = np.random.default_rng(seed)
    plain = ClassifierAugment(hflip=0.0, shift=spec.augment.shift, scale=spec.augment.scale, color=0.0, gray=0.0, blur=0.0)
    pairs = [jittered_with_box(crops.images[i], crops.boxes[i], rng, spec.context, spec.input_size, plain) for i in rows]
    x = torch.from_numpy(np.stack([c for c, _ in pairs]).transpose(0, 3, 1, 2).copy()).float()
    model.eval()
    with torch.inference_mode():
        pred = model(x)[:, len(spec.classes):].numpy()
    target = np.stack([t for _, t in pairs])
    placed = _placed_in_unit(spec.context)
    given = np.array([box_iou(placed, t) for t in target])
    read = np.array([box_iou(p, t) for p, t in zip(pred, target)])
    return {"val_box_iou_given": round(float(given.mean()), 4), "val_box_iou_read": round(float(read.mean()), 4),
            "val_box_iou50_given": round(float((given >= 0.5).mean()), 4),
            "val_box_iou50_read": round(float((read >= 0.5).mean()), 4)}


def _placed_in_unit(context: float) -> np.ndarray:
    """Where the box a crop was cut around lies in the crop's unit square (a square box, centred)."""
    half = 0.5 / context
    return np.array([0.5 - half, 0.5 - half, 0.5 + half, 0.5 + half], np.float32)


def _middle_box():
    face = STORE_SIZE / STORE_CONTEXT
    return ((STORE_SIZE - face) / 2, (STORE_SIZE - face) / 2, (STORE_SIZE + face) / 2, (STORE_SIZE + face) / 2)


def confusion(model, crops: Crops, spec: ClassifierSpec) -> np.ndarray:
    """[true label, predicted] counts; a label set counts as right when the prediction is in it."""
    pred = predict_crops(model, crops, spec).argmax(1)
    n = len(spec.classes)
    matrix = np.zeros((n, n), int)
    for label, p, allowed in zip(crops.label, pred, crops.allowed):
        matrix[label, label if allowed[p] else p] += 1
    return matrix


def val_metrics(matrix: np.ndarray, classes: list[str]) -> dict:
    recall = matrix.diagonal() / np.maximum(matrix.sum(1), 1)
    out = {"val_acc": round(float(matrix.diagonal().sum() / max(matrix.sum(), 1)), 4),
           "val_mean_recall": round(float(recall[matrix.sum(1) > 0].mean()), 4)}
    out.update({f"val_recall_{c}": round(float(r), 4) for c, r in zip(classes, recall)})
    return out


def _plot(matrix: np.ndarray, classes: list[str], path: Path) -> None:
    from dabai.eval.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.imshow(matrix / np.maximum(matrix.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=25, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("labelled")
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, str(v), ha="center", va="center")
    ax.set_title("face-crop classifier, validation crops")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def export_classifier(model, path: Path, spec: ClassifierSpec, train: Crops) -> Path:
    import onnx
    import torch

    from dabai import __version__

    n = len(spec.classes)

    class Probs(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            out = self.m(x)
            if spec.box_head:
                return torch.softmax(out[:, :n], dim=1), out[:, n:]
            return torch.softmax(out, dim=1)

    model = model.cpu().eval()
    dummy = torch.rand(1, 3, spec.input_size, spec.input_size) * 255
    outputs = ["probs", "boxes"] if spec.box_head else ["probs"]
    torch.onnx.export(Probs(model), dummy, str(path), input_names=["crops"], output_names=outputs,
                      dynamic_axes={"crops": {0: "batch"}, **{o: {0: "batch"} for o in outputs}}, opset_version=17,
                      dynamo=False)
    proto = onnx.load(str(path))
    counts = {name: int((train.source == k).sum()) for k, name in enumerate(train.names)}
    meta = {"classes": json.dumps(spec.classes), "input_size": str(spec.input_size),
            "crop_context": str(spec.context), "model_name": "mnv2_crop_classifier",
            "sources": json.dumps(counts), "dabai_version": __version__}
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path
