"""`gate run` on real network streams on loopback: an RTSP server (GStreamer) killed and restarted mid-run, and an
HTTP (MPEG-TS) camera served by ffmpeg. The gate must recover within 5 s of the server coming back and keep deciding.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
import urllib.request

import pytest

from dabai.gate.camera import LiveCamera
from dabai.gate.config import CameraRules, GateConfig, SessionRules
from dabai.gate.passes import issue_pass
from dabai.gate.session import SessionOptions, run_session

from .helpers import face, qr_frame
from .streams import HttpStream, RtspServer, free_port, write_clip

FPS = 15

class MarkerDetector:
    """Reads the visitor from a 32x32 marker block (H.264 shifts its value a little: the nearest code wins)."""

    def __init__(self):
        self.codes = {40: [], 120: [face("with_mask", 0.93)], 200: [face("without_mask", 0.9)]}

    def __call__(self, image):
        v = float(image[4:28, 4:28, 0].mean())
        return list(self.codes[min(self.codes, key=lambda c: abs(c - v))])


def visitor_frames(text: str, seconds: float):
    """A visitor every 4 s: 2 s of nobody, then 2 s of a masked resident holding up their pass."""
    empty, visitor = qr_frame(None), qr_frame(text, px=5)
    empty[0:32, 0:32] = 40
    visitor[0:32, 0:32] = 120
    for i in range(int(seconds * FPS)):
        yield empty if (i % (4 * FPS)) < 2 * FPS else visitor


@pytest.fixture
def make_clip(tmp_path, registry, signer, resident):
    def make(seconds: float):
        text = issue_pass(registry, signer, resident.id).text
        return write_clip(tmp_path / "visitors.mp4", visitor_frames(text, seconds), FPS)

    return make


def _health(port: int) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:  # 503 while stale: same JSON
        return json.loads(exc.read())


def run_with_restarts(home, registry, clip, restarts: int, every_s: float, down_s: float = 1.5) -> dict:
    """Run the gate on the RTSP server, kill -9 the server ``restarts`` times ``every_s`` apart (down ``down_s``),
    then SIGTERM the run. Returns the summary plus the measured recoveries and decisions per segment."""
    server = RtspServer(clip)
    port = free_port()
    cfg = GateConfig(gate_id="rtsp-gate", camera=CameraRules(reconnect_min_s=0.25, reconnect_max_s=2.0),
                     session=SessionRules(present_frames=2, absent_frames=3, vote_frames=3, request_timeout_s=2.0,
                                          pass_timeout_s=2.0, result_hold_s=0.5))
    decisions: list[tuple[float, dict]] = []
    marks: dict = {"recoveries": [], "restarted_at": [], "error": None}

    def chaos():
        try:
            for _ in range(restarts):
                time.sleep(every_s)
                server.stop()
                time.sleep(down_s)
                ready = server.start()
                marks["restarted_at"].append(ready)
                deadline = time.time() + 30
                while time.time() < deadline:
                    last = _health(port).get("last_frame_time")
                    if last is not None and last > ready:
                        marks["recoveries"].append(last - ready)
                        break
                    time.sleep(0.05)
                else:
                    marks["recoveries"].append(float("inf"))
            deadline = time.time() + 20  # one more decision after the last restart, then stop
            while time.time() < deadline and not any(t > marks["restarted_at"][-1] for t, _ in decisions):
                time.sleep(0.1)
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            marks["error"] = exc
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # run_session's handler: stop after the visitor in progress

    server.start()
    thread = threading.Thread(target=chaos, daemon=True)
    try:
        thread.start()
        summary = run_session(home, cfg, registry, SessionOptions(camera=server.url, intent="enter", speak=False,
                                                                  health_port=port),
                              detector=MarkerDetector(), on_decision=lambda e: decisions.append((time.time(), e)))
    finally:
        thread.join(timeout=30)
        server.stop()
    if marks["error"] is not None:
        raise marks["error"]
    logging.getLogger(__name__).info("recoveries after restarts (s): %s; camera: %s; %.1f fps processed",
                                     [round(r, 2) for r in marks["recoveries"]], summary["camera"],
                                     summary["fps_average"])
    bounds = [0.0, *marks["restarted_at"], float("inf")]
    per_segment = [sum(1 for t, _ in decisions if lo <= t < hi) for lo, hi in zip(bounds, bounds[1:])]
    return summary | {"recoveries": marks["recoveries"], "per_segment": per_segment,
                      "allows": [e.allow for _, e in decisions]}


def test_rtsp_server_restarted_mid_run_recovers_and_keeps_deciding(home, registry, make_clip):
    out = run_with_restarts(home, registry, make_clip(24), restarts=1, every_s=6.0)
    assert out["stopped"] == "sigterm"
    assert len(out["recoveries"]) == 1 and out["recoveries"][0] < 5.0, out["recoveries"]
    assert all(n >= 1 for n in out["per_segment"]), out["per_segment"]  # decisions before and after the restart
    assert all(out["allows"])  # every visitor was the masked resident with a valid pass
    cam = out["camera"]
    assert cam["reconnects"] == 1 and cam["losses"] == 1 and cam["frames_read"] > 5 * FPS
    assert out["fps_average"] > 0


@pytest.mark.slow
def test_rtsp_three_restarts_in_two_minutes(home, registry, make_clip):
    out = run_with_restarts(home, registry, make_clip(45), restarts=3, every_s=28.0)
    assert out["uptime_s"] >= 90 and out["stopped"] == "sigterm"  # no crash: the run ended on our SIGTERM
    assert len(out["recoveries"]) == 3 and max(out["recoveries"]) < 5.0, out["recoveries"]
    assert all(n >= 1 for n in out["per_segment"]), out["per_segment"]
    assert out["camera"]["reconnects"] == 3 and all(out["allows"])


def test_http_camera_dropped_and_back(tmp_path):
    frames = (qr_frame(None) for _ in range(3 * FPS))
    stream = HttpStream(write_clip(tmp_path / "loop.mp4", frames, FPS))
    stream.start()
    try:
        with LiveCamera(stream.url, CameraRules(reconnect_min_s=0.25, reconnect_max_s=2.0)) as cam:
            assert cam.read(timeout=15) is not None
            stream.stop()
            deadline = time.monotonic() + 15
            while cam.stats().connected and time.monotonic() < deadline:
                cam.read(timeout=0.2)
            assert not cam.stats().connected and cam.stats().losses == 1
            ready = stream.start()
            got = None
            while got is None or got[1] <= ready:
                got = cam.read(timeout=10)
                assert got is not None, "no frames after the HTTP stream came back"
            assert got[1] - ready < 8.0  # (from ffmpeg's start, which is slower than the RTSP server's "ready")
            s = cam.stats()
        assert s.reconnects == 1 and s.losses == 1
    finally:
        stream.stop()


def test_predict_reads_a_network_camera(tmp_path, capsys):
    from dabai.cli.main import main

    frames = (qr_frame(None) for _ in range(2 * FPS))
    stream = HttpStream(write_clip(tmp_path / "cam.mp4", frames, FPS))
    stream.start()
    try:
        code = main(["predict", stream.url, "--max-frames", "5", "--out-json", str(tmp_path / "preds.json"),
                     "--out", str(tmp_path / "preds")])
    finally:
        stream.stop()
    assert code == 0 and "5 image(s)" in capsys.readouterr().out
    assert json.loads((tmp_path / "preds.json").read_text()) == []  # an empty entrance: no faces
    assert (tmp_path / "preds" / "stream_pred.mp4").stat().st_size > 0
