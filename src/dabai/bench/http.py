"""HTTP load against ``dabai serve``: ``dabai bench --url URL``.

For each concurrency level, that many clients post the same 400-px JPEG to
``/v1/detect`` back to back for a fixed time (closed loop). The multipart body
is built once so the client spends as little CPU as possible; on a small
machine the client still shares the cores with the server, which the report
states.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from dabai.bench.images import bench_jpeg
from dabai.bench.stats import latency_stats, machine_info, markdown_table
from dabai.core.errors import ConfigError, DependencyError

log = logging.getLogger("dabai.bench")


@dataclass(frozen=True)
class HttpBenchOptions:
    url: str  # server base URL (http://127.0.0.1:8000) or the full /v1/detect URL
    concurrency: tuple[int, ...] = (1, 2, 4, 8, 16)  # simultaneous clients per level
    seconds: float = 10.0  # timed duration per level
    warmup: int = 4  # untimed requests before each level
    image: str | None = None  # photo to upload (resized to 400 px); default: a drawn scene
    api_key: str | None = None  # sent as 'Authorization: Bearer KEY'
    timeout: float = 30.0  # per-request timeout in seconds


@dataclass
class HttpBenchResult:
    url: str
    image_bytes: int
    rows: list[dict] = field(default_factory=list)
    machine: dict = field(default_factory=dict)  # the client's machine_info() at the start

    def to_json(self) -> dict:
        return {"url": self.url, "image_bytes": self.image_bytes, "rows": self.rows, "machine": self.machine}

    def to_markdown(self) -> str:
        cols = [("concurrency", "concurrency"), ("requests_per_s", "req/s"), ("p50_ms", "p50 ms"), ("p90_ms", "p90 ms"),
                ("p99_ms", "p99 ms"), ("count", "requests"), ("errors", "errors")]
        return (f"`POST {self.url}` with a {self.image_bytes}-byte 400-px JPEG, closed loop\n\n"
                + markdown_table(self.rows, cols) + f"\n\nclient machine: {self.machine}")


def detect_url(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1/detect") else url + "/v1/detect"


def multipart_body(jpeg: bytes, filename: str = "bench.jpg") -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode()
    return head + jpeg + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def bench_http(options: HttpBenchOptions) -> HttpBenchResult:
    try:
        import httpx  # noqa: F401
    except ImportError as exc:  # pragma: no cover - httpx is in the serve extra
        raise DependencyError("httpx is needed for HTTP benchmarks: pip install 'dabai[serve]'") from exc
    if not options.concurrency or min(options.concurrency) < 1:
        raise ConfigError(f"--concurrency needs levels >= 1, got {list(options.concurrency)}")
    if options.seconds <= 0:
        raise ConfigError(f"--seconds must be > 0, got {options.seconds}")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs every request at INFO
    jpeg = bench_jpeg(options.image)
    result = HttpBenchResult(detect_url(options.url), len(jpeg), machine=machine_info())
    for level in options.concurrency:
        row = asyncio.run(_run_level(options, result.url, jpeg, level))
        log.info("concurrency %d: %.1f req/s, p99 %.1f ms, %d errors", level, row["requests_per_s"], row["p99_ms"], row["errors"])
        result.rows.append(row)
    return result


async def _run_level(options: HttpBenchOptions, url: str, jpeg: bytes, level: int) -> dict:
    import httpx

    body, content_type = multipart_body(jpeg)
    headers = {"content-type": content_type}
    if options.api_key:
        headers["authorization"] = f"Bearer {options.api_key}"
    limits = httpx.Limits(max_connections=level, max_keepalive_connections=level)
    times: list[float] = []
    errors: Counter = Counter()
    async with httpx.AsyncClient(limits=limits, timeout=options.timeout) as client:
        async def one(record: bool) -> None:
            start = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
                ok = response.status_code == 200
                reason = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                ok, reason = False, type(exc).__name__
            if record:
                times.append(time.perf_counter() - start)
                if not ok:
                    errors[reason] += 1

        await asyncio.gather(*(one(False) for _ in range(max(options.warmup, level))))
        deadline = time.perf_counter() + options.seconds

        async def client_loop() -> None:
            while time.perf_counter() < deadline:
                await one(True)

        started = time.perf_counter()
        await asyncio.gather(*(client_loop() for _ in range(level)))
        elapsed = time.perf_counter() - started
    stats = latency_stats(times)
    return {"concurrency": level, **stats.as_dict(), "requests_per_s": round(len(times) / elapsed, 1),
            "errors": sum(errors.values()), "error_kinds": dict(errors), "seconds": round(elapsed, 2)}
