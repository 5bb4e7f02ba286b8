"""Measure `dabai serve`'s memory under concurrent hostile uploads (docs/security.md, docs/benchmarks.md).

Starts `dabai serve` on 127.0.0.1, waits until it answers, records its idle RSS, then has N clients
(default 16) each upload a valid PNG that declares just under the 40 MP pixel cap (6300x6300, ~120 KB
compressed, 119 MB decoded), samples the server's RSS every 20 ms, and reports the peak, the RSS 5 s
after the last answer, the status codes and the latencies. Run it once with the default memory budget
and once with the budget out of the way (--memory-budget-mb 100000) for the side-by-side figure.

    python scripts/serve_hostile_rss.py                     # default budget (384 MB)
    python scripts/serve_hostile_rss.py --budget-mb 100000  # no effective server-wide budget
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path


def png_near_cap(width: int = 6300, height: int = 6300) -> bytes:
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = (b"\x00" + b"\x80" * (width * 3)) * height  # filter byte + grey pixels, row by row
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def rss_mb(pid: int) -> float:
    """RSS of the process and its children (uvicorn may fork), in MB."""
    total = 0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--budget-mb", type=int, default=None, help="--memory-budget-mb for the server (default: its own)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures here")
    args = ap.parse_args()
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "dabai", "serve", "--port", str(port)]
    if args.budget_mb is not None:
        cmd += ["--memory-budget-mb", str(args.budget_mb)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start: " + server.stderr.read().decode()[-2000:])
        body = png_near_cap()
        with httpx.Client(timeout=300) as warm:  # one small request so the model is warm
            warm.post(url + "/v1/detect", files={"file": ("warm.png", png_near_cap(64, 64))})
        time.sleep(1.0)
        idle = rss_mb(server.pid)
        peak, stop = [idle], threading.Event()

        def sample():
            while not stop.is_set():
                peak.append(rss_mb(server.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def upload(_):
            t = time.perf_counter()
            with httpx.Client(timeout=300) as c:
                r = c.post(url + "/v1/detect", files={"file": ("near-cap.png", body, "image/png")})
            return r.status_code, time.perf_counter() - t

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(upload, range(args.clients)))
        wall = time.perf_counter() - started
        time.sleep(5.0)
        after = rss_mb(server.pid)
        stop.set()
        sampler.join()
        codes = sorted({c for c, _ in results})
        figures = {"clients": args.clients, "budget_mb": args.budget_mb or 384, "png_bytes": len(body),
                   "declared": "6300x6300 (39.7 MP)", "idle_rss_mb": round(idle), "peak_rss_mb": round(max(peak)),
                   "rss_5s_after_mb": round(after), "status_codes": {str(c): sum(1 for x, _ in results if x == c)
                                                                     for c in codes},
                   "latency_p50_s": round(statistics.median(t for _, t in results), 2),
                   "latency_max_s": round(max(t for _, t in results), 2), "wall_s": round(wall, 2)}
        print(json.dumps(figures, indent=1))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1))
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
