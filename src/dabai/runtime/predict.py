"""Batch prediction over an image, a folder of images, or a video (what ``dabai predict`` runs)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from dabai.core.errors import DataError
from dabai.core.images import DEFAULT_MAX_PIXELS, list_images, read_bgr
from dabai.runtime.detector import Detector
from dabai.runtime.draw import draw_detections
from dabai.runtime.types import Detection

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}


@dataclass
class PredictSummary:
    images: int = 0
    detections: int = 0
    skipped: list[str] = field(default_factory=list)  # "path: why" of unreadable or oversized files (not fatal)
    interrupted: bool = False  # stopped by Ctrl-C (outputs hold what was predicted until then)
    records: list[dict] = field(default_factory=list)  # every detection as {"image", "bbox", "score", "label"}


def iter_video(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise DataError("cannot open the video (unsupported codec or not a video)", path=path)
    index = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield f"{path.name}#{index:06d}", frame
            index += 1
    finally:
        cap.release()


def predict_source(detector: Detector, source: str | Path, out_dir: str | Path | None = None,
                   json_path: str | Path | None = None, kitti_dir: str | Path | None = None,
                   max_pixels: int = DEFAULT_MAX_PIXELS) -> PredictSummary:
    """Detect in an image, every image of a folder, or a video. In a folder, an unreadable or oversized image
    (declared width x height above ``max_pixels``, checked before decoding) is skipped and listed in
    ``summary.skipped``; the others are still processed and the JSON is still written."""
    source = Path(source)
    if not source.exists():
        raise DataError("no such file or folder", path=source)
    summary = PredictSummary()
    video = source.suffix.lower() in VIDEO_SUFFIXES
    return predict_frames(detector, _frames(source, summary, max_pixels), out_dir, json_path, kitti_dir,
                          video_name=source.stem if video else None, summary=summary)


def predict_frames(detector: Detector, frames: Iterable[tuple[str, np.ndarray]], out_dir: str | Path | None = None,
                   json_path: str | Path | None = None, kitti_dir: str | Path | None = None, *,
                   video_name: str | None = None, summary: PredictSummary | None = None) -> PredictSummary:
    """Detect on (name, image) pairs; with ``video_name`` the drawn frames go into OUT/VIDEO_NAME_pred.mp4.
    Ctrl-C stops early and still writes what was predicted (a live stream has no end)."""
    out_dir = Path(out_dir) if out_dir else None
    kitti_dir = Path(kitti_dir) if kitti_dir else None
    for d in (out_dir, kitti_dir):
        if d:
            d.mkdir(parents=True, exist_ok=True)
    summary = summary or PredictSummary()
    records = summary.records
    writer = None
    try:
        for name, image in frames:
            dets = detector(image)
            summary.images += 1
            summary.detections += len(dets)
            records.extend(d.to_json(image=name) for d in dets)
            if kitti_dir:
                (kitti_dir / (Path(name.replace("#", "_")).stem + ".txt")).write_text(kitti_lines(dets))
            if out_dir:
                drawn = draw_detections(image, dets)
                if video_name is not None:
                    writer = writer or _video_writer(out_dir / (video_name + "_pred.mp4"), drawn)
                    writer.write(drawn)
                else:
                    cv2.imwrite(str(out_dir / Path(name).name), drawn)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        if writer is not None:
            writer.release()
    if json_path:
        Path(json_path).write_text(json.dumps(records, ensure_ascii=False, indent=1))
    return summary


def kitti_lines(dets: list[Detection]) -> str:
    """TAO/tlt-infer style KITTI lines, with the score in the last field."""
    return "".join(
        f"{d.label} 0.00 0 0.00 {d.bbox[0]:.2f} {d.bbox[1]:.2f} {d.bbox[2]:.2f} {d.bbox[3]:.2f} "
        f"0.00 0.00 0.00 0.00 0.00 0.00 0.00 {d.score:.4f}\n"
        for d in dets
    )


def _frames(source: Path, summary: PredictSummary, max_pixels: int) -> Iterator[tuple[str, np.ndarray]]:
    if source.is_dir():
        paths = list_images(source, required=True)
        for path in tqdm(paths, desc="predict", unit="img"):
            try:
                image = read_bgr(path, max_pixels=max_pixels)
            except DataError as exc:
                summary.skipped.append(str(exc))
                continue
            yield path.relative_to(source).as_posix(), image
    elif source.suffix.lower() in VIDEO_SUFFIXES:
        yield from iter_video(source)
    else:
        yield source.name, read_bgr(source, max_pixels=max_pixels)


def _video_writer(path: Path, first_frame: np.ndarray):
    h, w = first_frame.shape[:2]
    return cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (w, h))
