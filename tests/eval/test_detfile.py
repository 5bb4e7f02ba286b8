"""Saved detections (eval/detfile.py): the picture commands reuse them, and never those of another model or data."""

from __future__ import annotations

import json

import pytest

from dabai.cli.main import main
from dabai.core.errors import DataError
from dabai.data.formats import read_dataset
from dabai.data.synth import make_sample_dataset
from dabai.eval.detfile import load_detections, save_detections
from dabai.runtime.types import Detection


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("det")
    make_sample_dataset(root / "voc", n_images=6, seed=9)
    assert main(["eval", "--data", str(root / "voc"), "--plots", str(root / "p"), "--json",
                 "--save-detections", str(root / "dets.json")]) == 0
    return root


def test_eval_from_saved_detections_scores_the_same(saved, capsys):
    capsys.readouterr()
    assert main(["eval", "--data", str(saved / "voc"), "--plots", str(saved / "p2"), "--json",
                 "--detections", str(saved / "dets.json"), "--gallery", str(saved / "g")]) == 0
    again = json.loads(capsys.readouterr().out)
    # --gallery scores detections >= 0.05 (its picture floor), so the fresh run must use the same floor
    assert main(["eval", "--data", str(saved / "voc"), "--plots", str(saved / "p3"), "--json",
                 "--score-floor", str(again["score_floor"])]) == 0
    fresh = json.loads(capsys.readouterr().out)
    assert again["score_floor"] == 0.05
    assert again["map50"] == fresh["map50"] and again["ap50"] == fresh["ap50"]
    # and without a floor, the saved detections score as a plain eval does
    assert main(["eval", "--data", str(saved / "voc"), "--plots", str(saved / "p4"), "--json",
                 "--detections", str(saved / "dets.json")]) == 0
    saved_plain = json.loads(capsys.readouterr().out)
    assert main(["eval", "--data", str(saved / "voc"), "--plots", str(saved / "p5"), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert saved_plain["map50"] == plain["map50"] and saved_plain["detections"] == plain["detections"]
    assert (saved / "g" / "index.html").is_file()
    assert main(["data", "audit", str(saved / "voc"), "--detections", str(saved / "dets.json"),
                 "--out", str(saved / "a"), "--json"]) == 0
    assert (saved / "a" / "audit.csv").is_file()


def test_other_model_or_other_data_is_refused(saved, tmp_path, capsys):
    assert main(["eval", "--data", str(saved / "voc"), "--model", "fp32", "--detections",
                 str(saved / "dets.json")]) != 0  # saved by the default model (int8)
    assert "another model" in capsys.readouterr().err
    make_sample_dataset(tmp_path / "other", n_images=3, seed=1)
    ds = read_dataset(tmp_path / "other")
    for im in ds.images:
        im.name = "x_" + im.name
    with pytest.raises(DataError, match="no detections for 3 images"):
        load_detections(saved / "dets.json", ds, None)


def test_a_file_with_fewer_scores_is_refused(saved, tmp_path):
    ds = read_dataset(saved / "voc")
    path = save_detections(tmp_path / "d.json", {im.name: [Detection((0, 0, 5, 5), 0.9, "with_mask")]
                                                   for im in ds.images}, None, ds.classes, conf=0.3)
    assert len(load_detections(path, ds, None, conf=0.3)) == len(ds)
    with pytest.raises(DataError, match=">= 0.3 only"):
        load_detections(path, ds, None, conf=0.0)
