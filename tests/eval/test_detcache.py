"""The detection cache (eval/detcache.py) and the score floor: what the picture commands reuse and skip."""

from __future__ import annotations

import json

import pytest

from dabai.cli.main import main
from dabai.core.errors import DataError
from dabai.data.formats import read_dataset
from dabai.data.synth import make_sample_dataset
from dabai.eval import api
from dabai.eval.api import _scoring_detector, model_detections
from dabai.eval.detcache import DetectionCache, cache_dir
from dabai.runtime.postprocess import PostprocessOptions
from dabai.runtime.types import Detection


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache-data")
    make_sample_dataset(root / "voc", n_images=6, seed=4)
    return root / "voc"


@pytest.fixture(scope="module")
def full(sample):
    """The shipped checker's detections on the sample at floor 0, predicted without any cache."""
    return model_detections(_scoring_detector(None), read_dataset(sample), "sample", progress=False, cache=False)


def test_store_and_lookup_by_image_bytes_and_floor(sample, tmp_path):
    ds = read_dataset(sample)
    cache = DetectionCache.for_model(None, PostprocessOptions(conf=0.05), root=tmp_path)
    dets = {im.name: [Detection((1.0, 2.0, 30.5, 40.25), 0.9, "with_mask"), Detection((5, 5, 9, 9), 0.07, "without_mask")]
            for im in ds.images}
    assert cache.lookup(ds.images, 0.05) == {}
    cache.store(ds.images, dets, 0.05)
    assert cache.path.parent == cache_dir(tmp_path)
    again = DetectionCache.for_model(None, PostprocessOptions(conf=0.05), root=tmp_path)
    assert again.lookup(ds.images, 0.05) == dets  # exactly as stored
    assert all(len(v) == 1 and v[0].score == 0.9 for v in again.lookup(ds.images, 0.3).values())  # higher floor: filtered
    assert again.lookup(ds.images, 0.0) == {}  # made at 0.05: cannot serve a lower floor
    # another image with the same name: other bytes, no entry
    path = ds.images[0].path
    path.write_bytes(path.read_bytes() + b"\0")
    assert set(DetectionCache.for_model(None, PostprocessOptions(), root=tmp_path).lookup(ds.images, 0.05)) == \
        {im.name for im in ds.images[1:]}


def test_other_model_or_settings_use_another_file_and_damage_is_an_error(tmp_path):
    a = DetectionCache.for_model(None, PostprocessOptions(), root=tmp_path)
    assert DetectionCache.for_model("fp32", PostprocessOptions(), root=tmp_path).path != a.path  # the default is int8
    assert DetectionCache.for_model(None, PostprocessOptions(iou=0.6), root=tmp_path).path != a.path
    assert DetectionCache.for_model(None, PostprocessOptions(conf=0.9), root=tmp_path).path == a.path  # floor: per entry
    # the gate's detections (no second look at crowds) are not the tiled ones
    assert DetectionCache.for_model(None, PostprocessOptions(), root=tmp_path, second_look=True).path != a.path
    a.path.parent.mkdir(parents=True)
    a.path.write_text("{not json")
    with pytest.raises(DataError, match="damaged detection cache"):
        a.lookup([], 0.0)
    a.path.write_text(json.dumps({"format": "dabai-detection-cache/1", "sha256": "0" * 64, "settings": a.settings,
                                  "images": {}}))
    with pytest.raises(DataError, match="not this model's"):
        a.lookup([], 0.0)


def test_floor_keeps_exactly_the_detections_above_it(sample, full):
    ds = read_dataset(sample)
    floored = model_detections(_scoring_detector(None, 0.05), ds, "sample", progress=False, cache=False)
    assert any(d.score < 0.05 for dets in full.values() for d in dets)  # the floor drops something here
    assert floored == {name: [d for d in dets if d.score >= 0.05] for name, dets in full.items()}


def test_second_run_reuses_the_cache_and_predicts_only_changed_images(sample, full, tmp_path, monkeypatch):
    monkeypatch.setenv("DABAI_CACHE_DIR", str(tmp_path / "cache"))
    ds = read_dataset(sample)
    assert model_detections(_scoring_detector(None), ds, "sample", progress=False) == full
    predicted = []
    real = api.predict_dataset

    def counting(detector, dataset, *args, **kwargs):
        predicted.extend(im.name for im in dataset.images)
        return real(detector, dataset, *args, **kwargs)

    monkeypatch.setattr(api, "predict_dataset", counting)
    assert model_detections(_scoring_detector(None), ds, "sample", progress=False) == full
    assert predicted == []
    floored = model_detections(_scoring_detector(None, 0.3), ds, "sample", progress=False)  # served from floor 0
    assert predicted == [] and floored == {n: [d for d in v if d.score >= 0.3] for n, v in full.items()}
    changed = ds.images[2]
    changed.path.write_bytes(changed.path.read_bytes() + b"\0")  # same pixels, other bytes: not the same file
    model_detections(_scoring_detector(None), ds, "sample", progress=False)
    assert predicted == [changed.name]
    model_detections(_scoring_detector(None), ds, "sample", progress=False, cache=False)
    assert len(predicted) == 1 + len(ds)  # --no-cache predicts every image


def test_eval_cli_score_floor_and_workers(sample, tmp_path, capsys):
    def run(*extra):
        capsys.readouterr()
        code = main(["eval", "--data", str(sample), "--plots", str(tmp_path / "p"), "--json", *extra])
        return code, capsys.readouterr()

    code, out = run()
    assert code == 0 and json.loads(out.out)["score_floor"] == 0.0
    code, out = run("--gallery", str(tmp_path / "g"), "--workers", "1")
    assert code == 0 and json.loads(out.out)["score_floor"] == 0.05  # the picture floor by default
    assert (tmp_path / "g" / "index.html").is_file()
    code, out = run("--score-floor", "0.2", "--no-cache")
    assert code == 0 and json.loads(out.out)["score_floor"] == 0.2
    code, out = run("--score-floor", "1.5")
    assert code == 2 and "score floor 1.5" in out.err
    code, out = run("--workers", "-1")
    assert code == 2 and "--workers -1" in out.err
    code, out = run("--operating-points", "--score-floor", "0.1")
    assert code == 2 and "--score-floor" in out.err
