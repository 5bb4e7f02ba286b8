"""A server-wide memory budget for decoding and running uploads.

The per-request limits (``max_bytes``, ``max_pixels``) bound one request; sixteen requests each just
under the pixel cap would still need sixteen times the memory. So before an upload is decoded, its
cost (from the image header: decoded BGR + the RGB copy the detector makes, plus the encoded bytes)
is claimed from one budget shared by every request of the process. A request that does not fit waits
(in order of arrival) until others release memory; one that waits longer than ``wait_s`` is answered
429 with Retry-After (try again later), one that could never fit 413.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from contextlib import asynccontextmanager

from dabai.core.errors import DataError
from dabai.serve.heap import give_back_freed_memory

BYTES_PER_PIXEL = 6  # the decoded BGR image plus the RGB copy letterboxing starts from


class OverBudget(DataError):
    """The image alone is larger than the whole budget (HTTP 413)."""


class Busy(DataError):
    """The budget stayed full for longer than the wait allowed (HTTP 429, Retry-After)."""


def decode_cost(width: int, height: int, encoded_bytes: int) -> int:
    return width * height * BYTES_PER_PIXEL + encoded_bytes


class MemoryBudget:
    """Thread-safe, and usable from several event loops at once (a test client runs one per request)."""

    def __init__(self, total_bytes: int, wait_s: float = 60.0, trim_after_bytes: int = 64 * 2**20):
        self.total, self.wait_s = int(total_bytes), float(wait_s)
        self.used = 0
        self.peak = 0
        self.trim_after = trim_after_bytes
        self._since_trim = 0
        self._lock = threading.Lock()
        self._waiters: deque[tuple[int, asyncio.Future]] = deque()

    @asynccontextmanager
    async def claim(self, nbytes: int):
        """Hold ``nbytes`` of the budget for the duration of the block."""
        if nbytes > self.total:
            raise OverBudget(f"the image needs about {nbytes // 2**20} MB to decode, more than the server's "
                             f"whole budget of {self.total // 2**20} MB")
        future = None
        with self._lock:
            if self._waiters or self.used + nbytes > self.total:
                future = asyncio.get_running_loop().create_future()
                entry = (nbytes, future)
                self._waiters.append(entry)
            else:
                self._grant(nbytes)
        if future is not None:
            try:
                await asyncio.wait_for(asyncio.shield(future), self.wait_s)
            except BaseException as exc:
                with self._lock:
                    granted = entry not in self._waiters  # granted while we gave up: hand it back
                    if not granted:
                        self._waiters.remove(entry)
                    else:
                        self.used -= nbytes
                    self._wake()
                if isinstance(exc, TimeoutError):
                    raise Busy(f"the server is busy decoding other images (memory budget of {self.total // 2**20} "
                               f"MB in use for {self.wait_s:g} s); try again") from None
                raise
        try:
            yield
        finally:
            with self._lock:
                self.used -= nbytes
                self._since_trim += nbytes
                idle = self.used == 0 and not self._waiters and self._since_trim >= self.trim_after
                if idle:
                    self._since_trim = 0
                self._wake()
            if idle:
                give_back_freed_memory()

    def _grant(self, nbytes: int) -> None:
        self.used += nbytes
        self.peak = max(self.peak, self.used)

    def _wake(self) -> None:
        """(Lock held.) Grant waiting claims in arrival order while they fit; the first that does not fit blocks
        the rest, so a large image is not starved by a stream of small ones."""
        while self._waiters and self.used + self._waiters[0][0] <= self.total:
            nbytes, future = self._waiters.popleft()
            self._grant(nbytes)
            future.get_loop().call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)
