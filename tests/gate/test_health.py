"""Health of `dabai gate run`: /healthz and /metrics for a watchdog, sd_notify, and SIGTERM finishing the visitor in
progress (the real CLI in a subprocess, with the shipped detector, on a video played like a live camera)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from dabai.gate.config import HealthRules
from dabai.gate.events import query_events
from dabai.gate.health import HealthServer, SystemdNotifier, health_verdict

from .streams import free_port

SRC = Path(__file__).resolve().parents[2] / "src"


def get(url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_healthz_and_metrics():
    status = {"state": "idle", "frames": 12, "last_frame_time": time.time(), "fps": 14.5,
              "camera": {"reconnects": 2, "frames_dropped": 7, "connected": True, "source": "rtsp://cam"},
              "door": {"opened": 3, "failed": 1}}
    server = HealthServer(lambda: status, HealthRules(port=0, stale_s=5)).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        code, body = get(base + "/healthz")
        assert code == 200 and json.loads(body)["healthy"] and json.loads(body)["camera"]["reconnects"] == 2
        code, body = get(base + "/metrics")
        text = body.decode()
        assert code == 200 and "dabai_gate_camera_reconnects 2.0" in text and "dabai_gate_door_failed 1.0" in text
        assert "dabai_gate_camera_connected 1.0" in text and "source" not in text
        status["last_frame_time"] = time.time() - 60  # the camera froze a minute ago
        code, body = get(base + "/healthz")
        assert code == 503 and "60" in json.loads(body)["why"][:40]
        assert get(base + "/nothing")[0] == 404
    finally:
        server.close()
    assert health_verdict({"last_frame_time": None}, 5) == (False, "no frame processed yet")


def test_systemd_notify(tmp_path):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    try:
        n = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000"})
        n.notify("READY=1")
        n.ping(now=100.0)
        n.ping(now=100.5)  # within a third of the interval: not sent again
        n.ping(now=101.1)
        got = [sock.recv(100) for _ in range(3)]
        assert got == [b"READY=1", b"WATCHDOG=1", b"WATCHDOG=1"]
    finally:
        sock.close()
    SystemdNotifier({}).notify("READY=1")  # outside systemd: nothing, no error


def visitor_video(path: Path, fps: int = 15) -> Path:
    """2 s of an empty entrance, then 8 s of a masked visitor who shows no pass (256x256, MJPG)."""
    from dabai.gate.demo_faces import astronaut, draw_mask

    image, box = astronaut()
    masked = cv2.resize(draw_mask(image, box), (256, 256), interpolation=cv2.INTER_AREA)
    empty = np.full_like(masked, 128)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (256, 256))
    for i in range(10 * fps):
        w.write(empty if i < 2 * fps else masked)
    w.release()
    return path


def test_sigterm_finishes_the_visitor_in_progress(home, registry, tmp_path):
    video = visitor_video(tmp_path / "gate.avi")
    (home.root / "gate.yaml").write_text("gate_id: sigterm-gate\n"
                                         "session: {present_frames: 2, vote_frames: 3, pass_timeout_s: 4,"
                                         " request_timeout_s: 4}\n")
    port = free_port()
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "dabai", "gate", "run", "--home", str(home.root), "--video",
                             str(video), "--realtime", "--intent", "enter", "--health-port", str(port),
                             "--no-reply-audio"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    checking = threading.Event()

    def read_log():
        for line in proc.stderr:
            lines.append(line)
            if "present; checking" in line:
                checking.set()

    threading.Thread(target=read_log, daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                code, body = get(f"http://127.0.0.1:{port}/healthz")
            except OSError:
                time.sleep(0.2)
                continue
            if code == 200:
                health = json.loads(body)
                break
            time.sleep(0.2)
        assert health is not None, "".join(lines)
        assert health["state"] in ("idle", "present", "checking") and health["camera"]["connected"]
        assert checking.wait(60), "".join(lines)
        signaled = time.time()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        out = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "".join(lines)
    assert "DENY" in out and "sigterm" in out, out  # the visitor got their answer, then the gate stopped
    (event,) = query_events(registry)
    assert event.reasons == ["no_pass"] and event.door == "not_asked"
    assert event.time.timestamp() > signaled  # decided after the SIGTERM: the visitor was not cut off
    with pytest.raises(OSError):
        get(f"http://127.0.0.1:{port}/healthz")  # the endpoint went away with the process
