"""dabai prune: forward still works, MACs drop, heads keep their outputs, the checkpoint reloads and retrains."""

from __future__ import annotations

import json

import pytest

from dabai.cli.main import main
from dabai.core.errors import ConfigError
from dabai.export.prune import PruneOptions, count_macs_params, prune_checkpoint, prune_model
from dabai.models.checkpoint import load_checkpoint, model_from_checkpoint

from .conftest import SIZE, tiny_model

torch = pytest.importorskip("torch")


def test_ratio_prune_reduces_macs_and_keeps_heads():
    model = tiny_model()
    macs, params = count_macs_params(model)
    prune_model(model, PruneOptions(model="x.pt", out="y.pt", ratio=0.3))
    macs2, params2 = count_macs_params(model)
    assert macs2 < 0.7 * macs and params2 < params
    for level in model.head.levels:
        assert level.cls.out_channels == 3 and level.reg.out_channels == 4
    boxes, scores = model.decode(torch.rand(2, 3, SIZE, SIZE) * 255)
    assert boxes.shape[-1] == 4 and scores.shape[-1] == 3 and torch.isfinite(boxes).all()


def test_exclude_keeps_named_layers_whole():
    model = tiny_model()
    before = model.stages[0][0][0].out_channels
    prune_model(model, PruneOptions(model="x.pt", out="y.pt", ratio=0.4, exclude=("stages.0*",)))
    assert model.stages[0][0][0].out_channels == before


def test_expansion_only_recipe_keeps_every_residual_width_and_thins_the_expansions():
    """The recipe of docs/deploy.md: excluding the project convs, stem, neck and head prunes only the
    inverted residuals' hidden (expansion) channels; the residual stream and the neck stay whole."""
    model = tiny_model()
    convs = lambda: {n: m.out_channels for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}  # noqa: E731
    before = convs()
    prune_model(model, PruneOptions(model="x.pt", out="y.pt", ratio=0.5,
                                    exclude=("stages.*.conv.2", "stages.0.0*", "neck*", "head*")))
    after = convs()
    changed = {n for n in before if after[n] != before[n]}
    assert changed and all(".conv.0." in n or ".conv.1." in n for n in changed), changed
    assert all(after[n] == before[n] for n in before if n.endswith(".conv.2") or n.startswith(("neck", "head")))
    boxes, scores = model.decode(torch.rand(1, 3, SIZE, SIZE) * 255)
    assert torch.isfinite(boxes).all() and torch.isfinite(scores).all()


def test_exclude_that_matches_nothing_is_an_error():
    with pytest.raises(ConfigError, match="matches no layer"):
        prune_model(tiny_model(), PruneOptions(model="x.pt", out="y.pt", ratio=0.3, exclude=("no_such_layer",)))


@pytest.mark.parametrize("kwargs, message", [({}, "exactly one"), ({"ratio": 0.2, "threshold": 0.1}, "exactly one"),
                                             ({"ratio": 1.5}, "between 0 and 1")])
def test_option_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        prune_model(tiny_model(), PruneOptions(model="x.pt", out="y.pt", **kwargs))


def test_threshold_prune_checkpoint_reloads_and_reports(tiny_ckpt, tmp_path):
    out = tmp_path / "pruned.pt"
    report = prune_checkpoint(PruneOptions(model=str(tiny_ckpt), out=str(out), threshold=0.3, criterion="bn",
                                           latency_runs=3))
    assert report.after["macs"] < report.before["macs"]
    model = model_from_checkpoint(load_checkpoint(out))  # the lead's loader handles pruned modules
    boxes, scores = model.decode(torch.rand(1, 3, SIZE, SIZE) * 255)
    assert scores.shape[-1] == 3
    data = json.loads((tmp_path / "pruned_report.json").read_text())
    assert data["reduction"]["macs"] > 0 and "onnx_p50_ms" in data["before"]
    assert "| MACs |" in (tmp_path / "pruned_report.md").read_text()


def test_cli_prune_then_export_and_eval(tiny_ckpt, tiny_images, tmp_path, capsys):
    out = tmp_path / "p.pt"
    assert main(["prune", "--model", str(tiny_ckpt), "--ratio", "0.25", "--latency-runs", "0", "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reduction"]["macs"] > 0.2
    assert main(["export", "--model", str(out), "--out", str(tmp_path / "p.onnx")]) == 0
    assert main(["eval", "--model", str(out), "--data", str(tiny_images), "--plots", str(tmp_path / "ev"), "--json"]) == 0


def test_cli_prune_needs_a_mode(tiny_ckpt, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["prune", "--model", str(tiny_ckpt), "--out", str(tmp_path / "p.pt")])


@pytest.mark.slow
def test_pruned_checkpoint_retrains(tiny_ckpt, tmp_path):
    import yaml

    from dabai.data.synth import SAMPLE_CLASSES, make_sample_dataset

    data = tmp_path / "d"
    make_sample_dataset(data / "train", n_images=8, seed=1)
    make_sample_dataset(data / "val", n_images=4, seed=2)
    pruned = tmp_path / "pruned.pt"
    prune_checkpoint(PruneOptions(model=str(tiny_ckpt), out=str(pruned), ratio=0.3, latency_runs=0))
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "data": {"train": str(data / "train"), "val": str(data / "val"), "workers": 0},
        "classes": list(SAMPLE_CLASSES), "model": {"name": "mnv2_pan", "input_size": SIZE}, "epochs": 1,
        "batch_size": 4, "output_dir": str(tmp_path / "runs"), "name": "run", "threads": 1, "export_onnx": False}))
    assert main(["train", str(spec), "--init", str(pruned)]) == 0
    best = load_checkpoint(tmp_path / "runs" / "run" / "checkpoints" / "best.pt")
    assert best["module"] is not None
    retrained = model_from_checkpoint(best)
    assert count_macs_params(retrained)[0] < count_macs_params(tiny_model())[0]


@pytest.mark.slow
def test_pruned_student_distils_from_its_unpruned_parent(tiny_ckpt, tmp_path):
    import csv

    import yaml

    from dabai.data.synth import SAMPLE_CLASSES, make_sample_dataset

    data = tmp_path / "d"
    make_sample_dataset(data / "train", n_images=8, seed=1)
    pruned = tmp_path / "pruned.pt"
    prune_checkpoint(PruneOptions(model=str(tiny_ckpt), out=str(pruned), ratio=0.3, latency_runs=0))
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "data": {"train": str(data / "train"), "workers": 0}, "classes": list(SAMPLE_CLASSES),
        "model": {"name": "mnv2_pan", "input_size": SIZE}, "epochs": 1, "batch_size": 4,
        "output_dir": str(tmp_path / "runs"), "name": "run", "threads": 1, "export_onnx": False}))
    assert main(["train", str(spec), "--init", str(pruned), "--teacher", str(tiny_ckpt)]) == 0
    rows = list(csv.DictReader(open(tmp_path / "runs" / "run" / "metrics.csv")))
    assert float(rows[0]["loss_distill"]) > 0


@pytest.mark.parametrize("out, report, expected", [
    ("runs/pruned.pt", None, ("runs/pruned_report.json", "runs/pruned_report.md")),
    ("runs/pruned_0.22.pt", None, ("runs/pruned_0.22_report.json", "runs/pruned_0.22_report.md")),
    ("pruned.pt", "reports/r0.25", ("reports/r0.25.json", "reports/r0.25.md")),
])
def test_report_paths_append_the_suffix(out, report, expected):
    from dabai.export.prune import PruneOptions, report_paths

    paths = report_paths(PruneOptions(model="m.pt", out=out, ratio=0.25, report=report))
    assert tuple(str(p) for p in paths) == expected
