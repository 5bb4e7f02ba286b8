"""Console logins, sessions and CSRF tokens.

* Passwords: salted scrypt (hashlib), stored in the registry's ``console_users`` table.
* Sessions: an HMAC-signed cookie (``user|expiry|nonce|mac``), HttpOnly and SameSite=Strict, keyed
  by a random secret in ``HOME/console/secret`` (mode 0600).
* CSRF: every form carries a token derived from the session nonce (or, on the login page, from a
  pre-login cookie); a POST without the matching token, or from another Origin, is refused.
* Failed logins are rate-limited per client address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections import defaultdict, deque
from pathlib import Path

from dabai.errors import DabaiError
from dabai.gate.db import Registry
from dabai.gate.models import ConsoleUser

SESSION_COOKIE = "dabai_session"
PRELOGIN_COOKIE = "dabai_prelogin"
SESSION_SECONDS = 8 * 3600
_SCRYPT = dict(n=2**14, r=8, p=1)


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + _b64(salt) + "$" + _b64(digest)


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=_unb64(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


def set_password(reg: Registry, username: str, password: str) -> None:
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").isalnum():
        raise DabaiError(f"user name {username!r}: use 1-64 letters, digits, '-' or '_'")
    if len(password) < 8:
        raise DabaiError("the password must have at least 8 characters")
    with reg.write() as s:
        row = s.get(ConsoleUser, username)
        if row is None:
            s.add(ConsoleUser(username=username, password_hash=hash_password(password)))
        else:
            row.password_hash = hash_password(password)


def has_users(reg: Registry) -> bool:
    with reg.read() as s:
        return s.query(ConsoleUser).first() is not None


def check_login(reg: Registry, username: str, password: str) -> bool:
    with reg.read() as s:
        row = s.get(ConsoleUser, username.strip())
        stored = row.password_hash if row else None
    if stored is None:
        verify_password(password, hash_password("timing-equaliser"))  # same cost for unknown users
        return False
    return verify_password(password, stored)


def load_secret(folder: Path) -> bytes:
    """The console's signing secret, created (mode 0600) on first use."""
    path = folder / "secret"
    folder.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another console process created it meanwhile
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
    data = path.read_bytes()
    if len(data) < 32:
        raise DabaiError(f"{path}: console secret is damaged ({len(data)} bytes); delete it to make a new one")
    return data


class Sessions:
    """Signs and checks session cookies and CSRF tokens."""

    def __init__(self, secret: bytes, lifetime: int = SESSION_SECONDS):
        self.secret = secret
        self.lifetime = lifetime

    def _mac(self, text: str) -> str:
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def issue(self, username: str) -> str:
        body = f"{username}|{int(time.time()) + self.lifetime}|{secrets.token_hex(16)}"
        return body + "|" + self._mac(body)

    def user_of(self, cookie: str | None) -> tuple[str, str] | None:
        """(user, nonce) of a valid, unexpired session cookie; None otherwise."""
        if not cookie or cookie.count("|") != 3:
            return None
        body, mac = cookie.rsplit("|", 1)
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        user, expiry, nonce = body.split("|")
        if not expiry.isdigit() or int(expiry) < time.time():
            return None
        return user, nonce

    def csrf(self, nonce: str) -> str:
        return self._mac("csrf|" + nonce)

    def check_csrf(self, nonce: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(nonce), token)


class LoginThrottle:
    """At most ``limit`` failed logins per client in ``window`` seconds."""

    def __init__(self, limit: int = 10, window: float = 300.0):
        self.limit, self.window = limit, window
        self._fails: dict[str, deque] = defaultdict(deque)

    def blocked(self, client: str) -> bool:
        q = self._fails[client]
        while q and q[0] < time.monotonic() - self.window:
            q.popleft()
        return len(q) >= self.limit

    def failed(self, client: str) -> None:
        self._fails[client].append(time.monotonic())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
