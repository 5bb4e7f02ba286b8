"""TensorRT engines at run time: the backend that runs a dabai engine, and the checks before it loads.

An engine is compiled for one GPU architecture and one TensorRT version; run
elsewhere it fails in obscure ways or crashes. So every engine gets a sidecar
``<engine>.json`` (written by :func:`dabai.export.tensorrt.build_engine`)
recording the GPU, its compute capability, the CUDA and TensorRT versions and
the model's classes and input size, and ``TensorRTBackend`` compares it with
the machine before deserialising: a mismatch is a ``ModelError`` that names
both sides. Buffers live in torch CUDA tensors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dabai.core.errors import DependencyError, ModelError
from dabai.runtime.types import ModelInfo

MAX_BATCH = 16  # the optimisation profile covers batch 1..MAX_BATCH


def sidecar_path(engine: str | Path) -> Path:
    return Path(str(engine) + ".json")


def machine_info() -> dict:
    """GPU, compute capability, CUDA and TensorRT versions of this machine (raises if any is missing)."""
    check_tensorrt()
    import tensorrt as trt
    import torch

    major, minor = torch.cuda.get_device_capability(0)
    return {"gpu": torch.cuda.get_device_name(0), "compute_capability": f"{major}.{minor}",
            "cuda": torch.version.cuda, "tensorrt": trt.__version__}


def check_tensorrt() -> None:
    """Raise a DependencyError saying plainly why no engine can be built or run here."""
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        raise DependencyError("TensorRT engines need the 'tensorrt' Python package and an NVIDIA GPU; "
                              "'tensorrt' is not installed here (pip install tensorrt on a CUDA machine). "
                              "Use --format onnx for CPU deployment.") from None
    try:
        import torch
    except ImportError:
        raise DependencyError("TensorRT support in dabai uses torch for CUDA buffers: pip install 'dabai[train]'") from None
    if not torch.cuda.is_available():
        raise DependencyError("TensorRT engines need an NVIDIA GPU with a working CUDA driver; none is visible here "
                              "(torch.cuda.is_available() is False). Use --format onnx for CPU deployment.")


def read_sidecar(path: Path) -> dict:
    side = sidecar_path(path)
    if not side.is_file():
        raise ModelError(f"{path}: its sidecar {side.name} is missing; dabai cannot tell which GPU and TensorRT "
                         "version built the engine. Rebuild it with `dabai export --format engine`.")
    try:
        info = json.loads(side.read_text())
        info["classes"], info["input_size"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelError(f"{side}: not a dabai engine sidecar ({exc})") from None
    return info


def check_machine(path: Path, built: dict) -> None:
    where = (f"{path} was built on {built.get('gpu')} (compute capability {built.get('compute_capability')}) "
             f"with CUDA {built.get('cuda')} and TensorRT {built.get('tensorrt')}")
    try:
        here = machine_info()
    except DependencyError as exc:
        raise ModelError(f"{where}; it cannot run here: {exc}") from None
    diffs = [f"{k} {built.get(k)} vs {here[k]} here" for k in ("compute_capability", "tensorrt")
             if str(built.get(k)) != str(here[k])]
    if diffs:
        raise ModelError(f"{where}; engines are tied to the GPU architecture and TensorRT version that built them "
                         f"({'; '.join(diffs)}). Rebuild it on this machine with `dabai export --format engine`, "
                         "or use the ONNX model.")


class TensorRTBackend:
    """Runs a dabai engine: float32 NCHW batch in, (boxes, scores) NumPy arrays out."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"engine file not found: {self.path}")
        built = read_sidecar(self.path)
        check_machine(self.path, built)
        import tensorrt as trt
        import torch

        self.torch = torch
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.engine = trt.Runtime(self.logger).deserialize_cuda_engine(self.path.read_bytes())
        if self.engine is None:
            raise ModelError(f"{self.path}: TensorRT could not deserialise the engine (corrupt, or built by another version)")
        self.context = self.engine.create_execution_context()
        self.max_batch = int(built.get("max_batch", MAX_BATCH))
        self.info = ModelInfo(classes=list(built["classes"]), input_size=int(built["input_size"]),
                              name=built.get("model_name", ""), extra={"precision": built.get("precision", "")})

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        outs = [self._run(batch[i:i + self.max_batch]) for i in range(0, len(batch), self.max_batch)]
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])

    def _run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        torch = self.torch
        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).cuda()
        self.context.set_input_shape("images", tuple(x.shape))
        self.context.set_tensor_address("images", x.data_ptr())
        outputs = {}
        for name in ("boxes", "scores"):
            shape = tuple(self.context.get_tensor_shape(name))
            outputs[name] = torch.empty(shape, dtype=torch.float32, device="cuda")
            self.context.set_tensor_address(name, outputs[name].data_ptr())
        stream = torch.cuda.current_stream()  # the stream the input copy was queued on
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise ModelError(f"{self.path}: TensorRT execution failed")
        stream.synchronize()
        return outputs["boxes"].cpu().numpy(), outputs["scores"].cpu().numpy()
