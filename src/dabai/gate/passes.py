"""Signed visitor passes: issue (to a QR image), revoke, verify and consume.

Verification order, each step with its refusal reason: the text is a Dabai pass
(``not_dabai``, ``unsupported_version``, ``malformed``, ``truncated``); its key
is one this gate trusts (``foreign_key``); the signature holds (``bad_signature``:
forged or altered); it is within its validity window, allowing ``clock_skew_s``
(``not_yet_valid``, ``expired``); it was not revoked (``revoked``); its resident
exists and is active (``unknown_resident``, ``resident_inactive``); the registry
recorded it (``unknown_pass``); a single-use pass was not used before (``already_used``, made race-free by :func:`consume`).

The pass model: a signature proves who issued a pass, the registry decides
whether it still counts. A gate admits only passes its registry has recorded:
``issue_pass`` records them; a pass signed on another issuing host (a second
office with a trusted key, a restored backup) is recorded with
:func:`import_pass` (``dabai pass import``). Revocation is by pass id and works
for any id, recorded or not, so a pass can be revoked before it is ever seen.
Validity is capped at issue time (``passes.max_valid_days``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from dabai.core.errors import DabaiError
from dabai.gate import payload as codec
from dabai.gate.db import Registry
from dabai.gate.keys import PublicKey, key_id_of
from dabai.gate.models import PassRecord, PassUse, Resident, Revocation
from dabai.gate.residents import ResidentInfo, find_resident

INVALID_REASONS = ("not_dabai", "unsupported_version", "malformed", "truncated", "foreign_key", "bad_signature")


class PassError(DabaiError):
    """A pass cannot be issued or revoked as asked."""


@dataclass(frozen=True)
class IssuedPass:
    pass_id: str
    resident: ResidentInfo
    issued_at: datetime
    expires_at: datetime
    single_use: bool
    text: str  # the QR payload
    image: Path | None = None

    def to_json(self) -> dict:
        return {"pass_id": self.pass_id, "image": str(self.image) if self.image else None,
                "resident": {"id": self.resident.id, "name": self.resident.name},
                "issued_at": self.issued_at.isoformat(), "expires_at": self.expires_at.isoformat(),
                "single_use": self.single_use}


@dataclass(frozen=True)
class PassCheck:
    """The verdict on one shown pass (or on no pass at all: ``reason == 'no_pass'``)."""

    valid: bool
    reason: str | None  # None when valid
    detail: str = ""
    payload: codec.PassPayload | None = None
    resident: ResidentInfo | None = None

    @property
    def pass_id(self) -> str | None:
        return self.payload.pass_id if self.payload else None

    def to_json(self) -> dict:
        return {"valid": self.valid, "reason": self.reason}


NO_PASS = PassCheck(False, "no_pass", "no pass was shown")


def issue_pass(reg: Registry, private_key, resident_ref: str | int, *, expires_at: datetime | None = None,
               valid_days: float | None = None, single_use: bool = False, now: datetime | None = None,
               max_name_bytes: int = 60, max_valid_days: float = 366.0) -> IssuedPass:
    """Sign a pass for an active resident and record it. Exactly one of expires_at / valid_days (default 30 days);
    the validity may not exceed ``max_valid_days``."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    if expires_at is not None and valid_days is not None:
        raise PassError("give either an expiry time or a number of valid days, not both")
    if expires_at is None:
        days = 30.0 if valid_days is None else float(valid_days)
        if not days > 0:
            raise PassError(f"valid days must be positive, got {valid_days}")
        if days > max_valid_days:
            raise PassError(f"valid days {valid_days:g} is more than the maximum of {max_valid_days:g} "
                            "(passes.max_valid_days in gate.yaml); issue a shorter pass and renew it")
        expires_at = now + timedelta(days=days)
    if expires_at.tzinfo is None:
        raise PassError("the expiry time needs a time zone, e.g. 2026-12-31T00:00:00+08:00")
    expires_at = expires_at.astimezone(UTC).replace(microsecond=0)
    if expires_at <= now:
        raise PassError(f"the expiry time {expires_at.isoformat()} is not in the future")
    if expires_at - now > timedelta(days=max_valid_days):
        raise PassError(f"expiry {expires_at.isoformat()} is more than {max_valid_days:g} days away "
                        "(passes.max_valid_days in gate.yaml); issue a shorter pass and renew it")
    resident = find_resident(reg, resident_ref)
    name = _fit(resident.name, max_name_bytes)
    pid = secrets.token_bytes(8).hex()
    body = codec.PassPayload(key_id_of(private_key.public_key()), pid, resident.id, now, expires_at,
                             single_use, name).body()
    text = codec.encode(body, private_key.sign(codec.signed_message(body)))
    with reg.write() as s:
        s.add(PassRecord(id=pid, resident_id=resident.id, issued_at=now, expires_at=expires_at,
                         single_use=single_use, key_id=key_id_of(private_key.public_key())))
    return IssuedPass(pid, resident, now, expires_at, single_use, text)


def _fit(name: str, max_bytes: int) -> str:
    raw = name.encode("utf-8")[:max_bytes]
    return raw.decode("utf-8", errors="ignore")


def write_qr_png(text: str, path: str | Path, scale: int = 8) -> Path:
    """Write the pass as a QR PNG (error correction M or better; quiet zone included)."""
    from dabai.core.errors import require

    segno = require("segno", "gate")
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise PassError(f"{path.parent}: folder does not exist")
    segno.make(text, error="m", micro=False).save(str(path), scale=scale, border=4)
    return path


def qr_matrix(text: str):
    """The pass as a uint8 array (0 dark, 255 light) with a 4-module quiet zone, one pixel per module."""
    import numpy as np

    from dabai.core.errors import require

    segno = require("segno", "gate")
    q = segno.make(text, error="m", micro=False)
    m = np.array([list(row) for row in q.matrix], dtype=np.uint8)
    return np.pad(np.where(m > 0, 0, 255).astype(np.uint8), 4, constant_values=255)


def revoke_pass(reg: Registry, pass_id: str, reason: str | None = None) -> dict:
    """Revoke a pass by id (idempotent: revoking twice keeps the first record).

    Any well-formed id is accepted, recorded in this registry or not (a pass issued on another host,
    or from a restored backup), so that it is refused wherever it is shown. ``known`` in the answer says
    whether this registry had recorded the pass.
    """
    pass_id = pass_id.strip().lower()
    if len(pass_id) != 16 or any(c not in "0123456789abcdef" for c in pass_id):
        raise PassError(f"{pass_id!r} is not a pass id (16 hex digits, as printed by 'dabai pass issue')")
    with reg.write() as s:
        known = s.get(PassRecord, pass_id) is not None
        existing = s.get(Revocation, pass_id)
        if existing is None:
            existing = Revocation(pass_id=pass_id, reason=(reason or None) and reason[:200])
            s.add(existing)
            s.flush()
        return {"pass_id": pass_id, "revoked_at": existing.revoked_at.isoformat(), "reason": existing.reason,
                "known": known}


def import_pass(reg: Registry, keys: dict[str, PublicKey], text: str, *, now: datetime | None = None) -> dict:
    """Record a pass issued elsewhere (another issuing host, a restored backup) so gates on this registry admit it.

    The pass must be authentic (a trusted key, a valid signature), unexpired and for a resident of this
    registry. Importing a recorded pass again changes nothing (``already`` is true).
    """
    from cryptography.exceptions import InvalidSignature

    decoded = codec.decode(text)
    if decoded.payload is None:
        raise PassError(f"not an importable pass: {decoded.reason} ({decoded.detail})")
    p = decoded.payload
    key = keys.get(p.key_id)
    if key is None:
        raise PassError(f"pass {p.pass_id} is signed by key {p.key_id}, which this gate does not trust; "
                        "copy that host's signing.pub into HOME/keys/trusted/ first")
    try:
        key.key.verify(decoded.signature, codec.signed_message(decoded.body))
    except InvalidSignature:
        raise PassError(f"pass {p.pass_id}: the signature does not match (forged or altered); not imported") from None
    if p.expires_at <= (now or datetime.now(UTC)):
        raise PassError(f"pass {p.pass_id} expired at {p.expires_at.isoformat()}; not imported")
    with reg.write() as s:
        if s.get(Resident, p.resident_id) is None:
            raise PassError(f"pass {p.pass_id} is for resident {p.resident_id}, who is not in this registry")
        record = s.get(PassRecord, p.pass_id)
        already = record is not None
        if record is None:
            s.add(PassRecord(id=p.pass_id, resident_id=p.resident_id, issued_at=p.issued_at, expires_at=p.expires_at,
                             single_use=p.single_use, key_id=p.key_id))
        elif (record.resident_id, record.key_id) != (p.resident_id, p.key_id):
            raise PassError(f"pass id {p.pass_id} is already recorded for another resident or key; not imported")
    return {"pass_id": p.pass_id, "resident_id": p.resident_id, "name": p.name,
            "expires_at": p.expires_at.isoformat(), "single_use": p.single_use, "already": already}


def list_passes(reg: Registry, resident_id: int | None = None) -> list[dict]:
    with reg.read() as s:
        q = select(PassRecord, Resident.name).join(Resident, Resident.id == PassRecord.resident_id)
        if resident_id is not None:
            q = q.where(PassRecord.resident_id == resident_id)
        revoked = set(s.scalars(select(Revocation.pass_id)))
        used = set(s.scalars(select(PassUse.pass_id)))
        return [{"pass_id": p.id, "resident_id": p.resident_id, "name": name, "issued_at": p.issued_at.isoformat(),
                 "expires_at": p.expires_at.isoformat(), "single_use": p.single_use,
                 "revoked": p.id in revoked, "used": p.id in used}
                for p, name in s.execute(q.order_by(PassRecord.issued_at.desc()))]


def verify_text(reg: Registry, keys: dict[str, PublicKey], text: str | None, *, now: datetime | None = None,
                clock_skew_s: int = 120) -> PassCheck:
    """Check one pass text completely (see the module doc for the reasons). Never raises for bad input."""
    if text is None:
        return NO_PASS
    decoded = codec.decode(text)
    if decoded.payload is None:
        return PassCheck(False, decoded.reason, decoded.detail)
    p = decoded.payload
    key = keys.get(p.key_id)
    if key is None:
        return PassCheck(False, "foreign_key", f"signed by key {p.key_id}, which this gate does not trust", p)
    from cryptography.exceptions import InvalidSignature

    try:
        key.key.verify(decoded.signature, codec.signed_message(decoded.body))
    except InvalidSignature:
        return PassCheck(False, "bad_signature", "the signature does not match: forged or altered", p)
    now = now or datetime.now(UTC)
    skew = timedelta(seconds=clock_skew_s)
    if p.issued_at > now + skew:
        return PassCheck(False, "not_yet_valid", f"issued in the future ({p.issued_at.isoformat()})", p)
    if p.expires_at + skew < now:
        return PassCheck(False, "expired", f"expired at {p.expires_at.isoformat()}", p)
    with reg.read() as s:
        if s.get(Revocation, p.pass_id) is not None:
            return PassCheck(False, "revoked", f"pass {p.pass_id} was revoked", p)
        row = s.get(Resident, p.resident_id)
        if row is None:
            return PassCheck(False, "unknown_resident", f"resident {p.resident_id} is not in the registry", p)
        resident = ResidentInfo.of(row)
        if not resident.active:
            return PassCheck(False, "resident_inactive", f"resident {p.resident_id} was removed", p, resident)
        record = s.get(PassRecord, p.pass_id)
        if record is None or record.resident_id != p.resident_id:
            return PassCheck(False, "unknown_pass", f"pass {p.pass_id} is not recorded in this registry (issued "
                             "elsewhere? record it with 'dabai pass import')", p, resident)
        if p.single_use and s.get(PassUse, p.pass_id) is not None:
            return PassCheck(False, "already_used", f"single-use pass {p.pass_id} was used before", p, resident)
    return PassCheck(True, None, "valid", p, resident)


def consume(session, check: PassCheck, gate_id: str) -> bool:
    """Inside a write transaction: record the use of a single-use pass. False if another gate got there first.

    The insert runs in a savepoint so that losing the race leaves the caller's transaction usable
    (it still writes the deny event). The primary key on pass_uses decides the race on every backend.
    """
    from sqlalchemy.exc import IntegrityError

    if check.payload is None or not check.payload.single_use:
        return True
    try:
        with session.begin_nested():
            session.add(PassUse(pass_id=check.payload.pass_id, gate_id=gate_id))
    except IntegrityError:
        return False
    return True
