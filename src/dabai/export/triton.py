"""A Triton Inference Server model repository for an exported detector (``dabai export --format triton``).

Layout::

    OUT/<name>/config.pbtxt      inputs, outputs, max batch, dynamic batching, instance group
    OUT/<name>/1/model.onnx      the ONNX model (FP32, FP16 or INT8; ONNX Runtime backend)
    OUT/<name>/labels.txt        class names, one a line, in output order

Pre-processing (letterbox, RGB 0..255, top-left) and post-processing (NMS,
un-letterbox) stay on the client, as with every dabai model: the metadata of
``model.onnx`` records both.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dabai.core.errors import ConfigError, ModelError

CONFIG = """\
name: "{name}"
backend: "onnxruntime"
max_batch_size: {max_batch}
input [
  {{
    name: "images"
    data_type: TYPE_FP32
    format: FORMAT_NCHW
    dims: [ 3, {size}, {size} ]
  }}
]
output [
  {{
    name: "boxes"
    data_type: TYPE_FP32
    dims: [ {anchors}, 4 ]
  }},
  {{
    name: "scores"
    data_type: TYPE_FP32
    dims: [ {anchors}, {classes} ]
    label_filename: "labels.txt"
  }}
]
dynamic_batching {{
  preferred_batch_size: [ {preferred} ]
  max_queue_delay_microseconds: {delay_us}
}}
instance_group [
  {{
    count: 1
    kind: KIND_{kind}
  }}
]
parameters {{
  key: "dabai_preprocess"
  value: {{ string_value: {preprocess} }}
}}
"""


def write_triton_repository(onnx_path: str | Path, out: str | Path, name: str = "mask_detector",
                            max_batch: int = 16, delay_us: int = 2000, kind: str = "CPU") -> Path:
    """Write (or replace) the model ``name`` in the repository ``out``; returns the model folder."""
    import onnxruntime as ort

    if not name or any(c in name for c in "/\\ ") :
        raise ConfigError(f"--triton-name {name!r}: a Triton model name is one path segment without spaces")
    if max_batch < 1:
        raise ConfigError(f"--triton-max-batch must be >= 1, got {max_batch}")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    if "classes" not in meta:
        raise ModelError(f"{onnx_path}: no 'classes' metadata; export it with `dabai export`")
    classes = json.loads(meta["classes"])
    size = int(meta.get("input_size") or session.get_inputs()[0].shape[-1])
    anchors = session.get_outputs()[0].shape[1]
    if not isinstance(anchors, int):
        raise ModelError(f"{onnx_path}: the anchor dimension of 'boxes' is not fixed ({anchors}); re-export it")
    model_dir = Path(out) / name
    if model_dir.exists():
        shutil.rmtree(model_dir)
    (model_dir / "1").mkdir(parents=True)
    shutil.copyfile(onnx_path, model_dir / "1" / "model.onnx")
    (model_dir / "labels.txt").write_text("".join(c + "\n" for c in classes))
    preferred = ", ".join(str(b) for b in (4, 8) if b <= max_batch) or "1"
    config = CONFIG.format(name=name, max_batch=max_batch, size=size, anchors=anchors, classes=len(classes),
                           preferred=preferred, delay_us=delay_us, kind=kind,
                           preprocess=json.dumps(meta.get("preprocess", "{}")))
    (model_dir / "config.pbtxt").write_text(config)
    return model_dir
