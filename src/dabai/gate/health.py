"""Liveness of `dabai gate run` for a watchdog: a loopback HTTP endpoint and systemd's notify protocol.

``GET /healthz`` answers 200 with a JSON status while frames are being processed, and 503 (same JSON) when the
last processed frame is older than ``health.stale_s`` or none came yet. ``GET /metrics`` gives the same counters
in Prometheus' text format. Under systemd (``Type=notify``, ``WatchdogSec=``), :class:`SystemdNotifier` tells the
manager when the gate is ready and keeps pinging its watchdog while the loop turns, so a hung loop is restarted.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dabai.core.errors import DabaiError
from dabai.gate.config import HealthRules

log = logging.getLogger(__name__)


def health_verdict(status: dict, stale_s: float, now: float | None = None) -> tuple[bool, str]:
    """(healthy, why) from a status with ``last_frame_time`` (epoch seconds or None)."""
    last = status.get("last_frame_time")
    if last is None:
        return False, "no frame processed yet"
    age = (time.time() if now is None else now) - last
    if age > stale_s:
        return False, f"last frame processed {age:.1f} s ago (limit {stale_s:g} s)"
    return True, "ok"


def prometheus_text(status: dict) -> bytes:
    """The numeric entries of ``status`` (and of its ``camera`` / ``door`` sections) as Prometheus gauges."""
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    reg = CollectorRegistry()
    flat: dict[str, float] = {}
    for section in ("", "camera", "door"):
        items = status.get(section, {}) if section else status
        for key, value in items.items():
            if isinstance(value, bool) or isinstance(value, int | float):
                flat[f"dabai_gate_{section + '_' if section else ''}{key}"] = float(value)
    for name, value in sorted(flat.items()):
        Gauge(name, name.replace("_", " "), registry=reg).set(value)
    return generate_latest(reg)


class HealthServer:
    """Serves /healthz and /metrics from ``status()`` on ``rules.host:rules.port`` in a daemon thread."""

    def __init__(self, status: Callable[[], dict], rules: HealthRules):
        self.status, self.rules = status, rules
        handler = self._handler()
        try:
            self._server = ThreadingHTTPServer((rules.host, rules.port or 0), handler)
        except OSError as exc:
            raise DabaiError(f"health endpoint: cannot listen on {rules.host}:{rules.port} ({exc.strerror}); "
                             "choose another health.port in gate.yaml or --health-port") from None
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="dabai-health", daemon=True)

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health endpoint: http://%s:%d/healthz", self.rules.host, self.port)
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # http.server's naming
                status = outer.status()
                if self.path.split("?")[0] == "/healthz":
                    ok, why = health_verdict(status, outer.rules.stale_s)
                    body = json.dumps(status | {"healthy": ok, "why": why}, ensure_ascii=False).encode()
                    self._answer(200 if ok else 503, "application/json", body)
                elif self.path.split("?")[0] == "/metrics":
                    self._answer(200, "text/plain; version=0.0.4", prometheus_text(status))
                else:
                    self._answer(404, "text/plain", b"not found: try /healthz or /metrics\n")

            def _answer(self, code: int, content_type: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt, *args):  # requests are not worth a log line each
                log.debug("health: " + fmt, *args)

        return Handler


class SystemdNotifier:
    """sd_notify(3) over $NOTIFY_SOCKET: READY=1, STOPPING=1, STATUS=..., WATCHDOG=1 (no-op outside systemd)."""

    def __init__(self, env: dict | None = None):
        env = os.environ if env is None else env
        addr = env.get("NOTIFY_SOCKET")
        self.address = ("\0" + addr[1:]) if addr and addr.startswith("@") else addr
        usec = env.get("WATCHDOG_USEC")
        self.watchdog_s = int(usec) / 1e6 if usec and usec.isdigit() else None
        self._last_ping = 0.0

    @property
    def active(self) -> bool:
        return bool(self.address)

    def notify(self, *fields: str) -> None:
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self.address)
                sock.sendall("\n".join(fields).encode())
        except OSError as exc:  # the manager went away: nothing to tell, and the gate goes on
            log.debug("sd_notify failed: %s", exc)

    def ping(self, now: float | None = None) -> None:
        """WATCHDOG=1, at most every third of the watchdog interval."""
        if self.watchdog_s is None:
            return
        now = time.monotonic() if now is None else now
        if now - self._last_ping >= self.watchdog_s / 3:
            self._last_ping = now
            self.notify("WATCHDOG=1")
