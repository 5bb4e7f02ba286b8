"""Visitors for the demo, built only from images that installed packages ship.

The face is scikit-image's ``astronaut`` sample (public domain, NASA). A surgical mask is drawn
onto it for the masked visitor; the pass QR is pasted in as if held up to the camera.
"""

from __future__ import annotations

import numpy as np

from dabai.core.errors import DependencyError

ASTRONAUT_FACE = (177, 66, 95, 95)  # x, y, w, h of the face in skimage.data.astronaut() (OpenCV Haar)


def astronaut() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The astronaut photo (BGR, 512x512) and its face box, found with OpenCV's Haar cascade."""
    import cv2

    try:
        from skimage import data
    except ImportError as exc:
        raise DependencyError(f"the demo needs scikit-image's sample photos ({exc}); "
                              "install it with: pip install 'dabai[gate]'") from None
    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    box = ASTRONAUT_FACE
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if not cascade.empty():
        found = cascade.detectMultiScale(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 1.1, 5, minSize=(60, 60))
        if len(found):
            box = tuple(int(v) for v in max(found, key=lambda b: b[2] * b[3]))
    return image, box


def draw_mask(image: np.ndarray, box: tuple[int, int, int, int], below_nose: bool = False) -> np.ndarray:
    """A light-blue surgical mask over nose, mouth and chin (or pulled down below the nose)."""
    import cv2

    out = image.copy()
    x, y, w, h = box
    top = 0.62 if below_nose else 0.50
    pts = np.array([(x + 0.02 * w, y + (top + 0.06) * h), (x + 0.5 * w, y + top * h),
                    (x + 0.98 * w, y + (top + 0.06) * h), (x + 0.93 * w, y + 1.02 * h),
                    (x + 0.5 * w, y + 1.22 * h), (x + 0.07 * w, y + 1.02 * h)], np.int32)
    cv2.fillPoly(out, [pts], (228, 204, 168), lineType=cv2.LINE_AA)
    for k in (0.28, 0.46, 0.64):  # pleats
        yy = int(y + (top + k * (1.05 - top) / 0.64 * 0.64) * h)
        cv2.line(out, (int(x + 0.08 * w), yy), (int(x + 0.92 * w), yy), (196, 170, 134), 2, cv2.LINE_AA)
    cv2.polylines(out, [pts], True, (205, 180, 145), 2, cv2.LINE_AA)
    for side in (0, 1):  # ear loops
        ex = int(x - 0.04 * w) if side == 0 else int(x + 1.04 * w)
        mx = int(x + 0.04 * w) if side == 0 else int(x + 0.96 * w)
        cv2.line(out, (mx, int(y + (top + 0.08) * h)), (ex, int(y + 0.45 * h)), (240, 240, 240), 2, cv2.LINE_AA)
        cv2.line(out, (mx, int(y + 0.98 * h)), (ex, int(y + 0.62 * h)), (240, 240, 240), 2, cv2.LINE_AA)
    # soft shading so it does not look like a flat sticker
    mask = np.zeros(out.shape[:2], np.uint8)
    cv2.fillPoly(mask, [pts], 255)
    shade = cv2.GaussianBlur(out, (0, 0), 1.2)
    out[mask > 0] = shade[mask > 0]
    return out


def paste_qr(image: np.ndarray, qr: np.ndarray, where: str = "bottom-right", width: int = 150) -> np.ndarray:
    """Paste a QR (grey or BGR) as if shown on a phone screen in a corner of the frame."""
    import cv2

    out = image.copy()
    q = cv2.resize(qr, (width, width), interpolation=cv2.INTER_NEAREST)
    if q.ndim == 2:
        q = cv2.cvtColor(q, cv2.COLOR_GRAY2BGR)
    h, w = out.shape[:2]
    pad = 12
    y0 = h - width - 2 * pad if "bottom" in where else pad
    x0 = w - width - 2 * pad if "right" in where else pad
    cv2.rectangle(out, (x0 - 6, y0 - 6), (x0 + width + 6, y0 + width + 6), (30, 30, 30), -1)  # phone bezel
    out[y0:y0 + width, x0:x0 + width] = q
    return out
