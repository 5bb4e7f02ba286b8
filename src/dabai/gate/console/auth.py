"""Console logins, sessions and CSRF tokens.

* Passwords: salted scrypt (hashlib), stored in the registry's ``console_users`` table.
* Sessions: server-side. The cookie carries a random 256-bit token (HttpOnly, SameSite=Strict, Secure
  behind TLS); the registry's ``console_sessions`` table keeps only its SHA-256 with the user and the
  expiry. Logout deletes the row, a password change deletes all of that user's rows, and
  :func:`end_sessions` ("log out everywhere") deletes them for one user or for all: a copied cookie
  stops working at once.
* CSRF: every form carries an HMAC (keyed by ``HOME/console/secret``, mode 0600) of the session id
  (or, on the login page, of a pre-login cookie); a POST without the matching token, or from another
  Origin, is refused.
* Failed logins are rate-limited per client address (the TCP peer; a proxy's X-Forwarded-For is
  believed only when that proxy is configured as trusted, see ``app.serve``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dabai.core.errors import DabaiError
from dabai.gate.db import Registry
from dabai.gate.models import ConsoleSession, ConsoleUser

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
    digest = hash_password(password)
    with reg.write() as s:
        row = s.get(ConsoleUser, username)
        if row is None:
            s.add(ConsoleUser(username=username, password_hash=digest))
        else:
            row.password_hash = digest
        s.query(ConsoleSession).filter(ConsoleSession.username == username).delete()  # old cookies end here


def end_sessions(reg: Registry, username: str | None = None) -> int:
    """Log out everywhere: end every console session of ``username`` (all users when None); how many ended."""
    with reg.write() as s:
        q = s.query(ConsoleSession)
        if username is not None:
            q = q.filter(ConsoleSession.username == username.strip())
        return q.delete()


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
    """Issues, checks and ends server-side sessions; derives and checks CSRF tokens."""

    def __init__(self, registry: Registry, secret: bytes, lifetime: int = SESSION_SECONDS):
        self.registry = registry
        self.secret = secret
        self.lifetime = lifetime

    def _mac(self, text: str) -> str:
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    @staticmethod
    def _id(cookie: str) -> str:
        return hashlib.sha256(cookie.encode("ascii")).hexdigest()

    def issue(self, username: str) -> str:
        """A new session for ``username``: the cookie value (the only copy of the token)."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self.registry.write() as s:
            s.query(ConsoleSession).filter(ConsoleSession.expires_at < now).delete()  # tidy up old rows
            s.add(ConsoleSession(token_hash=self._id(token), username=username, created_at=now,
                                 expires_at=now + timedelta(seconds=self.lifetime)))
        return token

    def user_of(self, cookie: str | None) -> tuple[str, str] | None:
        """(user, session id) of a live session cookie; None for a missing, ended, expired or forged one."""
        if not cookie or len(cookie) > 100 or not cookie.isascii():
            return None
        sid = self._id(cookie)
        with self.registry.read() as s:
            row = s.get(ConsoleSession, sid)
            if row is None or row.expires_at <= datetime.now(UTC):
                return None
            return row.username, sid

    def end(self, cookie: str | None) -> None:
        """Logout: the session is deleted server-side, so a copy of the cookie is useless afterwards."""
        if cookie and len(cookie) <= 100 and cookie.isascii():
            with self.registry.write() as s:
                s.query(ConsoleSession).filter(ConsoleSession.token_hash == self._id(cookie)).delete()

    def csrf(self, nonce: str) -> str:
        return self._mac("csrf|" + nonce)

    def check_csrf(self, nonce: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(nonce), str(token))


class LoginThrottle:
    """At most ``limit`` failed logins per client in ``window`` seconds.

    An attempt counts as a failure from the moment it starts (:meth:`attempt`) until it succeeds
    (:meth:`succeeded`), so a burst of parallel guesses cannot all pass the check before the first
    one has failed.
    """

    def __init__(self, limit: int = 10, window: float = 300.0):
        self.limit, self.window = limit, window
        self._fails: dict[str, deque] = defaultdict(deque)

    def blocked(self, client: str) -> bool:
        q = self._fails[client]
        while q and q[0] < time.monotonic() - self.window:
            q.popleft()
        if not q:
            del self._fails[client]  # keeps the table as small as the set of recent offenders
            return False
        return len(q) >= self.limit

    def attempt(self, client: str) -> bool:
        """Start a login attempt; False (and nothing counted) when the client is blocked."""
        if self.blocked(client):
            return False
        self._fails[client].append(time.monotonic())
        return True

    def succeeded(self, client: str) -> None:
        q = self._fails.get(client)
        if q:
            q.pop()

    def failed(self, client: str) -> None:
        self._fails[client].append(time.monotonic())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
