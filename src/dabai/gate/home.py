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
      live/                the latest frame and detections, read by the console
      console/secret       HMAC secret of console sessions (mode 0600)

Nothing is created at import time; :meth:`GateHome.ensure` makes the folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_HOME = "DABAI_HOME"
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
    def live_dir(self) -> Path:
        return self.root / "live"

    @property
    def console_dir(self) -> Path:
        return self.root / "console"

    @property
    def database_url(self) -> str:
        """The registry URL: the explicit one, else SQLite at ``gate.db``."""
        return self.db_url or f"sqlite:///{self.sqlite_path}"

    def ensure(self) -> GateHome:
        """Create the home folder (mode 0700) and its sub-folders if missing."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for sub in (self.keys_dir, self.reply_cache_dir, self.snapshots_dir, self.live_dir, self.console_dir):
            sub.mkdir(parents=True, exist_ok=True)
        return self


def resolve_home(path: str | os.PathLike | None = None, db_url: str | None = None) -> GateHome:
    """The gate home from an argument, else ``$DABAI_HOME``, else ``~/.dabai``; DB from arg or ``$DABAI_DB``."""
    root = Path(path) if path else Path(os.environ.get(ENV_HOME) or Path.home() / ".dabai")
    return GateHome(root=root.expanduser().resolve(), db_url=db_url or os.environ.get(ENV_DB) or None)
