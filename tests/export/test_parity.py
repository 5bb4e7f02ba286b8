"""dabai parity: identical models pass, and it fails loudly on broken ones."""

from __future__ import annotations

import json

import pytest

from dabai.cli.main import main
from dabai.core.boxes import box_iou
from dabai.export.parity import ParityError, ParityOptions, match_count, run_parity
from dabai.runtime.types import Detection

from .conftest import save_tiny_checkpoint, tiny_model

torch = pytest.importorskip("torch")


def test_checkpoint_and_its_onnx_agree(tiny_ckpt, tiny_onnx, tiny_images):
    report = run_parity(tiny_ckpt, tiny_onnx, ParityOptions(data=str(tiny_images), images=6))
    assert report.ok, report.failures
    assert report.detections["reference"] > 0  # the comparison had real detections to match
    assert report.agreement >= 99.0 and report.errors["score_max_abs"] < 1e-3
    assert report.map50 is not None and abs(report.map50["delta"]) < 1e-6


def test_perturbed_weights_fail(tiny_ckpt, tmp_path, tiny_images):
    model = tiny_model()
    with torch.no_grad():
        for p in model.stages[1].parameters():
            p.mul_(1 + 0.5 * torch.randn_like(p))
    broken = save_tiny_checkpoint(tmp_path / "broken.pt", model)
    report = run_parity(tiny_ckpt, broken, ParityOptions(data=str(tiny_images), images=6))
    assert not report.ok
    assert any("scores differ" in f for f in report.failures)


def test_swapped_class_channels_fail(tiny_ckpt, tmp_path):
    model = tiny_model()
    with torch.no_grad():
        for level in model.head.levels:  # class 0 and 1 outputs exchanged, names unchanged
            level.cls.weight.data = level.cls.weight.data[[1, 0, 2]].clone()
            level.cls.bias.data = level.cls.bias.data[[1, 0, 2]].clone()
    swapped = save_tiny_checkpoint(tmp_path / "swapped.pt", model)
    report = run_parity(tiny_ckpt, swapped, ParityOptions(random=2))
    assert not report.ok and report.agreement < 50


def test_swapped_class_names_are_refused(tiny_ckpt, tmp_path):
    from dabai.models.checkpoint import load_checkpoint, save_checkpoint

    payload = load_checkpoint(tiny_ckpt)
    payload["classes"] = [payload["classes"][i] for i in (1, 0, 2)]
    save_checkpoint(tmp_path / "renamed.pt", payload)
    with pytest.raises(ParityError, match="class lists differ"):
        run_parity(tiny_ckpt, tmp_path / "renamed.pt", ParityOptions(random=1))


def test_cli_parity_exit_codes(tiny_ckpt, tiny_onnx, tmp_path, capsys):
    assert main(["parity", str(tiny_ckpt), str(tiny_onnx), "--random", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    model = tiny_model()
    with torch.no_grad():
        model.head.levels[0].cls.bias.add_(0.5)
    broken = save_tiny_checkpoint(tmp_path / "b.pt", model)
    assert main(["parity", str(tiny_ckpt), str(broken), "--random", "2"]) == 1
    assert "FAIL" in capsys.readouterr().out
    # a looser tolerance given as a flag lets the same pair pass the score check
    assert main(["parity", str(tiny_ckpt), str(broken), "--random", "2", "--max-score-err", "0.5",
                 "--min-agreement", "0"]) == 0


def test_matching_rules():
    a = Detection((0, 0, 10, 10), 0.9, "x")
    assert box_iou(a.bbox, a.bbox) == 1.0
    assert match_count([a], [Detection((0, 0, 10, 10.5), 0.8, "x")], 0.9) == 1
    assert match_count([a], [Detection((0, 0, 10, 10), 0.8, "y")], 0.9) == 0  # other class
    assert match_count([a], [Detection((0, 0, 10, 13), 0.8, "x")], 0.9) == 0  # IoU 0.77
