"""The service hands its model's memory back once it goes idle, never while requests keep coming."""

from __future__ import annotations

import asyncio

import numpy as np

from dabai.serve.inference import Inference


class FakeDetector:
    def __init__(self):
        self.calls = 0
        self.released = 0

    def detect_batch(self, images):
        self.calls += len(images)
        return [[] for _ in images]

    def release_memory(self):
        self.released += 1


def test_memory_is_released_once_after_the_server_goes_idle():
    detector = FakeDetector()
    inference = Inference(detector, batch=1, idle_release_s=0.1)
    image = np.zeros((8, 8, 3), np.uint8)

    async def scenario():
        for _ in range(6):  # a steady stream, 0.03 s apart: never idle for 0.1 s
            await inference.detect(image)
            await asyncio.sleep(0.03)
        busy = detector.released
        await asyncio.sleep(0.3)  # idle now
        return busy

    assert asyncio.run(scenario()) == 0
    assert detector.calls == 6 and detector.released == 1 and inference.releases == 1


def test_batched_requests_release_too_and_never_is_an_option():
    detector = FakeDetector()
    inference = Inference(detector, batch=4, batch_wait_ms=5, idle_release_s=0.05)
    image = np.zeros((8, 8, 3), np.uint8)

    async def burst():
        await asyncio.gather(*(inference.detect(image) for _ in range(8)))
        await asyncio.sleep(0.2)
        await inference.close()

    asyncio.run(burst())
    assert detector.calls == 8 and detector.released == 1
    never = Inference(FakeDetector(), batch=1, idle_release_s=None)
    asyncio.run(never.detect(image))
    assert never.detector.released == 0 and never._idle_timer is None
