"""Where ``mine`` and ``label`` read frames from: a folder of images, a video, or a gate's home.

A gate home (``DABAI_HOME``, see ``gate/home.py``) is read for the frames the gate kept: ``mining/`` (frames of
uncertain decisions), ``snapshots/`` (denied visitors) and ``live/latest.jpg`` (the console's newest frame).
Every frame gets a name relative to its source, which is where it lands in the output (``.jpg`` for video
frames). An unreadable image is skipped and listed, never fatal, like ``dabai predict``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dabai.core.errors import DataError
from dabai.core.images import DEFAULT_MAX_PIXELS, list_images, read_bgr
from dabai.data.progress import progress
from dabai.runtime.predict import VIDEO_SUFFIXES

GATE_FOLDERS = ("mining", "snapshots")  # what a gate home keeps for mining, most useful first


@dataclass
class Frame:
    name: str  # relative output name, e.g. "with_mask/a.jpg", "clip_000120.jpg", "mining/20261202/x.jpg"
    image: np.ndarray  # BGR
    path: Path | None = None  # the file it was read from (None: a video frame)


@dataclass
class FrameSource:
    """What SRC is (``kind``: images, video, gate) and how to walk it."""

    root: Path
    kind: str
    files: list[Path] = field(default_factory=list)  # images (folder or gate home), in order
    every: int = 1  # video: every Nth frame
    max_pixels: int = DEFAULT_MAX_PIXELS
    skipped: list[str] = field(default_factory=list)  # "path: why" of images that could not be read

    def __len__(self) -> int:
        return len(self.files)

    def frames(self, desc: str) -> Iterator[Frame]:
        """Decoded frames with a progress bar (with an ETA where the count is known)."""
        if self.kind == "video":
            yield from progress(self._video_frames(), desc=desc, total=self._video_length(), unit="frame")
            return
        base = self.root
        for path in progress(self.files, desc=desc):
            try:
                image = read_bgr(path, max_pixels=self.max_pixels)
            except DataError as exc:
                self.skipped.append(str(exc))
                continue
            yield Frame(path.relative_to(base).as_posix(), image, path)

    def _video_length(self) -> int | None:
        """Frames that will be yielded, from the container's frame count (None when it does not say)."""
        import cv2

        cap = cv2.VideoCapture(str(self.root))
        try:
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
        finally:
            cap.release()
        return -(-count // self.every) if count > 0 else None

    def _video_frames(self) -> Iterator[Frame]:
        from dabai.runtime.predict import iter_video

        for index, (_, image) in enumerate(iter_video(self.root)):
            if index % self.every == 0:
                yield Frame(f"{self.root.stem}_{index:06d}.jpg", image)


def is_gate_home(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_dir() for name in GATE_FOLDERS) and not (path / "images").is_dir()


def open_source(source: str | Path, every: int = 1, max_pixels: int = DEFAULT_MAX_PIXELS) -> FrameSource:
    """A folder of images (searched recursively; for a ``dabai mine`` output, its ``images/``), a video file
    (every ``every``-th frame) or a gate home."""
    root = Path(source).expanduser()
    if not root.exists():
        raise DataError("no such file or folder", path=root)
    if every < 1:
        raise DataError(f"every must be 1 or more, got {every}")
    if root.is_file():
        if root.suffix.lower() in VIDEO_SUFFIXES:
            return FrameSource(root, "video", every=every, max_pixels=max_pixels)
        return FrameSource(root.parent, "images", files=[root], max_pixels=max_pixels)
    if is_gate_home(root):
        files = [p for name in GATE_FOLDERS for p in list_images(root / name)]
        live = root / "live" / "latest.jpg"
        if live.is_file():
            files.append(live)
        if not files:
            raise DataError("this gate home has no kept frames yet (mining/, snapshots/ and live/ are empty)",
                            path=root)
        return FrameSource(root, "gate", files=files, max_pixels=max_pixels)
    if (root / "mine.csv").is_file() and (root / "images").is_dir():
        root = root / "images"  # a `dabai mine` output: its picks
    files = list_images(root)
    if not files:
        raise DataError("no images found here (a folder of images, a video file or a gate home was expected)",
                        path=root)
    return FrameSource(root, "images", files=files, max_pixels=max_pixels)
