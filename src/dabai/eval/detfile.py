"""A model's detections on a dataset, saved once and reused by the picture commands.

Running the shipped checker costs about 0.24 CPU-seconds an image; drawing a gallery, an audit or the
gate's operating points from saved detections costs a few seconds for a thousand images. So
``eval --save-detections FILE`` keeps every detection (score >= 0, <= 100 per image, as ``eval``
scores them) with the model's name, and ``--detections FILE`` (``eval``, ``data audit``) uses them
instead of running the model. A file made by another model, or lacking an image of the data, is an
error, never silently reused::

    {"format": "dabai-detections/1", "model": "mask_checker.json", "sha256": "...", "conf": 0.0,
     "classes": [...], "images": {"img1.jpg": [{"bbox": [...], "score": 0.93, "label": "with_mask"}]}}
"""

from __future__ import annotations

import json
from pathlib import Path

from dabai.core.errors import DataError
from dabai.data.dataset import Dataset
from dabai.runtime.types import Detection

FORMAT = "dabai-detections/1"


def model_identity(model: str | Path | None) -> dict[str, str]:
    """The model file's name and sha256 (a checker manifest's hash covers the hashes of its two ONNX files)."""
    from dabai.core.digest import sha256_file
    from dabai.runtime.backends import resolve_model
    from dabai.runtime.detector import default_model_path

    path = resolve_model(model or default_model_path())
    if not path.is_file():
        raise DataError("model file not found", path=path)
    return {"model": path.name, "sha256": sha256_file(path)}


def save_detections(path: str | Path, detections: dict[str, list[Detection]], model: str | Path | None,
                    classes: list[str], conf: float = 0.0) -> Path:
    """Write ``detections`` (every score >= ``conf``) of ``model`` (a path or shipped name; None: the default)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": FORMAT, **model_identity(model), "conf": conf, "classes": list(classes),
           "images": {name: [d.to_json() for d in dets] for name, dets in detections.items()}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def load_detections(path: str | Path, dataset: Dataset, model: str | Path | None,
                    conf: float = 0.0) -> dict[str, list[Detection]]:
    """Detections of every image of ``dataset`` from ``path``, made by ``model``, holding every score >= ``conf``."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("detections file not found (write one with dabai eval --save-detections FILE)", path=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not a detections file ({exc})", path=path) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("images"), dict):
        raise DataError(f'expected a detections file with "format": "{FORMAT}" (dabai eval --save-detections)', path=path)
    identity = model_identity(model)
    if doc.get("sha256") != identity["sha256"]:
        raise DataError(f"these detections are of another model ({doc.get('model')!r}), not of {identity['model']!r} "
                        "(sha256 differs); make them again with dabai eval --model ... --save-detections", path=path)
    if float(doc.get("conf", 1.0)) > conf:
        raise DataError(f"the file keeps detections scoring >= {doc.get('conf')} only; this needs every one >= {conf}",
                        path=path)
    images = doc["images"]
    missing = [im.name for im in dataset.images if im.name not in images]
    if missing:
        raise DataError(f"no detections for {len(missing)} images of the data (first: {missing[0]!r}): the file "
                        "was made on other data", path=path)
    try:
        return {im.name: [Detection(tuple(float(v) for v in d["bbox"]), float(d["score"]), str(d["label"]))
                          for d in images[im.name]] for im in dataset.images}
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"a detection lacks bbox, score or label ({exc})", path=path) from None
