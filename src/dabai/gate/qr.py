"""Finding and reading pass QR codes in camera frames (zxing-cpp).

zxing-cpp already searches every orientation and several scales. For the hard
cases a gate camera sees (a phone held far away, motion blur, a code a few
dozen pixels wide inside a 1080p frame) :func:`decode_qr` retries on an
upscaled and on a sharpened copy before giving up. Anything unreadable simply
yields no text: a garbage frame never raises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dabai.core.errors import DataError, require


@dataclass(frozen=True)
class QRCode:
    text: str
    polygon: tuple[tuple[int, int], ...]  # corners in source-image pixels


def _read(gray: np.ndarray, scale: float = 1.0, pure: bool = False) -> list[QRCode]:
    zx = require("zxingcpp", "gate")
    found = []
    for r in zx.read_barcodes(gray, formats=zx.BarcodeFormat.QRCode, try_rotate=True, try_downscale=True,
                              is_pure=pure):
        if not r.valid or not r.text:
            continue
        pos = r.position
        pts = [(pos.top_left.x, pos.top_left.y), (pos.top_right.x, pos.top_right.y),
               (pos.bottom_right.x, pos.bottom_right.y), (pos.bottom_left.x, pos.bottom_left.y)]
        found.append(QRCode(r.text, tuple((int(x / scale), int(y / scale)) for x, y in pts)))
    return found


def to_gray(image: np.ndarray) -> np.ndarray:
    import cv2

    if image.ndim == 2:
        return np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    raise DataError(f"expected a grey or BGR image array, got shape {image.shape}")


def decode_qr(image: np.ndarray, thorough: bool = True) -> list[QRCode]:
    """All QR codes readable in a BGR/grey frame; with ``thorough``, retries harder before giving up."""

    if image is None or not isinstance(image, np.ndarray) or image.size == 0 or image.dtype != np.uint8:
        return []
    try:
        gray = to_gray(image)
    except DataError:
        return []
    found = _read(gray)
    if found or not thorough:
        return found
    for variant, scale in _harder(gray):
        found = _read(variant, scale)
        if found:
            return found
    return []


def _harder(gray: np.ndarray):
    """Retries, cheapest first: unsharp mask (blur); 2x upscale (small codes), plain then sharpened; Otsu."""
    import cv2

    yield _unsharp(gray, 2.0, 0.8), 1.0
    if max(gray.shape) <= 2000:
        big = cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
        yield big, 2.0
        yield _unsharp(big, 3.0, 1.0), 2.0
    _, binary = cv2.threshold(_unsharp(gray, 2.0, 0.8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    yield binary, 1.0


def _unsharp(gray: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    import cv2

    return cv2.addWeighted(gray, 1.0 + amount, cv2.GaussianBlur(gray, (0, 0), sigma), -amount, 0)


def pick_pass_text(codes: list[QRCode]) -> str | None:
    """The text to verify: the first Dabai-looking code, else the first code (refused later as not_dabai)."""
    for c in codes:
        if c.text.startswith("DB"):
            return c.text
    return codes[0].text if codes else None
