"""Static-file latency of the gate console while 200 logins arrive at once (docs/security.md).

Starts `dabai gate serve` (its own process, loopback) on a throw-away home with one login, fires N parallel wrong-password
logins (default 200) and, meanwhile, GETs /static/console.js every 50 ms; prints the median and worst
static-file latency and the login status codes.

    python scripts/console_login_burst.py
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logins", type=int, default=200)
    args = ap.parse_args()
    import subprocess
    import sys

    import httpx

    from dabai.gate.console.auth import set_password
    from dabai.gate.db import open_registry
    from dabai.gate.home import GateHome

    home = GateHome(Path(tempfile.mkdtemp()) / "home").ensure()
    registry = open_registry(home, synchronous="NORMAL")
    set_password(registry, "admin", "correct horse battery")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    registry.close()
    server = subprocess.Popen([sys.executable, "-m", "dabai", "gate", "serve", "--home", str(home.root),
                               "--port", str(port)], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/login", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)

    def login(_):
        with httpx.Client(base_url=url, timeout=120) as c:
            token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
            return c.post("/login", data={"csrf": token, "username": "admin", "password": "wrong guess"}).status_code

    latencies, stop = [], threading.Event()

    def probe():
        with httpx.Client(base_url=url, timeout=120) as c:
            while not stop.is_set():
                t = time.perf_counter()
                c.get("/static/console.js")
                latencies.append(time.perf_counter() - t)
                time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        codes = list(pool.map(login, range(args.logins)))
    stop.set()
    prober.join()
    server.terminate()
    server.wait(30)
    print(json.dumps({"logins": args.logins, "codes": {str(c): codes.count(c) for c in sorted(set(codes))},
                      "static_p50_ms": round(statistics.median(latencies) * 1000, 1),
                      "static_max_ms": round(max(latencies) * 1000, 1), "static_requests": len(latencies)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
