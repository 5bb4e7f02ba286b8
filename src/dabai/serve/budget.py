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
from collections import deque
from contextlib import asynccontextmanager

from dabai.errors import DataError

BYTES_PER_PIXEL = 6  # the decoded BGR image plus the RGB copy letterboxing starts from


class OverBudget(DataError):
    """The image alone is larger than the whole budget (HTTP 413)."""


class Busy(DataError):
    """The budget stayed full for longer than the wait allowed (HTTP 429, Retry-After)."""


def decode_cost(width: int, height: int, encoded_bytes: int) -> int:
    return width * height * BYTES_PER_PIXEL + encoded_bytes


class MemoryBudget:
    def __init__(self, total_bytes: int, wait_s: float = 30.0):
        self.total, self.wait_s = int(total_bytes), float(wait_s)
        self.used = 0
        self.peak = 0
        self._waiters: deque[tuple[int, asyncio.Future]] = deque()

    @asynccontextmanager
    async def claim(self, nbytes: int):
        """Hold ``nbytes`` of the budget for the duration of the block."""
        if nbytes > self.total:
            raise OverBudget(f"the image needs about {nbytes // 2**20} MB to decode, more than the server's "
                             f"whole budget of {self.total // 2**20} MB")
        if self._waiters or self.used + nbytes > self.total:
            future = asyncio.get_running_loop().create_future()
            entry = (nbytes, future)
            self._waiters.append(entry)
            try:
                await asyncio.wait_for(asyncio.shield(future), self.wait_s)
            except TimeoutError:
                if future.done():  # granted at the last moment: hand it back
                    self._release(nbytes)
                else:
                    self._waiters.remove(entry)
                    self._wake()
                raise Busy(f"the server is busy decoding other images (memory budget of {self.total // 2**20} MB "
                           f"in use for {self.wait_s:g} s); try again") from None
            except BaseException:
                if future.done():
                    self._release(nbytes)
                elif entry in self._waiters:
                    self._waiters.remove(entry)
                    self._wake()
                raise
        else:
            self._grant(nbytes)
        try:
            yield
        finally:
            self._release(nbytes)

    def _grant(self, nbytes: int) -> None:
        self.used += nbytes
        self.peak = max(self.peak, self.used)

    def _release(self, nbytes: int) -> None:
        self.used -= nbytes
        self._wake()

    def _wake(self) -> None:
        """Grant waiting claims in arrival order while they fit (the first that does not fit blocks the rest)."""
        while self._waiters and self.used + self._waiters[0][0] <= self.total:
            nbytes, future = self._waiters.popleft()
            if future.done():  # cancelled meanwhile
                continue
            self._grant(nbytes)
            future.set_result(None)
