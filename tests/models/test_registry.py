"""Contract tests over every registered model (timm-style): forward, backward, no NaN, gradients, ONNX."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dabai.core.errors import ConfigError  # noqa: E402
from dabai.models.registry import create_model, list_models  # noqa: E402
from dabai.train.loss import DetectionLoss  # noqa: E402

MODELS = sorted(list_models())
SIZE = 96  # tiny input keeps the contract tests fast; every model supports multiples of 32


def test_registry_lists_both_directions():
    assert {"mnv2_pan", "ultraface_pan"} <= set(MODELS)


def test_unknown_model_names_the_choices():
    with pytest.raises(ConfigError, match="unknown model 'nope'.*mnv2_pan"):
        create_model("nope", 3)


@pytest.mark.parametrize("name", MODELS)
def test_runs_at_another_input_size_with_the_same_weights(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=3, input_size=SIZE).eval()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    model.set_input_size(SIZE + 32)
    boxes, scores = model.decode(torch.rand(1, 3, SIZE + 32, SIZE + 32) * 255)
    assert boxes.shape[1] == sum(((SIZE + 32) // s) ** 2 for s in model.strides) == scores.shape[1]
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())
    # the points are laid out for the new side: the last one sits half a stride inside the corner
    assert model._points[-1, 0].item() == SIZE + 32 - model.strides[-1] / 2


@pytest.mark.parametrize("name", MODELS)
def test_forward_shapes_and_finite(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=3, input_size=SIZE).eval()
    x = torch.rand(2, 3, SIZE, SIZE) * 255
    logits, raw = model(x)
    anchors = sum((SIZE // s) ** 2 for s in model.strides)
    assert logits.shape == (2, anchors, 3) and raw.shape == (2, anchors, 4)
    boxes, scores = model.decode(x)
    assert torch.isfinite(boxes).all() and torch.isfinite(scores).all()
    assert (scores >= 0).all() and (scores <= 1).all()
    assert (boxes[..., 2] >= boxes[..., 0]).all() and (boxes[..., 3] >= boxes[..., 1]).all()


@pytest.mark.parametrize("name", MODELS)
def test_every_parameter_gets_a_gradient(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=3, input_size=SIZE).train()
    criterion = DetectionLoss(model.strides, SIZE, 3)
    targets = [torch.tensor([[10.0, 12.0, 40.0, 50.0, 0.0], [50.0, 50.0, 90.0, 92.0, 2.0]]),
               torch.tensor([[5.0, 5.0, 20.0, 22.0, 1.0]])]
    logits, raw = model(torch.rand(2, 3, SIZE, SIZE) * 255)
    out = criterion(logits, raw, model._points, targets)
    assert torch.isfinite(out.total)
    out.total.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not torch.isfinite(p.grad).all())]
    assert not missing, f"parameters without a finite gradient: {missing[:5]}"
    zero = [n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() == 0]
    assert len(zero) < len(list(model.parameters())) // 10, f"too many zero gradients: {zero[:5]}"


@pytest.mark.parametrize("name", MODELS)
def test_onnx_export_matches_torch(name, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from dabai.export.onnx import export_onnx

    torch.manual_seed(0)
    model = create_model(name, num_classes=3, input_size=SIZE).eval()
    path = export_onnx(model, tmp_path / "m.onnx", ["a", "b", "c"], name)
    x = (torch.rand(3, 3, SIZE, SIZE) * 255)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    boxes, scores = session.run(["boxes", "scores"], {"images": x.numpy()})  # batch 3: the axis is dynamic
    ref_boxes, ref_scores = model.decode(x)
    np.testing.assert_allclose(scores, ref_scores.detach().numpy(), atol=1e-4)
    np.testing.assert_allclose(boxes, ref_boxes.detach().numpy(), atol=1e-2)
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["classes"] == '["a", "b", "c"]' and meta["input_size"] == str(SIZE)


@pytest.mark.parametrize("name", MODELS)
def test_input_size_must_fit_every_level(name):
    from dabai.core.errors import ModelError

    with pytest.raises(ModelError, match="input size must be a positive multiple of 32 for this model, got 100"):
        create_model(name, 3, input_size=100)


@pytest.mark.parametrize("name", MODELS)
def test_freeze_backbone_keeps_weights_and_batchnorm_stats(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=3, input_size=SIZE)
    model.freeze_backbone(2)
    model.train()  # a later train() must not wake the frozen BatchNorm layers
    frozen = model.backbone_layers()[:2]
    before = [{k: v.clone() for k, v in layer.state_dict().items()} for layer in frozen]
    criterion = DetectionLoss(model.strides, SIZE, 3)
    logits, raw = model(torch.rand(2, 3, SIZE, SIZE) * 255)
    criterion(logits, raw, model._points, [torch.tensor([[10.0, 12.0, 40.0, 50.0, 1.0]])] * 2).total.backward()
    assert all(p.grad is None for layer in frozen for p in layer.parameters())
    assert all(p.grad is not None for p in model.head.parameters())
    for layer, state in zip(frozen, before):
        assert not layer.training
        for key, value in layer.state_dict().items():
            assert torch.equal(value, state[key]), f"{key} changed in a frozen layer"


def test_freeze_out_of_range_names_the_limit():
    from dabai.core.errors import ModelError

    model = create_model("mnv2_pan", num_classes=3, input_size=SIZE)
    with pytest.raises(ModelError, match="between 0 and 18"):
        model.freeze_backbone(99)
