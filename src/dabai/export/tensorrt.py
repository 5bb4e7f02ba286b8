"""TensorRT engines (``dabai export --format engine``) and their runtime backend.

An engine is compiled for one GPU architecture and one TensorRT version; run
elsewhere it fails in obscure ways or crashes. So every engine gets a sidecar
``<engine>.json`` recording the GPU, its compute capability, the CUDA and
TensorRT versions and the model's classes and input size, and
``TensorRTBackend`` compares it with the machine before deserialising: a
mismatch is a ``ModelError`` that names both sides.

FP16 engines are built from the FP32 ONNX with the FP16 flag; INT8 engines from
the calibrated QDQ ONNX (explicit quantisation: the scales ONNX Runtime
calibrated are the ones TensorRT uses). Buffers live in torch CUDA tensors.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from dabai.core.errors import DependencyError, ModelError

log = logging.getLogger("dabai.export")
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


def build_engine(onnx_path: str | Path, out: str | Path, precision: str, max_batch: int = MAX_BATCH) -> Path:
    import onnxruntime as ort
    import tensorrt as trt

    check_tensorrt()
    out = Path(out)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ModelError(f"{onnx_path}: TensorRT cannot parse it ({errors})")
    meta = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    size = int(meta["input_size"])
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 1 << 30)
    if precision in ("fp16", "int8"):
        config.set_flag(trt.BuilderFlag.FP16)  # INT8 engines run their float layers in FP16
    if precision == "int8":
        config.set_flag(trt.BuilderFlag.INT8)
    profile = builder.create_optimization_profile()
    profile.set_shape("images", (1, 3, size, size), (min(8, max_batch), 3, size, size), (max_batch, 3, size, size))
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ModelError(f"TensorRT failed to build a {precision} engine from {onnx_path} (see its log above)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bytes(serialized))
    info = {**machine_info(), "precision": precision, "max_batch": max_batch, "input_size": size,
            "classes": json.loads(meta["classes"]), "model_name": meta.get("model_name", ""),
            "preprocess": meta.get("preprocess", ""), "built": datetime.now(UTC).isoformat(timespec="seconds")}
    sidecar_path(out).write_text(json.dumps(info, indent=2))
    return out


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
        from dabai.runtime.backends import ModelInfo

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
