"""Start the service under uvicorn: one process, or ``workers`` processes sharing the port.

The model is loaded once in the parent first, so a bad ``--model`` is a plain
error before any worker starts; the port is checked the same way.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile

from dabai.core.errors import ConfigError, require
from dabai.serve.options import ENV_OPTIONS, ServeOptions

log = logging.getLogger("dabai.serve")


def check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port or --host") from None


def serve(options: ServeOptions) -> None:
    require("uvicorn", "serve")
    import uvicorn

    from dabai.runtime.detector import Detector
    from dabai.serve.app import create_app

    options.check()
    check_port(options.host, options.port)
    common = {"host": options.host, "port": options.port, "log_level": "warning", "access_log": False,
              "timeout_keep_alive": 30}
    if options.workers == 1:
        app = create_app(options)
        log.info("serving %s on http://%s:%d (1 process, %d inference thread(s))", options.model or "the default model",
                 options.host, options.port, options.threads)
        uvicorn.run(app, **common)
        return
    Detector.load(options.model, threads=1)  # fail here, plainly, rather than in every worker
    os.environ[ENV_OPTIONS] = options.to_env()
    metrics_dir = tempfile.TemporaryDirectory(prefix="dabai-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir.name
    log.info("serving %s on http://%s:%d (%d processes x %d inference thread(s))", options.model or "the default model",
             options.host, options.port, options.workers, options.threads)
    try:
        _run_workers(uvicorn.Config("dabai.serve.app:app_from_env", factory=True, workers=options.workers, **common))
    finally:
        metrics_dir.cleanup()


def _run_workers(config) -> None:
    """``uvicorn.run(..., workers=N)`` with TCP_NODELAY on the shared listening socket.

    The workers get the socket re-created from its descriptor, so asyncio cannot tell it is TCP and
    leaves Nagle's algorithm on: every response (headers, then body) then waits ~40 ms for the
    client's delayed ACK. Linux copies TCP_NODELAY from a listening socket to the connections it
    accepts, so setting it here fixes all workers.
    """
    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C in a terminal
        pass
