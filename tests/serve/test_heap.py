"""serve/heap: glibc's mmap threshold pinned so large freed blocks go back to the OS; skipped cleanly elsewhere."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from dabai.serve import heap

SCENARIO = r"""
import ctypes, sys
import numpy as np
from dabai.serve import heap

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = heap._glibc()
if libc is None or not hasattr(libc, "mallinfo2"):
    print("skip"); sys.exit(0)
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "pinned" and not heap.return_large_blocks_to_os():
    print("skip"); sys.exit(0)
big = np.ones(24 * 2**20, np.uint8)
del big  # the free that raises a dynamic threshold
before = libc.mallinfo2().hblkhd
image = np.ones(4 * 2**20, np.uint8)
print(libc.mallinfo2().hblkhd - before)
"""


@pytest.mark.parametrize("policy", ["pinned", "dynamic"])
def test_pinned_threshold_mmaps_blocks_the_dynamic_one_would_keep_in_the_heap(policy):
    """Without the pin, freeing a 24 MB mmapped block raises glibc's threshold to 24 MB and the next 4 MB
    image comes from (and stays in) the heap; with it, the 4 MB block is mmapped (and unmapped on free).
    Run in a fresh interpreter, as a server starts: the test process's heap has a history of its own."""
    out = subprocess.run([sys.executable, "-c", SCENARIO, policy], capture_output=True, text=True, timeout=120,
                         check=True).stdout.split()
    if out == ["skip"]:
        pytest.skip("needs glibc >= 2.33 (mallopt, mallinfo2)")
    mmapped = int(out[-1])
    if policy == "pinned":
        assert mmapped >= 4 * 2**20
    else:
        assert mmapped == 0


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
