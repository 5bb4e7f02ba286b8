"""Where a gate keeps its state: ``DABAI_HOME`` (default ``~/.dabai``).

Layout::

    DABAI_HOME/
      gate.yaml            optional GateConfig overrides (see dabai.gate.config)
      keys/signing.key     community Ed25519 private key (mode 0600; issuing hosts only)
      keys/signing.pub     its public key (all a gate needs to verify passes)
      keys/trusted/*.pub   further public keys accepted (e.g. during a key rotation)
      gate.db              SQLite registry + event log (unless DABAI_DB names a server)
      cache/replies/       rendered reply audio
      snapshots/           frames of denied visitors (pruned to a retention limit)
      mining/              frames of uncertain decisions for `dabai mine`, each with a .json note (pruned too)
      live/                the latest frame and detections, read by the console
      console/secret       HMAC secret of console sessions (mode 0600)

Nothing is created at import time; :meth:`GateHome.ensure` makes the folders.

Privacy: the registry (phones, password hashes, the event log), the snapshots
(faces of refused visitors), the live frame and the console secret are personal
or secret, so every folder Dabai keeps under the home is 0700 and every such
file 0600, whether Dabai created the home or it existed before (e.g. a
``/srv/dabai`` made by an administrator): :meth:`GateHome.ensure` narrows
Dabai's own sub-folders, :func:`private_file` creates or narrows files, and
:func:`check_home_permissions` lists whatever is still readable by others (for
``dabai doctor``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from dabai.core.home import dabai_home

ENV_DB = "DABAI_DB"


@dataclass(frozen=True)
class GateHome:
    """Paths under one gate home; ``db_url`` is an explicit database URL or None for the SQLite default."""

    root: Path
    db_url: str | None = None

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def private_key_path(self) -> Path:
        return self.keys_dir / "signing.key"

    @property
    def public_key_path(self) -> Path:
        return self.keys_dir / "signing.pub"

    @property
    def trusted_keys_dir(self) -> Path:
        return self.keys_dir / "trusted"

    @property
    def sqlite_path(self) -> Path:
        return self.root / "gate.db"

    @property
    def config_path(self) -> Path:
        return self.root / "gate.yaml"

    @property
    def reply_cache_dir(self) -> Path:
        return self.root / "cache" / "replies"

    @property
    def snapshots_dir(self) -> Path:
        return self.root / "snapshots"

    @property
    def mining_dir(self) -> Path:
        return self.root / "mining"

    @property
    def live_dir(self) -> Path:
        return self.root / "live"

    @property
    def console_dir(self) -> Path:
        return self.root / "console"

    @property
    def database_url(self) -> str:
        """The registry URL: the explicit one, else SQLite at ``gate.db``."""
        return self.db_url or f"sqlite:///{self.sqlite_path}"

    @property
    def private_dirs(self) -> tuple[Path, ...]:
        """Dabai's own folders under the home: all kept at mode 0700."""
        return (self.keys_dir, self.root / "cache", self.reply_cache_dir, self.snapshots_dir, self.mining_dir,
                self.live_dir, self.console_dir)

    def ensure(self) -> GateHome:
        """Create the home folder (mode 0700) and its sub-folders if missing; narrow Dabai's sub-folders to 0700
        and an existing registry file to 0600 even when the home existed before."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for sub in self.private_dirs:
            private_dir(sub)
        if self.db_url is None:
            for path in sqlite_files(self.sqlite_path):
                if path.exists():
                    private_file(path)
        return self


def resolve_home(path: str | os.PathLike | None = None, db_url: str | None = None) -> GateHome:
    """The gate home from an argument, else ``$DABAI_HOME``, else ``~/.dabai``; DB from arg or ``$DABAI_DB``."""
    return GateHome(root=dabai_home(path).resolve(), db_url=db_url or os.environ.get(ENV_DB) or None)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700, or narrow it to 0700 if it exists with wider permissions."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty as 0600 if missing, or narrow an existing one to 0600 (no window where it is wider)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
    return path


def sqlite_files(db: Path) -> tuple[Path, ...]:
    """The SQLite registry and its WAL and shared-memory files."""
    return db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")


def check_home_permissions(home: GateHome) -> list[str]:
    """Warnings (empty when all is well) for personal data under ``home`` that others may read: the home and
    Dabai's folders should be 0700, the registry, signing key, console secret, snapshots and live frame 0600."""
    warnings: list[str] = []

    def check(path: Path, wanted: int) -> None:
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
        except FileNotFoundError:
            return
        if mode & 0o077:
            warnings.append(f"{path}: mode {mode:o} lets other users read it (personal data); run: chmod {wanted:o} "
                            f"{path}" + (" (and the files in it)" if path.is_dir() else ""))

    check(home.root, 0o700)
    for folder in home.private_dirs:
        check(folder, 0o700)
    files = [*sqlite_files(home.sqlite_path), home.private_key_path, home.console_dir / "secret",
             *sorted(home.live_dir.glob("*")), *sorted(home.snapshots_dir.glob("*/*.jpg"))]
    for day in sorted(home.snapshots_dir.glob("*")):
        if day.is_dir():
            check(day, 0o700)
    for path in files:
        check(path, 0o600)
    return warnings
