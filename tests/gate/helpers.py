"""Test helpers for the gate: fake detector, frames with QR codes, forged passes."""

from __future__ import annotations

import secrets

import cv2
import numpy as np

from dabai.gate import payload as codec
from dabai.gate.keys import generate_private_key, key_id_of
from dabai.gate.passes import qr_matrix
from dabai.runtime.types import Detection


class FakeDetector:
    """Returns whatever ``faces`` is set to; counts calls."""

    def __init__(self, faces=()):
        self.faces = list(faces)
        self.calls = 0

    def __call__(self, image):
        self.calls += 1
        return list(self.faces)


def face(label="with_mask", score=0.95, x=300, y=120, w=150, h=180) -> Detection:
    return Detection((float(x), float(y), float(x + w), float(y + h)), score, label)


def qr_frame(text: str | None, px: int = 3, angle: float = 0.0, blur: float = 0.0, size=(480, 640),
             at=(30, 30), background: int = 170) -> np.ndarray:
    """A BGR frame with the QR of ``text`` at ``px`` pixels per module, rotated and blurred."""
    h, w = size
    frame = np.full((h, w), background, np.uint8)
    cv2.rectangle(frame, (w // 2, h // 4), (w // 2 + 120, h // 4 + 160), 90, -1)  # something face-like
    if text is not None:
        q = cv2.resize(qr_matrix(text), None, fx=px, fy=px, interpolation=cv2.INTER_NEAREST)
        y, x = at
        frame[y:y + q.shape[0], x:x + q.shape[1]] = q
        if angle:
            cy, cx = y + q.shape[0] / 2, x + q.shape[1] / 2
            m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
            frame = cv2.warpAffine(frame, m, (w, h), borderValue=background)
    if blur:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def signed_text(private_key, payload: codec.PassPayload) -> str:
    body = payload.body()
    return codec.encode(body, private_key.sign(codec.signed_message(body)))


def forge(genuine: codec.PassPayload, *, claim_key_id: str | None = None, **changes) -> str:
    """A pass signed by an attacker's own key, claiming ``claim_key_id`` (default: the genuine key id)."""
    from dataclasses import replace

    attacker = generate_private_key()
    fake = replace(genuine, key_id=claim_key_id or genuine.key_id, pass_id=secrets.token_bytes(8).hex(), **changes)
    return signed_text(attacker, fake)


def foreign(genuine: codec.PassPayload) -> str:
    """A pass properly signed by another community's key (with that key's id)."""
    from dataclasses import replace

    other = generate_private_key()
    return signed_text(other, replace(genuine, key_id=key_id_of(other.public_key())))


def alter(text: str, **changes) -> str:
    """The genuine pass with fields changed but the original signature kept."""
    from dataclasses import replace

    d = codec.decode(text)
    body = replace(d.payload, **changes).body()
    return codec.encode(body, d.signature)
