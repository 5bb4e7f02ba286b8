"""How the server's C heap gives memory back after a burst of large uploads (glibc only).

Two glibc behaviours kept a server's RSS far above its idle level after a burst of uploads (16 concurrent
2500x2500 PNGs: idle 222 MB, 519 MB 5 s after; 378 MB with the threshold pinned, the rest being ONNX
Runtime's arena; docs/security.md):

- the *dynamic* mmap threshold: freeing an mmapped block raises the threshold to that block's size
  (up to 32 MB), so the next decoded images of that size are carved from the per-thread arenas
  instead, and a freed arena block is rarely handed back. :func:`return_large_blocks_to_os` pins
  the threshold (``mallopt(M_MMAP_THRESHOLD)``): every block of 1 MB or more is mmapped and
  unmapped on free, whatever came before.
- free pages inside the arenas stay resident until ``malloc_trim``; :func:`give_back_freed_memory`
  is called when the server-wide budget goes idle.

On another C library (musl, macOS) both are skipped, which a debug log line says once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger("dabai.serve")

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 2**20


def return_large_blocks_to_os(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Pin glibc's mmap threshold at ``threshold`` bytes for the rest of the process; False where it is not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    if not libc.mallopt(M_MMAP_THRESHOLD, int(threshold)):
        log.debug("mallopt(M_MMAP_THRESHOLD, %d) was refused; the mmap threshold stays dynamic", threshold)
        return False
    return True


def give_back_freed_memory() -> None:
    """Return freed heap pages to the system (glibc ``malloc_trim``), so that after a burst of large decodes
    the server's RSS goes back to its idle level instead of keeping the high-water mark. No-op elsewhere."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def _glibc():
    """The C library when it is glibc (``mallopt`` and ``malloc_trim`` as glibc defines them), else None."""
    global _libc
    if _libc is None:
        _libc = _load_glibc()
    return _libc or None


def _load_glibc():
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"; ValueError where the name is unknown
    except (ValueError, OSError):
        version = None
    if not version or not version.startswith("glibc"):
        log.debug("the C library is not glibc; the server's heap keeps its default policy (no mallopt, no malloc_trim)")
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    except (OSError, AttributeError) as exc:
        log.debug("glibc's mallopt/malloc_trim are not reachable (%s); the server's heap keeps its default policy", exc)
        return False
    return libc


_libc = None
