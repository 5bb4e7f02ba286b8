"""Predicting on a process pool (eval/pool.py) gives what one process gives, in the images' order."""

from __future__ import annotations

from dabai.data.formats import read_dataset
from dabai.data.synth import make_sample_dataset
from dabai.eval import api
from dabai.eval.api import _scoring_detector, model_detections, predict_dataset
from dabai.eval.pool import default_workers, predict_records


def test_pool_gives_the_same_detections_as_one_process(tmp_path):
    make_sample_dataset(tmp_path / "voc", n_images=10, seed=2)
    ds = read_dataset(tmp_path / "voc")
    detector = _scoring_detector(None, 0.01)
    one = predict_dataset(detector, ds, batch_size=3, progress=False)
    pooled = predict_records(None, detector.options, ds.images, workers=2, batch_size=3, progress=False)
    assert list(pooled) == [im.name for im in ds.images]
    assert pooled == one
    assert any(pooled.values())


def test_model_detections_uses_the_pool_for_many_images(tmp_path, monkeypatch):
    make_sample_dataset(tmp_path / "voc", n_images=4, seed=3)
    ds = read_dataset(tmp_path / "voc")
    calls = []
    monkeypatch.setattr(api, "POOL_MIN_IMAGES", 2)
    monkeypatch.setattr("dabai.eval.pool.predict_records",
                        lambda model, options, records, workers, *a, **k: calls.append((model, workers, len(records)))
                        or {im.name: [] for im in records})
    found = model_detections(_scoring_detector(None), ds, "sample", progress=False, workers=2, cache=False)
    assert calls == [(None, 2, 4)] and found == {im.name: [] for im in ds.images}
    calls.clear()
    model_detections(_scoring_detector(None), ds, "sample", progress=False, workers=1, cache=False)
    assert calls == []  # one worker: this process
    assert default_workers() >= 1
