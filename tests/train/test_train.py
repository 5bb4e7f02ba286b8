"""Training runs end to end on tiny data: run dir contents, class checks, NaN guard, OOM back-off."""

from __future__ import annotations

import csv

import pytest

torch = pytest.importorskip("torch")

from dabai.core.errors import ConfigError  # noqa: E402
from dabai.pipeline import train  # noqa: E402
from dabai.train.engine import NonFiniteLossError  # noqa: E402
from dabai.train.spec import load_spec  # noqa: E402


def test_run_directory_has_everything(tiny_data, tmp_path, write_spec):
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", export_onnx=True)))
    run = train(spec)
    for name in ("spec.yaml", "metrics.csv", "curves.png", "best.onnx", "summary.json",
                 "checkpoints/epoch_001.pt", "checkpoints/epoch_002.pt", "checkpoints/best.pt", "checkpoints/last.pt"):
        assert (run / name).is_file(), name
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert all(r["val_map50"] != "" for r in rows)
    payload = torch.load(run / "checkpoints" / "last.pt", weights_only=False)
    assert {"optimizer", "scheduler", "scaler", "epoch", "rng", "spec"} <= set(payload)


def test_class_mismatch_names_both_lists(tiny_data, tmp_path, write_spec):
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs",
                                    classes=["With_Mask", "without_mask", "mask_weared_incorrect"])))
    with pytest.raises(ConfigError) as info:
        train(spec)
    msg = str(info.value)
    assert "['With_Mask', 'without_mask', 'mask_weared_incorrect']" in msg
    assert "'with_mask' looks like 'With_Mask'" in msg


def test_existing_run_is_not_overwritten(tiny_data, tmp_path, write_spec):
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", epochs=1)))
    train(spec)
    with pytest.raises(ConfigError, match="already holds a run; use --resume"):
        train(spec)


def _nan_after(monkeypatch, bad_step: int):
    from dabai.train import loss as loss_mod

    original = loss_mod.DetectionLoss.__call__
    calls = {"n": 0}

    def patched(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == bad_step:
            out.total = out.total * float("nan")
        return out

    monkeypatch.setattr(loss_mod.DetectionLoss, "__call__", patched)
    return calls


def test_non_finite_loss_stops_with_advice(tiny_data, tmp_path, monkeypatch, write_spec):
    _nan_after(monkeypatch, bad_step=3)
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs")))
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at epoch 1, step 3 .*Lower optimizer.lr.*--nan-retry"):
        train(spec)


def test_nan_retry_restores_and_halves_lr(tiny_data, tmp_path, monkeypatch, write_spec):
    _nan_after(monkeypatch, bad_step=6)  # epoch 2 (4 steps per epoch)
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", nan_retry=True)))
    run = train(spec)
    events = (run / "events.log").read_text()
    assert "non-finite loss: restored last.pt, lr halved" in events
    payload = torch.load(run / "checkpoints" / "last.pt", weights_only=False)
    assert payload["epoch"] == 1
    assert payload["scheduler"]["base_lrs"][0] == pytest.approx(spec.optimizer.lr / 2)


def test_out_of_memory_halves_the_batch_and_goes_on(tiny_data, tmp_path, monkeypatch, write_spec):
    from dabai.models.mnv2_det import MobileNetV2Detector

    original = MobileNetV2Detector.forward

    def limited(self, x):
        if x.shape[0] > 2:
            raise torch.OutOfMemoryError("simulated: batch too large")
        return original(self, x)

    monkeypatch.setattr(MobileNetV2Detector, "forward", limited)
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", epochs=1, **{"data.val": None})))
    run = train(spec)
    assert "out of memory: running each batch in 2 chunks" in (run / "events.log").read_text()
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=False)["micro_batches"] == 2


def test_frozen_layers_stay_fixed_and_sparse_validation_keeps_metrics_readable(tiny_data, tmp_path, write_spec):
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs",
                                    **{"epochs": 3, "eval_every": 2, "model.freeze": 4})))
    run = train(spec)
    first = torch.load(run / "checkpoints" / "epoch_001.pt", weights_only=False)["model"]
    last = torch.load(run / "checkpoints" / "last.pt", weights_only=False)["model"]
    frozen = [k for k in first if k.startswith(("stages.0.0.", "stages.0.1.", "stages.0.2.", "stages.0.3."))]
    assert frozen and all(torch.equal(first[k], last[k]) for k in frozen)  # weights and BN statistics
    assert any(not torch.equal(first[k], last[k]) for k in first if k.startswith("head."))
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert [r["val_map50"] != "" for r in rows] == [False, True, True]  # epoch 3 is the last: always scored
    assert rows[0]["ap50_with_mask"] == "" and rows[1]["ap50_with_mask"] != ""


@pytest.mark.parametrize("decay", [0.9, 0.0])
def test_checkpoints_hold_the_weight_average_as_model_and_the_live_weights_for_resume(tiny_data, tmp_path, write_spec, decay):
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", **{"ema.decay": decay})))
    run = train(spec)
    payload = torch.load(run / "checkpoints" / "last.pt", weights_only=False)
    if decay == 0:  # no average: the live weights are the model
        assert payload["train_model"] is None and payload["ema_updates"] is None
        return
    assert payload["ema_updates"] == 2 * 4  # 2 epochs x 16 images / batch 4
    avg, live = payload["model"], payload["train_model"]
    assert set(avg) == set(live)
    assert any(not torch.equal(avg[k], live[k]) for k in avg if k.startswith("head."))


def test_extra_train_directories_join_the_training_set(tiny_data, tmp_path, write_spec):
    from dabai.train.distributed import DistContext
    from dabai.train.runner import Runner

    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs",
                                    **{"data.extra_train": [str(tiny_data / "val")], "data.val": None})))
    runner = Runner(spec, tmp_path / "run", DistContext())
    assert len(runner.train_set) == 16 + 6
    assert {r.path.parent.parent.name for r in runner.train_set.images} == {"train", "val"}
    assert runner.val_set is None


def test_extra_train_with_another_class_names_that_directory(tiny_data, tmp_path, write_spec):
    from dataclasses import replace

    from dabai.data.formats import read_dataset, voc

    other = read_dataset(tiny_data / "val")
    relabelled = [replace(r, boxes=[replace(b, label="helmet") for b in r.boxes]) for r in other.images]
    voc.write(replace(other, images=relabelled, classes=["helmet"]), tmp_path / "helmets", "copy")
    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs",
                                    **{"data.extra_train": [str(tmp_path / "helmets")]})))
    with pytest.raises(ConfigError, match=r"helmets: the data's classes \['helmet'\]"):
        train(spec)


def test_best_onnx_is_exported_at_export_input_size(tiny_data, tmp_path, write_spec):
    import onnx

    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", epochs=1, export_onnx=True,
                                    export_input_size=128)))
    run = train(spec)
    props = {p.key: p.value for p in onnx.load(str(run / "best.onnx")).metadata_props}
    assert props["input_size"] == "128"
    payload = torch.load(run / "checkpoints" / "best.pt", weights_only=False)
    assert payload["input_size"] == 96  # the checkpoint keeps its trained side


def test_select_last_exports_the_last_checkpoint(tiny_data, tmp_path, write_spec):
    import json

    spec = load_spec(str(write_spec(tmp_path / "s.yaml", tiny_data, tmp_path / "runs", epochs=1, export_onnx=True,
                                    select="last")))
    run = train(spec)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["selected"] == "last" and summary["checkpoint"].endswith("checkpoints/last.pt")
    assert (run / "last.onnx").is_file() and not (run / "best.onnx").exists()
    with pytest.raises(ConfigError, match="select"):
        load_spec(str(write_spec(tmp_path / "bad.yaml", tiny_data, tmp_path / "runs", select="worst")))
