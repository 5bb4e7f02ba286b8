"""Deny snapshots and frames kept for mining (both with retention), and the live frame the console shows."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from dabai.gate.home import private_dir


def save_snapshot(folder: Path, frame: np.ndarray, gate_id: str, keep: int, max_days: float,
                  max_bytes: int | None = None, note: dict | None = None) -> Path | None:
    """Write a JPEG of a visitor under ``folder/YYYYMMDD/`` (with ``note`` as a .json beside it) and prune old
    ones; None if it fails."""
    import cv2

    now = datetime.now(UTC)
    day = private_dir(folder / now.strftime("%Y%m%d"))  # faces of visitors: 0700 folders, 0600 files
    safe_gate = "".join(c if c.isalnum() or c in "-_" else "_" for c in gate_id)
    path = day / f"{now.strftime('%H%M%S-%f')}-{safe_gate}.jpg"
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        return None
    if note is not None:
        _atomic_write(path.with_suffix(".json"), json.dumps(note, ensure_ascii=False).encode())
    _atomic_write(path, data.tobytes())
    prune(folder, keep, max_days, max_bytes)
    return path


def prune(folder: Path, keep: int, max_days: float, max_bytes: int | None = None) -> int:
    """Remove snapshots (and their .json notes) beyond the newest ``keep``, older than ``max_days``, or beyond
    ``max_bytes`` in all, newest kept first; returns how many went."""
    files = sorted(folder.glob("*/*.jpg"), key=lambda p: p.stat().st_mtime, reverse=True)
    cutoff = time.time() - max_days * 86400
    removed = total = 0
    for i, p in enumerate(files):
        note = p.with_suffix(".json")
        total += p.stat().st_size + (note.stat().st_size if note.exists() else 0)
        if i >= keep or p.stat().st_mtime < cutoff or (max_bytes is not None and total > max_bytes):
            p.unlink(missing_ok=True)
            note.unlink(missing_ok=True)
            removed += 1
    for day in folder.iterdir() if folder.is_dir() else ():
        if day.is_dir() and not any(day.iterdir()):
            day.rmdir()
    return removed


def write_live(folder: Path, frame: np.ndarray, faces, state: str, gate_id: str) -> None:
    """The latest frame and its detections for the console (replaced atomically)."""
    import cv2

    private_dir(folder)
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        return
    h, w = frame.shape[:2]
    meta = {"time": datetime.now(UTC).isoformat(), "gate_id": gate_id, "state": state,
            "width": w, "height": h, "faces": [f.to_json() for f in faces]}
    _atomic_write(folder / "latest.jpg", data.tobytes())
    _atomic_write(folder / "latest.json", json.dumps(meta).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (0600), replacing ``path`` in one step."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
