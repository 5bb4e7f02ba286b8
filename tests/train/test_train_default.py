"""scripts/train_default.sh (`make train-default`): the steps it runs, in order, with paths that meet, and the
timing table it writes. The real run (an hour on ../shared) is in docs/benchmarks.md ("Training time"); here a
stand-in python records each command instead of running it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "train_default.sh"

pytestmark = pytest.mark.skipif(not Path("/usr/bin/time").is_file() or shutil.which("sh") is None,
                                reason="needs sh and GNU time (apt-get install time)")


def fake_shared(tmp_path: Path) -> Path:
    shared = tmp_path / "shared"
    for src in ("face-mask", "face-mask-ilc2021", "face-mask-macwin", "face-mask-crops"):
        (shared / "data" / src).mkdir(parents=True)
    (shared / "weights").mkdir()
    (shared / "weights" / "face_detection_yunet.onnx").write_bytes(b"stand-in")
    (shared / "weights" / "ultraface-rfb-640-masked-face.onnx").write_bytes(b"stand-in")
    return shared


def run(tmp_path: Path, shared: Path, out: str = "out") -> subprocess.CompletedProcess:
    log = tmp_path / "calls.txt"
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n')
    python.chmod(0o755)
    env = {**os.environ, "PYTHON": str(python), "DABAI_SHARED": str(shared)}
    return subprocess.run(["sh", str(SCRIPT), str(tmp_path / out)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)


def test_every_step_runs_in_order_and_the_paths_meet(tmp_path):
    proc = run(tmp_path, fake_shared(tmp_path))
    assert proc.returncode == 0, proc.stderr
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    assert [c.split()[:4] for c in calls[:3]] == [["-m", "dabai", "data", "split"]] * 3
    paints = calls[3:7]
    assert [c.split()[:4] for c in paints] == [["-m", "dabai", "data", "paint-masks"]] * 4
    # the classifier spec's painted sources are what the paint steps write, from the training splits only
    from dabai.train.classifier import load_classifier_spec

    spec = load_classifier_spec(ROOT / "configs" / "mask_classifier.yaml")
    written = {c.split("--out ")[1].split()[0] for c in paints}
    assert written == {s.path for s in spec.sources if s.name.startswith("painted-")}
    assert all("/train " in c or "face-mask-crops" in c for c in paints)
    detector, classifier, finder, build = calls[7:]
    assert detector.startswith("-m dabai train configs/mask_detector.yaml --name default-detector")
    assert classifier.startswith("-m dabai train configs/mask_classifier.yaml --name default-classifier")
    # the finder is fine-tuned from the released UltraFace in the shared weights
    assert finder == (f"-m dabai train configs/face_finder.yaml --name default-finder --set "
                      f"pretrained={tmp_path / 'shared'}/weights/ultraface-rfb-640-masked-face.onnx")
    # the build step reads what the two training steps wrote (their --name under runs/train)
    assert "--detector runs/train/default-detector/last.onnx" in build
    assert "--classifier runs/train/default-classifier/classifier.onnx" in build
    # the build step asks for the shipped manifest's options (the mix, the second look at crowds)
    shipped = json.loads((Path(__file__).parents[2] / "src/dabai/assets/models/mask_checker.int8.json").read_text())
    for flag, key in (("--classifier-weight", "classifier_weight"), ("--tiles", "tiles"), ("--tile-trigger", "tile_trigger"),
                      ("--tile-where", "tile_where"), ("--flip", "flip")):
        assert f"{flag} {shipped[key]}" in build, (flag, build)
    # the second finder is the one the finder step trained
    assert "--face-finder runs/train/default-finder/face_finder.onnx" in build, build
    rows = [line.split("\t") for line in (tmp_path / "out" / "times.tsv").read_text().splitlines()]
    assert rows[0] == ["step", "wall_s", "cpu_s", "max_rss_kb"]
    assert [r[0] for r in rows[1:]] == ["split-face-mask", "split-ilc2021", "split-macwin", "paint-face-mask",
                                        "paint-ilc2021", "paint-macwin", "paint-crops", "train-detector",
                                        "train-classifier", "train-finder", "build-checker", "total"]
    assert float(rows[-1][1]) == pytest.approx(sum(float(r[1]) for r in rows[1:-1]), abs=0.05)


def test_missing_data_is_named_and_nothing_runs(tmp_path):
    shared = fake_shared(tmp_path)
    (shared / "data" / "face-mask-macwin").rmdir()
    proc = run(tmp_path, shared)
    assert proc.returncode == 2
    assert "face-mask-macwin not found" in proc.stderr and "DABAI_SHARED" in proc.stderr
    assert not (tmp_path / "calls.txt").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["face_detection_yunet.onnx", "ultraface-rfb-640-masked-face.onnx"])
def test_a_missing_face_model_is_named_and_nothing_runs(tmp_path, name):
    shared = fake_shared(tmp_path)
    (shared / "weights" / name).unlink()
    proc = run(tmp_path, shared)
    assert proc.returncode == 2 and f"{name} not found" in proc.stderr
    assert not (tmp_path / "calls.txt").exists()
