"""The mask checker: a face detector (stage 1) whose faces a face-crop classifier re-judges (stage 2).

A checker is a small JSON manifest beside its two ONNX files::

    {"format": "dabai-checker/1",
     "detector": "mask_detector.onnx",        # finds faces (and gives its own class scores)
     "classifier": "mask_classifier.onnx",    # judges how the mask is worn on each face crop
     "classifier_weight": 0.8,                # class scores = face score x (w * classifier + (1-w) * detector)
     "max_faces": 50, "min_face_score": 0.01, "face_iou": 0.5,
     "box_refine": 1.0,                       # share of the classifier's box head in each face's box (optional)
     "face_finder": "ultraface.onnx",         # optional: a face-pretrained UltraFace whose faces join stage 1's
     "provenance": {...}}

``Detector.load("mask_checker.json")`` runs both through the one predictor path (predict, eval, serve,
bench and the gate): every face the detector finds is cut from the *source* image at its own scale,
classified, and reported with a score per class, so ``--conf 0`` output is scored per class like any
detector's.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dabai.core.boxes import nms
from dabai.core.digest import sha256_file
from dabai.core.errors import ModelError
from dabai.runtime.preprocess import Letterbox, to_source
from dabai.runtime.refine import CropClassifier, boxes_from_unit
from dabai.runtime.tiles import small_unsure_faces, tile_faces, tile_windows, windows_holding
from dabai.runtime.ultraface import FaceFinder

MANIFEST_FORMAT = "dabai-checker/1"


def is_manifest(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".json"


@dataclass(frozen=True)
class CheckerOptions:
    classifier_weight: float = 1.0  # share of the classifier in a face's class scores (the rest: the detector's)
    max_faces: int = 50  # faces re-judged per image, best first
    min_face_score: float = 0.01  # a detection below this is not a face worth judging
    face_iou: float = 0.5  # one face, one box: NMS across classes before judging
    # Share of the classifier's box head in a face's box (0: the detector's box as found; 1: the box the
    # classifier reads off the face crop). The box head sees each face at its own scale, so it places small
    # faces the detector boxed loosely; a classifier without one ignores this.
    box_refine: float = 0.0
    # Share of the mirrored crop in the classifier's judgement (0: the crop only; 0.5: the crop and its mirror
    # image averaged, one batch of twice the crops). A face is the same face mirrored; the classifier's
    # errors on the two need not be.
    flip: float = 0.0
    # The second look at crowds (runtime/tiles.py): a tiles x tiles grid of overlapping tiles, each through
    # the detector, when the full frame holds a face under tile_small of the input side scoring at least
    # tile_trigger. 1: never.
    tiles: int = 1
    tile_overlap: float = 0.2  # share of a tile's side that neighbours share
    tile_trigger: float = 0.3  # first-pass face score of a small face that calls for the second look
    tile_small: float = 0.083  # "small": under this share of the detector's input side (32 px of 384)
    tile_where: str = "unsure"  # only the tiles holding the centre of a small unsure face, or "all" tiles


def face_scores(scores: np.ndarray) -> np.ndarray:
    """P(face) of each candidate from its class scores [A, C]: any class firing (noisy-or of the independent
    per-class sigmoids). The detector splits an unsure face's score between classes, so their maximum
    understates that a face is there."""
    return 1.0 - np.prod(1.0 - scores, axis=1)


class Checker:
    def __init__(self, classifier: CropClassifier, options: CheckerOptions | None = None,
                 face_finder: FaceFinder | None = None):
        self.classifier = classifier
        self.options = options or CheckerOptions()
        self.face_finder = face_finder  # a second, face-pretrained finder whose faces join stage 1's (or None)

    def with_options(self, **changes) -> Checker:
        return Checker(self.classifier, replace(self.options, **changes), self.face_finder)

    def candidates(self, backend, image_rgb: np.ndarray, boxes: np.ndarray, scores: np.ndarray, lb: Letterbox,
                   input_size: int) -> tuple[np.ndarray, np.ndarray]:
        """The detector's candidates in source pixels (boxes [A, 4], class scores [A, C]) from its output
        on the letterboxed frame (``boxes`` in input pixels): the full frame's, plus the tiles' when the
        options ask for the second look and the frame calls for it (``runtime/tiles.py``)."""
        o = self.options
        src = to_source(boxes, lb)
        unsure = small_unsure_faces(boxes, face_scores(scores), input_size, o.tile_trigger, o.tile_small) \
            if o.tiles > 1 else np.zeros(0, int)
        if unsure.size:
            windows = tile_windows(lb.src_width, lb.src_height, o.tiles, o.tile_overlap)
            if o.tile_where == "unsure":
                windows = windows_holding(windows, src[unsure])
            tb, ts = tile_faces(backend, image_rgb, windows, input_size)
            src, scores = np.concatenate([src, tb]), np.concatenate([scores, ts])
        if self.face_finder is not None:  # the second finder's faces, for stage 2 to judge with the rest
            fb, fs = self.face_finder(image_rgb, scores.shape[1])
            src, scores = np.concatenate([src, fb]), np.concatenate([scores, fs])
        return src.astype(np.float32), scores

    def judge(self, image_rgb: np.ndarray, boxes: np.ndarray, scores: np.ndarray,
              floor: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Faces (boxes [K, 4]) and their class scores [K, C] from the candidates ``candidates`` gives (boxes
        in source pixels): the probability that a face is there (``face_scores``) times the mix of classifier
        and detector shares. Faces scoring below ``floor`` are skipped (no class score can reach it)."""
        o = self.options
        face = face_scores(scores)
        idx = np.nonzero(face >= max(o.min_face_score, floor))[0]
        if idx.size > 1000:
            idx = idx[np.argpartition(-face[idx], 1000)[:1000]]
        if idx.size == 0:
            return np.zeros((0, 4), np.float32), np.zeros((0, scores.shape[1]), np.float32)
        src = boxes[idx]
        keep = nms(src, face[idx], None, o.face_iou)[: o.max_faces]
        src, face_kept, det = src[keep], face[idx][keep], scores[idx][keep]
        crops = self.classifier.crops(image_rgb, src)
        if o.flip > 0:
            probs, unit = mirror_average(self.classifier, crops, o.flip)
        else:
            probs, unit = self.classifier.run(crops)
        if unit is not None and o.box_refine > 0:
            refined = boxes_from_unit(unit, src, self.classifier.context)
            h, w = image_rgb.shape[:2]
            src = to_source((1 - o.box_refine) * src + o.box_refine * refined, Letterbox(1.0, w, h))
        share = det / np.maximum(det.sum(axis=1, keepdims=True), 1e-9)
        mixed = o.classifier_weight * probs + (1 - o.classifier_weight) * share
        return src.astype(np.float32), (face_kept[:, None] * mixed).astype(np.float32)


def mirror_average(classifier: CropClassifier, crops: np.ndarray, share: float):
    """The classifier's (probabilities, unit boxes) on ``crops`` and their mirror images in one batch, mixed
    with ``share`` of the mirrored (its boxes mirrored back)."""
    n = len(crops)
    probs, unit = classifier.run(np.concatenate([crops, crops[:, :, ::-1]]))
    probs = (1 - share) * probs[:n] + share * probs[n:]
    if unit is not None:
        back = np.stack([1 - unit[n:, 2], unit[n:, 1], 1 - unit[n:, 0], unit[n:, 3]], axis=1)
        unit = (1 - share) * unit[:n] + share * back
    return probs, unit


def read_manifest(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"checker manifest not found: {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: not a JSON checker manifest ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        raise ModelError(f"{path}: expected a checker manifest with \"format\": \"{MANIFEST_FORMAT}\"")
    for key in ("detector", "classifier"):
        if not isinstance(doc.get(key), str):
            raise ModelError(f"{path}: key {key!r} must name the {key}'s ONNX file (relative to the manifest)")
    if "face_finder" in doc and not isinstance(doc["face_finder"], str):
        raise ModelError(f"{path}: key 'face_finder' must name an UltraFace ONNX file (relative to the manifest)")
    return doc


CHOICES = {"tile_where": ("all", "unsure")}  # the options that are words, and the words each takes


def checker_options(doc: dict, where) -> CheckerOptions:
    fields = CheckerOptions.__dataclass_fields__
    values = {}
    for key in fields:
        if key in doc and key in CHOICES:
            if doc[key] not in CHOICES[key]:
                raise ModelError(f"{where}: {key!r} must be one of {list(CHOICES[key])}, got {doc[key]!r}")
            values[key] = doc[key]
        elif key in doc:
            if not isinstance(doc[key], (int, float)) or isinstance(doc[key], bool):
                raise ModelError(f"{where}: {key!r} must be a number, got {doc[key]!r}")
            values[key] = type(getattr(CheckerOptions(), key))(doc[key])
    for key in ("classifier_weight", "box_refine", "flip", "tile_trigger", "tile_small"):
        if not 0 <= values.get(key, 0.0) <= 1:
            raise ModelError(f"{where}: {key!r} must be from 0 to 1")
    if not 1 <= values.get("tiles", 1) <= 4:
        raise ModelError(f"{where}: 'tiles' must be 1 (no second look) to 4 (a 4 x 4 grid)")
    if not 0 <= values.get("tile_overlap", 0.0) < 0.5:
        raise ModelError(f"{where}: 'tile_overlap' must be from 0 to under 0.5")
    return CheckerOptions(**values)


PARTS = ("detector", "classifier", "face_finder")  # the files a manifest may name (face_finder optional)
ENV_MODELS_DIR = "DABAI_MODELS_DIR"
log = logging.getLogger(__name__)


def weights_dir() -> Path:
    """Where a face finder a manifest names but does not carry beside it (third-party weights a site installs
    itself, e.g. a released UltraFace) is looked for after the manifest's own folder: ``$DABAI_MODELS_DIR``, else
    inside the environment. The shipped checkers carry their finder in the package."""
    explicit = os.environ.get(ENV_MODELS_DIR)
    return Path(explicit).expanduser() if explicit else Path(sys.prefix) / "share" / "dabai" / "models"


def part_path(manifest: Path, key: str, name: str) -> Path:
    """A part beside its manifest; a face finder not beside it, in :func:`weights_dir` too."""
    beside = manifest.parent / name
    if key == "face_finder" and not beside.is_file() and (weights_dir() / name).is_file():
        return weights_dir() / name
    return beside


def manifest_files(path: str | Path, doc: dict | None = None, verify: bool = True) -> dict[str, Path]:
    """The files a checker manifest names (``doc``: the manifest as read), each present and, with ``verify``,
    matching the sha256 the manifest records; a ModelError names the first that is not."""
    path = Path(path)
    doc = read_manifest(path) if doc is None else doc
    files = {key: part_path(path, key, doc[key]) for key in PARTS if key in doc}
    for key, file in files.items():
        if not file.is_file():
            where = f" (nor in {weights_dir()}, where a face finder installed apart from its manifest goes; " \
                    f"{ENV_MODELS_DIR} names another folder)" if key == "face_finder" else ""
            raise ModelError(f"{path}: its {key} {file} is missing{where}")
        expected = (doc.get("sha256") or {}).get(key)
        if verify and expected and sha256_file(file) != expected:
            raise ModelError(f"{file}: sha256 does not match the one {path.name} records; the file was changed or damaged")
    return files


def load_checker(path: str | Path, threads: int | None = None, verify: bool = True):
    """(detector backend, Checker) of a manifest; the files it names are checked against their sha256
    when the manifest records them."""
    from dabai.runtime.backends import OnnxBackend

    path = Path(path)
    doc = read_manifest(path)
    if "face_finder" in doc and not part_path(path, "face_finder", doc["face_finder"]).is_file():
        # a finder installed apart from its manifest (third-party weights) may be absent: the checker still runs
        # on stage 1's faces, and says so (`dabai doctor` lists it as missing, with the fix)
        log.warning("%s: its face finder %s is not installed (looked beside it and in %s; %s names another "
                    "folder): running without it, on stage 1's faces only",
                    path, doc["face_finder"], weights_dir(), ENV_MODELS_DIR)
        doc = {k: v for k, v in doc.items() if k != "face_finder"}
    files = manifest_files(path, doc, verify)
    backend = OnnxBackend(files["detector"], threads)
    classifier = CropClassifier(files["classifier"], threads)
    finder = FaceFinder(files["face_finder"], threads) if "face_finder" in files else None
    if classifier.classes != backend.info.classes:
        raise ModelError(f"{path}: the classifier's classes {classifier.classes} differ from the detector's "
                         f"{backend.info.classes}")
    return backend, Checker(classifier, checker_options(doc, path), finder)
