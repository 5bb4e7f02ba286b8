"""The signed pass payload: a compact, versioned binary record in Base45 text.

QR text is ``DB1:`` followed by Base45 (RFC 9285, the QR alphanumeric alphabet,
so the code stays small) of ``body || signature``::

    body = version u8 | key id 4B | pass id 8B | resident id u32 | issued u32 | expires u32
           | flags u8 (bit 0: single use) | name length u8 | name UTF-8
    signature = Ed25519 over b"DABAI-PASS" + body (64 bytes)

Decoding never raises for bad input: it returns a reason code instead
(``not_dabai``, ``unsupported_version``, ``malformed``, ``truncated``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime

VERSION = 1
PREFIX = f"DB{VERSION}:"
DOMAIN = b"DABAI-PASS"
SIG_LEN = 64
_HEAD = struct.Struct(">B4s8sIIIBB")  # fixed part of the body
_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_INDEX = {c: i for i, c in enumerate(_B45)}


@dataclass(frozen=True)
class PassPayload:
    """What a pass says about itself (trusted only after its signature is checked)."""

    key_id: str  # hex, 8 characters
    pass_id: str  # hex, 16 characters
    resident_id: int
    issued_at: datetime
    expires_at: datetime
    single_use: bool
    name: str

    def body(self) -> bytes:
        name = self.name.encode("utf-8")
        if len(name) > 255:
            raise ValueError("display name longer than 255 UTF-8 bytes")
        head = _HEAD.pack(VERSION, bytes.fromhex(self.key_id), bytes.fromhex(self.pass_id), self.resident_id,
                          _ts(self.issued_at), _ts(self.expires_at), 1 if self.single_use else 0, len(name))
        return head + name


@dataclass(frozen=True)
class Decoded:
    """A decoded (not yet verified) pass, or the reason it could not be decoded."""

    payload: PassPayload | None
    body: bytes = b""
    signature: bytes = b""
    reason: str | None = None  # set when payload is None
    detail: str = ""


def signed_message(body: bytes) -> bytes:
    return DOMAIN + body


def encode(body: bytes, signature: bytes) -> str:
    if len(signature) != SIG_LEN:
        raise ValueError(f"signature must be {SIG_LEN} bytes")
    return PREFIX + b45encode(body + signature)


def decode(text: str) -> Decoded:
    """Parse QR text into a payload (unverified) or a refusal reason."""
    if not isinstance(text, str) or not text.startswith("DB") or ":" not in text[:6]:
        return Decoded(None, reason="not_dabai", detail="the QR code is not a Dabai pass")
    prefix, _, data = text.partition(":")
    if prefix + ":" != PREFIX:
        return Decoded(None, reason="unsupported_version", detail=f"pass format {prefix!r} is not {PREFIX[:-1]!r}")
    try:
        raw = b45decode(data)
    except ValueError as exc:
        whole = len(data) - len(data) % 3
        try:  # bad only in an incomplete last group: the text was cut off
            b45decode(data[:whole])
            reason = "truncated" if len(data) % 3 else "malformed"
        except ValueError:
            reason = "malformed"
        return Decoded(None, reason=reason, detail=f"pass text is not valid Base45 ({exc})")
    if len(raw) < _HEAD.size + SIG_LEN:
        return Decoded(None, reason="truncated", detail=f"{len(raw)} bytes, at least {_HEAD.size + SIG_LEN} expected")
    version, key_id, pass_id, resident_id, issued, expires, flags, name_len = _HEAD.unpack_from(raw)
    expected = _HEAD.size + name_len + SIG_LEN
    if len(raw) < expected:
        return Decoded(None, reason="truncated", detail=f"{len(raw)} bytes, {expected} expected")
    if len(raw) > expected or version != VERSION or flags & ~1:
        return Decoded(None, reason="malformed", detail="unexpected length, version byte or flags")
    body, signature = raw[: expected - SIG_LEN], raw[expected - SIG_LEN:]
    try:
        name = body[_HEAD.size:].decode("utf-8")
    except UnicodeDecodeError:
        return Decoded(None, reason="malformed", detail="display name is not UTF-8")
    payload = PassPayload(key_id.hex(), pass_id.hex(), resident_id, _dt(issued), _dt(expires), bool(flags & 1), name)
    return Decoded(payload, body, signature)


def _ts(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("pass times must be timezone-aware")
    ts = int(value.timestamp())
    if not 0 <= ts < 2**32:
        raise ValueError(f"time {value.isoformat()} is outside the pass format's range")
    return ts


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += [_B45[c], _B45[d], _B45[e]]
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += [_B45[c], _B45[d]]
    return "".join(out)


def b45decode(text: str) -> bytes:
    try:
        values = [_B45_INDEX[ch] for ch in text]
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the Base45 alphabet") from None
    if len(values) % 3 == 1:
        raise ValueError(f"length {len(values)} leaves a dangling character")
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i:i + 3]
        if len(chunk) == 3:
            n = chunk[0] + chunk[1] * 45 + chunk[2] * 2025
            if n > 0xFFFF:
                raise ValueError("a 3-character group exceeds two bytes")
            out += n.to_bytes(2, "big")
        else:
            n = chunk[0] + chunk[1] * 45
            if n > 0xFF:
                raise ValueError("the final 2-character group exceeds one byte")
            out.append(n)
    return bytes(out)
