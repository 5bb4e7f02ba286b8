"""ATSS label assignment, Quality Focal Loss and GIoU box loss for the dense head.

ATSS picks, per ground-truth box, the k nearest points on each level and keeps
those whose anchor IoU exceeds mean + std of the candidates (adaptive, so tiny
and large faces both get positives). A face too small to contain any point
centre still gets its single nearest point, so no annotation is silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torchvision.ops import box_iou, generalized_box_iou_loss

from dabai.models.head import distances_to_boxes

ANCHOR_SCALE = 5.0  # ATSS anchor side in strides, used only for the assignment IoU


@dataclass
class LossOutput:
    total: torch.Tensor
    cls: torch.Tensor
    box: torch.Tensor
    num_pos: int
    distill: torch.Tensor | None = None  # set by the engine when a teacher adds its loss


def atss_assign(points: torch.Tensor, level_sizes: list[int], gt: torch.Tensor, topk: int = 9) -> torch.Tensor:
    """Index of the assigned ground truth for each point, -1 for background. gt: [M, 4]."""
    num_points = points.shape[0]
    assigned = torch.full((num_points,), -1, dtype=torch.long, device=points.device)
    if gt.numel() == 0:
        return assigned
    half = points[:, 2:3] * ANCHOR_SCALE / 2
    anchors = torch.cat([points[:, :2] - half, points[:, :2] + half], dim=1)
    ious = box_iou(anchors, gt)  # [A, M]
    gt_centres = (gt[:, :2] + gt[:, 2:]) / 2
    dist = torch.cdist(points[:, :2], gt_centres)  # [A, M]
    candidates = []
    start = 0
    for size in level_sizes:
        k = min(topk, size)
        candidates.append(dist[start:start + size].topk(k, dim=0, largest=False).indices + start)
        start += size
    cand = torch.cat(candidates, 0)  # [K, M]
    cand_iou = ious.gather(0, cand)
    threshold = cand_iou.mean(0) + cand_iou.std(0)
    is_pos = cand_iou >= threshold[None]
    px, py = points[cand, 0], points[cand, 1]
    inside = (px > gt[None, :, 0]) & (px < gt[None, :, 2]) & (py > gt[None, :, 1]) & (py < gt[None, :, 3])
    is_pos &= inside
    # a point claimed by several faces goes to the one it overlaps most
    score = torch.full_like(ious, -1.0)
    m_idx = torch.arange(gt.shape[0], device=gt.device).expand_as(cand)
    score[cand[is_pos], m_idx[is_pos]] = ious[cand[is_pos], m_idx[is_pos]]
    best, best_gt = score.max(1)
    assigned[best >= 0] = best_gt[best >= 0]
    # faces with no positive (too small to contain a point centre) take their nearest free point
    missing = torch.ones(gt.shape[0], dtype=torch.bool, device=gt.device)
    missing[assigned[assigned >= 0]] = False
    for m in torch.nonzero(missing).flatten().tolist():
        nearest = dist[:, m].argmin()
        if assigned[nearest] < 0:
            assigned[nearest] = m
    return assigned


def quality_focal_loss(logits: torch.Tensor, target: torch.Tensor, beta: float = 2.0) -> torch.Tensor:
    """QFL (Generalized Focal Loss): BCE to a soft IoU target, focused by |p - target|^beta."""
    p = logits.sigmoid()
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none") * (p - target).abs().pow(beta)


class DetectionLoss:
    def __init__(self, strides: tuple[int, ...], input_size: int, num_classes: int, box_weight: float = 2.0,
                 class_weights: torch.Tensor | None = None):
        self.level_sizes = [(input_size // s) ** 2 for s in strides]
        self.num_classes = num_classes
        self.box_weight = box_weight
        self.class_weights = class_weights

    def __call__(self, logits: torch.Tensor, raw: torch.Tensor, points: torch.Tensor, targets: list[torch.Tensor]) -> LossOutput:
        pred_boxes = distances_to_boxes(raw.float(), points)
        logits = logits.float()
        cls_target = torch.zeros_like(logits)
        box_losses, box_weights, num_pos = [], [], 0
        for i, t in enumerate(targets):
            t = t.to(logits.device)
            assigned = atss_assign(points, self.level_sizes, t[:, :4])
            pos = torch.nonzero(assigned >= 0).flatten()
            if pos.numel() == 0:
                continue
            gt = t[assigned[pos]]
            iou = box_iou(pred_boxes[i, pos].detach(), gt[:, :4]).diagonal().clamp(min=0)
            cls_target[i, pos, gt[:, 4].long()] = iou
            weight = logits[i, pos].detach().sigmoid().max(dim=1).values
            box_losses.append(generalized_box_iou_loss(pred_boxes[i, pos], gt[:, :4], reduction="none") * weight)
            box_weights.append(weight)
            num_pos += pos.numel()
        cls_loss = quality_focal_loss(logits, cls_target)
        if self.class_weights is not None:
            cls_loss = cls_loss * self.class_weights.to(cls_loss.device)
        cls_loss = cls_loss.sum() / max(num_pos, 1)
        if box_losses:
            box_loss = torch.cat(box_losses).sum() / torch.cat(box_weights).sum().clamp(min=1e-6)
        else:
            box_loss = pred_boxes.sum() * 0.0  # keeps the graph connected for DDP
        total = cls_loss + self.box_weight * box_loss
        return LossOutput(total=total, cls=cls_loss.detach(), box=box_loss.detach(), num_pos=num_pos)
