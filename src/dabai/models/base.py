"""The detector contract shared by every registered model.

A detector takes a float32 RGB batch in 0..255 (letterboxed to a square of
``input_size``; normalisation happens inside the model so exported graphs
need no extra pre-processing) and in ``train()`` mode returns raw per-level
outputs for the loss; ``decode()`` returns the export/inference outputs:

* ``boxes``  [N, A, 4] x1, y1, x2, y2 in input-image pixels,
* ``scores`` [N, A, C] per-class probabilities in 0..1,

which the runtime's post-processing (threshold, NMS, un-letterbox) consumes
the same way for PyTorch checkpoints and ONNX files.
"""

from __future__ import annotations

import torch
from torch import nn

from dabai.core.errors import ModelError

IMAGENET_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
IMAGENET_STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)


class Normalize(nn.Module):
    """(x - mean) / std on a 0..255 RGB batch, baked into the graph."""

    def __init__(self, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def check_input_size(size: int, strides: tuple[int, ...]) -> int:
    """The square input side, if every level's grid fits it exactly (a multiple of the largest stride)."""
    step = max(strides)
    if size <= 0 or size % step:
        raise ModelError(f"input size must be a positive multiple of {step} for this model, got {size}")
    return size


class DetectorBase(nn.Module):
    """Attributes every registered detector sets, used by training, export and the runtime."""

    num_classes: int
    input_size: int
    strides: tuple[int, ...]
    # Model-specific meta saved in checkpoints and ONNX metadata (e.g. preprocessing).
    preprocess_meta: dict
    frozen_layers: int = 0  # leading backbone layers kept fixed (see freeze_backbone)

    def points(self, device=None) -> torch.Tensor:
        """Anchor points [A, 3]: (cx, cy, stride) in input pixels, level by level."""
        out = []
        for s in self.strides:
            n = self.input_size // s
            ys, xs = torch.meshgrid(torch.arange(n, device=device), torch.arange(n, device=device), indexing="ij")
            cx = (xs.reshape(-1).float() + 0.5) * s
            cy = (ys.reshape(-1).float() + 0.5) * s
            out.append(torch.stack([cx, cy, torch.full_like(cx, float(s))], dim=1))
        return torch.cat(out, 0)

    def set_input_size(self, size: int) -> None:
        """Run at another square input side than trained (the network is fully convolutional).

        Why: a larger side enlarges small faces past the finest stride, at a
        quadratic cost in compute; the weights do not change, only the grid of points.
        """
        self.input_size = check_input_size(size, self.strides)
        self._points = self.points(self._points.device)

    def backbone_layers(self) -> list[nn.Module]:
        """The backbone's layers in order (the stages' children), the unit ``freeze_backbone`` counts."""
        return [layer for stage in self.stages for layer in stage]

    def freeze_backbone(self, layers: int) -> None:
        """Keep the first ``layers`` backbone layers fixed: weights and BatchNorm statistics.

        Why: the early, high-resolution layers hold generic ImageNet edges and
        textures that a few hundred face photos cannot improve, and they are the
        most expensive part of the backward pass on a CPU (about half the step
        at 384 px). torchvision's detection references freeze them the same way.
        """
        all_layers = self.backbone_layers()
        if not 0 <= layers <= len(all_layers):
            raise ModelError(f"model.freeze must be between 0 and {len(all_layers)} backbone layers, got {layers}")
        self.frozen_layers = layers
        for layer in all_layers[:layers]:
            layer.requires_grad_(False)
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        for layer in self.backbone_layers()[: self.frozen_layers]:
            layer.eval()  # frozen BatchNorm keeps its ImageNet statistics
        return self

    # Set by subclasses: normalize, stages (backbone slices ending at each stride), neck, head.
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw outputs: class logits [N, A, C] and box regressions [N, A, 4]."""
        x = self.normalize(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return self.head(self.neck(feats))

    def decode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Export/inference outputs: boxes [N, A, 4] in input pixels and class probabilities [N, A, C]."""
        from dabai.models.head import distances_to_boxes

        logits, raw = self(x)
        return distances_to_boxes(raw, self._points), logits.sigmoid()
