"""Running the detector for the web service: checked decoding, then one image or a micro-batch.

Decoding happens on the request's worker thread (OpenCV releases the GIL);
inference is limited to ``threads`` concurrent calls per process so requests
queue instead of fighting over the cores. With ``batch > 1`` requests that
arrive within ``batch_wait_ms`` of each other are run as one batch.
"""

from __future__ import annotations

import asyncio
import time

import anyio
import numpy as np

from dabai.core.errors import DataError
from dabai.core.images import ImageTooLarge, decode_bgr
from dabai.serve.heap import give_back_freed_memory

__all__ = ["ImageTooLarge", "Inference", "decode_checked"]


def decode_checked(data: bytes, max_pixels: int) -> np.ndarray:
    """Encoded bytes -> BGR array; a non-image or a decompression bomb is refused before decoding."""
    if not data:
        raise DataError("the upload is empty; send a JPEG, PNG, BMP or WebP image")
    return decode_bgr(data, max_pixels=max_pixels)


class Inference:
    def __init__(self, detector, threads: int = 1, batch: int = 1, batch_wait_ms: float = 3.0, metrics=None,
                 idle_release_s: float | None = 2.0):
        self.detector, self.batch, self.wait = detector, batch, batch_wait_ms / 1000.0
        self.limiter = anyio.CapacityLimiter(threads)
        self.metrics = metrics
        # after this long without a request, the model's arenas are handed back (None: never); see release_idle
        self.idle_release_s = idle_release_s
        self.releases = 0  # how many times the memory was handed back (tests, /metrics-style introspection)
        self._in_flight = 0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def detect(self, image: np.ndarray):
        self._in_flight += 1
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        try:
            return await self._detect(image)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0 and self.idle_release_s is not None:
                self._idle_timer = asyncio.get_running_loop().call_later(self.idle_release_s, self._on_idle)

    def _on_idle(self) -> None:
        self._idle_timer = None
        if self._in_flight == 0:
            asyncio.get_running_loop().create_task(self.release_idle())

    async def release_idle(self) -> None:
        """Hand back what inference keeps between requests: ONNX Runtime's arenas (a burst of batched uploads
        leaves ~200 MB there for good) and the C heap's free pages. Runs when the server has been idle for
        ``idle_release_s``; the next request allocates afresh once (one slower batch)."""
        def release() -> None:
            if self._in_flight == 0:
                release_model = getattr(self.detector, "release_memory", None)
                if release_model is not None:
                    release_model()
                give_back_freed_memory()
                self.releases += 1

        await anyio.to_thread.run_sync(release, limiter=self.limiter)

    async def _detect(self, image: np.ndarray):
        if self.batch <= 1:
            return await anyio.to_thread.run_sync(self._timed, [image], limiter=self.limiter)
        loop = asyncio.get_running_loop()
        if self._task is None or self._loop is not loop:  # one batcher per event loop (test clients make several)
            self._loop, self._queue = loop, asyncio.Queue()
            self._task = loop.create_task(self._batch_loop(self._queue))
        future = loop.create_future()
        await self._queue.put((image, future))
        return await future

    def _timed(self, images: list[np.ndarray]):
        start = time.perf_counter()
        out = self.detector.detect_batch(images)
        if self.metrics is not None:
            per_image = (time.perf_counter() - start) / len(images)
            for _ in images:
                self.metrics.inference.observe(per_image)
        return out[0] if len(images) == 1 and self.batch <= 1 else out

    async def _batch_loop(self, queue: asyncio.Queue) -> None:
        while True:
            await self._run_batch(queue)

    async def _run_batch(self, queue: asyncio.Queue) -> None:
        """Collect one batch, run it, hand out the results. A method of its own so that the batch's images
        are freed when it returns: a loop variable would keep the last batch (up to ``batch`` decoded
        uploads, 119 MB each near the pixel cap) alive while the loop waits for the next request."""
        items = [await queue.get()]
        deadline = asyncio.get_running_loop().time() + self.wait
        while len(items) < self.batch:
            timeout = deadline - asyncio.get_running_loop().time()
            if timeout <= 0:
                break
            try:
                items.append(await asyncio.wait_for(queue.get(), timeout))
            except TimeoutError:
                break
        try:
            results = await anyio.to_thread.run_sync(self._timed, [im for im, _ in items], limiter=self.limiter)
        except Exception as exc:  # noqa: BLE001 - handed to every waiting request, which answers 500 with it
            for _, future in items:
                future.set_exception(exc)
            return
        for (_, future), dets in zip(items, results):
            future.set_result(dets)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
