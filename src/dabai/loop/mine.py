"""Rank images or video frames by how much a label would teach the checker (``dabai mine``).

Every frame is run through the checker (FP32), and, when given, its INT8 twin and an independent face
detector (:class:`~dabai.loop.faces.FaceFinder`). Four signals, each 0..1, say why a frame is worth a label:

``low_confidence``
    the checker is unsure a face is there (its face score lies between ``min_face_score - near`` and
    ``sure``: 1 at the gate's ``min_face_score``, 0 from ``sure`` up) or unsure which class it is (1 minus the
    margin between its two best class shares).
``near_threshold``
    a face's ``with_mask`` score is within ``near`` of the gate's ``with_mask`` threshold: the admit/refuse
    decision hangs on it.
``int8_disagrees``
    the INT8 model (what a small gate runs) sees other faces or other classes than the FP32 one.
``face_detector_disagrees``
    the independent face detector finds faces the checker misses, or the checker reports faces it does not see.

A frame's score is the weighted sum. Frames are then picked best first, each one's score divided by
``1 + k`` where ``k`` is how many already-picked frames look like it (perceptual hash of the visitor's face,
or of the frame when no face is seen, within ``look_alike`` bits): fifty frames of one visitor do not fill
the top N. The picks are copied to ``OUT/images/`` (ready for ``dabai label OUT/images``) with ``OUT/mine.csv``
saying why each was picked.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dabai.core.errors import DataError
from dabai.data.fingerprint import NEAR_DUPLICATE_DISTANCE, hamming_to_all
from dabai.data.imageio import place_file, prepare_output_dir, write_jpeg
from dabai.gate.config import MaskRules
from dabai.loop.faces import Face, FaceFinder, group_faces, unmatched
from dabai.loop.sources import Frame, open_source
from dabai.runtime.detector import Detector

log = logging.getLogger(__name__)

SIGNALS = ("low_confidence", "near_threshold", "int8_disagrees", "face_detector_disagrees")
SCAN_CONF = 0.1  # detections kept for scoring: low, so that an unsure face is still seen
CSV_NAME = "mine.csv"


@dataclass(frozen=True)
class MineOptions:
    top: int = 100  # frames to pick
    min_face_score: float = MaskRules.min_face_score  # the gate's: a face below this is not counted
    with_mask: float = MaskRules.with_mask  # the gate's admit threshold on the with_mask score
    sure: float = 0.6  # a face scoring this or more is one the checker is sure of (its clear faces score 0.6 or more)
    near: float = 0.1  # a with_mask score within this of the threshold is "near" it
    look_alike: int = NEAR_DUPLICATE_DISTANCE  # hash bits at or below which two frames show the same thing
    weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SIGNALS, 1.0))

    def __post_init__(self) -> None:
        if self.top < 1:
            raise DataError(f"top must be 1 or more, got {self.top}")
        unknown = set(self.weights) - set(SIGNALS)
        if unknown:
            raise DataError(f"unknown mining signal(s) {sorted(unknown)}; expected some of {', '.join(SIGNALS)}")


@dataclass
class Candidate:
    """One scored frame."""

    name: str
    score: float
    signals: dict[str, float]
    faces: int  # faces the checker counts (at the gate's min_face_score)
    phash: int
    path: Path | None = None  # source file (None: a video frame, decoded again when picked)
    look_alikes: int = 0  # already-picked frames that look like this one when it was picked
    why: str = ""

    def reasons(self, at: float = 0.5) -> list[str]:
        return [k for k in SIGNALS if self.signals.get(k, 0.0) >= at]


@dataclass
class MineReport:
    seen: int
    picked: list[Candidate]
    signals_used: list[str]
    skipped: list[str]
    out: Path
    csv_path: Path


def frame_signals(faces: list[Face], int8_faces: list[Face] | None, finder_boxes: np.ndarray | None,
                  options: MineOptions) -> dict[str, float]:
    """The signals (0..1) of one frame from the checker's faces (grouped at a low ``conf``), the INT8
    model's (None: not run) and the independent detector's boxes (None: not run)."""
    t, sure = options.min_face_score, options.sure
    counted = [f for f in faces if f.presence >= t]
    low = 0.0
    for f in faces:
        if f.presence < t - options.near:
            continue  # background noise, not a face anyone would label
        unsure_face = (sure - f.presence) / max(sure - t, 1e-6)  # 1 at the gate's threshold, 0 from `sure` up
        unsure_class = 1.0 - f.margin if f.presence >= t else 0.0
        low = max(low, min(1.0, unsure_face), unsure_class)
    near = 0.0
    for f in counted:
        near = max(near, 1.0 - abs(f.scores.get("with_mask", 0.0) - options.with_mask) / options.near)
    signals = {"low_confidence": low, "near_threshold": max(0.0, near)}
    if int8_faces is not None:
        signals["int8_disagrees"] = _disagreement(counted, [f for f in int8_faces if f.presence >= t])
    if finder_boxes is not None:
        mine = _boxes(counted)
        theirs = finder_boxes[:, :4] if len(finder_boxes) else np.zeros((0, 4))
        missed = unmatched(theirs, mine) + unmatched(mine, theirs)
        signals["face_detector_disagrees"] = min(1.0, missed / max(1, len(mine), len(theirs)))
    return {k: round(float(np.clip(v, 0.0, 1.0)), 4) for k, v in signals.items()}


def _boxes(faces: list[Face]) -> np.ndarray:
    return np.array([f.bbox for f in faces], dtype=np.float64).reshape(-1, 4)


def _disagreement(a: list[Face], b: list[Face]) -> float:
    """1 when a face is missing on one side or changes class; else how far the class scores moved (x10)."""
    if unmatched(_boxes(a), _boxes(b)) or unmatched(_boxes(b), _boxes(a)):
        return 1.0
    if not a:
        return 0.0
    from dabai.core.boxes import box_iou_matrix

    iou = box_iou_matrix(_boxes(a), _boxes(b))
    worst = 0.0
    for i, f in enumerate(a):
        g = b[int(iou[i].argmax())]
        if g.label != f.label:
            return 1.0
        worst = max(worst, max(abs(f.scores[c] - g.scores.get(c, 0.0)) for c in f.scores) * 10)
    return min(1.0, worst)


def visitor_hash(image_bgr: np.ndarray, faces: list[Face]) -> int:
    """64-bit perceptual hash of the largest counted face (a fixed gate camera's background is the same in
    every frame; the visitor is what differs), or of the whole frame when no face is seen."""
    import cv2
    import imagehash
    from PIL import Image

    region = image_bgr
    if faces:
        x1, y1, x2, y2 = (int(round(v)) for v in max(faces, key=lambda f: (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1])).bbox)
        crop = image_bgr[max(0, y1):max(y1 + 1, y2), max(0, x1):max(x1 + 1, x2)]
        if crop.size:
            region = crop
    gray = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY) if region.ndim == 3 else region
    return int(str(imagehash.phash(Image.fromarray(cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA)))), 16)


class Miner:
    """Scores frames: the checker, optionally its INT8 twin and an independent face detector."""

    def __init__(self, detector: Detector, int8: Detector | None = None, finder: FaceFinder | None = None,
                 options: MineOptions | None = None):
        self.detector = detector.with_options(conf=SCAN_CONF)
        self.int8 = int8.with_options(conf=SCAN_CONF) if int8 is not None else None
        self.finder = finder
        self.options = options or MineOptions()

    @property
    def signals_used(self) -> list[str]:
        used = ["low_confidence", "near_threshold"]
        used += ["int8_disagrees"] if self.int8 is not None else []
        used += ["face_detector_disagrees"] if self.finder is not None else []
        return used

    def score(self, frame: Frame) -> Candidate:
        faces = group_faces(self.detector(frame.image), self.detector.classes)
        int8 = group_faces(self.int8(frame.image), self.int8.classes) if self.int8 is not None else None
        found = self.finder(frame.image) if self.finder is not None else None
        signals = frame_signals(faces, int8, found, self.options)
        counted = [f for f in faces if f.presence >= self.options.min_face_score]
        total = sum(self.options.weights.get(k, 0.0) * v for k, v in signals.items())
        return Candidate(frame.name, round(total, 4), signals, len(counted), visitor_hash(frame.image, counted),
                         frame.path)


def pick(candidates: list[Candidate], top: int, look_alike: int = NEAR_DUPLICATE_DISTANCE) -> list[Candidate]:
    """The ``top`` frames, greedily: each round takes the best score divided by 1 + (picked look-alikes)."""
    if not candidates:
        return []
    hashes = np.array([c.phash for c in candidates], dtype=np.uint64)
    scores = np.array([c.score for c in candidates], dtype=np.float64)
    alikes = np.zeros(len(candidates), dtype=np.int64)
    free = np.ones(len(candidates), dtype=bool)
    picked = []
    for _ in range(min(top, len(candidates))):
        effective = np.where(free, scores / (1 + alikes), -np.inf)
        i = int(effective.argmax())  # ties: the earlier frame
        free[i] = False
        candidates[i].look_alikes = int(alikes[i])
        picked.append(candidates[i])
        alikes += hamming_to_all(hashes, int(hashes[i])) <= look_alike
    return picked


def mine(source: str | Path, out: str | Path, model: str | Path | Detector | None = "fp32",
         int8_model: str | Path | Detector | None = "int8", face_model: str | Path | FaceFinder | None = None,
         options: MineOptions | None = None, every: int = 5, threads: int | None = None) -> MineReport:
    """Score every frame of ``source`` (folder, video: every ``every``-th frame, or a gate home), pick the
    top ``options.top`` and write them to ``out/images/`` with ``out/mine.csv`` (rank, image, score, one
    column per signal, reasons). ``model`` is the FP32 checker by default so that its INT8 twin
    (``int8_model``) can disagree with it. ``int8_model=None`` and ``face_model=None`` leave those signals out (the
    report says which ran). Models may be given loaded (Detector, FaceFinder) or as paths / shipped names.
    ``out`` must be new or empty."""
    options = options or MineOptions()
    src = open_source(source, every=every)
    out = prepare_output_dir(Path(out))
    miner = Miner(_detector(model, threads), _detector(int8_model, threads) if int8_model is not None else None,
                  face_model if isinstance(face_model, FaceFinder) or face_model is None else FaceFinder(face_model),
                  options)
    log.info("mining %s (%s) with signals: %s", src.root, src.kind, ", ".join(miner.signals_used))
    candidates = [miner.score(frame) for frame in src.frames(desc="mine")]
    if not candidates:
        raise DataError("no frame could be read", path=src.root)
    picked = pick(candidates, options.top, options.look_alike)
    image_dir = out / "images"
    for c in picked:
        if c.path is not None:
            place_file(c.path, image_dir / c.name, "copy")
    if src.kind == "video":  # a second pass writes the picked frames (no frame is held in memory meanwhile)
        wanted = {c.name for c in picked}
        for frame in src.frames(desc="writing frames"):
            if frame.name in wanted:
                write_jpeg(image_dir / frame.name, frame.image, 95)
    csv_path = write_csv(out / CSV_NAME, picked, miner.signals_used, src.root)
    return MineReport(len(candidates), picked, miner.signals_used, src.skipped, out, csv_path)


def _detector(model, threads: int | None) -> Detector:
    return model if isinstance(model, Detector) else Detector.load(model, threads=threads)


def gate_note(path: Path | None) -> str:
    """Why the gate kept a frame: the ``why`` of the .json note beside a frame of ``mining/`` (gate/mining.py)."""
    note = path.with_suffix(".json") if path is not None else None
    if note is None or not note.is_file():
        return ""
    try:
        why = json.loads(note.read_text(encoding="utf-8")).get("why", [])
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
        return f"unreadable note {note.name} ({type(exc).__name__})"
    return "; ".join(str(w) for w in why) if isinstance(why, list) else str(why)


def write_csv(path: Path, picked: list[Candidate], signals: list[str], source: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["rank", "image", "score", *signals, "faces", "look_alikes_picked_before", "reasons", "source",
                    "gate_note"])
        for rank, c in enumerate(picked, 1):
            reasons = c.reasons() or ["highest remaining score"]
            w.writerow([rank, f"images/{c.name}", f"{c.score:.4f}", *(f"{c.signals.get(s, 0.0):.4f}" for s in signals),
                        c.faces, c.look_alikes, ";".join(reasons), (c.path or source).as_posix(), gate_note(c.path)])
    return path
