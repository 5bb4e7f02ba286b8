"""Detections a model made on images, kept so that the picture commands need not run it twice.

Running the shipped checker costs about 0.24 CPU-seconds an image; ``eval`` (and its ``--gallery``),
``data audit`` and ``eval --operating-points`` all need the same model's detections on the same images.
So each looks every image up here first, by the SHA-256 of the image file's bytes, under the model's
SHA-256 and its post-processing settings (NMS IoU, detections per image, class-agnostic NMS), and runs
the model only on the images it does not find; what it predicts is added. An image's entry records the
score floor it was made with (every detection scoring at least that is kept), and serves any request
whose floor is at least as high: a model's detections scoring at least a floor are the same whether or
not lower ones were made (NMS and the top-k keep the best first; the checker judges faces best first).
Entries hold the detections exactly as predicted, so a cached run reports what a fresh one would.

The cache is one JSON file per model and settings in ``detections/`` of the cache folder:
``$DABAI_CACHE_DIR``, else ``$XDG_CACHE_HOME/dabai``, else ``~/.cache/dabai``. Deleting it empties the
cache; ``--no-cache`` neither reads nor writes it. A damaged file is an error naming it, never
silently ignored. Two runs writing at once: each replaces the file whole (atomically), so the later one
wins and the other's new entries are simply predicted again next time::

    cache = DetectionCache.for_model("mask_checker.json", detector.options)
    found = cache.lookup(records, floor=0.05)      # {image name: [Detection]} of the images it holds
    cache.store(records, detections, floor=0.05)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from dabai.core.errors import DataError
from dabai.data.dataset import ImageRecord
from dabai.runtime.types import Detection

FORMAT = "dabai-detection-cache/1"


def image_sha256(path: str | Path) -> str:
    from dabai.core.digest import sha256_file

    return sha256_file(path)


ENV_CACHE = "DABAI_CACHE_DIR"


def cache_dir(root: str | Path | None = None) -> Path:
    """``root``/detections; ``root`` default: ``$DABAI_CACHE_DIR``, else ``$XDG_CACHE_HOME/dabai``, else
    ``~/.cache/dabai`` (a cache, so not in the Dabai home with the gate's state)."""
    base = root or os.environ.get(ENV_CACHE) or (
        Path(os.environ["XDG_CACHE_HOME"]) / "dabai" if os.environ.get("XDG_CACHE_HOME") else Path.home() / ".cache" / "dabai")
    return Path(base).expanduser() / "detections"


def settings_key(options) -> dict:
    """The post-processing settings detections depend on, besides the score floor."""
    return {"iou": float(options.iou), "max_detections": int(options.max_detections),
            "pre_nms_top_k": int(options.pre_nms_top_k), "class_agnostic": bool(options.class_agnostic)}


class DetectionCache:
    def __init__(self, path: Path, model_sha256: str, settings: dict):
        self.path = Path(path)
        self.model_sha256 = model_sha256
        self.settings = settings
        self._hashes: dict[Path, str] = {}

    @classmethod
    def for_model(cls, model, options, root: str | Path | None = None, second_look: bool = False) -> DetectionCache:
        """The cache of ``model`` (a path or shipped name; None: the default) under ``options`` and with or
        without a checker's tiled second look (``root``: the cache folder, see ``cache_dir``)."""
        from dabai.eval.detfile import model_identity

        sha = model_identity(model)["sha256"]
        settings = {**settings_key(options), "second_look": bool(second_look)}
        tag = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
        return cls(cache_dir(root) / f"{sha[:16]}-{tag}.json", sha, settings)

    def _read(self) -> dict:
        if not self.path.is_file():
            return {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"damaged detection cache ({exc}); delete it, or run with --no-cache", path=self.path) from None
        if (not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("sha256") != self.model_sha256
                or doc.get("settings") != self.settings or not isinstance(doc.get("images"), dict)):
            raise DataError("not this model's detection cache; delete it, or run with --no-cache", path=self.path)
        return doc["images"]

    def _hash(self, record: ImageRecord) -> str:
        if record.path not in self._hashes:
            try:
                self._hashes[record.path] = image_sha256(record.path)
            except OSError as exc:
                raise DataError(f"cannot read the image ({exc.strerror or exc})", path=record.path) from None
        return self._hashes[record.path]

    def lookup(self, records: Iterable[ImageRecord], floor: float) -> dict[str, list[Detection]]:
        """Detections scoring >= ``floor`` of each record whose image the cache holds at a floor <= ``floor``."""
        entries = self._read()
        found: dict[str, list[Detection]] = {}
        for record in records:
            entry = entries.get(self._hash(record))
            if entry is None or float(entry["floor"]) > floor:
                continue
            try:
                found[record.name] = [Detection((d[0], d[1], d[2], d[3]), d[4], d[5])  # as predicted
                                      for d in entry["dets"] if d[4] >= floor]
            except (KeyError, IndexError, TypeError) as exc:
                raise DataError(f"damaged detection cache ({exc!r}); delete it, or run with --no-cache",
                                path=self.path) from None
        return found

    def store(self, records: Iterable[ImageRecord], detections: dict[str, list[Detection]], floor: float) -> None:
        """Add (or replace with a lower floor) the entries of ``records`` found in ``detections``."""
        entries = self._read()
        for record in records:
            if record.name not in detections:
                continue
            key = self._hash(record)
            if key in entries and float(entries[key]["floor"]) <= floor:
                continue
            entries[key] = {"floor": floor, "dets": [[*(float(v) for v in d.bbox), float(d.score), d.label]
                                                     for d in detections[record.name]]}
        doc = {"format": FORMAT, "sha256": self.model_sha256, "settings": self.settings, "images": entries}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
