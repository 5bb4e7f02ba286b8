"""Live cameras: the newest-frame queue drops stale frames, reconnection backs off (capped), URLs are parsed and
their passwords kept out of logs. Real network streams are in test_camera_stream.py."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from dabai.core.errors import DabaiError
from dabai.gate.camera import LiveCamera, parse_source, redact
from dabai.gate.config import CameraRules


class ScriptedCapture:
    """One connection: ``frames`` frames at ``fps`` (None: as fast as asked), then the stream ends."""

    def __init__(self, frames: int, fps: float | None = None, opened: bool = True):
        self.left, self.fps, self.opened = frames, fps, opened
        self.released = False
        self.n = 0

    def isOpened(self):  # cv2 naming
        return self.opened

    def read(self):
        if self.left <= 0:
            return False, None
        if self.fps:
            time.sleep(1.0 / self.fps)
        self.left -= 1
        self.n += 1
        return True, np.full((4, 4, 3), self.n % 256, np.uint8)

    def release(self):
        self.released = True


class Script:
    """A capture factory playing a list of connections; records when each attempt was made."""

    def __init__(self, *connections, then: str = "forever"):
        self.connections = list(connections)
        self.then = then  # after the script: a stream that never ends, or connections that fail
        self.attempts: list[float] = []

    def __call__(self, source, rules):
        self.attempts.append(time.monotonic())
        if not self.connections:
            return ScriptedCapture(10**9, fps=100) if self.then == "forever" else ScriptedCapture(0, opened=False)
        c = self.connections.pop(0)
        if c == "refused":
            raise ConnectionRefusedError("connection refused")
        if c == "closed":
            return ScriptedCapture(0, opened=False)
        return c


def test_slow_consumer_gets_the_newest_frames_and_the_rest_are_dropped():
    cam = LiveCamera("rtsp://cam/x", CameraRules(queue_frames=2), capture_factory=Script(ScriptedCapture(300), then="closed"))
    with cam:
        time.sleep(0.3)  # the camera delivers 300 frames while the gate is busy
        got = [cam.read(timeout=1.0) for _ in range(2)]
        s = cam.stats()
    assert [int(f[0][0, 0, 0]) for f in got] == [299 % 256, 300 % 256]  # only the two newest were kept
    assert s.frames_read == 300 and s.frames_dropped == 298 and s.frames_taken == 2
    assert len(cam._frames) <= 2  # never more than queue_frames waiting


def test_every_frame_is_taken_dropped_or_waiting():
    cam = LiveCamera(0, CameraRules(queue_frames=3), capture_factory=Script(ScriptedCapture(200, fps=400),
                                                                            then="closed"))
    got = []
    with cam:
        while (f := cam.read(timeout=0.5)) is not None:
            got.append(int(f[0][0, 0, 0]))
            time.sleep(0.005)  # a gate slower than the camera
        s = cam.stats()
    assert s.frames_read == 200 and s.frames_taken == len(got) and s.frames_taken + s.frames_dropped == 200
    assert got == sorted(got) and got[-1] == 200  # in order, and the newest frame is never the one dropped


def test_reconnects_with_capped_exponential_back_off():
    script = Script("refused", "closed", "refused", "refused", ScriptedCapture(5), "refused", ScriptedCapture(10**9, 100))
    rules = CameraRules(reconnect_min_s=0.05, reconnect_max_s=0.2)
    with LiveCamera("rtsp://u:secret@cam/x", rules, capture_factory=script) as cam:
        deadline = time.monotonic() + 10
        while cam.stats().last_recovery_s is None and time.monotonic() < deadline:  # frames after the reconnect
            time.sleep(0.01)
        assert cam.read(timeout=2.0) is not None
        s = cam.stats()
    gaps = np.diff(script.attempts)
    # waits after the 1st..4th failures: 0.05, 0.1, 0.2 (capped), 0.2; after the stream ends: at once; then 0.05
    expected = [0.05, 0.1, 0.2, 0.2, 0.0, 0.05]
    assert len(gaps) >= 6
    for gap, want in zip(gaps[:6], expected):
        assert want - 0.01 <= gap <= want + 0.15, (list(gaps), expected)
    assert s.connects == 2 and s.reconnects == 1 and s.losses == 1 and s.failed_attempts == 5
    assert s.last_recovery_s is not None and s.last_recovery_s < 1.0
    assert "secret" not in s.source


def test_stop_while_disconnected_is_prompt():
    cam = LiveCamera("rtsp://cam/x", CameraRules(reconnect_min_s=0.5, reconnect_max_s=5.0),
                     capture_factory=Script(*["refused"] * 100)).start()
    time.sleep(0.2)
    t = time.monotonic()
    cam.close()
    assert time.monotonic() - t < 1.0 and cam.read(timeout=0.1) is None


def test_read_returns_none_when_nothing_comes():
    gate = threading.Event()

    class Stuck(ScriptedCapture):
        def read(self):
            gate.wait(2)
            return False, None

    with LiveCamera("rtsp://cam/x", capture_factory=Script(Stuck(1))) as cam:
        t = time.monotonic()
        assert cam.read(timeout=0.2) is None
        assert time.monotonic() - t < 1.0
        gate.set()


def test_parse_source_and_redact():
    assert parse_source("0") == 0 and parse_source(" 2 ") == 2
    assert parse_source("rtsp://10.0.0.5:554/Streaming/Channels/102") == "rtsp://10.0.0.5:554/Streaming/Channels/102"
    assert parse_source("http://cam.local/video.mjpg") == "http://cam.local/video.mjpg"
    for bad in ("visitors.mp4", "cam.local/stream", "ftp://x/y"):
        with pytest.raises(DabaiError, match="camera index|stream URL"):
            parse_source(bad)
    assert redact("rtsp://admin:hunter2@10.0.0.5:554/s") == "rtsp://admin:***@10.0.0.5:554/s"
    assert redact("rtsp://10.0.0.5/s") == "rtsp://10.0.0.5/s" and redact(1) == "camera 1"


def test_gate_run_needs_a_source(tmp_path, monkeypatch, capsys):
    from dabai.cli.main import main

    monkeypatch.setenv("DABAI_HOME", str(tmp_path / "home"))
    assert main(["keys", "init"]) == 0
    assert main(["gate", "run", "--intent", "enter", "--no-reply-audio"]) == 2
    assert "no camera" in capsys.readouterr().err
    assert main(["gate", "run", "--camera", "entrance.mp4", "--intent", "enter"]) == 2
    assert "use --video for a file" in capsys.readouterr().err
    assert main(["gate", "run", "--camera", "0", "--realtime", "--intent", "enter"]) == 2
    assert "--realtime plays a --video file" in capsys.readouterr().err
    (tmp_path / "home" / "gate.yaml").write_text("camera: {source: rtsp://cam/s, queue_frames: 0}\n")
    assert main(["gate", "run", "--intent", "enter"]) == 2
    assert "camera.queue_frames" in capsys.readouterr().err


def test_a_failing_reader_thread_is_reported_not_hidden():
    class Broken(ScriptedCapture):
        def release(self):
            raise MemoryError("the backend broke")

    with LiveCamera("rtsp://cam/x", capture_factory=Script(Broken(2))) as cam:
        with pytest.raises(DabaiError, match="camera reader stopped .*MemoryError"):
            for _ in range(10):
                cam.read(timeout=1.0)
