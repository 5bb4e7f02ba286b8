"""Measure `dabai serve`'s memory under concurrent hostile uploads (docs/security.md, docs/benchmarks.md).

Starts `dabai serve` on 127.0.0.1, waits until it answers, records its idle RSS, then has N clients
(default 16) each upload a valid PNG that declares just under the 40 MP pixel cap (6300x6300, ~120 KB
compressed, 119 MB decoded), samples the server's RSS every 20 ms, and reports the peak, the RSS 5 s
after the last answer, the status codes and the latencies. Run it once with the default memory budget
and once with the budget out of the way (--memory-budget-mb 100000) for the side-by-side figure.

    python scripts/serve_hostile_rss.py                     # default budget (384 MB)
    python scripts/serve_hostile_rss.py --budget-mb 100000  # no effective server-wide budget
    python scripts/serve_hostile_rss.py --side 2500         # 6.3 MP: ~10 fit the budget at once, batches form
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
from pathlib import Path

from dabai.bench.burst import grey_png, upload_burst, wait_healthy


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--side", type=int, default=6300, help="width and height the PNG declares (default: 6300, 39.7 MP)")
    ap.add_argument("--budget-mb", type=int, default=None, help="--memory-budget-mb for the server (default: its own)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures here")
    args = ap.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "dabai", "serve", "--port", str(port)]
    if args.budget_mb is not None:
        cmd += ["--memory-budget-mb", str(args.budget_mb)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        problem = wait_healthy(url, server, 60)
        if problem is not None:
            stderr = server.stderr.read().decode()[-2000:] if server.poll() is not None else ""
            raise SystemExit(f"the server did not start ({problem}): {stderr}")
        body = grey_png(args.side, args.side)
        burst = upload_burst(url, server.pid, body, clients=args.clients)
        figures = {"clients": args.clients, "budget_mb": args.budget_mb or 384, "png_bytes": len(body),
                   "declared": f"{args.side}x{args.side} ({args.side * args.side / 1e6:.1f} MP)",
                   "idle_rss_mb": round(burst.idle_mb), "peak_rss_mb": round(burst.peak_mb),
                   "rss_5s_after_mb": round(burst.after_mb),
                   "status_codes": {str(c): n for c, n in sorted(burst.codes.items())},
                   "latency_p50_s": round(statistics.median(burst.latencies_s), 2),
                   "latency_max_s": round(max(burst.latencies_s), 2), "wall_s": round(burst.wall_s, 2)}
        print(json.dumps(figures, indent=1))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1))
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
