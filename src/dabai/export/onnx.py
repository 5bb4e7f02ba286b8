"""Export a detector to ONNX: decoded outputs, dynamic batch axis, simplified, metadata attached.

The metadata (class list, input size, pre-processing) travels inside the file,
so the runtime never guesses how a model wants its input.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from dabai import __version__
from dabai.core.errors import DependencyError

log = logging.getLogger("dabai.export")
OPSET = 17


def _wrapper(model):
    import torch

    class Decoded(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, images):
            return self.m.decode(images)

    return Decoded(model).eval()


def export_onnx(model, path: str | Path, classes: list[str], model_name: str = "", simplify: bool = True,
                extra_meta: dict | None = None) -> Path:
    import onnx
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = model.input_size
    dummy = torch.rand(1, 3, size, size) * 255
    model = model.cpu().eval()
    torch.onnx.export(
        _wrapper(model), dummy, str(path), input_names=["images"], output_names=["boxes", "scores"],
        dynamic_axes={"images": {0: "batch"}, "boxes": {0: "batch"}, "scores": {0: "batch"}},
        opset_version=OPSET, dynamo=False,
    )
    proto = onnx.load(str(path))
    if simplify:
        proto = _simplify(proto)
    meta = {
        "classes": json.dumps(list(classes)),
        "input_size": str(size),
        "model_name": model_name,
        "preprocess": json.dumps(model.preprocess_meta),
        "outputs": "boxes [N,A,4] x1y1x2y2 input pixels; scores [N,A,C] sigmoid",
        "dabai_version": __version__,
        **{k: str(v) for k, v in (extra_meta or {}).items()},
    }
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path


def _simplify(proto):
    try:
        import onnxslim
    except ImportError as exc:  # pragma: no cover - onnxslim is part of the train extra
        raise DependencyError("onnxslim is needed to simplify exports: pip install 'dabai[train]'") from exc
    return onnxslim.slim(proto)


def export_checkpoint(checkpoint: str | Path, out: str | Path, simplify: bool = True,
                      input_size: int | None = None) -> Path:
    """ONNX of a dabai checkpoint, at its trained input size or at ``input_size``."""
    from dabai.models.checkpoint import load_checkpoint, model_from_checkpoint

    payload = load_checkpoint(checkpoint)
    model = model_from_checkpoint(payload, input_size)
    return export_onnx(model, out, payload["classes"], payload["model_name"], simplify)
