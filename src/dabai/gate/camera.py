"""Live cameras for the gate: a local camera index or a network stream (RTSP, HTTP), read by OpenCV's FFmpeg backend.

A reader thread owns the connection and keeps only the newest ``queue_frames`` frames: when the
gate is slower than the camera, the oldest unprocessed frame is dropped (and counted), so the gate
always looks at what is in front of it now and memory never grows. A stream that ends, errors or
stays silent for ``read_timeout_s`` is reopened with exponential back-off (``reconnect_min_s``
doubling up to ``reconnect_max_s``); every loss and reconnection is logged and counted in
:class:`CameraStats`. Passwords in stream URLs never reach the log.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from dabai.core.errors import DabaiError
from dabai.gate.config import CameraRules

log = logging.getLogger(__name__)

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")


def is_stream_url(source: object) -> bool:
    return isinstance(source, str) and urlsplit(source).scheme.lower() in STREAM_SCHEMES and "://" in source


def parse_source(text: str | int) -> int | str:
    """A camera index (``"0"`` -> 0) or a stream URL; anything else is a clear error."""
    if isinstance(text, int):
        return text
    text = text.strip()
    if text.isdigit():
        return int(text)
    if is_stream_url(text):
        return text
    raise DabaiError(f"camera {text!r}: expected a camera index (0, 1, ...) or a stream URL "
                     f"({', '.join(s + '://' for s in STREAM_SCHEMES[:4])}...); use --video for a file")


def redact(source: int | str) -> str:
    """The source for logs: ``rtsp://user:***@host/path`` instead of the password."""
    if isinstance(source, int):
        return f"camera {source}"
    parts = urlsplit(source)
    if parts.password is None:
        return source
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


@dataclass
class CameraStats:
    """Counters of one camera, updated by the reader thread (read them with :meth:`LiveCamera.stats`)."""

    source: str = ""
    connected: bool = False
    frames_read: int = 0  # frames that came from the camera
    frames_taken: int = 0  # frames handed to the gate
    frames_dropped: int = 0  # frames replaced by a newer one before the gate took them
    connects: int = 0  # successful connections (the first one included)
    reconnects: int = 0  # connections after a loss
    failed_attempts: int = 0  # connection attempts that failed
    losses: int = 0  # times a working stream ended, errored or went silent
    last_frame_time: float | None = None  # wall-clock time (epoch seconds) of the newest frame
    last_loss_time: float | None = None
    last_recovery_s: float | None = None  # seconds from the last loss to the next frame

    def to_json(self) -> dict:
        return asdict(self)


_FFMPEG_OPTIONS = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_written: set[str] = set()  # values of _FFMPEG_OPTIONS this module wrote (a user's own value is left alone)


def ffmpeg_options(rules: CameraRules) -> str:
    """FFmpeg demuxer options in OpenCV's ``key;value|key;value`` form: the RTSP transport, and a short stream
    analysis (``probe_s``) so that opening, and so every reconnection, takes a fraction of a second."""
    return f"rtsp_transport;{rules.rtsp_transport}|analyzeduration;{int(rules.probe_s * 1e6)}"


def open_capture(source: int | str, rules: CameraRules):
    """An OpenCV capture on ``source`` with the FFmpeg backend's open/read time-outs (camera indexes: the default
    backend). :func:`ffmpeg_options` go through OPENCV_FFMPEG_CAPTURE_OPTIONS unless the user set that variable."""
    import cv2

    if isinstance(source, int):
        return cv2.VideoCapture(source)
    current = os.environ.get(_FFMPEG_OPTIONS)
    if current is None or current in _written:
        value = ffmpeg_options(rules)
        os.environ[_FFMPEG_OPTIONS] = value
        _written.add(value)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(rules.open_timeout_s * 1000),
              cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(rules.read_timeout_s * 1000)]
    return cv2.VideoCapture(source, cv2.CAP_FFMPEG, params)


class LiveCamera:
    """Reads ``source`` in a thread and hands out the newest frames. Use as a context manager or start()/close().

    ``capture_factory(source, rules)`` opens a capture (an object with ``isOpened()``, ``read()`` and
    ``release()``); it is OpenCV's by default and replaceable in tests.
    """

    def __init__(self, source: int | str, rules: CameraRules | None = None, *,
                 capture_factory: Callable = open_capture, clock: Callable[[], float] = time.time):
        self.source = source
        self.rules = rules or CameraRules()
        self._open = capture_factory
        self._clock = clock
        self._frames: deque = deque(maxlen=self.rules.queue_frames)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None  # what killed the reader thread, if anything did
        self._stats = CameraStats(source=redact(source))

    # -- consumer side ------------------------------------------------------------------------
    def start(self) -> LiveCamera:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="dabai-camera", daemon=True)
            self._thread.start()
        return self

    def read(self, timeout: float = 1.0) -> tuple[np.ndarray, float] | None:
        """The oldest kept frame and its capture time (epoch seconds), or None when none came within ``timeout``.
        Raises DabaiError when the reader thread itself failed (a bug, not a camera problem): the caller should
        stop, and a service manager restart it."""
        if self._failure is not None:
            raise DabaiError(f"{self._stats.source}: the camera reader stopped "
                             f"({type(self._failure).__name__}: {self._failure})")
        with self._cond:
            if not self._frames and not self._cond.wait_for(
                    lambda: self._frames or self._stop.is_set() or self._failure is not None, timeout):
                return None
            if not self._frames:
                return None
            self._stats.frames_taken += 1
            return self._frames.popleft()

    def stats(self) -> CameraStats:
        with self._cond:
            return CameraStats(**asdict(self._stats))

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.rules.read_timeout_s + self.rules.open_timeout_s + 1.0)
            if self._thread.is_alive():
                log.warning("%s: the reader thread did not stop in time; leaving it (daemon)", self._stats.source)
            self._thread = None

    def __enter__(self) -> LiveCamera:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reader thread ------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._reconnect_loop()
        except BaseException as exc:  # handed to the consumer: read() raises it
            log.exception("%s: the camera reader failed", self._stats.source)
            self._failure = exc
            with self._cond:
                self._cond.notify_all()

    def _reconnect_loop(self) -> None:
        name = self._stats.source
        delay = 0.0  # the first attempt (and the first after a loss) is immediate
        while not self._stop.is_set():
            cap = self._connect()
            if cap is None:
                delay = self.rules.reconnect_min_s if delay == 0 else min(delay * 2, self.rules.reconnect_max_s)
                log.warning("%s: cannot connect (attempt %d failed); retrying in %.1f s", name,
                            self._stats.failed_attempts, delay)
                self._stop.wait(delay)
                continue
            delay = 0.0
            try:
                self._pump(cap)
            finally:
                cap.release()
            with self._cond:
                self._stats.connected = False
                if not self._stop.is_set():
                    self._stats.losses += 1
                    self._stats.last_loss_time = self._clock()
            if not self._stop.is_set():
                log.warning("%s: stream lost (loss %d); reconnecting", name, self._stats.losses)

    def _connect(self):
        try:
            cap = self._open(self.source, self.rules)
        except Exception as exc:  # noqa: BLE001 - any backend failure is one failed attempt, logged and retried
            log.warning("%s: opening failed (%s: %s)", self._stats.source, type(exc).__name__, exc)
            cap = None
        if cap is not None and cap.isOpened():
            with self._cond:
                self._stats.connects += 1
                self._stats.connected = True
                if self._stats.connects > 1:
                    self._stats.reconnects += 1
            log.info("%s: connected%s", self._stats.source,
                     f" again (reconnect {self._stats.reconnects})" if self._stats.connects > 1 else "")
            return cap
        if cap is not None:
            cap.release()
        with self._cond:
            self._stats.failed_attempts += 1
        return None

    def _pump(self, cap) -> None:
        """Read until the stream fails or we are stopped; keep only the newest frames."""
        while not self._stop.is_set():
            try:
                ok, frame = cap.read()
            except Exception as exc:  # noqa: BLE001 - a backend error ends this connection; the loop reconnects
                log.warning("%s: read failed (%s: %s)", self._stats.source, type(exc).__name__, exc)
                return
            if not ok or frame is None:
                return
            now = self._clock()
            with self._cond:
                s = self._stats
                if s.last_loss_time is not None and (s.last_frame_time or 0) < s.last_loss_time:
                    s.last_recovery_s = now - s.last_loss_time
                    log.info("%s: frames again %.1f s after the loss", s.source, s.last_recovery_s)
                if len(self._frames) == self._frames.maxlen:
                    s.frames_dropped += 1
                self._frames.append((frame, now))
                s.frames_read += 1
                s.last_frame_time = now
                self._cond.notify()


def stream_frames(source: int | str, rules: CameraRules | None = None, max_frames: int | None = None,
                  name: str = "stream") -> Iterator[tuple[str, np.ndarray]]:
    """(``name#000000``, frame) from a live camera or stream, reconnecting as needed, until ``max_frames``."""
    with LiveCamera(source, rules) as cam:
        i = 0
        while max_frames is None or i < max_frames:
            got = cam.read(timeout=1.0)
            if got is not None:
                yield f"{name}#{i:06d}", got[0]
                i += 1


class PacedFile:
    """A video file played like a live camera: frames at the file's rate (or ``fps``), looping at the end."""

    def __init__(self, path: str, fps: float | None = None):
        import cv2

        self._cv2 = cv2
        self._cap = cv2.VideoCapture(path)
        self.fps = fps or self._cap.get(cv2.CAP_PROP_FPS) or 15.0
        self._next = time.monotonic()

    def isOpened(self) -> bool:  # the cv2.VideoCapture interface
        return self._cap.isOpened()

    def read(self):
        wait = self._next - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._next = max(self._next + 1.0 / self.fps, time.monotonic() - 1.0)
        ok, frame = self._cap.read()
        if not ok:  # the end: start again
            self._cap.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
        return ok, frame

    def release(self) -> None:
        self._cap.release()
