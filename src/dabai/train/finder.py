"""Fine-tune a face finder: a released UltraFace ONNX (pretrained on faces) trained further on the labelled
faces of several sources, and exported back in its own convention for the checker (``face_finder`` in a
checker manifest, ``runtime/ultraface.py``).

``dabai train configs/face_finder.yaml`` (a spec with ``task: finder``). The finder only finds faces: each
source maps its labels onto the finder's own classes (UltraFace masked-face has ``face`` and
``masked_face``), and stage 2 of the checker judges the mask. Training runs on windows of the frame as the
finder sees it (``input`` resized, then scaled and cut to ``crop``; the network is convolutional and the
priors are in input pixels, so a window trains the full-frame model), with the detector's augmentation
(``train/augment.py``), close-ups included. The loss is SSD's (softmax over the classes with hard negative
mining, smooth L1 on the matched priors' offsets). Validation scores faces found (class-agnostic AP@0.5) on
the val sources at the full input, every ``eval_every`` epochs.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from dabai.core.config import apply_overrides, from_dict, load_yaml, save_yaml
from dabai.core.errors import ConfigError, DataError
from dabai.runtime.ultraface import normalise
from dabai.train.sources import check_sources, sampling_probs, source_name
from dabai.train.spec import AugmentSpec

log = logging.getLogger("dabai.train")


@dataclass(frozen=True)
class FinderSource:
    path: str  # a detection dataset (any format `dabai data` reads)
    name: str = ""  # how logs and provenance name it (default: the folder's name)
    # The finder class each label of this source is taught as, e.g. {without_mask: face, with_mask: masked_face};
    # a label missing here is an error (say `_ignore` to leave such faces out of the loss: they are neither
    # faces to find nor background).
    labels: dict[str, str] = field(default_factory=dict)
    weight: float = 1.0  # share of each epoch's images drawn from this source, relative to the others


@dataclass(frozen=True)
class FinderSpec:
    task: str  # "finder"
    pretrained: str  # a released UltraFace ONNX (e.g. ../shared/weights/ultraface-rfb-640-masked-face.onnx)
    classes: list[str]  # the finder's classes after the background, as the pretrained file has them
    sources: list[FinderSource]
    val: list[FinderSource] = field(default_factory=list)  # faces found (AP@0.5) every eval_every epochs
    crop: tuple[int, int] = (320, 240)  # training window (width, height) cut from the frame at input scale
    window_scale: tuple[float, float] = (0.5, 1.0)  # the frame is scaled by this before the window is cut
    # the parts of the network that learn (models/ultraface_ssd.PARTS); the others keep the released weights,
    # e.g. [regression_headers] to learn only the labellers' box style
    trainable: tuple[str, ...] = ("backbone", "extras", "classification_headers", "regression_headers")
    # The exported finder's weights: released + interpolate x (fine-tuned - released), WiSE-FT (Wortsman et
    # al., CVPR 2022: weight-space ensembles keep a pretrained model's robustness to new data). 1: the
    # fine-tuned weights. The checkpoint keeps the fine-tuned ones: edit spec.yaml and --resume to re-export.
    interpolate: float = 1.0
    iou_threshold: float = 0.35  # a prior is a face's when their IoU reaches this (UltraFace's value)
    neg_pos_ratio: int = 3  # background priors in the loss per matched prior (hard negatives)
    epochs: int = 20
    images_per_epoch: int = 0  # 0: as many as the sources hold
    batch_size: int = 16
    lr: float = 0.0005
    weight_decay: float = 0.0005
    warmup_epochs: float = 0.5
    eval_every: int = 5
    augment: AugmentSpec = field(default_factory=AugmentSpec)
    workers: int = 1  # dataloader worker processes (augmentation runs there)
    seed: int = 0
    threads: int = 0  # torch threads (0: all cores)
    output_dir: str = "runs/train"
    name: str | None = None

    def __post_init__(self) -> None:
        check_sources(self.task, "finder", self.sources, self.val)
        for i, src in enumerate([*self.sources, *self.val]):
            bad = [c for c in src.labels.values() if c not in (*self.classes, IGNORE)]
            if bad:
                raise ConfigError(f"sources[{i}].labels: unknown finder class {bad[0]!r}; the finder's classes "
                                  f"are {self.classes} (or {IGNORE!r})")
        from dabai.models.ultraface_ssd import PARTS

        unknown = [p for p in self.trainable if p not in PARTS]
        if unknown or not self.trainable:
            raise ConfigError(f"trainable: expected some of {list(PARTS)}, got {list(self.trainable)}")
        if not 0.0 < self.interpolate <= 1.0:
            raise ConfigError(f"interpolate: expected a number in (0, 1], got {self.interpolate}")
        for key in ("crop", "window_scale"):
            a, b = getattr(self, key)
            if not (0 < a and 0 < b):
                raise ConfigError(f"{key}: expected two positive numbers, got {[a, b]}")


IGNORE = "_ignore"


def load_finder_spec(path: str | Path, overrides=()) -> FinderSpec:
    return from_dict(FinderSpec, apply_overrides(load_yaml(path), list(overrides)))


# --- data -----------------------------------------------------------------------------------------

@dataclass
class Frames:
    """Every image of the sources with its faces as finder class ids (1.., 0 for ignored faces)."""

    paths: list[str]
    boxes: list[np.ndarray]  # [n, 4] float32 source pixels
    labels: list[np.ndarray]  # [n] int64: finder class id (1-based; 0: ignored)
    source: np.ndarray  # [N] source index
    names: list[str]
    # validation keeps each frame at the finder's input (uint8) and its size: decoding large photos again
    # every eval_every epochs cost most of the validation's time
    resized: dict = field(default_factory=dict, repr=False)


def read_frames(sources: list[FinderSource], classes: list[str]) -> Frames:
    from dabai.data.formats import read_dataset

    ids = {name: i + 1 for i, name in enumerate(classes)} | {IGNORE: 0}
    paths, boxes, labels, where = [], [], [], []
    for k, src in enumerate(sources):
        ds = read_dataset(src.path)
        for image in ds.images:
            for b in image.boxes:
                if b.label not in src.labels:
                    raise DataError(f"label {b.label!r} has no finder class in this source's `labels` "
                                    f"(it maps {sorted(src.labels)})", path=image.path)
            paths.append(str(image.path))
            boxes.append(image.box_array(np.float32).reshape(-1, 4))
            labels.append(np.array([ids[src.labels[b.label]] for b in image.boxes], np.int64))
            where.append(k)
    if not paths:
        raise DataError("no images in the finder's sources", path=sources[0].path)
    return Frames(paths, boxes, labels, np.asarray(where), [source_name(s) for s in sources])


class FinderData:
    """Yields (normalised window CHW, class per prior [A], offsets per prior [A, 4], ignore mask per prior [A])."""

    def __init__(self, frames: Frames, spec: FinderSpec, input_wh: tuple[int, int]):
        from dabai.models.ultraface_ssd import ultraface_priors
        from dabai.train.augment import build_pipeline

        self.frames, self.spec, self.input_wh = frames, spec, input_wh
        self.priors = ultraface_priors(*spec.crop)
        self.pipeline = build_pipeline(spec.augment)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.frames.paths)

    def __getitem__(self, index: int):
        import torch

        from dabai.models.ultraface_ssd import corners, match_priors

        window, boxes, labels = self.window(index)
        cw, ch = self.spec.crop
        unit = boxes / np.array([cw, ch, cw, ch], np.float32)
        found = labels > 0
        classes, offsets = match_priors(unit[found], labels[found], self.priors, self.spec.iou_threshold)
        # priors over an ignored face are neither face nor background: left out of the loss
        ignore = np.zeros(len(self.priors), bool)
        if (~found).any():
            from dabai.core.boxes import box_iou_matrix

            ignore = (box_iou_matrix(corners(self.priors), unit[~found]).max(1) >= self.spec.iou_threshold) & (classes == 0)
        return (torch.from_numpy(normalise(window)), torch.from_numpy(classes), torch.from_numpy(offsets),
                torch.from_numpy(ignore))

    def window(self, index: int):
        """(window RGB uint8 crop-sized, boxes [n, 4] in its pixels, class ids [n]) of one frame, augmented."""
        from dabai.core.boxes import clip_to_window
        from dabai.core.images import load_image_rgb
        from dabai.train.augment import apply_pipeline, zoom_to_face

        rng = np.random.default_rng([self.spec.seed, self.epoch, index])
        image = load_image_rgb(self.frames.paths[index])
        boxes, labels = self.frames.boxes[index].copy(), self.frames.labels[index].copy()
        aug = self.spec.augment
        if rng.random() < aug.zoom_face:
            image, boxes, labels = zoom_to_face(image, boxes, labels, rng, aug.zoom_face_context)
        image, boxes, labels = apply_pipeline(self.pipeline, image, boxes, labels, rng)
        # the frame as the finder sees it (resized to its input, aspect not kept), scaled, then a window
        iw, ih = self.input_wh
        s = rng.uniform(*self.spec.window_scale)
        fw, fh = max(1, round(iw * s)), max(1, round(ih * s))
        sx, sy = fw / image.shape[1], fh / image.shape[0]
        frame = cv2.resize(image, (fw, fh), interpolation=cv2.INTER_AREA if sx < 1 else cv2.INTER_LINEAR)
        boxes = boxes * np.array([sx, sy, sx, sy], np.float32)
        cw, ch = self.spec.crop
        left = int(rng.integers(0, max(0, fw - cw) + 1))
        top = int(rng.integers(0, max(0, fh - ch) + 1))
        window = np.full((ch, cw, 3), 127, np.uint8)  # 127: zero after normalisation
        part = frame[top:top + ch, left:left + cw]
        window[:part.shape[0], :part.shape[1]] = part
        shifted = boxes - np.array([left, top, left, top], np.float32)
        keep, clipped = clip_to_window(shifted, np.array([0, 0, part.shape[1], part.shape[0]], np.float32), 0.5)
        return window, clipped[keep].astype(np.float32), labels[keep]


def collate(batch):
    import torch

    return tuple(torch.stack(parts) for parts in zip(*batch))


# --- loss -----------------------------------------------------------------------------------------

def multibox_loss(logits, offsets, classes, target_offsets, ignore, neg_pos_ratio: int = 3):
    """(class loss, box loss), each summed and divided by the number of matched priors: softmax cross-entropy
    over the matched priors and the ``neg_pos_ratio`` times as many hardest background ones (SSD), smooth L1
    on the matched priors' offsets."""
    import torch
    import torch.nn.functional as F

    positive = classes > 0
    with torch.no_grad():
        background = -F.log_softmax(logits, dim=2)[:, :, 0]
        background[positive | ignore] = -math.inf
        order = background.argsort(dim=1, descending=True).argsort(dim=1)
        num_neg = (positive.sum(dim=1, keepdim=True) * neg_pos_ratio).clamp(min=neg_pos_ratio)
        negative = (order < num_neg) & ~positive & ~ignore
    picked = positive | negative
    num_pos = max(int(positive.sum()), 1)
    cls = F.cross_entropy(logits[picked], classes[picked], reduction="sum") / num_pos
    box = F.smooth_l1_loss(offsets[positive], target_offsets[positive], reduction="sum") / num_pos
    return cls, box


# --- validation -----------------------------------------------------------------------------------

def faces_found(decoded, frames: Frames, input_wh: tuple[int, int], iou: float = 0.5, batch: int = 8) -> dict:
    """Class-agnostic AP@0.5 (faces found) of the decoding module ``decoded`` on ``frames`` at the full input,
    pooled and by source (ignored faces count as faces here: they are faces)."""
    import torch

    from dabai.core.boxes import nms
    from dabai.core.images import load_image_rgb
    from dabai.data.dataset import Box, Dataset, ImageRecord
    from dabai.eval.coco import coco_evaluate_parts
    from dabai.runtime.types import Detection

    iw, ih = input_wh
    records, dets = [], {}
    decoded.eval()
    for start in range(0, len(frames.paths), batch):
        chunk = frames.paths[start:start + batch]
        for path in chunk:
            if (path, iw, ih) not in frames.resized:
                image = load_image_rgb(path)
                frames.resized[path, iw, ih] = (cv2.resize(image, (iw, ih)), image.shape[:2])
        x = torch.from_numpy(np.stack([normalise(frames.resized[p, iw, ih][0]) for p in chunk]))
        with torch.no_grad():
            scores, boxes = (t.numpy() for t in decoded(x))
        for k, path in enumerate(chunk):
            h, w = frames.resized[path, iw, ih][1]
            face = 1.0 - scores[k, :, 0]
            idx = np.nonzero(face >= 0.01)[0]
            b = boxes[k, idx] * np.array([w, h, w, h], np.float32)
            keep = nms(b, face[idx], None, iou)[:100]
            name = f"{start + k}:{path}"
            dets[name] = [Detection(tuple(float(v) for v in b[i]), float(face[idx][i]), "face") for i in keep]
            gt = frames.boxes[start + k]
            records.append(ImageRecord(path=Path(path), width=w, height=h, name=name,
                                       boxes=[Box(*map(float, g), label="face") for g in gt]))
    parts = {"pooled": [r.name for r in records]}
    for k, src in enumerate(frames.names):
        parts[src] = [r.name for r, s in zip(records, frames.source) if s == k]
    results = coco_evaluate_parts(Dataset(images=records, classes=["face"]), dets, ["face"], parts)
    return {f"val_faces_{key}": round(r.map50, 4) for key, r in results.items()}


# --- the run --------------------------------------------------------------------------------------

def train_finder(spec: FinderSpec | None, resume: str | Path | None = None) -> Path:
    """Train; the run directory gets spec.yaml, checkpoints/last.pt, metrics.csv, curves.png, face_finder.onnx (the
    model a checker manifest names as its ``face_finder``; ``interpolate`` of the way from the released
    weights to the fine-tuned ones) and summary.json (the exported finder's faces found on val)."""
    import torch
    from tqdm import tqdm

    from dabai.models.checkpoint import load_checkpoint, save_checkpoint
    from dabai.models.ultraface_ssd import export_module, load_ultraface_onnx
    from dabai.train.metrics import append_metrics

    if resume:
        run_dir = Path(resume)
        spec = from_dict(FinderSpec, load_yaml(run_dir / "spec.yaml"))
    else:
        run_dir = Path(spec.output_dir) / (spec.name or f"finder-{time.strftime('%Y%m%d-%H%M%S')}")
        if (run_dir / "checkpoints" / "last.pt").exists():
            raise ConfigError(f"{run_dir} already holds a run; use --resume {run_dir} or choose another name")
    run_dir.mkdir(parents=True, exist_ok=True)
    save_yaml(spec, run_dir / "spec.yaml")
    if spec.threads:
        torch.set_num_threads(spec.threads)
    torch.manual_seed(spec.seed)
    net, input_wh, num_classes, parts = load_ultraface_onnx(spec.pretrained)
    released = {k: v.detach().clone() for k, v in net.state_dict().items()}
    learn = [p for name, p in net.named_parameters() if parts[name] in spec.trainable]
    for name, p in net.named_parameters():
        p.requires_grad_(parts[name] in spec.trainable)
    if num_classes != len(spec.classes) + 1:
        raise ConfigError(f"classes: {spec.pretrained} has {num_classes - 1} classes after the background; "
                          f"the spec names {len(spec.classes)} ({spec.classes})")
    train = read_frames(spec.sources, spec.classes)
    val = read_frames(spec.val, spec.classes) if spec.val else None
    data = FinderData(train, spec, input_wh)
    per_epoch = spec.images_per_epoch or len(train.paths)
    steps_per_epoch = math.ceil(per_epoch / spec.batch_size)
    optim = torch.optim.AdamW(learn, lr=spec.lr, weight_decay=spec.weight_decay)
    total = spec.epochs * steps_per_epoch
    warm = max(1, int(spec.warmup_epochs * steps_per_epoch))
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: min(1.0, (s + 1) / warm) * 0.5 *
                                              (1 + math.cos(math.pi * min(1.0, s / total))))
    start = 0
    if resume:
        payload = load_checkpoint(run_dir / "checkpoints" / "last.pt")
        net.load_state_dict(payload["model"])
        optim.load_state_dict(payload["optimizer"])
        sched.load_state_dict(payload["scheduler"])
        start = payload["epoch"] + 1
    probs = sampling_probs(train.source, [s.weight for s in spec.sources])
    for epoch in range(start, spec.epochs):
        data.epoch = epoch
        order = np.random.default_rng([spec.seed, epoch]).choice(len(probs), size=per_epoch, p=probs)
        loader = torch.utils.data.DataLoader(data, batch_size=spec.batch_size, sampler=order.tolist(),
                                             num_workers=spec.workers, collate_fn=collate,
                                             persistent_workers=False)
        net.train()
        t0, sums, seen = time.time(), np.zeros(2), 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{spec.epochs}", unit="batch")
        for x, classes, offsets, ignore in bar:
            logits, pred = net(x)
            cls, box = multibox_loss(logits, pred, classes, offsets, ignore, spec.neg_pos_ratio)
            loss = cls + box
            if not torch.isfinite(loss):
                raise RuntimeError(f"non-finite loss at epoch {epoch + 1}; lower lr (checkpoint of epoch {epoch} kept)")
            optim.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(learn, 10.0)
            optim.step()
            sched.step()
            sums += (cls.item(), box.item())
            seen += 1
            bar.set_postfix(cls=f"{sums[0] / seen:.3f}", box=f"{sums[1] / seen:.3f}")
        row = {"epoch": epoch + 1, "lr": round(sched.get_last_lr()[0], 7), "loss": round(float(sums.sum()) / seen, 4),
               "loss_cls": round(float(sums[0]) / seen, 4), "loss_box": round(float(sums[1]) / seen, 4),
               "epoch_seconds": round(time.time() - t0, 1)}
        if val is not None and ((epoch + 1) % spec.eval_every == 0 or epoch + 1 == spec.epochs):
            row.update(faces_found(export_module(net, *input_wh), val, input_wh))
        append_metrics(run_dir / "metrics.csv", row)
        save_checkpoint(run_dir / "checkpoints" / "last.pt", {
            "model": net.state_dict(), "optimizer": optim.state_dict(), "scheduler": sched.state_dict(),
            "epoch": epoch, "model_name": "ultraface_finder", "classes": spec.classes})
        log.info("epoch %d: %s", epoch + 1, row)
    _plot(run_dir)
    if spec.interpolate < 1.0:
        tuned = {k: v.detach().clone() for k, v in net.state_dict().items()}
        net.load_state_dict({k: released[k] + spec.interpolate * (tuned[k] - released[k])
                             if tuned[k].is_floating_point() else tuned[k] for k in tuned})
    export_finder(net, input_wh, run_dir / "face_finder.onnx", spec, train)
    summary = {"interpolate": spec.interpolate, "epochs": spec.epochs}
    if val is not None:  # the exported weights, which differ from the last epoch's when interpolated
        summary.update(faces_found(export_module(net, *input_wh), val, input_wh))
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    log.info("exported %s: %s", run_dir / "face_finder.onnx", summary)
    return run_dir


def _plot(run_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dabai.train.metrics import read_metrics

    rows = read_metrics(run_dir / "metrics.csv")
    if not rows:
        return
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    epochs = [r["epoch"] for r in rows]
    for key in ("loss_cls", "loss_box"):
        a.plot(epochs, [r[key] for r in rows], label=key)
    a.set_xlabel("epoch")
    a.set_title("training loss")
    a.legend()
    keys = sorted(k for k in rows[-1] if k.startswith("val_faces_"))
    for key in keys:
        pts = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
        b.plot(*zip(*pts), marker="o", label=key[len("val_faces_"):])
    b.set_xlabel("epoch")
    b.set_title("val faces found, AP@0.5" if keys else "no val sources")
    if keys:
        b.legend()
    fig.tight_layout()
    fig.savefig(run_dir / "curves.png", dpi=110)
    plt.close(fig)


def export_finder(net, input_wh: tuple[int, int], path: Path, spec: FinderSpec, train: Frames) -> Path:
    """The fine-tuned finder as ONNX in the released file's own graph (its decoding, input ``input`` 1x3xHxW,
    outputs ``scores`` and ``boxes``) with the trained weights put in, and its provenance in the metadata;
    checked against the torch module."""
    import onnxruntime as ort
    import torch

    from dabai import __version__
    from dabai.core.digest import sha256_file
    from dabai.models.ultraface_ssd import export_module, write_weights

    counts = {name: int((train.source == k).sum()) for k, name in enumerate(train.names)}
    meta = {"model_name": "ultraface_finder", "classes": json.dumps(["BACKGROUND", *spec.classes]),
            "interpolate": str(spec.interpolate),
            "base": Path(spec.pretrained).name, "base_sha256": sha256_file(spec.pretrained),
            "sources": json.dumps(counts), "dabai_version": __version__}
    write_weights(spec.pretrained, net, path, meta)
    module = export_module(net.cpu().eval(), *input_wh).eval()
    w, h = input_wh
    probe = torch.rand(1, 3, h, w) * 2 - 1
    with torch.no_grad():
        want = [t.numpy() for t in module(probe)]
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": probe.numpy()})
    worst = max(float(np.abs(a - b).max()) for a, b in zip(want, got))
    if worst > 1e-3:
        raise RuntimeError(f"{path}: ONNX Runtime and torch differ by {worst:.2g} on the same input")
    return path
