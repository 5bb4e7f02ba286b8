"""The community's Ed25519 signing key.

``init_keys`` writes the private key with mode 0600 (created that way, never
widened afterwards) and the public key beside it. Issuing passes needs the
private key; a gate verifying them needs only the public key(s): its own
``signing.pub`` plus any ``keys/trusted/*.pub`` (for a key rotation).
A key id (first 4 bytes of SHA-256 of the raw public key, hex) travels in each
pass so a pass signed by a foreign key is told apart from a forged one.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from dabai.core.errors import DabaiError, require
from dabai.gate.home import GateHome


class KeysError(DabaiError):
    """A key file is missing, unreadable or has unsafe permissions."""


@dataclass(frozen=True)
class PublicKey:
    """A verification key and its id."""

    key_id: str  # 8 hex characters
    key: object  # cryptography Ed25519PublicKey
    path: Path | None = None


def key_id_of(public_key) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:4].hex()


def generate_private_key():
    ed = require("cryptography.hazmat.primitives.asymmetric.ed25519", "gate")
    return ed.Ed25519PrivateKey.generate()


def init_keys(home: GateHome) -> PublicKey:
    """Create the community signing key; refuses to replace an existing one (it would void every pass)."""
    if home.private_key_path.exists() or home.public_key_path.exists():
        raise KeysError(f"{home.keys_dir} already holds a signing key; replacing it would invalidate every "
                        "issued pass. Move it away yourself if you really mean to start over.")
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    home.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = generate_private_key()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    _write_new(home.private_key_path, pem, 0o600)
    pub = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    _write_new(home.public_key_path, pub, 0o644)
    return PublicKey(key_id_of(private.public_key()), private.public_key(), home.public_key_path)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` exclusively with ``mode`` (no window where it is readable by others)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # umask may have narrowed it further for the public key


def load_private_key(home: GateHome):
    """The signing key; refuses a key file that others can read."""
    path = home.private_key_path
    if not path.is_file():
        raise KeysError(f"{path}: no signing key here; create one with 'dabai keys init' "
                        "(only the host that issues passes needs it)")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeysError(f"{path}: mode {mode:o} lets others read the signing key; run: chmod 600 {path}")
    ser = require("cryptography.hazmat.primitives.serialization", "gate")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = ser.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeysError(f"{path}: not a readable PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeysError(f"{path}: expected an Ed25519 key, found {type(key).__name__}")
    return key


def load_public_key_file(path: Path) -> PublicKey:
    ser = require("cryptography.hazmat.primitives.serialization", "gate")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = ser.load_pem_public_key(path.read_bytes())
    except (ValueError, TypeError) as exc:
        raise KeysError(f"{path}: not a readable PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeysError(f"{path}: expected an Ed25519 public key, found {type(key).__name__}")
    return PublicKey(key_id_of(key), key, path)


def load_public_keys(home: GateHome) -> dict[str, PublicKey]:
    """All keys this gate trusts, by key id: ``signing.pub`` and ``trusted/*.pub``."""
    paths = []
    if home.public_key_path.is_file():
        paths.append(home.public_key_path)
    if home.trusted_keys_dir.is_dir():
        paths.extend(sorted(home.trusted_keys_dir.glob("*.pub")))
    if not paths:
        raise KeysError(f"{home.keys_dir}: no public key; run 'dabai keys init' on the issuing host and copy "
                        f"signing.pub here (DABAI_HOME={home.root})")
    keys = {}
    for p in paths:
        k = load_public_key_file(p)
        keys[k.key_id] = k
    return keys
