"""Paired bootstrap comparison (eval/compare.py): COCO's AP@0.5 re-derived from per-image matches."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.eval.coco import coco_evaluate
from dabai.eval.compare import average_precision, compare_detections
from dabai.runtime.types import Detection

from .test_coco import CLASSES, _dataset, _perfect


def noisy(ds, seed, keep=0.8, relabel=0.15, false_positives=2):
    """Detections with misses, jitter, wrong labels and background boxes (as in test_coco)."""
    rng = np.random.default_rng(seed)
    out = {}
    for im in ds.images:
        dets = []
        for b in im.boxes:
            if rng.random() < keep:
                box = tuple(float(v) for v in np.array(b.as_list()) + rng.normal(0, 3, 4))
                label = b.label if rng.random() > relabel else str(rng.choice(CLASSES))
                dets.append(Detection(box, float(rng.random()), label))
        for _ in range(false_positives):
            x, y = rng.uniform(0, 300, 2)
            dets.append(Detection((x, y, x + 30, y + 30), float(rng.random()) * 0.5, str(rng.choice(CLASSES))))
        out[im.name] = dets
    return out


@pytest.mark.parametrize("seed", range(4))
def test_full_set_ap_equals_pycocotools(seed):
    ds = _dataset(n_images=25, seed=seed)
    a, b = noisy(ds, seed), noisy(ds, seed + 100, keep=0.6)
    result = compare_detections(ds, a, b, CLASSES, resamples=0)
    assert result.map50_a == pytest.approx(coco_evaluate(ds, a, CLASSES).map50, abs=1e-9)
    assert result.map50_b == pytest.approx(coco_evaluate(ds, b, CLASSES).map50, abs=1e-9)
    expected = coco_evaluate(ds, b, CLASSES).ap50
    for name, diff in result.ap50_diff.items():
        assert diff == pytest.approx(expected[name] - coco_evaluate(ds, a, CLASSES).ap50[name], abs=1e-9)


@pytest.mark.parametrize("hits, expected", [
    ([1], 1.0),  # one box, found first
    ([0, 1], 0.5),  # a false positive ranked above the only box
    ([1, 0, 0], 1.0),  # false positives after full recall cost nothing
    ([0, 0], 0.0),  # nothing found
])
def test_average_precision_hand_made(hits, expected):
    scores = np.linspace(0.9, 0.1, len(hits))
    assert average_precision(scores, np.array(hits), num_gt=1) == pytest.approx(expected)


def test_a_model_against_itself_is_not_told_apart():
    ds = _dataset(n_images=30, seed=1)
    a = noisy(ds, 1)
    result = compare_detections(ds, a, a, CLASSES, resamples=200)
    assert result.diff == 0 and result.ci_low == 0 and result.ci_high == 0
    assert result.verdict.startswith("not told apart")


def test_a_clearly_better_model_wins_and_a_coin_flip_does_not():
    ds = _dataset(n_images=60, seed=2)
    weak = noisy(ds, 2, keep=0.5, relabel=0.4)
    strong = compare_detections(ds, weak, _perfect(ds), CLASSES, resamples=300, seed=0)
    assert strong.ci_low > 0 and strong.prob_b_better == 1.0 and strong.verdict.startswith("B is better")
    swapped = compare_detections(ds, _perfect(ds), weak, CLASSES, resamples=300, seed=0)
    assert swapped.ci_high < 0 and swapped.verdict.startswith("A is better")
    # two draws of the same noise process on few images: the interval must span 0
    few = _dataset(n_images=12, seed=3)
    coin = compare_detections(few, noisy(few, 5), noisy(few, 6), CLASSES, resamples=300, seed=0)
    assert coin.ci_low < 0 < coin.ci_high


def test_same_seed_same_interval():
    ds = _dataset(n_images=20, seed=4)
    a, b = noisy(ds, 4), noisy(ds, 5)
    first, again = (compare_detections(ds, a, b, CLASSES, resamples=100, seed=9) for _ in range(2))
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)


@pytest.fixture(scope="module")
def two_folders(tmp_path_factory):
    from dabai.data.synth import make_sample_dataset

    root = tmp_path_factory.mktemp("cmp")
    make_sample_dataset(root / "a", n_images=5, seed=1)
    make_sample_dataset(root / "b", n_images=5, seed=2)
    return root


def test_cli_compares_the_shipped_model_with_itself_on_pooled_folders(two_folders, tmp_path, capsys):
    import json

    from dabai.cli.main import main

    # same file names in both folders: pooling them is refused, naming the name and both folders
    assert main(["eval", "--compare", "int8", "--data", str(two_folders / "a"), str(two_folders / "b"),
                 "--bootstrap", "100"]) == 2
    assert "pooled folders must not share image names" in capsys.readouterr().err
    assert main(["eval", "--compare", "fp32", "--data", str(two_folders / "a"), "--bootstrap", "10"]) == 2
    assert "--bootstrap 10 is too few" in capsys.readouterr().err
    gallery = tmp_path / "gallery"  # a report that draws nothing is refused, not silently skipped
    assert main(["eval", "--compare", "fp32", "--data", str(two_folders / "a"), "--gallery", str(gallery)]) == 2
    assert "--gallery draws the errors of a plain" in capsys.readouterr().err and not gallery.exists()
    # the default model (int8) against itself, named
    assert main(["eval", "--compare", "int8", "--data", str(two_folders / "a"), "--bootstrap", "100", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["diff"] == 0 and doc["ci95"] == [0, 0] and doc["verdict"].startswith("not told apart")


def test_python_api_pools_folders_and_compares(two_folders, tmp_path):
    from dabai import Detector, compare_models
    from dabai.data.formats import read_dataset, write_dataset
    from dabai.data.synth import make_sample_dataset

    # a second folder with other image names can be pooled with the first
    make_sample_dataset(tmp_path / "c", n_images=4, seed=3)
    renamed = tmp_path / "c2"
    renamed.mkdir()
    ds = read_dataset(tmp_path / "c")
    for im in ds.images:
        im.name = "other_" + im.name
    write_dataset(ds, renamed / "voc", "voc")
    detector = Detector.load()
    result = compare_models(detector, detector.with_options(conf=0.5), [two_folders / "a", renamed / "voc"],
                            resamples=100)
    # the conf option is replaced by evaluation's conf 0: the same detector twice, no difference
    assert result.diff == 0 and result.map50_a == result.map50_b
