"""Anchor-free dense head (FCOS/GFL family): per level a small tower, class logits and ltrb distances.

Classification is trained with Quality Focal Loss (the class score doubles as
the predicted IoU), so no separate centerness/objectness branch is needed and
scores rank well for mAP.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dabai.models.layers import DepthwiseSeparable

PRIOR_PROB = 0.01  # initial foreground probability (RetinaNet) so the loss starts stable


class LevelHead(nn.Module):
    def __init__(self, width: int, num_classes: int, depth: int = 2):
        super().__init__()
        self.tower = nn.Sequential(*[DepthwiseSeparable(width, width) for _ in range(depth)])
        self.cls = nn.Conv2d(width, num_classes, 1)
        self.reg = nn.Conv2d(width, 4, 1)
        nn.init.normal_(self.cls.weight, std=0.01)
        nn.init.constant_(self.cls.bias, -math.log((1 - PRIOR_PROB) / PRIOR_PROB))
        nn.init.normal_(self.reg.weight, std=0.01)
        nn.init.constant_(self.reg.bias, 0.0)

    def forward(self, x):
        t = self.tower(x)
        return self.cls(t), self.reg(t)


class DenseHead(nn.Module):
    def __init__(self, width: int, num_classes: int, strides: tuple[int, ...], depth: int = 2):
        super().__init__()
        self.strides = strides
        self.levels = nn.ModuleList(LevelHead(width, num_classes, depth) for _ in strides)

    def forward(self, feats) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns class logits [N, A, C] and raw box outputs [N, A, 4] over all levels."""
        cls_out, reg_out = [], []
        for head, f in zip(self.levels, feats):
            c, r = head(f)
            cls_out.append(c.flatten(2).transpose(1, 2))
            reg_out.append(r.flatten(2).transpose(1, 2))
        return torch.cat(cls_out, 1), torch.cat(reg_out, 1)


def distances_to_boxes(raw: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Raw [N, A, 4] outputs -> x1y1x2y2 boxes. Distances are exp(raw) strides from the point."""
    stride = points[:, 2:3]
    dist = torch.exp(raw.clamp(max=6.0)) * stride  # clamp: a wild early step must not overflow to inf
    cx, cy = points[:, 0:1], points[:, 1:2]
    return torch.cat([cx - dist[..., 0:1], cy - dist[..., 1:2], cx + dist[..., 2:3], cy + dist[..., 3:4]], dim=-1)
