"""Inference backends: each maps a float32 NCHW batch to (boxes [N, A, 4], scores [N, A, C]).

ONNX Runtime is the deployment backend (no torch needed); the PyTorch backend
runs checkpoints through exactly the same pre- and post-processing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from dabai.core.errors import ModelError
from dabai.runtime.types import ModelInfo


def onnx_session(path: Path, threads: int | None = None, providers: list[str] | None = None, what: str = "model"):
    """An ONNX Runtime session with ``threads`` intra-op threads (0/None: all cores); a missing or
    unreadable file is a ModelError naming it."""
    import onnxruntime as ort

    if not path.is_file():
        raise ModelError(f"{what} file not found: {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: graph-cleaning notes on quantised models are not for users
    try:
        return ort.InferenceSession(str(path), options, providers=providers or ["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors for bad files
        raise ModelError(f"{path}: ONNX Runtime cannot load it ({exc})") from None


class OnnxBackend:
    def __init__(self, path: str | Path, threads: int | None = None, providers: list[str] | None = None):
        self.path = Path(path)
        self.session = onnx_session(self.path, threads, providers)
        self.input_name = self.session.get_inputs()[0].name
        self.info = read_onnx_info(self.session, self.path)

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        boxes, scores = self.session.run(["boxes", "scores"], {self.input_name: batch})
        return boxes, scores

    def release_memory(self) -> None:
        """Hand ONNX Runtime's CPU arena back (see :func:`release_arena`)."""
        release_arena(self.session, self.input_name, (1, 3, self.info.input_size, self.info.input_size))


def release_arena(session, input_name: str, shape: tuple[int, ...]) -> None:
    """Shrink the session's CPU memory arena: one small run with ``memory.enable_memory_arena_shrinkage``, which
    frees every arena region not in use when the run ends. After a batch of several frames the arena keeps
    the batch's working set (about 200 MB for 4 frames of the shipped detector) for the life of the
    process; a server calls this once it goes idle (serve/inference.py), which costs one batch-1 run
    (~30 ms) and makes the next batch allocate afresh once. Shrinking on every run instead made batches
    1.5-1.8x slower (docs/benchmarks.md)."""
    import onnxruntime as ort

    options = ort.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    session.run(None, {input_name: np.zeros(shape, np.float32)}, options)


def read_onnx_info(session, path: Path) -> ModelInfo:
    meta = session.get_modelmeta().custom_metadata_map
    if "classes" not in meta:
        raise ModelError(f"{path}: no 'classes' metadata; export it with `dabai export` so the class list travels with it")
    shape = session.get_inputs()[0].shape
    size = int(meta.get("input_size") or shape[-1])
    extra = {k: v for k, v in meta.items() if k not in ("classes", "input_size")}
    return ModelInfo(classes=json.loads(meta["classes"]), input_size=size, name=meta.get("model_name", ""), extra=extra)


class TorchBackend:
    def __init__(self, module, info: ModelInfo, device: str = "cpu"):
        import torch

        self.torch = torch
        self.module = module.to(device).eval()
        self.device = device
        self.info = info

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "cpu", input_size: int | None = None) -> TorchBackend:
        """A dabai checkpoint; ``input_size`` runs it at another square side than it was trained at."""
        from dabai.models.checkpoint import load_checkpoint, model_from_checkpoint

        payload = load_checkpoint(path)
        model = model_from_checkpoint(payload, input_size)
        info = ModelInfo(classes=list(payload["classes"]), input_size=int(model.input_size), name=payload["model_name"])
        return cls(model, info, device)

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self.torch.inference_mode():
            boxes, scores = self.module.decode(self.torch.from_numpy(batch).to(self.device))
        return boxes.float().cpu().numpy(), scores.float().cpu().numpy()


ASSETS = Path(__file__).resolve().parents[1] / "assets" / "models"
# Models shipped in the package, by the name `--model` accepts instead of a path (a file of that name wins).
SHIPPED_MODELS = {
    "fp32": "mask_checker.json",  # the mask checker: detector + face-crop classifier, FP32 (runtime/checker.py)
    "int8": "mask_checker.int8.json",  # both stages in INT8 (scripts/build_mask_checker.py); the default
    "detector-fp32": "mask_detector.onnx",  # stage 1 alone, trained by configs/mask_detector.yaml
    "detector-int8": "mask_detector.int8.onnx",  # `dabai export --precision int8` of it
}


# The model used when none is named (predict, eval, serve, bench, the gate): the INT8 checker. On the three
# held-out test splits it scores within 0.3 points of the FP32 one (docs/benchmarks.md, "Accuracy on held-out
# test splits") and runs about 1.5x faster on one CPU thread, which a 15 fps gate camera needs.
DEFAULT_MODEL = "int8"


def shipped_model_path(name: str) -> Path:
    """The file of a model shipped in the package (a key of SHIPPED_MODELS)."""
    path = ASSETS / SHIPPED_MODELS[name]
    if not path.is_file():
        raise ModelError(f"the shipped '{name}' model is missing from the installation ({path}); pass --model FILE")
    return path


def resolve_model(path: str | Path) -> Path:
    """A model path, or the file of a shipped model named in SHIPPED_MODELS."""
    name = str(path)
    if name in SHIPPED_MODELS and not Path(name).exists():
        return shipped_model_path(name)
    return Path(path)


def open_backend(path: str | Path, threads: int | None = None):
    """Pick the backend by file type: .onnx -> ONNX Runtime, .pt/.pth -> PyTorch; shipped names (fp32, int8) too."""
    path = resolve_model(path)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return OnnxBackend(path, threads)
    if suffix in (".pt", ".pth"):
        from dabai.core.errors import require

        require("torch", "train")
        if threads:
            import torch

            torch.set_num_threads(threads)
        return TorchBackend.from_checkpoint(path)
    if suffix in (".engine", ".plan"):
        from dabai.runtime.tensorrt import TensorRTBackend

        return TensorRTBackend(path)
    raise ModelError(f"{path}: unknown model type '{suffix}'; expected .onnx, .pt/.pth (dabai checkpoint), .engine "
                     f"or a shipped model name ({', '.join(SHIPPED_MODELS)})")


def default_threads() -> int:
    return int(os.environ.get("DABAI_THREADS", "0")) or 0
