"""Schema migrations (Alembic), applied programmatically whenever a registry is opened.

``HEAD`` names the newest revision in ``versions/``; opening a registry that is
already at ``HEAD`` costs one small query and never imports Alembic. Upgrades
are serialised between processes (a file lock for SQLite, an advisory lock for
PostgreSQL), so two gates starting together never migrate the same database twice.
"""

from __future__ import annotations

import fcntl
import logging
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, inspect, text

HEAD = "0005"
SCRIPT_DIR = Path(__file__).resolve().parent
_PG_LOCK_KEY = 0x0DABA1  # advisory lock id used while migrating a PostgreSQL registry


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, lock_path: Path | None = None) -> str | None:
    """Bring the schema to HEAD; returns the revision it was at before (None when empty)."""
    before = current_revision(engine)
    if before == HEAD:
        return before
    with _migration_lock(engine, lock_path):
        before = current_revision(engine)  # another process may have finished meanwhile
        if before != HEAD:
            _alembic_upgrade(engine)
    return before


def _alembic_upgrade(engine: Engine) -> None:
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(max(logging.WARNING, level))  # its INFO chatter is not for gate users
    try:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(SCRIPT_DIR))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        alembic_log.setLevel(level)


@contextmanager
def _migration_lock(engine: Engine, lock_path: Path | None):
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
    elif lock_path is not None:
        with open(lock_path, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        yield
