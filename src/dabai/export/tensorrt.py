"""TensorRT engines (``dabai export --format engine``): building one and its sidecar.

FP16 engines are built from the FP32 ONNX with the FP16 flag; INT8 engines from
the calibrated QDQ ONNX (explicit quantisation: the scales ONNX Runtime
calibrated are the ones TensorRT uses). The sidecar ``<engine>.json`` records
the machine that built it; running an engine is :mod:`dabai.runtime.tensorrt`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from dabai.core.errors import ModelError
from dabai.runtime.tensorrt import MAX_BATCH, check_tensorrt, machine_info, sidecar_path

log = logging.getLogger("dabai.export")


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
