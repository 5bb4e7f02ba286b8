"""`dabai eval` against an independent COCO evaluator (faster-coco-eval) run on dabai's output files.

The detector issue's acceptance: `dabai predict --json … --conf 0` scored by an independent evaluator,
and `dabai eval` agreeing with it to within 0.01 mAP. Only files pass between the two: the ground
truth as `dabai data convert --to coco` writes it, the detections as `dabai predict --json` writes them,
read by scripts/independent_coco_eval.py, which imports nothing from dabai.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dabai.cli.main import main

pytest.importorskip("faster_coco_eval", reason="faster-coco-eval is in the dev extras: pip install -e '.[dev]'")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "independent_coco_eval.py"
TOLERANCE = 0.01  # the bound; in practice the two agree to the 4th decimal


def _subset(face_mask_dir: Path, root: Path, n: int) -> Path:
    """The first n photos of the shared dataset, linked (not copied) into a VOC folder."""
    for sub in ("images", "annotations"):
        (root / sub).mkdir(parents=True)
    images = {p.stem: p for p in (face_mask_dir / "images").iterdir()}
    for xml in sorted((face_mask_dir / "annotations").glob("*.xml"))[:n]:
        (root / "annotations" / xml.name).symlink_to(xml)
        (root / "images" / images[xml.stem].name).symlink_to(images[xml.stem])
    return root


def _both_scores(data: Path, tmp: Path, capsys) -> tuple[dict, dict]:
    """(dabai eval --json, faster-coco-eval on the predict --json and convert --to coco files)."""
    assert main(["data", "convert", str(data), "--to", "coco", "--out", str(tmp / "gt"), "--link"]) == 0
    assert main(["predict", str(data / "images"), "--out-json", str(tmp / "preds.json"), "--conf", "0"]) == 0
    capsys.readouterr()
    assert main(["eval", "--data", str(data), "--json", "--plots", str(tmp / "plots")]) == 0
    ours = json.loads(capsys.readouterr().out)
    gt_json = next((tmp / "gt").rglob("*.json"))
    out = subprocess.run([sys.executable, str(SCRIPT), str(gt_json), str(tmp / "preds.json")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    return ours, theirs


def test_dabai_eval_agrees_with_faster_coco_eval_on_real_photos(face_mask_dir, tmp_path, capsys):
    data = _subset(face_mask_dir, tmp_path / "data", n=60)
    ours, theirs = _both_scores(data, tmp_path, capsys)
    assert ours["map50"] > 0.5  # the shipped model on photos it mostly saw: a real score, not 0 == 0
    assert abs(ours["map50"] - theirs["map50"]) <= TOLERANCE
    assert abs(ours["map50_95"] - theirs["map50_95"]) <= TOLERANCE
    for name, ap in theirs["ap50"].items():
        assert abs(ours["ap50"][name] - ap) <= TOLERANCE, name
