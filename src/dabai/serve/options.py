"""Options of ``dabai serve``; they travel to uvicorn's worker processes as JSON in an environment variable."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from dabai.core.errors import ConfigError

ENV_OPTIONS = "DABAI_SERVE_OPTIONS"  # JSON of ServeOptions, set by the parent for worker processes
ENV_API_KEY = "DABAI_API_KEY"


@dataclass(frozen=True)
class ServeOptions:
    model: str | None = None  # model file (.onnx, .pt, .engine); None = the shipped default
    host: str = "127.0.0.1"  # bind address; 0.0.0.0 exposes the service to the network
    port: int = 8000
    workers: int = 1  # server processes, each with its own model session
    threads: int = 2  # inference threads per process (ONNX Runtime intra-op)
    api_key: str | None = None  # when set, /v1/detect and /metrics need 'Authorization: Bearer KEY' or 'X-API-Key'
    max_bytes: int = 8 * 1024 * 1024  # largest accepted request body (HTTP 413 above)
    max_pixels: int = 40_000_000  # largest accepted image (width x height), against decompression bombs
    # memory that all concurrent decodes of the process may claim together (see dabai.serve.budget); a 40 MP
    # image claims ~240 MB, so the default lets one such image, or dozens of camera frames, decode at a time
    memory_budget_mb: int = 384
    busy_wait_s: float = 60.0  # a request waiting longer than this for the memory budget gets a 429
    conf: float = 0.3  # detections below this score are not returned
    iou: float = 0.5  # NMS IoU threshold
    # >1: requests arriving together run as one batch of up to this many images. 1 process x 2 threads with
    # batches of 4 measured fastest on the 2-core machine (docs/benchmarks.md)
    batch: int = 4
    batch_wait_ms: float = 3.0  # how long a batch waits for more requests

    def check(self) -> ServeOptions:
        if not 0 < self.port < 65536:
            raise ConfigError(f"--port must be 1..65535, got {self.port}")
        for name in ("workers", "threads", "max_bytes", "max_pixels", "batch", "memory_budget_mb"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.conf <= 1.0:
            raise ConfigError(f"--conf must be in 0..1, got {self.conf}")
        return self

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeOptions:
        raw = os.environ.get(ENV_OPTIONS)
        if not raw:
            raise ConfigError(f"${ENV_OPTIONS} is not set; start the service with `dabai serve`")
        try:
            return cls(**json.loads(raw)).check()
        except (json.JSONDecodeError, TypeError) as exc:
            raise ConfigError(f"${ENV_OPTIONS} is not valid serve options JSON ({exc})") from None


def resolve_api_key(flag: str | None, file: str | None = None) -> str | None:
    """--api-key-file (first line of a file, not visible in ``ps``), else --api-key (visible in ``ps``: avoid it on
    shared hosts), else $DABAI_API_KEY; empty means no key."""
    if file:
        from pathlib import Path

        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--api-key-file {file}: cannot read it ({exc})") from None
        key = lines[0].strip() if lines else ""
        if not key:
            raise ConfigError(f"--api-key-file {file}: the file is empty; put the key on its first line")
        return key
    return flag or os.environ.get(ENV_API_KEY) or None
