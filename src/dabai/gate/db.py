"""Opening the registry: SQLite under DABAI_HOME by default, or a PostgreSQL URL.

Every write goes through :meth:`Registry.write`, one transaction that either
commits whole or leaves nothing behind. On SQLite the write transaction starts
with ``BEGIN IMMEDIATE`` (so two gates on one file queue up instead of failing
on a lock upgrade), the journal is WAL, and ``synchronous`` is FULL by default,
so a committed event survives a kill -9 or a power cut.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from dabai.core.errors import DabaiError

_WRITE = "dabai_write"


class RegistryError(DabaiError):
    """The registry database cannot be opened or used."""


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg (3) driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


class Registry:
    """An open registry: an engine plus transactional sessions."""

    def __init__(self, url: str, *, synchronous: str = "FULL", migrate: bool = True):
        self.url = normalise_url(url)
        try:
            self.engine: Engine = create_engine(self.url, pool_pre_ping=True)
        except ArgumentError as exc:
            raise RegistryError(f"database URL {url!r} is not valid ({exc}); expected e.g. "
                                "sqlite:////path/gate.db or postgresql://user:pass@host/db") from None
        except ModuleNotFoundError as exc:
            raise RegistryError(f"the driver for {_redacted(url)} is not installed ({exc.name}); "
                                "install it with: pip install 'dabai[gate]'") from None
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine, synchronous)
        if migrate:
            self.migrate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        from dabai.gate import migrations

        lock = None
        if self.dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            lock = Path(self.engine.url.database).with_suffix(".migrate.lock")
            try:
                lock.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryError(f"cannot open the registry at {_redacted(self.url)}: {exc}") from None
        try:
            migrations.upgrade(self.engine, lock)
        except OperationalError as exc:
            raise RegistryError(f"cannot open the registry at {_redacted(self.url)}: {exc.orig}") from None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; closing it ends (rolls back) its transaction, loaded rows stay readable."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commits when the block ends, rolls back on any exception."""
        with self.engine.connect().execution_options(**{_WRITE: True}) as conn:
            with Session(bind=conn, expire_on_commit=False) as session:
                with session.begin():
                    yield session

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    """Explicit transactions (pysqlite's own are off), WAL, a busy timeout and foreign keys."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 10000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'FULL' else 'NORMAL'}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


def open_registry(home=None, *, url: str | None = None, synchronous: str = "FULL") -> Registry:
    """Open (and migrate) the registry of ``home`` (a GateHome), or the one at ``url``."""
    if url is None:
        if home is None:
            raise RegistryError("open_registry needs a gate home or a database URL")
        if home.db_url is None:
            from dabai.gate.home import private_file

            home.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            private_file(home.sqlite_path)  # 0600 before SQLite opens it; its -wal/-shm files copy that mode
        url = home.database_url
    return Registry(url, synchronous=synchronous)
