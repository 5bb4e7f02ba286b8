"""The trainable UltraFace: priors, box coding and matching (generated boxes), and the released ONNX files
turned into torch modules that reproduce them exactly (../shared/weights)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import shared_path

from dabai.core.errors import ModelError
from dabai.models.ultraface_ssd import corners, encode, match_priors, ultraface_priors

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("width,height,count", [(640, 480, 17640), (320, 240, 4420)])
def test_priors_count_order_and_range(width, height, count):
    p = ultraface_priors(width, height)
    assert p.shape == (count, 4)
    assert p.min() >= 0 and p.max() <= 1
    # first cell, three sides (10, 16, 24 px) before the next cell
    np.testing.assert_allclose(p[:3, 2] * width, [10, 16, 24], rtol=1e-5)
    np.testing.assert_allclose(p[:3, 0], (0.5 / np.ceil(width / 8),) * 3, rtol=1e-5)
    assert p[3, 0] > p[0, 0] and p[3, 2] == p[0, 2]


def test_encode_then_decode_gives_the_boxes_back():
    from dabai.models.ultraface_ssd import decode

    priors = ultraface_priors(320, 240)[:50]
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 0.7, (50, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(0.02, 0.3, (50, 2))], 1).astype(np.float32)
    back = decode(torch.from_numpy(encode(boxes, priors)), torch.from_numpy(priors)).numpy()
    np.testing.assert_allclose(back, boxes, atol=1e-5)


def test_matching_keeps_every_face_and_leaves_the_rest_background():
    priors = ultraface_priors(320, 240)
    tiny = [0.500, 0.500, 0.505, 0.507]  # under 2 px: overlaps no prior much, still gets its best one
    big = [0.1, 0.1, 0.6, 0.8]
    classes, offsets = match_priors(np.array([tiny, big], np.float32), np.array([2, 1]), priors)
    assert (classes == 2).sum() == 1 and (classes == 1).sum() >= 1
    assert (classes == 0).sum() > 0.95 * len(priors)
    assert offsets.shape == (len(priors), 4) and np.isfinite(offsets).all()
    empty, zero = match_priors(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), priors)
    assert not empty.any() and not zero.any()


def test_corners_of_centre_form():
    np.testing.assert_allclose(corners(np.array([[0.5, 0.5, 0.2, 0.4]])), [[0.4, 0.3, 0.6, 0.7]])


@pytest.mark.parametrize("name", ["ultraface-rfb-640-masked-face.onnx", "ultraface-rfb-320.onnx"])
def test_released_onnx_becomes_a_torch_module_that_reproduces_it(name):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx2torch")
    from dabai.models.ultraface_ssd import export_module, load_ultraface_onnx

    path = shared_path(f"weights/{name}")
    net, (w, h), classes, parts = load_ultraface_onnx(path)
    assert classes == (3 if "masked" in name else 2)
    assert set(parts) == {n for n, _ in net.named_parameters()}
    assert set(parts.values()) == {"backbone", "extras", "classification_headers", "regression_headers"}
    x = np.random.default_rng(1).uniform(-1, 1, (1, 3, h, w)).astype(np.float32)
    with torch.no_grad():
        scores, boxes = (t.numpy() for t in export_module(net, w, h).eval()(torch.from_numpy(x)))
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    np.testing.assert_allclose(scores, want[0], atol=1e-4)
    np.testing.assert_allclose(boxes, want[1], atol=1e-4)
    # the raw network is convolutional: a window of another size has that size's priors
    with torch.no_grad():
        logits, offsets = net(torch.zeros(2, 3, 240, 320))
    assert logits.shape == (2, 4420, classes) and offsets.shape == (2, 4420, 4)


def test_other_onnx_files_are_refused_with_the_reason():
    pytest.importorskip("onnx2torch")
    from dabai.models.ultraface_ssd import load_ultraface_onnx

    with pytest.raises(ModelError, match="not an UltraFace graph|priors|fixed NCHW input"):
        load_ultraface_onnx(shared_path("weights/face_detection_yunet.onnx"))
    with pytest.raises(ModelError, match="not found"):
        load_ultraface_onnx("no/such/finder.onnx")


def test_weights_are_written_back_into_the_released_graph_and_only_there(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx2torch")
    from dabai.models.ultraface_ssd import load_ultraface_onnx, write_weights

    path = shared_path("weights/ultraface-rfb-640-masked-face.onnx")
    net, (w, h), _, parts = load_ultraface_onnx(path)
    with torch.no_grad():  # a "trained" regression head: the written file must carry it
        for name, p in net.named_parameters():
            if parts[name] == "regression_headers" and name.endswith("bias"):
                p.add_(0.5)
    out = write_weights(path, net, tmp_path / "f.onnx", {"note": "test"})
    x = np.random.default_rng(2).uniform(-1, 1, (1, 3, h, w)).astype(np.float32)
    released = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    written = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    np.testing.assert_allclose(written[0], released[0], atol=1e-5)  # the class heads were left alone
    assert np.abs(written[1] - released[1]).max() > 1e-3  # the boxes moved
    with pytest.raises(ModelError, match="no place in the released graph"):
        write_weights(shared_path("weights/ultraface-rfb-320.onnx"), net, tmp_path / "g.onnx")
