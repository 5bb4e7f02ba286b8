"""Structured channel pruning of a detector checkpoint (``dabai prune``), TAO ``tlt-prune`` style.

Torch-Pruning's dependency graph (DepGraph) finds every group of coupled
channels (a conv's outputs, the BN after it, the depthwise conv and the
residual adds that share them) so a pruned channel disappears everywhere at
once and the network stays valid. Two modes:

* ``ratio``: remove that fraction of the channels of every prunable group, the
  least important first (L2/L1 weight magnitude, or BN |gamma|);
* ``threshold``: like tlt-prune's ``-pth``, remove the channels whose importance,
  divided by the largest in their group, is below the threshold.

The prediction convs (``cls``/``reg`` of every head level) and the layers named
in ``exclude`` keep all their output channels. Channel counts are rounded to a
multiple of ``round_to`` so the kernels stay SIMD-friendly.
"""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from dabai.core.errors import ConfigError, DependencyError

log = logging.getLogger("dabai.prune")
HEAD_OUTPUTS = ("cls", "reg")  # names of the prediction convs (models/head.py) whose outputs are fixed


@dataclass(frozen=True)
class PruneOptions:
    model: str  # dabai checkpoint (.pt) to prune
    out: str  # where the pruned checkpoint goes
    ratio: float | None = None  # fraction of channels removed per group (0 < r < 1)
    threshold: float | None = None  # remove channels whose importance / group max < threshold (tlt-prune -pth)
    criterion: Literal["l2", "l1", "bn"] = "l2"  # weight magnitude (L2/L1) or BatchNorm |gamma|
    exclude: tuple[str, ...] = ()  # module names or globs (e.g. "stages.0*") whose outputs are never pruned
    round_to: int = 8  # remaining channels per group rounded up to a multiple of this
    latency_runs: int = 20  # ONNX Runtime runs (1 thread) timed before and after; 0 skips the latency
    report: str | None = None  # report path stem (writes .json and .md); default: <out without .pt>_report


def check_options(o: PruneOptions) -> None:
    if (o.ratio is None) == (o.threshold is None):
        raise ConfigError("give exactly one of --ratio R or --threshold T")
    if o.ratio is not None and not 0.0 < o.ratio < 1.0:
        raise ConfigError(f"--ratio must be between 0 and 1 (exclusive), got {o.ratio}")
    if o.threshold is not None and not 0.0 < o.threshold < 1.0:
        raise ConfigError(f"--threshold is relative to the largest importance in a group: between 0 and 1, got {o.threshold}")
    if o.round_to < 1:
        raise ConfigError(f"--round-to must be >= 1, got {o.round_to}")
    if not str(o.out).endswith((".pt", ".pth")):
        raise ConfigError(f"--out {o.out}: a pruned model is a dabai checkpoint; name it *.pt")


def _tp():
    try:
        import torch_pruning
    except ImportError as exc:  # pragma: no cover - torch-pruning is in the train extra
        raise DependencyError("torch-pruning is needed for 'dabai prune': pip install 'dabai[train]'") from exc
    return torch_pruning


def protected_modules(model, exclude: tuple[str, ...]) -> list:
    """The head prediction convs plus every module whose name matches an ``exclude`` pattern."""
    names = dict(model.named_modules())
    keep = [m for n, m in names.items() if n.rsplit(".", 1)[-1] in HEAD_OUTPUTS]
    for pattern in exclude:
        hits = [m for n, m in names.items() if n and (fnmatch.fnmatch(n, pattern) or n.startswith(pattern + "."))]
        if not hits:
            raise ConfigError(f"--exclude {pattern!r} matches no layer; layer names look like "
                              f"{', '.join(n for n in list(names)[1:6])}, …")
        keep.extend(hits)
    return keep


def _importance(tp, criterion: str, normalizer):
    if criterion == "bn":
        return tp.importance.BNScaleImportance(normalizer=normalizer)
    return tp.importance.GroupMagnitudeImportance(p=2 if criterion == "l2" else 1, normalizer=normalizer)


def prune_model(model, options: PruneOptions) -> dict:
    """Prune ``model`` in place; returns {"groups_pruned", "channels_removed"}."""
    import torch

    tp = _tp()
    check_options(options)
    model = model.cpu().eval()
    size = model.input_size
    example = torch.rand(1, 3, size, size) * 255
    ignored = protected_modules(model, options.exclude)
    if options.ratio is not None:
        before = _conv_channels(model)
        pruner = tp.pruner.MetaPruner(model, example, importance=_importance(tp, options.criterion, "mean"),
                                      pruning_ratio=options.ratio, ignored_layers=ignored, round_to=options.round_to)
        pruner.step()
        after = _conv_channels(model)
        changed = [n for n in before if after[n] != before[n]]
        return {"layers_changed": len(changed), "channels_removed": sum(before[n] - after[n] for n in changed)}
    return _prune_threshold(tp, model, example, ignored, options)


def _prune_threshold(tp, model, example, ignored, options: PruneOptions) -> dict:
    import torch

    before = _conv_channels(model)
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=example)
    importance = _importance(tp, options.criterion, None)
    for group in list(graph.get_all_groups(ignored_layers=ignored, root_module_types=(torch.nn.Conv2d,))):
        scores = importance(group)
        if scores is None or len(scores) == 0:
            continue
        scores = scores / scores.max().clamp(min=1e-12)
        channels = len(scores)
        below = int((scores < options.threshold).sum())
        keep = -(-(channels - below) // options.round_to) * options.round_to  # round the kept count up
        keep = min(channels, max(keep, min(options.round_to, channels)))
        if keep == channels:
            continue
        idxs = torch.argsort(scores)[: channels - keep].tolist()
        group.prune(idxs=idxs)
    after = _conv_channels(model)
    changed = [n for n in before if after[n] != before[n]]
    return {"layers_changed": len(changed), "channels_removed": sum(before[n] - after[n] for n in changed)}


def _conv_channels(model) -> dict[str, int]:
    import torch

    return {n: m.out_channels for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}


def count_macs_params(model) -> tuple[int, int]:
    """Multiply-accumulates and parameters of one forward pass at the model's input size."""
    import torch

    tp = _tp()
    example = torch.rand(1, 3, model.input_size, model.input_size) * 255
    macs, params = tp.utils.count_ops_and_params(model.eval(), example)
    return int(macs), int(params)


def options_dict(options: PruneOptions) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()}


# ---- the command: checkpoint in, pruned checkpoint and report out --------------------------------
@dataclass
class PruneReport:
    source: str
    out: str
    options: dict
    before: dict  # {"params", "macs", "onnx_p50_ms"}
    after: dict
    changes: dict

    def reduction(self, key: str) -> float:
        return 1.0 - self.after[key] / self.before[key] if self.before.get(key) else float("nan")

    def to_json(self) -> dict:
        red = {k: round(self.reduction(k), 4) for k in ("params", "macs", "onnx_p50_ms") if self.before.get(k)}
        return {"source": self.source, "out": self.out, "options": self.options, "before": self.before,
                "after": self.after, "reduction": red, **self.changes}

    def to_markdown(self) -> str:
        rows = [("parameters", "params", lambda v: f"{v / 1e6:.3f} M"), ("MACs", "macs", lambda v: f"{v / 1e6:.1f} M"),
                ("ONNX latency p50, 1 thread", "onnx_p50_ms", lambda v: f"{v:.2f} ms")]
        lines = [f"# Pruning report: `{self.source}` → `{self.out}`", "",
                 "options: " + ", ".join(f"{k}={v}" for k, v in self.options.items() if v not in (None, [], "")), "",
                 "| | before | after | reduction |", "|---|---|---|---|"]
        for label, key, fmt in rows:
            if self.before.get(key) is not None and self.after.get(key) is not None:
                lines.append(f"| {label} | {fmt(self.before[key])} | {fmt(self.after[key])} | {self.reduction(key):.1%} |")
        lines += ["", f"conv layers changed: {self.changes['layers_changed']}, output channels removed: "
                      f"{self.changes['channels_removed']}", "",
                  "Retrain it before use, e.g. `dabai train SPEC --init " + self.out + " --epochs 8`, then compare "
                  "with `dabai eval --model <retrained best.pt> --data <test split>`."]
        return "\n".join(lines) + "\n"


def prune_checkpoint(options: PruneOptions) -> PruneReport:
    import copy
    import json
    import tempfile

    from dabai.models.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint

    check_options(options)
    payload = load_checkpoint(options.model)
    model = model_from_checkpoint(payload)
    original = copy.deepcopy(model)
    changes = prune_model(model, options)
    if changes["channels_removed"] == 0:
        raise ConfigError(f"nothing was pruned from {options.model} with these options; raise --ratio/--threshold "
                          "or exclude fewer layers")
    with tempfile.TemporaryDirectory(prefix="dabai-prune-") as tmp:
        before = _measure(original, payload, Path(tmp) / "before.onnx", options.latency_runs)
        after = _measure(model, payload, Path(tmp) / "after.onnx", options.latency_runs)
    out = Path(options.out)
    pruned = {"model": model.state_dict(), "module": model, "model_name": payload["model_name"],
              "classes": list(payload["classes"]), "input_size": int(payload["input_size"]),
              "pruned_from": str(options.model), "prune": options_dict(options)}
    if payload.get("spec") is not None:
        pruned["spec"] = payload["spec"]
    save_checkpoint(out, pruned)
    report = PruneReport(str(options.model), str(out), options_dict(options), before, after, changes)
    json_path, md_path = report_paths(options)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report.to_json(), indent=2))
    md_path.write_text(report.to_markdown())
    return report


def report_paths(options: PruneOptions) -> tuple[Path, Path]:
    """Where the JSON and Markdown reports go: ``<report>.json/.md``, default ``<out stem>_report.json/.md``.

    Suffixes are appended, not swapped: a stem like ``pruned_0.22_report`` must not become ``pruned_0.json``.
    """
    out = Path(options.out)
    stem = Path(options.report) if options.report else out.with_name(out.stem + "_report")
    return stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".md")


def _measure(model, payload: dict, onnx_path: Path, runs: int) -> dict:
    from dabai.bench.inproc import model_latency
    from dabai.export.onnx import export_onnx

    macs, params = count_macs_params(model)
    out = {"params": params, "macs": macs}
    if runs > 0:
        export_onnx(model, onnx_path, payload["classes"], payload["model_name"])
        out["onnx_p50_ms"] = model_latency(onnx_path, threads=1, runs=runs)["p50_ms"]
    return out
