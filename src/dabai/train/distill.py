"""Knowledge distillation for the dense head: a trained teacher guides a (pruned) student.

A pruned model retrained on the labels alone forgets what the unpruned one knew
about the rare classes; distillation adds the teacher's soft per-point class
probabilities and its boxes as extra targets (dense "logit mimicking", as in
LD / GFL-style detectors). Teacher and student must share the point layout:
same strides and input size, which pruning keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision.ops import generalized_box_iou_loss

from dabai.core.errors import ConfigError
from dabai.models.head import distances_to_boxes
from dabai.train.loss import quality_focal_loss

BOX_TEACHER_FLOOR = 0.1  # teacher points below this class probability carry no box target


@dataclass
class DistillOutput:
    total: torch.Tensor
    cls: torch.Tensor
    box: torch.Tensor


class DistillLoss:
    """Soft-target QFL on every point plus a teacher-weighted GIoU on the points the teacher believes in."""

    def __init__(self, box_weight: float = 2.0):
        self.box_weight = box_weight

    def __call__(self, logits: torch.Tensor, raw: torch.Tensor, teacher_logits: torch.Tensor,
                 teacher_raw: torch.Tensor, points: torch.Tensor, num_pos: int) -> DistillOutput:
        logits = logits.float()
        target = teacher_logits.float().sigmoid()
        # |p - t|^beta focuses on points where the student still disagrees; identical outputs give 0
        cls = quality_focal_loss(logits, target).sum() / max(num_pos, 1)
        weight = target.max(dim=-1).values
        mask = weight >= BOX_TEACHER_FLOOR
        if mask.any():
            student_boxes = distances_to_boxes(raw.float(), points)[mask]
            teacher_boxes = distances_to_boxes(teacher_raw.float(), points)[mask]
            w = weight[mask]
            box = (generalized_box_iou_loss(student_boxes, teacher_boxes, reduction="none") * w).sum() / w.sum()
        else:
            box = raw.sum() * 0.0  # keeps the graph connected for DDP
        total = cls + self.box_weight * box
        return DistillOutput(total=total, cls=cls.detach(), box=box.detach())


class Teacher:
    """A frozen detector in eval mode whose raw outputs serve as distillation targets."""

    def __init__(self, model: torch.nn.Module):
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model(images)


def load_teacher(path: str, classes: list[str], student: torch.nn.Module, device: torch.device,
                 channels_last: bool) -> Teacher:
    """Load a dabai checkpoint as the teacher, refusing one whose classes or point layout differ."""
    from dabai.models.checkpoint import load_checkpoint, model_from_checkpoint

    payload = load_checkpoint(path)
    if list(payload["classes"]) != list(classes):
        raise ConfigError(f"distill.teacher {path} was trained for classes {payload['classes']}, the spec has {classes}")
    model = model_from_checkpoint(payload)
    if model.input_size != student.input_size or tuple(model.strides) != tuple(student.strides):
        raise ConfigError(
            f"distill.teacher {path} has input size {model.input_size} and strides {tuple(model.strides)}; "
            f"the student has {student.input_size} and {tuple(student.strides)}: they must match"
        )
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return Teacher(model)
