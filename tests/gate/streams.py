"""Local network cameras for the tests: an RTSP server (GStreamer) and an HTTP stream (ffmpeg), both on loopback.

Both serve an H.264 clip made here from generated frames (ffmpeg + libx264). Tests skip with the reason when a
piece is missing; scripts/ci_services.sh installs them (ffmpeg, gstreamer rtsp-server, python3-gi).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

SYSTEM_PYTHON = "/usr/bin/python3"  # python3-gi lives in Debian's interpreter, not in the venv
HERE = Path(__file__).resolve().parent


def need_ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        pytest.skip("needs ffmpeg (Debian: apt-get install ffmpeg; scripts/ci_services.sh installs it)")
    return path


def need_rtsp_server() -> None:
    probe = ("import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
             "from gi.repository import Gst; Gst.init(None);"
             "assert Gst.ElementFactory.find('qtdemux') and Gst.ElementFactory.find('rtph264pay')")
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True,
                                                          timeout=60).returncode != 0:
        pytest.skip("needs GStreamer's RTSP server for Python (Debian: gir1.2-gst-rtsp-server-1.0 python3-gi "
                    "gstreamer1.0-plugins-good; scripts/ci_services.sh installs them)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_clip(path: Path, frames, fps: float = 15.0) -> Path:
    """Encode BGR frames (an iterable of HxWx3 uint8) to H.264 MP4, a key frame every second (so a client that
    joins mid-stream sees a picture within a second)."""
    ffmpeg = need_ffmpeg()
    frames = iter(frames)
    first = next(frames)
    h, w = first.shape[:2]
    proc = subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
         "-r", f"{fps:g}", "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-crf", "18",
         "-g", str(int(fps)), "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(np.ascontiguousarray(first).tobytes())
    for f in frames:
        proc.stdin.write(np.ascontiguousarray(f).tobytes())
    proc.stdin.close()
    if proc.wait(timeout=300) != 0:
        raise RuntimeError(f"ffmpeg could not encode {path}: {proc.stderr.read().decode(errors='replace')}")
    return path


class RtspServer:
    """rtsp://127.0.0.1:PORT/gate serving ``clip``; stop() kills it (SIGKILL: a camera that vanishes)."""

    def __init__(self, clip: Path, port: int | None = None):
        need_rtsp_server()
        self.clip, self.port = clip, port or free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/gate"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> float:
        """Start and wait until it listens; returns the time (time.time()) it became ready."""
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(HERE / "rtsp_server.py"), str(self.port), "/gate",
                                      str(self.clip)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        line = self.proc.stdout.readline()
        if line.strip() != "ready" or time.monotonic() > deadline:
            self.stop()
            raise RuntimeError(f"the RTSP server did not start: {line!r}")
        return time.time()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self) -> RtspServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class HttpStream:
    """http://127.0.0.1:PORT/gate.ts: ffmpeg serving ``clip`` in a loop as MPEG-TS to one client (an HTTP camera)."""

    def __init__(self, clip: Path, port: int | None = None):
        self.ffmpeg = need_ffmpeg()
        self.clip, self.port = clip, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/gate.ts"
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        self.proc = subprocess.Popen(
            [self.ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(self.clip),
             "-c", "copy", "-f", "mpegts", "-listen", "1", self.url], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # no probe connection: ffmpeg serves its first client only (the camera reader retries until it listens)
        return time.time()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

