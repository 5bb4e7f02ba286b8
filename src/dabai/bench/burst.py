"""A burst of concurrent uploads against a running ``dabai serve``, its RSS sampled throughout.

Used by ``scripts/serve_hostile_rss.py`` (the figures in docs/security.md) and by the regression test
that the server's memory goes back to its idle level afterwards (tests/serve/test_memory.py).
"""

from __future__ import annotations

import concurrent.futures
import struct
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from dabai.core.errors import require


def grey_png(width: int, height: int) -> bytes:
    """A valid, mid-grey RGB PNG of width x height that compresses to about 1/1000 of its decoded size (a
    6300x6300 image, 119 MB decoded, is a 128 KB upload)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = (b"\x00" + b"\x80" * (width * 3)) * height  # filter byte + grey pixels, row by row
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn workers), in MB (Linux /proc)."""
    total = 0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for p in [pid, *map(int, children)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:  # a child that exited meanwhile
            pass
    return total / 1024


def wait_healthy(url: str, proc, seconds: float = 60.0) -> str | None:
    """Wait until the server at ``url`` (started as ``proc``, a Popen) answers ``/healthz`` with 200: None once it
    does, else why not (the process exited, or ``seconds`` went by)."""
    httpx = require("httpx", "serve")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"the server exited with status {proc.returncode}"
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return None
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return f"the server did not answer /healthz within {seconds:g} s"


@dataclass
class Burst:
    idle_mb: float  # after one small warm-up request and a second's rest
    peak_mb: float  # sampled every 20 ms during the burst
    after_mb: float  # ``settle_s`` after the last answer
    codes: Counter  # HTTP status -> count
    latencies_s: list[float]
    wall_s: float  # first upload sent to last answer


def upload_burst(url: str, pid: int, body: bytes, clients: int = 16, settle_s: float = 5.0,
                 timeout_s: float = 300.0) -> Burst:
    """Warm the server at ``url`` (process ``pid``) with one small image, then have ``clients`` threads
    upload ``body`` to ``/v1/detect`` at once."""
    httpx = require("httpx", "serve")
    with httpx.Client(timeout=timeout_s) as warm:  # the model's first run is not part of the idle level
        warm.post(url + "/v1/detect", files={"file": ("warm.png", grey_png(64, 64), "image/png")}).raise_for_status()
    time.sleep(1.0)
    idle = rss_mb(pid)
    samples, stop = [idle], threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(rss_mb(pid))
            time.sleep(0.02)

    def upload(_):
        start = time.perf_counter()
        with httpx.Client(timeout=timeout_s) as client:
            r = client.post(url + "/v1/detect", files={"file": ("burst.png", body, "image/png")})
        return r.status_code, time.perf_counter() - start

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(upload, range(clients)))
        wall = time.perf_counter() - started
        time.sleep(settle_s)
        after = rss_mb(pid)
    finally:
        stop.set()
        sampler.join()
    return Burst(idle, max(samples), after, Counter(code for code, _ in results), [t for _, t in results], wall)
