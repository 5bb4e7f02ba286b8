"""Distillation: the loss vanishes when student equals teacher, pulls the student towards the teacher,
refuses a teacher with another point layout, and a run with a teacher records its loss."""

from __future__ import annotations

import csv

import pytest

torch = pytest.importorskip("torch")

from dabai.core.errors import ConfigError  # noqa: E402
from dabai.models.checkpoint import load_checkpoint  # noqa: E402
from dabai.models.registry import create_model  # noqa: E402
from dabai.pipeline import train  # noqa: E402
from dabai.train.distill import DistillLoss, load_teacher  # noqa: E402
from dabai.train.spec import load_spec  # noqa: E402


def _outputs(seed: int, points: int = 50, classes: int = 3):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, points, classes, generator=g) * 3
    raw = torch.rand(2, points, 4, generator=g) * 4 + 0.5
    return logits, raw


def _points(n: int = 50):
    xy = torch.rand(n, 2, generator=torch.Generator().manual_seed(9)) * 96
    return torch.cat([xy, torch.full((n, 1), 8.0)], dim=1)


def test_identical_student_and_teacher_give_zero_loss():
    logits, raw = _outputs(0)
    out = DistillLoss()(logits, raw, logits.clone(), raw.clone(), _points(), num_pos=5)
    assert out.cls.item() == pytest.approx(0.0, abs=1e-7)
    assert out.box.item() == pytest.approx(0.0, abs=1e-6)


def test_gradient_moves_student_towards_teacher():
    t_logits, t_raw = _outputs(1)
    s_logits, s_raw = _outputs(2)
    s_logits.requires_grad_(True)
    s_raw.requires_grad_(True)
    loss = DistillLoss()(s_logits, s_raw, t_logits, t_raw, _points(), num_pos=5)
    assert loss.total.item() > 0
    loss.total.backward()
    with torch.no_grad():
        stepped = DistillLoss()(s_logits - 0.5 * s_logits.grad, s_raw - 0.5 * s_raw.grad, t_logits, t_raw,
                                _points(), num_pos=5)
    assert stepped.total.item() < loss.total.item()


def test_teacher_with_other_input_size_is_refused(tmp_path):
    teacher = create_model("mnv2_pan", 3, 128)
    path = tmp_path / "teacher.pt"
    torch.save({"model": teacher.state_dict(), "model_name": "mnv2_pan", "classes": ["a", "b", "c"],
                "input_size": 128, "module": None}, path)
    student = create_model("mnv2_pan", 3, 96)
    with pytest.raises(ConfigError, match="input size 128.*student has 96"):
        load_teacher(str(path), ["a", "b", "c"], student, torch.device("cpu"), channels_last=False)
    with pytest.raises(ConfigError, match="classes"):
        load_teacher(str(path), ["a", "b", "x"], student, torch.device("cpu"), channels_last=False)


def test_run_with_teacher_records_distillation_loss(tiny_data, tmp_path, write_spec):
    teacher_run = train(load_spec(str(write_spec(tmp_path / "t.yaml", tiny_data, tmp_path / "runs", epochs=1))))
    teacher_ckpt = teacher_run / "checkpoints" / "last.pt"
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", epochs=1, name="student")),
                     [f"distill.teacher={teacher_ckpt}", "distill.weight=2.0"])
    run = train(spec)
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert float(rows[0]["loss_distill"]) > 0
    assert load_checkpoint(run / "checkpoints" / "last.pt")["spec"]["distill"]["teacher"] == str(teacher_ckpt)
