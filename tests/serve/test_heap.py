"""serve/heap: glibc's mmap threshold pinned so large freed blocks go back to the OS; skipped cleanly elsewhere."""

from __future__ import annotations

import ctypes
import logging

import numpy as np
import pytest

from dabai.serve import heap


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def mmapped_bytes() -> int:
    libc = heap._glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        pytest.skip("needs glibc >= 2.33 (mallinfo2)")
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2().hblkhd


def test_pinned_threshold_mmaps_blocks_the_dynamic_one_would_keep_in_the_heap():
    """Without the pin, freeing a 24 MB mmapped block raises glibc's threshold to 24 MB and the next 4 MB
    image comes from (and stays in) the heap; with it, the 4 MB block is mmapped and unmapped on free."""
    if not heap.return_large_blocks_to_os():
        pytest.skip("not glibc")
    big = np.ones(24 * 2**20, np.uint8)
    del big  # the free that would raise a dynamic threshold
    before = mmapped_bytes()
    image = np.ones(4 * 2**20, np.uint8)
    assert mmapped_bytes() - before >= 4 * 2**20
    del image
    assert mmapped_bytes() == before


def test_another_c_library_is_skipped_with_a_debug_line(monkeypatch, caplog):
    def unknown(name):
        raise ValueError(f"unrecognized configuration name {name!r}")  # what macOS and musl builds raise

    monkeypatch.setattr(heap, "_libc", None)
    monkeypatch.setattr(heap.os, "confstr", unknown)
    with caplog.at_level(logging.DEBUG, logger="dabai.serve"):
        assert heap.return_large_blocks_to_os() is False
        heap.give_back_freed_memory()  # a no-op, not an error
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]  # said once, at debug level
    assert "not glibc" in caplog.records[0].getMessage()
