"""Assemble a mask checker (``runtime/checker.py``): a detector and a face-crop classifier, copied beside a
JSON manifest that records their sha256, the options and the provenance (which sources, which specs).

    from dabai.export.checker import build_checker
    build_checker("det.onnx", "classifier.onnx", "out/mask_checker.json", provenance={...})

INT8: ``quantize_classifier`` quantises the classifier statically on face crops; the detector's INT8 comes
from ``dabai export --precision int8`` (its own parity gate).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np

from dabai.core.digest import sha256_file
from dabai.core.errors import ModelError
from dabai.runtime.checker import MANIFEST_FORMAT, CheckerOptions, read_manifest


def spec_digest(path: str | Path) -> str:
    """How a manifest's provenance names the training spec it was built from: the first 16 hex digits of the
    file's sha256 (a spec edited after training no longer matches)."""
    return sha256_file(path)[:16]


def build_checker(detector: str | Path, classifier: str | Path, out: str | Path,
                  options: CheckerOptions | None = None, provenance: dict | None = None,
                  names: tuple[str, str] | None = None, face_finder: str | Path | None = None) -> Path:
    """Copy both models (and ``face_finder``, an UltraFace ONNX whose faces join stage 1's) next to ``out`` (a
    .json path) and write the manifest; returns ``out``."""
    out = Path(out)
    if out.suffix.lower() != ".json":
        raise ModelError(f"{out}: a checker manifest is a .json file")
    out.parent.mkdir(parents=True, exist_ok=True)
    det_name, cls_name = names or (Path(detector).name, Path(classifier).name)
    files = {"detector": (Path(detector), det_name), "classifier": (Path(classifier), cls_name)}
    if face_finder is not None:
        files["face_finder"] = (Path(face_finder), Path(face_finder).name)
    for key, (src, name) in files.items():
        if not src.is_file():
            raise ModelError(f"{key} not found: {src}")
        target = out.parent / name
        if src.resolve() != target.resolve():
            shutil.copyfile(src, target)
    doc = {"format": MANIFEST_FORMAT, "detector": det_name, "classifier": cls_name,
           **({"face_finder": files["face_finder"][1]} if face_finder is not None else {}),
           **asdict(options or CheckerOptions()),
           "sha256": {key: sha256_file(out.parent / name) for key, (_, name) in files.items()},
           "provenance": provenance or {}}
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    read_manifest(out)  # what was written must read back
    return out


class _CropReader:
    def __init__(self, crops: np.ndarray, name: str, batch: int = 32):
        self.batches = [crops[i:i + batch] for i in range(0, len(crops), batch)]
        self.name = name

    def get_next(self):
        if not self.batches:
            return None
        chunk = self.batches.pop(0)
        return {self.name: np.ascontiguousarray(chunk.transpose(0, 3, 1, 2)).astype(np.float32)}


def quantize_classifier(src: str | Path, dst: str | Path, crops: np.ndarray) -> Path:
    """Static INT8 (QDQ, per-channel weights) of a crop classifier calibrated on ``crops`` (N x S x S x 3 RGB);
    the metadata (classes, crop size and context) is carried over."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    src, dst = Path(src), Path(dst)
    proto = onnx.load(str(src))
    meta = {p.key: p.value for p in proto.metadata_props}
    input_name = proto.graph.input[0].name
    quantize_static(str(src), str(dst), _CropReader(crops, input_name), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    out = onnx.load(str(dst))
    del out.metadata_props[:]
    for key, value in {**meta, "precision": "int8"}.items():
        entry = out.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(out, str(dst))
    return dst
