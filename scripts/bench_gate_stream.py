#!/usr/bin/env python3
"""Does `gate run` keep up with a live 15 fps 640x480 camera? Frames processed vs offered, and frames dropped.

Builds a visitor clip (the astronaut sample with a drawn mask holding up a valid pass, every 7 s), serves it in a
loop as an HTTP (MPEG-TS) camera with ffmpeg on loopback, runs the gate loop on it with the shipped detector for
--seconds, stops it with SIGTERM, and prints one JSON line: offered and processed fps, frames dropped by the
newest-frame queue, decisions, peak memory, load average, machine.

usage: python scripts/bench_gate_stream.py [--seconds 60] [--fps 15] [--queue 1] [--model int8]
needs: ffmpeg (Debian package), the gate extra. Nothing outside a temporary folder is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--fps", type=int, default=15)
    ap.add_argument("--queue", type=int, default=1, help="camera.queue_frames")
    ap.add_argument("--model", default=None, help="the gate's model (a shipped name such as int8, or a file); "
                    "default: the shipped default")
    args = ap.parse_args()
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        sys.exit("needs ffmpeg (apt-get install ffmpeg)")

    import cv2
    import numpy as np

    from dabai.bench.stats import machine_info
    from dabai.gate.config import CameraRules, GateConfig
    from dabai.gate.db import open_registry
    from dabai.gate.demo_faces import astronaut, draw_mask, paste_qr
    from dabai.gate.home import GateHome
    from dabai.gate.keys import init_keys, load_private_key
    from dabai.gate.passes import issue_pass, qr_matrix
    from dabai.gate.residents import add_resident
    from dabai.gate.session import SessionOptions, run_session

    with tempfile.TemporaryDirectory(prefix="dabai-bench-stream-") as tmp:
        tmp = Path(tmp)
        home = GateHome(tmp / "home").ensure()
        init_keys(home)
        registry = open_registry(home, synchronous="NORMAL")
        resident = add_resident(registry, "张三", "3-1-402")
        text = issue_pass(registry, load_private_key(home), resident.id).text

        image, box = astronaut()
        scene = cv2.resize(draw_mask(image, box)[0:360, 40:520], (640, 480))  # 4:3 crop around the face
        visitor = paste_qr(scene, qr_matrix(text), width=170)
        empty = np.full((480, 640, 3), 128, np.uint8)
        clip = tmp / "visitors.mp4"
        enc = subprocess.Popen([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt",
                                "bgr24", "-s", "640x480", "-r", str(args.fps), "-i", "-", "-c:v", "libx264",
                                "-preset", "ultrafast", "-crf", "20", "-g", str(args.fps), "-pix_fmt", "yuv420p",
                                str(clip)], stdin=subprocess.PIPE)
        for i in range(7 * args.fps * 3):  # 21 s: three visitors, 3 s apart
            enc.stdin.write((empty if i % (7 * args.fps) < 3 * args.fps else visitor).tobytes())
        enc.stdin.close()
        if enc.wait() != 0:
            sys.exit("ffmpeg could not encode the clip")

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}/gate.ts"
        server = subprocess.Popen([ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i",
                                   str(clip), "-c", "copy", "-f", "mpegts", "-listen", "1", url],
                                  stdin=subprocess.DEVNULL)
        cfg = GateConfig(gate_id="bench", camera=CameraRules(queue_frames=args.queue))
        timer = threading.Timer(args.seconds, lambda: os.kill(os.getpid(), signal.SIGTERM))
        load_before = os.getloadavg()
        try:
            timer.start()
            t0 = time.monotonic()
            summary = run_session(home, cfg, registry, SessionOptions(camera=url, intent="enter", speak=False, model=args.model))
            wall = time.monotonic() - t0
        finally:
            timer.cancel()
            server.kill()
            server.wait()
        cam = summary["camera"]
        out = {
            "seconds": round(wall, 1), "offered_fps": round(cam["frames_read"] / wall, 2),
            "processed_fps": summary["fps_average"], "frames_read": cam["frames_read"],
            "frames_processed": summary["frames"], "frames_dropped": cam["frames_dropped"],
            "dropped_pct": round(100 * cam["frames_dropped"] / max(1, cam["frames_read"]), 1),
            "model": args.model or "default", "queue_frames": args.queue, "reconnects": cam["reconnects"], "visitors": summary["visitors"],
            "decisions": len(summary["events"]), "allowed": summary["allowed"],
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()], "machine": machine_info(),
        }
        print(json.dumps(out, ensure_ascii=False))
        registry.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
