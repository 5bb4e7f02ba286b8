"""The one predictor path: ONNX and PyTorch backends give the same detections; predict CLI outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dabai.data.synth import SAMPLE_CLASSES, make_sample_dataset  # noqa: E402
from dabai.export.onnx import export_onnx  # noqa: E402
from dabai.models.registry import create_model  # noqa: E402
from dabai.runtime.backends import ModelInfo, TorchBackend  # noqa: E402
from dabai.runtime.detector import Detector  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    torch.manual_seed(0)
    model = create_model("mnv2_pan", 3, 96).eval()
    # spread the class logits so an untrained model emits distinct, untied scores to compare
    for level in model.head.levels:
        torch.nn.init.normal_(level.cls.weight, std=30.0)
        torch.nn.init.constant_(level.cls.bias, 0.0)
    root = tmp_path_factory.mktemp("model")
    onnx_path = export_onnx(model, root / "tiny.onnx", SAMPLE_CLASSES, "mnv2_pan")
    ckpt = root / "tiny.pt"
    torch.save({"model": model.state_dict(), "model_name": "mnv2_pan", "classes": SAMPLE_CLASSES, "input_size": 96}, ckpt)
    return model, onnx_path, ckpt


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    make_sample_dataset(root / "ds", n_images=4, seed=5)
    return root / "ds" / "images"


def test_onnx_and_torch_backends_agree(tiny_model, images):
    model, onnx_path, ckpt = tiny_model
    onnx_det = Detector.load(onnx_path, conf=0.3)
    torch_det = Detector(TorchBackend(model, ModelInfo(SAMPLE_CLASSES, 96)), onnx_det.options)
    ckpt_det = Detector.load(ckpt, conf=0.3)
    for path in sorted(images.iterdir()):
        a, b, c = onnx_det(path), torch_det(path), ckpt_det(path)
        assert len(a) > 0
        assert _same(a, b) and _same(a, c)


def _same(a, b, atol=0.05) -> bool:
    """Same detections up to float noise (an untrained model has near-tied scores, so order may differ)."""
    if len(a) != len(b):
        return False
    rest = list(b)
    for d in a:
        match = next((e for e in rest if e.label == d.label and abs(e.score - d.score) < 1e-3
                      and np.allclose(e.bbox, d.bbox, atol=atol)), None)
        if match is None:
            return False
        rest.remove(match)
    return True


def test_path_bytes_and_array_inputs_agree(tiny_model, images):
    det = Detector.load(tiny_model[1])
    path = sorted(images.iterdir())[0]
    from_path = det(path)
    from_bytes = det(path.read_bytes())
    from_array = det(cv2.imread(str(path)))
    assert from_path == from_bytes == from_array


def test_one_pass_with_several_option_sets_equals_separate_calls(tiny_model, images):
    det = Detector.load(tiny_model[1], conf=0.05)
    agnostic = det.with_options(class_agnostic=True)
    paths = sorted(images.iterdir())
    per_class, across = det.detect_batch_with(paths, [det.options, agnostic.options])
    assert per_class == det.detect_batch(paths) and across == agnostic.detect_batch(paths)
    assert across != per_class  # each option set was applied, not the first one twice
    assert det.detect_batch_with([], [det.options, agnostic.options]) == [[], []]


def test_onnx_without_metadata_is_refused(tmp_path, tiny_model):
    import onnx

    proto = onnx.load(str(tiny_model[1]))
    del proto.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    onnx.save(proto, str(bare))
    from dabai.core.errors import ModelError

    with pytest.raises(ModelError, match="no 'classes' metadata"):
        Detector.load(bare)


def _dabai(*args):
    return subprocess.run([sys.executable, "-m", "dabai", *args], capture_output=True, text=True, timeout=300)


def test_predict_cli_writes_images_json_and_kitti(tiny_model, images, tmp_path):
    out, js, kitti = tmp_path / "out", tmp_path / "p.json", tmp_path / "kitti"
    proc = _dabai("predict", str(images), "--model", str(tiny_model[1]), "--out", str(out), "--out-json", str(js),
                  "--kitti", str(kitti), "--conf", "0.3")
    assert proc.returncode == 0, proc.stderr
    records = json.loads(js.read_text())
    assert records and set(records[0]) == {"image", "bbox", "score", "label"}
    assert all(r["score"] >= 0.3 and r["label"] in SAMPLE_CLASSES and len(r["bbox"]) == 4 for r in records)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in images.iterdir())
    line = next(p for p in kitti.iterdir()).read_text().splitlines()[0].split()
    assert len(line) == 16 and line[0] in SAMPLE_CLASSES


def test_predict_cli_json_is_stdout_and_the_old_file_spelling_warns(tiny_model, images, tmp_path):
    """--json means JSON on stdout (as in every command); the file is --out-json. The old --json FILE still
    writes the file for one release, with a warning on stderr."""
    js = tmp_path / "p.json"
    proc = _dabai("predict", str(images), "--model", str(tiny_model[1]), "--json", "--out-json", str(js))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(js.read_text()) and json.loads(proc.stdout)  # stdout: JSON alone
    assert "image(s)" in proc.stderr and "deprecated" not in proc.stderr
    flag_first = _dabai("predict", "--json", str(images), "--model", str(tiny_model[1]))
    assert flag_first.returncode == 0 and json.loads(flag_first.stdout) == json.loads(js.read_text())
    old = tmp_path / "old.json"
    proc = _dabai("predict", str(images), "--model", str(tiny_model[1]), "--json", str(old))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(old.read_text()) == json.loads(js.read_text())
    assert "warning: --json FILE is deprecated" in proc.stderr and "--out-json FILE" in proc.stderr
    assert "image(s)" in proc.stdout  # the old spelling's output is unchanged


def test_predict_cli_on_video(tiny_model, images, tmp_path):
    video = tmp_path / "clip.avi"
    frame = cv2.imread(str(sorted(images.iterdir())[0]))
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (frame.shape[1], frame.shape[0]))
    for _ in range(3):
        writer.write(frame)
    writer.release()
    proc = _dabai("predict", str(video), "--model", str(tiny_model[1]), "--out-json", str(tmp_path / "v.json"))
    assert proc.returncode == 0, proc.stderr
    assert "3 image(s)" in proc.stdout
    assert {r["image"] for r in json.loads((tmp_path / "v.json").read_text())} <= {f"clip.avi#{i:06d}" for i in range(3)}


def test_predict_cli_bad_input_is_a_clear_error(tiny_model, tmp_path):
    garbage = tmp_path / "x.jpg"
    garbage.write_text("not an image")
    proc = _dabai("predict", str(garbage), "--model", str(tiny_model[1]))
    assert proc.returncode == 2 and "x.jpg: not a readable image" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _dabai("predict", str(tmp_path / "missing.jpg"), "--model", str(tiny_model[1]))
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr


def test_shipped_models_load_by_name_and_agree(tmp_path, monkeypatch):
    """`--model int8` is the shipped INT8 export; a file of that name in the working folder wins."""
    from dabai.core.errors import ModelError
    from dabai.runtime.backends import ASSETS, resolve_model
    from dabai.runtime.detector import Detector

    monkeypatch.chdir(tmp_path)
    assert resolve_model("int8") == ASSETS / "mask_checker.int8.json"
    assert resolve_model("fp32") == ASSETS / "mask_checker.json"
    assert resolve_model("detector-int8") == ASSETS / "mask_detector.int8.onnx"
    (tmp_path / "int8").write_bytes(b"mine")
    assert resolve_model("int8") == Path("int8")
    with pytest.raises(ModelError, match="shipped model name"):
        Detector.load("int8")  # the local file has no .onnx suffix: an error naming what is accepted
    (tmp_path / "int8").unlink()
    int8, fp32 = Detector.load("int8", threads=1), Detector.load("fp32", threads=1)
    assert int8.backend.info.extra["precision"] == "int8" and int8.classes == fp32.classes
    image = np.full((300, 400, 3), 128, np.uint8)
    cv2.circle(image, (200, 150), 60, (90, 140, 200), -1)
    boxes8, scores8 = int8.backend(int8_input := _tensor(int8, image))
    boxes32, scores32 = fp32.backend(int8_input)
    assert np.abs(scores8 - scores32).max() < 0.25  # the export's own parity tolerance for INT8 scores


def _tensor(det, image):
    from dabai.runtime.preprocess import letterbox, to_tensor_layout

    canvas, _ = letterbox(image[..., ::-1], det.input_size)
    return to_tensor_layout([canvas])


def test_the_second_look_finds_more_faces_in_a_crowd_and_the_flag_turns_it_off(tmp_path, face_mask_dir):
    """The shipped checker on a crowd photo of the face-mask source (many small faces): the tiled second
    look triggers and finds faces the single pass misses; `predict --no-second-look` is the single pass."""
    image = face_mask_dir / "images" / "maksssksksss104.jpg"
    counts = {}
    for flag in ([], ["--no-second-look"]):
        js = tmp_path / f"{len(flag)}.json"
        proc = _dabai("predict", str(image), "--threads", "1", "--out-json", str(js), *flag)
        assert proc.returncode == 0, proc.stderr
        counts[bool(flag)] = len({tuple(d["bbox"]) for d in json.loads(js.read_text())})
    assert counts[False] > counts[True] > 0, counts
