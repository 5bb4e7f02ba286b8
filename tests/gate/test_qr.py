"""QR reading: rotation, blur, small codes in a large frame, garbage frames."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.core.errors import DataError
from dabai.core.images import read_bgr as read_image
from dabai.gate.payload import b45encode
from dabai.gate.qr import decode_qr, pick_pass_text

from .helpers import qr_frame

TEXT = "DB1:" + b45encode(bytes(range(100)))


@pytest.mark.parametrize("px,angle,blur", [
    (3, 0, 0), (2, 0, 0), (2, 30, 1.0), (3, 45, 1.5), (4, 90, 1.5), (3, 135, 1.0), (5, 200, 2.0), (6, 10, 2.5),
])
def test_reads_rotated_blurred_small(px, angle, blur):
    frame = qr_frame(TEXT, px=px, angle=angle, blur=blur)
    assert pick_pass_text(decode_qr(frame)) == TEXT


def test_small_code_in_a_1080p_frame():
    frame = qr_frame(TEXT, px=2, size=(1080, 1920), at=(700, 1500), angle=20, blur=0.8)
    codes = decode_qr(frame)
    assert codes and codes[0].text == TEXT
    xs = [p[0] for p in codes[0].polygon]
    assert min(xs) > 1300  # positions are in source pixels


def test_garbage_never_raises():
    rng = np.random.default_rng(0)
    for frame in (rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), np.zeros((0, 0, 3), np.uint8),
                  np.zeros((5, 5), np.uint8), np.zeros((10, 10, 3), np.float32), None, "not an image"):
        assert decode_qr(frame) == []


def test_read_image_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_image(tmp_path / "none.jpg")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"this is not a jpeg")
    with pytest.raises(DataError, match="not a readable image"):
        read_image(bad)
